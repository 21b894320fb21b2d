import type { Command } from "commander";
import { parseFieldMap } from "../records/read.js";
import { judge, parsePrice, type JudgeSummary } from "../judge/judge.js";
import { formatDuration } from "../util/progress.js";
import { plural } from "../util/plural.js";
import { formatValue } from "../metaeval/index.js";
import type { JuryMethod } from "../judge/types.js";
import { InvalidArgumentError } from "commander";
import { redactSecrets } from "../util/redact.js";
import { collect, interruptSignal, positiveInt } from "./options.js";
import { addJudgeOptions, judgeOptionsFrom, NO_MODEL_MESSAGE, type JudgeCliOptions } from "./judge-options.js";

export function registerJudge(program: Command): void {
  const command = program
    .command("judge")
    .description("grade every record of a dataset with an LLM judge (absolute or pairwise)")
    .argument("<input>", "dataset: .jsonl, .json, .csv or .parquet (optionally .gz)")
    .requiredOption("-o, --output <file>", "judgments file: .jsonl, .json, .csv, .tsv or .parquet (.gz for the text ones); the name picks the format")
    .option("--mode <mode>", "absolute | pairwise (picks the Prometheus template of that mode)")
    .option("--map <new=old>", "rename a field, e.g. --map instruction=orig_instruction (repeatable)", collect, [])
    .option("--rejects <file>", "bad records (default <output>.rejects.jsonl)")
    .option("--wait", "when another run is writing the same output, wait for it instead of refusing")
    .option("--price <in=,out=>", "dollars per million tokens, e.g. in=0.15,out=0.6: the run's cost in the summary")
    .option("--max-cost <dollars>", "spend at most this much (needs --price): a call is sent only if its prompt and max tokens fit under the cap; run again to go on", Number)
    .option("--batch-file <file>", "write the calls as OpenAI Batch API request lines (custom_id = cache key) and judge nothing; run them anywhere (OpenAI Batch, vLLM run-batch)")
    .option("--batch-results <file>", "read an OpenAI Batch API results file into the run store first; the run answers those calls from it")
    .option("--batch", "send the calls through the provider's Batch API (OpenAI files + batches, or anthropic:/google: through the AI SDK: half the price, no rate limits), follow the batches, then judge; a killed run re-attaches")
    .option("--poll-interval <seconds>", "--batch: how often to ask how far a batch got", positiveNumber, 30)
    .option("--batch-retry <how>", "--batch: calls the batches gave no answer to: batch (send them again next run; default) | live", batchRetryOption)
    .option("--batch-discount <share>", "--batch: share of --price a batched token costs", positiveNumber, 0.5)
    .option("--batch-max-requests <n>", "--batch: requests per batch file (OpenAI: 50000)", positiveInt)
    .option("--jury <method>", "several --model: how the jury decides: mean | median (scores) | majority (default mean for scores, majority for verdicts)");
  addJudgeOptions(command, { repeatModel: "repeat to form a jury: every model grades every record and --jury decides" }).action(async (input: string, opts: JudgeCommandOptions) => {
    const models = opts.model.length > 0 ? opts.model : process.env.CRITIC_MODEL ? [process.env.CRITIC_MODEL] : [];
    if (models.length === 0) throw new Error(NO_MODEL_MESSAGE);
    if (opts.jury && models.length < 2) throw new Error("--jury needs two or more --model");
    const model = models.length === 1 ? models[0]! : models;
    const interrupt = interruptSignal(() =>
      process.stderr.write("\nstopping: finishing the calls in flight (Ctrl-C again to quit now)\n"),
    );
    try {
      const summary = await judge({
        ...judgeOptionsFrom(opts),
        input,
        output: opts.output,
        model,
        map: parseFieldMap(opts.map),
        rejects: opts.rejects,
        wait: opts.wait,
        ...(opts.jury ? { jury: opts.jury as JuryMethod } : {}),
        ...(opts.price ? { price: parsePrice(opts.price) } : {}),
        ...(opts.batchFile ? { batchFile: opts.batchFile } : {}),
        ...(opts.batchResults ? { batchResults: opts.batchResults } : {}),
        ...(opts.maxCost !== undefined ? { maxCost: opts.maxCost } : {}),
        ...(opts.batch
          ? {
              batch: {
                pollIntervalMs: opts.pollInterval * 1000,
                retry: opts.batchRetry ?? "batch",
                discount: opts.batchDiscount,
                ...(opts.batchMaxRequests !== undefined ? { maxRequests: opts.batchMaxRequests } : {}),
                log: (line: string) => process.stderr.write(`${redactSecrets(line)}\n`),
              },
            }
          : {}),
        signal: interrupt.signal,
      });
      process.stderr.write(redactSecrets(formatSummary(summary, { swap: opts.swap, swapThreshold: opts.swapThreshold })));
      process.exitCode = judgeExitCode(summary);
    } finally {
      interrupt.dispose();
    }
  });
}

interface JudgeCommandOptions extends JudgeCliOptions {
  model: string[];
  jury?: string;
  price?: string;
  maxCost?: number;
  batchFile?: string;
  batchResults?: string;
  batch?: boolean;
  pollInterval: number;
  batchRetry?: "batch" | "live";
  batchDiscount: number;
  batchMaxRequests?: number;
  output: string;
  map: string[];
  rejects?: string;
  wait?: boolean;
}

/** 130 when interrupted; 1 when a record failed or nothing could be judged; else 0. */
export function judgeExitCode(s: JudgeSummary): number {
  if (s.batchFile) return 0;
  if (s.cost?.stoppedAtMaxCost) return 1;
  if (s.status === "interrupted") return 130;
  if (s.inputTruncated) return 1;
  return s.failed > 0 || (s.records > 0 && s.judged === 0) ? 1 : 0;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number above 0, got "${value}"`);
  return n;
}

function batchRetryOption(value: string): "batch" | "live" {
  if (value === "batch" || value === "live") return value;
  throw new InvalidArgumentError(`expected batch or live, got "${value}"`);
}

/** What running a command again does with the calls of a run that had failures. */
export const RETRY_NOTE = "answered calls are read from the run store; outputs that did not parse, or were empty, get new samples with new seeds; calls that got no answer are sent again";

/** What the command line asked for that the summary does not record. */
export interface SummaryContext {
  swap?: boolean | "auto";
  swapThreshold?: number;
}

export function formatSummary(s: JudgeSummary, asked: SummaryContext = {}): string {
  if (s.batchFile) {
    return `wrote ${plural(s.batchFile.requests, "batch request line")} to ${s.batchFile.file} (${plural(s.cachedCalls, "call")} already in the run store, not written); ` +
      `run them (OpenAI Batch API, vLLM run-batch), then the same command with --batch-results <results.jsonl> instead of --batch-file\n`;
  }
  const lines = [
    s.cost?.stoppedAtMaxCost
      ? `stopped at --max-cost: the next call could have taken the cost over $${s.cost.maxUsd ?? "the cap"} (each call reserves its prompt and max tokens before it is sent); partial output in ${s.output}; run again with a higher --max-cost to go on (finished calls are cached)`
      : s.batch?.interrupted
      ? `interrupted: ${s.batch.interrupted}`
      : s.status === "interrupted"
      ? `interrupted: partial output in ${s.output}; run the same command again to resume (finished calls are cached)`
      : `wrote ${plural(s.judged + s.failed, "judgment")} to ${s.output}`,
    `  records ${s.records}, judged ${s.judged}, failed ${s.failed}, rejected ${s.rejected}${s.rejects ? ` (see ${s.rejects})` : ""}${s.notStarted > 0 || s.status === "interrupted" ? `, not started ${s.notStarted}` : ""}`,
    `  calls ${s.calls} (${s.cachedCalls} cached), parse failures ${s.parseFailures}, parse retries ${s.parseRetries}, backend errors ${s.backendErrors} (after ${s.requestRetries} retried server faults)`,
    `  tokens ${s.promptTokens} prompt + ${s.completionTokens} completion, time ${formatDuration(s.elapsedMs / 1000)}`,
  ];
  if (s.inputTruncated) lines.push(`the input is incomplete: ${s.inputTruncated}; the records before that point were judged`);
  if (s.failed > 0) lines.push(`${s.failed} failed: run the same command again to retry them (${RETRY_NOTE})`);
  else if (s.records > 0 && s.judged === 0) lines.push(`nothing was judged: ${s.records === 1 ? "the one record was" : `all ${s.records} records were`} rejected${s.rejects ? ` (see ${s.rejects})` : ""}`);
  if (s.batchResults) {
    lines.push(`  batch results: ${s.batchResults.loaded} stored${s.batchResults.failed ? `, ${s.batchResults.failed} failed lines (called live): ${s.batchResults.examples.map((e) => `${e.custom_id.slice(0, 12)}: ${e.reason}`).join("; ")}` : ""}`);
  }
  if (s.batch) {
    const reattached = s.batch.batches.filter((b) => b.reattached).length;
    lines.push(
      `  batches: ${s.batch.batches.length} in ${s.batch.rounds} round(s)${reattached ? ` (${reattached} re-attached)` : ""}: ${s.batch.results.loaded} answers stored, ${s.batch.results.failed} lines failed` +
        (s.batch.results.examples.length > 0 ? ` (${s.batch.results.examples.map((e) => `${e.custom_id.slice(0, 12)}: ${e.reason}`).join("; ")})` : "") +
        (s.batch.costUsd !== undefined ? `; batch cost $${s.batch.costUsd.toFixed(4)} for ${s.batch.results.promptTokens} prompt + ${s.batch.results.completionTokens} completion tokens at the batch discount` : ""),
    );
  }
  if (s.endpoints) {
    lines.push(`  endpoints: ${Object.entries(s.endpoints).map(([url, e]) => `${url} served ${e.served}${e.failed ? `, ${e.failed} failed` : ""}${e.takenOut ? `, taken out ${e.takenOut}x` : ""}`).join("; ")}`);
  }
  if (s.cost) {
    lines.push(`  cost $${s.cost.usd.toFixed(4)} for ${s.paidPromptTokens} prompt + ${s.paidCompletionTokens} completion tokens paid (at $${s.cost.price.inputPerMillion}/$${s.cost.price.outputPerMillion} per 1M; cached calls cost nothing)`);
  }
  if (s.jury) {
    lines.push(`  jury of ${s.jury.jurors.length} (${s.jury.method}): ${s.jury.jurors.join(", ")}; agreement between jurors, Fleiss' kappa ${formatValue(s.jury.fleiss)} on ${plural(s.jury.fleiss.items, "record")}`);
  }
  if (s.withoutDistribution > 0) lines.push(`  no verdict probabilities for ${s.withoutDistribution} call(s): ${s.distributionNote ?? "the backend gave none"}`);
  if (s.positionConsistency !== undefined) {
    lines.push(`  position consistency ${(s.positionConsistency * 100).toFixed(1)}% of ${s.swapPairs} swapped pairs`);
  }
  if (s.swapSkipped > 0) {
    lines.push(`  --swap auto: ${s.swapSkipped} of ${plural(s.swapSkipped + s.swapPairs, "pair")} graded in one order (the judge sure enough), ${plural(s.swapSkipped, "call")} saved`);
  } else if (asked.swap === "auto" && s.swapPairs > 0) {
    lines.push(
      `  --swap auto: 0 calls saved: all ${plural(s.swapPairs, "pair")} graded in both orders (the judge's winner probability never reached ` +
        `--swap-threshold ${asked.swapThreshold ?? 0.9}${s.withoutDistribution > 0 ? ", or it gave none" : ""})`,
    );
  }
  return `${lines.join("\n")}\n`;
}
