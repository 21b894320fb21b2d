import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbeddedBackend, type EmbeddedBackend } from "../backends/embedded.js";
import type { Backend, GenerateRequest } from "../backends/types.js";
import { ensureTinyModel, TINY_MODEL_THREADS } from "../gguf/tiny-model.js";
import { startServe } from "../cli/serve.js";
import { parseRewardRequest, rewardGrader } from "./reward.js";
import { startServer, type RunningServer } from "./start.js";

const KEY = "reward-key-42";
const rewardFnTemplate = fileURLToPath(new URL("../../assets/trl/reward_fn.py", import.meta.url));

/** Wraps the real backend to see how many calls run at once. */
function counting(inner: Backend): Backend & { peak: number; calls: number } {
  let active = 0;
  const wrapper = {
    kind: inner.kind,
    model: inner.model,
    concurrency: inner.concurrency,
    peak: 0,
    calls: 0,
    async generate(request: GenerateRequest) {
      active++;
      wrapper.calls++;
      wrapper.peak = Math.max(wrapper.peak, active);
      try {
        return await inner.generate(request);
      } finally {
        active--;
      }
    },
    dispose: () => inner.dispose(),
  };
  return wrapper;
}

describe("POST /v1/reward on the tiny embedded model", () => {
  let embedded: EmbeddedBackend;
  let backend: ReturnType<typeof counting>;
  let server: RunningServer;
  const dir = mkdtempSync(path.join(tmpdir(), "critic-reward-"));

  beforeAll(async () => {
    embedded = await createEmbeddedBackend({ modelPath: await ensureTinyModel(), parallel: 2, contextSize: 1024, gpu: false, threads: TINY_MODEL_THREADS });
    backend = counting(embedded);
    const { grader, scale } = rewardGrader({ template: "criticon", maxTokens: 24 });
    server = await startServer({ backend, modelName: "tiny-judge", apiKey: KEY, host: "127.0.0.1", port: 0, reward: { grader, ...(scale ? { scale } : {}), params: { maxTokens: 24 }, maxRetries: 1, maxItems: 16 } });
  });

  afterAll(async () => {
    await server?.close();
    await embedded?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: unknown, key: string | null = KEY) =>
    fetch(`${server.url}/v1/reward`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  it("scores a batch in order through the judge engine, at the backend's concurrency", async () => {
    const prompts = ["What is 2+2?", "Name a prime number.", "Capital of France?", "Spell cat.", "Is water wet?", "Largest ocean?"];
    const completions = ["4", "9", "Paris", "c-a-t", "yes", "Pacific"];
    const callsBefore = backend.calls;
    const res = await post({ prompts, completions });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { rewards: Array<number | null>; errors: Array<{ index: number; error: string }>; scale: { min: number; max: number }; model: string; template: string; usage: { total_tokens: number } };
    expect(body.model).toBe("tiny-judge");
    expect(body.template).toBe("criticon");
    expect(body.scale).toEqual({ min: 1, max: 10 });
    expect(body.rewards).toHaveLength(6);
    // Grammar-constrained output always ends in a verdict, so every item gets a score in range, or a null with its error.
    for (const [i, r] of body.rewards.entries()) {
      if (r === null) expect(body.errors.some((e) => e.index === i)).toBe(true);
      else expect(r).toBeGreaterThanOrEqual(1), expect(r).toBeLessThanOrEqual(10);
    }
    expect(body.rewards.filter((r) => r !== null).length).toBeGreaterThan(0);
    expect(body.usage.total_tokens).toBeGreaterThan(0);
    expect(backend.calls - callsBefore).toBeGreaterThanOrEqual(6);
    expect(backend.peak).toBe(2);

    // Greedy judging: the same batch as items gives the same rewards, in the same order.
    const again = await post({ items: prompts.map((prompt, i) => ({ prompt, completion: completions[i] })) });
    expect(((await again.json()) as { rewards: unknown[] }).rewards).toEqual(body.rewards);
  });

  it("answers bad input with 400 naming the field, and needs the API key", async () => {
    const cases: Array<[unknown, RegExp, string | null]> = [
      [{ prompts: ["a", "b"], completions: ["x"] }, /prompts and completions must have the same length \(got 2 and 1\)/, "completions"],
      [{ prompts: ["a"] }, /completions is missing/, "completions"],
      [{ prompts: ["a"], completions: [3] }, /^completions\.0: each completion must be a string/, "completions.0"],
      [{ items: [{ prompt: "a" }] }, /^items\.0\.completion: completion must be a string/, "items.0.completion"],
      [{ prompts: [], completions: [] }, /prompts is empty/, "prompts"],
      [{ prompts: Array(17).fill("p"), completions: Array(17).fill("c") }, /at most 16 items per request \(got 17\)/, "prompts"],
      [{ text: "hello" }, /needs prompts and completions/, null],
      ["{not json", /not valid JSON/, null],
    ];
    for (const [body, message, param] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const { error } = (await res.json()) as { error: { message: string; param: string | null; type: string } };
      expect(error.message).toMatch(message);
      expect(error.param).toBe(param);
      expect(error.type).toBe("invalid_request_error");
    }
    expect((await post({ prompts: ["a"], completions: ["b"] }, null)).status).toBe(401);
    expect((await post({ prompts: ["a"], completions: ["b"] }, "wrong")).status).toBe(401);
  });

  it("serves TRL's reward function: reward_fn.py (python3, urllib) gets one float per completion", async () => {
    const script = path.join(dir, "reward_fn.py");
    writeFileSync(
      script,
      readFileSync(rewardFnTemplate, "utf8")
        .replace("__CRITIC_REWARD_URL__", `${server.url}/v1/reward`)
        .replace("__CRITIC_NULL_REWARD__", "-1")
        .replace("__CRITIC_NORMALIZE__", "1"),
    );
    // GRPO passes conversational prompts and completions as message lists; plain strings work too.
    const driver = [
      "import json, sys",
      `sys.path.insert(0, ${JSON.stringify(dir)})`,
      "from reward_fn import reward_fn, score",
      "prompts = [[{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'What is 2+2?'}], 'Capital of France?']",
      "completions = [[{'role': 'assistant', 'content': '4'}], 'Paris']",
      "raw = score(prompts, completions)",
      "print(json.dumps({'rewards': reward_fn(prompts, completions), 'raw': raw['rewards']}))",
    ].join("\n");
    const { stdout } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile("python3", ["-c", driver], { env: { ...process.env, CRITIC_API_KEY: KEY }, timeout: 60_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ stdout, stderr }),
      ),
    );
    const { rewards, raw } = JSON.parse(stdout) as { rewards: number[]; raw: Array<number | null> };
    expect(rewards).toHaveLength(2);
    for (const [i, r] of rewards.entries()) {
      expect(typeof r).toBe("number");
      expect(r).toBe(raw[i] === null ? -1 : (raw[i]! - 1) / 9);
    }
    // The same pairs sent directly give the same scores: the conversational prompt became its last user turn.
    const direct = await post({ prompts: ["What is 2+2?", "Capital of France?"], completions: ["4", "Paris"] });
    expect(((await direct.json()) as { rewards: unknown[] }).rewards).toEqual(raw);
    // The server reads the conversational form itself, as reward_fn.py does.
    const conversational = await post({
      prompts: [[{ role: "system", content: "Be brief." }, { role: "user", content: "What is 2+2?" }], "Capital of France?"],
      completions: [[{ role: "assistant", content: "4" }], "Paris"],
    });
    expect(conversational.status).toBe(200);
    expect(((await conversational.json()) as { rewards: unknown[] }).rewards).toEqual(raw);

    // Without the key the server's 401 surfaces as an error in the trainer, not as zero rewards.
    const noKey = await new Promise<string>((resolve) =>
      execFile("python3", ["-c", driver], { env: { ...process.env, CRITIC_API_KEY: "" }, timeout: 60_000 }, (_e, _o, stderr) => resolve(stderr)),
    );
    expect(noKey).toMatch(/critic reward server answered 401/);
  });

  it("refuses pairwise templates and templates it cannot fill from a prompt and a completion", () => {
    expect(() => rewardGrader({ template: "prometheus-pairwise" })).toThrow(/grades pairwise/);
    expect(() => rewardGrader({ template: "prometheus-absolute" })).toThrow(/cannot fill template "prometheus-absolute".*rubric/);
    expect(rewardGrader({ template: "prometheus-absolute", rubric: "helpfulness" }).scale).toEqual({ min: 1, max: 5 });
    expect(parseRewardRequest({ prompts: ["a"], completions: ["b"], references: ["r"] }, 4)).toEqual({ ok: true, items: [{ prompt: "a", completion: "b", reference: "r" }] });
  });

  it("`critic serve --reward` mounts the endpoint beside the OpenAI routes and checks the setup before loading the model", async () => {
    const base = { host: "127.0.0.1", port: 0, gpu: false, loraScale: 1, parallel: 1, threads: TINY_MODEL_THREADS, modelName: "judge" };
    await expect(startServe({ ...base, model: await ensureTinyModel(), reward: true, template: "prometheus-absolute" }, () => {})).rejects.toThrow(/--rubric|rubric/);
    const logged: string[] = [];
    const running = await startServe({ ...base, model: await ensureTinyModel(), reward: true, template: "criticon", rewardMaxTokens: 16 }, (l) => logged.push(l));
    try {
      expect(logged.join("\n")).toMatch(/reward endpoint: POST http:\/\/127\.0\.0\.1:\d+\/v1\/reward \(template criticon, scores 1-10\)/);
      const res = await fetch(`${running.url}/v1/reward`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompts: ["2+2?"], completions: ["4"] }) });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { rewards: unknown[] }).rewards).toHaveLength(1);
      expect((await fetch(`${running.url}/v1/models`)).status).toBe(200);
    } finally {
      await running.stop();
    }
  });
});
