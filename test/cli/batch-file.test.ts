import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultServer, type FaultServer } from "../support/fault-server.js";
import { assertBuilt, runCli } from "../support/cli.js";

let dir: string;
let server: FaultServer;
beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "critic-batchfile-"));
  server = await startFaultServer({ reply: () => "Feedback: live. [RESULT] 2" });
});
afterAll(async () => server?.close());

const lines = (file: string) => readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);

describe("offline batch files (OpenAI Batch API format)", () => {
  it("writes request lines and calls nothing; results come back through the run store; failed lines run live", async () => {
    const input = join(dir, "in.jsonl");
    writeFileSync(input, Array.from({ length: 5 }, (_, i) => JSON.stringify({ id: i, instruction: `q${i}`, response: `a${i}` })).join("\n") + "\n");
    const out = join(dir, "out.jsonl");
    const store = join(dir, "s.sqlite");
    const base = ["judge", input, "-o", out, "--model", "openai:judge", "--base-url", server.baseURL, "--rubric", "helpfulness", "--store", store];

    const write = await runCli([...base, "--batch-file", join(dir, "requests.jsonl")]);
    expect(write.code, write.stderr).toBe(0);
    expect(server.count).toBe(0);
    expect(existsSync(out)).toBe(false);
    const requests = lines(join(dir, "requests.jsonl"));
    expect(requests).toHaveLength(5);
    expect(write.stderr).toContain("wrote 5 batch request lines");
    for (const r of requests) {
      expect(r).toMatchObject({ method: "POST", url: "/v1/chat/completions", body: { model: "judge", temperature: 0, seed: 0 } });
      expect(r.custom_id).toMatch(/^[0-9a-f]{64}$/);
      expect(r.body.messages.at(-1).content).toContain("###Response to evaluate:");
    }

    // What the Batch API (or vLLM run-batch) writes back: one line per request, one of them failed.
    const results = requests.map((r, i) => (i === 2
      ? { id: `batch_req_${i}`, custom_id: r.custom_id, response: null, error: { code: "rate_limit", message: "rate limited" } }
      : { id: `batch_req_${i}`, custom_id: r.custom_id, response: { status_code: 200, request_id: `r${i}`, body: { id: `c${i}`, object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: "Feedback: from the batch. [RESULT] 4" }, finish_reason: "stop" }], usage: { prompt_tokens: 100, completion_tokens: 8, total_tokens: 108 } } }, error: null }));
    writeFileSync(join(dir, "results.jsonl"), results.reverse().map((r) => JSON.stringify(r)).join("\n") + "\n");

    const read = await runCli([...base, "--batch-results", join(dir, "results.jsonl")]);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stderr).toMatch(/batch results: 4 stored, 1 failed lines \(called live\): [0-9a-f]{12}: rate limited/);
    const judged = lines(out);
    expect(judged.map((j) => j.score)).toEqual([4, 4, 2, 4, 4]);
    expect(judged[2]!.feedback).toBe("live.");
    expect(server.count).toBe(1);

    // Everything is in the store now: a new batch file has nothing to send.
    const again = await runCli([...base, "-o", join(dir, "out2.jsonl"), "--batch-file", join(dir, "requests2.jsonl")]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("wrote 0 batch request lines");
  });

  it("writes many lines at once without a listener per call, and its progress counts no failures", async () => {
    const input = join(dir, "many.jsonl");
    // Long prompts fill the file stream's buffer, so many calls wait for it to drain at once.
    // And the last 20 records repeat the first 20: their calls are written once.
    writeFileSync(input, Array.from({ length: 320 }, (_, i) => JSON.stringify({ id: i, instruction: `q${i % 300} ${"word ".repeat(400)}`, response: `a${i % 300}` })).join("\n") + "\n");
    const write = await runCli(["judge", input, "-o", join(dir, "many.out.jsonl"), "--model", "openai:judge", "--base-url", server.baseURL, "--rubric", "helpfulness", "--store", join(dir, "many.sqlite"), "-c", "64", "--batch-file", join(dir, "many.requests.jsonl")]);
    expect(write.code, write.stderr).toBe(0);
    expect(lines(join(dir, "many.requests.jsonl"))).toHaveLength(300);
    expect(write.stderr).not.toContain("MaxListenersExceededWarning");
    expect(write.stderr).not.toMatch(/failed\)/);
    expect(write.stderr).toContain("wrote 300 batch request lines");
  });
});
