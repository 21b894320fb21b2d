/**
 * The TRL argument names `critic train --set` accepts, from assets/trl/fields.json (or a file
 * made by assets/trl/dump_fields.py from the TRL a user has installed). A key is checked before
 * anything is written, so a typo fails with a did-you-mean instead of a TypeError on the GPU box.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { didYouMean } from "../util/did-you-mean.js";

export { didYouMean };

/** The package's assets/trl folder (src/train or dist/train are two levels below the root). */
export const TRL_ASSETS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../assets/trl");

export type TrlTrainer = "sft" | "dpo" | "kto" | "reward" | "grpo";
export const TRL_TRAINERS: readonly TrlTrainer[] = ["sft", "dpo", "kto", "reward", "grpo"];

const fieldsFile = z.object({
  trl: z.string(),
  transformers: z.string(),
  training_arguments: z.array(z.string()),
  training_arguments_newer: z.array(z.string()).default([]),
  base_config: z.array(z.string()).default([]),
  trainers: z.record(z.string(), z.object({ config: z.string(), fields: z.array(z.string()) })),
  model_config: z.array(z.string()),
  renamed: z.record(z.string(), z.string()).default({}),
});

export interface TrlFields {
  /** TRL version the names were taken from. */
  trl: string;
  transformers: string;
  /** Config dataclass per trainer, e.g. sft -> SFTConfig. */
  configClass: Record<TrlTrainer, string>;
  /** Every field of the trainer's config dataclass (TrainingArguments included). */
  training: Record<TrlTrainer, ReadonlySet<string>>;
  /** trl.ModelConfig fields (model loading, PEFT, quantization). */
  model: ReadonlySet<string>;
  /** Old names that TRL/transformers renamed, old -> new. */
  renamed: Record<string, string>;
}

let bundled: TrlFields | undefined;

/** The field names critic ships (pinned TRL), or those of a file from dump_fields.py. */
export function loadTrlFields(file?: string): TrlFields {
  if (!file && bundled) return bundled;
  const source = file ?? path.join(TRL_ASSETS_DIR, "fields.json");
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(source, "utf8"));
  } catch (error) {
    throw new Error(`cannot read TRL field names from ${source}: ${(error as Error).message}`);
  }
  const parsed = fieldsFile.safeParse(raw);
  if (!parsed.success) throw new Error(`${source} is not a TRL fields file: ${parsed.error.issues[0]?.message ?? "bad shape"}`);
  const data = parsed.data;
  const common = [...data.training_arguments, ...data.training_arguments_newer, ...data.base_config];
  const training = {} as Record<TrlTrainer, ReadonlySet<string>>;
  const configClass = {} as Record<TrlTrainer, string>;
  for (const trainer of TRL_TRAINERS) {
    const entry = data.trainers[trainer];
    if (!entry) throw new Error(`${source} has no field list for the ${trainer} trainer`);
    training[trainer] = new Set([...common, ...entry.fields]);
    configClass[trainer] = entry.config;
  }
  const fields: TrlFields = {
    trl: data.trl,
    transformers: data.transformers,
    configClass,
    training,
    model: new Set(data.model_config),
    renamed: data.renamed,
  };
  if (!file) bundled = fields;
  return fields;
}

export type Section = "training" | "model";

export interface Setting {
  section: Section;
  key: string;
  value: unknown;
}

/**
 * Parses `key=value` (or `model.key=value` / `training.key=value`) and checks the key against the
 * trainer's config dataclass and trl.ModelConfig. Values are YAML scalars or flow collections:
 * `1e-5`, `true`, `null`, `[q_proj, v_proj]`, `{use_reentrant: false}`.
 */
export function parseSetting(text: string, trainer: TrlTrainer, fields: TrlFields): Setting {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new Error(`--set expects key=value, got "${text}"`);
  let key = text.slice(0, eq).trim();
  const rawValue = text.slice(eq + 1);
  let forced: Section | undefined;
  const dot = /^(training|model|args)\.(.+)$/.exec(key);
  if (dot) {
    forced = dot[1] === "model" ? "model" : "training";
    key = dot[2]!;
  }
  const section = resolveSection(key, trainer, fields, forced);
  let value: unknown;
  try {
    value = rawValue.trim() === "" ? "" : parseYaml(rawValue);
  } catch {
    value = rawValue;
  }
  return { section, key, value };
}

export function resolveSection(key: string, trainer: TrlTrainer, fields: TrlFields, forced?: Section): Section {
  const inTraining = fields.training[trainer].has(key);
  const inModel = fields.model.has(key);
  if (forced === "training" && inTraining) return "training";
  if (forced === "model" && inModel) return "model";
  if (!forced && inTraining) return "training";
  if (!forced && inModel) return "model";
  throw new Error(unknownKeyMessage(key, trainer, fields, forced));
}

function unknownKeyMessage(key: string, trainer: TrlTrainer, fields: TrlFields, forced?: Section): string {
  const where = forced === "model" ? "trl.ModelConfig" : forced === "training" ? `trl.${fields.configClass[trainer]}` : `trl.${fields.configClass[trainer]} or trl.ModelConfig`;
  const head = `unknown TRL argument "${key}": not a field of ${where} (TRL ${fields.trl})`;
  const renamed = fields.renamed[key];
  if (renamed) return `${head}; it was renamed "${renamed}"`;
  const candidates = forced === "model" ? [...fields.model] : forced === "training" ? [...fields.training[trainer]] : [...fields.training[trainer], ...fields.model];
  const close = didYouMean(key, candidates);
  const hint = close.length > 0 ? `; did you mean ${close.map((c) => `"${c}"`).join(" or ")}?` : "";
  const other = TRL_TRAINERS.filter((t) => t !== trainer && fields.training[t].has(key));
  const elsewhere = other.length > 0 ? ` (${key} belongs to ${other.map((t) => fields.configClass[t]).join(", ")})` : "";
  return `${head}${hint}${elsewhere}`;
}
