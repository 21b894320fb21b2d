/**
 * Training presets: the hyper-parameters of the recipes critic grew from, with where each value
 * comes from. Every key is a TRL field name (checked against the pinned TRL like --set keys).
 */
import type { TrlTrainer } from "./fields.js";
import type { AccelerateMode } from "./accelerate.js";

export type PresetName = "criticon-full" | "lora" | "dsc-sft";
export const PRESET_NAMES: readonly PresetName[] = ["criticon-full", "lora", "dsc-sft"];

export interface PresetValue {
  value: unknown;
  /** Where the value comes from, written as a comment beside it in config.yaml. */
  source: string;
}

export interface Preset {
  name: PresetName;
  description: string;
  /** Trainers it applies to (undefined: all). */
  trainers?: readonly TrlTrainer[];
  training: Record<string, PresetValue>;
  model: Record<string, PresetValue>;
  accelerate?: { mode: AccelerateMode; numProcesses: number; source: string };
  notes: string[];
}

const CRITICON = "Criticon config_full_v2.yaml (seed 000)";
const CRITICON_QLORA = "Criticon config_qlora.yaml (the QLoRA test config of the seed-000 project)";
const DSC = "Distilled Self-Critique run_distillation.ipynb (seed 004)";

const v = (value: unknown, source: string): PresetValue => ({ value, source });

export const PRESETS: Record<PresetName, Preset> = {
  "criticon-full": {
    name: "criticon-full",
    description: "full-parameter SFT as Criticon trained criticon-v0.1 (OpenHermes-2.5-Mistral-7B, DeepSpeed ZeRO-3 on 4 GPUs)",
    trainers: ["sft"],
    training: {
      learning_rate: v(5.0e-6, CRITICON),
      num_train_epochs: v(2, CRITICON),
      per_device_train_batch_size: v(8, CRITICON),
      per_device_eval_batch_size: v(8, CRITICON),
      gradient_accumulation_steps: v(2, CRITICON),
      gradient_checkpointing: v(true, CRITICON),
      bf16: v(true, CRITICON),
      lr_scheduler_type: v("cosine", CRITICON),
      warmup_steps: v(0.1, `${CRITICON} (as warmup_ratio: 0.1; transformers 5 deprecates warmup_ratio and reads a warmup_steps below 1 as a ratio)`),
      optim: v("paged_adamw_32bit", CRITICON),
      logging_steps: v(10, CRITICON),
      eval_strategy: v("steps", `${CRITICON} (as evaluation_strategy, renamed eval_strategy in transformers 4.46)`),
      eval_steps: v(500, CRITICON),
      save_strategy: v("epoch", CRITICON),
      seed: v(42, CRITICON),
      max_length: v(2048, `${CRITICON} (as max_seq_length, renamed max_length in TRL)`),
    },
    model: {
      dtype: v("bfloat16", `${CRITICON} (torch_dtype: bfloat16)`),
    },
    accelerate: { mode: "zero3", numProcesses: 4, source: "Criticon finetune_full_v2.sh: accelerate launch --config_file deepspeed-zero3.yaml --num_processes 4" },
    notes: [
      "Criticon used the chatml prompt format, wandb reporting (report_to: wandb) and pushed to a private Hub repo every save; this preset leaves reporting and Hub pushes off.",
      "Criticon's base model was teknium/OpenHermes-2.5-Mistral-7B (--base) on distilabel-internal-testing/ultrafeedback-critique-sft-v0.1 (export it with the criticon-sft format).",
    ],
  },
  lora: {
    name: "lora",
    description: "4-bit QLoRA on all attention and MLP projections (one GPU)",
    training: {
      learning_rate: v(2.0e-4, CRITICON_QLORA),
      num_train_epochs: v(1, CRITICON_QLORA),
      per_device_train_batch_size: v(8, CRITICON_QLORA),
      per_device_eval_batch_size: v(4, CRITICON_QLORA),
      gradient_accumulation_steps: v(4, CRITICON_QLORA),
      gradient_checkpointing: v(true, CRITICON_QLORA),
      bf16: v(true, CRITICON_QLORA),
      lr_scheduler_type: v("cosine", CRITICON_QLORA),
      warmup_steps: v(0.1, `${CRITICON_QLORA} (as warmup_ratio: 0.1; a warmup_steps below 1 is a ratio in transformers 5)`),
      optim: v("paged_adamw_32bit", CRITICON_QLORA),
      logging_steps: v(10, CRITICON_QLORA),
      eval_strategy: v("steps", `${CRITICON_QLORA} (as evaluation_strategy)`),
      eval_steps: v(100, CRITICON_QLORA),
      save_strategy: v("steps", CRITICON_QLORA),
      save_steps: v(500, CRITICON_QLORA),
      load_best_model_at_end: v(true, CRITICON_QLORA),
      seed: v(42, CRITICON_QLORA),
    },
    model: {
      dtype: v("bfloat16", CRITICON_QLORA),
      use_peft: v(true, CRITICON_QLORA),
      load_in_4bit: v(true, CRITICON_QLORA),
      lora_r: v(16, CRITICON_QLORA),
      lora_alpha: v(16, CRITICON_QLORA),
      lora_dropout: v(0.05, CRITICON_QLORA),
      lora_target_modules: v(["k_proj", "gate_proj", "v_proj", "up_proj", "q_proj", "o_proj", "down_proj"], CRITICON_QLORA),
    },
    accelerate: { mode: "single", numProcesses: 1, source: `${CRITICON_QLORA} (use_accelerate: false: one process)` },
    notes: [
      "4-bit loading needs bitsandbytes and a CUDA GPU.",
      "The result is a LoRA adapter in output_dir; convert it with llama.cpp's convert_lora_to_gguf.py (see README.md).",
    ],
  },
  "dsc-sft": {
    name: "dsc-sft",
    description: "Distilled Self-Critique distillation SFT: 4-bit LoRA r=8 on the accepted revisions",
    trainers: ["sft"],
    training: {
      per_device_train_batch_size: v(2, DSC),
      gradient_accumulation_steps: v(2, DSC),
      num_train_epochs: v(4, DSC),
      gradient_checkpointing: v(true, DSC),
      logging_steps: v(1, DSC),
      learning_rate: v(5.0e-5, `${DSC} (not set there: the transformers TrainingArguments default, which SFTConfig would otherwise change to 2e-5)`),
      max_length: v(1024, `${DSC} (not set there: the SFTTrainer default of 1024 it warned about)`),
    },
    model: {
      use_peft: v(true, DSC),
      lora_r: v(8, DSC),
      lora_alpha: v(16, DSC),
      lora_dropout: v(0.05, DSC),
      lora_task_type: v("CAUSAL_LM", DSC),
      load_in_4bit: v(true, `${DSC} (BitsAndBytesConfig load_in_4bit)`),
      bnb_4bit_quant_type: v("nf4", DSC),
      use_bnb_nested_quant: v(true, `${DSC} (bnb_4bit_use_double_quant)`),
      dtype: v("bfloat16", `${DSC} (bnb_4bit_compute_dtype=torch.bfloat16)`),
    },
    accelerate: { mode: "single", numProcesses: 1, source: `${DSC} (one process, device_map auto)` },
    notes: [
      "The paper's acceptance step keeps only revisions that scored better than the original; filter the data before exporting it.",
      "The notebook trained stabilityai/StableBeluga-7B with a '### User: / ### Assistant:' format; an sft-prompt-completion export with the model's own chat template is the TRL equivalent.",
    ],
  },
};

/** Defaults written when no preset sets them, per trainer (TRL defaults are left to TRL). */
export function baseTraining(trainer: TrlTrainer): Record<string, PresetValue> {
  const critic = "critic default";
  const common: Record<string, PresetValue> = {
    logging_steps: v(10, critic),
    save_strategy: v("epoch", critic),
    report_to: v("none", `${critic} (set report_to: wandb or trackio to track runs)`),
  };
  if (trainer === "grpo") {
    return {
      ...common,
      num_generations: v(8, "TRL GRPOConfig default, written out: per_device_train_batch_size x processes x steps_per_generation must divide by it"),
      per_device_train_batch_size: v(8, critic),
      max_completion_length: v(256, "TRL GRPOConfig default, written out"),
      logging_steps: v(1, `${critic}: GRPO steps are slow, log each one`),
    };
  }
  return common;
}

export function getPreset(name: string, trainer: TrlTrainer): Preset {
  const preset = PRESETS[name as PresetName];
  if (!preset) throw new Error(`unknown preset "${name}"; presets: ${PRESET_NAMES.join(", ")}`);
  if (preset.trainers && !preset.trainers.includes(trainer)) {
    throw new Error(`preset ${name} is a ${preset.trainers.join("/")} recipe and does not apply to \`critic train ${trainer}\``);
  }
  return preset;
}
