import { describe, expect, it } from "vitest";
import { HttpBackendError, backoffDelayMs, isRetryableStatus, parseRetryAfterMs, withRetry, type RetryInfo } from "./retry.js";
import { BackendError } from "./types.js";

const headers = (entries: Record<string, string>) => new Headers(entries);

describe("parseRetryAfterMs", () => {
  it("reads seconds, milliseconds and HTTP dates", () => {
    expect(parseRetryAfterMs(headers({ "retry-after": "2" }))).toBe(2000);
    expect(parseRetryAfterMs(headers({ "retry-after": "0.25" }))).toBe(250);
    expect(parseRetryAfterMs(headers({ "retry-after-ms": "75" }))).toBe(75);
    // retry-after-ms is the finer of the two, so it wins.
    expect(parseRetryAfterMs(headers({ "retry-after-ms": "75", "retry-after": "3" }))).toBe(75);
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfterMs(headers({ "retry-after": "Wed, 01 Jan 2025 00:00:07 GMT" }), now)).toBe(7000);
    expect(parseRetryAfterMs(headers({ "retry-after": "Tue, 31 Dec 2024 23:59:00 GMT" }), now)).toBe(0);
  });

  it("ignores missing and malformed values", () => {
    expect(parseRetryAfterMs(undefined)).toBeUndefined();
    expect(parseRetryAfterMs(headers({}))).toBeUndefined();
    expect(parseRetryAfterMs(headers({ "retry-after": "soon" }))).toBeUndefined();
    expect(parseRetryAfterMs(headers({ "retry-after": "-3" }))).toBeUndefined();
    expect(parseRetryAfterMs(headers({ "retry-after-ms": "x", "retry-after": "1" }))).toBe(1000);
  });
});

describe("backoffDelayMs", () => {
  it("is full jitter under a doubling ceiling capped at the maximum", () => {
    expect(backoffDelayMs(0, 500, 30_000, () => 0.999999)).toBe(500);
    expect(backoffDelayMs(3, 500, 30_000, () => 0.5)).toBe(2000);
    expect(backoffDelayMs(10, 500, 30_000, () => 0.5)).toBe(15_000);
    expect(backoffDelayMs(4, 500, 30_000, () => 0)).toBe(0);
  });
});

describe("isRetryableStatus", () => {
  it("retries rate limits, timeouts and server errors only", () => {
    expect([408, 409, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 422].some(isRetryableStatus)).toBe(false);
  });
});

describe("withRetry", () => {
  it("retries retryable errors and reports each retry", async () => {
    const seen: RetryInfo[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new HttpBackendError(`busy ${calls}`, true, 503);
        return "ok";
      },
      { maxRetries: 5, baseDelayMs: 1, onRetry: (info) => seen.push(info) },
    );
    expect(result).toBe("ok");
    expect(calls).toBe(3);
    expect(seen.map((s) => [s.attempt, s.status, s.error])).toEqual([
      [1, 503, "busy 1"],
      [2, 503, "busy 2"],
    ]);
  });

  it("fails at once on an error that is not retryable", async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new BackendError("bad request", false, 400);
        },
        { maxRetries: 5, baseDelayMs: 1 },
      ),
    ).rejects.toThrow("bad request");
    expect(calls).toBe(1);
  });

  it("gives up after maxRetries with the last error", async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          throw new HttpBackendError(`down ${++calls}`, true, 500);
        },
        { maxRetries: 2, baseDelayMs: 1 },
      ),
    ).rejects.toThrow("down 3");
    expect(calls).toBe(3);
  });

  it("waits exactly the retry-after the error carries", async () => {
    const seen: RetryInfo[] = [];
    let calls = 0;
    const started = performance.now();
    await withRetry(
      async () => {
        if (calls++ === 0) throw new HttpBackendError("slow down", true, 429, 120);
        return "ok";
      },
      // A huge backoff that would show if retry-after were ignored.
      { maxRetries: 1, baseDelayMs: 60_000, random: () => 1, onRetry: (info) => seen.push(info) },
    );
    expect(seen[0]?.delayMs).toBe(120);
    expect(performance.now() - started).toBeGreaterThanOrEqual(119);
  });

  it("stops waiting when the signal aborts", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const started = performance.now();
    await expect(
      withRetry(
        async () => {
          throw new HttpBackendError("busy", true, 503, 10_000);
        },
        { maxRetries: 3, signal: controller.signal },
      ),
    ).rejects.toThrow("aborted");
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
