import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { defaultReply, startFaultServer, type FaultServer, type FaultServerOptions } from "../../test/support/fault-server.js";
import { createOpenAIBackend, type OpenAIBackendOptions } from "./openai.js";
import type { RetryInfo } from "./retry.js";
import { BackendError, type GenerateRequest } from "./types.js";

const SECRET = "sk-test-5f1c0ffee5ecret";

const request: GenerateRequest = {
  messages: [
    { role: "system", content: "You are a fair judge." },
    { role: "user", content: "Grade this answer: Paris is the capital of France." },
  ],
  params: { temperature: 0, topP: 0.9, maxTokens: 200, seed: 7, stop: ["###"] },
};

let server: FaultServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(serverOptions: FaultServerOptions, backendOptions: Partial<OpenAIBackendOptions> = {}) {
  server = await startFaultServer({ apiKey: SECRET, ...serverOptions });
  const retries: RetryInfo[] = [];
  const backend = createOpenAIBackend({
    model: "judge-model",
    baseURL: server.baseURL,
    apiKey: SECRET,
    retryBaseDelayMs: 5,
    onRetry: (info) => retries.push(info),
    ...backendOptions,
  });
  return { server, backend, retries };
}

async function failure(promise: Promise<unknown>): Promise<BackendError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BackendError);
    return error as BackendError;
  }
  throw new Error("expected the call to fail");
}

describe("openai backend", () => {
  it("sends the sampling params and returns text, usage and finish reason", async () => {
    const { server, backend, retries } = await setup({});
    const result = await backend.generate(request);
    expect(result.text).toBe(defaultReply("Grade this answer: Paris is the capital of France."));
    // The fault server counts whitespace words as tokens.
    expect(result.usage).toEqual({ promptTokens: 5 + 9, completionTokens: result.text.split(" ").length });
    expect(result.finishReason).toBe("stop");
    expect(retries).toEqual([]);
    const sent = server.requests[0];
    expect(sent?.path).toBe("/v1/chat/completions");
    expect(sent?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(sent?.body).toMatchObject({ model: "judge-model", temperature: 0, top_p: 0.9, max_tokens: 200, seed: 7, stop: ["###"] });
    expect(sent?.body.messages).toEqual(request.messages);
    expect(sent?.body).not.toHaveProperty("top_k");
    expect(backend).toMatchObject({ kind: "openai", model: "judge-model", baseURL: server.baseURL, concurrency: 16 });
  });

  it("sends top_k when asked and reports a cut-off answer as finish reason length", async () => {
    const { server, backend } = await setup({});
    const result = await backend.generate({ ...request, params: { maxTokens: 3, topK: 5 } });
    // top_k is sent only when asked for (llama.cpp and vLLM servers accept it).
    expect(server.requests[0]?.body.top_k).toBe(5);
    expect(result.finishReason).toBe("length");
    expect(result.usage.completionTokens).toBe(3);
    expect(result.text.split(" ")).toHaveLength(3);
  });

  it("waits at least the retry-after a 429 asks for, then succeeds", async () => {
    const { server, backend, retries } = await setup(
      { faults: [{ status: 429, retryAfter: 0.2 }, { status: 429, retryAfterMs: 150 }] },
      // A backoff this long would make the test time out if retry-after were ignored.
      { retryBaseDelayMs: 60_000 },
    );
    const started = performance.now();
    const result = await backend.generate(request);
    const elapsed = performance.now() - started;
    expect(result.text).toContain("[RESULT]");
    expect(server.count).toBe(3);
    expect(retries.map((r) => [r.attempt, r.status, r.delayMs])).toEqual([
      [1, 429, 200],
      [2, 429, 150],
    ]);
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(backend.retries).toBe(2);
  });

  it("honours a retry-after given as an HTTP date", async () => {
    // HTTP dates have whole-second resolution: ask for the start of the second after next.
    const target = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    const { backend, retries } = await setup({ faults: [{ status: 503, retryAfter: new Date(target).toUTCString() }] }, { retryBaseDelayMs: 60_000 });
    await backend.generate(request);
    expect(Date.now()).toBeGreaterThanOrEqual(target);
    expect(retries[0]?.status).toBe(503);
    expect(retries[0]?.delayMs).toBeGreaterThan(0);
  });

  it("retries server errors and dropped connections", async () => {
    const { server, backend, retries } = await setup({ faults: [{ status: 500 }, { drop: true }, { status: 502, message: "bad gateway" }] });
    const result = await backend.generate(request);
    expect(result.text).toContain("[RESULT]");
    expect(server.count).toBe(4);
    expect(retries.map((r) => r.status)).toEqual([500, undefined, 502]);
    expect(retries[1]?.error).toContain("connection failed");
    expect(retries[2]?.error).toContain("HTTP 502: bad gateway");
  });

  it("times out a hung request and a stalled body, and retries them", async () => {
    const { server, backend, retries } = await setup({ faults: [{ hang: true }, { stallBody: true }] }, { timeoutMs: 300 });
    const started = performance.now();
    const result = await backend.generate(request);
    expect(result.text).toContain("[RESULT]");
    expect(performance.now() - started).toBeGreaterThanOrEqual(600);
    expect(server.count).toBe(3);
    expect(retries).toHaveLength(2);
    expect(retries[0]?.error).toContain("no answer within 300 ms");
    expect(retries[1]?.error).toContain("no answer within 300 ms");
  });

  it("gives up after maxRetries with a retryable error", async () => {
    const { server, backend, retries } = await setup({ faults: () => ({ status: 503, message: "overloaded" }) }, { maxRetries: 2 });
    const error = await failure(backend.generate(request));
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(503);
    expect(error.message).toContain("overloaded");
    expect(server.count).toBe(3);
    expect(retries).toHaveLength(2);
  });

  it.each([
    [400, "max_tokens is too large"],
    [404, "The model `judge-model` does not exist"],
  ])("fails at once on %i, naming status and server message", async (status, message) => {
    const { server, backend, retries } = await setup({ faults: [{ status, message }] });
    const error = await failure(backend.generate(request));
    expect(error.retryable).toBe(false);
    expect(error.status).toBe(status);
    expect(error.message).toContain(`HTTP ${status}: ${message}`);
    expect(error.message).toContain("judge-model");
    expect(server.count).toBe(1);
    expect(retries).toEqual([]);
  });

  it("fails at once on a wrong key and never shows a key", async () => {
    const wrongKey = "sk-wrong-9a8b7c6d5e";
    // A server that echoes the key it got, as some proxies do.
    const { server, backend, retries } = await setup(
      { faults: (_i, body) => ({ status: 401, message: `Incorrect API key provided: ${wrongKey} for ${body.model}` }) },
      { apiKey: wrongKey },
    );
    const error = await failure(backend.generate(request));
    expect(error.retryable).toBe(false);
    expect(error.status).toBe(401);
    expect(error.message).toContain("HTTP 401: Incorrect API key provided: [redacted] for judge-model");
    expect(error.message).not.toContain(wrongKey);
    expect(error.message).not.toContain(SECRET);
    expect(String(error.stack)).not.toContain(wrongKey);
    expect(server.count).toBe(1);
    expect(retries).toEqual([]);
  });

  it("gets a 401 from a server that checks the key", async () => {
    const { server, backend } = await setup({}, { apiKey: "sk-not-the-right-one" });
    const error = await failure(backend.generate(request));
    expect(error.status).toBe(401);
    expect(error.retryable).toBe(false);
    expect(error.message).not.toContain("sk-not-the-right-one");
    expect(server.count).toBe(1);
  });

  it("reads the key from OPENAI_API_KEY", async () => {
    server = await startFaultServer({ apiKey: SECRET });
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = SECRET;
    try {
      const backend = createOpenAIBackend({ model: "m", baseURL: server.baseURL });
      await backend.generate(request);
      expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${SECRET}`);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });

  it("retries a refused connection, then fails with a message naming it", async () => {
    const closed = await startFaultServer();
    const baseURL = closed.baseURL;
    await closed.close();
    const retries: RetryInfo[] = [];
    const backend = createOpenAIBackend({ model: "m", baseURL, apiKey: SECRET, maxRetries: 1, retryBaseDelayMs: 5, onRetry: (r) => retries.push(r) });
    const error = await failure(backend.generate(request));
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/connection failed: .*ECONNREFUSED/);
    expect(error.message).not.toContain(SECRET);
    expect(retries).toHaveLength(1);
  });

  it("stops when the caller aborts, without retrying", async () => {
    const { backend, retries } = await setup({ faults: [{ hang: true }] });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await failure(backend.generate({ ...request, signal: controller.signal }));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("aborted");
    expect(retries).toEqual([]);
  });

  it("exposes the concurrency it was given and checks its options", async () => {
    expect(createOpenAIBackend({ model: "m", baseURL: "http://127.0.0.1:1/v1", concurrency: 3 }).concurrency).toBe(3);
    expect(() => createOpenAIBackend({ model: "m", baseURL: "http://127.0.0.1:1/v1", concurrency: 0 })).toThrow("concurrency");
    expect(() => createOpenAIBackend({ model: " ", baseURL: "http://127.0.0.1:1/v1" })).toThrow("model name is empty");
  });

  it("serves /v1/models to the official client", async () => {
    server = await startFaultServer({ model: "listed-model" });
    const client = new OpenAI({ apiKey: "sk-no-key", baseURL: server.baseURL });
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["listed-model"]);
  });
});

describe("a server that refuses logprobs", () => {
  it("drops them for that server after its first 400, warns once, and goes on without verdict probabilities", async () => {
    const warnings: string[] = [];
    const { server, backend } = await setup(
      { faults: (_i, body) => (body.logprobs === true ? { status: 400, message: "logprobs are not supported by this server" } : undefined) },
      { logprobs: true, concurrency: 1, onWarning: (message) => warnings.push(message) },
    );
    const verdict = { candidates: ["1", "2", "3", "4", "5"] };
    const first = await backend.generate({ ...request, verdict });
    const second = await backend.generate({ ...request, verdict });
    expect(first.text).toMatch(/\[RESULT\] \d$/);
    expect(first.distribution).toBeUndefined();
    expect(first.distributionError).toMatch(/refused logprobs.*logprobs are not supported by this server/);
    expect(second.distributionError).toBe(first.distributionError);
    // One refused request, then only requests without logprobs.
    expect(server.requests.map((r) => r.body.logprobs === true)).toEqual([true, false, false]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/refused logprobs .*goes on without/);
  });

  it("a 400 about something else is still an error", async () => {
    const { backend } = await setup({ faults: [{ status: 400, message: "max_tokens is too large" }] }, { logprobs: true, onWarning: () => {} });
    const error = await failure(backend.generate({ ...request, verdict: { candidates: ["1", "2"] } }));
    expect(error.message).toMatch(/HTTP 400: max_tokens is too large/);
  });
});
