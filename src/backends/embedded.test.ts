import { copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGgufFileInfo } from "node-llama-cpp";
import { gguf, writeGguf } from "../gguf/write.js";
import { createEmbeddedBackend, defaultThreads, resolveModelFile, type EmbeddedBackend } from "./embedded.js";
import { BackendError, type GenerateRequest } from "./types.js";
import { ensureTinyModel, TINY_MODEL_THREADS } from "../gguf/tiny-model.js";
import { startHfMirror } from "../../test/support/hf-mirror.js";

// The generated tiny random llama (ChatML template, small vocabulary): real llama.cpp inference in milliseconds.
const tinyModelPath = (): Promise<string> => ensureTinyModel();

const SCORE_GRAMMAR = 'root ::= "Feedback: " [a-z ]{3,12} " [RESULT] " [1-5]';

function ask(content: string, params: GenerateRequest["params"] = {}): GenerateRequest {
  return { messages: [{ role: "system", content: "You are a fair judge." }, { role: "user", content }], params };
}

describe("embedded backend (real llama.cpp on a tiny random model)", () => {
  let modelPath: string;
  let backend: EmbeddedBackend;
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "critic-embedded-"));
    modelPath = await tinyModelPath();
    backend = await createEmbeddedBackend({ modelPath, parallel: 2, contextSize: 512, gpu: false, threads: TINY_MODEL_THREADS });
  });

  afterAll(async () => {
    await backend?.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("describes itself", () => {
    expect(backend.kind).toBe("embedded");
    expect(backend.concurrency).toBe(2);
    expect(backend.contextSize).toBeGreaterThanOrEqual(512);
    expect(backend.gpu).toBe(false);
    expect(backend.model).toMatch(/\.gguf@[0-9a-f]{16}$/);
    expect(backend.settings).toMatch(/^embedded CPU: parallel 2 \(--parallel\), context \d+ tokens per sequence, threads 1 \(--threads\), prefix reuse on$/);
  });

  it("chooses threads from the idle cores and parallelism from the KV cache that fits, and says why", async () => {
    expect(defaultThreads(2, 0.1)).toEqual({ value: 2, why: "2 cores, load 0.1" });
    // A machine busy with another process: one thread, not a collapse from asking for both cores.
    expect(defaultThreads(2, 1.2).value).toBe(1);
    expect(defaultThreads(8, 30).value).toBe(1);
    const chosen = await createEmbeddedBackend({ modelPath, contextSize: 256, gpu: false });
    try {
      expect(chosen.settings).toMatch(/parallel 1 \(chosen: [\d.]+ MiB KV cache each, [\d.]+ GiB RAM free\)/);
      expect(chosen.concurrency).toBe(1);
      expect(chosen.settings).toMatch(/threads \d \(chosen: \d+ cores, load [\d.]+\)/);
    } finally {
      await chosen.dispose();
    }
  });

  it("generates text with token usage and stops at maxTokens", async () => {
    const result = await backend.generate(ask("Rate the answer: the sky is blue.", { temperature: 0, maxTokens: 6 }));
    expect(result.text.length).toBeGreaterThan(0);
    expect(result.usage.promptTokens).toBeGreaterThan(10);
    expect(result.usage.completionTokens).toBe(6);
    expect(result.finishReason).toBe("length");
  });

  it("counts more prompt tokens for a longer prompt", async () => {
    const short = await backend.generate(ask("Hi.", { maxTokens: 1 }));
    const long = await backend.generate(ask("Hi. ".repeat(40), { maxTokens: 1 }));
    expect(long.usage.promptTokens).toBeGreaterThan(short.usage.promptTokens + 30);
  });

  it("follows a GBNF grammar", async () => {
    for (const seed of [1, 2, 3, 4]) {
      const result = await backend.generate({ ...ask("Grade it.", { temperature: 1, seed, maxTokens: 40 }), constraint: { gbnf: SCORE_GRAMMAR } });
      expect(result.text).toMatch(/^Feedback: [a-z ]{3,12} \[RESULT\] [1-5]$/);
      expect(result.finishReason).toBe("stop");
    }
  });

  it("reads each verdict's probability at the verdict position from llama.cpp: exact, summing to 1, greedy picks the most likely", async () => {
    const scores = ["1", "2", "3", "4", "5"];
    const result = await backend.generate({ ...ask("Rate the answer: the sky is green.", { temperature: 0, maxTokens: 40 }), constraint: { gbnf: SCORE_GRAMMAR }, verdict: { candidates: scores } });
    const d = result.distribution!;
    expect(Object.keys(d).sort()).toEqual(scores);
    expect(Object.values(d).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    const chosen = result.text.at(-1)!;
    // Temperature 0 under the grammar takes the most likely allowed token.
    expect(d[chosen]).toBe(Math.max(...Object.values(d)));

    // The same numbers from a plain evaluation of prompt + prefix in a separate context.
    const { getLlama, LlamaChat } = await import("node-llama-cpp");
    const llama = await getLlama({ gpu: false });
    const model = await llama.loadModel({ modelPath });
    const context = await model.createContext({ contextSize: 512, sequences: 1 });
    try {
      const chat = new LlamaChat({ contextSequence: context.getSequence() });
      const prefix = result.text.slice(0, -1);
      const history = [{ type: "system" as const, text: "You are a fair judge." }, { type: "user" as const, text: "Rate the answer: the sky is green." }];
      // Each score's canonical tokens after the prefix (the last prefix token may merge with the digit).
      const fulls = scores.map((s) => chat.chatWrapper.generateContextState({ chatHistory: [...history, { type: "model" as const, response: [prefix + s] }] }).contextText.tokenize(model.tokenizer));
      let shared = 0;
      while (fulls.every((f) => f[shared] === fulls[0]![shared])) shared++;
      expect(fulls.every((f) => f.length === shared + 1)).toBe(true);
      const sharedTokens = fulls[0]!.slice(0, shared);
      const evaluated = await chat.sequence.controlledEvaluate([...sharedTokens.slice(0, -1), [sharedTokens.at(-1)!, { generateNext: { probabilities: true } }]]);
      const probabilities = evaluated.at(-1)!.next.probabilities!;
      const raw = fulls.map((f) => probabilities.get(f[shared]!) ?? 0);
      const total = raw.reduce((a, b) => a + b, 0);
      scores.forEach((s, i) => expect(d[s]).toBeCloseTo(raw[i]! / total, 6));
    } finally {
      await context.dispose();
      await model.dispose();
    }
  });

  it("handles verdicts that share a first token (1 and 10) by following each path to its end", async () => {
    const scores = Array.from({ length: 10 }, (_, i) => String(i + 1));
    const gbnf = `root ::= "Feedback: " [a-z ]{3,12} " [SCORE] " (${scores.map((s) => JSON.stringify(s)).join(" | ")})`;
    const result = await backend.generate({ ...ask("Score it 1-10: 2+2=4.", { temperature: 0, maxTokens: 40 }), constraint: { gbnf }, verdict: { candidates: scores } });
    const d = result.distribution!;
    expect(Object.keys(d)).toHaveLength(10);
    expect(Object.values(d).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(Object.values(d).every((p) => p >= 0 && p <= 1)).toBe(true);
    // An output that does not end with a verdict gets no distribution, and says why.
    const free = await backend.generate({ ...ask("Say hi.", { temperature: 0, maxTokens: 3 }), verdict: { candidates: ["1", "2"] } });
    expect(free.distribution).toBeUndefined();
    expect(free.distributionError).toMatch(/does not end with a verdict/);
  });

  it("prefix reuse: a request evaluates only what differs from the sequence's last one, with the same outputs as cold", async () => {
    const system = "You are a fair judge. ".repeat(20);
    const asks = [1, 2, 3, 4].map((i) => ({ messages: [{ role: "system" as const, content: system }, { role: "user" as const, content: `Rate answer ${i}.` }], params: { temperature: 0, maxTokens: 12 } }));
    const warm = await createEmbeddedBackend({ modelPath, parallel: 1, contextSize: 512, gpu: false, threads: TINY_MODEL_THREADS });
    const cold = await createEmbeddedBackend({ modelPath, parallel: 1, contextSize: 512, gpu: false, threads: TINY_MODEL_THREADS, prefixReuse: false });
    try {
      const warmOut = [];
      for (const a of asks) warmOut.push(await warm.generate(a));
      const coldOut = [];
      for (const a of asks) coldOut.push(await cold.generate(a));
      // The first request has nothing to reuse; each later one reuses the shared system prompt.
      expect(warmOut[0]!.usage.cachedPromptTokens).toBeUndefined();
      for (const r of warmOut.slice(1)) expect(r.usage.cachedPromptTokens).toBeGreaterThan(r.usage.promptTokens * 0.8);
      expect(coldOut.every((r) => r.usage.cachedPromptTokens === undefined)).toBe(true);
      // On one sequence, on the CPU, greedy outputs are the same as from a cold evaluation.
      expect(warmOut.map((r) => r.text)).toEqual(coldOut.map((r) => r.text));
      // llama.cpp does not promise bit-identical results across batch layouts, so the cache keeps them apart.
      expect(warm.variant).toBe("prefix-reuse");
      expect(cold.variant).toBeUndefined();
    } finally {
      await warm.dispose();
      await cold.dispose();
    }
  });

  it("follows a JSON schema constraint", async () => {
    const jsonSchema = { type: "object", properties: { verdict: { enum: ["A", "B", "tie"] }, score: { enum: [1, 2, 3, 4, 5] } } };
    for (const seed of [1, 2]) {
      const result = await backend.generate({ ...ask("Compare.", { temperature: 1, seed, maxTokens: 60 }), constraint: { jsonSchema } });
      const parsed = JSON.parse(result.text) as { verdict: unknown; score: unknown };
      expect(["A", "B", "tie"]).toContain(parsed.verdict);
      expect([1, 2, 3, 4, 5]).toContain(parsed.score);
    }
  });

  it("cuts the text before a stop string", async () => {
    const gbnf = 'root ::= "alpha END beta"';
    const unstopped = await backend.generate({ ...ask("Say it.", { maxTokens: 20 }), constraint: { gbnf } });
    expect(unstopped.text).toBe("alpha END beta");
    const stopped = await backend.generate({ ...ask("Say it.", { maxTokens: 20, stop: [" END"] }), constraint: { gbnf } });
    expect(stopped.text).toBe("alpha");
    expect(stopped.finishReason).toBe("stop");
  });

  it("rejects an invalid grammar with a non-retryable error", async () => {
    const error = await backend.generate({ ...ask("x", { maxTokens: 2 }), constraint: { gbnf: "root ::= undefined-rule" } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).retryable).toBe(false);
    expect((error as Error).message).toMatch(/invalid GBNF grammar/);
  });

  it("reproduces a sampled output from the same seed and varies with the seed", async () => {
    const params = { temperature: 1, topP: 0.95, topK: 100, maxTokens: 12 };
    const a = await backend.generate(ask("Judge this essay.", { ...params, seed: 42 }));
    const b = await backend.generate(ask("Judge this essay.", { ...params, seed: 42 }));
    const c = await backend.generate(ask("Judge this essay.", { ...params, seed: 43 }));
    expect(b.text).toBe(a.text);
    expect(c.text).not.toBe(a.text);
  });

  it("runs 4 requests on 2 sequences, at most 2 at once, all complete", async () => {
    const prompts = ["one", "two", "three", "four"];
    const pending = prompts.map((p) => backend.generate(ask(`Rate: ${p}`, { temperature: 0.7, seed: 5, maxTokens: 16 })));
    expect(backend.busy).toBe(2);
    expect(backend.queued).toBe(2);
    let maxBusy = 0;
    const watch = setInterval(() => (maxBusy = Math.max(maxBusy, backend.busy)), 1);
    const results = await Promise.all(pending);
    clearInterval(watch);
    expect(maxBusy).toBeLessThanOrEqual(2);
    expect(results).toHaveLength(4);
    for (const r of results) expect(r.usage.completionTokens).toBeGreaterThan(0);
    expect(backend.busy).toBe(0);
    expect(backend.queued).toBe(0);
  });

  it("honours an abort signal while waiting for a sequence", async () => {
    const running = [backend.generate(ask("a", { maxTokens: 24 })), backend.generate(ask("b", { maxTokens: 24 }))];
    const controller = new AbortController();
    const waiting = backend.generate({ ...ask("c", { maxTokens: 24 }), signal: controller.signal });
    expect(backend.queued).toBe(1);
    controller.abort(new Error("stop waiting"));
    await expect(waiting).rejects.toThrow("stop waiting");
    expect(backend.queued).toBe(0);
    await Promise.all(running);
  });

  it("refuses a prompt longer than a sequence instead of truncating it", async () => {
    const error = await backend.generate(ask("word ".repeat(2000), { maxTokens: 4 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toMatch(/tokens but each sequence holds \d+; raise --context-size/);
  });
});

describe("embedded backend isolation and lifecycle", () => {
  let tmp: string;
  let modelPath: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "critic-embedded-"));
    modelPath = await tinyModelPath();
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("no cross-talk between requests on one sequence: the same request gives the same answer whatever ran before", async () => {
    const backend = await createEmbeddedBackend({ modelPath, parallel: 1, contextSize: 256, gpu: false, threads: TINY_MODEL_THREADS });
    try {
      const first = ask("Is this answer correct? 2+2=4", { temperature: 0.9, seed: 11, maxTokens: 12 });
      const a1 = await backend.generate(first);
      const other = await backend.generate(ask("Something else entirely, a much longer and different message.", { temperature: 0.9, seed: 99, maxTokens: 20 }));
      const a2 = await backend.generate(first);
      expect(other.text).not.toBe(a1.text);
      expect(a2.text).toBe(a1.text);
      expect({ ...a2.usage, cachedPromptTokens: undefined }).toEqual({ ...a1.usage, cachedPromptTokens: undefined });
      // Only the shared head (the system prompt's tokens) was kept from the other request.
      expect(a2.usage.cachedPromptTokens).toBeLessThan(a1.usage.promptTokens);
    } finally {
      await backend.dispose();
    }
  });

  it("names a model by its content, not its path", async () => {
    const copy = join(tmp, "copy.gguf");
    copyFileSync(modelPath, copy);
    const original = await createEmbeddedBackend({ modelPath, parallel: 1, contextSize: 128, gpu: false, threads: TINY_MODEL_THREADS });
    const copied = await createEmbeddedBackend({ modelPath: copy, parallel: 1, contextSize: 128, gpu: false, threads: TINY_MODEL_THREADS });
    try {
      expect(copied.model.split("@")[1]).toBe(original.model.split("@")[1]);
      // Two backends share one llama.cpp instance; disposing one leaves the other working.
      await original.dispose();
      const result = await copied.generate(ask("still there?", { maxTokens: 3 }));
      expect(result.usage.completionTokens).toBe(3);
    } finally {
      await original.dispose();
      await copied.dispose();
    }

    // Change the last byte (tensor data): the identity must change.
    const changed = join(tmp, "changed.gguf");
    copyFileSync(modelPath, changed);
    const fd = openSync(changed, "r+");
    writeSync(fd, Buffer.from([0x3c]), 0, 1, statSync(changed).size - 1);
    closeSync(fd);
    const modified = await createEmbeddedBackend({ modelPath: changed, parallel: 1, contextSize: 128, gpu: false, threads: TINY_MODEL_THREADS });
    try {
      expect(modified.model.split("@")[1]).not.toBe(original.model.split("@")[1]);
    } finally {
      await modified.dispose();
    }
  });

  it("applies a LoRA adapter, and names it in the model identity", async () => {
    // A real GGUF LoRA adapter for the tiny model: random rank-4 A/B pairs on every attention query and FFN up matrix.
    const info = await readGgufFileInfo(modelPath);
    const rank = 4;
    let seed = 7;
    const random = (n: number) => Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 4);
    const targets = (info.fullTensorInfo ?? []).filter((t) => /^blk\.\d+\.(attn_q|ffn_up)\.weight$/.test(t.name));
    expect(targets.length).toBeGreaterThan(0);
    const adapter = join(tmp, "adapter.gguf");
    await writeGguf(adapter, {
      metadata: {
        "general.architecture": gguf.str("llama"),
        "general.type": gguf.str("adapter"),
        "adapter.type": gguf.str("lora"),
        "adapter.lora.alpha": gguf.f32(rank),
      },
      tensors: targets.flatMap((t) => {
        const [inputs, outputs] = t.dimensions.map(Number) as [number, number];
        return [
          { name: `${t.name}.lora_a`, dimensions: [inputs, rank], type: "f32" as const, data: random(inputs * rank) },
          { name: `${t.name}.lora_b`, dimensions: [rank, outputs], type: "f32" as const, data: random(rank * outputs) },
        ];
      }),
    });

    const request = ask("Grade this answer about photosynthesis.", { temperature: 0, maxTokens: 16 });
    const base = await createEmbeddedBackend({ modelPath, parallel: 1, contextSize: 256, gpu: false, threads: TINY_MODEL_THREADS });
    const tuned = await createEmbeddedBackend({ modelPath, parallel: 1, contextSize: 256, gpu: false, threads: TINY_MODEL_THREADS, lora: { path: adapter, scale: 1 } });
    try {
      const [plain, adapted] = [await base.generate(request), await tuned.generate(request)];
      expect(adapted.text).not.toBe(plain.text);
      expect(tuned.model).toMatch(/^critic-tiny.*\.gguf@[0-9a-f]{16}\+lora:adapter\.gguf@[0-9a-f]{16}\*1$/);
      expect(tuned.model.startsWith(base.model)).toBe(true);
    } finally {
      await base.dispose();
      await tuned.dispose();
    }
  });

  it("fails clearly on a missing model or LoRA file", async () => {
    await expect(createEmbeddedBackend({ modelPath: join(tmp, "nope.gguf") })).rejects.toThrow(/model file not found: .*nope\.gguf/);
    await expect(createEmbeddedBackend({ modelPath, lora: { path: join(tmp, "nope-lora.gguf") } })).rejects.toThrow(/LoRA adapter file not found/);
  });

  it("fails clearly on a file that is not GGUF", async () => {
    const bad = join(tmp, "bad.gguf");
    writeFileSync(bad, "this is not a gguf file at all");
    await expect(createEmbeddedBackend({ modelPath: bad, gpu: false, threads: TINY_MODEL_THREADS })).rejects.toThrow(/cannot load GGUF model .*bad\.gguf/);
  });

  it("rejects queued and new requests after dispose", async () => {
    const backend = await createEmbeddedBackend({ modelPath, parallel: 1, contextSize: 256, gpu: false, threads: TINY_MODEL_THREADS });
    const running = backend.generate(ask("first", { maxTokens: 30 }));
    const queued = backend.generate(ask("second", { maxTokens: 4 }));
    const disposing = backend.dispose();
    await expect(queued).rejects.toThrow(/disposed/);
    await running.catch(() => undefined); // may finish or be cut off by the context's disposal
    await disposing;
    await expect(backend.generate(ask("third", { maxTokens: 4 }))).rejects.toBeInstanceOf(BackendError);
  });
});

describe("resolveModelFile", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "critic-models-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("uses an already downloaded file without the network", async () => {
    // node-llama-cpp names downloads hf_<user>_<file> (dropping a "-GGUF" repo suffix).
    const cached = join(dir, "hf_someone_judge.Q4_K_M.gguf");
    writeFileSync(cached, "GGUF");
    expect(await resolveModelFile("hf:someone/judge-GGUF/judge.Q4_K_M.gguf", { directory: dir, connectTimeoutMs: 1 })).toBe(cached);
  });

  it("fails fast offline with a message on how to use a local file or a server", async () => {
    // This machine has no internet; with internet this repo does not exist and the download fails too.
    const error = (await resolveModelFile("hf:critic-test-nobody/no-such-judge-GGUF:Q4_K_M", { directory: dir, connectTimeoutMs: 5000, stallTimeoutMs: 5000 }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain('cannot download the model "hf:critic-test-nobody/no-such-judge-GGUF:Q4_K_M"');
    expect(error.message).toContain("--model ./judge.gguf");
    expect(error.message).toContain("--model openai:<name> --base-url");
  });

  it("downloads an hf: model once from the endpoint in $HF_ENDPOINT (a local mirror), with progress", async () => {
    const modelPath = await ensureTinyModel();
    const mirror = await startHfMirror({ "/someone/mirror-judge-GGUF/resolve/main/judge.Q8_0.gguf": modelPath });
    const saved = process.env.HF_ENDPOINT;
    process.env.HF_ENDPOINT = mirror.url;
    try {
      const progress: number[] = [];
      const file = await resolveModelFile("hf:someone/mirror-judge-GGUF/judge.Q8_0.gguf", {
        directory: dir, connectTimeoutMs: 5000, onProgress: (s) => progress.push(s.downloadedBytes),
      });
      expect(readFileSync(file).equals(readFileSync(modelPath))).toBe(true);
      expect(progress.at(-1)).toBe(statSync(modelPath).size);
      const served = mirror.fileRequests.length;
      expect(served).toBeGreaterThan(0);
      // Second time: the file is already there, the mirror is not asked again.
      expect(await resolveModelFile("hf:someone/mirror-judge-GGUF/judge.Q8_0.gguf", { directory: dir })).toBe(file);
      expect(mirror.fileRequests).toHaveLength(served);
      // A file the mirror does not have fails with the same advice as offline.
      const missing = (await resolveModelFile("hf:someone/mirror-judge-GGUF/absent.gguf", { directory: dir }).catch((e: unknown) => e)) as Error;
      expect(missing.message).toMatch(/cannot download the model "hf:someone\/mirror-judge-GGUF\/absent\.gguf".*404/s);
    } finally {
      if (saved === undefined) delete process.env.HF_ENDPOINT;
      else process.env.HF_ENDPOINT = saved;
      await mirror.close();
    }
  });
});
