// `critic judge --batch --model anthropic:<id>`: the calls go out as one Anthropic Message Batch through
// @ai-sdk/anthropic's batch API (a local server speaking the Message Batches wire format), the answers
// come back into the run store, and a run killed while the batch runs re-attaches instead of resending.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runCli, startCli } from "../support/cli.js";
import { startProviderServer, type ProviderServer } from "../support/provider-server.js";

let dir: string;
let server: ProviderServer | undefined;
beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "critic-ai-sdk-batch-"));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function input(name: string, n: number): string {
  const file = join(dir, name);
  writeFileSync(file, Array.from({ length: n }, (_, i) => JSON.stringify({ id: `q${i}`, instruction: `question q${i}?`, response: `answer a${i}` })).join("\n") + "\n");
  return file;
}
const rows = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { id: string; score: number; judge: { raw: string } });
const env = { ANTHROPIC_API_KEY: "sk-ant-batch-secret-42" };

describe("critic judge --batch with an AI SDK provider", () => {
  it("sends one Message Batch, judges every record from its results, and calls nothing live", async () => {
    server = await startProviderServer();
    const out = join(dir, "basic.out.jsonl");
    const args = ["judge", input("basic.jsonl", 4), "-o", out, "--model", "anthropic:claude-haiku-4-5", "--base-url", server.anthropicURL, "--rubric", "helpfulness", "--store", join(dir, "basic.sqlite"), "--batch", "--poll-interval", "0.05"];
    const run = await runCli(args, { env });
    expect(run.code, run.stderr).toBe(0);
    expect(server.counts).toMatchObject({ batchCreates: 1, live: 0 });
    const judged = rows(out);
    expect(judged.map((r) => r.id)).toEqual(["q0", "q1", "q2", "q3"]);
    for (const r of judged) expect(r.judge.raw).toMatch(new RegExp(`\\[RESULT\\] ${r.score}$`));
    expect(run.stderr).toMatch(/batch msgbatch_1: created with 4 requests/);
    expect(run.stderr + readFileSync(out, "utf8")).not.toContain(env.ANTHROPIC_API_KEY);
    // Again: every answer is in the run store, nothing is sent.
    const again = await runCli(args, { env });
    expect(again.code, again.stderr).toBe(0);
    expect(server.counts).toMatchObject({ batchCreates: 1, live: 0 });
  });

  it("a run killed while its batch runs re-attaches to it on the next run instead of sending the calls again", async () => {
    server = await startProviderServer();
    server.hold = true;
    const out = join(dir, "killed.out.jsonl");
    const args = ["judge", input("killed.jsonl", 3), "-o", out, "--model", "anthropic:claude-haiku-4-5", "--base-url", server.anthropicURL, "--rubric", "helpfulness", "--store", join(dir, "killed", "store.sqlite"), "--batch", "--poll-interval", "0.05"];
    const first = startCli(args, { env });
    while (server.counts.batchRetrieves < 2) await new Promise((r) => setTimeout(r, 20));
    first.child.kill("SIGKILL");
    await first.done;
    server.hold = false;
    const second = await runCli(args, { env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/batch msgbatch_1: re-attached/);
    expect(server.counts).toMatchObject({ batchCreates: 1, live: 0 });
    expect(rows(out).map((r) => r.id)).toEqual(["q0", "q1", "q2"]);
  });

  it("sends a Gemini batch through @ai-sdk/google (inlined requests and responses)", async () => {
    server = await startProviderServer();
    const out = join(dir, "gemini.out.jsonl");
    const args = ["judge", input("gemini.jsonl", 3), "-o", out, "--model", "google:gemini-2.5-flash", "--base-url", server.geminiURL, "--rubric", "helpfulness", "--store", join(dir, "gemini.sqlite"), "--batch", "--poll-interval", "0.05"];
    const run = await runCli(args, { env: { GOOGLE_GENERATIVE_AI_API_KEY: "gemini-batch-secret-7" } });
    expect(run.code, run.stderr).toBe(0);
    expect(server.counts).toMatchObject({ batchCreates: 1, live: 0 });
    const judged = rows(out);
    expect(judged.map((r) => r.id)).toEqual(["q0", "q1", "q2"]);
    for (const r of judged) expect(r.judge.raw).toMatch(new RegExp(`\\[RESULT\\] ${r.score}$`));
    expect(run.stderr).toMatch(/batch batches\/gb1: created with 3 requests/);
  });
});
