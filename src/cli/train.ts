import path from "node:path";
import type { Command } from "commander";
import { DEFAULT_STORE } from "../judge/judge.js";
import { ACCELERATE_MODES } from "../train/accelerate.js";
import { formatDoctor, runDoctor } from "../train/doctor.js";
import { TRL_TRAINERS, type TrlTrainer } from "../train/fields.js";
import { describeLaunch, formatMetric, startLaunch, type LaunchResult } from "../train/launch.js";
import { followHostedJob, runHostedFineTune, type HostedResult } from "../train/openai-ft.js";
import { PRESET_NAMES } from "../train/presets.js";
import { writeRunFolder, type RecipeOptions } from "../train/recipe.js";
import { writeHeadRunFolder } from "../train/head-recipe.js";
import { HEAD_KINDS, HEAD_LOSSES, HEAD_PRESET_NAMES, type HeadLoss } from "../train/head-presets.js";
import { TrainStore } from "../train/train-store.js";
import { collect, finiteNumber, positiveInt } from "./options.js";

/** The recipe's own options as commander parses them, plus the launch and hosted-job flags. */
interface TrainCliOptions
  extends Pick<
    RecipeOptions,
    "data" | "base" | "preset" | "accelerate" | "numProcesses" | "numMachines" | "mainProcessIp" | "mainProcessPort" | "rewardUrl" | "nullReward" | "force"
  > {
  output?: string;
  set: string[];
  fields?: string;
  launch?: boolean;
  launcher?: string;
  store: string;
  normalizeReward: boolean;
  provider: "trl" | "openai";
  baseUrl?: string;
  pollInterval: number;
}

interface HeadCliOptions {
  data: string;
  base: string;
  output: string;
  preset?: string;
  loss?: HeadLoss;
  lora: boolean;
  accelerate?: RecipeOptions["accelerate"];
  numProcesses?: number;
  numMachines?: number;
  mainProcessIp?: string;
  mainProcessPort?: number;
  set: string[];
  force?: boolean;
  launch?: boolean;
  launcher?: string;
  store: string;
}

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

export function registerTrain(program: Command): void {
  const train = program
    .command("train")
    .description("train a judge: TRL run folders (SFT, DPO, KTO, reward model, GRPO), classifier/regressor heads with a judge package, launching with progress, hosted fine-tuning")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  critic train sft --data export/ --base Qwen/Qwen2.5-1.5B-Instruct -o runs/sft --preset lora",
        "  critic train sft --data export/ --base teknium/OpenHermes-2.5-Mistral-7B -o runs/criticon --preset criticon-full",
        "  critic train dpo --data pairs/ --base ./runs/sft/output -o runs/dpo --accelerate zero2 --set beta=0.05 --launch",
        "  critic train classify --data export-classify/ --base microsoft/Phi-3-mini-4k-instruct -o runs/phudge --preset phudge",
        "  critic train sft --provider openai --data export/ --base gpt-4.1-mini-2025-04-14 --set n_epochs=3",
        "  critic train doctor",
      ].join("\n"),
    );

  for (const trainer of TRL_TRAINERS) {
    const command = train
      .command(trainer)
      .description(describeTrainer(trainer))
      .requiredOption("--data <dir>", "a `critic export` folder (train.jsonl, test.jsonl, export.json)")
      .requiredOption("--base <model>", "base model: Hugging Face id or local folder (OpenAI model name with --provider openai)")
      .option("-o, --output <dir>", "run folder to write (required for TRL)")
      .option("--preset <name>", `hyper-parameters of a published recipe: ${PRESET_NAMES.join(", ")}`)
      .option("--accelerate <mode>", `${ACCELERATE_MODES.join(" | ")} (default: the preset's, else single)`)
      .option("--num-processes <n>", "GPUs in total (multi-gpu, zero2, zero3, multi-node)", positiveInt)
      .option("--num-machines <n>", "machines (multi-node)", positiveInt)
      .option("--main-process-ip <ip>", "address of machine 0 (multi-node)")
      .option("--main-process-port <port>", "port on machine 0 (multi-node, default 29500)", positiveInt)
      .option("--set <key=value>", "a TRL argument (SFTConfig/DPOConfig/... or ModelConfig field), repeatable", collect, [])
      .option("--fields <file>", "check --set names against this file (from assets/trl/dump_fields.py) instead of the pinned TRL's")
      .option("--force", "overwrite the files of an existing run folder")
      .option("--launch", "run launch.sh now, with a progress bar and run tracking")
      .option("--launcher <exe>", "with --launch: run this instead of `bash launch.sh` (it gets launch.sh's path)")
      .option("--store <file>", "run store (SQLite) where train runs are recorded", DEFAULT_STORE)
      .option("--provider <name>", "trl (a run folder) or openai (hosted fine-tuning; sft and dpo)", "trl")
      .option("--base-url <url>", "--provider openai: an OpenAI-compatible fine-tuning API")
      .option("--poll-interval <seconds>", "--provider openai: seconds between status checks", finiteNumber, 10);
    // The reward options exist only where there is a reward: the other trainers' help does not list them.
    if (trainer === "grpo") {
      command
        .option("--reward-url <url>", "the `critic serve --reward` endpoint reward_fn.py calls", "http://127.0.0.1:8080/v1/reward")
        .option("--null-reward <x>", "reward for a completion the judge could not score (default: None, which TRL leaves out)", finiteNumber)
        .option("--no-normalize-reward", "keep the judge's raw scale instead of mapping it onto 0..1");
    }
    command.action(async (opts: TrainCliOptions) => {
        if (opts.provider === "openai") return hosted(trainer, opts);
        if (opts.provider !== "trl") throw new Error(`unknown --provider "${opts.provider}"; use trl or openai`);
        if (!opts.output) throw new Error("-o, --output <dir> is required: the run folder to write");
        const written = await writeRunFolder({
          trainer,
          data: opts.data,
          base: opts.base,
          output: opts.output,
          set: opts.set,
          ...(opts.preset ? { preset: opts.preset } : {}),
          ...(opts.accelerate ? { accelerate: opts.accelerate } : {}),
          ...(opts.numProcesses !== undefined ? { numProcesses: opts.numProcesses } : {}),
          ...(opts.numMachines !== undefined ? { numMachines: opts.numMachines } : {}),
          ...(opts.mainProcessIp ? { mainProcessIp: opts.mainProcessIp } : {}),
          ...(opts.mainProcessPort !== undefined ? { mainProcessPort: opts.mainProcessPort } : {}),
          ...(opts.fields ? { fieldsFile: opts.fields } : {}),
          ...(opts.force ? { force: true } : {}),
          ...(trainer === "grpo" ? { rewardUrl: opts.rewardUrl, nullReward: opts.nullReward, normalizeReward: opts.normalizeReward } : {}),
        });
        const rel = path.relative(process.cwd(), written.runDir) || ".";
        out(`wrote ${rel}/: ${written.files.join(", ")}`);
        out(`  ${trainer} on ${written.manifest.base}, ${written.manifest.accelerate} (${written.manifest.numProcesses} process${written.manifest.numProcesses === 1 ? "" : "es"})${written.manifest.preset ? `, preset ${written.manifest.preset}` : ""}`);
        if (!opts.launch) {
          out(`next: critic train doctor, then bash ${rel}/launch.sh (or critic train launch ${rel})`);
          return;
        }
        await launch(written.runDir, opts);
      });
  }

  for (const kind of HEAD_KINDS) {
    train
      .command(kind)
      .description(
        kind === "classify"
          ? "a judge that is a classifier over the scores (AutoModelForSequenceClassification, EMD or CE loss, LoRA): run folder and judge package"
          : "a judge that regresses the score (AutoModelForSequenceClassification with one output, MSE loss, LoRA): run folder and judge package",
      )
      .requiredOption("--data <dir>", `a \`critic export -f ${kind}\` folder`)
      .requiredOption("--base <model>", "base model: Hugging Face id or local folder (e.g. microsoft/Phi-3-mini-4k-instruct)")
      .requiredOption("-o, --output <dir>", "run folder to write")
      .option("--preset <name>", `hyper-parameters of a published recipe: ${HEAD_PRESET_NAMES.join(", ")}`)
      .option("--loss <name>", `${HEAD_LOSSES[kind].join(" | ")} (default: the preset's, else ${HEAD_LOSSES[kind][0]})`)
      .option("--no-lora", "full fine-tuning instead of a LoRA adapter")
      .option("--accelerate <mode>", `${ACCELERATE_MODES.join(" | ")} (default: the preset's, else single)`)
      .option("--num-processes <n>", "GPUs in total (multi-gpu, zero2, zero3, multi-node)", positiveInt)
      .option("--num-machines <n>", "machines (multi-node)", positiveInt)
      .option("--main-process-ip <ip>", "address of machine 0 (multi-node)")
      .option("--main-process-port <port>", "port on machine 0 (multi-node, default 29500)", positiveInt)
      .option("--set <key=value>", "a TrainingArguments or LoraConfig field (or model./early_stopping./package. key), repeatable", collect, [])
      .option("--force", "overwrite the files of an existing run folder")
      .option("--launch", "run launch.sh now, with a progress bar and run tracking")
      .option("--launcher <exe>", "with --launch: run this instead of `bash launch.sh` (it gets launch.sh's path)")
      .option("--store <file>", "run store (SQLite) where train runs are recorded", DEFAULT_STORE)
      .action(async (opts: HeadCliOptions) => {
        const written = await writeHeadRunFolder({
          kind,
          data: opts.data,
          base: opts.base,
          output: opts.output,
          set: opts.set,
          ...(opts.preset ? { preset: opts.preset } : {}),
          ...(opts.loss ? { loss: opts.loss } : {}),
          ...(opts.lora === false ? { noLora: true } : {}),
          ...(opts.accelerate ? { accelerate: opts.accelerate } : {}),
          ...(opts.numProcesses !== undefined ? { numProcesses: opts.numProcesses } : {}),
          ...(opts.numMachines !== undefined ? { numMachines: opts.numMachines } : {}),
          ...(opts.mainProcessIp ? { mainProcessIp: opts.mainProcessIp } : {}),
          ...(opts.mainProcessPort !== undefined ? { mainProcessPort: opts.mainProcessPort } : {}),
          ...(opts.force ? { force: true } : {}),
        });
        const rel = path.relative(process.cwd(), written.runDir) || ".";
        const m = written.manifest;
        out(`wrote ${rel}/: ${written.files.join(", ")}`);
        out(`  ${kind} (${m.loss} loss${m.lora ? ", LoRA" : ""}) on ${m.base}, ${m.accelerate} (${m.numProcesses} process${m.numProcesses === 1 ? "" : "es"})${m.preset ? `, preset ${m.preset}` : ""}`);
        if (!opts.launch) {
          out(`next: critic train doctor, then bash ${rel}/launch.sh (trains, then writes the judge package to ${path.relative(process.cwd(), m.packageDir) || m.packageDir})`);
          return;
        }
        await launch(written.runDir, opts);
      });
  }

  train
    .command("launch <runDir>")
    .description("run a run folder's launch.sh with a progress bar, recording the run (Ctrl-C stops the trainer)")
    .option("--launcher <exe>", "run this instead of `bash launch.sh` (it gets launch.sh's path)")
    .option("--store <file>", "run store (SQLite)", DEFAULT_STORE)
    .action(async (runDir: string, opts: { launcher?: string; store: string }) => {
      await launch(path.resolve(runDir), opts);
    });

  train
    .command("doctor")
    .description("check python, torch, transformers, trl, accelerate, datasets, peft, deepspeed, bitsandbytes and GPUs")
    .option("--python <exe>", "python to check (default: $CRITIC_PYTHON or python3)")
    .option("--json", "print the report as JSON")
    .action(async (opts: { python?: string; json?: boolean }) => {
      const report = await runDoctor(opts.python ? { python: opts.python } : {});
      out(opts.json ? JSON.stringify(report, null, 2) : formatDoctor(report));
      if (!report.ok) process.exitCode = 1;
    });

  train
    .command("follow <jobId>")
    .description("follow a hosted (OpenAI) fine-tuning job until it ends, recording the resulting model")
    .option("--base-url <url>", "an OpenAI-compatible fine-tuning API")
    .option("--store <file>", "run store (SQLite)", DEFAULT_STORE)
    .option("--poll-interval <seconds>", "seconds between status checks", finiteNumber, 10)
    .action(async (jobId: string, opts: { baseUrl?: string; store: string; pollInterval: number }) => {
      const result = await withInterrupt((signal) =>
        followHostedJob({ jobId, store: opts.store, pollIntervalMs: opts.pollInterval * 1000, signal, log: err, ...(opts.baseUrl ? { baseURL: opts.baseUrl } : {}) }),
      );
      reportHosted(result);
    });

  train
    .command("runs")
    .description("list recorded training runs")
    .option("--store <file>", "run store (SQLite)", DEFAULT_STORE)
    .option("-n, --limit <n>", "how many", positiveInt, 20)
    .option("--json", "print JSON")
    .action((opts: { store: string; limit: number; json?: boolean }): void => {
      const store = TrainStore.open(opts.store);
      try {
        const rows = store.list(opts.limit);
        if (opts.json) return void out(JSON.stringify(rows, null, 2));
        if (rows.length === 0) return void out("no training runs recorded");
        for (const r of rows) {
          const step = r.step !== null ? ` step ${r.step}${r.totalSteps !== null ? `/${r.totalSteps}` : ""}` : "";
          const loss = r.loss !== null ? ` loss ${formatMetric(r.loss)}` : "";
          const model = r.fineTunedModel ? ` -> ${r.fineTunedModel}` : "";
          out(`${r.id}  ${r.startedAt}  ${r.provider}/${r.trainer}  ${r.status}${step}${loss}${model}  ${r.runDir ?? r.jobId ?? ""}`);
        }
      } finally {
        store.close();
      }
    });
}

function describeTrainer(trainer: TrlTrainer): string {
  switch (trainer) {
    case "sft": return "write a TRL SFT run folder (supervised fine-tuning on critiques), or fine-tune on OpenAI with --provider openai";
    case "dpo": return "write a TRL DPO run folder (preference pairs), or a hosted DPO job with --provider openai";
    case "kto": return "write a TRL KTO run folder (unpaired good/bad labels)";
    case "reward": return "write a TRL reward-model run folder (a scalar scorer from preference pairs)";
    case "grpo": return "write a TRL GRPO run folder whose reward is a critic judge (`critic serve --reward`)";
  }
}

async function launch(runDir: string, opts: { launcher?: string; store: string }): Promise<void> {
  const running = startLaunch({ runDir, store: opts.store, ...(opts.launcher ? { launcher: opts.launcher } : {}) });
  let presses = 0;
  const onInterrupt = () => {
    presses++;
    err(presses === 1 ? "\nCtrl-C: stopping the trainer (again: SIGTERM, a third time: SIGKILL)" : `\nCtrl-C ${presses}: ${presses === 2 ? "SIGTERM" : "SIGKILL"} to the trainer`);
    running.interrupt();
  };
  process.on("SIGINT", onInterrupt);
  process.on("SIGTERM", onInterrupt);
  let result: LaunchResult;
  try {
    result = await running.done;
  } finally {
    process.off("SIGINT", onInterrupt);
    process.off("SIGTERM", onInterrupt);
  }
  err(describeLaunch(result));
  if (result.status === "failed") {
    // The trainer's output is not echoed: its last lines say what went wrong.
    if (result.tail.length > 0) err(`the trainer's last output:\n${result.tail.map((l) => `  | ${l}`).join("\n")}`);
    err(`error: ${result.error ?? "the trainer failed"}`);
    process.exitCode = 1;
  } else if (result.status === "interrupted") {
    process.exitCode = 130;
  }
}

async function hosted(trainer: TrlTrainer, opts: TrainCliOptions): Promise<void> {
  if (trainer !== "sft" && trainer !== "dpo") throw new Error(`--provider openai fine-tunes with sft or dpo, not ${trainer}`);
  for (const flag of ["preset", "accelerate", "launch", "launcher"] as const) {
    if (opts[flag]) throw new Error(`--${flag} applies to TRL runs, not --provider openai`);
  }
  const result = await withInterrupt((signal) =>
    runHostedFineTune({
      trainer,
      data: opts.data,
      base: opts.base,
      set: opts.set,
      store: opts.store,
      pollIntervalMs: opts.pollInterval * 1000,
      signal,
      log: err,
      ...(opts.output ? { output: opts.output } : {}),
      ...(opts.baseUrl ? { baseURL: opts.baseUrl } : {}),
    }),
  );
  reportHosted(result);
}

async function withInterrupt<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(130);
    err("\nCtrl-C: no longer following (the job keeps running on the server)");
    controller.abort();
  };
  process.on("SIGINT", onInterrupt);
  process.on("SIGTERM", onInterrupt);
  try {
    return await run(controller.signal);
  } finally {
    process.off("SIGINT", onInterrupt);
    process.off("SIGTERM", onInterrupt);
  }
}

function reportHosted(result: HostedResult): void {
  if (result.status === "succeeded" && result.fineTunedModel) {
    out(`fine-tuned model: ${result.fineTunedModel}${result.trainedTokens ? ` (${result.trainedTokens} trained tokens)` : ""}`);
    out(`use it: critic judge data.jsonl -o judged.jsonl --model openai:${result.fineTunedModel}`);
    out("compare it with your current judge on labelled data: critic bench run");
    return;
  }
  if (result.status === "interrupted") {
    err(`job ${result.jobId} is still running; follow it again with: critic train follow ${result.jobId}`);
    process.exitCode = 130;
    return;
  }
  err(`job ${result.jobId} ${result.status}${result.error ? `: ${result.error}` : ""}`);
  process.exitCode = 1;
}
