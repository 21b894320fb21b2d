import { describe, expect, it } from "vitest";
import { estimateTokens, RateLimiter } from "./rate-limit.js";

function clock() {
  let t = 0;
  return { now: () => t, wait: async (ms: number) => void (t += ms), at: () => t };
}

describe("--rpm / --tpm", () => {
  it("rpm: the fourth call of rpm 3 starts a minute after the first", async () => {
    const c = clock();
    const limiter = new RateLimiter({ rpm: 3, now: c.now, wait: c.wait });
    const starts: number[] = [];
    for (let i = 0; i < 7; i++) {
      await limiter.acquire(1);
      starts.push(c.at());
    }
    expect(starts).toEqual([0, 0, 0, 60_000, 60_000, 60_000, 120_000]);
  });

  it("tpm: calls wait while the minute's tokens (estimates, then real usage) would pass the limit", async () => {
    const c = clock();
    const limiter = new RateLimiter({ tpm: 100, now: c.now, wait: c.wait });
    const a = await limiter.acquire(40);
    await limiter.acquire(40);
    expect(c.at()).toBe(0);
    a.settle(10); // the first call used less than estimated: room for another 40 now
    await limiter.acquire(40);
    expect(c.at()).toBe(0);
    await limiter.acquire(40);
    expect(c.at()).toBe(60_000);
    // A call bigger than the whole budget still runs, alone, once the window is empty.
    await limiter.acquire(500);
    expect(c.at()).toBe(120_000);
    expect(() => new RateLimiter({ rpm: 0 })).toThrow(/--rpm must be a positive number/);
  });

  it("estimates a call at prompt characters / 4 plus its completion limit", () => {
    expect(estimateTokens([{ content: "x".repeat(400) }], 50)).toBe(150);
  });
});
