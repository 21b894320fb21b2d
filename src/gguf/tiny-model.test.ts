import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultTinyModelDir, ensureTinyModel, TINY_MODEL_FILE_NAME, TINY_MODEL_VERSION } from "./tiny-model.js";

const tmp = mkdtempSync(join(tmpdir(), "critic-tiny-model-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("ensureTinyModel", () => {
  it("generates once under a versioned name, shared by concurrent callers, and reuses it", async () => {
    const dir = join(tmp, "nested", "models");
    const paths = await Promise.all([ensureTinyModel(dir), ensureTinyModel(dir), ensureTinyModel(dir)]);
    expect(new Set(paths)).toEqual(new Set([join(dir, TINY_MODEL_FILE_NAME)]));
    expect(TINY_MODEL_FILE_NAME).toContain(`v${TINY_MODEL_VERSION}`);
    expect(readdirSync(dir)).toEqual([TINY_MODEL_FILE_NAME]); // no temp files left
    const written = statSync(paths[0]!);
    expect(written.size).toBeGreaterThan(100_000);

    await new Promise((r) => setTimeout(r, 20));
    expect(await ensureTinyModel(dir)).toBe(paths[0]);
    expect(statSync(paths[0]!).mtimeMs).toBe(written.mtimeMs); // not rewritten
  });

  it("regenerates a deleted file", async () => {
    const dir = join(tmp, "again");
    const path = await ensureTinyModel(dir);
    rmSync(path);
    expect(await ensureTinyModel(dir)).toBe(path);
    expect(statSync(path).size).toBeGreaterThan(100_000);
  });

  it("explains where it could not write", async () => {
    const notADir = join(tmp, "file");
    writeFileSync(notADir, "x");
    await expect(ensureTinyModel(join(notADir, "models"))).rejects.toThrow(/cannot write the tiny test model to .*file\/models/);
  });

  it("defaults to a folder in the OS temp dir", () => {
    expect(defaultTinyModelDir()).toBe(join(tmpdir(), "critic-tiny-model"));
  });
});
