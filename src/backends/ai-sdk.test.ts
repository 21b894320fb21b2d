// AI SDK language models as critic judges: the official provider packages (@ai-sdk/anthropic,
// @ai-sdk/google) run unchanged against a local server speaking Anthropic's and Gemini's wire formats.
// No run store and no embedded model here, so this file also runs under Node 22 (.ci/run).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAnthropic } from "@ai-sdk/anthropic";
import { createGoogleGenerativeAI } from "@ai-sdk/google";
import { createOpenAI } from "@ai-sdk/openai";
import { experimental_decide } from "ai";
import { judgeRecords, openBackend, parseModelSpec, requestRetriesOf, type Judgment } from "../index.js";
import { criticDecisionModel } from "../ai-sdk/index.js";
import { createAiSdkBackend } from "./ai-sdk.js";
import { startProviderServer, type ProviderServer } from "../../test/support/provider-server.js";
import { startFaultServer } from "../../test/support/fault-server.js";

const KEY = "sk-ant-test-secret-key-0123456789";
const RECORDS = [
  { instruction: "What is 2+2?", response: "4", criteria: "Is it correct?", score1_description: "Wrong.", score2_description: "Mostly wrong.", score3_description: "Partly right.", score4_description: "Right.", score5_description: "Right and clear." },
  { instruction: "Name a prime.", response: "9", criteria: "Is it correct?", score1_description: "Wrong.", score2_description: "Mostly wrong.", score3_description: "Partly right.", score4_description: "Right.", score5_description: "Right and clear." },
];

async function all(judgments: AsyncIterable<Judgment>): Promise<Judgment[]> {
  const out: Judgment[] = [];
  for await (const j of judgments) out.push(j);
  return out;
}

/** The verdict the server answered for a judgment's prompt. */
function answered(server: ProviderServer, judgment: Judgment): number {
  const request = server.requests.find((r) => r.answer !== undefined && r.answer === judgment.judge.raw);
  return Number(/\[RESULT\] (\d)$/.exec(request!.answer!)![1]);
}

describe("AI SDK language models as judges (local Anthropic and Gemini wire-format server)", () => {
  let server: ProviderServer;
  beforeAll(async () => {
    server = await startProviderServer();
  });
  afterAll(async () => server?.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  it("judges records with an Anthropic model object, as the Messages API is called", async () => {
    const model = createAnthropic({ baseURL: server.anthropicURL, apiKey: KEY })("claude-haiku-4-5");
    const judgments = await all(judgeRecords(RECORDS, { model, params: { maxTokens: 300 } }));
    expect(judgments).toHaveLength(2);
    for (const j of judgments) {
      expect(j.error).toBeUndefined();
      expect(j.score).toBe(answered(server, j));
      expect(j.judge.backend).toBe("ai-sdk");
      expect(j.judge.model).toBe("anthropic.messages:claude-haiku-4-5");
      expect(j.judge.tokens.prompt).toBeGreaterThan(0);
    }
    const request = server.requests[0]!;
    expect(request.wire).toBe("anthropic");
    expect(request.headers["x-api-key"]).toBe(KEY);
    expect(request.body).toMatchObject({ model: "claude-haiku-4-5", max_tokens: 300, temperature: 0 });
    expect(JSON.stringify(request.body.system)).toContain("You are a fair judge assistant");
    expect(JSON.stringify(judgments)).not.toContain(KEY);
  });

  it("judges with a Gemini model object through generateContent", async () => {
    const model = createGoogleGenerativeAI({ baseURL: server.geminiURL, apiKey: KEY })("gemini-test");
    const [j] = await all(judgeRecords(RECORDS.slice(0, 1), { model }));
    expect(j!.error).toBeUndefined();
    expect(j!.score).toBe(answered(server, j!));
    expect(j!.judge.model).toBe("google.generative-ai:gemini-test");
    expect(server.requests[0]!.path).toBe("/v1beta/models/gemini-test:generateContent");
    expect(server.requests[0]!.headers["x-goog-api-key"]).toBe(KEY);
  });

  it("makes a jury of models from different providers", async () => {
    const jurors = [createAnthropic({ baseURL: server.anthropicURL, apiKey: KEY })("claude-haiku-4-5"), createGoogleGenerativeAI({ baseURL: server.geminiURL, apiKey: KEY })("gemini-test")];
    const [j] = await all(judgeRecords(RECORDS.slice(0, 1), { model: jurors, onWarning: () => {} }));
    expect(j!.judge.jury!.jurors.map((r) => r.model)).toEqual(["anthropic.messages:claude-haiku-4-5", "google.generative-ai:gemini-test"]);
    const scores = j!.judge.jury!.jurors.map((r) => r.score!);
    expect(j!.score).toBeCloseTo((scores[0]! + scores[1]!) / 2, 6);
    // Each juror keeps its own calls' warnings: @ai-sdk/anthropic warns about the seed, Gemini takes it.
    expect(j!.judge.jury!.jurors.map((r) => r.warnings)).toEqual([["seed is not supported"], undefined]);
  });

  it("retries a 429 after the server's retry-after and records a 400 as the item's error, without the key", async () => {
    const backend = createAiSdkBackend({ model: createAnthropic({ baseURL: server.anthropicURL, apiKey: KEY })("claude-haiku-4-5"), maxRetries: 2 });
    server.failNext([{ status: 429, retryAfter: 0 }]);
    const [ok] = await all(judgeRecords(RECORDS.slice(0, 1), { model: backend }));
    expect(ok!.error).toBeUndefined();
    expect(requestRetriesOf(backend)).toBe(1);
    server.failNext([{ status: 400, message: "max_tokens: too large" }]);
    const [bad] = await all(judgeRecords(RECORDS.slice(1, 2), { model: backend, maxRetries: 0 }));
    expect(bad!.score).toBeNull();
    expect(bad!.error).toMatch(/^backend error: anthropic\.messages \(claude-haiku-4-5\): HTTP 400: max_tokens: too large/);
    expect(JSON.stringify(bad)).not.toContain(KEY);
  });

  it("opens --model anthropic:<id> and google:<id> through their packages, keys from the environment", async () => {
    expect(parseModelSpec("bedrock:anthropic.claude-3-5-sonnet-20241022-v2:0")).toEqual({ kind: "ai-sdk", provider: "bedrock", model: "anthropic.claude-3-5-sonnet-20241022-v2:0" });
    const saved = { a: process.env.ANTHROPIC_API_KEY, g: process.env.GOOGLE_GENERATIVE_AI_API_KEY };
    process.env.ANTHROPIC_API_KEY = KEY;
    process.env.GOOGLE_GENERATIVE_AI_API_KEY = KEY;
    try {
      for (const [spec, baseURL] of [["anthropic:claude-sonnet-4-5", server.anthropicURL], ["google:gemini-test-2", server.geminiURL]] as const) {
        const backend = await openBackend(spec, { baseURL });
        const [j] = await all(judgeRecords(RECORDS.slice(0, 1), { model: backend }));
        expect(j!.score).toBe(answered(server, j!));
        await backend.dispose();
      }
      expect(server.requests.map((r) => r.headers["x-api-key"] ?? r.headers["x-goog-api-key"])).toEqual([KEY, KEY]);
    } finally {
      process.env.ANTHROPIC_API_KEY = saved.a;
      process.env.GOOGLE_GENERATIVE_AI_API_KEY = saved.g;
      if (saved.a === undefined) delete process.env.ANTHROPIC_API_KEY;
      if (saved.g === undefined) delete process.env.GOOGLE_GENERATIVE_AI_API_KEY;
    }
    // A provider whose package is not installed: what to install, not a stack trace.
    await expect(openBackend("mistral:mistral-large-latest")).rejects.toThrow("--model mistral:mistral-large-latest runs through the AI SDK provider package @ai-sdk/mistral, which is not installed: npm i @ai-sdk/mistral");
  });

  it("a missing key is an error that names the variable, for every record", async () => {
    const saved = process.env.ANTHROPIC_API_KEY;
    delete process.env.ANTHROPIC_API_KEY;
    try {
      const backend = await openBackend("anthropic:claude-haiku-4-5", { baseURL: server.anthropicURL, requestRetries: 0 });
      const [j] = await all(judgeRecords(RECORDS.slice(0, 1), { model: backend, maxRetries: 0 }));
      expect(j!.error).toMatch(/ANTHROPIC_API_KEY/);
      expect(server.requests).toHaveLength(0);
    } finally {
      if (saved !== undefined) process.env.ANTHROPIC_API_KEY = saved;
    }
  });

  it("critic's decision model judges with an AI SDK model, through experimental_decide", async () => {
    const model = criticDecisionModel(createAnthropic({ baseURL: server.anthropicURL, apiKey: KEY })("claude-haiku-4-5"), { store: false });
    const result = await experimental_decide({
      model,
      state: { instruction: "What is 2+2?", response: "4" },
      questions: { correct: { type: "score", instructions: "Is it correct?", criteria: ["Wrong.", "Mostly wrong.", "Partly right.", "Right.", "Right and clear."] } },
    });
    const answer = result.answers.correct!;
    if (answer.type !== "score") throw new Error(`expected a score, got ${answer.type}`);
    // No token probabilities from Anthropic: the level the judge wrote, and no invented distribution.
    expect(answer.probabilities).toBeUndefined();
    expect(answer.score).toBe(Number(/\[RESULT\] (\d)$/.exec(server.requests[0]!.answer!)![1]) - 1);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    await model.dispose();
  });

  it("logs each distinct provider call warning once per run and keeps each call's warnings on its judgment", async () => {
    const logged: string[] = [];
    const model = createAnthropic({ baseURL: server.anthropicURL, apiKey: KEY })("claude-haiku-4-5");
    // critic sends a seed (0 by default), which the Messages API does not take, and a temperature over
    // Anthropic's maximum: @ai-sdk/anthropic itself returns both as warnings, on every call.
    const judgments = await all(judgeRecords(RECORDS, { model, params: { temperature: 1.5 }, onWarning: (m) => logged.push(m) }));
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]!.body.temperature).toBe(1);
    const seed = "seed is not supported";
    const temperature = "temperature is not supported (1.5 exceeds anthropic maximum of 1.0. clamped to 1.0)";
    expect(logged).toEqual([`anthropic.messages (claude-haiku-4-5): ${seed}`, `anthropic.messages (claude-haiku-4-5): ${temperature}`]);
    for (const j of judgments) {
      expect(j.error).toBeUndefined();
      expect(j.judge.samples[0]!.warnings).toEqual([seed, temperature]);
    }
    // Gemini takes a seed: no warning, and no warnings field.
    const gemini = createGoogleGenerativeAI({ baseURL: server.geminiURL, apiKey: KEY })("gemini-test");
    const [g] = await all(judgeRecords(RECORDS.slice(0, 1), { model: gemini, onWarning: (m) => logged.push(m) }));
    expect(logged).toHaveLength(2);
    expect(g!.judge.samples[0]!.warnings).toBeUndefined();
  });

  it("the decision model returns the settings it ignores and its judge's call warnings in the AI SDK's warning shape", async () => {
    const model = criticDecisionModel(createAnthropic({ baseURL: server.anthropicURL, apiKey: KEY })("claude-haiku-4-5"), { store: false });
    const result = await experimental_decide({
      model,
      state: { instruction: "What is 2+2?", response: "4" },
      questions: {
        correct: { type: "score", instructions: "Is it correct?", criteria: ["Wrong.", "Mostly wrong.", "Partly right.", "Right.", "Right and clear."] },
        clear: { type: "score", instructions: "Is it clear?", criteria: ["Unclear.", "Muddled.", "Partly clear.", "Clear.", "Very clear."] },
      },
      reasoning: "high",
      headers: { "x-team": "evals" },
      providerOptions: { anthropic: { thinking: { type: "enabled", budgetTokens: 1024 } } },
    });
    expect(result.warnings).toEqual([
      { type: "unsupported", feature: "reasoning", details: 'critic renders each question with a judge template; reasoning "high" is not passed to the judge' },
      { type: "unsupported", feature: "headers", details: "not sent by critic's judge: x-team" },
      { type: "unsupported", feature: "providerOptions", details: "not passed to critic's judge: anthropic" },
      // Two questions, two calls, each warned about the seed by @ai-sdk/anthropic: one warning.
      { type: "other", message: "judge anthropic.messages:claude-haiku-4-5: seed is not supported" },
    ]);
    await model.dispose();
  });

  it("reads verdict probabilities from OpenAI logprobs asked for through providerOptions, for judgments and decisions", async () => {
    const openaiServer = await startFaultServer({
      reply: () => "Feedback: helpful. [RESULT] 4",
      logprobs: (_body, text) => [
        { token: text.slice(0, -2), logprob: 0, top_logprobs: [] },
        { token: " 4", logprob: Math.log(0.6), top_logprobs: [[" 4", 0.6], [" 3", 0.3], [" 5", 0.1]].map(([t, p]) => ({ token: t as string, logprob: Math.log(p as number) })) },
      ],
    });
    try {
      const model = createOpenAI({ baseURL: openaiServer.baseURL, apiKey: KEY }).chat("gpt-4o-mini");
      const [j] = await all(judgeRecords(RECORDS.slice(0, 1), { model, logprobs: true }));
      expect(openaiServer.requests[0]!.body).toMatchObject({ logprobs: true, top_logprobs: 20 });
      expect(j!.score_distribution).toEqual({ "1": 0, "2": 0, "3": 0.3, "4": 0.6, "5": 0.1 });
      // Without logprobs asked for, no distribution (and none invented).
      const [plain] = await all(judgeRecords(RECORDS.slice(0, 1), { model }));
      expect(plain!.score_distribution).toBeUndefined();
      // The decision model answers with the exact distribution, which experimental_decide checks.
      const decider = criticDecisionModel(model, { store: false, logprobs: true });
      const result = await experimental_decide({ model: decider, state: { instruction: "q", response: "r" }, questions: { q: { type: "score", instructions: "Helpful?", criteria: ["1", "2", "3", "4", "5"] } } });
      expect(result.answers.q).toEqual({ type: "score", score: 2 * 0.3 + 3 * 0.6 + 4 * 0.1, probabilities: { "0": 0, "1": 0, "2": 0.3, "3": 0.6, "4": 0.1 } });
    } finally {
      await openaiServer.close();
    }
  });
});
