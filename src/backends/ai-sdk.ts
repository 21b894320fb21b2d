/**
 * Any AI SDK language model as a critic backend: `judge({ model: anthropic("claude-…") })`, or
 * `--model anthropic:<id>` through the official `@ai-sdk/*` provider package, imported on first use.
 * The model's own `doGenerate` is called (no `ai` runtime needed); critic keeps its own retries,
 * deadlines and concurrency, as for its other server backends.
 */
import { distributionFromLogprobs, MAX_TOP_LOGPROBS, type TokenLogprob } from "./logprobs.js";
import { describeNetworkError, HttpBackendError, isRetryableStatus, parseRetryAfterMs, withRetry, type RetryInfo } from "./retry.js";
import { startDeadline } from "./deadline.js";
import type { Backend, GenerateRequest, GenerateResult } from "./types.js";
import type { AiSdkBatchApi } from "./ai-sdk-batch.js";

/**
 * What critic needs of an AI SDK `LanguageModel` (specification v2, v3 or v4, the `@ai-sdk/provider`
 * types), written out here so critic's own types do not depend on the AI SDK packages.
 */
export interface AiSdkLanguageModel {
  readonly specificationVersion: "v2" | "v3" | "v4";
  readonly provider: string;
  readonly modelId: string;
  doGenerate(options: AiSdkCallOptions): PromiseLike<AiSdkGenerateResult>;
}

/** A JSON value, as the AI SDK's provider options hold. */
export type AiSdkJson = null | string | number | boolean | AiSdkJson[] | { [key: string]: AiSdkJson | undefined };

export interface AiSdkCallOptions {
  prompt: Array<{ role: "system"; content: string } | { role: "user" | "assistant"; content: Array<{ type: "text"; text: string }> }>;
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  stopSequences?: string[];
  abortSignal?: AbortSignal;
  providerOptions?: Record<string, Record<string, AiSdkJson | undefined>>;
}

/**
 * A call warning as the AI SDK gives it: `SharedV4Warning` / `SharedV3Warning` (unsupported,
 * compatibility, deprecated, other) and v2's `LanguageModelV2CallWarning` (unsupported-setting …).
 */
export type AiSdkWarning =
  | { type: "unsupported" | "compatibility"; feature: string; details?: string }
  | { type: "deprecated"; setting: string; message: string }
  | { type: "other"; message: string }
  | { type: "unsupported-setting"; setting: string; details?: string }
  | { type: string; [key: string]: unknown };

export interface AiSdkGenerateResult {
  content: Array<{ type: string; text?: string }>;
  /** Warnings for the call, e.g. settings the provider does not support (seed for Anthropic). */
  warnings?: ReadonlyArray<AiSdkWarning>;
  finishReason: string | { unified: string; raw?: string };
  usage: { inputTokens: number | undefined | { total: number | undefined; cacheRead?: number | undefined }; outputTokens: number | undefined | { total: number | undefined }; cachedInputTokens?: number };
  providerMetadata?: Record<string, Record<string, unknown>>;
}

/** Is this value an AI SDK language model object (as `anthropic("…")` returns)? */
export function isAiSdkLanguageModel(value: unknown): value is AiSdkLanguageModel {
  if (value === null || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return typeof v.doGenerate === "function" && typeof v.modelId === "string" && typeof v.provider === "string" && typeof v.specificationVersion === "string";
}

export interface AiSdkBackendOptions {
  model: AiSdkLanguageModel;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  /** Per-attempt timeout (default 120 s). */
  timeoutMs?: number;
  /** Retries on 408/409/429/5xx, timeouts and connection errors (default 6). */
  maxRetries?: number;
  onRetry?: (info: RetryInfo) => void;
  /**
   * Ask for token logprobs where the provider returns them (OpenAI through `providerOptions.openai.logprobs`)
   * and read verdict probabilities from them. Providers without logprobs give judgments without a distribution.
   */
  logprobs?: boolean;
  /** The provider's batch API, for `--batch` (from `--model <provider>:<id>`, where the provider has one). */
  batchApi?: () => AiSdkBatchApi;
  /** Passed to every call (`{ anthropic: { … } }`), merged with what `logprobs` adds. */
  providerOptions?: Record<string, Record<string, AiSdkJson | undefined>>;
  /**
   * Where the provider's call warnings go (default stderr, as `warning: …`): each distinct one once
   * per backend. Every judgment also keeps its calls' warnings (`judge.samples[i].warnings`).
   */
  onWarning?: (message: string) => void;
}

export type AiSdkBackend = Backend & { readonly retries: number; readonly languageModel: AiSdkLanguageModel; readonly batchApi?: () => AiSdkBatchApi };

export function createAiSdkBackend(options: AiSdkBackendOptions): AiSdkBackend {
  const { model } = options;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const maxRetries = options.maxRetries ?? 6;
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be a positive integer, got ${concurrency}`);
  const providerOptions = { ...options.providerOptions };
  if (options.logprobs) providerOptions.openai = { logprobs: MAX_TOP_LOGPROBS, ...providerOptions.openai };
  let retries = 0;
  const where = `${model.provider} (${model.modelId})`;
  const warn = options.onWarning ?? ((message: string) => process.stderr.write(`warning: ${message}\n`));
  const warned = new Set<string>();

  const callOnce = async (request: GenerateRequest): Promise<GenerateResult> => {
    const deadline = startDeadline(timeoutMs, request.signal);
    try {
      const { params } = request;
      const result = await model.doGenerate({
        prompt: request.messages.map((m) => (m.role === "system" ? { role: "system", content: m.content } : { role: m.role, content: [{ type: "text", text: m.content }] })),
        ...(params.maxTokens !== undefined ? { maxOutputTokens: params.maxTokens } : {}),
        ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
        ...(params.topP !== undefined ? { topP: params.topP } : {}),
        ...(params.topK !== undefined ? { topK: params.topK } : {}),
        ...(params.seed !== undefined ? { seed: params.seed } : {}),
        ...(params.stop && params.stop.length > 0 ? { stopSequences: params.stop } : {}),
        ...(Object.keys(providerOptions).length > 0 ? { providerOptions } : {}),
        abortSignal: deadline.signal,
      });
      const text = result.content.flatMap((part) => (part.type === "text" && typeof part.text === "string" ? [part.text] : [])).join("");
      const usage = usageOf(result.usage);
      const finishReason = typeof result.finishReason === "string" ? result.finishReason : result.finishReason?.unified;
      const warnings = (result.warnings ?? []).map(warningText);
      for (const w of warnings) {
        if (warned.has(w)) continue;
        warned.add(w);
        warn(`${where}: ${w}`);
      }
      const out: GenerateResult = { text, usage, ...(finishReason ? { finishReason } : {}), ...(warnings.length > 0 ? { warnings } : {}) };
      if (request.verdict) {
        const logprobs = result.providerMetadata?.openai?.logprobs as TokenLogprob[] | undefined;
        if (!options.logprobs) out.distributionError = `${model.provider} through the AI SDK: no token probabilities (logprobs off)`;
        else {
          const read = distributionFromLogprobs(text, logprobs, request.verdict);
          if ("distribution" in read) out.distribution = read.distribution;
          else out.distributionError = read.error;
        }
      }
      return out;
    } catch (error) {
      if (request.signal?.aborted) throw error;
      if (deadline.expired) throw new HttpBackendError(`${model.provider} (${model.modelId}): no answer within ${timeoutMs} ms`, true);
      throw backendErrorOf(error, model);
    } finally {
      deadline.dispose();
    }
  };

  return {
    kind: "ai-sdk",
    model: `${model.provider}:${model.modelId}`,
    concurrency,
    distributions: options.logprobs === true,
    languageModel: model,
    ...(options.batchApi ? { batchApi: options.batchApi } : {}),
    get retries() {
      return retries;
    },
    generate: (request) =>
      withRetry(() => callOnce(request), {
        maxRetries,
        ...(request.signal ? { signal: request.signal } : {}),
        onRetry: (info) => {
          retries++;
          options.onRetry?.(info);
        },
      }),
    dispose: async () => {},
  };
}

/** One AI SDK call warning in words: "seed is not supported", "topK: <details>" … */
export function warningText(warning: AiSdkWarning): string {
  const w = warning as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  const details = str(w.details);
  switch (w.type) {
    case "unsupported":
    case "unsupported-setting":
      return `${String(w.feature ?? w.setting)} is not supported${details ? ` (${details})` : ""}`;
    case "compatibility":
      return `${String(w.feature)} runs in a compatibility mode${details ? ` (${details})` : ""}`;
    case "deprecated":
      return `${String(w.setting)} is deprecated${str(w.message) ? `: ${String(w.message)}` : ""}`;
    case "other":
      return str(w.message) ?? "warning without a message";
    default:
      return JSON.stringify(warning);
  }
}

function count(value: number | undefined | { total: number | undefined }): number {
  if (typeof value === "number") return value;
  return value?.total ?? 0;
}

function usageOf(usage: AiSdkGenerateResult["usage"]): GenerateResult["usage"] {
  const input = usage.inputTokens;
  const cached = typeof input === "object" && input !== null ? input.cacheRead : usage.cachedInputTokens;
  return { promptTokens: count(input), completionTokens: count(usage.outputTokens), ...(cached ? { cachedPromptTokens: cached } : {}) };
}

/**
 * An AI SDK APICallError (statusCode, isRetryable, response headers) as critic's HTTP error. Only the
 * provider's message travels on: never the request body or headers, which hold the prompt and the key.
 */
function backendErrorOf(error: unknown, model: AiSdkLanguageModel): Error {
  const e = error as { statusCode?: unknown; isRetryable?: unknown; responseHeaders?: Record<string, string>; message?: unknown; name?: unknown };
  const where = `${model.provider} (${model.modelId})`;
  if (typeof e?.statusCode === "number") {
    const retryable = typeof e.isRetryable === "boolean" ? e.isRetryable || isRetryableStatus(e.statusCode) : isRetryableStatus(e.statusCode);
    return new HttpBackendError(`${where}: HTTP ${e.statusCode}: ${String(e.message ?? "")}`, retryable, e.statusCode, parseRetryAfterMs(e.responseHeaders ? new Headers(e.responseHeaders) : undefined));
  }
  if (e?.name === "AI_APICallError") return new HttpBackendError(`${where}: ${describeNetworkError(error)}`, e.isRetryable === true);
  if (e?.name === "AI_LoadAPIKeyError") return new HttpBackendError(`${where}: ${String(e.message)}`, false);
  return new HttpBackendError(`${where}: ${describeNetworkError(error)}`, false);
}
