import type { Command } from "commander";
import { parseFieldMap } from "../records/read.js";
import { judge, type JudgeSummary } from "../judge/judge.js";
import { formatDuration } from "../util/progress.js";
import { collect, finiteNumber, interruptSignal, positiveInt, wholeNumber } from "./options.js";

export function registerJudge(program: Command): void {
  program
    .command("judge")
    .description("grade every record of a dataset with an LLM judge (absolute or pairwise)")
    .argument("<input>", "dataset: .jsonl, .json, .csv or .parquet (optionally .gz)")
    .requiredOption("-o, --output <file>", "judgments file (.jsonl, or .parquet)")
    .option("-m, --model <spec>", "./judge.gguf | hf:<user>/<repo>[:quant] | openai:<name> | ollama:<name> (default: $CRITIC_MODEL)")
    .option("--base-url <url>", "OpenAI-compatible server URL (with openai:<name>); key from $OPENAI_API_KEY")
    .option("--host <url>", "Ollama server (with ollama:<name>; default $OLLAMA_HOST or http://127.0.0.1:11434)")
    .option("-t, --template <name|file>", "prometheus | prometheus-pairwise | criticon | a template .yaml file")
    .option("--mode <mode>", "absolute | pairwise (picks the Prometheus template of that mode)")
    .option("-r, --rubric <name|file>", "helpfulness | harmlessness | honesty | factual_validity | reasoning | a rubric .yaml file (default: the record's own criteria fields)")
    .option("-k, --samples <k>", "sampled judgments per record (mean score / majority verdict)", positiveInt, 1)
    .option("--swap", "pairwise: grade both orders; disagreeing orders give a tie")
    .option("--structured", "ask for JSON {feedback, score|winner} where the backend enforces a schema (Ollama)")
    .option("--max-retries <n>", "new samples when an output does not parse", wholeNumber, 2)
    .option("--temperature <t>", "sampling temperature (default 0, or 1.0 with --samples > 1)", finiteNumber)
    .option("--top-p <p>", "nucleus sampling", finiteNumber)
    .option("--max-tokens <n>", "tokens per judgment", positiveInt)
    .option("--seed <n>", "base seed (sample i, retry j use seed + 1000 i + j)", wholeNumber)
    .option("-c, --concurrency <n>", "requests in flight (servers; default 16)", positiveInt)
    .option("-p, --parallel <n>", "parallel sequences of the embedded model (default 4)", positiveInt)
    .option("--context-size <n>", "embedded: context tokens per sequence", positiveInt)
    .option("--threads <n>", "embedded: CPU threads", positiveInt)
    .option("--lora <file>", "embedded: LoRA adapter (GGUF)")
    .option("--lora-scale <x>", "embedded: LoRA scale", finiteNumber)
    .option("--timeout <ms>", "per-request timeout for servers", positiveInt)
    .option("--map <new=old>", "rename a field, e.g. --map instruction=orig_instruction (repeatable)", collect, [])
    .option("--store <file>", "run store (cache and resume)", ".critic/store.sqlite")
    .option("--rejects <file>", "bad records (default <output>.rejects.jsonl)")
    .option("--no-progress", "no progress line")
    .action(async (input: string, opts: JudgeCliOptions) => {
      const model = opts.model ?? process.env.CRITIC_MODEL;
      if (!model) throw new Error("no model: pass --model ./judge.gguf, --model openai:<name> --base-url <url>, or --model ollama:<name> (or set CRITIC_MODEL)");
      const interrupt = interruptSignal(() =>
        process.stderr.write("\nstopping: finishing the calls in flight (Ctrl-C again to quit now)\n"),
      );
      try {
        const summary = await judge({
          input,
          output: opts.output,
          model,
          baseURL: opts.baseUrl,
          host: opts.host,
          template: opts.template,
          mode: opts.mode,
          rubric: opts.rubric,
          samples: opts.samples,
          swap: opts.swap,
          structured: opts.structured,
          maxRetries: opts.maxRetries,
          params: {
            ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
            ...(opts.topP !== undefined ? { topP: opts.topP } : {}),
            ...(opts.maxTokens !== undefined ? { maxTokens: opts.maxTokens } : {}),
            ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
          },
          concurrency: opts.concurrency,
          parallel: opts.parallel,
          contextSize: opts.contextSize,
          threads: opts.threads,
          lora: opts.lora ? { path: opts.lora, scale: opts.loraScale } : undefined,
          timeoutMs: opts.timeout,
          map: parseFieldMap(opts.map),
          store: opts.store,
          rejects: opts.rejects,
          progress: opts.progress,
          signal: interrupt.signal,
        });
        process.stderr.write(formatSummary(summary));
        if (summary.status === "interrupted") process.exitCode = 130;
      } finally {
        interrupt.dispose();
      }
    });
}

interface JudgeCliOptions {
  output: string;
  model?: string;
  baseUrl?: string;
  host?: string;
  template?: string;
  mode?: "absolute" | "pairwise";
  rubric?: string;
  samples: number;
  swap?: boolean;
  structured?: boolean;
  maxRetries: number;
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  seed?: number;
  concurrency?: number;
  parallel?: number;
  contextSize?: number;
  threads?: number;
  lora?: string;
  loraScale?: number;
  timeout?: number;
  map: string[];
  store: string;
  rejects?: string;
  progress: boolean;
}

export function formatSummary(s: JudgeSummary): string {
  const lines = [
    s.status === "interrupted"
      ? `interrupted: partial output in ${s.output}; run the same command again to resume (finished calls are cached)`
      : `wrote ${s.judged + s.failed} judgments to ${s.output}`,
    `  records ${s.records}, judged ${s.judged}, failed ${s.failed}, rejected ${s.rejected}${s.rejects ? ` (see ${s.rejects})` : ""}`,
    `  calls ${s.calls} (${s.cachedCalls} cached), parse failures ${s.parseFailures}, parse retries ${s.parseRetries}, backend errors ${s.backendErrors}`,
    `  tokens ${s.promptTokens} prompt + ${s.completionTokens} completion, time ${formatDuration(s.elapsedMs / 1000)}`,
  ];
  if (s.positionConsistency !== undefined) {
    lines.push(`  position consistency ${(s.positionConsistency * 100).toFixed(1)}% of ${s.swapPairs} swapped pairs`);
  }
  return `${lines.join("\n")}\n`;
}
