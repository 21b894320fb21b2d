/**
 * `critic train classify|regress`: the run folder's train.py runs to trainer.train() against stand-in
 * torch/datasets/transformers/peft (test/support/head_standin.py; config classes from the pinned
 * transformers and peft field lists) for every preset x loss, on transformers 4.x and 5; the losses
 * are checked against hand-computed values; package.py writes a judge package per HEAD_PACKAGE_SPEC.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { writeJsonl } from "../../test/support/jsonl.js";
import { exportDataset } from "../export/export.js";
import { writeHeadRunFolder } from "./head-recipe.js";
import type { HeadKind, HeadLoss } from "./head-presets.js";

const standin = fileURLToPath(new URL("../../test/support/head_standin.py", import.meta.url));
const root = mkdtempSync(path.join(tmpdir(), "critic-headtrain-"));
const RUBRIC = { criteria: "Is it correct?", ...Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`score${n}_description`, `level ${n}`])) };
const exports: Record<HeadKind, string> = { classify: "", regress: "" };

beforeAll(async () => {
  const judgments = writeJsonl(path.join(root, "judgments.jsonl"), Array.from({ length: 40 }, (_, i) => ({
    instruction: `Question ${i}?`, response: `Answer ${i}.`, reference_answer: `Reference ${i}.`, feedback: `f${i}`, score: (i % 5) + 1,
    judge: { template: "prometheus-absolute", rubric: RUBRIC },
  })));
  for (const kind of ["classify", "regress"] as const) {
    exports[kind] = path.join(root, `export-${kind}`);
    await exportDataset({ input: judgments, outDir: exports[kind], formats: [kind], testSize: 0.25, ...(kind === "classify" ? { augmentDrop: 0.5 } : {}) });
  }
});

interface Seen {
  from_pretrained: Array<Record<string, unknown>>;
  args: Record<string, unknown>;
  loss: number;
  metrics: Record<string, number> | null;
  train_rows: number;
  eval_rows: number | null;
  first_row: { label: number; rendered: string };
  callbacks: Array<{ patience: number; threshold: number }>;
  lora: Record<string, unknown> | null;
  pad_token_id: number;
  use_cache: boolean;
}

function runTrain(flavour: "old" | "new", runDir: string): Seen {
  const out = path.join(runDir, `seen-${flavour}.json`);
  execFileSync("python3", [standin, "train", flavour, runDir, out], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return JSON.parse(readFileSync(out, "utf8")) as Seen;
}

const cases: Array<{ kind: HeadKind; preset?: "phudge"; loss: HeadLoss }> = [];
for (const preset of [undefined, "phudge"] as const) {
  for (const loss of ["emd", "ce"] as const) cases.push({ kind: "classify", loss, ...(preset ? { preset } : {}) });
  cases.push({ kind: "regress", loss: "mse", ...(preset ? { preset } : {}) });
}

describe("head train.py reaches trainer.train() on transformers 4.56 and 5.0", () => {
  for (const { kind, preset, loss } of cases) {
    it(`${kind} --loss ${loss}${preset ? ` --preset ${preset}` : ""}`, async () => {
      const run = await writeHeadRunFolder({ kind, data: exports[kind], base: "microsoft/Phi-3-mini-4k-instruct", output: path.join(root, `${kind}-${loss}-${preset ?? "default"}`), loss, ...(preset ? { preset } : {}) });
      expect(run.files).toEqual(["config.yaml", "accelerate.yaml", "train.py", "package.py", "launch.sh", "README.md", "critic-run.json"]);
      for (const flavour of ["old", "new"] as const) {
        const seen = runTrain(flavour, run.runDir);
        const load = seen.from_pretrained[0]!;
        expect(load).toMatchObject({ name: "microsoft/Phi-3-mini-4k-instruct", num_labels: kind === "classify" ? 5 : 1, problem_type: kind === "classify" ? "single_label_classification" : "regression" });
        expect(load[flavour === "new" ? "dtype" : "torch_dtype"]).toBe("bfloat16");
        if (kind === "classify") expect(load.id2label).toEqual({ 0: "1", 1: "2", 2: "3", 3: "4", 4: "5" });
        expect(seen.train_rows + (seen.eval_rows ?? 0)).toBe(40);
        expect(seen.eval_rows).toBeGreaterThan(0);
        // The base model's chat template around the exported judge prompt.
        expect(seen.first_row.rendered).toMatch(/^<\|user\|>\n[\s\S]*###The instruction to evaluate:\n[\s\S]*<\|end\|>\n<\|assistant\|>\n$/);
        expect(Number.isFinite(seen.loss)).toBe(true);
        expect(Object.keys(seen.metrics ?? {})).toEqual(expect.arrayContaining(["accuracy", "mae"]));
        expect(seen.pad_token_id).toBe(32000);
        expect(seen.use_cache).toBe(false);
        expect(seen.lora).toMatchObject({ task_type: "SEQ_CLS", modules_to_save: ["score"] });
        if (preset === "phudge") {
          expect(seen.lora).toMatchObject({ r: 128, lora_alpha: 256, lora_dropout: 0.1, target_modules: ["o_proj", "qkv_proj", "gate_up_proj", "down_proj"], bias: "none" });
          expect(seen.args).toMatchObject({ learning_rate: 2e-5, lr_scheduler_type: "cosine", neftune_noise_alpha: 7, weight_decay: 0.005, seed: 13, num_train_epochs: 5, load_best_model_at_end: true });
          expect(seen.args[flavour === "new" ? "warmup_steps" : "warmup_ratio"]).toBe(0.05);
          // 30 train rows // (4 processes x 18 or 20) = 0 steps per epoch: eval (and save) every step.
          expect(seen.args).toMatchObject({ eval_steps: 1, save_steps: 1, per_device_train_batch_size: kind === "classify" ? 18 : 20 });
          expect(seen.callbacks).toEqual([{ patience: 4, threshold: 0.0005 }]);
        } else {
          expect(seen.lora).toMatchObject({ r: 16, target_modules: "all-linear" });
          expect(seen.callbacks).toEqual([{ patience: 3, threshold: 0 }]);
        }
      }
      const config = readFileSync(path.join(run.runDir, "config.yaml"), "utf8");
      expect(config).toContain(`loss: ${loss}  #`);
      if (preset === "phudge") {
        expect(config).toMatch(/neftune_noise_alpha: 7 {2}# PHUDGE @ e41a499 scripts\/train_phi-3-reg_classi\.py/);
        expect(config).toMatch(/r: 128 {2}# PHUDGE @ e41a499 scripts\/train_phi-3-reg_classi\.py \(lora_rank = 128\)/);
        expect(readFileSync(path.join(run.runDir, "accelerate.yaml"), "utf8")).toMatch(/zero_stage: 2/);
      }
      // Every value line in config.yaml has its source beside it.
      for (const line of config.split("\n").filter((l) => /^ {2}\w+: /.test(l) && !/^ {2}(train|test|labels|scale|template|template_options|model_name_or_path):/.test(l))) expect(line, line).toMatch(/ {2}# \S/);
    });
  }
});

describe("the head losses against hand-computed values", () => {
  let runDir = "";
  beforeAll(async () => {
    runDir = (await writeHeadRunFolder({ kind: "classify", data: exports.classify, base: "org/m", output: path.join(root, "loss-run") })).runDir;
  });
  const loss = (name: HeadLoss, logits: number[][], labels: number[]) =>
    Number(execFileSync("python3", [standin, "loss", runDir, name, JSON.stringify(logits), JSON.stringify(labels)], { encoding: "utf8" }));

  it("squared EMD: mean over batch and classes of (cumulative softmax - cumulative one-hot)^2", () => {
    // Row 1: uniform p = 0.2, label 2: CDFs [.2 .4 .6 .8 1] vs [0 0 1 1 1] -> squares .04 .16 .16 .04 0 (sum .40).
    // Row 2: p = [.1 .1 .2 .4 .2], label 3: CDFs [.1 .2 .4 .8 1] vs [0 0 0 1 1] -> .01 .04 .16 .04 0 (sum .25).
    // Mean over 2 x 5 entries: .65 / 10 = .065.
    const value = loss("emd", [[0, 0, 0, 0, 0], [Math.log(1), Math.log(1), Math.log(2), Math.log(4), Math.log(2)]], [2, 3]);
    expect(value).toBeCloseTo(0.065, 12);
    // A certain, correct prediction costs nothing; the far miss costs more than the near one.
    expect(loss("emd", [[50, 0, 0, 0, 0]], [0])).toBeCloseTo(0, 12);
    expect(loss("emd", [[0, 0, 0, 0, 50]], [0])).toBeGreaterThan(loss("emd", [[0, 50, 0, 0, 0]], [0]));
  });

  it("cross-entropy and MSE", () => {
    expect(loss("ce", [[0, 0, 0, 0, 0]], [2])).toBeCloseTo(Math.log(5), 12);
    expect(loss("mse", [[3], [1]], [4, 1])).toBeCloseTo(0.5, 12);
  });
});

const judgePackage = z.strictObject({
  format: z.literal("critic-judge-package"),
  version: z.literal(1),
  kind: z.enum(["classify", "regress"]),
  labels: z.array(z.number()).optional(),
  scale: z.strictObject({ min: z.number(), max: z.number() }),
  template: z.string(),
  template_options: z.record(z.string(), z.unknown()).optional(),
  pooling: z.literal("last"),
  backbone: z.string(),
  head: z.string(),
  base_model: z.string(),
  source_run: z.string().nullable(),
  created_by: z.string(),
});

function readSafetensors(file: string): Record<string, { dtype: string; shape: number[]; values: number[] }> {
  const bytes = readFileSync(file);
  const size = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + size).toString("utf8")) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out: Record<string, { dtype: string; shape: number[]; values: number[] }> = {};
  for (const [name, t] of Object.entries(header)) {
    const data = bytes.subarray(8 + size + t.data_offsets[0], 8 + size + t.data_offsets[1]);
    out[name] = { dtype: t.dtype, shape: t.shape, values: Array.from({ length: data.length / 4 }, (_, i) => data.readFloatLE(i * 4)) };
  }
  return out;
}

describe("package.py writes the judge package", () => {
  const llamaCpp = path.join(root, "llama.cpp");
  beforeAll(() => {
    // A stand-in converter: it checks that it was given a *ForCausalLM folder and writes a GGUF magic.
    mkdirSync(llamaCpp, { recursive: true });
    writeFileSync(path.join(llamaCpp, "convert_hf_to_gguf.py"), [
      "import json, os, sys",
      "src, out, kind = sys.argv[1], sys.argv[sys.argv.index('--outfile') + 1], sys.argv[sys.argv.index('--outtype') + 1]",
      "arch = json.load(open(os.path.join(src, 'config.json')))['architectures'][0]",
      "assert arch.endswith('ForCausalLM'), arch",
      "assert os.path.isfile(os.path.join(src, 'tokenizer_config.json'))",
      "open(out, 'wb').write(b'GGUF' + json.dumps({'arch': arch, 'outtype': kind}).encode())",
    ].join("\n"));
  });

  const pack = (runDir: string, head: [number, number, number], llama = llamaCpp) =>
    spawnSync("python3", [standin, "package", runDir, llama, path.join(runDir, "seen-package.json")], { encoding: "utf8", env: { ...process.env, STANDIN_HEAD: JSON.stringify(head) } });

  it("classify: judge.json per the spec, score.weight [5, hidden] in F32, backbone from the merged model as *ForCausalLM", async () => {
    const run = await writeHeadRunFolder({ kind: "classify", data: exports.classify, base: "microsoft/Phi-3-mini-4k-instruct", output: path.join(root, "pkg-classify"), preset: "phudge" });
    const result = pack(run.runDir, [5, 8, 0]);
    expect(result.status, result.stderr).toBe(0);
    const dir = path.join(run.runDir, "package");
    const manifest = judgePackage.parse(JSON.parse(readFileSync(path.join(dir, "judge.json"), "utf8")));
    expect(manifest).toEqual({
      format: "critic-judge-package", version: 1, kind: "classify", labels: [1, 2, 3, 4, 5], scale: { min: 1, max: 5 },
      template: "prometheus-absolute", template_options: { system_in_user: true, prompt_form: "phudge", chat_template: true },
      pooling: "last", backbone: "backbone.gguf", head: "head.safetensors", base_model: "microsoft/Phi-3-mini-4k-instruct",
      source_run: run.runDir, created_by: "critic train classify",
    });
    const tensors = readSafetensors(path.join(dir, "head.safetensors"));
    expect(Object.keys(tensors)).toEqual(["score.weight"]);
    expect(tensors["score.weight"]!.shape).toEqual([5, 8]);
    expect(tensors["score.weight"]!.dtype).toBe("F32");
    // The stand-in head's weight[r][c] = 0.01 (r + 1) + 0.001 c.
    expect(tensors["score.weight"]!.values[1 * 8 + 3]).toBeCloseTo(0.023, 6);
    expect(readFileSync(path.join(dir, "backbone.gguf"), "utf8")).toBe('GGUF{"arch": "Phi3ForCausalLM", "outtype": "q8_0"}');
    const seen = JSON.parse(readFileSync(path.join(run.runDir, "seen-package.json"), "utf8")) as { adapter: string; causal_backbone: unknown; from_pretrained: Array<Record<string, unknown>> };
    expect(seen.adapter).toBe(path.join(run.runDir, "output"));
    // The base as a classifier (for the adapter) and as the causal model it wraps, both in the run's dtype.
    expect(seen.from_pretrained).toEqual([
      { name: "microsoft/Phi-3-mini-4k-instruct", num_labels: 5, dtype: "bfloat16", trust_remote_code: false },
      { name: "microsoft/Phi-3-mini-4k-instruct", causal: true, dtype: "bfloat16", trust_remote_code: false },
    ]);
    expect(seen.causal_backbone).toEqual({ "layers.0.weight": "merged:microsoft/Phi-3-mini-4k-instruct" });
  });

  it("regress: one head row with its bias, scale from the export, no labels", async () => {
    const run = await writeHeadRunFolder({ kind: "regress", data: exports.regress, base: "org/base", output: path.join(root, "pkg-regress") });
    const result = pack(run.runDir, [1, 4, 1]);
    expect(result.status, result.stderr).toBe(0);
    const manifest = judgePackage.parse(JSON.parse(readFileSync(path.join(run.runDir, "package", "judge.json"), "utf8")));
    expect(manifest).toMatchObject({ kind: "regress", scale: { min: 1, max: 5 }, template_options: { system_in_user: true, chat_template: true } });
    expect(manifest.labels).toBeUndefined();
    const tensors = readSafetensors(path.join(run.runDir, "package", "head.safetensors"));
    expect(tensors["score.weight"]!.shape).toEqual([1, 4]);
    expect(tensors["score.bias"]).toEqual({ dtype: "F32", shape: [1], values: [0] });
  });

  it("a head with the wrong number of rows, or no llama.cpp checkout, stops with a message and writes no package", async () => {
    const run = await writeHeadRunFolder({ kind: "classify", data: exports.classify, base: "org/base", output: path.join(root, "pkg-bad") });
    const wrong = pack(run.runDir, [3, 4, 0]);
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toContain("score.weight has 3 rows, the classify head needs 5");
    const missing = pack(run.runDir, [5, 4, 0], path.join(root, "no-llama"));
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain("convert_hf_to_gguf.py; clone llama.cpp");
    // launch.sh checks for the converter before it trains.
    const launch = spawnSync("bash", [path.join(run.runDir, "launch.sh")], { encoding: "utf8", env: { ...process.env, LLAMA_CPP: path.join(root, "no-llama") } });
    expect(launch.status).toBe(2);
    expect(launch.stderr).toContain("no-llama/convert_hf_to_gguf.py");
  });
});

describe("writeHeadRunFolder checks before writing", () => {
  it("refuses a loss of the other kind, an unknown --set key with a did-you-mean, a stale LoRA key, and an SFT export", async () => {
    const base = { data: exports.classify, base: "org/m" };
    await expect(writeHeadRunFolder({ ...base, kind: "classify", loss: "mse", output: path.join(root, "bad-1") })).rejects.toThrow(/--loss mse does not apply to classify; classify takes emd or ce/);
    await expect(writeHeadRunFolder({ ...base, kind: "classify", output: path.join(root, "bad-2"), set: ["learnig_rate=1e-4"] })).rejects.toThrow(/did you mean "learning_rate"/);
    await expect(writeHeadRunFolder({ ...base, kind: "classify", output: path.join(root, "bad-3"), set: ["lora.rank=8"] })).rejects.toThrow(/not a field of peft\.LoraConfig \(peft 0\.19\.1\)/);
    await expect(writeHeadRunFolder({ ...base, kind: "regress", output: path.join(root, "bad-4") })).rejects.toThrow(/holds a "classify" export/);
    const ok = await writeHeadRunFolder({ ...base, kind: "classify", output: path.join(root, "ok"), set: ["lora.r=32", "learning_rate=1e-4", "model.max_length=512"] });
    expect(ok.sections).toMatchObject({ lora: { r: 32 }, training: { learning_rate: 1e-4 }, model: { max_length: 512 } });
  });

  it("a config.yaml key the installed transformers lacks stops train.py before the model loads", async () => {
    const run = await writeHeadRunFolder({ kind: "regress", data: exports.regress, base: "org/m", output: path.join(root, "stale") });
    const config = path.join(run.runDir, "config.yaml");
    writeFileSync(config, readFileSync(config, "utf8").replace("training:\n", "training:\n  evaluation_strategy: steps\n"));
    const result = spawnSync("python3", [standin, "train", "new", run.runDir, path.join(run.runDir, "x.json")], { encoding: "utf8" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("training.evaluation_strategy (did you mean eval_strategy or eval_on_start?)");
  });
});

describe("a head run folder copied to another machine", () => {
  it("config.yaml's data and output paths are relative to the folder, so the copy trains on the copied data", async () => {
    const project = path.join(root, "head-project");
    const data = path.join(project, "data", "classify");
    mkdirSync(data, { recursive: true });
    cpSync(exports.classify, data, { recursive: true });
    const run = await writeHeadRunFolder({ kind: "classify", data, base: "org/base", output: path.join(project, "runs", "classify") });
    const config = readFileSync(path.join(run.runDir, "config.yaml"), "utf8");
    expect(config).not.toContain(project);
    // The GPU machine: the same layout somewhere else, the original gone.
    const elsewhere = path.join(root, "head-gpu-box", "project");
    cpSync(project, elsewhere, { recursive: true });
    rmSync(project, { recursive: true });
    const seen = runTrain("new", path.join(elsewhere, "runs", "classify"));
    expect(seen.train_rows + (seen.eval_rows ?? 0)).toBe(40);
    expect(seen.args.output_dir).toBe(path.join(elsewhere, "runs", "classify", "output"));
  });
});
