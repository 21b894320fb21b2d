import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runCli } from "../support/cli.js";

beforeAll(() => assertBuilt());

describe("critic demo", () => {
  it("judges the bundled examples offline with the generated model and says the scores are random", async () => {
    const out = mkdtempSync(join(tmpdir(), "critic-demo-"));
    const result = await runCli(["demo", "-o", out], { env: { CRITIC_MODEL: "" } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/scores and feedback are RANDOM/);
    expect(result.stderr).toMatch(/--model/);
    expect(result.stderr).toMatch(/wrote 8 judgments/);
    expect(result.stderr).toMatch(/position consistency \d+\.\d% of 4 swapped pairs/);
    const absolute = readFileSync(join(out, "absolute.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { score: number; id: string });
    expect(absolute.map((j) => j.id)).toEqual(["abs-1", "abs-2", "abs-3", "abs-4", "abs-5", "abs-6", "abs-7", "abs-8"]);
    expect(absolute.every((j) => Number.isInteger(j.score) && j.score >= 1 && j.score <= 5)).toBe(true);
    const pairwise = readFileSync(join(out, "pairwise.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { winner: string });
    expect(pairwise.every((j) => ["A", "B", "tie"].includes(j.winner))).toBe(true);

    // Third part: the generated classifier package judges the same records; random, and it says so.
    expect(result.stderr).toMatch(/classifier-judge: the tiny random model with a 5-way head[\s\S]*scores are RANDOM/);
    const classified = readFileSync(join(out, "classifier.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { id: string; score: number; feedback: null; score_distribution: Record<string, number>; judge: { backend: string } });
    expect(classified.map((j) => j.id)).toEqual(absolute.map((j) => j.id));
    expect(classified.every((j) => [1, 2, 3, 4, 5].includes(j.score) && j.feedback === null && j.judge.backend === "embedded-head" && Object.keys(j.score_distribution).length === 5)).toBe(true);
    expect(JSON.parse(readFileSync(join(out, "classifier-judge", "judge.json"), "utf8"))).toMatchObject({ format: "critic-judge-package", kind: "classify", created_by: "critic demo" });

    // A second run is served from the run store.
    const again = await runCli(["demo", "-o", out], { env: { CRITIC_MODEL: "" } });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/calls 8 \(8 cached\)/);
  });
});

describe("critic judge", () => {
  it("explains a missing model and an unknown template without a stack trace", async () => {
    const noModel = await runCli(["judge", "examples/absolute.jsonl", "-o", join(tmpdir(), "x.jsonl")], { env: { CRITIC_MODEL: "" } });
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toMatch(/no model: pass --model/);
    const badTemplate = await runCli(["judge", "examples/absolute.jsonl", "-o", join(tmpdir(), "x.jsonl"), "--model", "openai:x", "--template", "nope"]);
    expect(badTemplate.code).toBe(1);
    expect(badTemplate.stderr).toMatch(/unknown template "nope"; built-in templates: prometheus-absolute, prometheus-pairwise, criticon/);
    expect(badTemplate.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it("lists every option in --help", async () => {
    const help = await runCli(["judge", "--help"]);
    for (const flag of ["--model", "--base-url", "--template", "--rubric", "--samples", "--swap", "--max-retries", "--map", "--store", "--parallel", "--concurrency"]) {
      expect(help.stdout).toContain(flag);
    }
  });
});
