/** `critic export -f classify` then `critic train classify|regress` through the built CLI. */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runCli } from "../../test/support/cli.js";
import { writeJsonl } from "../../test/support/jsonl.js";
import { TrainStore } from "./train-store.js";

const root = mkdtempSync(path.join(tmpdir(), "critic-head-cli-"));
const fakeTrl = fileURLToPath(new URL("../../test/support/fake-trl.mjs", import.meta.url));
const RUBRIC = { criteria: "Is it correct?", ...Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`score${n}_description`, `level ${n}`])) };

describe("critic train classify|regress (CLI)", () => {
  const data = path.join(root, "export");
  beforeAll(async () => {
    assertBuilt();
    const judgments = writeJsonl(path.join(root, "judgments.jsonl"), Array.from({ length: 20 }, (_, i) => ({
      instruction: `Question ${i}?`, response: `Answer ${i}.`, feedback: `f${i}`, score: (i % 5) + 1, judge: { template: "prometheus-absolute", rubric: RUBRIC },
    })));
    const exported = await runCli(["export", judgments, "-f", "classify", "--augment-drop", "0.5", "-o", data]);
    expect(exported.code, exported.stderr).toBe(0);
  });

  it("writes the run folder with --preset, --loss and --set, and launches it, recording the run", async () => {
    const out = path.join(root, "run");
    const store = path.join(root, "store.sqlite");
    const result = await runCli(["train", "classify", "--data", data, "--base", "microsoft/Phi-3-mini-4k-instruct", "-o", out, "--preset", "phudge", "--loss", "ce", "--set", "lora.r=64", "--launch", "--launcher", fakeTrl, "--store", store]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("classify (ce loss, LoRA) on microsoft/Phi-3-mini-4k-instruct, zero2 (4 processes), preset phudge");
    const config = readFileSync(path.join(out, "config.yaml"), "utf8");
    expect(config).toContain("loss: ce  # --loss");
    expect(config).toContain("r: 64  # --set");
    expect(config).toContain('template_options: {"system_in_user": true, "prompt_form": phudge, "augment_drop": 0.5}');
    expect(existsSync(path.join(out, "package.py"))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(out, "critic-run.json"), "utf8"))).toMatchObject({ trainer: "classify", loss: "ce", preset: "phudge", peft: "0.19.1" });
    const runs = TrainStore.open(store);
    try {
      expect(runs.list()[0]).toMatchObject({ trainer: "classify", status: "succeeded" });
    } finally {
      runs.close();
    }
  });

  it("--no-lora drops the lora section; a loss of the other kind and a classify export for regress fail with a message", async () => {
    const full = await runCli(["train", "classify", "--data", data, "--base", "org/m", "-o", path.join(root, "full"), "--no-lora"]);
    expect(full.code, full.stderr).toBe(0);
    expect(readFileSync(path.join(root, "full", "config.yaml"), "utf8")).not.toContain("\nlora:");
    const loss = await runCli(["train", "classify", "--data", data, "--base", "org/m", "-o", path.join(root, "bad"), "--loss", "mse"]);
    expect(loss.code).not.toBe(0);
    expect(loss.stderr).toContain("--loss mse does not apply to classify; classify takes emd or ce");
    const kind = await runCli(["train", "regress", "--data", data, "--base", "org/m", "-o", path.join(root, "bad2")]);
    expect(kind.code).not.toBe(0);
    expect(kind.stderr).toContain("(--format regress)");
  });
});
