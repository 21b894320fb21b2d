/**
 * Several OpenAI-compatible servers serving one model (vLLM / llama.cpp replicas): each request
 * goes to the endpoint with the fewest requests in flight; a request that fails with a retryable
 * fault is tried on another endpoint; an endpoint that fails 3 times in a row is taken out for a
 * while and tried again later, so a run finishes on the others. The cache key is the model: the
 * endpoints are declared to serve the same one.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { BackendError, type Backend, type GenerateRequest, type GenerateResult } from "./types.js";

export interface Endpoint {
  url: string;
  backend: Backend;
}

export interface EndpointStats {
  served: number;
  failed: number;
  /** Times it was taken out after failing repeatedly. */
  takenOut: number;
}

export interface EndpointPool extends Backend {
  /** Calls served and faults per endpoint URL, so far. */
  endpointStats(): Record<string, EndpointStats>;
}

export interface EndpointPoolOptions {
  /** Consecutive failures that take an endpoint out (default 3). */
  failuresToTakeOut?: number;
  /** How long it stays out (default 30 s). */
  cooldownMs?: number;
}

export function createEndpointPool(endpoints: Endpoint[], options: EndpointPoolOptions = {}): EndpointPool {
  if (endpoints.length < 2) throw new Error("an endpoint pool needs two or more endpoints");
  const models = new Set(endpoints.map((e) => `${e.backend.kind}:${e.backend.model}`));
  if (models.size !== 1) throw new Error(`every endpoint of a pool serves one model, got ${[...models].join(", ")}`);
  const failuresToTakeOut = options.failuresToTakeOut ?? 3;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const state = endpoints.map((e) => ({ ...e, inFlight: 0, streak: 0, outUntil: 0, stats: { served: 0, failed: 0, takenOut: 0 } as EndpointStats }));
  const first = endpoints[0]!.backend;

  const pick = (tried: Set<number>) => {
    const now = Date.now();
    const healthy = state.map((s, i) => ({ s, i })).filter(({ s, i }) => s.outUntil <= now && !tried.has(i));
    if (healthy.length === 0) return undefined;
    return healthy.reduce((best, c) => (c.s.inFlight < best.s.inFlight ? c : best));
  };

  const generate = async (request: GenerateRequest): Promise<GenerateResult> => {
    let lastError: unknown;
    const tried = new Set<number>();
    for (let attempt = 0; attempt < state.length * 2; attempt++) {
      if (tried.size === state.length) tried.clear();
      let chosen = pick(tried);
      if (!chosen) {
        // Every endpoint is out: wait for the first to come back.
        const soonest = Math.min(...state.map((s) => s.outUntil));
        await sleep(Math.max(0, soonest - Date.now()), undefined, request.signal ? { signal: request.signal } : undefined);
        chosen = pick(new Set());
        if (!chosen) continue;
      }
      const { s, i } = chosen;
      tried.add(i);
      s.inFlight++;
      try {
        const result = await s.backend.generate(request);
        s.streak = 0;
        s.stats.served++;
        return result;
      } catch (error) {
        lastError = error;
        s.stats.failed++;
        if (!(error instanceof BackendError) || !error.retryable) throw error;
        if (++s.streak >= failuresToTakeOut) {
          s.streak = 0;
          s.outUntil = Date.now() + cooldownMs;
          s.stats.takenOut++;
        }
      } finally {
        s.inFlight--;
      }
    }
    throw lastError instanceof Error ? lastError : new BackendError("every endpoint failed", true);
  };

  return {
    kind: first.kind,
    model: first.model,
    concurrency: endpoints.reduce((sum, e) => sum + e.backend.concurrency, 0),
    ...(first.distributions ? { distributions: true } : {}),
    get retries() {
      return endpoints.reduce((sum, e) => sum + ((e.backend as { retries?: number }).retries ?? 0), 0);
    },
    generate,
    endpointStats: () => Object.fromEntries(state.map((s) => [s.url, { ...s.stats }])),
    dispose: async () => {
      for (const e of endpoints) await e.backend.dispose();
    },
  } as EndpointPool;
}
