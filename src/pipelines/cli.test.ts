import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { registerGenerate } from "../cli/generate.js";
import { RunStore } from "../store/run-store.js";
import { startFaultServer, type FaultServer } from "../../test/support/fault-server.js";
import { assertBuilt, runCli, startCli } from "../../test/support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "critic-generate-cli-"));
let server: FaultServer;

beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(async () => server?.close());

/** Runs `critic generate …` in this process (the CLI wiring, without needing dist/). */
async function generate(args: string[]): Promise<{ stderr: string; error?: Error }> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerGenerate(program);
  let stderr = "";
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(["node", "critic", "generate", ...args]);
    return { stderr };
  } catch (error) {
    return { stderr, error: error as Error };
  } finally {
    spy.mockRestore();
  }
}

describe("critic generate (in process)", () => {
  it("revise, then pairs --from-revisions, with a summary on stderr", async () => {
    const input = join(dir, "prompts.jsonl");
    writeFileSync(input, ["a", "b", "c"].map((p) => JSON.stringify({ prompt: `prompt ${p}` })).join("\n"));
    const common = ["--model", "openai:gen", "--base-url", server.baseURL, "--store", join(dir, "store.sqlite"), "--no-progress"];
    const revised = join(dir, "revised.jsonl");
    const run = await generate(["revise", input, "-o", revised, "--principle", "privacy", "--accept", "always", "--max-tokens", "32", ...common]);
    expect(run.error).toBeUndefined();
    expect(run.stderr).toContain(`wrote 3 rows to ${revised}`);
    expect(run.stderr).toContain("generation calls 9 (0 cached)");
    // Two of the six judgments are the same call (the fault server answers deterministically): paid once.
    expect(run.stderr).toContain("judge calls 6 (1 cached), scored 6, failed 0");
    expect(run.stderr).toMatch(/accepted 3 of 3 \(privacy, 1 step\(s\), accept always\)/);
    const rows = readFileSync(revised, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => [r.prompt, r.principle, r.accepted])).toEqual([["prompt a", "privacy", true], ["prompt b", "privacy", true], ["prompt c", "privacy", true]]);
    // Generation requests carried the sampling flags.
    expect(server.requests.some((r) => r.body.max_tokens === 32 && r.body.temperature === 0.7)).toBe(true);

    const pairs = join(dir, "pairs.jsonl");
    const fromRevisions = await generate(["pairs", "--from-revisions", revised, "-o", pairs, "--store", join(dir, "store.sqlite"), "--no-progress"]);
    expect(fromRevisions.error).toBeUndefined();
    const written = readFileSync(pairs, "utf8").trim().split("\n").filter(Boolean).length;
    expect(fromRevisions.stderr).toMatch(new RegExp(`pairs ${written}, ties dropped \\d+, not above margin \\d+, not accepted 0`));
  });

  it("refuses unclear requests with a message", async () => {
    expect((await generate(["pairs", "x.jsonl", "-o", "y.jsonl"])).error?.message).toMatch(/exactly one of --from-candidates, --degrade, --from-revisions/);
    expect((await generate(["questions", "x.jsonl", "-o", "y.jsonl", "--metrics", "m.json"])).error?.message).toMatch(/--metrics needs --classify --gold/);
    expect((await generate(["revise", "x.jsonl", "-o", "y.jsonl", "--accept", "sometimes"])).error?.message).toMatch(/improved, always or min-gain/);
    const saved = process.env.CRITIC_MODEL;
    delete process.env.CRITIC_MODEL;
    const noModel = await generate(["revise", join(dir, "prompts.jsonl"), "-o", join(dir, "none.jsonl"), "--store", join(dir, "s2.sqlite"), "--no-progress"]);
    if (saved !== undefined) process.env.CRITIC_MODEL = saved;
    expect(noModel.error?.message ?? "").toMatch(/needs a generator model: pass --model/);
  });
});

describe("critic generate pairs --from-candidates with 50% server faults", () => {
  it("exits 1 while any judge call failed for good, and runs again until the output equals a fault-free run's", async () => {
    const input = join(dir, "faulty-candidates.jsonl");
    writeFileSync(input, Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: i, prompt: `prompt ${i}`, responses: [0, 1, 2, 3].map((k) => `answer ${k} to ${i}`) })).join("\n") + "\n");
    const clean = join(dir, "clean-pairs.jsonl");
    const baseline = await generate(["pairs", "--from-candidates", input, "-o", clean, "--judge", "openai:judge", "--base-url", server.baseURL, "--store", join(dir, "clean.sqlite"), "--no-progress"]);
    expect(baseline.error).toBeUndefined();
    expect(process.exitCode ?? 0).toBe(0);
    // Every other request answers 500; with one retry a call fails for good when both its tries do.
    const faulty = await startFaultServer({ faults: (i) => (i % 2 === 0 ? { status: 500 } : undefined) });
    const output = join(dir, "faulty-pairs.jsonl");
    const args = ["pairs", "--from-candidates", input, "-o", output, "--judge", "openai:judge", "--base-url", faulty.baseURL, "--request-retries", "1", "-c", "4", "--store", join(dir, "faulty.sqlite"), "--no-progress"];
    const failedPerRun: number[] = [];
    try {
      for (let run = 0; run < 12; run++) {
        process.exitCode = undefined;
        const result = await generate(args);
        expect(result.error).toBeUndefined();
        const failed = Number(/failed (\d+), rejected/.exec(result.stderr)![1]);
        failedPerRun.push(failed);
        // A run with failures says so in its exit status and tells how to retry them.
        expect(process.exitCode ?? 0).toBe(failed > 0 ? 1 : 0);
        if (failed > 0) expect(result.stderr).toContain(`${failed} failed (see ${output}.failed.jsonl): run the same command again to retry them`);
        if (failed === 0) break;
      }
    } finally {
      process.exitCode = undefined;
      await faulty.close();
    }
    expect(failedPerRun[0]).toBeGreaterThan(0);
    expect(failedPerRun.at(-1)).toBe(0);
    expect(readFileSync(output, "utf8")).toBe(readFileSync(clean, "utf8"));
  });
});

// The compiled CLI: npm test builds dist/ first.
describe("critic generate revise after kill -9", () => {
  beforeAll(() => assertBuilt());

  it("resumes without repaying a finished call and writes one record per prompt, in order", async () => {
    const slow = await startFaultServer({ faults: () => ({ delayMs: 25 }) });
    try {
      const RECORDS = 16;
      const input = join(dir, "kill.jsonl");
      writeFileSync(input, Array.from({ length: RECORDS }, (_, i) => JSON.stringify({ id: i, prompt: `kill prompt ${i}` })).join("\n") + "\n");
      const output = join(dir, "kill-out.jsonl");
      const store = join(dir, "kill.sqlite");
      const args = ["generate", "revise", input, "-o", output, "--model", "openai:gen", "--base-url", slow.baseURL, "-c", "4", "--store", store];
      const first = startCli(args);
      await new Promise<void>((resolve, reject) => {
        const poll = setInterval(() => {
          if (slow.count >= 30) { clearInterval(poll); resolve(); }
        }, 5);
        first.done.then(() => { clearInterval(poll); reject(new Error("the first run ended before it was killed")); }, reject);
      });
      first.child.kill("SIGKILL");
      expect((await first.done).signal).toBe("SIGKILL");
      expect(existsSync(output)).toBe(false);
      const opened = RunStore.open(store);
      const cached = opened.countCalls();
      opened.close();
      // Each prompt needs 5 calls: answer, critique, revision, and two judgments.
      expect(cached).toBeGreaterThan(0);
      expect(cached).toBeLessThan(RECORDS * 5);
      const before = slow.count;
      const second = await runCli(args);
      expect(second.code, second.stderr).toBe(0);
      // Identical calls are paid once, so the run may send fewer than the calls it lacks; every call it
      // sends is new to the store (none repaid), and none is sent twice.
      const sent = slow.count - before;
      expect(sent).toBeGreaterThan(0);
      expect(sent).toBeLessThanOrEqual(RECORDS * 5 - cached);
      const reopened = RunStore.open(store);
      expect(reopened.countCalls()).toBe(cached + sent);
      reopened.close();
      const bodies = slow.requests.slice(-sent).map((r) => JSON.stringify(r.body));
      expect(new Set(bodies).size).toBe(sent);
      const rows = readFileSync(output, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(rows.map((r) => r.id)).toEqual([...Array(RECORDS).keys()]);
    } finally {
      await slow.close();
    }
  });
});
