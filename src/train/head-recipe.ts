/**
 * Writes a run folder for a sequence-classification judge (`critic train classify|regress`):
 * config.yaml (every value with its source), accelerate.yaml, train.py (transformers Trainer,
 * AutoModelForSequenceClassification, EMD / CE / MSE loss, peft LoRA), package.py (the judge
 * package: backbone GGUF, head safetensors, judge.json), launch.sh, README.md and critic-run.json.
 * Everything is checked (export folder, preset, loss, every --set key) before the first file is written.
 */
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ACCELERATE_MODES, needsDeepSpeed, type AccelerateMode } from "./accelerate.js";
import { checkExportFor, readExportDir, type ExportDir } from "./export-dir.js";
import { HEAD_ASSETS_DIR, HEAD_SECTIONS, loadHeadFields, parseHeadSetting, resolveHeadKey, type HeadFields, type HeadSection } from "./head-fields.js";
import { getHeadPreset, HEAD_KINDS, HEAD_LOSSES, headDefaults, type HeadKind, type HeadLoss, type HeadPreset } from "./head-presets.js";
import type { PresetValue } from "./presets.js";
import { assertRunDirFree, relativeTo, runAccelerateYaml, RUN_MANIFEST, yamlValue } from "./recipe.js";

export interface HeadRecipeOptions {
  kind: HeadKind;
  /** A `critic export -f classify|regress` folder. */
  data: string;
  base: string;
  output: string;
  preset?: string;
  loss?: HeadLoss;
  accelerate?: AccelerateMode;
  numProcesses?: number;
  numMachines?: number;
  mainProcessIp?: string;
  mainProcessPort?: number;
  /** `key=value` or `section.key=value` (training, lora, model, early_stopping, package). */
  set?: string[];
  /** Full fine-tuning instead of LoRA. */
  noLora?: boolean;
  force?: boolean;
}

export interface HeadRunManifest {
  trainer: HeadKind;
  loss: HeadLoss;
  base: string;
  export: { dir: string; format: string; counts: Record<string, unknown> };
  preset: string | null;
  accelerate: AccelerateMode;
  numProcesses: number;
  transformers: string;
  peft: string;
  outputDir: string;
  packageDir: string;
  lora: boolean;
  createdAt: string;
}

export interface WrittenHeadRun {
  runDir: string;
  files: string[];
  manifest: HeadRunManifest;
  sections: Record<HeadSection, Record<string, unknown>>;
}

type Entries = Map<string, PresetValue>;

export async function writeHeadRunFolder(options: HeadRecipeOptions): Promise<WrittenHeadRun> {
  const { kind } = options;
  if (!HEAD_KINDS.includes(kind)) throw new Error(`unknown head kind "${kind}"; kinds: ${HEAD_KINDS.join(", ")}`);
  const fields = loadHeadFields();
  const exp = readExportDir(options.data);
  await checkExportFor(kind, exp);
  const head = exportHead(exp, kind);
  const preset = options.preset ? getHeadPreset(options.preset) : undefined;
  const losses = HEAD_LOSSES[kind];
  const loss: PresetValue = options.loss
    ? { value: options.loss, source: "--loss" }
    : preset?.loss[kind] ?? { value: losses[0], source: kind === "classify" ? "critic default: squared EMD, which weighs a miss by its distance on the scale (PHUDGE)" : "critic default" };
  if (!losses.includes(loss.value as HeadLoss)) throw new Error(`--loss ${String(loss.value)} does not apply to ${kind}; ${kind} takes ${losses.join(" or ")}`);

  const sections = Object.fromEntries(HEAD_SECTIONS.map((s) => [s, new Map()])) as Record<HeadSection, Entries>;
  const put = (section: HeadSection, values: Record<string, PresetValue>) => {
    for (const [key, value] of Object.entries(values)) sections[section].set(key, value);
  };
  const defaults = headDefaults();
  put("training", defaults.training);
  put("model", defaults.model);
  if (!options.noLora) put("lora", defaults.lora);
  if (preset) {
    put("training", preset.training(kind));
    put("model", preset.model(kind));
    if (!options.noLora) put("lora", preset.lora);
    put("early_stopping", preset.earlyStopping);
  } else {
    put("early_stopping", { patience: { value: 3, source: "critic default: stop after 3 evaluations without a better eval_loss" } });
  }
  if (!options.noLora) sections.lora.set("modules_to_save", { value: ["score"], source: "critic: the score head is trained in full, not through LoRA (peft also adds it for task_type SEQ_CLS)" });
  sections.package.set("outtype", { value: "q8_0", source: "critic default: GGUF type of the backbone (f16, bf16, q8_0)" });
  // Presets are checked like user keys, so a stale preset fails here rather than on the GPU box.
  for (const section of HEAD_SECTIONS) for (const key of sections[section].keys()) resolveHeadKey(key, fields, section);

  const runDir = path.resolve(options.output);
  // Paths in config.yaml are relative to the run folder (train.py and package.py resolve them there),
  // so a folder copied to a GPU machine with its export beside it still finds both.
  sections.training.set("output_dir", { value: "output", source: "checkpoints and the final model (a LoRA adapter with the score head), relative to this folder" });

  const user = new Set<string>();
  for (const text of options.set ?? []) {
    const setting = parseHeadSetting(text, fields);
    if (setting.section === "lora" && options.noLora) throw new Error(`--set ${text}: --no-lora trains without LoRA`);
    sections[setting.section].set(setting.key, { value: setting.value, source: "--set" });
    user.add(`${setting.section}.${setting.key}`);
  }

  const mode = options.accelerate ?? preset?.accelerate.mode ?? "single";
  if (!ACCELERATE_MODES.includes(mode)) throw new Error(`unknown --accelerate "${mode}"; modes: ${ACCELERATE_MODES.join(", ")}`);
  const numProcesses = options.numProcesses ?? (preset && preset.accelerate.mode === mode ? preset.accelerate.numProcesses : mode === "single" ? 1 : 8);

  const notes = [...(preset?.notes ?? [])];
  const training = sections.training;
  if (!exp.files.test) {
    for (const key of ["eval_strategy", "eval_steps", "load_best_model_at_end", "per_device_eval_batch_size", "metric_for_best_model"]) {
      if (!user.has(`training.${key}`)) training.delete(key);
    }
    sections.early_stopping.clear();
    notes.push("The export has no test split, so evaluation and early stopping are off.");
  } else if (preset?.evalTwicePerEpoch) {
    const rows = Number(exp.counts.train ?? 0);
    const perStep = numProcesses * Number(training.get("per_device_train_batch_size")?.value ?? 8) * Number(training.get("gradient_accumulation_steps")?.value ?? 1);
    const steps = Math.max(1, Math.floor(Math.floor(rows / perStep) / 2));
    const source = `${preset.evalTwicePerEpoch}: ${rows} rows // (${numProcesses} x ${perStep / numProcesses}) // 2`;
    for (const key of ["eval_steps", "save_steps"]) if (!user.has(`training.${key}`)) training.set(key, { value: steps, source });
  }
  const accelerate = runAccelerateYaml(training, mode, numProcesses, options);
  assertRunDirFree(runDir, options.force);
  const manifest: HeadRunManifest = {
    trainer: kind,
    loss: loss.value as HeadLoss,
    base: options.base,
    export: { dir: exp.dir, format: exp.format, counts: exp.counts },
    preset: preset?.name ?? null,
    accelerate: mode,
    numProcesses,
    transformers: fields.transformers.split(" ")[0]!,
    peft: fields.peft,
    outputDir: path.resolve(runDir, String(training.get("output_dir")!.value)),
    packageDir: path.join(runDir, "package"),
    lora: !options.noLora,
    createdAt: new Date().toISOString(),
  };

  mkdirSync(runDir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string) => {
    writeFileSync(path.join(runDir, name), text);
    files.push(name);
  };
  write("config.yaml", configYaml({ kind, loss, exp, head, preset, sections, notes, fields, base: options.base, mode, runDir }));
  write("accelerate.yaml", accelerate);
  for (const script of ["train.py", "package.py"]) {
    copyFileSync(path.join(HEAD_ASSETS_DIR, script), path.join(runDir, script));
    files.push(script);
  }
  write("launch.sh", launchScript(mode));
  chmodSync(path.join(runDir, "launch.sh"), 0o755);
  write("README.md", readme(manifest, exp, preset, notes));
  write(RUN_MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  return {
    runDir,
    files,
    manifest,
    sections: Object.fromEntries(HEAD_SECTIONS.map((s) => [s, Object.fromEntries([...sections[s]].map(([k, e]) => [k, e.value]))])) as Record<HeadSection, Record<string, unknown>>,
  };
}

/** The export's labels, scale and template, checked: a judge package has one template and one scale. */
function exportHead(exp: ExportDir, kind: HeadKind): NonNullable<ExportDir["head"]> {
  const head = exp.head;
  if (!head) throw new Error(`${exp.dir}/export.json has no "head" section; export it again with \`critic export -f ${kind}\``);
  if (head.template === null || head.scale === null) {
    throw new Error(`${exp.dir}: the rows were rendered with several templates (or one without a scale); a judge has one: export again with --template <name>`);
  }
  if (kind === "classify" && (!head.labels || head.labels.length < 2)) throw new Error(`${exp.dir}/export.json: head.labels needs two or more scores`);
  return head;
}

function configYaml(args: {
  kind: HeadKind;
  loss: PresetValue;
  exp: ExportDir;
  head: NonNullable<ExportDir["head"]>;
  preset: HeadPreset | undefined;
  sections: Record<HeadSection, Entries>;
  notes: string[];
  fields: HeadFields;
  base: string;
  mode: AccelerateMode;
  runDir: string;
}): string {
  const { kind, exp, head, preset, sections, fields } = args;
  const out: string[] = [];
  const entries = (section: HeadSection, first: string[] = []) => {
    const sorted = [...sections[section]].sort(([a], [b]) => (first.includes(a) ? -1 : first.includes(b) ? 1 : a.localeCompare(b)));
    for (const [key, entry] of sorted) out.push(`  ${key}: ${yamlValue(entry.value)}  # ${entry.source}`);
  };
  out.push(`# critic train ${kind}: a sequence-classification judge, read by train.py and package.py.`);
  out.push("# Each value has its source beside it.");
  if (preset) out.push(`# Preset ${preset.name}: ${preset.description}.`);
  for (const note of args.notes) out.push(`# Note: ${note}`);
  out.push("", `kind: ${kind}`, `loss: ${yamlValue(args.loss.value)}  # ${args.loss.source}`, "");
  out.push(`# The ${exp.format} export from ${relativeTo(args.runDir, exp.dir)} (paths relative to this folder): rows {text, label}.`, "data:", `  train: ${yamlValue(relativeTo(args.runDir, exp.files.train))}`);
  if (exp.files.test) out.push(`  test: ${yamlValue(relativeTo(args.runDir, exp.files.test))}`);
  out.push("", "# From the export's export.json: what the head's outputs mean and how prompts are rendered (judge.json takes these).", "head:");
  if (kind === "classify") out.push(`  labels: ${yamlValue(head.labels)}  # row i of the head stands for labels[i]`);
  out.push(`  scale: ${yamlValue(head.scale)}`, `  template: ${yamlValue(head.template)}`, `  template_options: ${yamlValue(head.template_options)}`);
  out.push("", "# AutoModelForSequenceClassification.from_pretrained and the prompt (critic's keys).", "model:", `  model_name_or_path: ${yamlValue(args.base)}  # --base`);
  entries("model");
  if (sections.lora.size > 0) {
    out.push("", `# peft.LoraConfig (peft ${fields.peft}); remove this section for full fine-tuning.`, "lora:");
    entries("lora", ["r"]);
  }
  out.push("", `# transformers.TrainingArguments (transformers ${fields.transformers.split(" ")[0]}). Anything not listed keeps transformers' default.`);
  if (needsDeepSpeed(args.mode)) out.push("# DeepSpeed comes from accelerate.yaml; do not also set `deepspeed` here.");
  out.push("training:");
  entries("training", ["output_dir"]);
  if (sections.early_stopping.size > 0) {
    out.push("", "# transformers.EarlyStoppingCallback (on eval_loss, needs the test split).", "early_stopping:");
    entries("early_stopping");
  }
  out.push("", "# package.py: the judge package (backbone GGUF, head safetensors, judge.json).", "package:");
  entries("package");
  return `${out.join("\n")}\n`;
}

function launchScript(mode: AccelerateMode): string {
  const rank = mode === "multi-node" ? ' --machine_rank "${MACHINE_RANK:-0}"' : "";
  return [
    "#!/usr/bin/env bash",
    "# Trains the judge in this folder (transformers through accelerate), then writes its judge package.",
    "# Run it as `bash launch.sh` (or `critic train launch <this folder>`). LLAMA_CPP names a llama.cpp",
    "# checkout for the GGUF conversion (default ./llama.cpp); CRITIC_SKIP_PACKAGE=1 trains only.",
    ...(mode === "multi-node" ? ["# On every machine: MACHINE_RANK=<0 on the main machine, 1, 2, ... on the others> bash launch.sh"] : []),
    "set -euo pipefail",
    'cd "$(dirname "$0")"',
    "export PYTHONUNBUFFERED=1",
    'LLAMA_CPP="${LLAMA_CPP:-llama.cpp}"',
    '# Checked before training, so a missing converter does not surface after hours on the GPU.',
    'if [ "${CRITIC_SKIP_PACKAGE:-0}" != "1" ] && [ ! -f "$LLAMA_CPP/convert_hf_to_gguf.py" ]; then',
    '  echo "launch.sh: no $LLAMA_CPP/convert_hf_to_gguf.py: git clone https://github.com/ggml-org/llama.cpp and pip install -r llama.cpp/requirements.txt, set LLAMA_CPP, or CRITIC_SKIP_PACKAGE=1" >&2',
    "  exit 2",
    "fi",
    `accelerate launch --config_file accelerate.yaml${rank} train.py --config config.yaml`,
    'if [ "${CRITIC_SKIP_PACKAGE:-0}" != "1" ] && [ "${MACHINE_RANK:-0}" = "0" ]; then',
    '  python package.py --config config.yaml --llama-cpp "$LLAMA_CPP"',
    "fi",
    "",
  ].join("\n");
}

function readme(manifest: HeadRunManifest, exp: ExportDir, preset: HeadPreset | undefined, notes: string[]): string {
  const deepspeed = needsDeepSpeed(manifest.accelerate) ? " deepspeed" : "";
  const lines = [
    `# critic train ${manifest.trainer}: ${manifest.base}`,
    "",
    `Trains a ${manifest.trainer === "classify" ? "classifier (one output per score)" : "regressor (one output: the score)"} on \`${manifest.base}\` with transformers' Trainer and the ${manifest.loss.toUpperCase()} loss, on the \`${exp.format}\` export in \`${exp.dir}\`` +
      (preset ? `, with the ${preset.name} preset (${preset.description}).` : "."),
    "",
    "| file | what |",
    "|---|---|",
    "| config.yaml | every setting, each with its source: `model`, `lora` (peft.LoraConfig), `training` (transformers.TrainingArguments), `early_stopping`, `package` |",
    `| accelerate.yaml | ${manifest.accelerate} (${manifest.numProcesses} process${manifest.numProcesses === 1 ? "" : "es"}) |`,
    "| train.py | AutoModelForSequenceClassification + LoRA (the score head trained in full), the loss, Trainer (no edits needed) |",
    "| package.py | the judge package critic runs: backbone.gguf, head.safetensors, judge.json |",
    "| launch.sh | checks the llama.cpp checkout, trains, then runs package.py |",
    "",
    ...(notes.length > 0 ? ["Notes:", "", ...notes.map((n) => `- ${n}`), ""] : []),
    "## Run it",
    "",
    "```sh",
    "critic train doctor",
    `pip install "transformers>=${manifest.transformers},<5.2" "peft==${manifest.peft}" accelerate datasets pyyaml numpy${deepspeed}`,
    "git clone https://github.com/ggml-org/llama.cpp && pip install -r llama.cpp/requirements.txt   # for the GGUF backbone",
    "bash launch.sh                 # or: critic train launch .",
    "```",
    "",
    `The adapter and score head go to \`${manifest.outputDir}\`; the judge package to \`${manifest.packageDir}\`.`,
    "",
    "## The judge package",
    "",
    "llama.cpp's converter does not take `*ForSequenceClassification` models, so package.py merges the LoRA, saves the",
    "backbone as the causal model it wraps (`*ForCausalLM`, the base's own lm_head) and converts that with",
    "`llama.cpp/convert_hf_to_gguf.py`; the head (`score.weight`, F32) goes to head.safetensors, beside judge.json",
    "(kind, labels, scale, template, pooling = last token). Run it again by hand with",
    "`python package.py --config config.yaml --llama-cpp <checkout> --outtype q8_0`.",
    "",
  ];
  return lines.join("\n");
}
