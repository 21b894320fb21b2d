import { basename, resolve } from "node:path";
import type { Command } from "commander";
import { createEmbeddedBackend, resolveModelFile } from "../backends/index.js";
import { parseModelSpec } from "../backends/spec.js";
import { startServer } from "../server/start.js";
import { rewardGrader } from "../server/reward.js";
import { finiteNumber, positiveInt, wholeNumber } from "./options.js";
import { isJudgePackage } from "../heads/package.js";
import { openHeadRun } from "../heads/run.js";
import { HEAD_NO_FEEDBACK } from "../heads/spec.js";

export interface ServeCliOptions {
  model?: string;
  modelName?: string;
  host: string;
  port: number;
  apiKey?: string;
  parallel?: number;
  contextSize?: number;
  threads?: number;
  gpu: boolean;
  lora?: string;
  loraScale: number;
  /** Also serve POST /v1/reward, scoring with this template and rubric. */
  reward?: boolean;
  template?: string;
  rubric?: string;
  rewardMaxTokens?: number;
}

export interface RunningServe {
  url: string;
  stop(): Promise<void>;
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("serve a GGUF model over an OpenAI-compatible API (/v1/chat/completions, /v1/models)")
    .option("-m, --model <spec>", "./judge.gguf | hf:<user>/<repo>[:quant] | ./judge-package/ (a classifier/regression judge: /v1/reward and /classify) (default: $CRITIC_MODEL)")
    .option("--model-name <id>", "model id clients see (default: the file name without .gguf)")
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--port <n>", "port (0 picks a free one)", wholeNumber, 8080)
    .option("--api-key <key>", "require this bearer key (prefer $CRITIC_API_KEY: a flag shows up in the process list)")
    .option("-p, --parallel <n>", "parallel sequences: requests generated at once (default: 1 on the CPU, up to 8 on a GPU, from free memory; a judge package: 1)", positiveInt)
    .option("--context-size <n>", "context tokens per sequence", positiveInt)
    .option("--threads <n>", "CPU threads", positiveInt)
    .option("--no-gpu", "run on the CPU even when a GPU is available")
    .option("--lora <file>", "LoRA adapter (GGUF) to apply")
    .option("--lora-scale <x>", "LoRA scale", finiteNumber, 1)
    .option("--reward", "also serve POST /v1/reward: judge scores for RL trainers (TRL GRPO reward_fn.py)")
    .option("--template <name|file>", "--reward: absolute template (prometheus-absolute, criticon, or a YAML file)")
    .option("--rubric <name|file>", "--reward: rubric (e.g. helpfulness) for templates that need one")
    .option("--reward-max-tokens <n>", "--reward: token budget of one judgment", positiveInt)
    .action(async (opts: ServeCliOptions) => {
      const running = await startServe(opts, (line) => process.stderr.write(`${line}\n`));
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        const onInterrupt = () => stopOn("SIGINT");
        const onTerminate = () => stopOn("SIGTERM");
        const stopOn = (name: NodeJS.Signals) => {
          process.off("SIGINT", onInterrupt);
          process.off("SIGTERM", onTerminate);
          resolve(name);
        };
        process.on("SIGINT", onInterrupt);
        process.on("SIGTERM", onTerminate);
      });
      process.stderr.write(`\n${signal}: stopping the server\n`);
      await running.stop();
    });
}

/** Loads the model and starts the server; the CLI action and tests share this. */
export async function startServe(opts: ServeCliOptions, log: (line: string) => void): Promise<RunningServe> {
  const spec = opts.model ?? process.env.CRITIC_MODEL;
  if (!spec) throw new Error("no model: pass --model ./judge.gguf or --model hf:<user>/<repo>:<quant> (or set CRITIC_MODEL)");
  if (isJudgePackage(spec)) return startServeHead(spec, opts, log);
  const parsed = parseModelSpec(spec);
  if (parsed.kind !== "embedded") {
    throw new Error(`critic serve runs a GGUF model itself; "${spec}" is already served by ${parsed.kind === "openai" ? "an OpenAI-compatible server" : "Ollama"}`);
  }
  const apiKey = opts.apiKey ?? process.env.CRITIC_API_KEY;
  if (apiKey !== undefined && apiKey.trim() === "") throw new Error("the API key is empty; unset CRITIC_API_KEY or give a key");

  // Check the reward setup before loading the model, so a bad template or rubric fails at once.
  const reward = opts.reward ? rewardGrader({ template: opts.template, rubric: opts.rubric, maxTokens: opts.rewardMaxTokens }) : undefined;

  const modelPath = "path" in parsed ? parsed.path : await resolveModelFile(parsed.uri, { onProgress: downloadProgress(log) });
  log(`loading ${modelPath}`);
  const backend = await createEmbeddedBackend({
    modelPath,
    gpu: opts.gpu ? "auto" : false,
    ...(opts.parallel !== undefined ? { parallel: opts.parallel } : {}),
    ...(opts.contextSize !== undefined ? { contextSize: opts.contextSize } : {}),
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(opts.lora !== undefined ? { lora: { path: opts.lora, scale: opts.loraScale } } : {}),
  });
  const modelName = opts.modelName ?? basename(modelPath).replace(/\.gguf$/i, "");
  let server;
  try {
    server = await startServer({
      backend, modelName, host: opts.host, port: opts.port, ...(apiKey !== undefined ? { apiKey } : {}),
      ...(reward ? { reward: { ...reward, ...(opts.rewardMaxTokens !== undefined ? { params: { maxTokens: opts.rewardMaxTokens } } : {}) } } : {}),
    });
  } catch (error) {
    await backend.dispose();
    throw new Error(`cannot listen on ${opts.host}:${opts.port}: ${(error as Error).message}`, { cause: error });
  }
  log(
    `serving "${modelName}" at ${server.url}/v1 (${backend.concurrency} parallel sequences of ${backend.contextSize} tokens, ` +
      `${backend.gpu === false ? "CPU" : backend.gpu}${apiKey !== undefined ? ", API key required" : ", no API key"})`,
  );
  if (reward) log(`reward endpoint: POST ${server.url}/v1/reward (template ${reward.grader.template}${reward.scale ? `, scores ${reward.scale.min}-${reward.scale.max}` : ""})`);
  if (apiKey === undefined && !isLoopback(opts.host)) log(`warning: listening on ${opts.host} without an API key; anyone who can reach it can use it`);
  return {
    url: server.url,
    async stop() {
      await server.close();
      await backend.dispose();
    },
  };
}

/**
 * A judge package: its head answers POST /v1/reward (the score of each completion) and POST /classify
 * (vLLM's classification format). There is no text to generate: /v1/chat/completions answers 400.
 */
async function startServeHead(spec: string, opts: ServeCliOptions, log: (line: string) => void): Promise<RunningServe> {
  if (opts.lora !== undefined) throw new Error("--lora: a judge package's backbone already has its LoRA merged");
  const apiKey = opts.apiKey ?? process.env.CRITIC_API_KEY;
  if (apiKey !== undefined && apiKey.trim() === "") throw new Error("the API key is empty; unset CRITIC_API_KEY or give a key");
  log(`loading the judge package ${spec}`);
  const run = await openHeadRun(spec, {
    mode: "absolute",
    ...(opts.template !== undefined ? { template: opts.template } : {}),
    ...(opts.rubric !== undefined ? { rubric: opts.rubric } : {}),
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(opts.contextSize !== undefined ? { contextSize: opts.contextSize } : {}),
    ...(opts.parallel !== undefined ? { parallel: opts.parallel } : {}),
    gpu: opts.gpu ? "auto" : false,
  });
  try {
    run.grader.buildMessages({ instruction: "probe", response: "probe" });
  } catch (error) {
    await run.head.dispose();
    throw new Error(`the reward endpoint cannot fill template "${run.grader.template}" from a prompt and a completion: ${(error as Error).message} (give --rubric)`);
  }
  // The package folder's name (clients send it as `model`).
  const modelName = opts.modelName ?? basename(run.head.template !== undefined ? resolve(spec.replace(/judge\.json$/, "")) : spec);
  const scale = run.head.output.scale;
  let server;
  try {
    server = await startServer({
      backend: run.identity, modelName, host: opts.host, port: opts.port, ...(apiKey !== undefined ? { apiKey } : {}),
      head: run.head,
      reward: { grader: run.grader, scale },
    });
  } catch (error) {
    await run.head.dispose();
    throw new Error(`cannot listen on ${opts.host}:${opts.port}: ${(error as Error).message}`, { cause: error });
  }
  if (run.head.settings) log(run.head.settings);
  log(`serving the ${run.head.output.kind} judge "${modelName}" at ${server.url}: POST /v1/reward (template ${run.grader.template}, scores ${scale.min}-${scale.max}) and POST /classify (vLLM's format); ${HEAD_NO_FEEDBACK}`);
  if (apiKey === undefined && !isLoopback(opts.host)) log(`warning: listening on ${opts.host} without an API key; anyone who can reach it can use it`);
  return {
    url: server.url,
    async stop() {
      await server.close();
      await run.head.dispose();
    },
  };
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

function downloadProgress(log: (line: string) => void) {
  let lastShown = -1;
  return ({ downloadedBytes, totalBytes }: { downloadedBytes: number; totalBytes: number }) => {
    if (totalBytes <= 0) return;
    const percent = Math.floor((downloadedBytes / totalBytes) * 100);
    if (percent >= lastShown + 5 || percent === 100) {
      if (percent === lastShown) return;
      lastShown = percent;
      log(`downloading: ${percent}% of ${(totalBytes / 1e9).toFixed(2)} GB`);
    }
  };
}
