/**
 * A judge package on the tiny random llama (tests, `critic demo`, benches): its head's rows are the
 * LM head's rows for chosen tokens, so the package's logits are the backbone's next-token logits for
 * those tokens, which llama.cpp can check independently. Random weights: its scores mean nothing.
 */
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { buildTinyLlama, tinyLlamaVocab, type TinyLlamaOptions } from "../gguf/tiny-llama.js";
import { writeJudgePackage, type PackageManifest } from "./package.js";

/** The LM head (output.weight) rows of `tokens`, drawn as the GGUF writer draws them (tensor after tensor, in file order). */
export function lmHeadRows(options: TinyLlamaOptions, tokens: string[]): { rows: Float32Array[]; hidden: number } {
  const vocab = options.vocab ?? tinyLlamaVocab();
  const ids = tokens.map((t) => {
    const id = vocab.tokens.indexOf(t);
    if (id < 0) throw new Error(`token "${t}" is not in the vocabulary`);
    return id;
  });
  let output: Float32Array | undefined;
  let hidden = 0;
  for (const tensor of buildTinyLlama(options).tensors) {
    const data = typeof tensor.data === "function" ? tensor.data() : tensor.data;
    if (tensor.name === "output.weight") {
      output = data;
      hidden = tensor.dimensions[0]!;
    }
  }
  if (!output) throw new Error("the tiny llama has no output.weight");
  return { rows: ids.map((id) => output!.slice(id * hidden, (id + 1) * hidden)), hidden };
}

export interface TinyPackageOptions {
  /** The backbone GGUF to copy in (made with `model` options). */
  backbone: string;
  model: TinyLlamaOptions;
  kind: "classify" | "regress";
  /** regress: the head row is sum_i coefficients[i] * row("1".."5") (default -2..2, summing to 0). */
  coefficients?: number[];
  bias?: number[];
  createdBy?: string;
  template?: string;
}

export const SCORE_TOKENS = ["1", "2", "3", "4", "5"];

export async function createTinyPackage(dir: string, options: TinyPackageOptions): Promise<PackageManifest> {
  await mkdir(dir, { recursive: true });
  await copyFile(options.backbone, join(dir, "backbone.gguf"));
  const { rows, hidden } = lmHeadRows(options.model, SCORE_TOKENS);
  let weight: Float32Array;
  let count: number;
  if (options.kind === "classify") {
    weight = new Float32Array(rows.length * hidden);
    rows.forEach((r, i) => weight.set(r, i * hidden));
    count = rows.length;
  } else {
    const c = options.coefficients ?? [-2, -1, 0, 1, 2];
    weight = new Float32Array(hidden);
    for (let i = 0; i < hidden; i++) weight[i] = rows.reduce((s, r, k) => s + c[k]! * r[i]!, 0);
    count = 1;
  }
  return writeJudgePackage(dir, {
    manifest: {
      kind: options.kind,
      ...(options.kind === "classify" ? { labels: [1, 2, 3, 4, 5] } : {}),
      scale: { min: 1, max: 5 },
      template: options.template ?? "prometheus-absolute",
      base_model: "critic tiny random llama",
      source_run: null,
      created_by: options.createdBy ?? "critic tiny package",
    },
    weight,
    rows: count,
    hidden,
    ...(options.bias ? { bias: Float32Array.from(options.bias) } : {}),
  });
}
