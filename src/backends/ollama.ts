import { Ollama } from "ollama";
import type { ChatRequest, Options } from "ollama";
import { HttpBackendError, describeNetworkError, isRetryableStatus, parseRetryAfterMs, withRetry, type RetryInfo } from "./retry.js";
import { BackendError, type Backend, type GenerateRequest, type GenerateResult } from "./types.js";
import { startDeadline } from "./deadline.js";

export interface OllamaBackendOptions {
  /** Model name as Ollama knows it (`llama3.1:8b`, `prometheus`, ...). */
  model: string;
  /** Default: env OLLAMA_HOST, else http://127.0.0.1:11434. */
  host?: string;
  /** Requests the judge engine keeps in flight at once (default 4, Ollama's usual parallelism). */
  concurrency?: number;
  /** Limit for one attempt (default 120 s). */
  timeoutMs?: number;
  /** Retries on 408/409/429/5xx, timeouts and connection errors (default 6). */
  maxRetries?: number;
  /** Backoff tuning (defaults 500 ms and 30 s); a server's retry-after is honoured as given. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  onRetry?: (info: RetryInfo) => void;
}

export interface OllamaBackend extends Backend {
  readonly kind: "ollama";
  readonly host: string;
  /** Retries made so far, over all calls. */
  readonly retries: number;
}

const DEFAULT_HOST = "http://127.0.0.1:11434";

export function createOllamaBackend(options: OllamaBackendOptions): OllamaBackend {
  const model = options.model.trim();
  if (model === "") throw new BackendError("ollama backend: the model name is empty", false);
  const host = options.host ?? (process.env.OLLAMA_HOST || DEFAULT_HOST);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const maxRetries = options.maxRetries ?? 6;
  const concurrency = options.concurrency ?? 4;
  if (!Number.isFinite(concurrency) || concurrency <= 0) throw new BackendError(`ollama backend: concurrency must be positive, got ${concurrency}`, false);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new BackendError(`ollama backend: timeoutMs must be positive, got ${timeoutMs}`, false);
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new BackendError(`ollama backend: maxRetries must be a whole number >= 0, got ${maxRetries}`, false);
  const where = `ollama backend (model "${model}" at ${host})`;
  let retries = 0;

  const attempt = async (request: GenerateRequest): Promise<GenerateResult> => {
    const deadline = startDeadline(timeoutMs, request.signal);
    const signal = deadline.signal;
    let headers: Headers | undefined;
    // ollama-js gives non-streamed calls no signal and drops response headers, so a fetch
    // wrapper per attempt adds the timeout and keeps the headers (for retry-after).
    const client = new Ollama({
      host,
      fetch: async (input, init) => {
        const response = await fetch(input, { ...init, signal });
        headers = response.headers;
        return response;
      },
    });
    const { params } = request;
    const sampling: Partial<Options> = {
      ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
      ...(params.topP !== undefined ? { top_p: params.topP } : {}),
      ...(params.topK !== undefined ? { top_k: params.topK } : {}),
      ...(params.maxTokens !== undefined ? { num_predict: params.maxTokens } : {}),
      ...(params.seed !== undefined ? { seed: params.seed } : {}),
      ...(params.stop !== undefined && params.stop.length > 0 ? { stop: params.stop } : {}),
    };
    const body: ChatRequest & { stream: false } = {
      model,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      options: sampling,
      ...(request.constraint?.jsonSchema ? { format: request.constraint.jsonSchema } : {}),
      stream: false,
    };
    try {
      const response = await client.chat(body);
      return {
        text: response.message?.content ?? "",
        usage: { promptTokens: response.prompt_eval_count ?? 0, completionTokens: response.eval_count ?? 0 },
        ...(response.done_reason ? { finishReason: response.done_reason } : {}),
      };
    } catch (error) {
      if (request.signal?.aborted) throw new BackendError(`${where}: request was aborted`, false);
      if (deadline.expired) throw new HttpBackendError(`${where}: no answer within ${timeoutMs} ms`, true);
      const status = responseErrorStatus(error);
      if (status !== undefined) {
        const message = error instanceof Error ? error.message : String(error);
        throw new HttpBackendError(`${where}: HTTP ${status}: ${message}`, isRetryableStatus(status), status, parseRetryAfterMs(headers));
      }
      // fetch raises TypeError for refused, reset and cut-off connections.
      if (error instanceof TypeError) throw new HttpBackendError(`${where}: connection failed: ${describeNetworkError(error)}`, true);
      throw new BackendError(`${where}: ${error instanceof Error ? error.message : String(error)}`, false);
    } finally {
      deadline.dispose();
    }
  };

  return {
    kind: "ollama",
    model,
    host,
    concurrency,
    get retries() {
      return retries;
    },
    generate: (request) =>
      withRetry(() => attempt(request), {
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

/** ollama-js throws a ResponseError (not exported) with `status_code` for non-2xx answers. */
function responseErrorStatus(error: unknown): number | undefined {
  if (!(error instanceof Error) || error.name !== "ResponseError") return undefined;
  const status = (error as { status_code?: unknown }).status_code;
  return typeof status === "number" ? status : undefined;
}
