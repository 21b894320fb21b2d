import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultServer, type FaultServer } from "../../test/support/fault-server.js";
import { resolveGrader } from "../judge/grader.js";
import { judgeStream } from "../judge/engine.js";
import { distributionFromLogprobs, type TokenLogprob } from "./logprobs.js";
import { createOpenAIBackend } from "./openai.js";

const five = { candidates: ["1", "2", "3", "4", "5"] };
function expectDistribution(read: ReturnType<typeof distributionFromLogprobs>, expected: Record<string, number>): void {
  expect(read).toHaveProperty("distribution");
  const d = (read as { distribution: Record<string, number> }).distribution;
  for (const [k, p] of Object.entries(expected)) expect(d[k], k).toBeCloseTo(p, 12);
  expect(Object.values(d).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
}
const tok = (token: string, top: Array<[string, number]> = []): TokenLogprob => ({ token, logprob: Math.log(top.find(([t]) => t === token)?.[1] ?? 1), top_logprobs: top.map(([t, p]) => ({ token: t, logprob: Math.log(p) })) });

describe("verdict probabilities from OpenAI logprobs", () => {
  it("renormalises the alternatives at the verdict token over the scale, with and without a leading space", () => {
    const text = "Good answer. [RESULT] 4";
    const content = [tok("Good"), tok(" answer"), tok("."), tok(" [RESULT]"), tok(" 4", [[" 4", 0.5], [" 5", 0.2], ["5", 0.1], [" 3", 0.1], [" the", 0.05]])];
    const read = distributionFromLogprobs(text, content, five);
    expectDistribution(read, { "1": 0, "2": 0, "3": 0.1 / 0.9, "4": 0.5 / 0.9, "5": 0.3 / 0.9 });
  });

  it("reads a verdict inside brackets ([[8]], with ]] in the same token or not) and a pairwise verdict", () => {
    const scale = { candidates: Array.from({ length: 10 }, (_, i) => String(i + 1)), suffix: "]]" };
    const mt = distributionFromLogprobs("Fine.\n\nRating: [[8]]", [tok("Fine.\n\nRating: [["), tok("8]]", [["8]]", 0.6], ["7", 0.3], ["10", 0.1]])], scale);
    expectDistribution(mt, { "8": 0.6, "7": 0.3, "10": 0.1, "1": 0 });
    const pair = distributionFromLogprobs("A wins. [RESULT] A", [tok("A wins. [RESULT]"), tok(" A", [[" A", 0.7], [" B", 0.25]])], { candidates: ["A", "B"] });
    expect((pair as { distribution: Record<string, number> }).distribution.A).toBeCloseTo(0.7 / 0.95, 12);
  });

  it("never invents one: no logprobs, no verdict among the alternatives, or a tokenizer that cannot tell 1 from 10", () => {
    expect(distributionFromLogprobs("x [RESULT] 4", null, five)).toEqual({ error: expect.stringMatching(/returned no logprobs/) });
    expect(distributionFromLogprobs("x [RESULT] 4", [tok("x [RESULT]"), tok(" 4", [[" four", 0.9]])], five)).toEqual({ error: expect.stringMatching(/no verdict among/) });
    const ten = { candidates: Array.from({ length: 10 }, (_, i) => String(i + 1)) };
    expect(distributionFromLogprobs("ok [SCORE] 7", [tok("ok [SCORE]"), tok(" 7", [[" 7", 0.5], [" 1", 0.3]])], ten)).toEqual({ error: expect.stringMatching(/do not tell "1" from "10"/) });
    expect(distributionFromLogprobs("no verdict", [tok("no verdict")], five)).toEqual({ error: "the output does not end with a verdict" });
  });
});

describe("judge --logprobs against a server speaking OpenAI's logprobs format", () => {
  let server: FaultServer;
  let plain: FaultServer;
  beforeAll(async () => {
    const reply = "Feedback: helpful. [RESULT] 4";
    server = await startFaultServer({
      reply: () => reply,
      logprobs: (_body, text) => [
        { token: text.slice(0, -2), logprob: 0, top_logprobs: [] },
        { token: " 4", logprob: Math.log(0.6), top_logprobs: [[" 4", 0.6], [" 3", 0.3], [" 5", 0.1]].map(([t, p]) => ({ token: t as string, logprob: Math.log(p as number) })) },
      ],
    });
    plain = await startFaultServer({ reply: () => reply });
  });
  afterAll(async () => {
    await server?.close();
    await plain?.close();
  });

  it("asks for top_logprobs 20 and gives each judgment score_distribution and score_expected", async () => {
    const backend = createOpenAIBackend({ model: "judge", baseURL: server.baseURL, logprobs: true });
    const grader = resolveGrader({ template: "prometheus", rubric: "helpfulness" });
    const out = [];
    for await (const j of judgeStream([{ index: 0, record: { instruction: "q", response: "r" } }], { backend, grader })) out.push(j);
    expect(server.requests[0]!.body).toMatchObject({ logprobs: true, top_logprobs: 20 });
    expect(out[0]).toMatchObject({ score: 4, score_expected: 3.8 });
    expect(out[0]!.score_distribution).toEqual({ "1": 0, "2": 0, "3": 0.3, "4": 0.6, "5": 0.1 });
  });

  it("with --samples K the distribution is the mean of the K distributions", async () => {
    // Seeds 0, 1000, 2000: P(4) = 0.6, 0.2, 0.4 against P(3).
    const p4 = [0.6, 0.2, 0.4];
    const varying = await startFaultServer({
      reply: () => "Feedback: ok. [RESULT] 4",
      logprobs: (body, text) => {
        const p = p4[Number(body.seed ?? 0) / 1000]!;
        return [{ token: text.slice(0, -2), logprob: 0, top_logprobs: [] }, { token: " 4", logprob: Math.log(p), top_logprobs: [{ token: " 4", logprob: Math.log(p) }, { token: " 3", logprob: Math.log(1 - p) }] }];
      },
    });
    try {
      const backend = createOpenAIBackend({ model: "judge", baseURL: varying.baseURL, logprobs: true });
      const grader = resolveGrader({ template: "prometheus", rubric: "helpfulness" });
      const out = [];
      for await (const j of judgeStream([{ index: 0, record: { instruction: "q", response: "r" } }], { backend, grader, samples: 3, params: { temperature: 1 } })) out.push(j);
      const d = out[0]!.score_distribution!;
      expect(d["4"]).toBeCloseTo(0.4, 6);
      expect(d["3"]).toBeCloseTo(0.6, 6);
      expect(out[0]!.score_expected).toBeCloseTo(3.4, 4);
      expect(out[0]!.judge.samples.map((s) => s.distribution!["4"])).toEqual(p4.map((p) => expect.closeTo(p, 9)));
    } finally {
      await varying.close();
    }
  });

  it("a server that returns none: judged as usual, no distribution, and the reason counted once", async () => {
    const backend = createOpenAIBackend({ model: "judge", baseURL: plain.baseURL, logprobs: true });
    const grader = resolveGrader({ template: "prometheus", rubric: "helpfulness" });
    const stats = (await import("../judge/engine.js")).emptyStats();
    const out = [];
    for await (const j of judgeStream([0, 1].map((i) => ({ index: i, record: { instruction: `q${i}`, response: "r" } })), { backend, grader, stats })) out.push(j);
    expect(out.map((j) => j.score)).toEqual([4, 4]);
    expect(out.every((j) => j.score_distribution === undefined)).toBe(true);
    expect(stats).toMatchObject({ withoutDistribution: 2, distributionNote: expect.stringMatching(/no logprobs/) });
  });
});

describe("--swap auto", () => {
  it("grades the second order only where the judge is unsure, and counts the calls it saved", async () => {
    // "sure" pairs: P(A) 0.97 in the shown order; "unsure" ones 0.6. The judge prefers whatever is shown first.
    const server = await startFaultServer({
      reply: () => "Feedback: first is better. [RESULT] A",
      logprobs: (body, text) => {
        const sure = JSON.stringify(body).includes("sure-") && !JSON.stringify(body).includes("unsure-");
        const p = sure ? 0.97 : 0.6;
        return [{ token: text.slice(0, -2), logprob: 0, top_logprobs: [] }, { token: " A", logprob: Math.log(p), top_logprobs: [{ token: " A", logprob: Math.log(p) }, { token: " B", logprob: Math.log(1 - p) }] }];
      },
    });
    try {
      const backend = createOpenAIBackend({ model: "judge", baseURL: server.baseURL, logprobs: true });
      const grader = resolveGrader({ mode: "pairwise", rubric: "helpfulness" });
      const records = ["sure-1", "sure-2", "sure-3", "unsure-1"].map((id, index) => ({ index, record: { instruction: id, response_a: "x", response_b: "y" } }));
      const { emptyStats } = await import("../judge/engine.js");
      const stats = emptyStats();
      const out = [];
      for await (const j of judgeStream(records, { backend, grader, swap: "auto", stats })) out.push(j);
      expect(server.count).toBe(3 + 2);
      expect(stats).toMatchObject({ swapSkipped: 3, swapPairs: 1 });
      expect(out[0]!.judge.samples[0]!.swapSkipped).toEqual({ confidence: 0.97 });
      expect(out[0]!.winner).toBe("A");
      // Unsure: graded both ways; the judge picked the first shown both times, so it is a tie.
      expect(out[3]!.winner).toBe("tie");
      expect(out[3]!.judge.samples[0]!.swap).toMatchObject({ consistent: false });
    } finally {
      await server.close();
    }
  });
});
