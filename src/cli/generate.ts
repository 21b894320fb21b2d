import { writeFile } from "node:fs/promises";
import { InvalidArgumentError, type Command } from "commander";
import { parseFieldMap } from "../records/read.js";
import type { SamplingParams } from "../backends/types.js";
import { criticalQuestions, type QuestionsCounters } from "../pipelines/questions.js";
import { makePairs, type PairSource, type PairsCounters } from "../pipelines/pairs.js";
import { parseAcceptRule, revise, type ReviseCounters } from "../pipelines/revise.js";
import type { PipelineOptions, PipelineSummary } from "../pipelines/run.js";
import { formatDuration } from "../util/progress.js";
import { plural } from "../util/plural.js";
import { RETRY_NOTE } from "./judge.js";
import { collect, finiteNumber, interruptSignal, positiveInt, temperatureOption, topPOption, wholeNumber } from "./options.js";

/** `critic generate revise|pairs|questions`: training data from a generator and a judge. */
export function registerGenerate(program: Command): void {
  const generate = program
    .command("generate")
    .description("make training data with a generator model and a judge: self-critique revisions, preference pairs, critical questions");

  addPipelineOptions(
    generate
      .command("revise")
      .description("answer each prompt, critique the answer against a principle, revise it (k rounds); the judge scores every step and accepted revisions give chosen/rejected pairs")
      .argument("<prompts>", "records with a `prompt` (or `instruction`) field: .jsonl, .json, .csv or .parquet")
      .option("--principle <name|file>", "harmlessness | positive-sentiment | privacy | a principle .yaml file", "harmlessness")
      .option("--steps <n>", "critique-revision rounds", positiveInt, 1)
      .option("--accept <rule>", "improved (revision scores higher) | always | min-gain=<x>", acceptOption, "improved"),
    "principle's own rubric",
  ).action(async (input: string, opts: ReviseCliOptions) => {
    await runCommand((signal) => revise({ ...pipelineOptionsFrom(opts), signal, input, principle: opts.principle, steps: opts.steps, accept: opts.accept }));
  });

  addPipelineOptions(
    generate
      .command("pairs")
      .description("preference pairs {prompt, chosen, rejected}: from scored candidates, by degrading good responses (judge-verified), or from revise output")
      .argument("[input]", "records (see the mode flags); optional with --from-revisions <file>")
      .option("--from-candidates", "records with a prompt and a list of candidates (`responses`, optional `scores`), or one scored `response` per row grouped by prompt; missing scores come from the judge")
      .option("--degrade", "records with a prompt and a good `response`: the model writes a worse one, kept once the judge scores it lower")
      .option("--from-revisions [file]", "`critic generate revise` output: the accepted revision is chosen, the original rejected")
      .option("--all-pairs", "candidates: every pair above the margin, not only best vs worst")
      .option("--margin <m>", "keep a pair only when chosen_score - rejected_score > m (equal scores are ties, always dropped)", finiteNumber, 0)
      .option("--candidates-field <name>", "candidates: the list field", "responses")
      .option("--scores-field <name>", "candidates: the parallel list of scores", "scores")
      .option("--degrade-style <style>", "generic | wrong-type (critical questions: a question of another type) | a template file with {prompt} {response} {type} {wrong_type} {wrong_type_description}", "generic")
      .option("--max-attempts <n>", "degrade: attempts at a worse response before giving up", positiveInt, 3)
      .option("--types <set>", "degrade wrong-type: socratic | walton | a question-types .yaml file", "socratic"),
    "helpfulness (degrade wrong-type: the question set's rubric)",
  ).action(async (input: string | undefined, opts: PairsCliOptions) => {
    const modes: PairSource[] = [
      ...(opts.fromCandidates ? (["candidates"] as const) : []),
      ...(opts.degrade ? (["degrade"] as const) : []),
      ...(opts.fromRevisions !== undefined ? (["revise"] as const) : []),
    ];
    if (modes.length !== 1) throw new Error("generate pairs needs exactly one of --from-candidates, --degrade, --from-revisions");
    const file = input ?? (typeof opts.fromRevisions === "string" ? opts.fromRevisions : undefined);
    if (!file) throw new Error("generate pairs: no input file");
    if (input && typeof opts.fromRevisions === "string") throw new Error("generate pairs: give the revise output either as --from-revisions <file> or as the input, not both");
    await runCommand((signal) => makePairs({
      ...pipelineOptionsFrom(opts),
      signal,
      input: file,
      from: modes[0]!,
      margin: opts.margin,
      allPairs: opts.allPairs,
      candidatesField: opts.candidatesField,
      scoresField: opts.scoresField,
      degradeStyle: opts.degradeStyle,
      maxAttempts: opts.maxAttempts,
      types: opts.types,
    }));
  });

  addPipelineOptions(
    generate
      .command("questions")
      .description("write a critical question of each type about each text, or (--classify) have the judge label each question's type and measure it against human labels")
      .argument("<input>", "generate: records with `text` (and optional `type`: a name or a list); classify: records with `question` (and optional `text`)")
      .option("--types <set>", "socratic | walton | a question-types .yaml file", "socratic")
      .option("--type <name>", "generate: the type for records without a `type` field (repeatable; default every type)", collect, [])
      .option("--classify", "classify each record's `question` with the judge (a grammar over the type names on the embedded backend)")
      .option("--gold <field>", "classify: the human label field; prints accuracy, kappa and per-type counts")
      .option("--metrics <file>", "classify with --gold: write the classification report as JSON")
      .option("--score", "generate: also score each question with the judge"),
    "the question set's rubric",
  ).action(async (input: string, opts: QuestionsCliOptions) => {
    if (opts.metrics && !opts.gold) throw new Error("--metrics needs --classify --gold <field>");
    if (opts.gold && !opts.classify) throw new Error("--gold needs --classify");
    await runCommand(async (signal) => {
      const summary = await criticalQuestions({
        ...pipelineOptionsFrom(opts),
        signal,
        input,
        types: opts.types,
        classify: opts.classify,
        ...(opts.type.length > 0 ? { type: opts.type } : {}),
        gold: opts.gold,
        score: opts.score,
      });
      if (opts.metrics && summary.stage.classification) {
        await writeFile(opts.metrics, `${JSON.stringify(summary.stage.classification, null, 2)}\n`);
      }
      return summary;
    });
  });
}

function acceptOption(value: string): ReturnType<typeof parseAcceptRule> {
  try {
    return parseAcceptRule(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** The generator, judge, store and sampling flags every generate subcommand takes. */
function addPipelineOptions(command: Command, defaultRubric: string): Command {
  return command
    .requiredOption("-o, --output <file>", "output file: .jsonl, .json, .csv, .tsv or .parquet (.gz for the text ones); the name picks the format")
    .option("-m, --model <spec>", "generator: ./model.gguf | hf:<user>/<repo>[:quant] | openai:<name> | ollama:<name> (default: $CRITIC_MODEL)")
    .option("-j, --judge <spec>", "judge (same forms; default: the --model)")
    .option("--base-url <url>", "OpenAI-compatible server URL (with openai:<name>); key from $OPENAI_API_KEY")
    .option("--judge-base-url <url>", "OpenAI-compatible URL for the judge when it differs from --base-url")
    .option("--host <url>", "Ollama server (with ollama:<name>; default $OLLAMA_HOST or http://127.0.0.1:11434)")
    .option("-t, --template <name|file>", "judge template, absolute: prometheus | criticon | a template .yaml file")
    .option("-r, --rubric <name|file>", `judge rubric: helpfulness | harmlessness | honesty | factual_validity | reasoning | a rubric .yaml file (default: ${defaultRubric})`)
    .option("-k, --samples <k>", "sampled judgments per scored response (mean score)", positiveInt, 1)
    .option("--max-retries <n>", "new samples when a judge or classifier output does not parse or a generation is empty", wholeNumber, 2)
    .option("--temperature <t>", "generation temperature (default 0.7)", temperatureOption)
    .option("--top-p <p>", "generation nucleus sampling (default 0.9)", topPOption)
    .option("--max-tokens <n>", "tokens per generation (default 512)", positiveInt)
    .option("--seed <n>", "generation seed (default 0; retries use new seeds)", wholeNumber)
    .option("--judge-temperature <t>", "judge temperature (default 0, or 1.0 with --samples > 1)", temperatureOption)
    .option("--judge-max-tokens <n>", "tokens per judgment (default 1024; classification 64)", positiveInt)
    .option("-c, --concurrency <n>", "requests in flight per backend (servers; default 16)", positiveInt)
    .option("-p, --parallel <n>", "parallel sequences of an embedded model (default: 1 on the CPU, up to 8 on a GPU, from free memory)", positiveInt)
    .option("--context-size <n>", "embedded: context tokens per sequence", positiveInt)
    .option("--threads <n>", "embedded: CPU threads", positiveInt)
    .option("--timeout <ms>", "per-request timeout for servers", positiveInt)
    .option("--request-retries <n>", "servers: tries again after a 429, 5xx or timeout, with backoff (default 6)", wholeNumber)
    .option("--map <new=old>", "rename an input field, e.g. --map text=thought (repeatable)", collect, [])
    .option("--store <file>", "run store (cache and resume)", ".critic/store.sqlite")
    .option("--rejects <file>", "bad input records (default <output>.rejects.jsonl)")
    .option("--wait", "when another run is writing the same output, wait for it instead of refusing")
    .option("--failures <file>", "items that gave no output row, with why (default <output>.failed.jsonl)")
    .option("--no-progress", "no progress line");
}

interface PipelineCliOptions {
  output: string;
  model?: string;
  judge?: string;
  baseUrl?: string;
  judgeBaseUrl?: string;
  host?: string;
  template?: string;
  rubric?: string;
  samples: number;
  maxRetries: number;
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  seed?: number;
  judgeTemperature?: number;
  judgeMaxTokens?: number;
  concurrency?: number;
  parallel?: number;
  contextSize?: number;
  threads?: number;
  timeout?: number;
  requestRetries?: number;
  map: string[];
  store: string;
  rejects?: string;
  wait?: boolean;
  failures?: string;
  progress: boolean;
}

interface ReviseCliOptions extends PipelineCliOptions {
  principle: string;
  steps: number;
  accept: ReturnType<typeof parseAcceptRule>;
}

interface PairsCliOptions extends PipelineCliOptions {
  fromCandidates?: boolean;
  degrade?: boolean;
  fromRevisions?: string | boolean;
  allPairs?: boolean;
  margin: number;
  candidatesField: string;
  scoresField: string;
  degradeStyle: string;
  maxAttempts: number;
  types: string;
}

interface QuestionsCliOptions extends PipelineCliOptions {
  types: string;
  type: string[];
  classify?: boolean;
  gold?: string;
  metrics?: string;
  score?: boolean;
}

function definedParams(values: SamplingParams): SamplingParams {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as SamplingParams;
}

function pipelineOptionsFrom(opts: PipelineCliOptions): PipelineOptions {
  const model = opts.model ?? process.env.CRITIC_MODEL;
  return {
    output: opts.output,
    ...(model ? { model } : {}),
    ...(opts.judge ? { judge: opts.judge } : {}),
    baseURL: opts.baseUrl,
    judgeBaseURL: opts.judgeBaseUrl,
    host: opts.host,
    template: opts.template,
    rubric: opts.rubric,
    samples: opts.samples,
    maxRetries: opts.maxRetries,
    params: definedParams({ temperature: opts.temperature, topP: opts.topP, maxTokens: opts.maxTokens, seed: opts.seed }),
    judgeParams: definedParams({ temperature: opts.judgeTemperature, maxTokens: opts.judgeMaxTokens }),
    concurrency: opts.concurrency,
    parallel: opts.parallel,
    contextSize: opts.contextSize,
    threads: opts.threads,
    timeoutMs: opts.timeout,
    ...(opts.requestRetries !== undefined ? { requestRetries: opts.requestRetries } : {}),
    map: parseFieldMap(opts.map),
    store: opts.store,
    rejects: opts.rejects,
    failures: opts.failures,
    wait: opts.wait,
    progress: opts.progress,
  };
}

/** Runs a pipeline with Ctrl-C handling and prints its summary. */
async function runCommand(run: (signal: AbortSignal) => Promise<PipelineSummary>): Promise<void> {
  const interrupt = interruptSignal(() =>
    process.stderr.write("\nstopping: finishing the calls in flight; unfinished items are left for the next run (Ctrl-C again to quit now)\n"),
  );
  try {
    const summary = await run(interrupt.signal);
    process.stderr.write(formatGenerateSummary(summary));
    if (summary.status === "interrupted") process.exitCode = 130;
    else if (summary.inputTruncated || summary.failed > 0 || (summary.records > 0 && summary.items === 0)) process.exitCode = 1;
  } finally {
    interrupt.dispose();
  }
}

/** A readable summary of a generate run, for stderr. */
export function formatGenerateSummary(s: PipelineSummary): string {
  const g = s.generation;
  const j = s.judge;
  const classifying = (s.stage as { mode?: unknown }).mode === "classify";
  const lines = [
    s.status === "interrupted"
      ? `interrupted: partial output in ${s.output}; run the same command again to resume (finished calls are cached)`
      : `wrote ${plural(s.written, "row")} to ${s.output}`,
    `  records ${s.records}, items ${s.items}, failed ${s.failed}, rejected ${s.rejected}${s.rejects ? ` (see ${s.rejects})` : ""}${s.failuresFile ? `, no output for ${s.failures} (see ${s.failuresFile})` : ""}`,
    // Classification is the judge answering through the generation path: its calls are counted there.
    `  ${classifying ? "judge (classification) calls" : "generation calls"} ${g.calls} (${g.cachedCalls} cached), retries ${g.retries}, backend errors ${g.backendErrors} (after ${s.requestRetries} retried server faults)`,
    ...(classifying ? [] : [`  judge calls ${j.calls} (${j.cachedCalls} cached), scored ${j.judged}, failed ${j.failed}, parse failures ${j.parseFailures}`]),
    `  tokens ${g.promptTokens + j.promptTokens} prompt + ${g.completionTokens + j.completionTokens} completion, time ${formatDuration(s.elapsedMs / 1000)}`,
  ];
  if (s.inputTruncated) lines.push(`the input is incomplete: ${s.inputTruncated}; the records before that point were processed`);
  if (s.status === "finished" && s.failed > 0) lines.push(`${s.failed} failed${s.failuresFile ? ` (see ${s.failuresFile})` : ""}: run the same command again to retry them (${RETRY_NOTE})`);
  const stage = s.stage as Partial<ReviseCounters & PairsCounters & QuestionsCounters> & Record<string, unknown>;
  if (s.command === "generate revise") {
    lines.push(`  accepted ${stage.accepted} of ${s.items} (${String(stage.principle)}, ${String(stage.steps)} step(s), accept ${String(stage.accept)}); generation failures ${stage.generationFailures}, judge failures ${stage.scoreFailures}`);
  } else if (s.command.startsWith("generate pairs")) {
    const parts = [`pairs ${stage.pairs}`, `ties dropped ${stage.ties}`, `not above margin ${stage.belowMargin}`];
    if (stage.from === "candidates") parts.push(`unscored candidates ${stage.unscored}`, `prompts with too few candidates ${stage.tooFewCandidates}`);
    if (stage.from === "degrade") parts.push(`attempts ${stage.attempts}`, `no worse response found ${stage.exhausted}`);
    if (stage.from === "revise") parts.push(`not accepted ${stage.notAccepted}`);
    lines.push(`  ${parts.join(", ")}`);
  } else if (stage.mode === "generate") {
    lines.push(`  questions ${stage.generated} (${String(stage.types)} types), failed ${stage.failed}`);
  } else if (stage.mode === "classify") {
    lines.push(`  classified ${stage.classified}, unparseable ${stage.failed}`);
    const c = stage.classification;
    if (c) {
      const acc = c.accuracy === null ? "n/a" : `${(c.accuracy * 100).toFixed(1)}%`;
      const kappa = c.kappa.value === null ? `n/a (${c.kappa.reason})` : c.kappa.value.toFixed(3);
      lines.push(`  accuracy ${acc} (${c.correct}/${c.withGold} with gold; ${c.goldOutsideTypes} gold labels outside the types left out), Cohen's kappa ${kappa}`);
      for (const [name, n] of Object.entries(c.perType)) {
        lines.push(`    ${name.padEnd(36)} gold ${String(n.gold).padStart(5)}  predicted ${String(n.predicted).padStart(5)}  correct ${String(n.correct).padStart(5)}`);
      }
    }
  }
  return `${lines.join("\n")}\n`;
}
