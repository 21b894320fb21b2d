/** `critic judge --batch` against a local server speaking OpenAI's files and batches wire format. */
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { startBatchServer, scoreReply, type BatchServer } from "../support/batch-server.js";
import { assertBuilt, runCli, startCli, type CliResult } from "../support/cli.js";
import { runBatches } from "../../src/judge/batch-api.js";
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
async function killWhilePolling(name: string, n: number, polls: number, options: { signal?: NodeJS.Signals; env?: NodeJS.ProcessEnv } = {}): Promise<{ args: string[]; out: string; store: string; result: CliResult }> {
  server!.hold = true;
  const out = join(dir, `${name}.out.jsonl`);
  const store = join(dir, name, "store.sqlite");
  const args = ["judge", input(`${name}.jsonl`, n), "-o", out, "--model", "openai:judge", "--base-url", server!.baseURL, "--rubric", "helpfulness", "--store", store, "--batch", "--poll-interval", "0.05"];
  const run = startCli(args, options.env ? { env: options.env } : {});
  while (server!.counts.retrieves < polls) await new Promise((r) => setTimeout(r, 20));
  run.child.kill(options.signal ?? "SIGKILL");
  return { args, out, store, result: await run.done };
}

const KEY = "sk-critic-test-0123456789abcdefSECRET";

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

  it("never prints the API key a server echoes back: judge --batch, critic batch status, and the run history", async () => {
    server = await startBatchServer({ echoAuthorization: ["create", "retrieve"] });
    const env = { OPENAI_API_KEY: KEY };
    const out = join(dir, "echo.out.jsonl");
    const store = join(dir, "echo.sqlite");
    const judged = await runCli(["judge", input("echo.jsonl", 2), "-o", out, "--model", "openai:judge", "--base-url", server.baseURL, "--rubric", "helpfulness", "--store", store, "--batch", "--poll-interval", "0.05"], { env });
    expect(judged.code).toBe(1);
    expect(judged.stderr).toContain("Incorrect API key provided");
    expect(judged.stderr).toContain("Bearer [redacted]");
    expect(judged.stderr + judged.stdout).not.toContain(KEY);
    const status = await runCli(["batch", "status", "batch_x", "--store", store, "--base-url", server.baseURL], { env });
    expect(status.code).toBe(1);
    expect(status.stderr).toContain("Bearer [redacted]");
    expect(status.stderr + status.stdout).not.toContain(KEY);
    const open = RunStore.open(store);
    const history = JSON.stringify(open.listRuns());
    open.close();
    expect(history).toContain("[redacted]");
    expect(history).not.toContain(KEY);
  });

  it("a gateway that creates the batch but loses the reply does not make a second batch", async () => {
    server = await startBatchServer({ loseCreateReplies: 1 });
    const out = join(dir, "lost-reply.out.jsonl");
    const result = await runCli(["judge", input("lost-reply.jsonl", 3), "-o", out, "--model", "openai:judge", "--base-url", server.baseURL, "--rubric", "helpfulness", "--store", join(dir, "lost-reply.sqlite"), "--batch", "--poll-interval", "0.05"]);
    expect(result.code, result.stderr).toBe(0);
    expect(server.counts.creates).toBe(1);
    expect(server.batches.size).toBe(1);
    expect(readJsonl(out)).toHaveLength(3);
  });

  it("commits a batch's answers to the store before marking it loaded", async () => {
    server = await startBatchServer();
    const storePath = join(dir, "commit.sqlite");
    const requests = join(dir, "commit.requests.jsonl");
    writeFileSync(requests, Array.from({ length: 5 }, (_, i) => JSON.stringify({ custom_id: `call-${i}`, method: "POST", url: "/v1/chat/completions", body: { model: "judge", messages: [{ role: "user", content: `question ${i}` }] } })).join("\n") + "\n");
    const store = RunStore.open(storePath);
    const onDisk: number[] = [];
    const update = store.updateBatch.bind(store);
    // What a kill -9 at the moment the batch is marked loaded would leave: the rows another connection sees.
    store.updateBatch = (rowid, change) => {
      if (change.loaded) {
        const other = new Database(storePath, { readonly: true });
        onDisk.push((other.prepare("SELECT COUNT(*) AS n FROM calls").get() as { n: number }).n);
        other.close();
      }
      update(rowid, change);
    };
    const round = await runBatches(requests, store, { baseURL: server.baseURL, model: "judge", output: join(dir, "commit.out.jsonl"), pollIntervalMs: 5 });
    store.close();
    expect(round.results.loaded).toBe(5);
    expect(onDisk).toEqual([5]);
  });

  it("keeps the request file (every prompt) beside the store, not in the system temp folder, and removes it when done", async () => {
    server = await startBatchServer();
    const tmp = mkdtempSync(join(tmpdir(), "critic-batch-tmp-"));
    const { args, store } = await killWhilePolling("prompts", 3, 2, { env: { TMPDIR: tmp } });
    expect(readdirSync(tmp).filter((f) => f.startsWith("critic-batch-"))).toEqual([]);
    const beside = join(dirname(store), "batch-requests");
    expect(existsSync(beside)).toBe(true);
    server.hold = false;
    const again = await runCli(args, { env: { TMPDIR: tmp } });
    expect(again.code, again.stderr).toBe(0);
    expect(readdirSync(beside)).toEqual([]);
    expect(readdirSync(tmp).filter((f) => f.startsWith("critic-batch-"))).toEqual([]);
  });

  it("Ctrl-C while the batches are polled exits 130, says how to re-attach, and the history says interrupted", async () => {
    server = await startBatchServer();
    const { args, store, result } = await killWhilePolling("sigint", 4, 2, { signal: "SIGINT" });
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain("run the same command again to re-attach");
    expect(result.stderr).toMatch(/records 4, judged 0, failed 0, rejected 0, not started 4/);
    const open = RunStore.open(store);
    const runs = open.listRuns();
    open.close();
    expect(runs[0]!.status).toBe("interrupted");
    expect(runs.filter((r) => r.status === "finished")).toEqual([]);
    server.hold = false;
    const again = await runCli(args);
    expect(again.code, again.stderr).toBe(0);
    expect(server.counts.creates).toBe(1);
  });
});
