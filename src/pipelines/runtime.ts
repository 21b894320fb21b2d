/**
 * What every pipeline step runs on: backends limited to their concurrency across all the work of
 * a run, generation calls cached in the run store (a killed run never pays for a finished call
 * again), and judge scoring through the judge engine itself.
 */
import type { Backend, ChatMessage, GenerateRequest, GenerateResult, SamplingParams } from "../backends/types.js";
import { BackendUnavailableError, emptyStats, errorMessage, judgeStream, type JudgeStats } from "../judge/engine.js";
import { Semaphore } from "../judge/semaphore.js";
import type { Grader } from "../judge/types.js";
import { callKey, type CachedCall, type RunStore } from "../store/run-store.js";

/** Thrown inside an item when the run was asked to stop: the item is left out, not failed. */
export class InterruptedError extends Error {
  override name = "InterruptedError";
  constructor() {
    super("interrupted");
  }
}

const UNAVAILABLE_AFTER = 8;

/**
 * A backend whose calls share one concurrency limit however many items and steps are in flight,
 * and which stops the run when it never answered (instead of failing every item).
 */
export class LimitedBackend implements Backend {
  readonly kind: string;
  readonly model: string;
  readonly concurrency: number;
  readonly variant: string | undefined;
  readonly distributions: boolean | undefined;
  fatal: Error | undefined;
  private readonly semaphore: Semaphore;
  private successes = 0;
  private consecutiveErrors = 0;

  constructor(readonly inner: Backend, concurrency?: number) {
    this.kind = inner.kind;
    this.model = inner.model;
    this.variant = inner.variant;
    this.distributions = inner.distributions;
    this.concurrency = concurrency ?? inner.concurrency;
    this.semaphore = new Semaphore(this.concurrency);
  }

  generate(request: GenerateRequest): Promise<GenerateResult> {
    return this.semaphore.run(async () => {
      try {
        const result = await this.inner.generate(request);
        this.successes++;
        this.consecutiveErrors = 0;
        return result;
      } catch (error) {
        this.consecutiveErrors++;
        if (this.successes === 0 && this.consecutiveErrors >= UNAVAILABLE_AFTER && !this.fatal) {
          this.fatal = new BackendUnavailableError(
            `the ${this.kind} backend failed ${this.consecutiveErrors} calls in a row and never answered: ${errorMessage(error)}`,
          );
        }
        throw error;
      }
    });
  }

  /** The wrapped backend is owned by whoever opened it. */
  async dispose(): Promise<void> {}
}

/** Counters of the generation calls of a run (judge calls are counted in JudgeStats). */
export interface GenerationStats {
  calls: number;
  cachedCalls: number;
  /** New samples drawn because an output was empty or did not parse. */
  retries: number;
  backendErrors: number;
  promptTokens: number;
  completionTokens: number;
}

export function emptyGenerationStats(): GenerationStats {
  return { calls: 0, cachedCalls: 0, retries: 0, backendErrors: 0, promptTokens: 0, completionTokens: 0 };
}

export const RETRY_TEMPERATURE = 0.7;
/** Attempt n uses seed + n: a cap keeps retries off the seeds of other draws (degrade uses seed + 1000 k). */
export const MAX_ATTEMPTS = 1000;

/** Sampling for attempt n of a call: a new seed, and some temperature when the first was greedy. */
export function paramsForAttempt(params: SamplingParams, attempt: number): SamplingParams {
  if (attempt === 0) return params;
  return {
    ...params,
    seed: (params.seed ?? 0) + attempt,
    temperature: params.temperature ? params.temperature : RETRY_TEMPERATURE,
  };
}

/**
 * Generation calls through the run store: a call whose key (backend, model, messages, params,
 * constraint) was answered before is read back instead of paid again. The same call made twice at
 * once is paid once.
 */
export class Caller {
  private readonly inFlight = new Map<string, Promise<CachedCall>>();
  /** Calls read from the run store, and their keys. */
  private readonly storedKeys = new WeakMap<CachedCall, string>();

  constructor(
    private readonly backend: () => Promise<Backend>,
    private readonly store: RunStore | undefined,
    readonly stats: GenerationStats,
    private readonly signal?: AbortSignal,
  ) {}

  async call(messages: ChatMessage[], params: SamplingParams, constraint?: GenerateRequest["constraint"]): Promise<CachedCall> {
    if (this.signal?.aborted) throw new InterruptedError();
    const backend = await this.backend();
    const key = callKey({ backend: backend.kind, model: backend.model, ...(backend.variant ? { variant: backend.variant } : {}), messages, params, constraint });
    this.stats.calls++;
    const hit = this.store?.getCall(key);
    if (hit) {
      this.storedKeys.set(hit, key);
      this.stats.cachedCalls++;
      this.count(hit);
      return hit;
    }
    let pending = this.inFlight.get(key);
    if (pending) {
      this.stats.cachedCalls++;
      return pending;
    }
    pending = (async () => {
      const started = performance.now();
      let result: GenerateResult;
      try {
        result = await backend.generate({ messages, params, ...(constraint ? { constraint } : {}) });
      } catch (error) {
        this.stats.backendErrors++;
        throw error;
      }
      const call: CachedCall = { ...result, latencyMs: Math.round(performance.now() - started) };
      this.store?.putCall(key, call);
      this.count(call);
      return call;
    })();
    this.inFlight.set(key, pending);
    try {
      return await pending;
    } finally {
      this.inFlight.delete(key);
    }
  }

  /**
   * Whether a call was read back from an earlier run's store. Such an output that was unusable does
   * not count against the retries: a run again draws new samples for it rather than fail on it again.
   */
  fromEarlierRun(call: CachedCall): boolean {
    const key = this.storedKeys.get(call);
    return key !== undefined && this.store !== undefined && this.store.storedByEarlierRun(key);
  }

  /**
   * Text from the model, drawing a new sample (new seed) while the output is empty, up to
   * `maxRetries` times (not counting empty outputs an earlier run stored). Throws when no attempt
   * gives usable text.
   */
  async text(
    messages: ChatMessage[],
    params: SamplingParams,
    options: { maxRetries?: number; constraint?: GenerateRequest["constraint"]; what?: string } = {},
  ): Promise<{ text: string; raw: string; attempts: number }> {
    const maxRetries = options.maxRetries ?? 2;
    let attempt = 0;
    for (let counted = 0; counted <= maxRetries && attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) this.stats.retries++;
      const call = await this.call(messages, paramsForAttempt(params, attempt), options.constraint);
      const text = call.text.trim();
      if (text !== "") return { text, raw: call.text, attempts: attempt + 1 };
      if (!this.fromEarlierRun(call)) counted++;
    }
    throw new Error(`the model gave an empty ${options.what ?? "output"} in ${attempt} attempt(s)`);
  }

  private count(call: CachedCall): void {
    this.stats.promptTokens += call.usage.promptTokens;
    this.stats.completionTokens += call.usage.completionTokens;
  }
}

/** One response scored by the judge: a score, or the failure (never a default score). */
export interface Score {
  score: number | null;
  feedback: string | null;
  error?: string;
}

export interface ScorerOptions {
  backend: () => Promise<Backend>;
  grader: Grader;
  store?: RunStore;
  stats?: JudgeStats;
  samples?: number;
  maxRetries?: number;
  params?: SamplingParams;
  signal?: AbortSignal;
}

/**
 * Scores responses with an absolute grader through the judge engine (judgeStream): the same
 * prompts, grammar, parse retries, sampling and run-store cache as `critic judge`.
 */
export class Scorer {
  readonly stats: JudgeStats;

  constructor(private readonly options: ScorerOptions) {
    if (options.grader.mode !== "absolute") {
      throw new Error(`scoring needs an absolute template; "${options.grader.template}" grades pairwise`);
    }
    this.stats = options.stats ?? emptyStats();
  }

  get template(): string {
    return this.options.grader.template;
  }

  /** Scores each {instruction, response} record (extra fields, e.g. a reference answer, pass through to the template). */
  async score(records: Array<Record<string, unknown> & { instruction: string; response: string }>): Promise<Score[]> {
    if (records.length === 0) return [];
    if (this.options.signal?.aborted) throw new InterruptedError();
    const backend = await this.options.backend();
    const out: Score[] = [];
    const inputs = records.map((record, index) => ({ index, record }));
    for await (const judgment of judgeStream(inputs, {
      backend,
      grader: this.options.grader,
      store: this.options.store,
      stats: this.stats,
      samples: this.options.samples,
      maxRetries: this.options.maxRetries,
      params: this.options.params,
      concurrency: backend.concurrency,
    })) {
      const score = typeof judgment.score === "number" ? judgment.score : null;
      out.push({
        score,
        feedback: judgment.feedback,
        ...(score === null ? { error: judgment.error ?? "no score" } : {}),
      });
    }
    return out;
  }
}
