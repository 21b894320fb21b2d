import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTinyModel, TINY_MODEL_THREADS } from "../../src/gguf/tiny-model.js";
import { assertBuilt, runCli, startCli } from "../support/cli.js";
import { readJsonl } from "../support/jsonl.js";

let serve: ReturnType<typeof startCli> | undefined;
let url: string;

beforeAll(async () => {
  assertBuilt();
  serve = startCli(["serve", "--model", await ensureTinyModel(), "--port", "0", "--parallel", "1", "--threads", String(TINY_MODEL_THREADS), "--no-gpu", "--model-name", "judge"]);
  let stderr = "";
  serve.child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 1200 && !url; i++) {
    url = /serving "judge" at (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(stderr)?.[1] ?? "";
    if (!url) await new Promise((r) => setTimeout(r, 50));
  }
  if (!url) throw new Error(`critic serve did not start: ${stderr}`);
}, 120_000);
afterAll(async () => {
  serve?.child.kill("SIGTERM");
  await serve?.done;
});

describe("critic judge --logprobs against critic serve (two real processes)", () => {
  it("judges every record and exits 0, where it used to abort on 'HTTP 400: logprobs are not supported'", async () => {
    const dir = mkdtempSync(join(tmpdir(), "critic-serve-logprobs-"));
    const input = join(dir, "in.jsonl");
    writeFileSync(input, `${Array.from({ length: 10 }, (_, i) => JSON.stringify({ instruction: `question ${i}`, response: `answer ${i}` })).join("\n")}\n`);
    const output = join(dir, "out.jsonl");
    const result = await runCli([
      "judge", input, "-o", output, "--model", "openai:judge", "--base-url", `${url}/v1`, "--logprobs", "--server-grammar",
      "--rubric", "helpfulness", "--max-tokens", "48", "--max-retries", "0", "--store", join(dir, "store.sqlite"), "--no-progress",
    ]);
    expect(result.stderr).not.toMatch(/never answered|logprobs are not supported/);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("records 10, judged 10, failed 0");
    const judged = readJsonl(output);
    expect(judged).toHaveLength(10);
    // Each judgment has a distribution read from the served logprobs, or the summary says why not.
    const withDistribution = judged.filter((j) => j.score_distribution !== undefined).length;
    if (withDistribution < 10) expect(result.stderr).toContain(`no verdict probabilities for ${10 - withDistribution} call(s)`);
  });
});
