import OpenAI from "openai";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import { HttpBackendError, describeNetworkError, isRetryableStatus, parseRetryAfterMs, withRetry, type RetryInfo } from "./retry.js";
import { BackendError, type Backend, type GenerateRequest, type GenerateResult } from "./types.js";
import { startDeadline } from "./deadline.js";
import { createAgents, postJson, type JsonResponse } from "./http-client.js";
import { distributionFromLogprobs, MAX_TOP_LOGPROBS, type TokenLogprob } from "./logprobs.js";
import { AdaptiveLimit } from "./adaptive.js";
import { estimateTokens, RateLimiter } from "./rate-limit.js";
import { addSecret, redactSecrets, REDACTED } from "../util/redact.js";

export interface OpenAIBackendOptions {
  /** Model name the server knows (`gpt-4o-mini`, `prometheus-7b`, ...). */
  model: string;
  /** Any OpenAI-compatible server. Default: env OPENAI_BASE_URL, else https://api.openai.com/v1. */
  baseURL?: string;
  /** Default: env OPENAI_API_KEY; servers without auth get a placeholder. Never logged. */
  apiKey?: string;
  /** Requests the judge engine keeps in flight at once (default 16). */
  concurrency?: number;
  /** Limit for one attempt (default 120 s). */
  timeoutMs?: number;
  /** Retries on 408/409/429/5xx, timeouts and connection errors (default 6). */
  maxRetries?: number;
  /** Backoff tuning (defaults 500 ms and 30 s); a server's retry-after is honoured as given. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  onRetry?: (info: RetryInfo) => void;
  /**
   * Send a request's GBNF constraint in the body's `grammar` field, which llama.cpp's server and
   * `critic serve` honour, so their output parses by construction. Off by default: OpenAI's own
   * API rejects unknown fields.
   */
  sendGrammar?: boolean;
  /**
   * Ask for `logprobs` with the top alternatives (20, the API's limit) and read each verdict's
   * probability from them (vLLM, llama.cpp server, OpenAI).
   */
  logprobs?: boolean;
  /**
   * Where a warning goes (default stderr): a server that refuses logprobs is warned about once, and
   * asked without them from then on.
   */
  onWarning?: (message: string) => void;
  /** At most this many requests per minute. */
  rpm?: number;
  /** At most this many tokens (prompt + completion) per minute. */
  tpm?: number;
}

export interface OpenAIBackend extends Backend {
  readonly kind: "openai";
  readonly baseURL: string;
  /** Calls it lets in flight now: the configured concurrency, halved on 429s and timeouts, grown back on successes. */
  readonly currentConcurrency: number;
  /** The lowest that ever got. */
  readonly lowestConcurrency: number;
  /** Retries made so far, over all calls. */
  readonly retries: number;
}

const OPENAI_URL = "https://api.openai.com/v1";
/** Local servers (llama.cpp, vLLM, critic serve) usually ignore the key, but the SDK needs one. */
const PLACEHOLDER_KEY = "sk-no-key";

export function createOpenAIBackend(options: OpenAIBackendOptions): OpenAIBackend {
  const model = options.model.trim();
  if (model === "") throw new BackendError("openai backend: the model name is empty", false);
  const baseURL = (options.baseURL ?? process.env.OPENAI_BASE_URL ?? OPENAI_URL).replace(/\/+$/, "");
  const apiKey = options.apiKey ?? process.env.OPENAI_API_KEY;
  if (!apiKey && baseURL === OPENAI_URL) {
    throw new BackendError("openai backend: OPENAI_API_KEY is not set (needed for api.openai.com; use --base-url for a local server)", false);
  }
  const key = apiKey || PLACEHOLDER_KEY;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const maxRetries = options.maxRetries ?? 6;
  const concurrency = options.concurrency ?? 16;
  checkPositive("concurrency", concurrency);
  checkPositive("timeoutMs", timeoutMs);
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new BackendError(`openai backend: maxRetries must be a whole number >= 0, got ${maxRetries}`, false);

  // The chat call is one JSON POST on keep-alive agents (http-client.ts postJson: the SDK's
  // per-request machinery cost a third of the CPU of a judgment); one retry loop for every backend (retry.ts).
  const agents = createAgents(concurrency);
  const endpoint = new URL(`${baseURL}/chat/completions`);
  const headers: Record<string, string> = {
    authorization: `Bearer ${key}`,
    accept: "application/json",
    "user-agent": "critic",
    ...(process.env.OPENAI_ORG_ID ? { "openai-organization": process.env.OPENAI_ORG_ID } : {}),
    ...(process.env.OPENAI_PROJECT_ID ? { "openai-project": process.env.OPENAI_PROJECT_ID } : {}),
  };
  const where = `openai backend (model "${model}" at ${baseURL})`;
  addSecret(apiKey);
  const redact = (text: string): string => redactSecrets(key.length >= 4 ? text.split(key).join(REDACTED) : text);
  let retries = 0;
  const limit = new AdaptiveLimit(concurrency);
  const rate = options.rpm !== undefined || options.tpm !== undefined ? new RateLimiter({ rpm: options.rpm, tpm: options.tpm }) : undefined;
  const overloaded = (error: unknown) =>
    error instanceof HttpBackendError && (error.status === 429 || error.status === 503 || (error.status === undefined && /no answer within/.test(error.message)));

  // A server that answered 400 to logprobs (critic serve over a backend without them, some proxies)
  // is asked without them from then on; its calls have no verdict probabilities, and say why.
  let logprobsRefused: string | undefined;
  const warn = options.onWarning ?? ((message: string) => process.stderr.write(`warning: ${message}\n`));

  const attempt = async (request: GenerateRequest): Promise<GenerateResult> => {
    const logprobs = options.logprobs === true && request.verdict !== undefined && logprobsRefused === undefined;
    try {
      return await attemptOnce(request, logprobs);
    } catch (error) {
      if (!(error instanceof LogprobsRefusedError)) throw error;
      if (logprobsRefused === undefined) {
        logprobsRefused = error.detail;
        warn(`${where} refused logprobs (HTTP 400: ${error.detail}); judging goes on without verdict probabilities from this server`);
      }
      return attemptOnce(request, false);
    }
  };

  const attemptOnce = async (request: GenerateRequest, logprobs: boolean): Promise<GenerateResult> => {
    const body = chatCompletionBody(model, request, { ...options, logprobs });
    const slot = rate ? await rate.acquire(estimateTokens(request.messages, request.params.maxTokens)) : undefined;
    // The SDK's own timeout stops at the response headers; this signal also covers the body.
    const deadline = startDeadline(timeoutMs, request.signal);
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      const response = await postJson(agents, endpoint, headers, JSON.stringify(body), deadline.signal);
      if (response.status < 200 || response.status >= 300) {
        const error = statusError(response, where, redact);
        if (logprobs && response.status === 400 && /logprob/i.test(error.detail)) throw new LogprobsRefusedError(error.detail);
        throw error;
      }
      try {
        completion = JSON.parse(response.text) as OpenAI.Chat.Completions.ChatCompletion;
      } catch {
        throw new BackendError(redact(`${where}: the response is not JSON: ${response.text.slice(0, 200)}`), false);
      }
    } catch (error) {
      if (request.signal?.aborted) throw new BackendError(`${where}: request was aborted`, false);
      if (deadline.expired) throw new HttpBackendError(`${where}: no answer within ${timeoutMs} ms`, true);
      if (error instanceof BackendError) throw error;
      throw new HttpBackendError(redact(`${where}: connection failed: ${describeNetworkError(error)}`), true);
    } finally {
      deadline.dispose();
    }
    const choice = completion.choices?.[0];
    if (!choice) throw new BackendError(`${where}: the response has no choices`, false);
    const text = choice.message?.content ?? "";
    slot?.settle((completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0));
    const result: GenerateResult = {
      text,
      usage: { promptTokens: completion.usage?.prompt_tokens ?? 0, completionTokens: completion.usage?.completion_tokens ?? 0 },
      ...(choice.finish_reason ? { finishReason: choice.finish_reason } : {}),
    };
    if (options.logprobs && request.verdict) {
      const read = logprobs
        ? distributionFromLogprobs(text, choice.logprobs?.content as TokenLogprob[] | null | undefined, request.verdict)
        : { error: `the server refused logprobs (${logprobsRefused})` };
      if ("distribution" in read) result.distribution = read.distribution;
      else result.distributionError = read.error;
    }
    return result;
  };

  return {
    kind: "openai",
    model,
    baseURL,
    concurrency,
    distributions: options.logprobs === true,
    // One server's answers are not another's: the URL is part of the cache key (an endpoint pool
    // declares its servers equal and leaves it out).
    variant: baseURL,
    get retries() {
      return retries;
    },
    get currentConcurrency() {
      return limit.limit;
    },
    get lowestConcurrency() {
      return limit.lowest;
    },
    generate: (request) =>
      withRetry(() => limit.run(() => attempt(request), overloaded), {
        maxRetries,
        ...(options.retryBaseDelayMs !== undefined ? { baseDelayMs: options.retryBaseDelayMs } : {}),
        ...(options.retryMaxDelayMs !== undefined ? { maxDelayMs: options.retryMaxDelayMs } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
        onRetry: (info) => {
          retries++;
          options.onRetry?.(info);
        },
      }),
    dispose: async () => {},
  };
}

/** The /v1/chat/completions body of a request (also a Batch API line's `body`). */
export function chatCompletionBody(
  model: string,
  request: GenerateRequest,
  options: Pick<OpenAIBackendOptions, "sendGrammar" | "logprobs"> = {},
): ChatCompletionCreateParamsNonStreaming & { top_k?: number; grammar?: string } {
  const { params } = request;
  return {
    model,
    messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
    ...(params.topP !== undefined ? { top_p: params.topP } : {}),
    // Not in OpenAI's API, but llama.cpp and vLLM servers accept it; sent only when asked for.
    ...(params.topK !== undefined ? { top_k: params.topK } : {}),
    ...(params.maxTokens !== undefined ? { max_tokens: params.maxTokens } : {}),
    ...(params.seed !== undefined ? { seed: params.seed } : {}),
    ...(params.stop !== undefined && params.stop.length > 0 ? { stop: params.stop } : {}),
    ...(options.sendGrammar && request.constraint?.gbnf ? { grammar: request.constraint.gbnf } : {}),
    ...(options.logprobs && request.verdict ? { logprobs: true, top_logprobs: MAX_TOP_LOGPROBS } : {}),
  };
}

/** A 400 that names logprobs: the request goes again without them. */
class LogprobsRefusedError extends BackendError {
  constructor(readonly detail: string) {
    super(`the server refused logprobs: ${detail}`, false, 400);
  }
}

/** An HTTP error answer as a BackendError: the server's own message, retryable by status, its Retry-After. */
function statusError(response: JsonResponse, where: string, redact: (text: string) => string): HttpBackendError & { detail: string } {
  let detail = response.text.trim().slice(0, 500) || `status ${response.status}`;
  try {
    const parsed = JSON.parse(response.text) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof parsed.error === "string" ? parsed.error : parsed.error?.message ?? parsed.message;
    if (typeof message === "string") detail = message;
  } catch {
    // not JSON: the text as it came
  }
  const headers = { get: (name: string) => { const v = response.headers[name]; return Array.isArray(v) ? v[0] ?? null : v ?? null; } };
  const error = new HttpBackendError(redact(`${where}: HTTP ${response.status}: ${detail}`), isRetryableStatus(response.status), response.status, parseRetryAfterMs(headers));
  return Object.assign(error, { detail: redact(detail) });
}

function checkPositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new BackendError(`openai backend: ${name} must be a positive number, got ${value}`, false);
}
