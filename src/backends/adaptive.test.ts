import { describe, expect, it } from "vitest";
import { startFaultServer } from "../../test/support/fault-server.js";
import { AdaptiveLimit } from "./adaptive.js";
import { createOpenAIBackend } from "./openai.js";

describe("adaptive concurrency", () => {
  it("halves on overload and grows back by one after as many successes as the limit, up to the configured one", async () => {
    const limit = new AdaptiveLimit(8);
    const overload = new Error("429");
    await expect(limit.run(() => Promise.reject(overload), (e) => e === overload)).rejects.toBe(overload);
    expect(limit.limit).toBe(4);
    await expect(limit.run(() => Promise.reject(new Error("400")), (e) => e === overload)).rejects.toThrow("400");
    expect(limit.limit).toBe(4); // other errors do not count
    for (let i = 0; i < 4; i++) await limit.run(async () => 1, () => false);
    expect(limit.limit).toBe(5);
    for (let i = 0; i < 100; i++) await limit.run(async () => 1, () => false);
    expect(limit.limit).toBe(8);
    expect(limit.lowest).toBe(4);
  });

  it("against a server that answers 429 beyond 2 calls at once: backs off, finishes every call, sends far fewer 429s", async () => {
    const WINDOW_MS = 40;
    const starts: number[] = [];
    let rejected = 0;
    const server = await startFaultServer({
      faults: () => {
        const now = Date.now();
        const inFlight = starts.filter((t) => now - t < WINDOW_MS).length;
        if (inFlight >= 2) {
          rejected++;
          return { status: 429, message: "slow down", retryAfterMs: 5 };
        }
        starts.push(now);
        return { delayMs: WINDOW_MS - 10 };
      },
    });
    try {
      const backend = createOpenAIBackend({ model: "judge", baseURL: server.baseURL, concurrency: 8, maxRetries: 50, retryBaseDelayMs: 5 });
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => backend.generate({ messages: [{ role: "user", content: `q${i}` }], params: {} })));
      expect(results).toHaveLength(40);
      expect(backend.lowestConcurrency).toBeLessThanOrEqual(2);
      // Without backing off, 8 callers against 2 slots would draw hundreds of 429s.
      expect(rejected).toBeLessThan(80);
    } finally {
      await server.close();
    }
  });
});
