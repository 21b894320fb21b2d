import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runCli } from "../support/cli.js";
import { ensureTinyModel, TINY_MODEL_OPTIONS } from "../../src/gguf/tiny-model.js";
import { createTinyPackage } from "../../src/heads/tiny-package.js";

beforeAll(() => assertBuilt());

describe("critic judge --model ./judge-package/", () => {
  let dir: string;
  let pkg: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "critic-cli-package-"));
    pkg = join(dir, "judge-package");
    await createTinyPackage(pkg, { backbone: await ensureTinyModel(), model: TINY_MODEL_OPTIONS, kind: "regress" });
    writeFileSync(join(dir, "pairs.jsonl"), JSON.stringify({ instruction: "2+2?", response_a: "4", response_b: "5" }) + "\n");
    writeFileSync(join(dir, "abs.jsonl"), JSON.stringify({ instruction: "2+2?", response: "4" }) + "\n");
  });

  it("judges from the command line (a regress package: the clipped value, no distribution)", async () => {
    const out = join(dir, "out.jsonl");
    const result = await runCli(["judge", join(dir, "abs.jsonl"), "-o", out, "--model", `${pkg}/`, "--rubric", "helpfulness", "--threads", "1", "--store", join(dir, "s.sqlite")]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/embedded head CPU: regress \(1 outputs\)/);
    const [j] = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, any>);
    expect(j!.score).toBeGreaterThanOrEqual(1);
    expect(j!.score).toBeLessThanOrEqual(5);
    expect(j!.score_distribution).toBeUndefined();
    expect(j!.judge.head.logits).toHaveLength(1);
  });

  it("refuses --swap with a clear message and exit status 1", async () => {
    const result = await runCli(["judge", join(dir, "pairs.jsonl"), "-o", join(dir, "p.jsonl"), "--model", pkg, "--mode", "pairwise", "--swap", "--store", join(dir, "s.sqlite")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--swap is meaningless with a classifier\/regression head/);
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
