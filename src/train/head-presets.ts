/**
 * Presets and defaults of `critic train classify|regress`. Keys are transformers.TrainingArguments
 * fields (training), peft.LoraConfig fields (lora) and critic's own model keys; each value carries
 * its source, written beside it in config.yaml.
 */
import type { AccelerateMode } from "./accelerate.js";
import type { PresetValue } from "./presets.js";

export type HeadKind = "classify" | "regress";
export const HEAD_KINDS: readonly HeadKind[] = ["classify", "regress"];
export type HeadLoss = "emd" | "ce" | "mse";
/** Losses each kind takes; the first is the default. */
export const HEAD_LOSSES: Record<HeadKind, readonly HeadLoss[]> = { classify: ["emd", "ce"], regress: ["mse"] };

export type HeadPresetName = "phudge";
export const HEAD_PRESET_NAMES: readonly HeadPresetName[] = ["phudge"];

export interface HeadPreset {
  name: HeadPresetName;
  description: string;
  training: (kind: HeadKind) => Record<string, PresetValue>;
  lora: Record<string, PresetValue>;
  model: (kind: HeadKind) => Record<string, PresetValue>;
  earlyStopping: Record<string, PresetValue>;
  loss: Record<HeadKind, PresetValue>;
  /** eval_steps and save_steps = (steps per epoch) // 2, computed from the export's row count. */
  evalTwicePerEpoch?: string;
  accelerate: { mode: AccelerateMode; numProcesses: number; source: string };
  notes: string[];
}

const v = (value: unknown, source: string): PresetValue => ({ value, source });

// deshwalmahesh/PHUDGE @ e41a4996411b992f0aeb1ad6ece68a572a5f6c90 (seed 003).
const PHUDGE = "PHUDGE @ e41a499";
const TRAIN = `${PHUDGE} scripts/train_phi-3-reg_classi.py`;
const LOADER = `${PHUDGE} scripts/custom_loader_train_reg_classif.py`;
const HELPERS = `${PHUDGE} scripts/training_helpers.py`;
const EVAL = `${PHUDGE} evaluation/EVAL.ipynb`;
const ACCEL = `${PHUDGE} scripts/accelerate_default_config.yaml`;

export const HEAD_PRESETS: Record<HeadPresetName, HeadPreset> = {
  phudge: {
    name: "phudge",
    description: "PHUDGE (arXiv:2405.08029): Phi-3-mini sequence classifier / regressor, LoRA r 128 on all projections, squared EMD loss, NEFTune, early stopping, DeepSpeed ZeRO-2 on 4 GPUs",
    training: (kind) => ({
      learning_rate: v(2.0e-5, TRAIN),
      lr_scheduler_type: v("cosine", TRAIN),
      warmup_steps: v(0.05, `${TRAIN} (as warmup_ratio = 0.05; transformers 5 reads a warmup_steps below 1 as a ratio)`),
      weight_decay: v(0.005, TRAIN),
      optim: v("adamw_torch", TRAIN),
      num_train_epochs: v(5, `${TRAIN} (__main__: EPOCHS = 5)`),
      per_device_train_batch_size: kind === "classify" ? v(18, `${TRAIN} (__main__: BATCH = 18, num_classes = 5)`) : v(20, `${LOADER} (__main__: BATCH = 20, num_classes = 1)`),
      per_device_eval_batch_size: kind === "classify" ? v(18, `${TRAIN} (per_device_eval_batch_size = BATCH)`) : v(20, `${LOADER} (per_device_eval_batch_size = BATCH)`),
      gradient_accumulation_steps: v(1, `${TRAIN} (GRAD_ACC = 1)`),
      bf16: v(true, TRAIN),
      tf32: v(true, TRAIN),
      torch_compile: v(true, TRAIN),
      gradient_checkpointing: v(true, TRAIN),
      gradient_checkpointing_kwargs: v({ use_reentrant: false }, TRAIN),
      neftune_noise_alpha: v(7, TRAIN),
      logging_strategy: v("steps", TRAIN),
      logging_steps: v(50, `${TRAIN} (LOG_STEPS = 50)`),
      save_strategy: v("steps", TRAIN),
      eval_strategy: v("steps", `${TRAIN} (as evaluation_strategy, renamed eval_strategy in transformers 4.46)`),
      save_total_limit: v(5, `${TRAIN} (PATIENCE + 1)`),
      load_best_model_at_end: v(true, TRAIN),
      seed: v(13, `${TRAIN} (seed_everything(seed = 13))`),
      dataloader_num_workers: v(4, `${TRAIN} (dataloader_num_workers = accelerator.num_processes: 4 processes in ${ACCEL})`),
    }),
    lora: {
      r: v(128, `${TRAIN} (lora_rank = 128)`),
      lora_alpha: v(256, `${TRAIN} (lora_alpha = lora_rank * 2)`),
      lora_dropout: v(0.1, TRAIN),
      target_modules: v(["o_proj", "qkv_proj", "gate_up_proj", "down_proj"], TRAIN),
      bias: v("none", TRAIN),
      task_type: v("SEQ_CLS", TRAIN),
    },
    model: (kind) => ({
      dtype: v("bfloat16", `${TRAIN} (torch_dtype = torch.bfloat16)`),
      attn_implementation: v("flash_attention_2", `${TRAIN} (__main__: attn_implementation = "flash_attention_2"; needs flash-attn, set null without it)`),
      max_length: kind === "classify"
        ? v(1656, `${EVAL} (MAX_LENGTH = 1656; the classifier's training data was tokenized beforehand, its length is not in the scripts)`)
        : v(1488, `${LOADER} (__main__: MAX_LENGTH = 1488)`),
    }),
    earlyStopping: {
      patience: v(4, `${TRAIN} (PATIENCE = 4)`),
      threshold: v(0.0005, `${TRAIN} (early_stopping_threshold = 0.0005)`),
    },
    loss: {
      classify: v("emd", `${TRAIN} (CustomLossTrainer: ${"CustomEMDLoss"} squared = True, summed = False, from ${HELPERS})`),
      regress: v("mse", `${LOADER} (the plain Trainer: transformers' MSE loss for num_labels = 1)`),
    },
    evalTwicePerEpoch: `${TRAIN} (EVAL_STEPS = steps_per_epoch // 2, steps_per_epoch = rows // (processes x BATCH x GRAD_ACC))`,
    accelerate: { mode: "zero2", numProcesses: 4, source: `${ACCEL} (distributed_type: DEEPSPEED, zero_stage: 2, num_processes: 4, mixed_precision: bf16)` },
    notes: [
      `PHUDGE's base model is microsoft/Phi-3-mini-4k-instruct (${TRAIN}, __main__: model_name); pass it as --base.`,
      `PHUDGE trained on Prometheus' Feedback Collection with the rubric and the reference answer each dropped with probability 0.5 (${PHUDGE} scripts/data_utils.py TextDataset); export with \`critic export -f classify --augment-drop 0.5\`.`,
      "PHUDGE reported to wandb (report_to: wandb) and loaded the model with trust_remote_code=True; this preset leaves reporting off, and Phi-3 is built into transformers, so no remote code is needed.",
      `PHUDGE padded every prompt to max_length; train.py pads each batch to its longest prompt, which gives the same last-token logits.`,
    ],
  },
};

/** Values written when neither the preset nor --set gives them. */
export function headDefaults(): { training: Record<string, PresetValue>; lora: Record<string, PresetValue>; model: Record<string, PresetValue> } {
  const critic = "critic default";
  return {
    training: {
      learning_rate: v(2.0e-5, critic),
      num_train_epochs: v(3, critic),
      per_device_train_batch_size: v(8, critic),
      per_device_eval_batch_size: v(8, critic),
      bf16: v(true, critic),
      gradient_checkpointing: v(true, critic),
      gradient_checkpointing_kwargs: v({ use_reentrant: false }, `${critic}: non-reentrant checkpointing works with frozen (LoRA) weights`),
      logging_steps: v(10, critic),
      save_strategy: v("epoch", critic),
      eval_strategy: v("epoch", critic),
      load_best_model_at_end: v(true, `${critic}: with early stopping, keep the best checkpoint`),
      save_total_limit: v(2, critic),
      report_to: v("none", `${critic} (set report_to: wandb or trackio to track runs)`),
    },
    lora: {
      r: v(16, critic),
      lora_alpha: v(32, critic),
      lora_dropout: v(0.05, critic),
      target_modules: v("all-linear", `${critic}: every linear layer of the backbone (peft leaves the output head out)`),
      task_type: v("SEQ_CLS", `${critic}: a sequence classifier`),
    },
    model: {
      dtype: v("bfloat16", critic),
      attn_implementation: v(null, `${critic}: transformers picks (sdpa where it can)`),
      trust_remote_code: v(false, critic),
      max_length: v(2048, `${critic}: prompts are cut to this many tokens`),
      chat_template: v(true, `${critic}: the base model's chat template around the judge prompt, as the judge package renders it`),
    },
  };
}

export function getHeadPreset(name: string): HeadPreset {
  const preset = HEAD_PRESETS[name as HeadPresetName];
  if (!preset) throw new Error(`unknown preset "${name}" for classify/regress; presets: ${HEAD_PRESET_NAMES.join(", ")}`);
  return preset;
}
