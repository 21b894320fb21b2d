import { afterEach, describe, expect, it } from "vitest";
import { createOpenAIBackend } from "../backends/openai.js";
import { RunStore } from "../store/run-store.js";
import { defaultReply, lastUserMessage, scoreFor, startFaultServer, type ChatBody, type FaultServer } from "../../test/support/fault-server.js";
import { emptyStats, judgeStream, BackendUnavailableError, type EngineOptions } from "./engine.js";
import { resolveGrader } from "./grader.js";
import { CostBudget, costOf } from "./budget.js";
import type { Judgment } from "./types.js";

const servers: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: Parameters<typeof startFaultServer>[0] = {}): Promise<FaultServer> {
  const s = await startFaultServer(options);
  servers.push(s);
  return s;
}

function records(n: number): Array<{ index: number; record: Record<string, unknown> }> {
  return Array.from({ length: n }, (_, i) => ({
    index: i,
    record: { id: i, instruction: `question ${i}`, response: `answer ${i}` },
  }));
}

async function collect(iterable: AsyncIterable<Judgment & { index: number }>): Promise<Array<Judgment & { index: number }>> {
  const out = [];
  for await (const j of iterable) out.push(j);
  return out;
}

function backendFor(s: FaultServer, concurrency = 8) {
  return createOpenAIBackend({ model: "judge", baseURL: s.baseURL, concurrency, retryBaseDelayMs: 1, maxRetries: 2 });
}

const absolute = resolveGrader({ template: "prometheus", rubric: "helpfulness" });

describe("judgeStream", () => {
  it("judges every record in input order with the score the judge wrote", async () => {
    // Later records answer faster, so completion order differs from input order.
    const s = await server({ faults: (i) => ({ delayMs: Math.max(0, 30 - i * 3) }) });
    const out = await collect(judgeStream(records(12), { backend: backendFor(s), grader: absolute }));
    expect(out.map((j) => j.index)).toEqual([...Array(12).keys()]);
    for (const j of out) {
      const prompt = lastUserMessage(s.requests.find((r) => lastUserMessage(r.body).includes(`answer ${j.index}`))!.body);
      expect(j.score).toBe(scoreFor(prompt));
      expect(j.feedback).toBeTruthy();
      expect(j.judge.raw).toBe(defaultReply(prompt));
      expect(j.judge.template).toBe("prometheus-absolute");
      expect(j.judge.tokens.prompt).toBeGreaterThan(0);
      expect(j.id).toBe(j.index);
    }
  });

  it("never runs more calls at once than the concurrency limit", async () => {
    let inFlight = 0;
    let peak = 0;
    const s = await server({
      faults: () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        setTimeout(() => inFlight--, 20);
        return { delayMs: 20 };
      },
    });
    await collect(judgeStream(records(20), { backend: backendFor(s, 3), grader: absolute }));
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
  });

  it("retries an unparseable output with a new sample and keeps the failed raw text", async () => {
    // Attempt 0 has seed 0; retries use seed + attempt and a non-zero temperature.
    const s = await server({ reply: (body) => (body.seed === 0 ? "I cannot decide." : defaultReply(lastUserMessage(body))) });
    const stats = emptyStats();
    const [j] = await collect(judgeStream(records(1), { backend: backendFor(s), grader: absolute, stats }));
    expect(j!.score).toEqual(expect.any(Number));
    expect(j!.error).toBeUndefined();
    expect(j!.judge.samples[0]!.failures).toEqual([{ raw: "I cannot decide.", error: expect.any(String) }]);
    expect(s.requests.map((r) => [r.body.seed, r.body.temperature])).toEqual([[0, 0], [1, 0.7]]);
    expect(stats).toMatchObject({ parseFailures: 1, parseRetries: 1, judged: 1, failed: 0 });
  });

  it("records a failure with null score and the raw text when no attempt parses", async () => {
    const s = await server({ reply: () => "no verdict here" });
    const stats = emptyStats();
    const [j] = await collect(judgeStream(records(1), { backend: backendFor(s), grader: absolute, stats, maxRetries: 3 }));
    expect(j!.score).toBeNull();
    expect(j!.error).toMatch(/unparseable judge output after 4 attempt/);
    expect(j!.judge.raw).toBeNull();
    expect(j!.judge.samples[0]!.raw).toBe("no verdict here");
    expect(j!.judge.samples[0]!.failures).toHaveLength(3);
    expect(s.count).toBe(4);
    expect(stats).toMatchObject({ failed: 1, judged: 0, parseFailures: 4, parseRetries: 3 });
  });

  it("averages K samples drawn with distinct seeds and reports the spread", async () => {
    const scores = [2, 4, 5];
    const s = await server({ reply: (body) => `Feedback: fine. [RESULT] ${scores[(body.seed as number) / 1000]}` });
    const [j] = await collect(judgeStream(records(1), { backend: backendFor(s), grader: absolute, samples: 3 }));
    expect(j!.score).toBeCloseTo(11 / 3, 4);
    expect(j!.judge.spread).toEqual({ min: 2, max: 5, std: expect.closeTo(1.2472, 3) });
    expect(j!.judge.samples.map((x) => x.score)).toEqual([2, 4, 5]);
    expect(new Set(s.requests.map((r) => r.body.seed)).size).toBe(3);
    expect(s.requests.every((r) => r.body.temperature === 1 && r.body.top_p === 0.9)).toBe(true);
  });

  it("grades both orders with --swap: consistent verdicts stand, position-biased ones become ties", async () => {
    const pairwise = resolveGrader({ mode: "pairwise", rubric: "helpfulness" });
    const pairs = [
      { index: 0, record: { instruction: "q", response_a: "GOOD answer", response_b: "bad answer" } },
      { index: 1, record: { instruction: "q", response_a: "bad answer", response_b: "GOOD answer" } },
      { index: 2, record: { instruction: "q", response_a: "meh one", response_b: "meh two" } },
    ];
    // A content-following judge for pairs with a GOOD answer, a judge that always says A otherwise.
    const reply = (body: ChatBody): string => {
      const prompt = lastUserMessage(body);
      const a = /###Response A:\n([^\n]*)/.exec(prompt)?.[1] ?? "";
      const b = /###Response B:\n([^\n]*)/.exec(prompt)?.[1] ?? "";
      const winner = a.includes("GOOD") ? "A" : b.includes("GOOD") ? "B" : "A";
      return `Feedback: compared. [RESULT] ${winner}`;
    };
    const s = await server({ reply });
    const stats = emptyStats();
    const out = await collect(judgeStream(pairs, { backend: backendFor(s), grader: pairwise, swap: true, stats }));
    expect(out.map((j) => j.winner)).toEqual(["A", "B", "tie"]);
    expect(out.map((j) => j.swap_flip_rate)).toEqual([0, 0, 1]);
    expect(out[2]!.judge.samples[0]!.swap).toMatchObject({ original: "A", swapped: "B", consistent: false });
    expect(stats).toMatchObject({ swapPairs: 3, swapConsistent: 2 });
    // Pair 1's swapped order is pair 0's original order (and the other way round): those calls are shared.
    expect(s.count).toBe(4);
  });

  it("MT-Bench's [[C]] is a tie, and Arena-Hard's level is kept and mapped back to the record's order under --swap", async () => {
    const mtBench = resolveGrader({ template: "mt-bench-pairwise" });
    const tie = await server({ reply: () => "Both answers are equally good.\n\n[[C]]" });
    const [t] = await collect(judgeStream([{ index: 0, record: { instruction: "q", response_a: "a", response_b: "b" } }], { backend: backendFor(tie), grader: mtBench }));
    expect(t).toMatchObject({ winner: "tie", feedback: "Both answers are equally good." });

    const arena = resolveGrader({ template: "arena-hard" });
    // A judge that follows content: the GOOD answer is much better, wherever it is shown.
    const reply = (body: ChatBody): string => {
      const prompt = lastUserMessage(body);
      const a = /Assistant A's Answer\|>\n([^\n]*)/.exec(prompt)?.[1] ?? "";
      return a.includes("GOOD") ? "My final verdict is: [[A>>B]]" : "My final verdict is: [[B>>A]]";
    };
    const s = await server({ reply });
    const [j] = await collect(judgeStream([{ index: 0, record: { instruction: "q", response_a: "GOOD one", response_b: "weak one" } }], { backend: backendFor(s), grader: arena, swap: true }));
    expect(j).toMatchObject({ winner: "A", verdict: "A>>B" });
    expect(j!.judge.samples[0]!.swap).toMatchObject({ original: "A", swapped: "A", consistent: true, swappedVerdict: "A>>B" });
  });

  it("judges a conversation record: the last assistant turn, with MT-Bench's multi-turn prompt", async () => {
    const mtBench = resolveGrader({ template: "mt-bench" });
    const s = await server({ reply: () => "The second answer is right.\n\nRating: [[9]]" });
    const messages = [
      { role: "user", content: "2+2?" }, { role: "assistant", content: "4" },
      { role: "user", content: "times 3?" }, { role: "assistant", content: "12" },
    ];
    const [j] = await collect(judgeStream([{ index: 0, record: { id: "c1", messages } }], { backend: backendFor(s), grader: mtBench }));
    expect(j).toMatchObject({ id: "c1", score: 9, messages });
    expect(s.requests[0]!.body.messages![0]!.content).toMatch(/focus on the assistant's answer to the second user question/);
    expect(lastUserMessage(s.requests[0]!.body)).toContain("### User:\ntimes 3?\n\n### Assistant A:\n12");
  });

  it("takes the majority verdict of K pairwise samples", async () => {
    const pairwise = resolveGrader({ mode: "pairwise", rubric: "helpfulness" });
    const verdicts = ["A", "B", "A"];
    const s = await server({ reply: (body) => `Feedback: x [RESULT] ${verdicts[(body.seed as number) / 1000]}` });
    const [j] = await collect(
      judgeStream([{ index: 0, record: { instruction: "q", response_a: "a", response_b: "b" } }], { backend: backendFor(s), grader: pairwise, samples: 3 }),
    );
    expect(j!.winner).toBe("A");
    expect(j!.judge.spread).toEqual({ agreement: 0.6667 });
  });

  it("serves a re-run from the store without calling the backend again", async () => {
    const s = await server();
    const store = RunStore.open(":memory:");
    const options: EngineOptions = { backend: backendFor(s), grader: absolute, store };
    const first = await collect(judgeStream(records(5), options));
    expect(s.count).toBe(5);
    const stats = emptyStats();
    const second = await collect(judgeStream(records(5), { ...options, stats }));
    expect(s.count).toBe(5);
    expect(second.map((j) => j.score)).toEqual(first.map((j) => j.score));
    expect(second.every((j) => j.judge.cached)).toBe(true);
    expect(first.some((j) => j.judge.cached)).toBe(false);
    expect(stats).toMatchObject({ calls: 5, cachedCalls: 5 });
    store.close();
  });

  it("keeps going past a record whose calls fail for good, and records the backend error", async () => {
    const s = await server({ faults: (_i, body) => (lastUserMessage(body).includes("answer 1\n") ? { status: 400, message: "context too long" } : undefined) });
    const out = await collect(judgeStream(records(3), { backend: backendFor(s), grader: absolute }));
    expect(out.map((j) => j.score === null)).toEqual([false, true, false]);
    expect(out[1]!.error).toMatch(/backend error: .*400.*context too long/);
  });

  it("stops the run with one clear error when the backend never answers", async () => {
    const s = await server();
    const url = s.baseURL;
    await s.close();
    servers.length = 0;
    const backend = createOpenAIBackend({ model: "judge", baseURL: url, concurrency: 2, maxRetries: 0 });
    await expect(collect(judgeStream(records(50), { backend, grader: absolute }))).rejects.toThrow(BackendUnavailableError);
  });

  it("stops taking records when aborted and finishes the ones in flight", async () => {
    const s = await server({ faults: () => ({ delayMs: 10 }) });
    const controller = new AbortController();
    const out: number[] = [];
    for await (const j of judgeStream(records(200), { backend: backendFor(s, 2), grader: absolute, signal: controller.signal })) {
      out.push(j.index);
      if (out.length === 3) controller.abort();
    }
    expect(out.length).toBeLessThan(200);
    expect(out).toEqual([...Array(out.length).keys()]);
    expect(s.count).toBe(out.length);
  });
});

describe("judgeStream pays once per distinct call", () => {
  it("shares one call among identical records in flight (100 identical records, 1 call)", async () => {
    const s = await server({ faults: () => ({ delayMs: 30 }) });
    const same = Array.from({ length: 100 }, (_, i) => ({ index: i, record: { instruction: "the same question", response: "the same answer" } }));
    const stats = emptyStats();
    const store = RunStore.open(":memory:");
    const out = await collect(judgeStream(same, { backend: backendFor(s, 16), grader: absolute, stats, store }));
    store.close();
    expect(out).toHaveLength(100);
    expect(new Set(out.map((j) => j.score)).size).toBe(1);
    expect(s.count).toBe(1);
    expect(stats).toMatchObject({ calls: 100, cachedCalls: 99, judged: 100 });
    // What was paid: one call's tokens.
    expect(stats.paidPromptTokens).toBe(out[0]!.judge.tokens.prompt);
  });

  it("makes one call per distinct key when records repeat (100 records, 7 distinct)", async () => {
    const s = await server({ faults: () => ({ delayMs: 20 }) });
    const mixed = Array.from({ length: 100 }, (_, i) => ({ index: i, record: { instruction: `question ${i % 7}`, response: `answer ${i % 7}` } }));
    const store = RunStore.open(":memory:");
    const out = await collect(judgeStream(mixed, { backend: backendFor(s, 32), grader: absolute, store }));
    expect(out.map((j) => j.index)).toEqual([...Array(100).keys()]);
    expect(s.count).toBe(7);
    store.close();
  });
});

describe("judgeStream under --max-cost", () => {
  // $0.001 per prompt token, $0.0001 per completion token: a call reserves about $0.35 (its prompt
  // and 1024 completion tokens) and costs about $0.25.
  const price = { inputPerMillion: 1000, outputPerMillion: 100 };
  const cap = 20;
  for (const concurrency of [1, 16, 32]) {
    it(`never spends over the cap at concurrency ${concurrency}, and stops short of it by less than one call's reservation`, async () => {
      const s = await server({ faults: () => ({ delayMs: 5 }) });
      const stats = emptyStats();
      const budget = new CostBudget(cap, price);
      const out = await collect(judgeStream(records(300), { backend: backendFor(s, concurrency), grader: absolute, stats, budget }));
      const spent = costOf(stats.paidPromptTokens, stats.paidCompletionTokens, price);
      expect(budget.exhausted).toBe(true);
      expect(spent).toBeCloseTo(budget.spent, 9);
      // Every call the server saw was paid for and counted (one per judged record); none was sent past the cap.
      expect(s.count).toBe(stats.calls);
      expect(s.count).toBe(out.length);
      expect(spent).toBeLessThanOrEqual(cap);
      const reservation = budget.estimate(absolute.buildMessages(records(300)[299]!.record), 1024);
      expect(spent).toBeGreaterThan(cap - reservation);
      expect(budget.peakInFlight).toBeLessThanOrEqual(concurrency);
      // Judgments come out in input order without gaps: the records the budget stopped are not written.
      expect(out.map((j) => j.index)).toEqual([...Array(out.length).keys()]);
      expect(out.length).toBe(stats.judged);
      expect(out.length).toBeLessThan(300);
    });
  }
});
