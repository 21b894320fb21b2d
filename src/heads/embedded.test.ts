import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLlama, resolveChatWrapper, tinyLlamaVocabIds } from "./test-support.js";
import { ensureTinyModel, TINY_MODEL_OPTIONS, TINY_MODEL_THREADS } from "../gguf/tiny-model.js";
import { toChatHistory } from "../backends/embedded.js";
import type { ChatMessage } from "../backends/types.js";
import { createEmbeddedHead } from "./embedded.js";
import { createTinyPackage, SCORE_TOKENS } from "./tiny-package.js";
import { headVerdict } from "./spec.js";

// The check is independent of the head's code path: llama.cpp's own next-token distribution from a
// generation context (not an embedding one), read through node-llama-cpp's probabilities.
const TOLERANCE = 1e-4;

const prompts: ChatMessage[][] = [
  [{ role: "system", content: "You are a fair judge." }, { role: "user", content: "Rate this answer: the sky is blue because of Rayleigh scattering." }],
  [{ role: "user", content: "Rate this answer: two plus two is five." }],
  // Shares the first prompt's head: exercises prefix reuse.
  [{ role: "system", content: "You are a fair judge." }, { role: "user", content: "Rate this answer: water boils at 100 C at sea level." }],
];

/** log p(token) for the score tokens after the prompt, from llama.cpp's generation context. */
async function llamaLogProbs(modelPath: string, messages: ChatMessage[][]): Promise<number[][]> {
  const llama = await getLlama({ gpu: false, build: "never", skipDownload: true });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize: 512, threads: TINY_MODEL_THREADS });
  const sequence = context.getSequence();
  const wrapper = resolveChatWrapper(model);
  const ids = tinyLlamaVocabIds(SCORE_TOKENS);
  const out: number[][] = [];
  try {
    for (const m of messages) {
      const tokens = wrapper.generateContextState({ chatHistory: toChatHistory(m) }).contextText.tokenize(model.tokenizer);
      await sequence.clearHistory();
      const results = await sequence.controlledEvaluate(tokens.map((t, i) => (i === tokens.length - 1 ? [t, { generateNext: { probabilities: true } }] : t)));
      const probabilities = results.at(-1)!.next.probabilities!;
      out.push(ids.map((id) => Math.log(probabilities.get(id as never)!)));
    }
  } finally {
    await context.dispose();
    await model.dispose();
  }
  return out;
}

describe("embedded head (real llama.cpp, tiny random llama, head rows = LM head rows of '1'..'5')", () => {
  let tmp: string;
  let backbone: string;
  let reference: number[][];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "critic-heads-"));
    backbone = await ensureTinyModel();
    reference = await llamaLogProbs(backbone, prompts);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("classify: the package's logits are llama.cpp's next-token logits for the five tokens (up to one constant)", async () => {
    const dir = join(tmp, "classify");
    await createTinyPackage(dir, { backbone, model: TINY_MODEL_OPTIONS, kind: "classify" });
    const head = await createEmbeddedHead({ package: dir, gpu: false, threads: TINY_MODEL_THREADS, contextSize: 512 });
    try {
      const scores = await head.score(prompts);
      for (const [p, s] of scores.entries()) {
        const ref = reference[p]!;
        // Logits are defined up to a constant per position: compare differences to the first token.
        for (let i = 1; i < 5; i++) expect(Math.abs(s.logits[i]! - s.logits[0]! - (ref[i]! - ref[0]!))).toBeLessThan(TOLERANCE);
        // And the verdict is the one llama.cpp would sample greedily among the five.
        const verdict = headVerdict(s.logits, head.output);
        expect(verdict.score).toBe(ref.indexOf(Math.max(...ref)) + 1);
        expect(Object.values(verdict.score_distribution!).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        expect(s.promptTokens).toBeGreaterThan(10);
      }
      // The same prompt again (after others) gives the same logits: prefix reuse keeps nothing stale.
      const again = await head.score([prompts[0]!]);
      for (let i = 0; i < 5; i++) expect(Math.abs(again[0]!.logits[i]! - scores[0]!.logits[i]!)).toBeLessThan(TOLERANCE);
    } finally {
      await head.dispose();
    }
  });

  it("regress: a one-row head is the same linear combination of llama.cpp's logits", async () => {
    const dir = join(tmp, "regress");
    const c = [-2, -1, 0.5, 1, 1.5]; // sums to 0, so the unknown constant cancels
    await createTinyPackage(dir, { backbone, model: TINY_MODEL_OPTIONS, kind: "regress", coefficients: c, bias: [3] });
    const head = await createEmbeddedHead({ package: dir, gpu: false, threads: TINY_MODEL_THREADS, contextSize: 512 });
    try {
      const scores = await head.score(prompts);
      for (const [p, s] of scores.entries()) {
        const expected = 3 + c.reduce((sum, k, i) => sum + k * reference[p]![i]!, 0);
        expect(s.logits).toHaveLength(1);
        expect(Math.abs(s.logits[0]! - expected)).toBeLessThan(TOLERANCE * 10);
        expect(headVerdict(s.logits, head.output).score).toBe(Math.round(Math.min(5, Math.max(1, expected)) * 1e4) / 1e4);
      }
    } finally {
      await head.dispose();
    }
  });

  it("parallel 3: prompts evaluated together in shared batches give the one-at-a-time logits", async () => {
    const dir = join(tmp, "parallel");
    await createTinyPackage(dir, { backbone, model: TINY_MODEL_OPTIONS, kind: "classify" });
    const one = await createEmbeddedHead({ package: dir, gpu: false, threads: TINY_MODEL_THREADS, contextSize: 512, parallel: 1 });
    let alone: number[][];
    try {
      expect(one.concurrency).toBe(1);
      alone = (await one.score(prompts)).map((s) => s.logits);
    } finally {
      await one.dispose();
    }
    const three = await createEmbeddedHead({ package: dir, gpu: false, threads: TINY_MODEL_THREADS, contextSize: 512, parallel: 3 });
    try {
      expect(three.concurrency).toBe(3);
      expect(three.settings).toMatch(/parallel 3 \(--parallel\)/);
      // One round of three, then the same prompts in another order and as separate callers (each
      // sequence now holds a prompt, so prefix reuse picks and trims them), then a round of one.
      const together = await three.score(prompts);
      const reordered = await Promise.all([2, 0, 1].map(async (i) => ({ i, s: (await three.score([prompts[i]!]))[0]! })));
      const single = await three.score([prompts[1]!]);
      const close = (a: number[], b: number[]) => a.forEach((x, k) => expect(Math.abs(x - b[k]!)).toBeLessThan(TOLERANCE));
      together.forEach((s, p) => close(s.logits, alone[p]!));
      for (const { i, s } of reordered) close(s.logits, alone[i]!);
      close(single[0]!.logits, alone[1]!);
      expect(together.map((s) => s.promptTokens)).toEqual(reordered.sort((a, b) => a.i - b.i).map((r) => r.s.promptTokens));
    } finally {
      await three.dispose();
    }
  });

  it("refuses a head whose width is not the backbone's", async () => {
    const dir = join(tmp, "wide");
    await createTinyPackage(dir, { backbone, model: { ...TINY_MODEL_OPTIONS, embeddingLength: 64 }, kind: "classify" });
    await expect(createEmbeddedHead({ package: dir, gpu: false, threads: TINY_MODEL_THREADS })).rejects.toThrow(/rows of 64 values but the backbone's hidden size is 32/);
  });
});
