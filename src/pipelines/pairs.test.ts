import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lastUserMessage, startFaultServer, type ChatBody, type FaultServer } from "../../test/support/fault-server.js";
import { makePairs, makePairsFromRecords, type PreferencePair } from "./pairs.js";
import { revise } from "./revise.js";
import { readJsonl, writeJsonl } from "../../test/support/jsonl.js";

const jsonl = (name: string, rows: unknown[]): string => writeJsonl(join(dir, name), rows);

const dir = mkdtempSync(join(tmpdir(), "critic-pairs-"));
let server: FaultServer;
let judgeScore: (response: string) => number = () => 3;
let degradeReply: (attempt: number, prompt: string) => string = (a) => `worse ${a}`;

function responseIn(prompt: string): string {
  return /###Response to evaluate:\n([\s\S]*?)\n\n###Score Rubrics/.exec(prompt)![1]!;
}

function reply(body: ChatBody): string {
  const last = lastUserMessage(body);
  if (last.includes("###Response to evaluate:")) return `Feedback: ok. [RESULT] ${judgeScore(responseIn(last))}`;
  if (last.startsWith("Below is a request and a good response") || last.startsWith("Below is a task that asks for a critical question")) {
    // The attempt number shows in the seed: attempt a uses seed + 1000 a.
    return degradeReply(Math.floor(Number(body.seed ?? 0) / 1000), last);
  }
  return `answer to ${last}`;
}

beforeAll(async () => {
  server = await startFaultServer({ reply });
});
afterAll(async () => server?.close());

const base = () => ({ model: "openai:gen", baseURL: server.baseURL, progress: false as const });

describe("pairs from candidates", () => {
  it("best vs worst from given scores, no judge calls; ties dropped and counted", async () => {
    const input = jsonl("cands.jsonl", [
      { id: "rec-1", prompt: "p1", responses: ["a", "b", "c"], scores: [3, 5, 1] },
      { prompt: "p2", responses: [{ response: "x", score: 4 }, { response: "y", score: 4 }] },
      { prompt: "p3", responses: ["only"] },
      { prompt: "p4", responses: ["a", "b"], scores: [1] },
    ]);
    const output = join(dir, "cands-out.jsonl");
    const before = server.count;
    // No model given: nothing needs one.
    const summary = await makePairs({ input, output, from: "candidates", progress: false, store: join(dir, "c.sqlite") });
    expect(server.count).toBe(before);
    expect(summary).toMatchObject({ records: 4, rejected: 2, written: 1 });
    expect(summary.stage).toMatchObject({ pairs: 1, ties: 1, belowMargin: 0 });
    expect(readJsonl(output)).toEqual([{ id: "rec-1", prompt: "p1", chosen: "b", rejected: "c", chosen_score: 5, rejected_score: 1, margin: 4, source: "candidates" }]);
    expect(readJsonl(summary.rejects!).map((r) => [r.line, r.field])).toEqual([[3, "responses"], [4, "scores"]]);
  });

  it("--all-pairs keeps every pair above the margin", async () => {
    const rows: PreferencePair[] = [];
    for await (const p of makePairsFromRecords([{ prompt: "p", responses: ["a", "b", "c", "d"], scores: [1, 2, 4, 4] }], { from: "candidates", allPairs: true, margin: 1 })) rows.push(p);
    // 6 pairs: (c,d) tie; (a,b) 1 and not above margin 1; four kept.
    expect(rows.map((r) => [r.chosen, r.rejected, r.margin])).toEqual([["c", "a", 3], ["d", "a", 3], ["c", "b", 2], ["d", "b", 2]]);
  });

  it("groups judgment rows by prompt and scores missing scores with the judge", async () => {
    judgeScore = (r) => (r === "judge me high" ? 5 : 2);
    const input = jsonl("judgments.jsonl", [
      { id: 10, instruction: "q1", response: "scored low", score: 1 },
      { id: 11, instruction: "q2", response: "alone", score: 3 },
      { id: 12, instruction: "q1", response: "judge me high", score: null },
      { id: 13, instruction: "q1", response: "scored mid", score: 3 },
    ]);
    const output = join(dir, "grouped.jsonl");
    const before = server.count;
    const summary = await makePairs({ ...base(), input, output, from: "candidates", store: join(dir, "g.sqlite") });
    expect(server.count - before).toBe(1);
    // One candidate per row: the pair names the rows its two responses came from.
    expect(readJsonl(output)).toEqual([{ chosen_id: 12, rejected_id: 10, prompt: "q1", chosen: "judge me high", rejected: "scored low", chosen_score: 5, rejected_score: 1, margin: 4, source: "candidates" }]);
    expect(summary.stage).toMatchObject({ pairs: 1, tooFewCandidates: 1 });
    expect(readJsonl(summary.failuresFile!)).toEqual([expect.objectContaining({ prompt: "q2", reason: expect.stringMatching(/fewer than two/) })]);
  });
});

describe("pairs when the judge fails for good (a fault server that answers 500 for some responses)", () => {
  let faulty: FaultServer;
  /** Responses whose judge call always fails. */
  const broken = new Set<string>();
  beforeAll(async () => {
    faulty = await startFaultServer({
      reply,
      faults: (_i, body) => {
        const last = lastUserMessage(body as ChatBody);
        return last.includes("###Response to evaluate:") && broken.has(responseIn(last)) ? { status: 500 } : undefined;
      },
    });
  });
  afterAll(async () => faulty?.close());
  const onFaulty = () => ({ model: "openai:gen", baseURL: faulty.baseURL, progress: false as const, requestRetries: 0 });

  it("candidates: a prompt with an unscored candidate makes no pair and counts as failed", async () => {
    judgeScore = (r) => (r === "best" ? 5 : r === "mid" ? 3 : 1);
    broken.clear();
    broken.add("worst");
    const input = jsonl("faulty-cands.jsonl", [
      { id: "x", prompt: "px", responses: ["best", "mid", "worst"] },
      { id: "y", prompt: "py", responses: ["best", "mid"] },
    ]);
    const output = join(dir, "faulty-cands-out.jsonl");
    const summary = await makePairs({ ...onFaulty(), input, output, from: "candidates", store: join(dir, "fc.sqlite") });
    // Without "worst", px would pair best vs mid: a pair the full data would not make.
    expect(readJsonl(output)).toEqual([expect.objectContaining({ id: "y", chosen: "best", rejected: "mid" })]);
    expect(summary).toMatchObject({ items: 2, failed: 1, written: 1 });
    expect(summary.stage).toMatchObject({ pairs: 1, unscored: 1 });
    const [failure] = readJsonl(summary.failuresFile!);
    expect(failure).toMatchObject({ prompt: "px", reason: expect.stringMatching(/1 of 3 candidates could not be scored/) });
    expect(String((failure!.errors as string[])[0])).toMatch(/HTTP 500/);

    // The fault is gone: the same command again scores it and makes the pair.
    broken.clear();
    const again = await makePairs({ ...onFaulty(), input, output, from: "candidates", store: join(dir, "fc.sqlite") });
    expect(again).toMatchObject({ failed: 0, written: 2 });
    expect(readJsonl(output)[0]).toMatchObject({ id: "x", chosen: "best", rejected: "worst" });
  });

  it("degrade: no pair because attempts could not be scored counts as failed, not as exhausted", async () => {
    judgeScore = (r) => (r.startsWith("good") ? 4 : 4);
    degradeReply = (attempt) => `unscorable ${attempt}`;
    broken.clear();
    for (let a = 0; a < 3; a++) broken.add(`unscorable ${a}`);
    const input = jsonl("faulty-good.jsonl", [{ prompt: "task F", response: "good F" }]);
    const summary = await makePairs({ ...onFaulty(), input, output: join(dir, "faulty-degrade.jsonl"), from: "degrade", maxAttempts: 2, store: join(dir, "fd.sqlite") });
    expect(summary).toMatchObject({ items: 1, failed: 1, written: 0 });
    const [failure] = readJsonl(summary.failuresFile!);
    expect(failure).toMatchObject({ prompt: "task F", reason: expect.stringMatching(/could not be scored/) });
  });
});

describe("pairs by degrading a good response", () => {
  it("retries until the judge confirms a lower score, recording every attempt; gives up after --max-attempts", async () => {
    // Attempt 0 scores as well as the good response (fails verification), attempt 1 scores lower.
    judgeScore = (r) => (r.startsWith("good") ? 4 : r === "worse 0" ? 4 : r === "worse 1" ? 2 : 4);
    degradeReply = (attempt) => `worse ${attempt}`;
    const input = jsonl("good.jsonl", [{ id: "a", prompt: "task A", response: "good A" }, { prompt: "task B" }]);
    const output = join(dir, "degraded.jsonl");
    const summary = await makePairs({ ...base(), input, output, from: "degrade", maxAttempts: 3, store: join(dir, "d.sqlite") });
    expect(summary.stage).toMatchObject({ pairs: 1, attempts: 2, exhausted: 0 });
    expect(readJsonl(output)).toEqual([{
      id: "a", prompt: "task A", chosen: "good A", rejected: "worse 1", chosen_score: 4, rejected_score: 2, margin: 2, source: "degrade",
      attempts: [{ response: "worse 0", score: 4 }, { response: "worse 1", score: 2 }],
    }]);
    expect(readJsonl(summary.rejects!)[0]).toMatchObject({ line: 2, field: "response" });

    judgeScore = () => 3;
    // A new store: the one above holds the first script's judgments (a cache never asks twice).
    const exhausted = await makePairs({ ...base(), input, output: join(dir, "none.jsonl"), from: "degrade", maxAttempts: 2, store: join(dir, "d2.sqlite") });
    expect(exhausted.stage).toMatchObject({ pairs: 0, attempts: 2, exhausted: 1 });
    expect(exhausted.written).toBe(0);
    const [failure] = readJsonl(exhausted.failuresFile!);
    expect(failure).toMatchObject({ prompt: "task A", chosen_score: 3, reason: expect.stringMatching(/no attempt scored more than 0 below .* in 2 attempt/) });
    expect((failure!.attempts as unknown[]).length).toBe(2);
  });

  it("wrong-type style asks for another question type, a different one per attempt", async () => {
    judgeScore = (r) => (r.startsWith("Why") ? 5 : r.includes("attempt 2") ? 1 : 5);
    degradeReply = (attempt, prompt) => `${/of the type "([^"]+)" instead/.exec(prompt)![1]} question, attempt ${attempt + 1}`;
    const rows: PreferencePair[] = [];
    for await (const p of makePairsFromRecords(
      [{ prompt: "Write a clarity question about: cats rule.", question: "Why do you say cats rule?", type: "clarity" }],
      { ...base(), from: "degrade", degradeStyle: "wrong-type", types: "socratic", maxAttempts: 3 },
    )) rows.push(p);
    expect(rows).toHaveLength(1);
    const attempts = rows[0]!.attempts!;
    expect(attempts).toHaveLength(2);
    expect(new Set(attempts.map((a) => a.type)).size).toBe(2);
    expect(attempts.every((a) => a.type !== "clarity")).toBe(true);
    expect(rows[0]).toMatchObject({ chosen: "Why do you say cats rule?", chosen_score: 5, rejected_score: 1 });
    // The judge used the socratic set's rubric.
    const judged = server.requests.map((r) => lastUserMessage(r.body)).filter((m) => m.includes("###Score Rubrics")).at(-1)!;
    expect(judged).toContain("a single critical question of the requested type");
  });
});

describe("pairs from revise output", () => {
  it("turns accepted revisions into pairs and skips the rest", async () => {
    judgeScore = (r) => (r === "answer to one" || r === "answer to two" ? 2 : 4);
    const prompts = jsonl("rp.jsonl", [{ prompt: "one" }, { prompt: "two" }]);
    const revised = join(dir, "revised.jsonl");
    await revise({ ...base(), input: prompts, output: revised, store: join(dir, "r.sqlite") });
    // Make the second record not accepted.
    const lines = readJsonl(revised);
    lines[1] = { ...lines[1], accepted: false, chosen: null, rejected: null };
    writeFileSync(revised, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const output = join(dir, "rpairs.jsonl");
    const summary = await makePairs({ input: revised, output, from: "revise", progress: false, store: join(dir, "r.sqlite") });
    expect(summary.stage).toMatchObject({ pairs: 1, notAccepted: 1 });
    const [pair] = readJsonl(output);
    expect(pair).toEqual({ prompt: "one", chosen: lines[0]!.chosen, rejected: "answer to one", chosen_score: 4, rejected_score: 2, margin: 2, source: "revise" });
  });
});
