import { afterEach, describe, expect, it } from "vitest";
import { defaultReply, startFaultServer, type FaultServer, type FaultServerOptions } from "../../test/support/fault-server.js";
import { createOllamaBackend, type OllamaBackendOptions } from "./ollama.js";
import type { RetryInfo } from "./retry.js";
import { BackendError, type GenerateRequest } from "./types.js";

const request: GenerateRequest = {
  messages: [
    { role: "system", content: "You are a fair judge." },
    { role: "user", content: "Grade this answer: water boils at 100 C at sea level." },
  ],
  params: { temperature: 0.2, topP: 0.9, topK: 40, maxTokens: 256, seed: 11, stop: ["</s>"] },
};

const scoreSchema = {
  type: "object",
  properties: { feedback: { type: "string" }, score: { type: "integer", minimum: 1, maximum: 5 } },
  required: ["feedback", "score"],
};

let server: FaultServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(serverOptions: FaultServerOptions, backendOptions: Partial<OllamaBackendOptions> = {}) {
  server = await startFaultServer(serverOptions);
  const retries: RetryInfo[] = [];
  const backend = createOllamaBackend({
    model: "prometheus:7b",
    host: server.url,
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

describe("ollama backend", () => {
  it("maps sampling params to Ollama options and returns text and usage", async () => {
    const { server, backend, retries } = await setup({});
    const result = await backend.generate(request);
    expect(result.text).toBe(defaultReply("Grade this answer: water boils at 100 C at sea level."));
    expect(result.usage).toEqual({ promptTokens: 5 + 11, completionTokens: result.text.split(" ").length });
    expect(result.finishReason).toBe("stop");
    expect(retries).toEqual([]);
    const sent = server.requests[0];
    expect(sent?.path).toBe("/api/chat");
    expect(sent?.body).toEqual({
      model: "prometheus:7b",
      messages: request.messages,
      options: { temperature: 0.2, top_p: 0.9, top_k: 40, num_predict: 256, seed: 11, stop: ["</s>"] },
      stream: false,
    });
    expect(backend).toMatchObject({ kind: "ollama", model: "prometheus:7b", host: server.url, concurrency: 4 });
  });

  it("passes a JSON schema constraint as format", async () => {
    const { server, backend } = await setup({ reply: () => JSON.stringify({ feedback: "Clear and correct.", score: 5 }) });
    const result = await backend.generate({ ...request, constraint: { jsonSchema: scoreSchema, gbnf: "root ::= \"x\"" } });
    expect(JSON.parse(result.text)).toEqual({ feedback: "Clear and correct.", score: 5 });
    expect(server.requests[0]?.body.format).toEqual(scoreSchema);
  });

  it("reports num_predict cut-offs as finish reason length", async () => {
    const { backend } = await setup({});
    const result = await backend.generate({ ...request, params: { maxTokens: 4 } });
    expect(result.finishReason).toBe("length");
    expect(result.usage.completionTokens).toBe(4);
  });

  it("retries 503, 429 with retry-after, and dropped connections", async () => {
    const { server, backend, retries } = await setup(
      { faults: [{ status: 503, message: "server busy, please try again" }, { status: 429, retryAfterMs: 120 }, { drop: true }] },
      { retryBaseDelayMs: 20 },
    );
    const started = performance.now();
    const result = await backend.generate(request);
    expect(result.text).toContain("[RESULT]");
    expect(server.count).toBe(4);
    expect(retries.map((r) => r.status)).toEqual([503, 429, undefined]);
    expect(retries[0]?.error).toContain("HTTP 503: server busy, please try again");
    expect(retries[1]?.delayMs).toBe(120);
    expect(retries[2]?.error).toContain("connection failed");
    expect(performance.now() - started).toBeGreaterThanOrEqual(120);
    expect(backend.retries).toBe(3);
  });

  it("times out a hung request and a stalled body, and retries them", async () => {
    const { server, backend, retries } = await setup({ faults: [{ hang: true }, { stallBody: true }] }, { timeoutMs: 250 });
    const started = performance.now();
    const result = await backend.generate(request);
    expect(result.text).toContain("[RESULT]");
    expect(performance.now() - started).toBeGreaterThanOrEqual(500);
    expect(server.count).toBe(3);
    expect(retries[0]?.error).toContain("no answer within 250 ms");
    expect(retries[1]?.error).toContain("no answer within 250 ms");
  });

  it("fails at once on a missing model", async () => {
    const { server, backend, retries } = await setup({ faults: [{ status: 404, message: 'model "prometheus:7b" not found, try pulling it first' }] });
    const error = await failure(backend.generate(request));
    expect(error.retryable).toBe(false);
    expect(error.status).toBe(404);
    expect(error.message).toContain('HTTP 404: model "prometheus:7b" not found');
    expect(server.count).toBe(1);
    expect(retries).toEqual([]);
  });

  it("gives up after maxRetries", async () => {
    const { server, backend } = await setup({ faults: () => ({ status: 500 }) }, { maxRetries: 1 });
    const error = await failure(backend.generate(request));
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(500);
    expect(server.count).toBe(2);
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

  it("takes its host from OLLAMA_HOST", async () => {
    server = await startFaultServer();
    const saved = process.env.OLLAMA_HOST;
    process.env.OLLAMA_HOST = server.url;
    try {
      const backend = createOllamaBackend({ model: "m" });
      expect(backend.host).toBe(server.url);
      await backend.generate(request);
      expect(server.count).toBe(1);
    } finally {
      if (saved === undefined) delete process.env.OLLAMA_HOST;
      else process.env.OLLAMA_HOST = saved;
    }
  });
});
