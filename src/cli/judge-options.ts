import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "commander";
import type { Command } from "commander";
import type { JudgeOptions } from "../judge/judge.js";
import { PARSE_MODES, type ParseMode } from "../parse/index.js";
import { builtinTemplateNames } from "../templates/index.js";
import { collect, finiteNumber, positiveInt, temperatureOption, topPOption, wholeNumber } from "./options.js";

/** The model and grading flags shared by every command that runs a judge (judge, bench run); `repeatModel` says what several --model do. */
export function addJudgeOptions(command: Command, { repeatModel }: { repeatModel?: string } = {}): Command {
  const modelHelp = "./judge.gguf | hf:<user>/<repo>[:quant] | a judge's name (critic judges) | openai:<name> | ollama:<name> | ./judge-package/ | vllm-classify:<name> | vllm-pooling:<name> | tei:<url> | anthropic:|google:|mistral:|bedrock:|azure:|vertex:|groq:|xai:<id> through the AI SDK provider package, key from its usual variable (default: $CRITIC_MODEL)";
  (repeatModel
    ? command.option("-m, --model <spec>", `${modelHelp}; ${repeatModel}`, collect, [])
    : command.option("-m, --model <spec>", modelHelp))
    .option("--base-url <url>", "OpenAI-compatible server URL (with openai:<name>; key from $OPENAI_API_KEY), or an AI SDK provider's API URL; a jury may give one per --model (or one per --model that is not a judge package)", collect, [])
    .option("--endpoints <file>", "servers of one openai:<model>, one base URL a line (# comments): added to --base-url")
    .option("--host <url>", "Ollama server (with ollama:<name>; default $OLLAMA_HOST or http://127.0.0.1:11434)")
    .option("-t, --template <name|file>", `${templateHelp()} | a template .yaml file (default: the --model judge's own, else prometheus-absolute or, with --mode pairwise, prometheus-pairwise)`)
    .option("-r, --rubric <name|file>", "helpfulness | harmlessness | honesty | factual_validity | reasoning | instruction_following | a rubric .yaml file")
    .option("-k, --samples <k>", "sampled judgments per record (mean score / majority verdict)", positiveInt, 1)
    .option("--swap [auto]", "pairwise: grade both orders; disagreeing orders give a tie. --swap auto: the second order only where the judge's winner probability is below --swap-threshold")
    .option("--swap-threshold <p>", "--swap auto: winner probability from which one order is enough (default 0.9)", probability)
    .option("--parse <mode>", "authors: read verdicts as each format's own code does (default) | strict: only a verdict in the closing line", parseMode)
    .option("--reasoning", "let the judge think first: the output grammar (embedded, --server-grammar) allows a <think>…</think> block before the verdict, sized from --max-tokens; verdicts are read after it")
    .option("--structured", "ask for JSON {feedback, score|winner} where the backend enforces a schema (Ollama)")
    .option("--max-retries <n>", "new samples when an output does not parse", wholeNumber, 2)
    .option("--temperature <t>", "sampling temperature (default 0, or 1.0 with --samples > 1)", temperatureOption)
    .option("--top-p <p>", "nucleus sampling", topPOption)
    .option("--max-tokens <n>", "tokens per judgment", positiveInt)
    .option("--seed <n>", "base seed (sample i, retry j use seed + 1000 i + j)", wholeNumber)
    .option("-c, --concurrency <n>", "requests in flight (servers; default 16)", positiveInt)
    .option("-p, --parallel <n>", "parallel sequences of the embedded model (default: 1 on the CPU, up to 8 on a GPU, from free memory; a judge package: 1)", positiveInt)
    .option("--context-size <n>", "embedded: context tokens per sequence", positiveInt)
    .option("--threads <n>", "embedded: CPU threads", positiveInt)
    .option("--lora <file>", "embedded: LoRA adapter (GGUF)")
    .option("--lora-scale <x>", "embedded: LoRA scale", finiteNumber)
    .option("--timeout <ms>", "per-request timeout for servers", positiveInt)
    .option("--rpm <n>", "openai: at most n requests per minute", positiveInt)
    .option("--tpm <n>", "openai: at most n tokens (prompt + completion) per minute", positiveInt)
    .option("--request-retries <n>", "servers: tries again after a 429, 5xx or timeout, with backoff (default 6)", wholeNumber)
    .option("--server-grammar", "openai: send the output grammar as `grammar` (llama.cpp server, critic serve), so every output parses")
    .option("--no-distribution", "no score/winner probabilities (on by default where the backend reads them: embedded, or openai with --logprobs)")
    .option("--logprobs", "openai (and OpenAI through the AI SDK): ask for logprobs (top 20) and give every judgment a score/winner distribution (vLLM, llama.cpp server, OpenAI)")
    .option("--head <outputs>", "vllm-classify:, vllm-pooling:, tei: what the head's outputs mean: classify:1,2,3,4,5 (default) | regress:<min>,<max> | a judge package folder")
    .option("--store <file>", "run store (cache and resume)", ".critic/store.sqlite")
    .option("--no-progress", "no progress line");
  return command;
}

export interface JudgeCliOptions {
  model?: string | string[];
  baseUrl: string[];
  endpoints?: string;
  host?: string;
  template?: string;
  mode?: "absolute" | "pairwise";
  rubric?: string;
  samples: number;
  swap?: boolean | "auto";
  swapThreshold?: number;
  distribution: boolean;
  structured?: boolean;
  parse?: ParseMode;
  reasoning?: boolean;
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
  requestRetries?: number;
  rpm?: number;
  tpm?: number;
  serverGrammar?: boolean;
  logprobs?: boolean;
  head?: string;
  store: string;
  progress: boolean;
}

/** --base-url values, then the lines of --endpoints. */
function baseURLsFrom(opts: JudgeCliOptions): { baseURL?: string; baseURLs?: string[] } {
  const urls = [...opts.baseUrl];
  if (opts.endpoints !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.endpoints, "utf8");
    } catch (error) {
      throw new Error(`--endpoints ${opts.endpoints}: ${(error as Error).message}`);
    }
    text.split("\n").forEach((raw, i) => {
      const line = raw.replace(/#.*$/, "").trim();
      if (line === "") return;
      if (!/^https?:\/\/\S+$/.test(line)) throw new Error(`${opts.endpoints}:${i + 1}: expected a base URL like http://host:8000/v1, got "${line}"`);
      urls.push(line);
    });
    if (urls.length === opts.baseUrl.length) throw new Error(`--endpoints ${opts.endpoints}: no URL in the file`);
  }
  return urls.length > 0 ? { baseURL: urls[0], baseURLs: urls } : {};
}

export const NO_MODEL_MESSAGE =
  "no model: pass --model ./judge.gguf, --model openai:<name> --base-url <url>, or --model ollama:<name> (or set CRITIC_MODEL)";

/** The judge() options the shared flags stand for (everything but input, output and model). */
export function judgeOptionsFrom(opts: JudgeCliOptions): Omit<JudgeOptions, "input" | "output" | "model"> {
  return {
    ...baseURLsFrom(opts),
    host: opts.host,
    template: opts.template,
    mode: opts.mode,
    rubric: opts.rubric,
    samples: opts.samples,
    ...(opts.swap !== undefined ? { swap: swapMode(opts.swap as unknown) } : {}),
    ...(opts.swapThreshold !== undefined ? { swapThreshold: opts.swapThreshold } : {}),
    ...(opts.distribution === false ? { distributions: false } : {}),
    structured: opts.structured,
    ...(opts.parse !== undefined ? { parse: opts.parse } : {}),
    ...(opts.reasoning ? { reasoning: true } : {}),
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
    ...(opts.requestRetries !== undefined ? { requestRetries: opts.requestRetries } : {}),
    ...(opts.rpm !== undefined ? { rpm: opts.rpm } : {}),
    ...(opts.tpm !== undefined ? { tpm: opts.tpm } : {}),
    sendGrammar: opts.serverGrammar,
    ...(opts.logprobs ? { logprobs: true } : {}),
    ...(opts.head !== undefined ? { headOutput: opts.head } : {}),
    store: opts.store,
    progress: opts.progress,
  };
}

function swapMode(value: unknown): boolean | "auto" {
  if (value === true || value === "auto") return value;
  throw new Error(`--swap takes no value or "auto", got "${String(value)}"`);
}

/** The built-in template names for --help, from the registry (Flow Judge's presets as one pattern). */
export function templateHelp(): string {
  const names = builtinTemplateNames();
  const presets = names.filter((name) => name.startsWith("flow-judge-"));
  return [...names.filter((name) => !presets.includes(name)), ...(presets.length > 0 ? ["flow-judge-<metric>-<scale> (docs/templates.md)"] : [])].join(" | ");
}

function probability(text: string): number {
  const p = Number(text);
  if (!(p > 0 && p <= 1)) throw new InvalidArgumentError("expected a probability in (0, 1]");
  return p;
}

function parseMode(text: string): ParseMode {
  if (!(PARSE_MODES as readonly string[]).includes(text)) throw new InvalidArgumentError(`expected ${PARSE_MODES.join(" or ")}`);
  return text as ParseMode;
}
