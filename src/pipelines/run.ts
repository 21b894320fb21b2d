/**
 * The run scaffolding the three pipelines share, modelled on judge(): records stream in (bad ones
 * to the rejects file with file, line and field), items are processed in a bounded window and
 * written in input order to `<output>.partial`, renamed when the run completes. Every model call
 * goes through the run store, so a killed or interrupted run, started again, pays only for calls
 * that never finished.
 */
import { rename, rm } from "node:fs/promises";
import { asBackend, openBackend, requestRetriesOf, type BackendOptions, type JudgeModel } from "../backends/index.js";
import type { Backend, SamplingParams } from "../backends/types.js";
import { emptyStats, errorMessage, type JudgeStats } from "../judge/engine.js";
import { resolveGrader } from "../judge/grader.js";
import type { Grader } from "../judge/types.js";
import { readRecords } from "../records/read.js";
import { runLocked } from "../records/output-lock.js";
import type { RawRecord, Reject } from "../records/types.js";
import { createRecordWriter, createRejectsWriter, outputFormatOf } from "../records/write.js";
import { RunStore } from "../store/run-store.js";
import type { Rubric } from "../templates/types.js";
import { countDataLines } from "../util/count-lines.js";
import { Progress } from "../util/progress.js";
import { Caller, emptyGenerationStats, InterruptedError, LimitedBackend, Scorer, type GenerationStats } from "./runtime.js";

export const DEFAULT_PIPELINE_STORE = ".critic/store.sqlite";
/** Generation defaults: some temperature for varied text, a fixed seed so a call has one cache key. */
export const DEFAULT_GENERATION_PARAMS: SamplingParams = { temperature: 0.7, topP: 0.9, maxTokens: 512, seed: 0 };

/** Options every pipeline takes: backends, judge, store, output, progress. */
export interface PipelineOptions extends BackendOptions {
  /** Output JSONL (or .parquet); written as `<output>.partial` while running, renamed when complete. */
  output: string;
  /** Bad input records. Default `<output>.rejects.jsonl` (created only when there are any). */
  rejects?: string;
  /** Items that gave no output row (pairs: no pair). Default `<output>.failed.jsonl` (created only when there are any). */
  failures?: string;
  /** The generator: a model spec (`./x.gguf`, `hf:…`, `openai:<name>`, `ollama:<name>`) or a ready Backend. */
  model?: JudgeModel;
  /** The judge (scoring, classification). Default: the generator. */
  judge?: JudgeModel;
  /** OpenAI-compatible URL for the judge when it differs from `baseURL`. */
  judgeBaseURL?: string;
  /** Run store path or an open store. Default `.critic/store.sqlite`. */
  store?: string | RunStore;
  /** Field renames, new name -> old name (CLI `--map new=old`). */
  map?: Record<string, string>;
  /** Sampling for generation calls (defaults: DEFAULT_GENERATION_PARAMS). */
  params?: SamplingParams;
  /** Sampling for judge calls (defaults as `critic judge`: greedy, 1024 tokens). */
  judgeParams?: SamplingParams;
  /** Judge template (absolute): prometheus (default), criticon, or a template YAML file. */
  template?: string;
  /** Judge rubric: a built-in name, a YAML file or a Rubric. Default depends on the pipeline. */
  rubric?: string | Rubric;
  /** Sampled judgments per scored response (mean score). Default 1. */
  samples?: number;
  /** New samples when a judge or classifier output does not parse, or a generation is empty. Default 2. */
  maxRetries?: number;
  /** Show progress on stderr (default true). */
  progress?: boolean;
  /** Stops taking new items; calls in flight finish and are cached, unfinished items are left out. */
  signal?: AbortSignal;
  /** When another run holds the output, wait for it rather than refuse (CLI `--wait`). */
  wait?: boolean;
}

/** A record the pipeline accepted, or why not. */
export type Check<I> = { ok: true; item: I } | { ok: false; field?: string; reason: string };

export interface ItemResult {
  /** Output rows, in order. */
  rows: Array<Record<string, unknown>>;
  /** Rows for the failures file (items that gave no output row, with why). */
  failures?: Array<Record<string, unknown>>;
  /** The item ended with an error (counted as failed). */
  failed?: boolean;
}

export interface StageContext {
  /** Generation calls on the generator model. */
  generator: Caller;
  /** Generation calls on the judge model (classification). */
  judgeCaller: Caller;
  /** Scoring through the judge engine (absolute template); present when the stage uses a judge. */
  scorer?: Scorer;
  /** Generation sampling. */
  params: SamplingParams;
  /** Judge sampling as given (scoring fills in the judge engine's defaults). */
  judgeParams: SamplingParams;
  maxRetries: number;
  signal?: AbortSignal;
}

export interface SourcedItem<I> {
  index: number;
  line: number;
  item: I;
}

/** One pipeline: how to check a record, and what to do with it. */
export interface Stage<I> {
  /** Name in the run store's history, e.g. "generate revise". */
  command: string;
  /** Which backends the stage calls: opened up front (true), on first use ("lazy"), or never. */
  uses: { model?: boolean | "lazy"; judge?: boolean | "lazy" };
  /** The stage scores responses with the judge (a grader is resolved from template and rubric). */
  scores?: boolean;
  /** Rubric for scoring when the options name none. */
  defaultRubric?: string | Rubric;
  check(record: RawRecord): Check<I>;
  /** Regroups checked items (e.g. rows of one prompt into one item); may read the whole input. */
  group?(items: AsyncIterable<SourcedItem<I>>): AsyncIterable<SourcedItem<I>>;
  process(item: I, ctx: StageContext): Promise<ItemResult>;
  /** Stage counters for the summary. */
  summary?(): Record<string, unknown>;
  /** Stage settings for the run history. */
  describe?(): Record<string, unknown>;
}

export interface PipelineSummary {
  command: string;
  status: "finished" | "interrupted";
  /** Input records read (valid or not). */
  records: number;
  rejected: number;
  /** Items processed to the end (after grouping). */
  items: number;
  /** Items that ended with an error. */
  failed: number;
  /** Rows written to the output. */
  written: number;
  /** Rows written to the failures file. */
  failures: number;
  generation: GenerationStats;
  judge: JudgeStats;
  /** HTTP calls that failed with a retryable fault (429, 5xx, timeout) and were tried again, all backends. */
  requestRetries: number;
  /** Pipeline-specific counters. */
  stage: Record<string, unknown>;
  output: string;
  rejects: string | null;
  /** The input ended early (a cut-off .gz): where and why. The run then exits 1. */
  inputTruncated?: string;
  failuresFile: string | null;
  elapsedMs: number;
  runId: number;
}

interface OpenContext {
  ctx: StageContext;
  window: number;
  /** HTTP retries the context's server backends made (429, 5xx, timeouts). */
  requestRetries(): number;
  fatal(): Error | undefined;
  close(): Promise<void>;
  describe(): Record<string, unknown>;
}

/** Opens backends, store, grader and callers for a stage. */
async function openContext<I>(stage: Stage<I>, options: PipelineRecordsOptions, store: RunStore | undefined): Promise<OpenContext> {
  // One backend per distinct spec (and URL) or Backend object: a generator that is also the judge loads once.
  const opened = new Map<JudgeModel, Promise<LimitedBackend>>();
  const owned: Backend[] = [];
  const limited: LimitedBackend[] = [];
  const retriesBefore = new Map<Backend, number>();
  const open = (spec: JudgeModel, baseURL: string | undefined): Promise<LimitedBackend> => {
    const key = typeof spec === "string" ? `${spec}\u0000${baseURL ?? ""}` : spec;
    let backend = opened.get(key);
    if (!backend) {
      backend = (async () => {
        const inner = typeof spec === "string" ? await openBackend(spec, { ...options, baseURL }) : asBackend(spec);
        if (typeof spec === "string") owned.push(inner);
        retriesBefore.set(inner, requestRetriesOf(inner));
        const wrapped = new LimitedBackend(inner, options.concurrency);
        limited.push(wrapped);
        return wrapped;
      })();
      opened.set(key, backend);
    }
    return backend;
  };
  const modelSpec = options.model;
  const judgeSpec = options.judge ?? options.model;
  const modelBackend = () => {
    if (modelSpec === undefined) return Promise.reject(new Error(`${stage.command} needs a generator model: pass --model (or set CRITIC_MODEL)`));
    return open(modelSpec, options.baseURL);
  };
  const judgeBackend = () => {
    if (judgeSpec === undefined) return Promise.reject(new Error(`${stage.command} needs a judge: pass --judge or --model`));
    return open(judgeSpec, options.judge === undefined ? options.baseURL : options.judgeBaseURL ?? options.baseURL);
  };

  const maxRetries = options.maxRetries ?? 2;
  const judgeParams = options.judgeParams ?? {};
  let grader: Grader | undefined;
  if (stage.scores) {
    grader = resolveGrader({ template: options.template, rubric: options.rubric ?? stage.defaultRubric ?? "helpfulness", maxTokens: judgeParams.maxTokens });
    if (grader.mode !== "absolute") throw new Error(`${stage.command} scores with an absolute template; "${grader.template}" grades pairwise`);
  }
  try {
    if (stage.uses.model === true) await modelBackend();
    if (stage.uses.judge === true) await judgeBackend();
  } catch (error) {
    for (const backend of owned) await backend.dispose();
    throw error;
  }
  const generationStats = emptyGenerationStats();
  const judgeStats = emptyStats();
  const params = { ...DEFAULT_GENERATION_PARAMS, ...options.params };
  const ctx: StageContext = {
    generator: new Caller(modelBackend, store, generationStats, options.signal),
    judgeCaller: new Caller(judgeBackend, store, generationStats, options.signal),
    ...(grader
      ? { scorer: new Scorer({ backend: judgeBackend, grader, store, stats: judgeStats, samples: options.samples, maxRetries, params: judgeParams, signal: options.signal }) }
      : {}),
    params,
    judgeParams,
    maxRetries,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const concurrency = Math.max(1, ...limited.map((b) => b.concurrency), options.concurrency ?? 1);
  return {
    ctx,
    window: Math.max(8, concurrency * 4),
    fatal: () => limited.find((b) => b.fatal)?.fatal,
    requestRetries: () => [...retriesBefore].reduce((sum, [backend, before]) => sum + requestRetriesOf(backend) - before, 0),
    async close() {
      for (const backend of owned) await backend.dispose();
    },
    describe: () => ({
      model: typeof modelSpec === "string" || modelSpec === undefined ? modelSpec : asBackend(modelSpec).model,
      judge: typeof judgeSpec === "string" || judgeSpec === undefined ? judgeSpec : asBackend(judgeSpec).model,
      ...(grader ? { template: grader.template } : {}),
      params,
      judgeParams,
    }),
  };
}

/** The stats the summary reports, read from the context. */
function statsOf(ctx: StageContext): { generation: GenerationStats; judge: JudgeStats } {
  return { generation: ctx.generator.stats, judge: ctx.scorer?.stats ?? emptyStats() };
}

/** The context's scorer; a stage that scores declares `uses.judge`. */
export function scorerOf(ctx: StageContext): Scorer {
  if (!ctx.scorer) throw new Error("this pipeline was set up without a judge");
  return ctx.scorer;
}

/**
 * Processes items in a bounded window and yields results in input order. An item that throws
 * becomes a failed result; an interrupted item yields `undefined` (left out of the output).
 */
async function* processInOrder<I>(
  stage: Stage<I>,
  items: AsyncIterable<SourcedItem<I>>,
  open: OpenContext,
): AsyncGenerator<{ index: number; line: number; result: ItemResult | undefined }> {
  const queue: Array<Promise<{ index: number; line: number; result: ItemResult | undefined }>> = [];
  const run = async (sourced: SourcedItem<I>) => {
    try {
      return { index: sourced.index, line: sourced.line, result: await stage.process(sourced.item, open.ctx) };
    } catch (error) {
      if (error instanceof InterruptedError) return { index: sourced.index, line: sourced.line, result: undefined };
      return {
        index: sourced.index,
        line: sourced.line,
        result: { rows: [], failures: [{ line: sourced.line, error: errorMessage(error) }], failed: true },
      };
    }
  };
  for await (const sourced of items) {
    if (open.ctx.signal?.aborted || open.fatal()) break;
    queue.push(run(sourced));
    while (queue.length >= open.window) yield await queue.shift()!;
  }
  while (queue.length > 0) yield await queue.shift()!;
  const fatal = open.fatal();
  if (fatal) throw fatal;
}

/** Runs a stage over a dataset file. */
export async function runPipelineFile<I>(stage: Stage<I>, input: string, options: PipelineOptions): Promise<PipelineSummary> {
  const files = { input, outputs: [options.output, options.rejects, options.failures], map: options.map, store: options.store ?? DEFAULT_PIPELINE_STORE };
  return runLocked(files, { wait: options.wait, signal: options.signal }, () => runPipelineOverFile(stage, input, options));
}

async function runPipelineOverFile<I>(stage: Stage<I>, input: string, options: PipelineOptions): Promise<PipelineSummary> {
  const started = performance.now();
  const store = typeof options.store === "object" ? options.store : RunStore.open(options.store ?? DEFAULT_PIPELINE_STORE);
  const closeStore = () => {
    if (typeof options.store !== "object") store.close();
  };
  let open: OpenContext;
  try {
    open = await openContext(stage, options, store);
  } catch (error) {
    closeStore();
    throw error;
  }
  const rejectsPath = options.rejects ?? `${options.output}.rejects.jsonl`;
  const failuresPath = options.failures ?? `${options.output}.failed.jsonl`;
  const rejects = createRejectsWriter(rejectsPath);
  const failuresWriter = createRejectsWriter(failuresPath);
  const partial = `${options.output}.partial`;
  const writer = await createRecordWriter(partial, { format: outputFormatOf(options.output) });
  const runId = store.startRun(stage.command, { input, output: options.output, ...open.describe(), ...stage.describe?.() });
  const pendingRejects: Reject[] = [];
  let truncatedInput: string | undefined;
  const counts = { records: 0, rejected: 0, items: 0, failed: 0, written: 0, failures: 0 };
  const total = options.progress === false || stage.group ? undefined : await countDataLines(input);
  const progress = options.progress === false ? undefined : new Progress({ label: stage.command, total });

  const flushRejects = async () => {
    while (pendingRejects.length > 0) {
      counts.rejected++;
      if (!stage.group) progress?.tick(1);
      await rejects.write(pendingRejects.shift()! as unknown as Record<string, unknown>);
    }
  };
  const checked = async function* (): AsyncGenerator<SourcedItem<I>> {
    const onReject = (r: Reject) => {
      counts.records++;
      if (r.truncated) truncatedInput = `${r.file}: ${r.reason}`;
      pendingRejects.push(r);
    };
    for await (const sourced of readRecords(input, { map: options.map, onReject })) {
      counts.records++;
      const result = stage.check(sourced.record);
      if (result.ok) yield { index: sourced.index, line: sourced.line, item: result.item };
      else pendingRejects.push({ file: input, line: sourced.line, ...(result.field ? { field: result.field } : {}), reason: result.reason, record: sourced.record });
      await flushRejects();
    }
    await flushRejects();
  };

  let status: PipelineSummary["status"] = "finished";
  try {
    const items = stage.group ? stage.group(checked()) : checked();
    for await (const { line, result } of processInOrder(stage, items, open)) {
      if (result === undefined) continue;
      counts.items++;
      if (result.failed) counts.failed++;
      for (const row of result.rows) {
        await writer.write(row);
        counts.written++;
      }
      for (const failure of result.failures ?? []) {
        await failuresWriter.write({ file: input, line, ...failure });
        counts.failures++;
      }
      progress?.tick(1, counts.failed > 0 ? `(${counts.failed} failed)` : "");
    }
    await flushRejects();
    if (options.signal?.aborted) status = "interrupted";
  } catch (error) {
    await writer.close();
    await rejects.close();
    await failuresWriter.close();
    store.finishRun(runId, "failed", { error: errorMessage(error) });
    progress?.finish();
    await open.close();
    closeStore();
    throw error;
  }
  progress?.finish();
  await open.close();
  await writer.close();
  await rejects.close();
  await failuresWriter.close();
  if (status === "finished") await rename(partial, options.output);
  const summary: PipelineSummary = {
    command: stage.command,
    status,
    ...counts,
    ...statsOf(open.ctx),
    requestRetries: open.requestRetries(),
    stage: stage.summary?.() ?? {},
    output: status === "finished" ? options.output : partial,
    rejects: counts.rejected > 0 ? rejectsPath : null,
    ...(truncatedInput ? { inputTruncated: truncatedInput } : {}),
    failuresFile: counts.failures > 0 ? failuresPath : null,
    elapsedMs: Math.round(performance.now() - started),
    runId,
  };
  store.finishRun(runId, status, summary as unknown as Record<string, unknown>);
  closeStore();
  if (counts.rejected === 0) await rm(rejectsPath, { force: true });
  if (counts.failures === 0) await rm(failuresPath, { force: true });
  return summary;
}

/** Options of the in-memory form: no files. */
export type PipelineRecordsOptions = Omit<PipelineOptions, "output" | "rejects" | "failures" | "progress" | "map" | "wait">;

/**
 * Runs a stage over in-memory records (library use) and yields each item's result in input order.
 * An invalid record throws, naming its position and field.
 */
export async function* runPipelineRecords<I>(
  stage: Stage<I>,
  records: Iterable<RawRecord> | AsyncIterable<RawRecord>,
  options: PipelineRecordsOptions,
): AsyncGenerator<ItemResult> {
  const store = options.store === undefined ? undefined : typeof options.store === "object" ? options.store : RunStore.open(options.store);
  const open = await openContext(stage, options, store);
  async function* checked(): AsyncGenerator<SourcedItem<I>> {
    let index = 0;
    for await (const record of records) {
      const result = stage.check(record);
      if (!result.ok) throw new Error(`record ${index + 1}: ${result.reason}`);
      yield { index, line: index + 1, item: result.item };
      index++;
    }
  }
  try {
    const items = stage.group ? stage.group(checked()) : checked();
    for await (const { result } of processInOrder(stage, items, open)) {
      if (result !== undefined) yield result;
    }
  } finally {
    await open.close();
    if (store && typeof options.store !== "object") store.close();
  }
}
