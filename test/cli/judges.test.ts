import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTinyModel } from "../../src/gguf/tiny-model.js";
import { JUDGES } from "../../src/judges/index.js";
import { assertBuilt, runCli } from "../support/cli.js";
import { startHfMirror, type HfMirror } from "../support/hf-mirror.js";

beforeAll(() => assertBuilt());

const SELENE = "/AtlaAI/Selene-1-Mini-Llama-3.1-8B-Q4_K_M-GGUF/resolve/main/selene-1-mini-llama-3.1-8b-q4_k_m.gguf";

function judgeArgs(out: string, name: string, ...extra: string[]): string[] {
  return [
    "judge", "examples/absolute.jsonl", "-o", join(out, name), "--rubric", "helpfulness",
    "--threads", "1", "--max-tokens", "128", "--store", join(out, "store.sqlite"), ...extra,
  ];
}

function templatesOf(file: string): string[] {
  return readFileSync(file, "utf8").trim().split("\n").map((line) => (JSON.parse(line) as { judge: { template: string } }).judge.template);
}

/** A port nothing listens on: one the system gave out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("critic judges", () => {
  it("lists every judge with what it grades, its template, GGUF files, license and the source of each", async () => {
    const listed = await runCli(["judges"]);
    expect(listed.code, listed.stderr).toBe(0);
    for (const judge of JUDGES) {
      expect(listed.stdout).toContain(`${judge.name}  ${judge.title}`);
      for (const repo of judge.gguf) expect(listed.stdout).toContain(`source: ${repo.source}`);
    }
    expect(listed.stdout).toMatch(/selene-mini .*\n {2}grades {5}absolute, pairwise, binary\n {2}template {3}absolute: selene \(score 1-5\); pairwise: selene-pairwise \(a winner\)/);
    expect(listed.stdout).toContain("license    llama3.1");

    const one = await runCli(["judges", "flow-judge", "--json"]);
    expect(one.code, one.stderr).toBe(0);
    const [flow] = JSON.parse(one.stdout) as { name: string; downloads: string; scales: Record<string, string> }[];
    expect(flow).toMatchObject({ name: "flow-judge", downloads: "hf:flowaicom/Flow-Judge-v0.1-GGUF/flow-judge-v0.1-Q4_K_M.gguf", scales: { "flow-judge": "1-5" } });

    const unknown = await runCli(["judges", "nope"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown judge "nope"; known: prometheus-2-7b, /);
  });
});

describe("critic judge --model <judge name>", () => {
  let mirror: HfMirror;
  beforeAll(async () => {
    mirror = await startHfMirror({ [SELENE]: await ensureTinyModel() });
  });
  afterAll(() => mirror.close());

  it("downloads the judge's GGUF once from the mirror and grades with its template; an explicit --template wins", async () => {
    const models = mkdtempSync(join(tmpdir(), "critic-judges-models-"));
    const out = mkdtempSync(join(tmpdir(), "critic-judges-"));
    const env = { HF_ENDPOINT: mirror.url, CRITIC_MODELS_DIR: models };

    const first = await runCli(judgeArgs(out, "a.jsonl", "--model", "selene-mini"), { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/downloading hf:AtlaAI\/Selene-1-Mini-Llama-3\.1-8B-Q4_K_M-GGUF\/selene-1-mini-llama-3\.1-8b-q4_k_m\.gguf/);
    expect(mirror.fileRequests).toContain(SELENE);
    expect(readdirSync(models)).toEqual([expect.stringMatching(/selene-1-mini-llama-3\.1-8b-q4_k_m\.gguf$/)]);
    expect(new Set(templatesOf(join(out, "a.jsonl")))).toEqual(new Set(["selene"]));
    const served = mirror.fileRequests.length;

    const second = await runCli(judgeArgs(out, "b.jsonl", "--model", "selene-mini", "--template", "prometheus"), { env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/downloading/);
    expect(mirror.fileRequests).toHaveLength(served);
    expect(new Set(templatesOf(join(out, "b.jsonl")))).toEqual(new Set(["prometheus-absolute"]));
  });

  it("offline, says which file to download, from where, and where to put it; put there, it is used", async () => {
    const models = mkdtempSync(join(tmpdir(), "critic-judges-offline-"));
    const out = mkdtempSync(join(tmpdir(), "critic-judges-offline-out-"));
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const env = { HF_ENDPOINT: endpoint, CRITIC_MODELS_DIR: models };

    const offline = await runCli(judgeArgs(out, "a.jsonl", "--model", "prometheus-2-7b"), { env });
    expect(offline.code).not.toBe(0);
    expect(offline.stderr).toContain(`cannot download the model "hf:vsevolodl/prometheus-7b-v2.0-GGUF/prometheus-7b-v2.0.Q4_K_M.gguf": ${endpoint} cannot be reached`);
    expect(offline.stderr).toContain(`\n  ${endpoint}/vsevolodl/prometheus-7b-v2.0-GGUF/resolve/main/prometheus-7b-v2.0.Q4_K_M.gguf\n`);
    const destination = /and put it at\n {2}(.+)\n/.exec(offline.stderr)?.[1];
    expect(destination, offline.stderr).toBeDefined();
    expect(destination!.startsWith(models)).toBe(true);

    copyFileSync(await ensureTinyModel(), destination!);
    const placed = await runCli(judgeArgs(out, "b.jsonl", "--model", "prometheus-2-7b"), { env });
    expect(placed.code, placed.stderr).toBe(0);
    expect(new Set(templatesOf(join(out, "b.jsonl")))).toEqual(new Set(["prometheus-absolute"]));
  });
});
