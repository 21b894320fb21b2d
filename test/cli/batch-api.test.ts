/** `critic judge --batch` against a local server speaking OpenAI's files and batches wire format. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { startBatchServer, scoreReply, type BatchServer } from "../support/batch-server.js";
import { assertBuilt, runCli, startCli } from "../support/cli.js";
import { readJsonl } from "../support/jsonl.js";
import Database from "better-sqlite3";
import { RunStore } from "../../src/store/run-store.js";

let dir: string;
let server: BatchServer | undefined;
beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "critic-batch-api-"));
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

const userText = (body: { messages: Array<{ role: string; content: string }> }) => body.messages.map((m) => m.content).join("\n");

/** Judges `n` records with --batch against a held server, kills the run with SIGKILL once it has polled `polls` times. */
async function killWhilePolling(name: string, n: number, polls: number): Promise<{ args: string[]; out: string; store: string }> {
  server!.hold = true;
  const out = join(dir, `${name}.out.jsonl`);
  const store = join(dir, `${name}.sqlite`);
  const args = ["judge", input(`${name}.jsonl`, n), "-o", out, "--model", "openai:judge", "--base-url", server!.baseURL, "--rubric", "helpfulness", "--store", store, "--batch", "--poll-interval", "0.05"];
  const run = startCli(args);
  while (server!.counts.retrieves < polls) await new Promise((r) => setTimeout(r, 20));
  run.child.kill("SIGKILL");
  await run.done;
  return { args, out, store };
}

describe("critic judge --batch", () => {
  it("sends the calls as batches, retries an unparseable output in the next round, and never calls live", async () => {
    server = await startBatchServer({
      reply: (body) => {
        const text = userText(body);
        if (text.includes("question q3?") && body.seed === 0) return "I would rather not say.";
        if (text.includes("question q5?")) throw new Error("the model crashed on this one");
        return scoreReply(body);
      },
    });
    const file = input("basic.jsonl", 6);
    const out = join(dir, "basic.out.jsonl");
    const store = join(dir, "basic.sqlite");
    const args = ["judge", file, "-o", out, "--model", "openai:judge", "--base-url", server.baseURL, "--rubric", "helpfulness", "--store", store, "--batch", "--poll-interval", "0.05", "--price", "in=1,out=2"];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(1); // q5 has no answer
    expect(server.counts.live).toBe(0);
    // Round 1: six lines (q5 fails); round 2: q3's retry and q5 again (q3 answered); round 3: q5 only, nothing new: stop.
    expect(server.counts.creates).toBe(3);
    expect(server.counts.uploads).toBe(3);
    const judgments = readJsonl<{ id: string; score: number | null; error?: string; judge: { samples: Array<{ failures?: unknown[] }>; cost_usd: number } }>(out);
    // A judgment's cost is at the batch price: (100 * $1 + 10 * $2) / 1M, halved; q3 made two calls.
    expect(judgments[0]!.judge.cost_usd).toBeCloseTo(0.00006, 9);
    expect(judgments[3]!.judge.cost_usd).toBeCloseTo(0.00012, 9);
    expect(judgments.map((j) => j.id)).toEqual(["q0", "q1", "q2", "q3", "q4", "q5"]);
    expect(judgments.filter((j) => j.score !== null).map((j) => j.id)).toEqual(["q0", "q1", "q2", "q3", "q4"]);
    expect(judgments[3]!.judge.samples[0]!.failures).toHaveLength(1); // the unparseable first answer is kept
    expect(judgments[5]!.error).toContain("the batches gave no answer to this call");
    expect(first.stderr).toMatch(/batches: 3 in 3 round\(s\): 6 answers stored, 3 lines failed/);
    // 6 answers of 100 + 10 tokens at $1 / $2 per 1M, half price.
    expect(first.stderr).toContain("batch cost $0.0004 for 600 prompt + 60 completion tokens at the batch discount");

    // The same command with --batch-retry live: q5 goes to a batch once more, fails, then live.
    const retried = await runCli([...args, "--batch-retry", "live", "--request-retries", "0"]);
    expect(retried.code, retried.stderr).toBe(1); // live fails as well: the reply throws for q5
    expect(server.counts.creates).toBe(4);
    expect(server.counts.live).toBeGreaterThan(0);
    expect(readJsonl<{ error?: string }>(out)[5]!.error).toContain("backend error");

    const list = await runCli(["batch", "list", "--store", store]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.trim().split("\n")).toHaveLength(4);
    expect(list.stdout).toContain("results stored");
    expect(list.stdout).toContain(`-> ${out}`);
  });

  it("splits a large run into batches within --batch-max-requests", async () => {
    server = await startBatchServer();
    const file = input("split.jsonl", 7);
    const out = join(dir, "split.out.jsonl");
    const result = await runCli(["judge", file, "-o", out, "--model", "openai:judge", "--base-url", server.baseURL, "--rubric", "helpfulness", "--store", join(dir, "split.sqlite"), "--batch", "--poll-interval", "0.05", "--batch-max-requests", "3"]);
    expect(result.code, result.stderr).toBe(0);
    expect([...server.batches.values()].map((b) => b.request_counts.total)).toEqual([3, 3, 1]);
    expect(readJsonl<{ score: number }>(out).every((j) => j.score >= 1 && j.score <= 5)).toBe(true);
    expect(server.counts.live).toBe(0);
  });

  it("counts a damaged output line as failed, shows it, and sends its call again next round", async () => {
    let cut = 0;
    server = await startBatchServer({ cutOutputLine: (body) => userText(body).includes("question q1?") && cut++ === 0 });
    const out = join(dir, "cut.out.jsonl");
    const result = await runCli(["judge", input("cut.jsonl", 3), "-o", out, "--model", "openai:judge", "--base-url", server.baseURL, "--rubric", "helpfulness", "--store", join(dir, "cut.sqlite"), "--batch", "--poll-interval", "0.05"]);
    expect(result.code, result.stderr).toBe(0);
    expect(server.counts.creates).toBe(2);
    expect(result.stderr).toMatch(/batches: 2 in 2 round\(s\): 3 answers stored, 1 lines failed/);
    expect(result.stderr).toMatch(/\(unreadable\): a line of batch batch_\w+ is not JSON: \{"id":/);
    expect(readJsonl<{ score: number | null }>(out).map((j) => j.score !== null)).toEqual([true, true, true]);
  });

  it("re-attaches to its batch after a kill -9 instead of sending it again", async () => {
    server = await startBatchServer();
    const { args, out, store } = await killWhilePolling("kill", 5, 3);
    const open = RunStore.open(store);
    const [row] = open.listBatches();
    open.close();
    expect(row).toMatchObject({ status: "in_progress", loaded: false, requests: 5 });

    server.hold = false;
    const again = await runCli(args);
    expect(again.code, again.stderr).toBe(0);
    expect(server.counts.creates).toBe(1);
    expect(server.counts.uploads).toBe(1);
    expect(again.stderr).toContain(`batch ${row!.batchId}: re-attached`);
    expect(readJsonl(out)).toHaveLength(5);
    expect(server.counts.live).toBe(0);
  });

  it("finds its batch by the request hash when the kill came before its id was written down", async () => {
    server = await startBatchServer();
    const { args, out, store } = await killWhilePolling("lost", 3, 2);
    // As if the process had died between creating the batch and writing its id down.
    const db = new Database(store);
    db.prepare("UPDATE batches SET batch_id = NULL, status = 'uploaded'").run();
    db.close();

    server.hold = false;
    const again = await runCli(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("re-attached (found on the server by its request hash)");
    expect(server.counts.creates).toBe(1);
    expect(readJsonl(out)).toHaveLength(3);
  });

  it("critic batch status and cancel ask the server the batch was created on", async () => {
    server = await startBatchServer();
    const { store } = await killWhilePolling("cancel", 2, 2);
    const id = [...server.batches.keys()][0]!;
    const status = await runCli(["batch", "status", id, "--store", store]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`${id}: in_progress, 0/2 done, 0 failed`);
    const cancel = await runCli(["batch", "cancel", id, "--store", store]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain(`${id}: cancelling`);
    expect(server.counts.cancels).toBe(1);
    const unknown = await runCli(["batch", "status", "batch_nope", "--store", store]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("batch batch_nope is not in");
  });
});
