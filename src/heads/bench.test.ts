import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTinyModel, TINY_MODEL_OPTIONS, TINY_MODEL_THREADS } from "../gguf/tiny-model.js";
import { runBenchmark } from "../benchmarks/index.js";
import { createTinyPackage } from "./tiny-package.js";
import { sharedData } from "../../test/support/cli.js";


describe("critic bench run with a judge package as --model (real llama.cpp, real benchmark data)", () => {
  let dir: string;
  let pkg: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "critic-head-bench-"));
    pkg = path.join(dir, "classifier-judge");
    await createTinyPackage(pkg, { backbone: await ensureTinyModel(), model: TINY_MODEL_OPTIONS, kind: "classify" });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const common = () => ({ models: [pkg], dataDir: sharedData, limit: 6, progress: false, bootstrap: 20, store: path.join(dir, "store.sqlite"), threads: TINY_MODEL_THREADS, contextSize: 4096, gpu: false as const });

  it("absolute benchmark: judged, measured, and the distributions give calibration", async () => {
    const result = await runBenchmark({ ...common(), benchmark: "mt-bench", outDir: path.join(dir, "mt") });
    expect(result.status).toBe("finished");
    expect(result.judges[0]!.summary).toMatchObject({ judged: 6, failed: 0 });
    const report = result.metaEval!.judges[0]!;
    expect(report.confidence).toBeDefined();
    expect(existsSync(path.join(dir, "mt", "report", "report.html"))).toBe(true);
  });

  it("pairwise benchmark: each side scored with the package's absolute template", async () => {
    const result = await runBenchmark({ ...common(), benchmark: "hhh-alignment", outDir: path.join(dir, "hhh") });
    expect(result.judges[0]!.summary).toMatchObject({ judged: 6, failed: 0 });
    expect(result.metaEval!.judges[0]!.confidence).toBeDefined();
  });
});
