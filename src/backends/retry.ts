import { setTimeout as sleep } from "node:timers/promises";
import { BackendError } from "./types.js";

/** A BackendError from an HTTP call, carrying the wait the server asked for (retry-after). */
export class HttpBackendError extends BackendError {
  constructor(
    message: string,
    retryable: boolean,
    status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message, retryable, status);
  }
}

/** What a backend reports before it waits and tries a call again. */
export interface RetryInfo {
  /** 1 for the first retry, 2 for the second, ... */
  attempt: number;
  /** HTTP status of the failed attempt, when there was a response. */
  status?: number;
  /** How long it waits before the retry. */
  delayMs: number;
  error: string;
}

export interface RetryOptions {
  /** Retries after the first attempt (0 = try once). */
  maxRetries: number;
  /** First backoff ceiling; the ceiling doubles per retry (default 500 ms). */
  baseDelayMs?: number;
  /** Highest backoff ceiling (default 30 s). Does not cap a server's retry-after. */
  maxDelayMs?: number;
  /** Default: a BackendError marked retryable. */
  isRetryable?: (error: unknown) => boolean;
  /** The wait the server asked for, honoured as given instead of the backoff. Default: HttpBackendError.retryAfterMs. */
  retryAfterMs?: (error: unknown) => number | undefined;
  onRetry?: (info: RetryInfo) => void;
  /** Aborting stops the retry loop, also during a wait. */
  signal?: AbortSignal;
  /** Source of randomness for the jitter (tests pass a fixed one). */
  random?: () => number;
}

const DEFAULT_BASE_DELAY_MS = 500;
const DEFAULT_MAX_DELAY_MS = 30_000;
/** A server asking for more than this is answered with this wait (and probably another 429). */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/**
 * Runs `fn` until it succeeds, fails with an error that is not retryable, or runs out of retries.
 * Waits between attempts with exponential backoff and full jitter, or exactly the server's retry-after.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const isRetryable = options.isRetryable ?? ((error: unknown) => error instanceof BackendError && error.retryable);
  const retryAfterMs = options.retryAfterMs ?? ((error: unknown) => (error instanceof HttpBackendError ? error.retryAfterMs : undefined));
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(options.signal);
    try {
      return await fn(attempt);
    } catch (error) {
      if (options.signal?.aborted || attempt >= options.maxRetries || !isRetryable(error)) throw error;
      const asked = retryAfterMs(error);
      const delayMs =
        asked !== undefined
          ? Math.min(Math.max(0, asked), MAX_RETRY_AFTER_MS)
          : backoffDelayMs(attempt, options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS, options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS, options.random);
      options.onRetry?.({
        attempt: attempt + 1,
        ...(error instanceof BackendError && error.status !== undefined ? { status: error.status } : {}),
        delayMs,
        error: error instanceof Error ? error.message : String(error),
      });
      try {
        await sleep(delayMs, undefined, { signal: options.signal });
      } catch {
        throwIfAborted(options.signal);
      }
    }
  }
}

/** Full jitter: a uniform wait between 0 and min(max, base * 2^attempt). */
export function backoffDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return Math.round(random() * ceiling);
}

/** Statuses where asking again can help: timeout, conflict/lock, rate limit, server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

interface HeaderSource {
  get(name: string): string | null;
}

/**
 * The wait a response asks for, from `retry-after-ms` (milliseconds) or `retry-after`
 * (seconds, or an HTTP date). Undefined when neither header is present and valid.
 */
export function parseRetryAfterMs(headers: HeaderSource | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "") {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = headers.get("retry-after");
  if (after === null || after.trim() === "") return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BackendError("request was aborted", false);
}

/** The innermost useful words of a network error ("fetch failed" hides ECONNREFUSED in its cause). */
export function describeNetworkError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    parts.push(typeof code === "string" && !current.message.includes(code) ? `${current.message} (${code})` : current.message);
    current = current.cause;
  }
  return parts.length > 0 ? parts.join(": ") : String(error);
}
