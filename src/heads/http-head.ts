/**
 * What the server heads (vLLM pooling, TEI) share with the chat backends: keep-alive JSON POSTs,
 * retries with backoff on 429/5xx/timeouts (withRetry), adaptive concurrency per server (AIMD,
 * AdaptiveLimit), and several servers of one model used together (each call goes to the server with
 * the most free room; a retry may go to another).
 */
import { AdaptiveLimit } from "../backends/adaptive.js";
import { startDeadline } from "../backends/deadline.js";
import { createAgents, postJson } from "../backends/http-client.js";
import { HttpBackendError, describeNetworkError, isRetryableStatus, parseRetryAfterMs, withRetry } from "../backends/retry.js";
import { BackendError, type ChatMessage } from "../backends/types.js";
import type { HeadModel, HeadOutput, HeadScore } from "./spec.js";

export interface HttpHeadOptions {
  /** One or more server URLs of the same model. */
  baseURLs: string[];
  /** Requests in flight per server at most (default 16). */
  concurrency?: number;
  timeoutMs?: number;
  /** Tries again after a 429, 5xx or timeout (default 6). */
  requestRetries?: number;
  retryBaseDelayMs?: number;
  /** $-named environment variable holding a bearer token (never logged). */
  apiKeyEnv?: string;
}

interface Server {
  url: string;
  limit: AdaptiveLimit;
  active: number;
}

export interface HttpHeadClient {
  concurrency: number;
  retries(): number;
  /** POSTs `body` to `<server>/<path>` and returns the parsed JSON; throws BackendError with the server's message. */
  post(path: string, body: unknown, what: string, signal?: AbortSignal): Promise<unknown>;
}

export function createHttpHeadClient(options: HttpHeadOptions): HttpHeadClient {
  if (options.baseURLs.length === 0) throw new Error("a server head needs --base-url");
  const perServer = options.concurrency ?? 16;
  const servers: Server[] = options.baseURLs.map((url) => ({ url: url.replace(/\/+$/, ""), limit: new AdaptiveLimit(perServer), active: 0 }));
  const agents = createAgents(perServer * servers.length);
  const key = options.apiKeyEnv ? process.env[options.apiKeyEnv] : undefined;
  const redact = (text: string) => (key && key.length >= 4 ? text.split(key).join("[redacted]") : text);
  const headers: Record<string, string> = { accept: "application/json", "user-agent": "critic", ...(key ? { authorization: `Bearer ${key}` } : {}) };
  const timeoutMs = options.timeoutMs ?? 600_000;
  let retries = 0;
  let next = 0;
  const pick = (): Server => {
    // The most free room under its current (adaptive) limit; ties go round-robin.
    let best: Server | undefined;
    for (let i = 0; i < servers.length; i++) {
      const s = servers[(next + i) % servers.length]!;
      if (!best || s.limit.limit - s.active > best.limit.limit - best.active) best = s;
    }
    next = (next + 1) % servers.length;
    return best!;
  };
  const overloaded = (error: unknown) => error instanceof HttpBackendError && (error.status === 429 || error.status === 503 || (error.status === undefined && /no answer within/.test(error.message)));

  const attempt = async (server: Server, path: string, body: string, what: string, signal?: AbortSignal): Promise<unknown> => {
    const where = `${what} at ${server.url}`;
    const deadline = startDeadline(timeoutMs, signal);
    server.active++;
    try {
      const response = await postJson(agents, new URL(`${server.url}/${path}`), headers, body, deadline.signal);
      if (response.status < 200 || response.status >= 300) {
        let detail = response.text.trim().slice(0, 500) || `status ${response.status}`;
        try {
          const parsed = JSON.parse(response.text) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
          const message = typeof parsed.error === "string" ? parsed.error : parsed.error?.message ?? parsed.message ?? parsed.detail;
          if (typeof message === "string") detail = message;
        } catch {
          // not JSON
        }
        const h = { get: (name: string) => { const v = response.headers[name]; return Array.isArray(v) ? v[0] ?? null : v ?? null; } };
        throw new HttpBackendError(redact(`${where}: HTTP ${response.status}: ${detail}`), isRetryableStatus(response.status), response.status, parseRetryAfterMs(h));
      }
      try {
        return JSON.parse(response.text) as unknown;
      } catch {
        throw new BackendError(redact(`${where}: the response is not JSON: ${response.text.slice(0, 200)}`), false);
      }
    } catch (error) {
      if (signal?.aborted) throw new BackendError(`${where}: request was aborted`, false);
      if (deadline.expired) throw new HttpBackendError(`${where}: no answer within ${timeoutMs} ms`, true);
      if (error instanceof BackendError) throw error;
      throw new HttpBackendError(redact(`${where}: connection failed: ${describeNetworkError(error)}`), true);
    } finally {
      server.active--;
      deadline.dispose();
    }
  };

  return {
    concurrency: perServer * servers.length,
    retries: () => retries,
    post: (path, body, what, signal) => {
      const text = JSON.stringify(body);
      return withRetry(() => {
        const server = pick();
        return server.limit.run(() => attempt(server, path, text, what, signal), overloaded);
      }, {
        maxRetries: options.requestRetries ?? 6,
        ...(options.retryBaseDelayMs !== undefined ? { baseDelayMs: options.retryBaseDelayMs } : {}),
        ...(signal ? { signal } : {}),
        onRetry: () => {
          retries++;
        },
      });
    },
  };
}

/** A HeadModel over an HTTP client: each prompt is one request, all sent at once (the client bounds them). */
export function httpHeadModel(
  identity: { kind: string; model: string; output: HeadOutput },
  client: HttpHeadClient,
  scoreOne: (prompt: ChatMessage[], signal?: AbortSignal) => Promise<HeadScore>,
): HeadModel & { readonly retries: number } {
  return {
    ...identity,
    concurrency: client.concurrency,
    get retries() {
      return client.retries();
    },
    score: (prompts, signal) => Promise.all(prompts.map((p) => scoreOne(p, signal))),
    dispose: async () => {},
  };
}
