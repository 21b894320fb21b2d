import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTinyModel } from "../../src/gguf/tiny-model.js";
import { assertBuilt, runCli } from "../support/cli.js";
import { startHfMirror, type HfMirror } from "../support/hf-mirror.js";

beforeAll(() => assertBuilt());

describe("critic judge --model hf:<user>/<repo>/<file>", () => {
  let mirror: HfMirror;
  beforeAll(async () => {
    mirror = await startHfMirror({ "/someone/tiny-judge-GGUF/resolve/main/tiny.Q8_0.gguf": await ensureTinyModel() });
  });
  afterAll(() => mirror.close());

  it("downloads the model once into $CRITIC_MODELS_DIR with progress, then judges with it", async () => {
    const models = mkdtempSync(join(tmpdir(), "critic-models-cli-"));
    const out = mkdtempSync(join(tmpdir(), "critic-hf-judge-"));
    const env = { HF_ENDPOINT: mirror.url, CRITIC_MODELS_DIR: models };
    const args = (name: string) => [
      "judge", "examples/absolute.jsonl", "-o", join(out, name), "--model", "hf:someone/tiny-judge-GGUF/tiny.Q8_0.gguf",
      "--rubric", "helpfulness", "--threads", "1", "--max-tokens", "32", "--store", join(out, "store.sqlite"),
    ];
    const first = await runCli(args("a.jsonl"), { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/downloading hf:someone\/tiny-judge-GGUF\/tiny\.Q8_0\.gguf/);
    expect(first.stderr).toMatch(/wrote 8 judgments/);
    expect(readdirSync(models)).toEqual([expect.stringMatching(/^hf_someone_.*tiny\.Q8_0\.gguf$/)]);
    expect(readFileSync(join(out, "a.jsonl"), "utf8").trim().split("\n")).toHaveLength(8);
    const served = mirror.fileRequests.length;

    const second = await runCli(args("b.jsonl"), { env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/downloading/);
    expect(mirror.fileRequests).toHaveLength(served);
  });
});
