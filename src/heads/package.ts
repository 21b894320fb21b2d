/**
 * The critic judge package (format v1): a folder with judge.json (the manifest), backbone.gguf (the
 * causal LM the head sits on) and head.safetensors ("score.weight" [n_labels, hidden], optional
 * "score.bias" [n_labels]). Read, validated and written here; the embedded head, `critic judge
 * --model ./package/`, `critic serve` and `critic train classify|regress` all go through this module.
 */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { z } from "zod";
import { readSafetensors, writeFileDurably, writeSafetensors, type SafetensorsDType, type Tensor } from "./safetensors.js";

export const PACKAGE_MANIFEST = "judge.json";
export const PACKAGE_FORMAT = "critic-judge-package";

const scaleSchema = z.strictObject({ min: z.number(), max: z.number() }).refine((s) => s.min < s.max, { message: "min must be below max" });

export const packageManifestSchema = z.strictObject({
  format: z.literal(PACKAGE_FORMAT),
  version: z.literal(1),
  kind: z.enum(["classify", "regress"]),
  labels: z.array(z.number()).min(2).optional(),
  scale: scaleSchema,
  template: z.string().min(1),
  template_options: z.record(z.string(), z.unknown()).optional(),
  pooling: z.literal("last"),
  backbone: z.string().min(1),
  head: z.string().min(1),
  base_model: z.string().nullable().optional(),
  source_run: z.string().nullable().optional(),
  created_by: z.string().optional(),
});

export type PackageManifest = z.infer<typeof packageManifestSchema>;

export interface JudgePackage {
  dir: string;
  manifest: PackageManifest;
  backbonePath: string;
  /** [n_labels, hidden], row after row. */
  weight: Float32Array;
  bias: Float32Array | undefined;
  rows: number;
  hidden: number;
}

/** Whether a --model value names a judge package (a folder holding judge.json, or the judge.json itself). */
export function isJudgePackage(spec: string): boolean {
  try {
    if (spec.endsWith(PACKAGE_MANIFEST)) return existsSync(spec);
    return statSync(spec).isDirectory() && existsSync(join(spec, PACKAGE_MANIFEST));
  } catch {
    return false;
  }
}

function packageDir(spec: string): string {
  return resolve(spec.endsWith(PACKAGE_MANIFEST) ? spec.slice(0, -PACKAGE_MANIFEST.length) || "." : spec);
}

/** Parses judge.json; every problem names the file and the field. */
export function parseManifest(text: string, file: string): PackageManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not JSON: ${(error as Error).message}`);
  }
  const parsed = packageManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const keys = issue.code === "unrecognized_keys" ? (issue as { keys: string[] }).keys : [];
    const field = keys.length > 0 ? keys.join(", ") : issue.path.join(".") || "(root)";
    throw new Error(`${file}: field "${field}": ${issue.code === "unrecognized_keys" ? "unknown key (format v1 has no such field)" : issue.message}`);
  }
  const manifest = parsed.data;
  if (manifest.kind === "classify") {
    if (!manifest.labels) throw new Error(`${file}: field "labels": a classify package needs the score of each head row`);
    if (new Set(manifest.labels).size !== manifest.labels.length) throw new Error(`${file}: field "labels": labels repeat`);
  } else if (manifest.labels) {
    throw new Error(`${file}: field "labels": a regress package has one output, no labels`);
  }
  return manifest;
}

export async function loadJudgePackage(spec: string): Promise<JudgePackage> {
  const dir = packageDir(spec);
  const file = join(dir, PACKAGE_MANIFEST);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read the judge package manifest ${file}: ${(error as Error).message}`);
  }
  const manifest = parseManifest(text, file);
  const backbonePath = resolve(dir, manifest.backbone);
  if (!existsSync(backbonePath)) throw new Error(`${file}: field "backbone": ${backbonePath} does not exist`);
  const headPath = resolve(dir, manifest.head);
  const tensors = await readSafetensors(headPath);
  const weight = tensors.get("score.weight");
  if (!weight) throw new Error(`${headPath}: no tensor "score.weight" (found: ${[...tensors.keys()].join(", ") || "none"})`);
  if (weight.shape.length !== 2) throw new Error(`${headPath}: "score.weight" has shape [${weight.shape.join(", ")}], expected [n_labels, hidden_size]`);
  const [rows, hidden] = weight.shape as [number, number];
  const wanted = manifest.kind === "classify" ? manifest.labels!.length : 1;
  if (rows !== wanted) throw new Error(`${headPath}: "score.weight" has ${rows} rows but ${file} ${manifest.kind === "classify" ? `lists ${wanted} labels` : "is a regress package (1 row)"}`);
  const bias = tensors.get("score.bias");
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== rows)) throw new Error(`${headPath}: "score.bias" has shape [${bias.shape.join(", ")}], expected [${rows}]`);
  return { dir, manifest, backbonePath, weight: weight.data, bias: bias?.data, rows, hidden };
}

export interface WritePackageOptions {
  manifest: Omit<PackageManifest, "format" | "version" | "backbone" | "head" | "pooling"> & Partial<Pick<PackageManifest, "backbone" | "head" | "pooling">>;
  /** [rows, hidden] row after row. */
  weight: Float32Array;
  rows: number;
  hidden: number;
  bias?: Float32Array;
  dtype?: SafetensorsDType;
}

/**
 * Writes judge.json and head.safetensors into `dir` (the backbone GGUF is the caller's to place at
 * manifest.backbone, default backbone.gguf). The manifest is validated before anything is written.
 */
export async function writeJudgePackage(dir: string, options: WritePackageOptions): Promise<PackageManifest> {
  const manifest: PackageManifest = {
    format: PACKAGE_FORMAT,
    version: 1,
    pooling: "last",
    backbone: "backbone.gguf",
    head: "head.safetensors",
    ...options.manifest,
  } as PackageManifest;
  const file = join(dir, PACKAGE_MANIFEST);
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  parseManifest(text, file);
  const dtype = options.dtype ?? "F32";
  const tensors: Record<string, Tensor> = { "score.weight": { dtype, shape: [options.rows, options.hidden], data: options.weight } };
  if (options.bias) tensors["score.bias"] = { dtype, shape: [options.rows], data: options.bias };
  await writeSafetensors(join(dir, manifest.head), tensors);
  await writeFileDurably(file, text);
  return manifest;
}
