/**
 * The names a head run folder's config.yaml may use (`critic train classify|regress --set`):
 * `training` keys are transformers.TrainingArguments fields (the pinned list in assets/trl/fields.json),
 * `lora` keys peft.LoraConfig fields (assets/head/peft_fields.json, made by gen_peft_fields.py from a
 * tagged peft release), and a few keys of critic's own under `model`, `early_stopping` and `package`.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { didYouMean } from "../util/did-you-mean.js";
import { TRL_ASSETS_DIR } from "./fields.js";

/** The package's assets/head folder: train.py, package.py, peft_fields.json. */
export const HEAD_ASSETS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../assets/head");

export type HeadSection = "training" | "lora" | "model" | "early_stopping" | "package";
export const HEAD_SECTIONS: readonly HeadSection[] = ["training", "lora", "model", "early_stopping", "package"];

/** critic's own keys (read by train.py / package.py, not passed to a library class). */
const OWN: Record<"model" | "early_stopping" | "package", readonly string[]> = {
  model: ["dtype", "attn_implementation", "trust_remote_code", "max_length", "chat_template"],
  early_stopping: ["patience", "threshold"],
  package: ["outtype"],
};

export interface HeadFields {
  transformers: string;
  peft: string;
  sources: { transformers: string; peft: string };
  names: Record<HeadSection, ReadonlySet<string>>;
}

const trlFile = z.object({ transformers: z.string(), sources: z.object({ transformers: z.string() }), training_arguments: z.array(z.string()), training_arguments_newer: z.array(z.string()).default([]) });
const peftFile = z.object({ peft: z.string(), sources: z.object({ peft: z.string() }), lora_config: z.array(z.string()) });

let cached: HeadFields | undefined;

function readJson<T>(file: string, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export function loadHeadFields(): HeadFields {
  if (cached) return cached;
  const trl = readJson(path.join(TRL_ASSETS_DIR, "fields.json"), trlFile);
  const peft = readJson(path.join(HEAD_ASSETS_DIR, "peft_fields.json"), peftFile);
  cached = {
    transformers: trl.transformers,
    peft: peft.peft,
    sources: { transformers: trl.sources.transformers, peft: peft.sources.peft },
    names: {
      training: new Set([...trl.training_arguments, ...trl.training_arguments_newer]),
      lora: new Set(peft.lora_config),
      model: new Set(OWN.model),
      early_stopping: new Set(OWN.early_stopping),
      package: new Set(OWN.package),
    },
  };
  return cached;
}

const WHERE: Record<HeadSection, (f: HeadFields) => string> = {
  training: (f) => `transformers.TrainingArguments (transformers ${f.transformers.split(" ")[0]})`,
  lora: (f) => `peft.LoraConfig (peft ${f.peft})`,
  model: () => `critic's model keys (${OWN.model.join(", ")})`,
  early_stopping: () => "early_stopping (patience, threshold)",
  package: () => "package (outtype)",
};

/** The section of a key: as given (`lora.r`), else the one section that has it. */
export function resolveHeadKey(key: string, fields: HeadFields, forced?: HeadSection): HeadSection {
  if (forced) {
    if (fields.names[forced].has(key)) return forced;
  } else {
    const owners = HEAD_SECTIONS.filter((s) => fields.names[s].has(key));
    if (owners.length === 1) return owners[0]!;
    if (owners.length > 1) throw new Error(`"${key}" is a field of ${owners.join(" and ")}; write ${owners.map((o) => `${o}.${key}`).join(" or ")}`);
  }
  const pool = forced ? [...fields.names[forced]] : HEAD_SECTIONS.flatMap((s) => [...fields.names[s]]);
  const close = didYouMean(key, pool);
  const where = forced ? WHERE[forced](fields) : HEAD_SECTIONS.map((s) => WHERE[s](fields)).join(", ");
  throw new Error(`unknown argument "${key}": not a field of ${where}${close.length > 0 ? `; did you mean ${close.map((c) => `"${c}"`).join(" or ")}?` : ""}`);
}

/** `key=value` or `section.key=value`; values are YAML scalars or flow collections. */
export function parseHeadSetting(text: string, fields: HeadFields): { section: HeadSection; key: string; value: unknown } {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new Error(`--set expects key=value, got "${text}"`);
  let key = text.slice(0, eq).trim();
  let forced: HeadSection | undefined;
  const dot = /^(training|lora|model|early_stopping|package)\.(.+)$/.exec(key);
  if (dot) {
    forced = dot[1] as HeadSection;
    key = dot[2]!;
  }
  const section = resolveHeadKey(key, fields, forced);
  const raw = text.slice(eq + 1);
  let value: unknown;
  try {
    value = raw.trim() === "" ? "" : parseYaml(raw);
  } catch {
    value = raw;
  }
  return { section, key, value };
}
