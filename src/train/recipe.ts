/**
 * Writes a TRL run folder: config.yaml (commented, every value with its source), accelerate.yaml,
 * train.py, launch.sh, README.md, reward_fn.py for GRPO and critic-run.json. Everything is checked
 * (export folder, preset, every --set key) before the first file is written.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ACCELERATE_MODES, accelerateYaml, needsDeepSpeed, type AccelerateMode } from "./accelerate.js";
import { checkExportFor, readExportDir, type ExportDir } from "./export-dir.js";
import { loadTrlFields, parseSetting, resolveSection, TRL_ASSETS_DIR, TRL_TRAINERS, type TrlFields, type TrlTrainer } from "./fields.js";
import { baseTraining, getPreset, type Preset, type PresetValue } from "./presets.js";

export interface RecipeOptions {
  trainer: TrlTrainer;
  /** A `critic export` folder. */
  data: string;
  /** Base model: a Hub id or a local path (model_name_or_path). */
  base: string;
  /** The run folder to write. */
  output: string;
  preset?: string;
  accelerate?: AccelerateMode;
  numProcesses?: number;
  numMachines?: number;
  mainProcessIp?: string;
  mainProcessPort?: number;
  /** `key=value` TRL arguments (training or model fields). */
  set?: string[];
  /** A fields file from assets/trl/dump_fields.py, instead of the pinned names. */
  fieldsFile?: string;
  /** GRPO: the `critic serve --reward` endpoint reward_fn.py calls. */
  rewardUrl?: string;
  /** GRPO: reward for a completion the judge could not score. */
  nullReward?: number;
  /** GRPO: map the judge's scale onto 0..1 (default true). */
  normalizeReward?: boolean;
  /** Write into a folder that already holds a run. */
  force?: boolean;
}

export interface RunManifest {
  trainer: TrlTrainer;
  base: string;
  export: { dir: string; format: string; counts: Record<string, unknown> };
  preset: string | null;
  accelerate: AccelerateMode;
  numProcesses: number;
  trl: string;
  outputDir: string;
  /** Trains a LoRA adapter (use_peft) rather than full weights. */
  lora: boolean;
  /** Needs bitsandbytes: 4/8-bit loading or a bitsandbytes optimizer (paged_*, *_8bit). */
  bitsandbytes?: boolean;
  createdAt: string;
}

export interface WrittenRun {
  runDir: string;
  files: string[];
  manifest: RunManifest;
  training: Record<string, unknown>;
  model: Record<string, unknown>;
}

interface Entry {
  value: unknown;
  source: string;
}

export const RUN_MANIFEST = "critic-run.json";

export async function writeRunFolder(options: RecipeOptions): Promise<WrittenRun> {
  const { trainer } = options;
  if (!TRL_TRAINERS.includes(trainer)) throw new Error(`unknown trainer "${trainer}"; trainers: ${TRL_TRAINERS.join(", ")}`);
  const fields = loadTrlFields(options.fieldsFile);
  const exp = readExportDir(options.data);
  await checkExportFor(trainer, exp);
  const preset = options.preset ? getPreset(options.preset, trainer) : undefined;

  const training = new Map<string, Entry>();
  const model = new Map<string, Entry>();
  const put = (map: Map<string, Entry>, values: Record<string, PresetValue>) => {
    for (const [key, { value, source }] of Object.entries(values)) map.set(key, { value, source });
  };
  put(training, baseTraining(trainer));
  if (preset) {
    put(training, preset.training);
    put(model, preset.model);
  }
  // Presets are checked like user keys, so a stale preset fails here rather than on the GPU box.
  for (const key of training.keys()) resolveSection(key, trainer, fields, "training");
  for (const key of model.keys()) resolveSection(key, trainer, fields, "model");

  model.set("model_name_or_path", { value: options.base, source: "--base" });
  const runDir = path.resolve(options.output);
  // Paths in config.yaml are relative to the run folder (train.py resolves them there), so the
  // folder still works when it is copied to a GPU machine with the export beside it.
  training.set("output_dir", { value: "output", source: "checkpoints and the final model (relative to this folder)" });

  const userKeys = new Set<string>();
  for (const text of options.set ?? []) {
    const setting = parseSetting(text, trainer, fields);
    (setting.section === "training" ? training : model).set(setting.key, { value: setting.value, source: "--set" });
    userKeys.add(setting.key);
  }

  const notes: string[] = [...(preset?.notes ?? [])];
  if (!exp.files.test) {
    for (const key of ["eval_strategy", "eval_steps", "load_best_model_at_end", "per_device_eval_batch_size"]) {
      if (training.has(key) && !userKeys.has(key)) training.delete(key);
    }
    notes.push("The export has no test split, so evaluation during training is off.");
  }
  if (trainer === "sft") lossOnCompletion(exp, training, userKeys);
  if (trainer === "reward" && model.get("use_peft")?.value === true && !userKeys.has("lora_task_type")) {
    model.set("lora_task_type", { value: "SEQ_CLS", source: "reward models are sequence classifiers (TRL ModelConfig help)" });
  }

  const mode = options.accelerate ?? preset?.accelerate?.mode ?? "single";
  if (!ACCELERATE_MODES.includes(mode)) throw new Error(`unknown --accelerate "${mode}"; modes: ${ACCELERATE_MODES.join(", ")}`);
  const numProcesses = options.numProcesses ?? (preset?.accelerate && preset.accelerate.mode === mode ? preset.accelerate.numProcesses : mode === "single" ? 1 : 8);
  if (trainer === "grpo") fitGrpoBatches(training, userKeys, numProcesses, Boolean(exp.files.test));
  const accelerate = runAccelerateYaml(training, mode, numProcesses, options);
  assertRunDirFree(runDir, options.force);

  const manifest: RunManifest = {
    trainer,
    base: options.base,
    export: { dir: exp.dir, format: exp.format, counts: exp.counts },
    preset: preset?.name ?? null,
    accelerate: mode,
    numProcesses,
    trl: fields.trl,
    outputDir: path.resolve(runDir, String(training.get("output_dir")!.value)),
    lora: model.get("use_peft")?.value === true,
    bitsandbytes: model.get("load_in_4bit")?.value === true || model.get("load_in_8bit")?.value === true || needsBitsandbytes(training.get("optim")?.value),
    createdAt: new Date().toISOString(),
  };

  mkdirSync(runDir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string) => {
    writeFileSync(path.join(runDir, name), text);
    files.push(name);
  };
  write("config.yaml", configYaml({ trainer, fields, exp, preset, training, model, notes, mode, runDir }));
  write("accelerate.yaml", accelerate);
  copyFileSync(path.join(TRL_ASSETS_DIR, "train.py"), path.join(runDir, "train.py"));
  files.push("train.py");
  write("launch.sh", launchScript(mode));
  chmodSync(path.join(runDir, "launch.sh"), 0o755);
  if (trainer === "grpo") {
    const template = readFileSync(path.join(TRL_ASSETS_DIR, "reward_fn.py"), "utf8");
    write(
      "reward_fn.py",
      template
        .replace("__CRITIC_REWARD_URL__", options.rewardUrl ?? "http://127.0.0.1:8080/v1/reward")
        .replace("__CRITIC_NULL_REWARD__", options.nullReward === undefined ? "none" : String(options.nullReward))
        .replace("__CRITIC_NORMALIZE__", options.normalizeReward === false ? "0" : "1"),
    );
  }
  write("README.md", runReadme(manifest, exp, preset, notes));
  write(RUN_MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  return {
    runDir,
    files,
    manifest,
    training: Object.fromEntries([...training].map(([k, e]) => [k, e.value])),
    model: Object.fromEntries([...model].map(([k, e]) => [k, e.value])),
  };
}

/** transformers' optimizers that bitsandbytes provides (OptimizerNames: paged_*, *_8bit, *_bnb*, lion_32bit). */
export function needsBitsandbytes(optim: unknown): boolean {
  return typeof optim === "string" && /^paged_|8bit|bnb|^lion_32bit$/.test(optim) && !/^adamw_torch_(4|8)bit$/.test(optim);
}

/**
 * SFT on critiques: the loss goes on the critique, not on the long judge prompt. TRL computes it on
 * the completion of prompt-completion rows by default; for messages rows it is assistant_only_loss.
 */
function lossOnCompletion(exp: ExportDir, training: Map<string, Entry>, userKeys: Set<string>): void {
  if (userKeys.has("assistant_only_loss") || userKeys.has("completion_only_loss")) return;
  const why = "critic default: loss on the critique only, not on the judge prompt";
  if (exp.format === "sft-prompt-completion") {
    training.set("completion_only_loss", { value: true, source: `${why} (TRL's default for prompt-completion rows, written out)` });
  } else if (exp.conversational) {
    training.set("assistant_only_loss", {
      value: true,
      source: `${why}; TRL needs {% generation %} markers in the chat template or a template it can swap for one (set false if it refuses yours)`,
    });
  }
}

/**
 * GRPOConfig's own checks, made here so a run folder never fails them on the GPU box: the
 * generation batch (per-device batch x processes x steps_per_generation) and, with evaluation
 * on, the global eval batch must divide by num_generations. A value from a preset or a default is
 * raised to the next that fits; a value the user set is an error.
 */
function fitGrpoBatches(training: Map<string, Entry>, userKeys: Set<string>, processes: number, evaluates: boolean): void {
  const num = (key: string, fallback: number) => Number(training.get(key)?.value ?? fallback);
  const generations = num("num_generations", 8);
  const steps = Number(training.get("steps_per_generation")?.value ?? training.get("gradient_accumulation_steps")?.value ?? 1);
  const generationBatch = training.has("generation_batch_size") ? num("generation_batch_size", 0) : num("per_device_train_batch_size", 8) * processes * steps;
  if (generationBatch % generations !== 0) {
    throw new Error(
      `GRPO: the generation batch (${generationBatch} = per_device_train_batch_size x ${processes} process(es) x steps_per_generation, or generation_batch_size) must divide by num_generations (${generations}); change one of them with --set`,
    );
  }
  if (!evaluates || (training.get("eval_strategy")?.value ?? "no") === "no") return;
  const evalGenerations = num("num_generations_eval", 0) || generations;
  const evalBatch = num("per_device_eval_batch_size", 8);
  if ((evalBatch * processes) % evalGenerations === 0) return;
  if (userKeys.has("per_device_eval_batch_size")) {
    throw new Error(
      `GRPO: the global eval batch (per_device_eval_batch_size ${evalBatch} x ${processes} process(es)) must divide by the generations per prompt in evaluation (${evalGenerations}); set per_device_eval_batch_size or num_generations_eval to fit`,
    );
  }
  let fitted = evalBatch;
  while ((fitted * processes) % evalGenerations !== 0) fitted += 1;
  const was = training.get("per_device_eval_batch_size");
  training.set("per_device_eval_batch_size", {
    value: fitted,
    source: `${was ? `${was.source}, raised from ${evalBatch}` : "critic default"}: GRPO's global eval batch must divide by num_generations (${evalGenerations})`,
  });
}

export function readRunManifest(runDir: string): RunManifest {
  const file = path.join(runDir, RUN_MANIFEST);
  if (!existsSync(file)) throw new Error(`${runDir} is not a critic run folder (no ${RUN_MANIFEST}); write one with \`critic train <trainer> -o ${runDir}\``);
  return JSON.parse(readFileSync(file, "utf8")) as RunManifest;
}

function configYaml(args: {
  trainer: TrlTrainer;
  fields: TrlFields;
  exp: ExportDir;
  preset: Preset | undefined;
  training: Map<string, Entry>;
  model: Map<string, Entry>;
  notes: string[];
  mode: AccelerateMode;
  runDir: string;
}): string {
  const { trainer, fields, exp, preset, notes } = args;
  const out: string[] = [];
  out.push(`# critic train ${trainer}: the run's TRL configuration, read by train.py.`);
  out.push(`# Keys are TRL ${fields.trl} field names; each value has its source beside it.`);
  if (preset) out.push(`# Preset ${preset.name}: ${preset.description}.`);
  for (const note of notes) out.push(`# Note: ${note}`);
  out.push("");
  out.push(`trainer: ${trainer}`);
  out.push("");
  out.push(`# The export (${exp.format}${exp.conversational ? ", conversational" : ""}) from ${relativeTo(args.runDir, exp.dir)},`);
  out.push(`# loaded as datasets.load_dataset("${/\.parquet$/i.test(exp.files.train) ? "parquet" : "json"}", data_files={"train": ..., "test": ...}).`);
  out.push("# Relative paths are to this folder: copy the export along with it, keeping the layout.");
  out.push("data:");
  out.push(`  train: ${yamlValue(relativeTo(args.runDir, exp.files.train))}`);
  if (exp.files.test) out.push(`  test: ${yamlValue(relativeTo(args.runDir, exp.files.test))}`);
  out.push("");
  out.push("# trl.ModelConfig: model loading, LoRA (use_peft) and 4/8-bit quantization.");
  out.push("model:");
  for (const [key, entry] of sortedEntries(args.model, ["model_name_or_path"])) out.push(`  ${key}: ${yamlValue(entry.value)}  # ${entry.source}`);
  out.push("");
  out.push(`# trl.${fields.configClass[trainer]}: transformers.TrainingArguments plus the ${trainer.toUpperCase()} fields.`);
  out.push("# Anything not listed keeps TRL's default.");
  if (needsDeepSpeed(args.mode)) out.push("# DeepSpeed comes from accelerate.yaml; do not also set `deepspeed` here.");
  out.push("training:");
  for (const [key, entry] of sortedEntries(args.training, ["output_dir"])) out.push(`  ${key}: ${yamlValue(entry.value)}  # ${entry.source}`);
  return `${out.join("\n")}\n`;
}

/** `file` as a POSIX path relative to `dir` (what train.py joins to the folder it runs from). */
/** accelerate.yaml for a run folder: mixed precision follows the training section's bf16 / fp16. */
export function runAccelerateYaml(
  training: Map<string, { value: unknown }>,
  mode: AccelerateMode,
  numProcesses: number,
  options: { numMachines?: number; mainProcessIp?: string; mainProcessPort?: number },
): string {
  const bf16 = training.get("bf16")?.value;
  const fp16 = training.get("fp16")?.value;
  return accelerateYaml({
    mode,
    numProcesses,
    mixedPrecision: fp16 === true ? "fp16" : bf16 === false ? "no" : "bf16",
    numMachines: options.numMachines,
    mainProcessIp: options.mainProcessIp,
    mainProcessPort: options.mainProcessPort,
  });
}

/** A run folder is written only into a new or empty folder, unless --force. */
export function assertRunDirFree(runDir: string, force: boolean | undefined): void {
  if (existsSync(runDir) && readdirSync(runDir).length > 0 && !force) {
    if (existsSync(path.join(runDir, RUN_MANIFEST))) throw new Error(`${runDir} already holds a run; pass --force to overwrite its files`);
    throw new Error(`${runDir} exists and is not empty; choose a new folder or pass --force`);
  }
}

export function relativeTo(dir: string, file: string): string {
  return path.relative(dir, file).split(path.sep).join("/");
}

function sortedEntries(map: Map<string, Entry>, first: string[]): Array<[string, Entry]> {
  return [...map].sort(([a], [b]) => {
    const ia = first.indexOf(a);
    const ib = first.indexOf(b);
    if (ia !== -1 || ib !== -1) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
    return a.localeCompare(b);
  });
}

const PLAIN = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
const RESERVED = /^(true|false|null|yes|no|on|off|y|n|~)$/i;

/**
 * One YAML value that PyYAML (YAML 1.1) reads back as the same thing: floats in exponent form
 * get a mantissa dot and a signed exponent (PyYAML reads `5e-6` as a string), strings that could
 * read as something else are quoted, collections are written in flow (JSON) style.
 */
export function yamlValue(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") return yamlNumber(value);
  if (typeof value === "string") return PLAIN.test(value) && !RESERVED.test(value) && !/^[-+.]?\d/.test(value) ? value : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(yamlValue).join(", ")}]`;
  if (typeof value === "object") {
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}: ${yamlValue(v)}`).join(", ")}}`;
  }
  return JSON.stringify(String(value));
}

function yamlNumber(n: number): string {
  if (Number.isNaN(n)) return ".nan";
  if (!Number.isFinite(n)) return n > 0 ? ".inf" : "-.inf";
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  const text = Math.abs(n) < 1e-3 ? n.toExponential() : String(n);
  const match = /^(-?\d+)(\.\d+)?e([+-]?)(\d+)$/.exec(text);
  if (!match) return text;
  const [, int, frac, sign, exp] = match;
  return `${int}${frac ?? ".0"}e${sign === "-" ? "-" : "+"}${exp!.padStart(2, "0")}`;
}

function launchScript(mode: AccelerateMode): string {
  const rank = mode === "multi-node" ? ' --machine_rank "${MACHINE_RANK:-0}"' : "";
  return [
    "#!/usr/bin/env bash",
    "# Starts the training run in this folder: TRL through accelerate, with accelerate.yaml and config.yaml.",
    "# Run it as `bash launch.sh` (or `critic train launch <this folder>` for progress and run tracking).",
    ...(mode === "multi-node" ? ["# On every machine: MACHINE_RANK=<0 on the main machine, 1, 2, ... on the others> bash launch.sh"] : []),
    "set -euo pipefail",
    'cd "$(dirname "$0")"',
    "# Unbuffered output so the trainer's log lines arrive as they are printed.",
    "export PYTHONUNBUFFERED=1",
    `exec accelerate launch --config_file accelerate.yaml${rank} train.py --config config.yaml`,
    "",
  ].join("\n");
}

function runReadme(manifest: RunManifest, exp: ExportDir, preset: Preset | undefined, notes: string[]): string {
  const runDir = path.dirname(manifest.outputDir);
  const name = path.basename(runDir) || "judge";
  // Commands are run in the run folder, which may have been copied elsewhere: name the output relatively.
  const out = path.relative(runDir, manifest.outputDir).startsWith("..") ? manifest.outputDir : `./${relativeTo(runDir, manifest.outputDir)}`;
  const lines = [
    `# critic train ${manifest.trainer}: ${manifest.base}`,
    "",
    `Trains \`${manifest.base}\` with TRL's ${manifest.trainer.toUpperCase()} trainer on the \`${exp.format}\` export in \`${exp.dir}\`` +
      (preset ? `, with the ${preset.name} preset (${preset.description}).` : "."),
    "",
    "| file | what |",
    "|---|---|",
    "| config.yaml | TRL arguments (trl.ModelConfig under `model`, the trainer's config under `training`), each with its source |",
    `| accelerate.yaml | ${manifest.accelerate} (${manifest.numProcesses} process${manifest.numProcesses === 1 ? "" : "es"}) |`,
    "| train.py | loads config.yaml and runs the trainer (no edits needed) |",
    "| launch.sh | `accelerate launch --config_file accelerate.yaml train.py --config config.yaml` |",
    ...(manifest.trainer === "grpo" ? ["| reward_fn.py | the GRPO reward: POSTs each batch to `critic serve --reward` |"] : []),
    "",
    ...(notes.length > 0 ? ["Notes:", "", ...notes.map((n) => `- ${n}`), ""] : []),
    "## Run it",
    "",
    "```sh",
    "critic train doctor            # python, torch, trl, accelerate, deepspeed, peft, GPUs",
    `pip install "trl==${manifest.trl}" accelerate datasets peft${needsDeepSpeed(manifest.accelerate) ? " deepspeed" : ""}${manifest.bitsandbytes ?? manifest.lora ? " bitsandbytes" : ""}`,
    ...(manifest.trainer === "grpo" ? ["critic serve --reward --model ./judge.gguf --template criticon --port 8080 &   # the reward judge"] : []),
    "bash launch.sh                 # or: critic train launch .   (progress bar, run store, Ctrl-C)",
    "```",
    "",
    `Checkpoints and the final model go to \`${out}\`. Change a value in config.yaml, or write the folder again with`,
    "`critic train ... --set key=value --force`.",
    "",
    "## Use the result in critic",
    "",
    "critic runs GGUF models, so convert the result with llama.cpp (`git clone https://github.com/ggml-org/llama.cpp`,",
    "`pip install -r llama.cpp/requirements.txt`):",
    "",
    "```sh",
    ...(manifest.lora
      ? [
          "# A LoRA adapter: convert it, then apply it to a GGUF of the base model.",
          `python llama.cpp/convert_lora_to_gguf.py ${out} --base-model-id ${manifest.base} --outfile ${name}-adapter.gguf`,
          `python llama.cpp/convert_hf_to_gguf.py <local copy of ${manifest.base}> --outfile base.gguf --outtype q8_0`,
          `critic judge data.jsonl -o judged.jsonl --model ./base.gguf --lora ./${name}-adapter.gguf`,
          `critic serve --model ./base.gguf --lora ./${name}-adapter.gguf`,
        ]
      : [
          `python llama.cpp/convert_hf_to_gguf.py ${out} --outfile ${name}.gguf --outtype q8_0`,
          `critic judge data.jsonl -o judged.jsonl --model ./${name}.gguf`,
          `critic serve --model ./${name}.gguf`,
        ]),
    "```",
    "",
    "Compare it with the judge you started from on labelled data before switching: `critic bench run` runs several",
    "judges over the same benchmark, and `critic meta-eval` measures one judge against human labels.",
    "",
  ];
  return lines.join("\n");
}
