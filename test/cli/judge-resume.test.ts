import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunStore } from "../../src/store/run-store.js";
import { lastUserMessage, scoreFor, startFaultServer, type FaultServer } from "../support/fault-server.js";
import { assertBuilt, runCli, startCli } from "../support/cli.js";

const RECORDS = 60;
let server: FaultServer;
let dir: string;

beforeAll(async () => {
  assertBuilt();
  server = await startFaultServer({ faults: () => ({ delayMs: 25 }) });
  dir = mkdtempSync(join(tmpdir(), "critic-resume-"));
  const lines = Array.from({ length: RECORDS }, (_, i) => JSON.stringify({ id: i, instruction: `question ${i}`, response: `answer ${i}` }));
  writeFileSync(join(dir, "input.jsonl"), `${lines.join("\n")}\n`);
});
afterAll(async () => server?.close());

describe("critic judge after kill -9", () => {
  it("resumes without repeating a finished call and writes exactly one judgment per record, in order", async () => {
    const args = [
      "judge", join(dir, "input.jsonl"), "-o", join(dir, "out.jsonl"), "--model", "openai:judge",
      "--base-url", server.baseURL, "--rubric", "helpfulness", "-c", "4", "--store", join(dir, "store.sqlite"),
    ];
    const first = startCli(args);
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (server.count >= 20) { clearInterval(poll); resolve(); }
      }, 5);
      first.done.then(() => { clearInterval(poll); reject(new Error("the first run ended before it was killed")); }, reject);
    });
    first.child.kill("SIGKILL");
    const killed = await first.done;
    expect(killed.signal).toBe("SIGKILL");
    expect(existsSync(join(dir, "out.jsonl"))).toBe(false);

    const store = RunStore.open(join(dir, "store.sqlite"));
    const cachedBeforeResume = store.countCalls();
    store.close();
    expect(cachedBeforeResume).toBeGreaterThan(0);
    expect(cachedBeforeResume).toBeLessThan(RECORDS);
    const requestsBeforeResume = server.count;

    const second = await runCli(args);
    expect(second.code, second.stderr).toBe(0);
    // Each record needs one call: the resumed run pays only for the calls not cached before.
    expect(server.count - requestsBeforeResume).toBe(RECORDS - cachedBeforeResume);
    expect(second.stderr).toContain(`calls ${RECORDS} (${cachedBeforeResume} cached)`);

    const out = readFileSync(join(dir, "out.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out.map((j) => j.id)).toEqual([...Array(RECORDS).keys()]);
    for (const j of out) {
      const prompt = lastUserMessage(server.requests.find((r) => lastUserMessage(r.body).includes(`answer ${String(j.id)}\n`))!.body);
      expect(j.score).toBe(scoreFor(prompt));
    }
  });
});
