import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isJudgePackage, loadJudgePackage, writeJudgePackage } from "./package.js";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.js";
import { headVerdict, pairDistribution, pairVerdict, roundHalfEven } from "./spec.js";
import { parseHeadOutput } from "./open.js";

const tmp = mkdtempSync(join(tmpdir(), "critic-package-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const manifest = { kind: "classify" as const, labels: [1, 2, 3], scale: { min: 1, max: 3 }, template: "prometheus-absolute", base_model: "x", source_run: null, created_by: "test" };

async function writePackage(name: string): Promise<string> {
  const dir = join(tmp, name);
  await import("node:fs/promises").then((fs) => fs.mkdir(dir, { recursive: true }));
  writeFileSync(join(dir, "backbone.gguf"), "not read by these tests");
  await writeJudgePackage(dir, { manifest, weight: Float32Array.from([1, 0, 0, 1, 0.5, 0.5]), rows: 3, hidden: 2, bias: Float32Array.from([0, 0.25, -1]) });
  return dir;
}

describe("safetensors", () => {
  it("round-trips F32 exactly and F16/BF16 to their precision, header padded to 8 bytes", () => {
    const data = Float32Array.from([0, 1, -2.5, 3.140625, 65504, 1e-3]);
    for (const dtype of ["F32", "F16", "BF16"] as const) {
      const bytes = encodeSafetensors({ w: { dtype, shape: [2, 3], data } }, { by: "critic" });
      expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0);
      const back = decodeSafetensors(bytes).get("w")!;
      expect(back.shape).toEqual([2, 3]);
      for (let i = 0; i < data.length; i++) expect(Math.abs(back.data[i]! - data[i]!)).toBeLessThanOrEqual(dtype === "F32" ? 0 : Math.abs(data[i]!) * (dtype === "F16" ? 1e-3 : 8e-3) + 1e-7);
    }
  });

  it("names the tensor whose offsets do not fit", () => {
    const bytes = encodeSafetensors({ w: { dtype: "F32", shape: [2], data: Float32Array.from([1, 2]) } });
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4), "h.safetensors")).toThrow(/h\.safetensors: tensor "w": data_offsets \[0, 8\] do not hold 2 F32 values in 4 bytes/);
  });
});

describe("judge package", () => {
  it("writes and loads a package", async () => {
    const dir = await writePackage("ok");
    expect(isJudgePackage(dir)).toBe(true);
    expect(isJudgePackage(join(dir, "judge.json"))).toBe(true);
    expect(isJudgePackage(tmp)).toBe(false);
    const pkg = await loadJudgePackage(dir);
    expect(pkg.manifest).toMatchObject({ format: "critic-judge-package", version: 1, pooling: "last", backbone: "backbone.gguf", head: "head.safetensors", labels: [1, 2, 3] });
    expect([pkg.rows, pkg.hidden]).toEqual([3, 2]);
    expect(Array.from(pkg.bias!)).toEqual([0, 0.25, -1]);
  });

  it("refuses an unknown key, naming file and field", async () => {
    const dir = await writePackage("unknown");
    const file = join(dir, "judge.json");
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), temperature: 0 }));
    await expect(loadJudgePackage(dir)).rejects.toThrow(`${file}: field "temperature": unknown key`);
  });

  it("refuses a head whose rows do not match the labels, and a classify package without labels", async () => {
    const dir = await writePackage("rows");
    const file = join(dir, "judge.json");
    const m = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...m, labels: [1, 2, 3, 4] }));
    await expect(loadJudgePackage(dir)).rejects.toThrow(/"score.weight" has 3 rows but .*judge\.json lists 4 labels/);
    writeFileSync(file, JSON.stringify({ ...m, labels: undefined }));
    await expect(loadJudgePackage(dir)).rejects.toThrow(/field "labels": a classify package needs/);
  });
});

describe("head verdicts", () => {
  it("classify: argmax label, softmax distribution, expected score", () => {
    const v = headVerdict([0, Math.log(3)], { kind: "classify", labels: [1, 5], scale: { min: 1, max: 5 } });
    expect(v).toEqual({ score: 5, score_distribution: { "1": 0.25, "5": 0.75 }, score_expected: 4 });
  });

  it("regress: clipped to the scale", () => {
    const out = { kind: "regress" as const, scale: { min: 1, max: 5 } };
    expect(headVerdict([7.2], out).score).toBe(5);
    expect(headVerdict([-3], out).score).toBe(1);
    expect(headVerdict([3.14159], out)).toEqual({ score: 3.1416, score_expected: 3.1416 });
    expect(() => headVerdict([NaN], out)).toThrow(/non-finite/);
  });

  it("pairwise by PHUDGE's rule: a tie when equal after Python's round(), halves to even", () => {
    expect([roundHalfEven(2.5), roundHalfEven(3.5), roundHalfEven(2.49), roundHalfEven(-1.5)]).toEqual([2, 4, 2, -2]);
    expect(pairVerdict(2.5, 2.4)).toBe("tie"); // round(2.5) == round(2.4) == 2
    expect(pairVerdict(3.5, 3.4)).toBe("A"); // 4 vs 3
    expect(pairVerdict(1, 5)).toBe("B");
    expect(pairDistribution({ "1": 0.5, "2": 0.5 }, { "1": 1, "2": 0 })).toEqual({ A: 0.5, B: 0, tie: 0.5 });
  });

  it("--head: classify labels, a regress scale, or a package's manifest", async () => {
    expect(parseHeadOutput("classify:0,1")).toEqual({ kind: "classify", labels: [0, 1], scale: { min: 0, max: 1 } });
    expect(parseHeadOutput("regress:1,10")).toEqual({ kind: "regress", scale: { min: 1, max: 10 } });
    expect(() => parseHeadOutput("regress:5,1")).toThrow(/min below max/);
    expect(parseHeadOutput(await writePackage("as-head"))).toMatchObject({ kind: "classify", labels: [1, 2, 3], template: "prometheus-absolute" });
  });
});
