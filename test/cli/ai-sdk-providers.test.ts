// `critic judge --model anthropic:<id>` and `google:<id>`: the CLI loads the AI SDK provider package on
// first use and the package calls a local server speaking the provider's wire format. Keys come from
// the provider's own environment variable and appear nowhere in the output files or logs.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runCli } from "../support/cli.js";
import { startProviderServer, type ProviderServer } from "../support/provider-server.js";

const KEY = "sk-provider-secret-9f8e7d6c5b4a";
let dir: string;
let server: ProviderServer;

beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "critic-ai-sdk-cli-"));
  server = await startProviderServer();
});
afterAll(async () => server?.close());

describe("critic judge --model <ai-sdk provider>:<id>", () => {
  it("judges through @ai-sdk/anthropic and @ai-sdk/google with keys from their environment variables", async () => {
    const input = join(dir, "in.jsonl");
    writeFileSync(input, ["4", "5"].map((r, i) => JSON.stringify({ id: i, instruction: "What is 2+2?", response: r })).join("\n") + "\n");
    for (const [spec, url, env] of [["anthropic:claude-haiku-4-5", server.anthropicURL, "ANTHROPIC_API_KEY"], ["google:gemini-2.5-flash", server.geminiURL, "GOOGLE_GENERATIVE_AI_API_KEY"]] as const) {
      server.requests.length = 0;
      const out = join(dir, `${spec.split(":")[0]}.jsonl`);
      const run = await runCli(["judge", input, "-o", out, "--model", spec, "--base-url", url, "--rubric", "helpfulness", "--store", join(dir, "s.sqlite")], { env: { [env]: KEY } });
      expect(run.code, run.stderr).toBe(0);
      const rows = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { score: number; judge: { raw: string; backend: string; samples: Array<{ warnings?: string[] }> } });
      // @ai-sdk/anthropic warns on every call that the Messages API takes no seed (critic sends one):
      // logged once for the run, and kept on each judgment. Gemini takes a seed: no warning.
      const warnings = run.stderr.split("\n").filter((l) => l.startsWith("warning:"));
      const anthropic = spec.startsWith("anthropic");
      expect(warnings).toEqual(anthropic ? ["warning: anthropic.messages (claude-haiku-4-5): seed is not supported"] : []);
      for (const row of rows) expect(row.judge.samples[0]!.warnings).toEqual(anthropic ? ["seed is not supported"] : undefined);
      expect(rows.map((r) => r.judge.backend)).toEqual(["ai-sdk", "ai-sdk"]);
      for (const row of rows) expect(row.judge.raw).toMatch(new RegExp(`\\[RESULT\\] ${row.score}$`));
      expect(server.requests).toHaveLength(2);
      expect(readFileSync(out, "utf8") + run.stderr + run.stdout).not.toContain(KEY);
    }
    // Run again on the same store: no call is made, so nothing is warned, and the judgments still
    // carry the warnings of the calls they were read from.
    server.requests.length = 0;
    const again = join(dir, "anthropic-again.jsonl");
    const rerun = await runCli(["judge", input, "-o", again, "--model", "anthropic:claude-haiku-4-5", "--base-url", server.anthropicURL, "--rubric", "helpfulness", "--store", join(dir, "s.sqlite")], { env: { ANTHROPIC_API_KEY: KEY } });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(server.requests).toHaveLength(0);
    expect(rerun.stderr).not.toContain("warning:");
    for (const line of readFileSync(again, "utf8").trim().split("\n")) expect((JSON.parse(line) as { judge: { samples: Array<{ warnings?: string[] }> } }).judge.samples[0]!.warnings).toEqual(["seed is not supported"]);
  });

  it("a provider package that is not installed is a clear message, not a stack trace", async () => {
    const input = join(dir, "one.jsonl");
    writeFileSync(input, JSON.stringify({ instruction: "q", response: "r" }) + "\n");
    const run = await runCli(["judge", input, "-o", join(dir, "m.jsonl"), "--model", "mistral:mistral-large-latest", "--rubric", "helpfulness", "--store", join(dir, "s.sqlite")]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("npm i @ai-sdk/mistral");
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
