import OpenAI from "openai";
import { ensureTinyModel, TINY_MODEL_THREADS } from "../gguf/tiny-model.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbeddedBackend, type EmbeddedBackend } from "../backends/embedded.js";
import { startServer, type RunningServer } from "./start.js";
import { createOpenAIBackend } from "../backends/openai.js";
import { judgeRecords } from "../judge/judge.js";
import { emptyStats, judgeStream } from "../judge/engine.js";
import { resolveGrader } from "../judge/grader.js";

const tinyModelPath = (): Promise<string> => ensureTinyModel();

const API_KEY = "test-key-123";
const MODEL = "tiny-judge";
const messages = [
  { role: "system" as const, content: "You are a fair judge." },
  { role: "user" as const, content: "Grade this answer: Paris is the capital of France." },
];

describe("OpenAI-compatible server over the embedded backend", () => {
  let backend: EmbeddedBackend;
  let server: RunningServer;
  let client: OpenAI;

  beforeAll(async () => {
    backend = await createEmbeddedBackend({ modelPath: await tinyModelPath(), parallel: 2, contextSize: 512, gpu: false, threads: TINY_MODEL_THREADS });
    server = await startServer({ backend, modelName: MODEL, apiKey: API_KEY, host: "127.0.0.1", port: 0 });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: API_KEY, maxRetries: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await backend?.dispose();
  });

  it("listens on 127.0.0.1 with a real port", () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.port).toBeGreaterThan(0);
  });

  it("answers /health without a key", async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", model: MODEL, backend: "embedded", concurrency: 2 });
  });

  it("lists its model", async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toEqual([MODEL]);
    expect((await client.models.retrieve(MODEL)).id).toBe(MODEL);
    await expect(client.models.retrieve("other")).rejects.toMatchObject({ status: 404 });
  });

  it("completes a chat with the backend's text and usage", async () => {
    const completion = await client.chat.completions.create({ model: MODEL, messages, temperature: 0, max_tokens: 8 });
    expect(completion.object).toBe("chat.completion");
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.model).toBe(MODEL);
    expect(completion.choices).toHaveLength(1);
    const choice = completion.choices[0]!;
    expect(choice.message.role).toBe("assistant");
    expect(choice.finish_reason).toBe("length");

    // The server must pass the request through unchanged: the same greedy request on the backend gives the same text.
    const direct = await backend.generate({ messages, params: { temperature: 0, maxTokens: 8 } });
    expect(choice.message.content).toBe(direct.text);
    expect(completion.usage).toEqual({
      prompt_tokens: direct.usage.promptTokens,
      completion_tokens: 8,
      total_tokens: direct.usage.promptTokens + 8,
    });
  });

  it("reads the developer role and text-part arrays like system and string content", async () => {
    const asParts = await client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: "developer", content: "You are a fair judge." },
        { role: "user", content: [{ type: "text", text: "Grade this answer: " }, { type: "text", text: "Paris is the capital of France." }] },
      ],
      temperature: 0,
      max_tokens: 8,
    });
    const plain = await client.chat.completions.create({ model: MODEL, messages, temperature: 0, max_tokens: 8 });
    expect(asParts.choices[0]!.message.content).toBe(plain.choices[0]!.message.content);
  });

  it("honours max_completion_tokens, seed and top_p", async () => {
    const ask = (seed: number) =>
      client.chat.completions.create({ model: MODEL, messages, temperature: 1, top_p: 0.9, seed, max_completion_tokens: 10 });
    const [a, b, c] = [await ask(7), await ask(7), await ask(8)];
    expect(a.usage?.completion_tokens).toBe(10);
    expect(b.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    expect(c.choices[0]!.message.content).not.toBe(a.choices[0]!.message.content);
  });

  it("accepts llama.cpp's grammar field and OpenAI's stop", async () => {
    const body = { model: MODEL, messages, temperature: 1, seed: 3, max_tokens: 30, grammar: 'root ::= "Score: " [1-5] " END more"' };
    const graded = await client.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(graded.choices[0]!.message.content).toMatch(/^Score: [1-5] END more$/);
    const stopped = await client.chat.completions.create({ ...body, stop: [" END"] } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(stopped.choices[0]!.message.content).toMatch(/^Score: [1-5]$/);
    expect(stopped.choices[0]!.finish_reason).toBe("stop");
  });

  it("constrains output with response_format json_schema", async () => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages,
      temperature: 1,
      seed: 5,
      max_tokens: 40,
      response_format: { type: "json_schema", json_schema: { name: "grade", schema: { type: "object", properties: { score: { enum: [1, 2, 3, 4, 5] } } } } },
    });
    expect([1, 2, 3, 4, 5]).toContain((JSON.parse(completion.choices[0]!.message.content!) as { score: number }).score);
  });

  it("returns n choices, different under one seed", async () => {
    const completion = await client.chat.completions.create({ model: MODEL, messages, temperature: 1, seed: 21, n: 3, max_tokens: 6 });
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(completion.choices.map((c) => c.message.content)).size).toBeGreaterThan(1);
    expect(completion.usage?.completion_tokens).toBe(18);
  });

  it("streams SSE chunks that the SDK reassembles, with usage and [DONE]", async () => {
    const plain = await client.chat.completions.create({ model: MODEL, messages, temperature: 0, max_tokens: 12 });
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages,
      temperature: 0,
      max_tokens: 12,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    let contentChunks = 0;
    const ids = new Set<string>();
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      ids.add(chunk.id);
      for (const choice of chunk.choices) {
        if (choice.delta.content) contentChunks++;
        text += choice.delta.content ?? "";
        finish = choice.finish_reason ?? finish;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(ids.size).toBe(1);
    // Tokens arrive as they are generated, not as one chunk at the end.
    expect(contentChunks).toBeGreaterThan(3);
    expect(text).toBe(plain.choices[0]!.message.content);
    expect(finish).toBe("length");
    expect(usage).toEqual(plain.usage);

    const raw = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ messages, max_tokens: 2, stream: true }),
    });
    expect(raw.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect((await raw.text()).trimEnd().endsWith("data: [DONE]")).toBe(true);

    // A failure after the stream has begun arrives as an error event, then [DONE].
    const bad = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ messages, max_tokens: 2, stream: true, grammar: "root ::= (" }),
    });
    const events = (await bad.text()).split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6));
    expect(events.at(-1)).toBe("[DONE]");
    expect(JSON.parse(events.at(-2)!)).toMatchObject({ error: { type: "invalid_request_error", message: expect.stringMatching(/invalid GBNF grammar/) } });
  });

  it("queues requests beyond the backend's parallel sequences", async () => {
    const asks = Array.from({ length: 5 }, (_, i) =>
      client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: `Record ${i}` }], temperature: 0.5, seed: i, max_tokens: 8 }),
    );
    const results = await Promise.all(asks);
    expect(results.every((r) => r.usage?.completion_tokens === 8)).toBe(true);
  });

  it("rejects a wrong or missing key with 401 in OpenAI's error format", async () => {
    const wrong = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "wrong-key", maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(wrong.chat.completions.create({ model: MODEL, messages })).rejects.toMatchObject({ status: 401 });

    const missing = await fetch(`${server.url}/v1/models`);
    expect(missing.status).toBe(401);
    const body = (await missing.json()) as { error: Record<string, unknown> };
    expect(body.error).toEqual({ message: expect.stringContaining("Missing API key"), type: "authentication_error", param: null, code: "invalid_api_key" });
    const prefix = await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${API_KEY}x` } });
    expect(prefix.status).toBe(401);
  });

  it("answers logprobs with top_logprobs from the model's own token probabilities", async () => {
    const completion = await client.chat.completions.create({ model: MODEL, messages, temperature: 0, max_tokens: 8, logprobs: true, top_logprobs: 3 });
    const choice = completion.choices[0]!;
    const content = choice.logprobs!.content!;
    expect(content.length).toBeGreaterThan(0);
    // The tokens make up the text, as OpenAI's do.
    expect(content.map((t) => t.token).join("")).toBe(choice.message.content);
    for (const t of content) {
      expect(t.logprob).toBeLessThanOrEqual(0);
      expect(t.bytes).toEqual([...Buffer.from(t.token, "utf8")]);
      expect(t.top_logprobs).toHaveLength(3);
      const top = t.top_logprobs.map((a) => a.logprob);
      expect([...top].sort((a, b) => b - a)).toEqual(top);
      expect(top.reduce((sum, l) => sum + Math.exp(l), 0)).toBeLessThanOrEqual(1 + 1e-6);
      // Greedy decoding took the most likely token at every position.
      expect(t.top_logprobs[0]).toEqual({ token: t.token, logprob: t.logprob, bytes: t.bytes });
    }
    // Without logprobs the field is null, as before.
    const plain = await client.chat.completions.create({ model: MODEL, messages, temperature: 0, max_tokens: 4 });
    expect(plain.choices[0]!.logprobs).toBeNull();
  });

  it("rejects bad bodies with 400 naming the parameter", async () => {
    const post = (body: string) =>
      fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
        body,
      });
    const notJson = await post("{ not json");
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { type: string; code: string } }).error).toMatchObject({ type: "invalid_request_error", code: "invalid_json" });

    const noMessages = await post(JSON.stringify({ model: MODEL }));
    expect(noMessages.status).toBe(400);
    expect(((await noMessages.json()) as { error: { param: string } }).error.param).toBe("messages");

    const badRole = await post(JSON.stringify({ model: MODEL, messages: [{ role: "tool", content: "x" }] }));
    expect(((await badRole.json()) as { error: { param: string; message: string } }).error).toMatchObject({ param: "messages.0.role" });

    await expect(client.chat.completions.create({ model: MODEL, messages, temperature: 7 })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(client.chat.completions.create({ model: MODEL, messages: [] })).rejects.toMatchObject({ status: 400 });

    const tools = await post(JSON.stringify({ messages, tools: [{ type: "function", function: { name: "f" } }] }));
    expect(((await tools.json()) as { error: { param: string; message: string } }).error).toMatchObject({ param: "tools", message: "tools: tools are not supported by this server" });
    const streamedLogprobs = await post(JSON.stringify({ messages, logprobs: true, stream: true }));
    expect(streamedLogprobs.status).toBe(400);
    expect(((await streamedLogprobs.json()) as { error: { param: string } }).error.param).toBe("logprobs");
    const topWithout = await post(JSON.stringify({ messages, top_logprobs: 3 }));
    expect(((await topWithout.json()) as { error: { param: string; message: string } }).error).toMatchObject({ param: "top_logprobs", message: "top_logprobs: top_logprobs needs logprobs: true" });

    const badGrammar = await post(JSON.stringify({ messages, grammar: "root ::= nothing-here" }));
    expect(badGrammar.status).toBe(400);
    expect(((await badGrammar.json()) as { error: { message: string } }).error.message).toMatch(/invalid GBNF grammar/);
  });

  it("answers unknown routes with 404 in OpenAI's error format", async () => {
    const res = await fetch(`${server.url}/v1/completions-nope`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { message: "Unknown route: GET /v1/completions-nope", type: "invalid_request_error", param: null, code: "not_found" },
    });
  });
});

describe("server without an API key", () => {
  it("serves anyone, and close() frees the port", async () => {
    const backend = await createEmbeddedBackend({ modelPath: await tinyModelPath(), parallel: 1, contextSize: 256, gpu: false, threads: TINY_MODEL_THREADS });
    const server = await startServer({ backend, modelName: MODEL, port: 0 });
    try {
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "anything", maxRetries: 0 });
      const completion = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 3, temperature: 0 });
      expect(completion.usage?.completion_tokens).toBe(3);
    } finally {
      await server.close();
      await backend.dispose();
    }
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
  });
});

describe("client disconnects", () => {
  it("drop a queued request and stop a running generation", async () => {
    const backend = await createEmbeddedBackend({ modelPath: await tinyModelPath(), parallel: 1, contextSize: 4096, gpu: false, threads: TINY_MODEL_THREADS });
    const server = await startServer({ backend, modelName: MODEL, port: 0 });
    const post = (signal: AbortSignal) =>
      fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messages, max_tokens: 4000, temperature: 0 }),
        signal,
      });
    const waitFor = async (condition: () => boolean) => {
      for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
      return condition();
    };
    try {
      const running = new AbortController();
      const queued = new AbortController();
      const first = post(running.signal).catch((e: unknown) => e);
      expect(await waitFor(() => backend.busy === 1)).toBe(true);
      const second = post(queued.signal).catch((e: unknown) => e);
      expect(await waitFor(() => backend.queued === 1)).toBe(true);

      queued.abort();
      expect(await waitFor(() => backend.queued === 0)).toBe(true);
      expect(backend.busy).toBe(1);
      running.abort();
      expect(await waitFor(() => backend.busy === 0)).toBe(true);
      expect(await first).toBeInstanceOf(Error);
      expect(await second).toBeInstanceOf(Error);
    } finally {
      await server.close();
      await backend.dispose();
    }
  });
});

describe("grammar over HTTP: the OpenAI backend with sendGrammar against critic serve", () => {
  it("makes every judgment parse, where unconstrained output from the random model does not", async () => {
    const backend = await createEmbeddedBackend({ modelPath: await tinyModelPath(), parallel: 2, contextSize: 1024, gpu: false, threads: TINY_MODEL_THREADS });
    const server = await startServer({ backend, modelName: MODEL, port: 0 });
    const records = [
      { instruction: "What is 2 + 2?", response: "4" },
      { instruction: "Name a primary colour.", response: "Blue." },
      { instruction: "Capital of Italy?", response: "Rome." },
    ];
    const run = async (sendGrammar: boolean) => {
      const client = createOpenAIBackend({ model: MODEL, baseURL: `${server.url}/v1`, sendGrammar });
      const out = [];
      for await (const j of judgeRecords(records, { model: client, rubric: "helpfulness", maxRetries: 0, params: { maxTokens: 48 } })) out.push(j);
      return out;
    };
    try {
      const constrained = await run(true);
      expect(constrained.map((j) => j.error)).toEqual([undefined, undefined, undefined]);
      for (const j of constrained) {
        expect([1, 2, 3, 4, 5]).toContain(j.score);
        expect(j.judge.raw).toMatch(/ \[RESULT\] [1-5]$/);
      }
      const free = await run(false);
      expect(free.every((j) => j.score === null && typeof j.error === "string")).toBe(true);
    } finally {
      await server.close();
      await backend.dispose();
    }
  });
});

describe("judge --logprobs against critic serve", () => {
  it("judges every record with verdict probabilities read from the served logprobs (no 400, no abort)", async () => {
    const backend = await createEmbeddedBackend({ modelPath: await tinyModelPath(), parallel: 1, contextSize: 1024, gpu: false, threads: TINY_MODEL_THREADS });
    const server = await startServer({ backend, modelName: MODEL, port: 0 });
    const records = [
      { instruction: "What is 2 + 2?", response: "4" },
      { instruction: "Capital of Italy?", response: "Rome." },
    ];
    try {
      const client = createOpenAIBackend({ model: MODEL, baseURL: `${server.url}/v1`, sendGrammar: true, logprobs: true, onWarning: (m) => { throw new Error(`unexpected warning: ${m}`); } });
      const stats = emptyStats();
      const served = [];
      for await (const j of judgeStream(records.map((record, index) => ({ index, record })), { backend: client, grader: resolveGrader({ rubric: "helpfulness", maxTokens: 48 }), stats, maxRetries: 0, params: { maxTokens: 48 } })) served.push(j);
      const direct = [];
      for await (const j of judgeRecords(records, { model: backend, rubric: "helpfulness", maxRetries: 0, params: { maxTokens: 48 } })) direct.push(j);
      expect(stats).toMatchObject({ judged: 2, failed: 0, backendErrors: 0 });
      for (const [i, j] of served.entries()) {
        expect(j.error).toBeUndefined();
        // The same output as the embedded backend gives.
        expect(j.judge.raw).toBe(direct[i]!.judge.raw);
      }
      // The random tiny model puts the verdict digits outside the top 20 raw tokens at times; where a
      // digit is there, the distribution is read from it, else the judgment says why there is none.
      for (const j of served) {
        if (j.score_distribution) {
          expect(Object.values(j.score_distribution).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
          expect(j.score_distribution[String(j.score)]).toBeGreaterThan(0);
        }
      }
      expect(stats.withoutDistribution + served.filter((j) => j.score_distribution).length).toBe(2);
      if (stats.withoutDistribution > 0) expect(stats.distributionNote).toMatch(/top alternatives/);
    } finally {
      await server.close();
      await backend.dispose();
    }
  });
});
