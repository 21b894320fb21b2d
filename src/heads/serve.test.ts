import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTinyModel, TINY_MODEL_OPTIONS, TINY_MODEL_THREADS } from "../gguf/tiny-model.js";
import { startServe, type RunningServe } from "../cli/serve.js";
import { judge } from "../judge/judge.js";
import { createTinyPackage } from "./tiny-package.js";

const KEY = "head-key-12345";
const post = (url: string, body: unknown, key: string | null = KEY) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify(body) });

describe("critic serve --model ./judge-package/ (real llama.cpp): /v1/reward and /classify", () => {
  let tmp: string;
  let pkg: string;
  let running: RunningServe;
  const records = [
    { instruction: "What is 2+2?", response: "4" },
    { instruction: "Name a colour.", response: "Blue." },
  ];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "critic-head-serve-"));
    pkg = join(tmp, "classifier-judge");
    await createTinyPackage(pkg, { backbone: await ensureTinyModel(), model: TINY_MODEL_OPTIONS, kind: "classify" });
    writeFileSync(join(tmp, "in.jsonl"), records.map((r) => JSON.stringify(r)).join("\n") + "\n");
    running = await startServe({ model: pkg, rubric: "helpfulness", host: "127.0.0.1", port: 0, gpu: false, loraScale: 1, threads: TINY_MODEL_THREADS, contextSize: 1024, apiKey: KEY }, () => {});
  });
  afterAll(async () => {
    await running?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("/v1/reward gives each completion the score `critic judge` gives the same record", async () => {
    const res = await post(`${running.url}/v1/reward`, { prompts: records.map((r) => r.instruction), completions: records.map((r) => r.response) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { rewards: number[]; scale: unknown; errors: unknown[] };
    expect(body.errors).toEqual([]);
    expect(body.scale).toEqual({ min: 1, max: 5 });
    await judge({ input: join(tmp, "in.jsonl"), output: join(tmp, "out.jsonl"), model: pkg, rubric: "helpfulness", threads: TINY_MODEL_THREADS, contextSize: 1024, gpu: false, progress: false, store: join(tmp, "s.sqlite") });
    const judged = readFileSync(join(tmp, "out.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { score: number });
    expect(body.rewards).toEqual(judged.map((j) => j.score));
  });

  it("/classify answers in vLLM's format, and critic's own vllm-classify: client reads it to the judgments the package gives embedded", async () => {
    const res = await post(`${running.url}/classify`, { model: "classifier-judge", messages: [{ role: "user", content: "hello" }] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; data: Array<{ index: number; label: string; probs: number[]; num_classes: number }>; usage: { prompt_tokens: number } };
    expect(body.object).toBe("list");
    expect(body.data[0]!.num_classes).toBe(5);
    expect(body.data[0]!.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(body.data[0]!.label).toBe(String(body.data[0]!.probs.indexOf(Math.max(...body.data[0]!.probs)) + 1));
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);

    // Without the key the server refuses every call: recorded failures naming the 401, no scores.
    const refused = await judge({ input: join(tmp, "in.jsonl"), output: join(tmp, "refused.jsonl"), model: "vllm-classify:classifier-judge", baseURL: running.url, rubric: "helpfulness", progress: false, store: join(tmp, "v.sqlite") });
    expect(refused).toMatchObject({ judged: 0, failed: 2 });
    expect(readFileSync(join(tmp, "refused.jsonl"), "utf8")).toMatch(/HTTP 401/);

    vi.stubEnv("OPENAI_API_KEY", KEY);
    try {
      const summary = await judge({ input: join(tmp, "in.jsonl"), output: join(tmp, "via.jsonl"), model: "vllm-classify:classifier-judge", baseURL: running.url, rubric: "helpfulness", progress: false, store: join(tmp, "v.sqlite") });
      expect(summary).toMatchObject({ judged: 2, failed: 0 });
    } finally {
      vi.unstubAllEnvs();
    }
    await judge({ input: join(tmp, "in.jsonl"), output: join(tmp, "embedded.jsonl"), model: pkg, rubric: "helpfulness", threads: TINY_MODEL_THREADS, contextSize: 1024, gpu: false, progress: false, store: join(tmp, "s.sqlite") });
    const read = (f: string) => readFileSync(join(tmp, f), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { score: number; score_distribution: Record<string, number> });
    const [via, embedded] = [read("via.jsonl"), read("embedded.jsonl")];
    for (const [i, e] of embedded.entries()) {
      expect(via[i]!.score).toBe(e.score);
      for (const k of Object.keys(e.score_distribution)) expect(via[i]!.score_distribution[k]).toBeCloseTo(e.score_distribution[k]!, 5);
    }
  });

  it("refuses chat completions (a head writes no text) and /classify without the key", async () => {
    const chat = await post(`${running.url}/v1/chat/completions`, { model: "classifier-judge", messages: [{ role: "user", content: "hi" }] });
    expect(chat.status).toBe(400);
    expect(((await chat.json()) as { error: { message: string } }).error.message).toMatch(/does not generate text/);
    expect((await post(`${running.url}/classify`, { input: "x" }, null)).status).toBe(401);
  });
});
