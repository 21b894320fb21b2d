import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { getLlama, LlamaChatSession, readGgufFileInfo, resolveChatWrapper, type Llama, type LlamaContext, type LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTinyLlama, createTinyLlama, encodeTinyLlama, TINY_LLAMA_CHAT_TEMPLATE, tinyLlamaVocab, TokenType } from "./tiny-llama.js";
import { ensureTinyModel, TINY_MODEL_OPTIONS, TINY_MODEL_THREADS } from "./tiny-model.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const referenceModel = resolve(repoRoot, "../shared/models/llama-2-tiny-random.gguf");
const tmp = mkdtempSync(join(tmpdir(), "critic-tiny-llama-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const GRAMMAR = 'root ::= "Feedback: " [a-z ]{1,20} " [RESULT] " [1-5]';
const GRAMMAR_OUTPUT = /^Feedback: [a-z ]{1,20} \[RESULT\] [1-5]$/;

describe("tiny llama file", () => {
  it("has llama architecture and tokenizer metadata that node-llama-cpp reads back", async () => {
    const path = await ensureTinyModel(tmp);
    const info = await readGgufFileInfo(path, { logWarnings: false });
    const vocab = tinyLlamaVocab();
    expect(info.version).toBe(3);
    expect(info.metadata.general.architecture).toBe("llama");
    expect(info.architectureMetadata).toMatchObject({
      context_length: 4096,
      embedding_length: 32,
      block_count: 2,
      feed_forward_length: 64,
      rope: { dimension_count: 8 },
      attention: { head_count: 4, head_count_kv: 2 },
    });
    expect(info.architectureMetadata.attention?.layer_norm_rms_epsilon).toBeCloseTo(1e-5, 9);

    const tokenizer = info.metadata.tokenizer!;
    expect(tokenizer.ggml.model).toBe("llama");
    const tokens = tokenizer.ggml.tokens as string[];
    expect(tokens).toEqual(vocab.tokens);
    expect(tokens.length).toBeGreaterThanOrEqual(512);
    expect(tokens.length).toBeLessThanOrEqual(1000);
    expect((tokenizer.ggml.scores as number[]).length).toBe(tokens.length);
    const types = tokenizer.ggml.token_type as number[];
    expect(types.length).toBe(tokens.length);
    expect(tokens[tokenizer.ggml.unknown_token_id as number]).toBe("<unk>");
    expect(tokens[tokenizer.ggml.bos_token_id as number]).toBe("<s>");
    expect(tokens[tokenizer.ggml.eos_token_id as number]).toBe("</s>");
    for (let byte = 0; byte < 256; byte++) {
      const id = tokens.indexOf(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`);
      expect(types[id], `byte ${byte}`).toBe(TokenType.byte);
    }
    expect(types[tokens.indexOf("<|im_start|>")]).toBe(TokenType.control);
    expect(types[tokens.indexOf("<|im_end|>")]).toBe(TokenType.control);
    for (const piece of ["▁the", "▁", "[", "]", "RESULT", "▁SCORE", "Feedback", "5", "a", "▁a", "~"]) {
      expect(types[tokens.indexOf(piece)], piece).toBe(TokenType.normal);
    }
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(tokenizer.chat_template).toBe(TINY_LLAMA_CHAT_TEMPLATE);
  });

  it("has the tensors of a llama model, named and shaped like the public tiny random llama", async () => {
    const path = await ensureTinyModel(tmp);
    const ours = (await readGgufFileInfo(path, { logWarnings: false })).tensorInfo!;
    const reference = (await readGgufFileInfo(referenceModel, { logWarnings: false })).tensorInfo!;
    expect(ours.filter((t) => !t.name.startsWith("blk.1.")).map((t) => t.name)).toEqual(reference.map((t) => t.name));

    const nVocab = tinyLlamaVocab().tokens.length;
    const shapes = Object.fromEntries(ours.map((t) => [t.name, t.dimensions.map(Number)]));
    expect(shapes).toEqual({
      "token_embd.weight": [32, nVocab],
      ...Object.fromEntries(
        [0, 1].flatMap((b) => [
          [`blk.${b}.attn_q.weight`, [32, 32]],
          [`blk.${b}.attn_k.weight`, [32, 16]], // 2 kv heads of size 8
          [`blk.${b}.attn_v.weight`, [32, 16]],
          [`blk.${b}.attn_output.weight`, [32, 32]],
          [`blk.${b}.ffn_gate.weight`, [32, 64]],
          [`blk.${b}.ffn_up.weight`, [32, 64]],
          [`blk.${b}.ffn_down.weight`, [64, 32]],
          [`blk.${b}.attn_norm.weight`, [32]],
          [`blk.${b}.ffn_norm.weight`, [32]],
        ]),
      ),
      "output_norm.weight": [32],
      "output.weight": [32, nVocab],
    });
    // Same layout rule as the reference: square projections [n_embd, n_embd], ffn_down transposed.
    const ref = Object.fromEntries(reference.map((t) => [t.name, t.dimensions.map(Number)]));
    expect(ref["blk.0.ffn_down.weight"]).toEqual([...ref["blk.0.ffn_up.weight"]!].reverse());
    expect(ours.every((t) => t.ggmlType === 0)).toBe(true);
    expect(readFileSync(path).length).toBeLessThan(1_000_000);
  });

  it("is deterministic: same seed, same bytes; another seed, other weights", () => {
    const first = encodeTinyLlama({ seed: 7 });
    expect(encodeTinyLlama({ seed: 7 }).equals(first)).toBe(true);
    const other = encodeTinyLlama({ seed: 8 });
    expect(other.length).toBe(first.length);
    expect(other.equals(first)).toBe(false);
  });

  it("caches the file under a versioned name whose bytes match the pinned generator output", async () => {
    const path = await ensureTinyModel(tmp);
    const bytes = readFileSync(path);
    expect(bytes.equals(encodeTinyLlama(TINY_MODEL_OPTIONS))).toBe(true);
    // If this fails, the generator changed: bump TINY_MODEL_VERSION (so old caches regenerate) and update the hash.
    expect(createHash("sha256").update(bytes).digest("hex")).toBe("c396e498ff6cb016d2de12fc063acd4385867ae30dc85a2919b5014e1c3035a7");
  });

  it("writes f16 weight matrices when asked, with f32 norms", async () => {
    const path = join(tmp, "f16.gguf");
    const { bytes } = await createTinyLlama(path, { weightType: "f16" });
    const info = await readGgufFileInfo(path, { logWarnings: false });
    const types = Object.fromEntries(info.tensorInfo!.map((t) => [t.name, t.ggmlType]));
    expect(types["output.weight"]).toBe(1);
    expect(types["blk.0.attn_q.weight"]).toBe(1);
    expect(types["blk.0.attn_norm.weight"]).toBe(0);
    expect(info.metadata.general.file_type).toBe(1);
    expect(bytes).toBeLessThan(encodeTinyLlama().length * 0.6);
  });

  it("leaves the chat template out when asked, and rejects impossible shapes", () => {
    expect(buildTinyLlama({ chatTemplate: false }).metadata["tokenizer.chat_template"]).toBeUndefined();
    expect(() => buildTinyLlama({ embeddingLength: 30, headCount: 4 })).toThrow(/embeddingLength 30 is not divisible by headCount 4/);
    expect(() => buildTinyLlama({ headCount: 4, headCountKv: 3 })).toThrow(/headCount 4 is not divisible by headCountKv 3/);
    expect(() => buildTinyLlama({ blockCount: 0 })).toThrow(/blockCount must be a positive integer, got 0/);
  });
});

describe("tiny llama in llama.cpp", () => {
  let llama: Llama;
  let model: LlamaModel;
  let context: LlamaContext;

  beforeAll(async () => {
    llama = await getLlama({ gpu: false });
    model = await llama.loadModel({ modelPath: await ensureTinyModel(tmp) });
    context = await model.createContext({ contextSize: 1024, sequences: 2, threads: TINY_MODEL_THREADS });
  });

  afterAll(async () => {
    await context?.dispose();
    await model?.dispose();
  });

  it("tokenizes with word pieces and round-trips ASCII text", () => {
    const text = "Feedback: the response is good. [RESULT] 4\nSCORE: 10/10 {ok} ~`|\\";
    const tokens = model.tokenize(text);
    expect(model.detokenize(tokens)).toBe(text);
    expect(tokens.length).toBeLessThan(text.length * 0.6); // word pieces, not one token per character
    expect(model.tokenize("the")).toEqual([tinyLlamaVocab().tokens.indexOf("▁the")]);
    expect(model.tokenize("[RESULT]").map((t) => model.detokenize([t]))).toEqual(["[", "RESULT", "]"]);
  });

  it("round-trips non-ASCII text through byte-fallback tokens", () => {
    const vocab = tinyLlamaVocab();
    const text = "héllo wörld — 日本語 🎉";
    const tokens = model.tokenize(text);
    expect(model.detokenize(tokens)).toBe(text);
    const pieces = tokens.map((t) => vocab.tokens[t]!);
    expect(pieces).toContain("<0xE6>"); // first byte of 日 (E6 97 A5)
    expect(pieces.filter((p) => vocab.types[vocab.tokens.indexOf(p)] === TokenType.byte).length).toBe(
      [..."éö—日本語🎉"].reduce((n, c) => n + Buffer.byteLength(c), 0),
    );
  });

  it("parses the ChatML markers as control tokens, and node-llama-cpp picks its ChatML wrapper from the template", () => {
    const vocab = tinyLlamaVocab();
    expect(model.tokenize("<|im_start|>user", true)[0]).toBe(vocab.imStart);
    expect(model.tokenize("<|im_start|>", false)).not.toContain(vocab.imStart);
    expect(resolveChatWrapper(model)?.wrapperName).toBe("ChatML");
  });

  it("generates with temperature and seed: same seed, same text; runs to maxTokens", async () => {
    const sequence = context.getSequence();
    try {
      const run = async (seed: number) => {
        await sequence.clearHistory();
        const session = new LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: false, systemPrompt: "You are a fair judge." });
        const result = await session.promptWithMeta("Rate the answer: the sky is blue.", { maxTokens: 24, temperature: 0.8, seed });
        session.dispose();
        return result;
      };
      const a = await run(1);
      const again = await run(1);
      const b = await run(2);
      expect(a.responseText.length).toBeGreaterThan(0);
      expect(again.responseText).toBe(a.responseText);
      expect(b.responseText).not.toBe(a.responseText);
      // Special tokens carry a large negative logit, so unconstrained text never stops early.
      expect(a.stopReason).toBe("maxTokens");
      expect(b.stopReason).toBe("maxTokens");
      expect(model.tokenize(a.responseText, false, "trimLeadingSpace").length).toBeGreaterThanOrEqual(20);
    } finally {
      sequence.dispose();
    }
  });

  it("follows a GBNF grammar and then stops at end of generation", async () => {
    const grammar = await llama.createGrammar({ grammar: GRAMMAR });
    const sequence = context.getSequence();
    try {
      const outputs: string[] = [];
      for (const seed of [1, 2, 3, 4, 5]) {
        await sequence.clearHistory();
        const session = new LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: false });
        const result = await session.promptWithMeta("Grade the answer.", { grammar, temperature: 1, seed, maxTokens: 200 });
        session.dispose();
        expect(result.responseText).toMatch(GRAMMAR_OUTPUT);
        expect(result.stopReason).toBe("eogToken");
        outputs.push(result.responseText);
      }
      expect(new Set(outputs).size).toBeGreaterThan(1);
    } finally {
      sequence.dispose();
    }
  });

  it("generates on two sequences at the same time", async () => {
    const sequences = [context.getSequence(), context.getSequence()];
    try {
      const tokenTimes: number[][] = [[], []];
      const results = await Promise.all(
        sequences.map(async (sequence, i) => {
          const session = new LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: false });
          const result = await session.promptWithMeta(`Question ${i}: is water wet?`, {
            maxTokens: 40,
            temperature: 0.8,
            seed: 10 + i,
            onToken: () => tokenTimes[i]!.push(performance.now()),
          });
          session.dispose();
          return result;
        }),
      );
      expect(results.map((r) => r.stopReason)).toEqual(["maxTokens", "maxTokens"]);
      expect(results[0]!.responseText).not.toBe(results[1]!.responseText);
      const [first, second] = tokenTimes as [number[], number[]];
      // Interleaved, not one after the other: each started before the other finished.
      expect(first[0]!).toBeLessThan(second.at(-1)!);
      expect(second[0]!).toBeLessThan(first.at(-1)!);
    } finally {
      sequences.forEach((s) => s.dispose());
    }
  });

  it("q8_0 and q4_0 weights load in llama.cpp and give nearly the f32 model's next-token distribution", async () => {
    const nextProbabilities = async (weightType: "f32" | "q8_0" | "q4_0"): Promise<Float64Array> => {
      const path = join(tmp, `quant-${weightType}.gguf`);
      await createTinyLlama(path, { weightType, seed: 5 });
      const model = await llama.loadModel({ modelPath: path });
      const ctx = await model.createContext({ contextSize: 256, threads: TINY_MODEL_THREADS });
      try {
        const tokens = model.tokenize("The answer is correct and the score is");
        const [out] = (await ctx.getSequence().controlledEvaluate([...tokens.slice(0, -1), [tokens.at(-1)!, { generateNext: { probabilities: true } }]])).slice(-1);
        const probs = new Float64Array(tinyLlamaVocab().tokens.length);
        for (const [token, p] of out!.next.probabilities!) probs[token] = p;
        return probs;
      } finally {
        await ctx.dispose();
        await model.dispose();
      }
    };
    const correlation = (x: Float64Array, y: Float64Array) => {
      const mean = (v: Float64Array) => v.reduce((a, b) => a + b, 0) / v.length;
      const mx = mean(x), my = mean(y);
      let sxy = 0, sxx = 0, syy = 0;
      for (let i = 0; i < x.length; i++) {
        sxy += (x[i]! - mx) * (y[i]! - my);
        sxx += (x[i]! - mx) ** 2;
        syy += (y[i]! - my) ** 2;
      }
      return sxy / Math.sqrt(sxx * syy);
    };
    const f32 = await nextProbabilities("f32");
    const q8 = await nextProbabilities("q8_0");
    const q4 = await nextProbabilities("q4_0");
    // A wrong block layout would give an unrelated distribution (correlation near 0).
    expect(correlation(f32, q8)).toBeGreaterThan(0.99);
    expect(correlation(f32, q4)).toBeGreaterThan(0.8);
    expect(correlation(f32, q8)).toBeGreaterThan(correlation(f32, q4));
    const info = await readGgufFileInfo(join(tmp, "quant-q4_0.gguf"), { readTensorInfo: true });
    expect(info.tensorInfo!.find((t) => t.name === "blk.0.attn_q.weight")?.ggmlType).toBe(2);
    expect(info.tensorInfo!.find((t) => t.name === "blk.0.attn_norm.weight")?.ggmlType).toBe(0);
  });

  it("loads and generates from the f16 variant too", async () => {
    const path = join(tmp, "f16-infer.gguf");
    await createTinyLlama(path, { weightType: "f16", seed: 3 });
    const f16 = await llama.loadModel({ modelPath: path });
    const ctx = await f16.createContext({ contextSize: 256, threads: TINY_MODEL_THREADS });
    try {
      const session = new LlamaChatSession({ contextSequence: ctx.getSequence() });
      const grammar = await llama.createGrammar({ grammar: GRAMMAR });
      expect(await session.prompt("Grade it.", { grammar, temperature: 0.7, seed: 1 })).toMatch(GRAMMAR_OUTPUT);
    } finally {
      await ctx.dispose();
      await f16.dispose();
    }
  });
});
