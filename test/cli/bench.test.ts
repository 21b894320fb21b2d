import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureTinyModel } from "../../src/gguf/tiny-model.js";
import { assertBuilt, runCli, sharedData } from "../support/cli.js";

beforeAll(() => assertBuilt());

describe("critic bench", () => {
  it("lists the benchmarks and finds them in the data folder", async () => {
    const list = await runCli(["bench", "list", "--data", sharedData]);
    expect(list.code, list.stderr).toBe(0);
    for (const name of ["hhh-alignment", "mt-bench", "vicuna-bench", "llmbar-natural", "llmbar-adversarial", "mt-bench-human", "autoj-pairwise"]) {
      expect(list.stdout).toMatch(new RegExp(`^${name} `, "m"));
    }
    expect(list.stdout.match(/^ +ready$/gm)).toHaveLength(7);
    const empty = await runCli(["bench", "list", "--data", tmpdir()]);
    expect(empty.stdout).toMatch(/missing llmbar\/llmbar_natural\.json/);
  });

  it("runs a benchmark end to end on the embedded model", async () => {
    const model = await ensureTinyModel();
    const out = mkdtempSync(join(tmpdir(), "critic-bench-cli-"));
    const args = [
      "bench", "run", "llmbar-natural", "--model", model, "--data", sharedData, "-o", out, "--limit", "3",
      "--threads", "1", "--max-tokens", "48", "--store", join(out, "store.sqlite"), "--bootstrap", "20", "--no-progress",
    ];
    const result = await runCli(args);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/llmbar-natural: 3 records/);
    expect(result.stderr).toMatch(/Accuracy with ties (\d(\.\d+)?|n\/a)/);
    const judgments = readFileSync(join(out, "judgments-critic-tiny-llama-v2.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { winner: string; gold: string });
    expect(judgments).toHaveLength(3);
    expect(judgments.every((j) => ["A", "B"].includes(j.winner) && ["A", "B"].includes(j.gold))).toBe(true);
    const metrics = JSON.parse(readFileSync(join(out, "report/metrics.json"), "utf8")) as { judges: { coverage: { evaluated: number } }[] };
    expect(metrics.judges[0]!.coverage.evaluated).toBe(3);
  });
});
