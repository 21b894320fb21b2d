import type { Backend, ChatMessage, SamplingParams } from "../backends/types.js";
import { callKey, type CachedCall, type RunStore } from "../store/run-store.js";
import { Semaphore } from "./semaphore.js";
import { DeferredCallError } from "../backends/types.js";
import { expectedScore, meanDistribution } from "./distribution.js";
import { majorityLabel } from "../metaeval/raters.js";
import { round4 } from "../util/round.js";
import { checkJurors, checkJuryMethod, combineJury, defaultJuryMethod, sumJurorStats } from "./jury.js";
import type { FailedAttempt, Grader, Judgment, JuryMethod, PairVerdict, SampleResult } from "./types.js";
import { BudgetExhaustedError, costOf, type CostBudget } from "./budget.js";
import { redactSecrets } from "../util/redact.js";
import type { HeadModel } from "../heads/spec.js";
import { HeadJudger, isHeadJuror } from "../heads/judger.js";

export interface EngineOptions {
  backend: Backend;
  grader: Grader;
  /** Completed calls are cached here; a re-run or resume never pays for them again. */
  store?: RunStore;
  /** K sampled judgments per record (mean score or majority verdict). Default 1. */
  samples?: number;
  /** New samples drawn when an output does not parse. Default 2. */
  maxRetries?: number;
  /**
   * Pairwise only: grade both orders; disagreeing orders give "tie". "auto": grade the swapped order
   * only where the first order's distribution is below `swapThreshold` (needs distributions; without
   * one the pair is always swapped).
   */
  swap?: boolean | "auto";
  /** --swap auto: the winner probability at or above which one order is enough. Default 0.9. */
  swapThreshold?: number;
  /** Ask backends that can for verdict probabilities (default true; false saves their small cost). */
  distributions?: boolean;
  params?: SamplingParams;
  /** Calls in flight at once. Default: the backend's own concurrency. */
  concurrency?: number;
  /** Stops reading new records; calls already running finish and are cached. */
  signal?: AbortSignal;
  /** Live counters, updated as calls finish (for progress and the summary). */
  stats?: JudgeStats;
  /**
   * A jury: these judges (`backend` is ignored) grade every record; the verdict is their aggregate.
   * A head among them (heads/run.ts HeadJuror) judges with its own head and grader.
   */
  jurors?: Backend[];
  /** How the jury decides. Default: mean of scores, majority of verdicts. */
  jury?: JuryMethod;
  /**
   * --max-cost: each call reserves its most possible cost before it is sent; a call that does not
   * fit is not sent, its record is not judged (nor written), and no more records are read.
   */
  budget?: CostBudget;
  /** A classifier/regression head judges instead of `backend` (src/heads): one forward pass per prompt. */
  head?: HeadModel;
}

export interface JudgeStats {
  judged: number;
  failed: number;
  calls: number;
  cachedCalls: number;
  parseFailures: number;
  parseRetries: number;
  backendErrors: number;
  promptTokens: number;
  completionTokens: number;
  swapPairs: number;
  swapConsistent: number;
  /** --swap auto: pairs graded in one order because the judge was sure enough. */
  swapSkipped: number;
  /** Tokens of the calls made in this run (not those answered from the run store): what was paid for. */
  paidPromptTokens: number;
  paidCompletionTokens: number;
  /** Parsed calls whose backend was asked for verdict probabilities and gave none. */
  withoutDistribution: number;
  /** Why, the first time. */
  distributionNote?: string;
}

export function emptyStats(): JudgeStats {
  return {
    judged: 0, failed: 0, calls: 0, cachedCalls: 0, parseFailures: 0, parseRetries: 0,
    backendErrors: 0, promptTokens: 0, completionTokens: 0, swapPairs: 0, swapConsistent: 0, swapSkipped: 0, withoutDistribution: 0, paidPromptTokens: 0, paidCompletionTokens: 0,
  };
}

export interface EngineInput {
  index: number;
  record: Record<string, unknown>;
}

/** A run that cannot succeed (the backend never answered): stop instead of failing every record. */
export class BackendUnavailableError extends Error {
  override name = "BackendUnavailableError";
}

const UNAVAILABLE_AFTER = 8;
/** Sample i's attempts use seeds seed + 1000 i + attempt, so attempts never take another sample's seeds. */
const SEEDS_PER_SAMPLE = 1000;
export const DEFAULT_SWAP_THRESHOLD = 0.9;
const RETRY_TEMPERATURE = 0.7;
export const DEFAULT_MAX_TOKENS = 1024;

/** Sampling defaults: greedy for one judgment, prometheus-eval's sampling for several. */
export function resolveParams(params: SamplingParams | undefined, samples: number): SamplingParams {
  const sampled = samples > 1;
  return {
    temperature: sampled ? 1.0 : 0,
    ...(sampled ? { topP: 0.9 } : {}),
    maxTokens: DEFAULT_MAX_TOKENS,
    seed: 0,
    ...params,
  };
}

/**
 * Judges records as they stream in and yields judgments in input order. At most `window`
 * records are in flight, so memory stays flat however long the input is.
 */
export async function* judgeStream(
  records: AsyncIterable<EngineInput> | Iterable<EngineInput>,
  options: EngineOptions,
): AsyncGenerator<Judgment & { index: number }> {
  const judger: Judger = options.head
    ? headJudger(options, options.head, options.grader, options.stats, options.concurrency)
    : options.jurors && options.jurors.length > 1 ? new JuryJudger(options, options.jurors) : judgerOf(options, options.backend, options.stats, options.concurrency);
  const window = Math.max(8, judger.concurrency * 4);
  const queue: Array<Promise<Judged>> = [];
  const stopped = () => options.signal?.aborted || judger.fatal !== undefined || options.budget?.exhausted === true;
  for await (const input of records) {
    if (stopped()) break;
    queue.push(judger.judge(input));
    while (queue.length >= window) {
      const judgment = await queue.shift()!;
      if (judgment !== NOT_JUDGED) yield judgment;
    }
  }
  while (queue.length > 0) {
    const judgment = await queue.shift()!;
    if (judgment !== NOT_JUDGED) yield judgment;
  }
  if (judger.fatal) throw judger.fatal;
}

/** A record the budget stopped before its judgment was complete: not yielded (its finished calls are in the store). */
const NOT_JUDGED = Symbol("not judged");
type Judged = (Judgment & { index: number }) | typeof NOT_JUDGED;

interface Judger {
  readonly concurrency: number;
  readonly fatal: Error | undefined;
  judge(input: EngineInput): Promise<Judged>;
}

/** One judge: a head (a HeadJuror backend) scores with its own grader, a generative backend with the run's. */
function judgerOf(options: EngineOptions, backend: Backend, stats: JudgeStats | undefined, concurrency: number | undefined): Judger {
  if (isHeadJuror(backend)) return headJudger(options, backend.head, backend.headGrader, stats, concurrency);
  return new RecordJudger({ ...options, backend, ...(stats ? { stats } : {}), ...(concurrency !== undefined ? { concurrency } : {}) });
}

function headJudger(options: EngineOptions, head: HeadModel, grader: Grader, stats: JudgeStats | undefined, concurrency: number | undefined): Judger {
  return new HeadJudger({ head, grader, stats: stats ?? emptyStats(), ...(options.store ? { store: options.store } : {}), ...(options.samples !== undefined ? { samples: options.samples } : {}), ...(options.swap !== undefined ? { swap: options.swap } : {}), ...(concurrency !== undefined ? { concurrency } : {}) });
}

/** Every juror judges the record; their judgments are combined (jury.ts). */
class JuryJudger implements Judger {
  readonly concurrency: number;
  private readonly jurors: Judger[];
  private readonly jurorStats: JudgeStats[];
  private readonly stats: JudgeStats;
  private readonly method: JuryMethod;
  private judged = 0;
  private failed = 0;

  constructor(private readonly options: EngineOptions, backends: Backend[]) {
    checkJurors(backends);
    this.method = options.jury ? checkJuryMethod(options.jury, options.grader.mode) : defaultJuryMethod(options.grader.mode);
    this.jurorStats = backends.map(() => emptyStats());
    this.jurors = backends.map((backend, i) => judgerOf(options, backend, this.jurorStats[i]!, options.concurrency ?? backend.concurrency));
    this.concurrency = Math.max(...this.jurors.map((j) => j.concurrency));
    this.stats = options.stats ?? emptyStats();
  }

  get fatal(): Error | undefined {
    return this.jurors.find((j) => j.fatal)?.fatal;
  }

  async judge(input: EngineInput): Promise<Judged> {
    const judged = await Promise.all(this.jurors.map((j) => j.judge(input)));
    const verdicts = judged.filter((j): j is Judgment & { index: number } => j !== NOT_JUDGED);
    if (verdicts.length < judged.length) return NOT_JUDGED;
    const judgment = combineJury(this.options.grader, this.method, verdicts);
    if (judgment.error === undefined) this.judged++;
    else this.failed++;
    sumJurorStats(this.stats, this.jurorStats, this.judged, this.failed);
    return judgment;
  }
}

class RecordJudger implements Judger {
  readonly concurrency: number;
  fatal: Error | undefined;
  private readonly semaphore: Semaphore;
  private readonly samples: number;
  /** Calls read from the run store, and their keys (to ask whether an earlier run stored them). */
  private readonly storedKeys = new WeakMap<CachedCall, string>();
  private readonly maxRetries: number;
  private readonly params: SamplingParams;
  private readonly stats: JudgeStats;
  private successes = 0;
  private consecutiveBackendErrors = 0;
  /** Calls being made, by cache key: an identical call waits for the one in flight instead of paying again. */
  private readonly inFlight = new Map<string, Promise<CachedCall>>();

  constructor(private readonly options: EngineOptions) {
    this.concurrency = options.concurrency ?? options.backend.concurrency;
    this.semaphore = new Semaphore(this.concurrency);
    this.samples = options.samples ?? 1;
    this.maxRetries = options.maxRetries ?? 2;
    if (!Number.isInteger(this.samples) || this.samples < 1) throw new Error(`samples must be a positive integer, got ${this.samples}`);
    if (!Number.isInteger(this.maxRetries) || this.maxRetries < 0) throw new Error(`max retries must be a whole number, got ${this.maxRetries}`);
    if (options.swap && options.grader.mode !== "pairwise") throw new Error("--swap only applies to pairwise grading");
    this.params = resolveParams(options.params, this.samples);
    this.stats = options.stats ?? emptyStats();
  }

  async judge(input: EngineInput): Promise<Judged> {
    const started = performance.now();
    const usage = { calls: 0, cached: 0, prompt: 0, completion: 0 };
    let samples: SampleResult[];
    try {
      samples = await Promise.all(
        Array.from({ length: this.samples }, (_, s) => this.sample(input.record, s, usage)),
      );
    } catch (error) {
      if (error instanceof BudgetExhaustedError) return NOT_JUDGED;
      samples = [{ error: errorMessage(error) }];
    }
    const verdict = this.options.grader.mode === "absolute" ? aggregateScores(samples) : aggregateVerdicts(samples);
    const first = samples.find((s) => s.error === undefined);
    const judgment: Judgment & { index: number } = {
      ...input.record,
      feedback: first?.feedback ?? null,
      ...verdict.fields,
      ...(verdict.error === undefined ? distributionFields(this.options.grader.mode, samples) : {}),
      ...flipRate(samples),
      ...(verdict.error === undefined ? {} : { error: verdict.error }),
      judge: {
        backend: this.options.backend.kind,
        model: this.options.backend.model,
        template: this.options.grader.template,
        raw: first?.raw ?? null,
        samples,
        ...(verdict.spread ? { spread: verdict.spread } : {}),
        tokens: { prompt: usage.prompt, completion: usage.completion },
        latencyMs: Math.round(performance.now() - started),
        ...(this.options.grader.rubric ? { rubric: this.options.grader.rubric } : {}),
        params: this.params,
        cached: usage.calls > 0 && usage.cached === usage.calls,
        calls: usage.calls,
      },
      index: input.index,
    };
    if (verdict.error === undefined) this.stats.judged++;
    else this.stats.failed++;
    return judgment;
  }

  private async sample(record: Record<string, unknown>, sampleIndex: number, usage: CallUsage): Promise<SampleResult> {
    const grader = this.options.grader;
    if (grader.mode === "absolute" || !this.options.swap) {
      const result = await this.callParsed(grader.buildMessages(record), sampleIndex, usage);
      if (!result.ok) return { error: result.error, ...failuresOf(result.failures), raw: result.raw, ...warningsOf(result.warnings) };
      return { feedback: result.feedback, ...result.verdict, raw: result.raw, ...failuresOf(result.failures), ...this.distributionOf(result.distribution), ...warningsOf(result.warnings) };
    }
    const swappedRecord = { ...record, response_a: record.response_b, response_b: record.response_a };
    let original: ParsedCall;
    let swapped: ParsedCall;
    if (this.options.swap === "auto") {
      original = await this.callParsed(grader.buildMessages(record), sampleIndex, usage);
      const sure = original.ok && original.distribution ? Math.max(...Object.values(this.distributionOf(original.distribution).distribution!)) : undefined;
      if (original.ok && sure !== undefined && sure >= (this.options.swapThreshold ?? DEFAULT_SWAP_THRESHOLD)) {
        this.stats.swapSkipped++;
        return { feedback: original.feedback, ...original.verdict, raw: original.raw, ...failuresOf(original.failures), ...this.distributionOf(original.distribution), ...warningsOf(original.warnings), swapSkipped: { confidence: round4(sure) } };
      }
      swapped = await this.callParsed(grader.buildMessages(swappedRecord), sampleIndex, usage);
    } else {
      [original, swapped] = await Promise.all([
        this.callParsed(grader.buildMessages(record), sampleIndex, usage),
        this.callParsed(grader.buildMessages(swappedRecord), sampleIndex, usage),
      ]);
    }
    const originalWinner = winnerOf(original);
    const swappedWinner = winnerOf(swapped, true);
    const originalLevel = levelOf(original);
    const swappedLevel = levelOf(swapped, true);
    const failures = [...original.failures, ...swapped.failures];
    const warnings = warningsOf([...original.warnings, ...swapped.warnings]);
    if (originalWinner === null || swappedWinner === null) {
      const error = !original.ok ? original.error : !swapped.ok ? `swapped order: ${swapped.error}` : "unknown";
      return { error, ...failuresOf(failures), raw: original.raw, ...warnings };
    }
    const consistent = originalWinner === swappedWinner;
    // Both orders' distributions, in the record's labels, averaged.
    const both = [this.distributionOf(original.ok ? original.distribution : undefined), this.distributionOf(swapped.ok ? swapped.distribution : undefined, true)];
    const merged = both.every((d) => d.distribution) ? { distribution: meanDistribution(both.map((d) => d.distribution!)), ...(both[0]!.verdictDistribution ? { verdictDistribution: meanDistribution(both.map((d) => d.verdictDistribution!)) } : {}) } : {};
    this.stats.swapPairs++;
    if (consistent) this.stats.swapConsistent++;
    return {
      feedback: original.ok ? original.feedback : undefined,
      winner: consistent ? originalWinner : "tie",
      ...(originalLevel !== undefined && consistent ? { verdict: originalLevel } : {}),
      ...merged,
      raw: original.raw,
      ...failuresOf(failures),
      ...warnings,
      swap: {
        original: originalWinner,
        swapped: swappedWinner,
        consistent,
        ...(swapped.ok ? { swappedFeedback: swapped.feedback } : {}),
        swappedRaw: swapped.raw,
        ...(swappedLevel !== undefined ? { swappedVerdict: swappedLevel } : {}),
      },
    };
  }

  /**
   * A call's candidate distribution as the judgment keeps it: scores for absolute grading; winners
   * (and Arena-Hard's levels) for pairwise, in the record's labels when the call saw the swapped order.
   */
  private distributionOf(raw: Record<string, number> | undefined, swapped = false): Pick<SampleResult, "distribution" | "verdictDistribution"> {
    if (!raw) return {};
    const grader = this.options.grader;
    if (grader.mode === "absolute") {
      // Scores are the candidates themselves, except where a label stands for one (Selene's Yes = 1, No = 0).
      if (!grader.labelOf) return { distribution: raw };
      const scores: Record<string, number> = {};
      for (const [candidate, p] of Object.entries(raw)) {
        const score = grader.labelOf(candidate);
        scores[score] = (scores[score] ?? 0) + p;
      }
      return { distribution: scores };
    }
    const mirror = (label: string) => (swapped ? label.replace(/[AB]/g, (c) => (c === "A" ? "B" : "A")) : label);
    const winners: Record<string, number> = {};
    const levels: Record<string, number> = {};
    let leveled = false;
    for (const [candidate, p] of Object.entries(raw)) {
      const label = mirror(grader.labelOf ? grader.labelOf(candidate) : candidate);
      winners[label] = (winners[label] ?? 0) + p;
      if (candidate.length > 1 && /[<>=]/.test(candidate)) {
        leveled = true;
        levels[mirror(candidate)] = p;
      }
    }
    return { distribution: winners, ...(leveled ? { verdictDistribution: levels } : {}) };
  }

  private noteMissingDistribution(reason: string): void {
    this.stats.withoutDistribution++;
    this.stats.distributionNote ??= reason;
  }

  /**
   * One verdict: a call, and new samples while its output does not parse. An output read back from
   * an earlier run's store that did not parse does not count against the retries: a run again draws
   * new samples for it (new seeds) instead of failing on the same outputs.
   */
  private async callParsed(messages: ChatMessage[], sampleIndex: number, usage: CallUsage): Promise<ParsedCall> {
    const failures: FailedAttempt[] = [];
    // What the backend said about these calls (settings the provider ignored), once each.
    const warnings = new Set<string>();
    let counted = 0;
    for (let attempt = 0; counted <= this.maxRetries && attempt < SEEDS_PER_SAMPLE; attempt++) {
      if (attempt > 0) this.stats.parseRetries++;
      let call: CachedCall;
      try {
        call = await this.call(messages, this.paramsFor(sampleIndex, attempt), usage);
      } catch (error) {
        if (error instanceof BudgetExhaustedError) throw error;
        // The backend already retried what can be retried; a new sample will not help.
        return { ok: false, error: `backend error: ${errorMessage(error)}`, raw: "", failures, warnings: [...warnings] };
      }
      for (const w of call.warnings ?? []) warnings.add(w);
      const parsed = this.options.grader.parse(call.text, messages);
      if (parsed.ok) {
        const { ok: _ok, feedback, ...verdict } = parsed;
        if (call.distributionError !== undefined) this.noteMissingDistribution(call.distributionError);
        return { ok: true, feedback, verdict, raw: call.text, failures, warnings: [...warnings], ...(call.distribution ? { distribution: call.distribution } : {}) };
      }
      this.stats.parseFailures++;
      failures.push({ raw: call.text, error: parsed.error });
      if (!this.fromEarlierRun(call)) counted++;
    }
    const last = failures[failures.length - 1]!;
    return {
      ok: false,
      error: `unparseable judge output after ${failures.length} attempt(s): ${last.error}`,
      raw: last.raw,
      failures: failures.slice(0, -1),
      warnings: [...warnings],
    };
  }

  private fromEarlierRun(call: CachedCall): boolean {
    const key = this.storedKeys.get(call);
    return key !== undefined && this.options.store !== undefined && this.options.store.storedByEarlierRun(key);
  }

  private paramsFor(sampleIndex: number, attempt: number): SamplingParams {
    const seed = (this.params.seed ?? 0) + sampleIndex * SEEDS_PER_SAMPLE + attempt;
    const temperature = attempt > 0 && !this.params.temperature ? RETRY_TEMPERATURE : this.params.temperature;
    return { ...this.params, seed, temperature };
  }

  private async call(messages: ChatMessage[], params: SamplingParams, usage: CallUsage): Promise<CachedCall> {
    const { backend, store, grader } = this.options;
    const verdict = backend.distributions && grader.verdict && this.options.distributions !== false ? grader.verdict : undefined;
    const key = callKey({ backend: backend.kind, model: backend.model, ...(backend.variant ? { variant: backend.variant } : {}), messages, params, constraint: grader.constraint, ...(verdict ? { verdict } : {}) });
    usage.calls++;
    this.stats.calls++;
    const hit = store?.getCall(key);
    if (hit) {
      this.storedKeys.set(hit, key);
      usage.cached++;
      this.stats.cachedCalls++;
      this.countTokens(hit, usage);
      return hit;
    }
    const running = this.inFlight.get(key);
    const made = running ?? this.make(key, messages, params, verdict);
    if (!running) this.inFlight.set(key, made);
    try {
      const call = await made;
      if (running) {
        // The same call was being made for another record: its answer is shared, not paid twice.
        usage.cached++;
        this.stats.cachedCalls++;
      }
      this.countTokens(call, usage);
      return call;
    } catch (error) {
      if (error instanceof BudgetExhaustedError) {
        // Not sent: not a call of this run.
        usage.calls--;
        this.stats.calls--;
      }
      throw error;
    } finally {
      if (!running) this.inFlight.delete(key);
    }
  }

  /** Sends one call (within the concurrency and the budget) and stores its answer. */
  private async make(key: string, messages: ChatMessage[], params: SamplingParams, verdict: Grader["verdict"]): Promise<CachedCall> {
    const { backend, store, grader, budget } = this.options;
    const call = await this.semaphore.run(async () => {
      // Reserved once a slot is free, just before sending: at most `concurrency` reservations at once.
      const reservation = budget ? budget.estimate(messages, params.maxTokens) : 0;
      if (budget && !(await budget.reserve(reservation))) throw new BudgetExhaustedError("not sent: it could take the run over --max-cost");
      const started = performance.now();
      let actual = 0;
      try {
        const result = await backend.generate({ messages, params, constraint: grader.constraint, ...(verdict ? { verdict } : {}) });
        if (budget) actual = costOf(result.usage.promptTokens, result.usage.completionTokens, budget.price);
        this.successes++;
        this.consecutiveBackendErrors = 0;
        return { ...result, latencyMs: Math.round(performance.now() - started) };
      } catch (error) {
        if (error instanceof DeferredCallError) throw error; // written to a batch file: not a fault
        this.stats.backendErrors++;
        this.consecutiveBackendErrors++;
        if (this.successes === 0 && this.consecutiveBackendErrors >= UNAVAILABLE_AFTER && !this.fatal) {
          this.fatal = new BackendUnavailableError(
            `the ${backend.kind} backend failed ${this.consecutiveBackendErrors} calls in a row and never answered: ${errorMessage(error)}`,
          );
        }
        throw error;
      } finally {
        budget?.settle(reservation, actual);
      }
    });
    store?.putCall(key, call);
    this.stats.paidPromptTokens += call.usage.promptTokens;
    this.stats.paidCompletionTokens += call.usage.completionTokens;
    return call;
  }

  private countTokens(call: CachedCall, usage: CallUsage): void {
    usage.prompt += call.usage.promptTokens;
    usage.completion += call.usage.completionTokens;
    this.stats.promptTokens += call.usage.promptTokens;
    this.stats.completionTokens += call.usage.completionTokens;
  }
}

interface CallUsage {
  calls: number;
  cached: number;
  prompt: number;
  completion: number;
}

type ParsedCall =
  | { ok: true; feedback: string; verdict: { score: number } | { winner: PairVerdict; verdict?: string }; raw: string; failures: FailedAttempt[]; warnings: string[]; distribution?: Record<string, number> }
  | { ok: false; error: string; raw: string; failures: FailedAttempt[]; warnings: string[] };

interface Verdict {
  fields: { score: number | null } | { winner: PairVerdict | null; verdict?: string };
  error?: string;
  spread?: { min: number; max: number; std: number } | { agreement: number };
}

function aggregateScores(samples: SampleResult[]): Verdict {
  const scores = samples.flatMap((s) => (s.score === undefined ? [] : [s.score]));
  if (scores.length === 0) return { fields: { score: null }, error: firstError(samples) };
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length);
  return {
    fields: { score: round4(mean) },
    ...(samples.length > 1 ? { spread: { min: Math.min(...scores), max: Math.max(...scores), std: round4(std) } } : {}),
  };
}

function aggregateVerdicts(samples: SampleResult[]): Verdict {
  const verdicts = samples.flatMap((s) => (s.winner === undefined ? [] : [s.winner]));
  if (verdicts.length === 0) return { fields: { winner: null }, error: firstError(samples) };
  const winner = majorityLabel(verdicts) ?? "tie";
  const top = verdicts.filter((v) => v === winner).length;
  // The level (Arena-Hard) most often given with the winning verdict.
  const level = majorityLabel(samples.flatMap((s) => (s.winner === winner && s.verdict !== undefined ? [s.verdict] : [])));
  return {
    fields: { winner, ...(level !== null ? { verdict: level } : {}) },
    ...(samples.length > 1 ? { spread: { agreement: round4(top / verdicts.length) } } : {}),
  };
}


/** The judgment's distribution fields: the mean over the samples that have one. */
function distributionFields(mode: "absolute" | "pairwise", samples: SampleResult[]): Record<string, unknown> {
  const found = samples.flatMap((s) => (s.distribution ? [s.distribution] : []));
  if (found.length === 0 || found.length !== samples.filter((s) => s.error === undefined).length) return {};
  const distribution = meanDistribution(found);
  if (mode === "absolute") {
    return { score_distribution: distribution, score_expected: expectedScore(distribution) };
  }
  const levels = samples.flatMap((s) => (s.verdictDistribution ? [s.verdictDistribution] : []));
  return { winner_distribution: distribution, ...(levels.length === found.length ? { verdict_distribution: meanDistribution(levels) } : {}) };
}

/** --swap: the share of this record's samples whose verdict changed with the order. */
function flipRate(samples: SampleResult[]): { swap_flip_rate?: number } {
  const swapped = samples.filter((s) => s.swap !== undefined);
  if (swapped.length === 0) return {};
  return { swap_flip_rate: round4(swapped.filter((s) => !s.swap!.consistent).length / swapped.length) };
}

function firstError(samples: SampleResult[]): string {
  return samples.find((s) => s.error !== undefined)?.error ?? "no verdict";
}

function failuresOf(failures: FailedAttempt[]): { failures?: FailedAttempt[] } {
  return failures.length > 0 ? { failures } : {};
}

function warningsOf(warnings: string[]): { warnings?: string[] } {
  const distinct = [...new Set(warnings)];
  return distinct.length > 0 ? { warnings: distinct } : {};
}

/** The verdict of a call, in the record's original labels when the call saw the swapped order. */
function winnerOf(call: ParsedCall, swapped = false): PairVerdict | null {
  if (!call.ok || !("winner" in call.verdict)) return null;
  const winner = call.verdict.winner;
  return swapped && winner !== "tie" ? (winner === "A" ? "B" : "A") : winner;
}

/** A level label such as "A>>B" in the record's original labels ("B>>A" seen in the swapped order is "A>>B"). */
function levelOf(call: ParsedCall, swapped = false): string | undefined {
  if (!call.ok || !("winner" in call.verdict) || call.verdict.verdict === undefined) return undefined;
  const level = call.verdict.verdict;
  return swapped ? level.replace(/[AB]/g, (c) => (c === "A" ? "B" : "A")) : level;
}


/** An error's words as a judgment records them: never with a key a server echoed. */
export function errorMessage(error: unknown): string {
  return redactSecrets(error instanceof Error ? error.message : String(error));
}
