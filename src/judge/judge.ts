import { createHash } from "node:crypto";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { DeferredCallError, type Backend, type SamplingParams } from "../backends/types.js";
import { asBackend, openBackend, requestRetriesOf, type BackendOptions, type JudgeModel } from "../backends/index.js";
import { createEndpointPool, type Endpoint, type EndpointStats } from "../backends/endpoints.js";
import { round6 } from "../util/round.js";
import { createBatchRecorder, emptyResultsSummary, identityOf, loadBatchResults, type BatchResultsSummary } from "./batch-file.js";
import { BatchWaitInterrupted, runBatches } from "./batch-api.js";
import { runAiSdkBatches, type AiSdkBatchApi } from "../backends/ai-sdk-batch.js";
import { parseModelSpec } from "../backends/spec.js";
import { readRecords } from "../records/read.js";
import { runLocked } from "../records/output-lock.js";
import { createRecordWriter, createRejectsWriter, outputFormatOf, type OutputKind } from "../records/write.js";
import { validateRecord } from "../records/validate.js";
import { judgeRecordSchema } from "./schema.js";
import type { Reject, SourcedRecord } from "../records/types.js";
import { RunStore } from "../store/run-store.js";
import { Progress } from "../util/progress.js";
import { countDataLines } from "../util/count-lines.js";
import { emptyStats, judgeStream, type EngineInput, type JudgeStats } from "./engine.js";
import { defaultJuryMethod, JuryAgreement } from "./jury.js";
import type { MetricValue } from "../metaeval/types.js";
import { resolveGrader, type GraderOptions } from "./grader.js";
import { catalogDefaults } from "../judges/index.js";
import { costOf as priceOf, CostBudget, type Price } from "./budget.js";
import { redactError, redactSecrets } from "../util/redact.js";
import { emitEvaluationEvent } from "../ai-sdk/otel.js";
export type { Price } from "./budget.js";
import type { Grader, Judgment, JuryMethod } from "./types.js";
import { checkJurorScales, headOutputOf, headSpecsOf, isHeadJuror, openHeadRun, refuseHeadOptions } from "../heads/run.js";
import { isHeadSpec } from "../heads/open.js";
import { isJudgePackage } from "../heads/package.js";

export interface JudgeOptions extends GraderOptions, BackendOptions {
  /** Input dataset: JSONL, JSON, CSV or Parquet (optionally .gz). */
  input: string;
  /** Output file; written as `<output>.partial` while running, renamed when complete. */
  output: string;
  /** Default: the format the output's name asks for (.jsonl, .json, .csv, .tsv, .parquet; .gz for text). */
  outputFormat?: OutputKind;
  /** Where bad records go. Default: `<output>.rejects.jsonl` (only created if there are any). */
  rejects?: string;
  /**
   * Model spec (`./x.gguf`, `hf:user/repo[:quant]`, `openai:name`, `ollama:name`) or a ready Backend;
   * several make a jury.
   */
  model: JudgeModel | JudgeModel[];
  /** A jury's server URLs, one per model in order (default: `baseURL` for all). */
  baseURLs?: string[];
  /** How a jury decides: mean | median (scores) | majority. Default mean for scores, majority for verdicts. */
  jury?: JuryMethod;
  /** Run store path, or an open store. Default `.critic/store.sqlite`. */
  store?: string | RunStore;
  /** Field renames, new name -> old name (CLI `--map new=old`). */
  map?: Record<string, string>;
  samples?: number;
  maxRetries?: number;
  swap?: boolean | "auto";
  swapThreshold?: number;
  /** Verdict probabilities where the backend can read them (default true). */
  distributions?: boolean;
  /** Dollars per million tokens, for the run's cost (CLI `--price in=0.15,out=0.6`). */
  price?: Price;
  /** The price of `judge.cost_usd` when it is not `price` (--batch: the batch discount). */
  judgmentPrice?: Price;
  /**
   * Spend at most this many dollars on calls (needs `price`): a call is sent only when its most
   * possible cost (prompt estimate + max tokens) fits beside what is spent and reserved; resumable.
   */
  maxCost?: number;
  /** Write the run's calls as OpenAI Batch API request lines to this file, and judge nothing. */
  batchFile?: string;
  /** Load an OpenAI Batch API results file into the run store first (keyed by custom_id). */
  batchResults?: string;
  /** Send the calls through the server's Batch API (files + batches endpoints) instead of live requests. */
  batch?: BatchSettings;
  params?: SamplingParams;
  concurrency?: number;
  /** Show progress on stderr (default true). */
  progress?: boolean;
  signal?: AbortSignal;
  /** When another run holds the output, wait for it rather than refuse (CLI `--wait`). */
  wait?: boolean;
  /** A server head's outputs (vllm-classify:, vllm-pooling:, tei:): "classify:1,2,3,4,5", "regress:1,5" or a package folder. */
  headOutput?: string;
}

export interface BatchSettings {
  /** How often to ask a batch how far it got (default 30 s). */
  pollIntervalMs?: number;
  /** Calls still without an answer after the batch rounds: sent again as batches (default), or live. */
  retry?: "batch" | "live";
  /** Share of the live price a batch costs (default 0.5, OpenAI's discount). */
  discount?: number;
  maxRequests?: number;
  maxBytes?: number;
  /** Progress lines (batch created, re-attached, its status). */
  log?: (line: string) => void;
}

export interface JudgeSummary extends JudgeStats {
  status: "finished" | "interrupted";
  /** Records read from the input: judged + failed + rejected + notStarted. */
  records: number;
  rejected: number;
  /** Records read but not judged because the run stopped (Ctrl-C, --max-cost); the next run judges them. */
  notStarted: number;
  output: string;
  rejects: string | null;
  /** The input ended early (a cut-off .gz): where and why. The run then exits 1. */
  inputTruncated?: string;
  elapsedMs: number;
  /** Swapped pairwise runs: share of pairs whose two orders agreed. */
  positionConsistency?: number;
  /** HTTP calls that failed with a retryable fault (429, 5xx, timeout) and were tried again. */
  requestRetries: number;
  /** --batch-file: request lines written (calls already in the run store are not). */
  batchFile?: { file: string; requests: number };
  /** --batch-results: result lines stored, and lines that failed (those calls run live). */
  batchResults?: BatchResultsSummary;
  /** --batch: the rounds of batches sent (or re-attached to) and what came back. */
  batch?: { rounds: number; batches: Array<{ id: string; status: string; requests: number; reattached: boolean }>; results: BatchResultsSummary; costUsd?: number; interrupted?: string };
  /** Several --base-url for one model: calls served and faults per endpoint. */
  endpoints?: Record<string, EndpointStats>;
  /** With a price: what this run's calls cost (calls answered from the run store cost nothing). */
  cost?: { usd: number; price: Price; stoppedAtMaxCost: boolean; maxUsd?: number };
  /** A jury's run: its judges and how much they agreed (Fleiss' kappa, scores as categories). */
  jury?: { method: JuryMethod; jurors: string[]; fleiss: MetricValue & { items: number; raters: number } };
  runId: number;
}

/**
 * The grader of a run's generative judges (none when every judge is a head): the run's template. A
 * catalogue judge (--model selene-mini) brings its template and rubric; the user's own win.
 */
function generativeGrader(options: JudgeOptions | Omit<JudgeOptions, "input" | "output">): Grader | undefined {
  const specs = Array.isArray(options.model) ? options.model : [options.model];
  if (specs.length > 0 && headSpecsOf(specs).length === specs.length) return undefined;
  return resolveGrader({ ...options, ...catalogDefaults(options), maxTokens: options.params?.maxTokens });
}

/**
 * The judges a run names (one, or a jury's) and the run's grader. A head (a judge package, a vLLM or
 * TEI classifier) is a judge of its own kind (heads/run.ts HeadJuror): it renders its prompts with the
 * template it was trained on where generative judges use the run's, or with --template when it judges
 * alone or beside heads only. Those opened from specs are disposed by `close`.
 */
async function openJudges(options: Omit<JudgeOptions, "input" | "output">, generative: Grader | undefined): Promise<{ grader: Grader; backends: Backend[]; close(): Promise<void> }> {
  const specs = Array.isArray(options.model) ? options.model : [options.model];
  if (specs.length === 0) throw new Error("no model given");
  if (specs.length === 1 && typeof specs[0] === "string" && !isHeadSpec(specs[0]) && options.baseURLs && options.baseURLs.length > 1) {
    // One model on several servers: a pool.
    const opened: Endpoint[] = [];
    try {
      for (const url of options.baseURLs) opened.push({ url, backend: await openBackend(specs[0], { ...options, baseURL: url, requestRetries: options.requestRetries ?? 1 }) });
    } catch (error) {
      for (const e of opened) await e.backend.dispose();
      throw error;
    }
    const pool = createEndpointPool(opened);
    return { grader: generative!, backends: [pool], close: () => pool.dispose() };
  }
  const baseURLOf = juryBaseURLs(specs, options);
  if (headSpecsOf(specs).length > 0) {
    refuseHeadOptions(options);
    if (specs.length > 1) {
      // A jury of heads only takes its mode as a head alone does: --mode, else --template's, else absolute.
      const mode = generative?.mode ?? options.mode ?? (options.template !== undefined ? resolveGrader({ template: options.template }).mode : "absolute");
      const jurors = specs.map((spec) => typeof spec === "string" ? { name: spec, ...(isHeadSpec(spec) ? { head: headOutputOf(spec, options.headOutput) } : {}) } : { name: "generate" in spec ? `${spec.kind}:${spec.model}` : `${spec.provider}:${spec.modelId}` });
      checkJurorScales(jurors, mode, generative);
    }
  }
  const owned: Backend[] = [];
  const backends: Backend[] = [];
  try {
    for (const [i, spec] of specs.entries()) {
      if (typeof spec !== "string") {
        backends.push(asBackend(spec, { ...(options.logprobs ? { logprobs: true } : {}), ...(options.onWarning ? { onWarning: options.onWarning } : {}) }));
        continue;
      }
      const baseURL = baseURLOf(i);
      const backend = isHeadSpec(spec) ? await openHeadJuror(spec, options, specs.length > 1 ? { ...(baseURL !== undefined ? { baseURL } : {}) } : undefined, generative) : await openBackend(spec, { ...options, ...(baseURL !== undefined ? { baseURL } : {}) });
      owned.push(backend);
      backends.push(backend);
    }
    const grader = generative ?? backends.find(isHeadJuror)!.headGrader;
    return { grader, backends, close: async () => { for (const b of owned) await b.dispose(); } };
  } catch (error) {
    for (const b of owned) await b.dispose();
    throw error;
  }
}

/**
 * A jury's --base-url for each model: one for all, one per model in order, or one per model that
 * is not a judge package (a package runs here and takes none).
 */
function juryBaseURLs(specs: JudgeModel[], options: Pick<JudgeOptions, "baseURL" | "baseURLs">): (i: number) => string | undefined {
  const urls = options.baseURLs ?? [];
  if (specs.length < 2 || urls.length < 2 || urls.length === specs.length) return (i) => (urls.length === specs.length ? urls[i] : urls[0] ?? options.baseURL);
  const served = specs.flatMap((spec, i) => (typeof spec === "string" && isJudgePackage(spec) ? [] : [i]));
  if (urls.length !== served.length) throw new Error(`${urls.length} --base-url values for ${specs.length} --model values: give one, or one per model${served.length < specs.length ? ` (or one per model that is not a judge package: ${served.length})` : ""}`);
  return (i) => urls[served.indexOf(i)];
}

/**
 * A head as one of a run's judges. A juror beside generative judges keeps its own template and takes
 * the run's mode; a juror gets its own --base-url (a head alone gets them all, to spread its calls
 * over) and --head only when it is a server head (a package says its outputs itself).
 */
async function openHeadJuror(spec: string, options: Omit<JudgeOptions, "input" | "output">, juror: { baseURL?: string } | undefined, generative: Grader | undefined): Promise<Backend> {
  const { template, baseURLs, headOutput, ...rest } = options;
  const run = await openHeadRun(spec, {
    ...rest,
    maxTokens: options.params?.maxTokens,
    ...(generative ? { mode: generative.mode } : template !== undefined ? { template } : {}),
    ...(juror ? juror : baseURLs ? { baseURLs } : {}),
    ...(headOutput !== undefined && (!juror || !isJudgePackage(spec)) ? { headOutput } : {}),
  });
  return run.identity;
}

export const DEFAULT_STORE = ".critic/store.sqlite";

/** Judges every record of a dataset file and writes one judgment per valid record, in input order. */
export async function judge(options: JudgeOptions): Promise<JudgeSummary> {
  const files = {
    input: options.input, outputs: [options.output, options.rejects ?? `${options.output}.rejects.jsonl`], map: options.map,
    store: options.store ?? DEFAULT_STORE, ...(options.outputFormat ? { format: options.outputFormat } : {}),
    others: [
      ...(options.batchFile ? [{ path: options.batchFile, role: "the --batch-file" }] : []),
      ...(options.batchResults ? [{ path: options.batchResults, role: "the --batch-results file" }] : []),
    ],
  };
  try {
    return await runLocked(files, { wait: options.wait, signal: options.signal }, () => judgeFile(options));
  } catch (error) {
    throw redactError(error);
  }
}

/**
 * --batch: rounds of (write the calls the run still needs as request lines, send them as batches,
 * store their results) until a round needs none, then the judging pass, which reads every answer
 * from the run store. Retries of outputs that did not parse, and the second order of --swap auto,
 * are calls of the next round.
 */
async function judgeThroughBatches(options: JudgeOptions & { batch: BatchSettings }): Promise<JudgeSummary> {
  const specs = Array.isArray(options.model) ? options.model : [options.model];
  const spec = specs[0];
  const aiSdkSpec = typeof spec === "string" ? parseModelSpec(spec) : undefined;
  if (specs.length !== 1 || typeof spec !== "string" || !(spec.startsWith("openai:") || aiSdkSpec?.kind === "ai-sdk")) throw new Error("--batch sends one model's calls through its provider's Batch API; give one --model openai:<name> (or an AI SDK provider with batches: anthropic:<id>, google:<id>)");
  if ((options.baseURLs?.length ?? 0) > 1) throw new Error("--batch uses one server: give one --base-url");
  if (options.maxCost !== undefined) throw new Error("--max-cost cannot stop a batch half way; use it with live calls");
  if (options.batchFile) throw new Error("--batch and --batch-file: choose one");
  const { batch: settings, ...rest } = options;
  const started = performance.now();
  // A catalogue judge (--model selene-mini) brings its template and rubric; the user's own win.
  const grader = resolveGrader({ ...options, ...catalogDefaults(options), maxTokens: options.params?.maxTokens });
  const store = typeof options.store === "object" ? options.store : RunStore.open(options.store ?? DEFAULT_STORE);
  const live = await openBackend(spec, { ...options, ...(options.baseURLs?.[0] ? { baseURL: options.baseURLs[0] } : {}) });
  const aiSdkBatch = aiSdkSpec?.kind === "ai-sdk" ? aiSdkBatchOf(live, aiSdkSpec.provider) : undefined;
  const baseURL = (options.baseURLs?.[0] ?? options.baseURL ?? process.env.OPENAI_BASE_URL ?? "https://api.openai.com/v1").replace(/\/+$/, "");
  // The request lines hold every prompt: they are kept beside the run store (where the answers go
  // too), in a folder of this output's own that the next run of it clears, never in the system temp folder.
  const dir = path.join(store.path === ":memory:" ? path.dirname(path.resolve(options.output)) : path.dirname(path.resolve(store.path)), "batch-requests", createHash("sha256").update(path.resolve(options.output)).digest("hex").slice(0, 16));
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const requests = path.join(dir, "requests.jsonl");
  const log = settings.log ?? (() => {});
  const batches: NonNullable<JudgeSummary["batch"]>["batches"] = [];
  const results = emptyResultsSummary();
  let rounds = 0;
  // One entry in the run history for the whole command (its passes are not runs of their own).
  const runId = store.startRun("judge", { ...describeRun(options, [live], grader), batch: true });
  let recorded: JudgeSummary | undefined;
  const interruptedBatchSummary = (pass: JudgeSummary, why: string): JudgeSummary => ({
    ...emptyStats(), status: "interrupted", records: pass.records, rejected: pass.rejected, notStarted: pass.records - pass.rejected,
    output: `${options.output}.partial`, rejects: pass.rejects, elapsedMs: Math.round(performance.now() - started), requestRetries: 0,
    batch: { rounds, batches, results, interrupted: why }, runId,
  });
  try {
    const maxRounds = (options.maxRetries ?? 2) + 3;
    for (let round = 1; round <= maxRounds; round++) {
      recorded = await judgeFile({ ...rest, model: live, store, batchFile: requests, progress: false, history: false });
      const written = recorded.batchFile?.requests ?? 0;
      if (written === 0) break;
      if (options.signal?.aborted) {
        // Stopped while the lines were written: a part of them must not go out as a batch.
        const summary = interruptedBatchSummary(recorded, "stopped before the batches were sent; run the same command again to send them");
        store.finishRun(runId, "interrupted", summary as unknown as Record<string, unknown>);
        return summary;
      }
      rounds = round;
      log(`batch round ${round}: ${written} calls to send (${recorded.cachedCalls} already in the run store)`);
      let sent: Awaited<ReturnType<typeof runBatches>>;
      try {
        sent = await (aiSdkBatch && aiSdkSpec?.kind === "ai-sdk"
          ? runAiSdkBatches(requests, store, {
            batchApi: aiSdkBatch, modelId: aiSdkSpec.model, server: `${aiSdkSpec.provider}:${options.baseURLs?.[0] ?? options.baseURL ?? "default"}`, model: live.model, output: options.output,
            ...(settings.pollIntervalMs !== undefined ? { pollIntervalMs: settings.pollIntervalMs } : {}),
            ...(settings.maxRequests !== undefined ? { maxRequests: settings.maxRequests } : {}),
            ...(settings.maxBytes !== undefined ? { maxBytes: settings.maxBytes } : {}),
            log, ...(options.signal ? { signal: options.signal } : {}),
          })
          : runBatches(requests, store, {
          baseURL, model: live.model, output: options.output,
          ...(settings.pollIntervalMs !== undefined ? { pollIntervalMs: settings.pollIntervalMs } : {}),
          ...(settings.maxRequests !== undefined ? { maxRequests: settings.maxRequests } : {}),
          ...(settings.maxBytes !== undefined ? { maxBytes: settings.maxBytes } : {}),
          log, ...(options.signal ? { signal: options.signal } : {}),
        }));
      } catch (error) {
        if (!(error instanceof BatchWaitInterrupted)) throw error;
        // Ctrl-C while the batches run: they go on at the server; the next run re-attaches.
        const summary = interruptedBatchSummary(recorded, error.message);
        store.finishRun(runId, "interrupted", summary as unknown as Record<string, unknown>);
        return summary;
      }
      batches.push(...sent.batches);
      results.loaded += sent.results.loaded;
      results.failed += sent.results.failed;
      results.promptTokens += sent.results.promptTokens;
      results.completionTokens += sent.results.completionTokens;
      for (const e of sent.results.examples) if (results.examples.length < 5) results.examples.push(e);
      // A round that answered nothing new (every line failed at the server) would fail again.
      if (sent.results.loaded === 0) break;
    }
    // The judging pass: every answer comes from the store; what the batches could not answer is
    // called live (--batch-retry live) or recorded as failed, to be sent again by the next run.
    const finalModel = settings.retry === "live" ? live : answeredByBatchesOnly(live);
    const discount = settings.discount ?? 0.5;
    const judgmentPrice = options.price ? { ...options.price, inputPerMillion: options.price.inputPerMillion * discount, outputPerMillion: options.price.outputPerMillion * discount } : undefined;
    const summary = await judgeFile({ ...rest, model: finalModel, store, history: false, ...(judgmentPrice ? { judgmentPrice } : {}) });
    const costUsd = options.price ? round6(((results.promptTokens * options.price.inputPerMillion + results.completionTokens * options.price.outputPerMillion) / 1e6) * discount) : undefined;
    if (summary.cost && costUsd !== undefined) summary.cost = { ...summary.cost, usd: round6(summary.cost.usd + costUsd) };
    const done: JudgeSummary = { ...summary, elapsedMs: Math.round(performance.now() - started), runId, batch: { rounds, batches, results, ...(costUsd !== undefined ? { costUsd } : {}) } };
    store.finishRun(runId, done.status, done as unknown as Record<string, unknown>);
    return done;
  } catch (error) {
    store.finishRun(runId, "failed", { error: redactSecrets(error instanceof Error ? error.message : String(error)) });
    throw error;
  } finally {
    await live.dispose();
    await rm(dir, { recursive: true, force: true });
    if (typeof options.store !== "object") store.close();
  }
}

/** The live backend's identity (so the cache keys match) without its calls: a call not in the store is left unanswered. */
/** An AI SDK backend's batch API, or why --batch cannot use this provider. */
function aiSdkBatchOf(live: Backend, provider: string): AiSdkBatchApi {
  const batchApi = (live as { batchApi?: () => AiSdkBatchApi }).batchApi?.();
  if (!batchApi) throw new Error(`--batch: the AI SDK provider "${provider}" has no batch API (experimental_batch); run without --batch`);
  return batchApi;
}

function answeredByBatchesOnly(live: Backend): Backend {
  return {
    ...identityOf(live),
    async generate() {
      throw new DeferredCallError("the batches gave no answer to this call; run the same command again to send it again (or --batch-retry live)");
    },
    dispose: async () => {},
  };
}

/** `history: false`: a pass of a --batch command, which keeps the one history entry itself. */
async function judgeFile(options: JudgeOptions & { history?: false }): Promise<JudgeSummary> {
  if (options.batch) return judgeThroughBatches(options as JudgeOptions & { batch: BatchSettings });
  const started = performance.now();
  if (headSpecsOf(options.model).length > 0) refuseHeadOptions(options);
  const generative = generativeGrader(options);
  const store = typeof options.store === "object" ? options.store : RunStore.open(options.store ?? DEFAULT_STORE);
  if (options.maxCost !== undefined && !options.price) throw new Error("--max-cost needs --price in=<$ per 1M>,out=<$ per 1M>");
  const batchResults = options.batchResults ? await loadBatchResults(options.batchResults, store) : undefined;
  const judges = await openJudges(options, generative);
  const grader = judges.grader;
  if (options.batchFile && judges.backends.length > 1) throw new Error("--batch-file writes one judge's calls; give one --model");
  const recorder = options.batchFile ? createBatchRecorder(judges.backends[0]!, options.batchFile, { sendGrammar: options.sendGrammar, logprobs: options.logprobs }) : undefined;
  const backends = recorder ? [recorder as Backend] : judges.backends;
  const backend = backends[0]!;
  const budget = options.maxCost !== undefined && options.price ? new CostBudget(options.maxCost, options.price) : undefined;
  const signal = options.signal;
  const jurors = backends.length > 1 ? backends : undefined;
  const retriesBefore = sumRetries(backends);
  const agreement = jurors ? new JuryAgreement() : undefined;
  if (options.progress !== false) {
    // What the embedded backend chose (parallelism, context, threads) and why, before any work.
    for (const b of backends) {
      const settings = (b as { settings?: unknown }).settings;
      if (typeof settings === "string" && settings !== "") process.stderr.write(`${settings}\n`);
    }
  }
  const rejectsPath = options.rejects ?? `${options.output}.rejects.jsonl`;
  const rejects = createRejectsWriter(rejectsPath);
  const partial = `${options.output}.partial`;
  const writer = await createRecordWriter(partial, { format: options.outputFormat ?? outputFormatOf(options.output) });
  const stats = emptyStats();
  const runId = options.history === false ? 0 : store.startRun("judge", describeRun(options, backends, grader));
  let records = 0;
  let rejected = 0;
  let truncatedInput: string | undefined;
  const pendingRejects: Reject[] = [];
  const total = options.progress === false ? undefined : await countDataLines(options.input);
  const progress = options.progress === false ? undefined : new Progress({ label: "judge", total });

  const inputs = async function* (): AsyncGenerator<EngineInput> {
    // Rows the reader could not read count as records too, so judged + failed + rejected = records.
    const onReject = (r: Reject) => {
      records++;
      if (r.truncated) truncatedInput = `${r.file}: ${r.reason}`;
      pendingRejects.push(r);
    };
    for await (const sourced of readRecords(options.input, { map: options.map, onReject })) {
      records++;
      const checked = checkRecord(grader, sourced, options.input);
      if (!checked.ok) pendingRejects.push(checked.reject);
      else yield { index: sourced.index, record: checked.record };
      while (pendingRejects.length > 0) {
        rejected++;
        progress?.tick(1);
        await rejects.write(pendingRejects.shift()! as unknown as Record<string, unknown>);
      }
    }
  };

  let status: JudgeSummary["status"] = "finished";
  try {
    for await (const judgment of judgeStream(inputs(), {
      backend, grader, store, stats, ...(jurors ? { jurors, ...(options.jury ? { jury: options.jury } : {}) } : {}),
      // Writing a batch file, a call without an answer yet ends its sample at once (a deferred call
      // is not retried); an answer that is in the store and does not parse is retried, so the retry
      // is written: the next --batch round sends it.
      samples: options.samples, maxRetries: options.maxRetries, swap: options.swap, ...(options.swapThreshold !== undefined ? { swapThreshold: options.swapThreshold } : {}),
      ...(options.distributions === false ? { distributions: false } : {}),
      params: options.params, concurrency: options.concurrency, ...(signal ? { signal } : {}), ...(budget ? { budget } : {}),
    })) {
      const { index: _index, ...row } = judgment;
      // What producing this judgment cost at --price (its calls' tokens, cached or not).
      const price = options.judgmentPrice ?? options.price;
      if (price) row.judge = { ...row.judge, cost_usd: round6((row.judge.tokens.prompt * price.inputPerMillion + row.judge.tokens.completion * price.outputPerMillion) / 1e6) };
      await writer.write(row);
      await emitEvaluationEvent(row);
      agreement?.add(judgment);
      // Writing a batch file, a call without an answer is written, not failed.
      progress?.tick(1, recorder ? `(${recorder.written} request lines written)` : stats.failed > 0 ? `(${stats.failed} failed)` : "");
    }
    for (const reject of pendingRejects) {
      rejected++;
      await rejects.write(reject as unknown as Record<string, unknown>);
    }
    if (signal?.aborted || budget?.exhausted) status = "interrupted";
  } catch (error) {
    await writer.close();
    await rejects.close();
    if (options.history !== false) store.finishRun(runId, "failed", { error: redactSecrets(error instanceof Error ? error.message : String(error)) });
    throw error;
  } finally {
    progress?.finish();
    await judges.close();
  }

  await writer.close();
  await rejects.close();
  await recorder?.close();
  if (recorder) await rm(partial, { force: true });
  else if (status === "finished") await rename(partial, options.output);
  const summary: JudgeSummary = {
    status,
    records,
    rejected,
    notStarted: Math.max(0, records - rejected - stats.judged - stats.failed),
    ...stats,
    output: status === "finished" ? options.output : partial,
    rejects: rejected > 0 ? rejectsPath : null,
    ...(truncatedInput ? { inputTruncated: truncatedInput } : {}),
    elapsedMs: Math.round(performance.now() - started),
    ...(stats.swapPairs > 0 ? { positionConsistency: stats.swapConsistent / stats.swapPairs } : {}),
    requestRetries: sumRetries(backends) - retriesBefore,
    ...(recorder ? { batchFile: { file: options.batchFile!, requests: recorder.written } } : {}),
    ...(batchResults ? { batchResults } : {}),
    ...("endpointStats" in backend ? { endpoints: (backend as { endpointStats(): Record<string, EndpointStats> }).endpointStats() } : {}),
    ...(options.price ? { cost: { usd: round6(costOf(stats, options.price)), price: options.price, stoppedAtMaxCost: budget?.exhausted ?? false, ...(options.maxCost !== undefined ? { maxUsd: options.maxCost } : {}) } } : {}),
    ...(agreement ? { jury: { method: options.jury ?? defaultJuryMethod(grader.mode), jurors: backends.map((b) => `${b.kind}:${b.model}`), fleiss: agreement.kappa() } } : {}),
    runId,
  };
  if (options.history !== false) store.finishRun(runId, status, summary as unknown as Record<string, unknown>);
  if (typeof options.store !== "object") store.close();
  if (rejected === 0) await rm(rejectsPath, { force: true });
  return summary;
}

/**
 * Judges in-memory records (library use); yields judgments in input order. A record that cannot
 * be judged (a missing field, say) yields a judgment with `error` and no verdict, as the CLI
 * writes a reject, and the records after it are judged.
 */
export async function* judgeRecords(
  records: Iterable<Record<string, unknown>> | AsyncIterable<Record<string, unknown>>,
  options: Omit<JudgeOptions, "input" | "output" | "outputFormat" | "rejects" | "progress" | "map" | "wait">,
): AsyncGenerator<Judgment> {
  const generative = generativeGrader(options);
  const store = options.store === undefined ? undefined : typeof options.store === "object" ? options.store : RunStore.open(options.store);
  const judges = await openJudges(options, generative);
  const grader = judges.grader;
  const backend = judges.backends[0]!;
  const jurors = judges.backends.length > 1 ? judges.backends : undefined;
  const rejected: Array<{ index: number; judgment: Judgment }> = [];
  async function* inputs(): AsyncGenerator<EngineInput> {
    let index = 0;
    for await (const record of records) {
      const checked = checkRecord(grader, { index, line: index + 1, record }, "<records>");
      if (checked.ok) yield { index, record: checked.record };
      else rejected.push({ index, judgment: rejectedJudgment(record, `record ${index + 1}: ${checked.reject.reason}`, backend, grader) });
      index++;
    }
  }
  try {
    for await (const judgment of judgeStream(inputs(), { ...options, backend, grader, store, ...(jurors ? { jurors } : {}) })) {
      const { index, ...row } = judgment;
      while (rejected.length > 0 && rejected[0]!.index < index) yield rejected.shift()!.judgment;
      await emitEvaluationEvent(row as Judgment);
      yield row as Judgment;
    }
    while (rejected.length > 0) yield rejected.shift()!.judgment;
  } finally {
    await judges.close();
    if (store && typeof options.store !== "object") store.close();
  }
}

function rejectedJudgment(record: Record<string, unknown>, error: string, backend: Backend, grader: Grader): Judgment {
  return {
    ...record,
    feedback: null,
    ...(grader.mode === "absolute" ? { score: null } : { winner: null }),
    error,
    judge: { backend: backend.kind, model: backend.model, template: grader.template, raw: null, samples: [], tokens: { prompt: 0, completion: 0 }, latencyMs: 0, cached: false, calls: 0 },
  };
}

/**
 * Validates a record's fields and checks the template can be filled from it, so a bad record
 * is rejected (with file, line and field) before any call is paid for.
 */
function checkRecord(
  grader: Grader,
  sourced: SourcedRecord,
  file: string,
): { ok: true; record: Record<string, unknown> } | { ok: false; reject: Reject } {
  const validated = validateRecord(judgeRecordSchema, sourced, file);
  if (!validated.ok) return validated;
  const record = validated.value;
  try {
    grader.buildMessages(record);
    return { ok: true, record };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const field = /field "([\w.]+)"/.exec(reason)?.[1];
    return { ok: false, reject: { file, line: sourced.line, ...(field ? { field } : {}), reason, record: sourced.record } };
  }
}

/** "in=0.15,out=0.6" (dollars per million tokens). */
export function parsePrice(text: string): Price {
  const parts = Object.fromEntries(text.split(",").map((p) => p.split("=").map((x) => x.trim())));
  const input = Number(parts.in);
  const output = Number(parts.out);
  if (!(input >= 0) || !(output >= 0) || Object.keys(parts).some((k) => k !== "in" && k !== "out")) {
    throw new Error(`--price "${text}": expected in=<$ per 1M prompt tokens>,out=<$ per 1M completion tokens>, e.g. in=0.15,out=0.6`);
  }
  return { inputPerMillion: input, outputPerMillion: output };
}

function costOf(stats: JudgeStats, price: Price): number {
  return priceOf(stats.paidPromptTokens, stats.paidCompletionTokens, price);
}

function sumRetries(backends: Backend[]): number {
  return backends.reduce((sum, b) => sum + requestRetriesOf(b), 0);
}

function describeRun(options: JudgeOptions, backends: Backend[], grader: Grader): Record<string, unknown> {
  const backend = backends[0]!;
  return {
    input: options.input,
    output: options.output,
    backend: backend.kind,
    model: backend.model,
    ...(backends.length > 1 ? { jury: backends.map((b) => `${b.kind}:${b.model}`), juryMethod: options.jury ?? defaultJuryMethod(grader.mode) } : {}),
    template: grader.template,
    mode: grader.mode,
    samples: options.samples ?? 1,
    swap: options.swap ?? false,
    params: options.params ?? {},
  };
}
