// critic's scores where JS teams look: an autoevals/evalite scorer and OpenTelemetry evaluation events.
// The judge is an AI SDK Anthropic model on a local Messages-API server; no run store and no embedded
// model, so this file also runs under Node 22 (.ci/run).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAnthropic } from "@ai-sdk/anthropic";
import { trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { ExactMatch, Levenshtein, type Score, type Scorer } from "autoevals";
import { judgeRecords, type Judgment } from "../index.js";
import { criticEvaliteScorer, criticScorer, emitEvaluationEvent } from "./index.js";
import { startProviderServer, type ProviderServer } from "../../test/support/provider-server.js";

let server: ProviderServer;
const model = () => createAnthropic({ baseURL: server.anthropicURL, apiKey: "test-key" })("claude-haiku-4-5");

beforeAll(async () => {
  // The verdict is 2 or 5 by a word in the output judged; "broken" gets an answer that never parses.
  server = await startProviderServer((prompt) =>
    prompt.includes("broken") ? "I cannot grade this." : `Feedback: ${prompt.includes("Paris") ? "Correct and clear." : "Wrong city."} [RESULT] ${prompt.includes("Paris") ? 5 : 2}`,
  );
});
afterAll(async () => server?.close());

describe("criticScorer (autoevals shape) and criticEvaliteScorer (evalite createScorer options)", () => {
  it("puts the verdict on [0, 1] by the template's scale, with the feedback in the metadata", async () => {
    const scorer = criticScorer({ model: model(), store: false, maxRetries: 0 });
    const good = await scorer({ input: "Capital of France?", output: "Paris", expected: "Paris" });
    expect(good).toMatchObject({ name: "critic.prometheus-absolute", score: 1, metadata: { feedback: "Correct and clear.", rawScore: 5, scale: { min: 1, max: 5 }, template: "prometheus-absolute" } });
    const bad = await scorer({ input: "Capital of France?", output: "Lyon" });
    expect(bad.score).toBe(0.25);
    expect(server.requests.at(-1)!.prompt).not.toContain("###Reference Answer");
    // Output that never parses: no score, the reason, never a 0.
    const broken = await scorer({ input: "Capital of France?", output: "broken" });
    expect(broken.score).toBeNull();
    expect(broken.error).toMatch(/unparseable judge output/);
    const evalite = criticEvaliteScorer({ model: model(), store: false, maxRetries: 0, template: "criticon" });
    expect(evalite.name).toBe("critic.criticon");
    await expect(evalite.scorer({ input: "Capital of France?", output: "broken" })).rejects.toThrow(/critic judge gave no verdict: unparseable/);
    expect(() => criticScorer({ model: model(), template: "prometheus-pairwise" })).toThrow(/does not grade one output on a score scale/);
  });
});

describe("criticScorer with autoevals 0.3 itself", () => {
  it("is an autoevals Scorer (checked by tsc) and scores in the same loop as Levenshtein and ExactMatch, with the same result shape", async () => {
    // The assignment is the type test: `tsc -p tsconfig.json --noEmit` fails if criticScorer is not
    // assignable to autoevals' own Scorer type for string outputs with an input.
    const critic: Scorer<string, { input: string }> = criticScorer({ model: model(), store: false, maxRetries: 0 });
    const scorers: Array<Scorer<string, { input: string }>> = [critic, Levenshtein, ExactMatch];
    const cases = [
      { input: "Capital of France?", output: "Paris", expected: "Paris" },
      { input: "Capital of France?", output: "Lyon", expected: "Paris" },
    ];
    const results: Score[] = [];
    const verdicts: number[] = [];
    for (const c of cases) {
      for (const scorer of scorers) {
        results.push(await scorer(c));
        if (scorer === critic) verdicts.push(Number(/\[RESULT\] (\d)$/.exec(server.requests.at(-1)!.answer!)![1]));
      }
    }
    expect(results.map((r) => r.name)).toEqual(["critic.prometheus-absolute", "Levenshtein", "ExactMatch", "critic.prometheus-absolute", "Levenshtein", "ExactMatch"]);
    // critic: the judge's 1-5 verdict on [0, 1]; autoevals: its own string comparisons.
    expect([results[0]!.score, results[3]!.score]).toEqual(verdicts.map((v) => (v - 1) / 4));
    expect([results[1]!.score, results[2]!.score, results[5]!.score]).toEqual([1, 1, 0]);
    expect(results[4]!.score).toBeLessThan(1);
    // autoevals' own shape: name, score in [0, 1] or null, optional metadata object, nothing else required.
    for (const r of results) {
      expect(Object.keys(r).every((k) => ["name", "score", "metadata", "error"].includes(k))).toBe(true);
      expect(r.score === null || (r.score >= 0 && r.score <= 1)).toBe(true);
      if (r.metadata !== undefined) expect(typeof r.metadata).toBe("object");
    }
    expect(results[0]!.metadata).toMatchObject({ feedback: "Correct and clear.", rawScore: 5 });
  });
});

describe("OpenTelemetry gen_ai.evaluation.result events", () => {
  it("each judgment whose record names a span emits the event under that span, once a tracer provider is registered", async () => {
    const records = [
      { instruction: "Capital of France?", response: "Paris", trace_id: "0af7651916cd43dd8448eb211c80319c", span_id: "b7ad6b7169203331" },
      { instruction: "Capital of France?", response: "Lyon" },
    ];
    const judge = async (): Promise<Judgment[]> => {
      const out: Judgment[] = [];
      for await (const j of judgeRecords(records, { model: model(), rubric: "helpfulness" })) out.push(j);
      return out;
    };
    // No provider registered: nothing is recorded and nothing fails.
    const [first] = await judge();
    expect(await emitEvaluationEvent(first!)).toBe(false);

    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    try {
      await judge();
      const spans = exporter.getFinishedSpans();
      expect(spans).toHaveLength(1);
      const span = spans[0]!;
      expect(span.spanContext().traceId).toBe("0af7651916cd43dd8448eb211c80319c");
      expect(span.parentSpanContext?.spanId).toBe("b7ad6b7169203331");
      expect(span.events.map((e) => e.name)).toEqual(["gen_ai.evaluation.result"]);
      expect(span.events[0]!.attributes).toEqual({
        "gen_ai.evaluation.name": "critic.prometheus-absolute",
        "gen_ai.evaluation.score.value": 5,
        "gen_ai.evaluation.score.label": "5",
        "gen_ai.evaluation.explanation": "Correct and clear.",
      });
    } finally {
      trace.disable();
      await provider.shutdown();
    }
  });
});
