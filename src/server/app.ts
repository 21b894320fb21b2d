/**
 * An OpenAI-compatible HTTP API over any Backend: GET /v1/models, POST /v1/chat/completions
 * (with SSE streaming and llama.cpp's `grammar` extension) and GET /health.
 */
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { streamSSE } from "hono/streaming";
import { BackendError, type Backend, type GenerateResult, type TokenLogprob } from "../backends/types.js";
import { chatCompletionRequest, describeIssue, toGenerateRequest, type ChatCompletionRequest } from "./chat-request.js";
import { registerRewardRoute, type RewardEndpointOptions } from "./reward.js";
import { registerClassifyRoute } from "./classify.js";
import type { HeadModel } from "../heads/spec.js";

export interface ServerAppOptions {
  backend: Backend;
  /** The model id clients see (in /v1/models and every response). */
  modelName: string;
  /** When set, every /v1 request needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Largest request body accepted (default 8 MiB). */
  maxBodyBytes?: number;
  /** Also serve POST /v1/reward (scores from the judge engine, for RL trainers). */
  reward?: RewardEndpointOptions;
  /** A judge package's head: POST /classify (vLLM's format) and, with `reward`, /v1/reward score with it. */
  head?: HeadModel;
}

type ErrorType = "invalid_request_error" | "authentication_error" | "server_error";

function openAIError(c: Context, status: ContentfulStatusCode, type: ErrorType, message: string, code: string | null = null, param: string | null = null) {
  return c.json({ error: { message, type, param, code } }, status);
}

export function createServerApp(options: ServerAppOptions): Hono {
  const { backend, modelName } = options;
  const created = Math.floor(Date.now() / 1000);
  const app = new Hono();

  app.get("/health", (c) => c.json({ status: "ok", model: modelName, backend: backend.kind, concurrency: backend.concurrency }));

  if (options.apiKey !== undefined) {
    const expected = digest(options.apiKey);
    const guard = async (c: Context, next: () => Promise<void>) => {
      const header = c.req.header("authorization") ?? "";
      const given = /^Bearer\s+(.+)$/i.exec(header)?.[1] ?? "";
      // Compare fixed-length digests so neither the key's content nor its length leaks through timing.
      if (!timingSafeEqual(digest(given), expected)) {
        const message = header === "" ? "Missing API key: send it as 'Authorization: Bearer <key>'." : "Incorrect API key provided.";
        return openAIError(c, 401, "authentication_error", message, "invalid_api_key");
      }
      await next();
    };
    app.use("/v1/*", guard);
    app.use("/classify", guard);
  }

  app.get("/v1/models", (c) => c.json({ object: "list", data: [modelCard(modelName, created)] }));
  app.get("/v1/models/:id", (c) =>
    c.req.param("id") === modelName
      ? c.json(modelCard(modelName, created))
      : openAIError(c, 404, "invalid_request_error", `The model '${c.req.param("id")}' does not exist; this server serves '${modelName}'.`, "model_not_found", "model"),
  );

  app.post(
    "/v1/chat/completions",
    bodyLimit({
      maxSize: options.maxBodyBytes ?? 8 * 1024 * 1024,
      onError: (c) => openAIError(c, 413, "invalid_request_error", "Request body too large.", "request_too_large"),
    }),
    async (c) => {
      let json: unknown;
      try {
        json = await c.req.json();
      } catch {
        return openAIError(c, 400, "invalid_request_error", "The request body is not valid JSON.", "invalid_json");
      }
      const parsed = chatCompletionRequest.safeParse(json);
      if (!parsed.success) {
        const { message, param } = describeIssue(parsed.error);
        return openAIError(c, 400, "invalid_request_error", message, "invalid_request", param);
      }
      const body = parsed.data;
      if (body.logprobs && !backend.tokenLogprobs) {
        return openAIError(c, 400, "invalid_request_error", `logprobs are not supported by this server's ${backend.kind} backend`, "unsupported_parameter", "logprobs");
      }
      if (body.logprobs && body.stream) {
        return openAIError(c, 400, "invalid_request_error", "logprobs are not supported with stream: true on this server; ask without streaming", "unsupported_parameter", "logprobs");
      }

      if (body.stream) return streamCompletion(c, body, backend, modelName);
      let results: GenerateResult[];
      try {
        // Choices run side by side; the backend's sequence pool queues anything beyond its concurrency.
        results = await Promise.all(Array.from({ length: body.n ?? 1 }, (_, i) => backend.generate(toGenerateRequest(body, i, c.req.raw.signal))));
      } catch (error) {
        if (error instanceof BackendError && !error.retryable) {
          return openAIError(c, 400, "invalid_request_error", error.message, "invalid_request");
        }
        return openAIError(c, 500, "server_error", `Generation failed: ${(error as Error).message}`);
      }

      const completion = {
        id: `chatcmpl-${randomUUID()}`,
        created: Math.floor(Date.now() / 1000),
        model: modelName,
        usage: usage(results),
      };
      return c.json({
        ...completion,
        object: "chat.completion",
        choices: results.map((r, index) => ({
          index,
          message: { role: "assistant", content: r.text, refusal: null },
          logprobs: body.logprobs ? { content: (r.logprobs ?? []).map(openAILogprob), refusal: null } : null,
          finish_reason: finishReason(r),
        })),
      });
    },
  );

  if (options.reward) registerRewardRoute(app, backend, { modelName, ...options.reward, ...(options.head ? { head: options.head } : {}) });
  if (options.head) registerClassifyRoute(app, options.head, modelName, options.maxBodyBytes);

  app.notFound((c) => openAIError(c, 404, "invalid_request_error", `Unknown route: ${c.req.method} ${c.req.path}`, "not_found"));
  app.onError((error, c) => openAIError(c, 500, "server_error", error.message));
  return app;
}

/**
 * SSE in OpenAI's chunk format: a role chunk per choice, then the text as the backend produces it
 * (the embedded backend calls `onText` per token; a backend that cannot stream sends its whole text
 * as one chunk when it is done), a closing chunk with the finish reason, the usage chunk when asked
 * for, and `data: [DONE]`. An error after the stream has started arrives as an `error` event.
 */
function streamCompletion(c: Context, body: ChatCompletionRequest, backend: Backend, modelName: string) {
  const base = { id: `chatcmpl-${randomUUID()}`, object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: modelName };
  return streamSSE(c, async (stream) => {
    // Chunks of several choices interleave; writes go out one at a time, in order.
    let queue = Promise.resolve();
    const send = (chunk: object) => (queue = queue.then(() => stream.writeSSE({ data: JSON.stringify(chunk) })));
    const choice = async (index: number): Promise<GenerateResult> => {
      void send({ ...base, choices: [{ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }] });
      let streamed = false;
      const onText = (delta: string) => {
        streamed = true;
        if (delta !== "") void send({ ...base, choices: [{ index, delta: { content: delta }, logprobs: null, finish_reason: null }] });
      };
      const result = await backend.generate({ ...toGenerateRequest(body, index, c.req.raw.signal), onText });
      if (!streamed && result.text !== "") void send({ ...base, choices: [{ index, delta: { content: result.text }, logprobs: null, finish_reason: null }] });
      void send({ ...base, choices: [{ index, delta: {}, logprobs: null, finish_reason: finishReason(result) }] });
      return result;
    };
    try {
      const results = await Promise.all(Array.from({ length: body.n ?? 1 }, (_, i) => choice(i)));
      if (body.stream_options?.include_usage) void send({ ...base, choices: [], usage: usage(results) });
    } catch (error) {
      const retryable = !(error instanceof BackendError) || error.retryable;
      void send({ error: { message: `Generation failed: ${(error as Error).message}`, type: retryable ? "server_error" : "invalid_request_error", param: null, code: null } });
    }
    await queue;
    await stream.writeSSE({ data: "[DONE]" });
  });
}

/** A token's entry in OpenAI's `logprobs.content`, with the UTF-8 bytes OpenAI adds. */
function openAILogprob(t: TokenLogprob) {
  const bytes = (text: string) => [...Buffer.from(text, "utf8")];
  return {
    token: t.token,
    logprob: t.logprob,
    bytes: bytes(t.token),
    top_logprobs: (t.top_logprobs ?? []).map((alt) => ({ token: alt.token, logprob: alt.logprob, bytes: bytes(alt.token) })),
  };
}

function modelCard(id: string, created: number) {
  return { id, object: "model", created, owned_by: "critic" };
}

function usage(results: GenerateResult[]) {
  // As OpenAI does for n > 1: the shared prompt counts once, every choice's completion counts.
  const prompt_tokens = results[0]?.usage.promptTokens ?? 0;
  const completion_tokens = results.reduce((sum, r) => sum + r.usage.completionTokens, 0);
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}

function finishReason(result: GenerateResult): "stop" | "length" {
  return result.finishReason === "length" ? "length" : "stop";
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
