/**
 * The benches' model with the shape of a real small judge: a random-weight llama with Qwen2.5-0.5B's
 * dimensions (896 wide, 24 blocks, 14 heads, 2 KV heads, FFN 4864), Q8_0 weights and the public 32k
 * SentencePiece vocabulary of ../shared/models/llama-2-tiny-random.gguf. Its scores mean nothing; its
 * speed is a real model's. Made once into the OS temp folder.
 *
 * "7b" is Llama-2-7B's shape (4096 wide, 32 blocks, 32 heads and KV heads, FFN 11008) in Q4_0, the
 * same vocabulary: 6.5B parameters, a 3.4 GiB file, ~5 minutes to write on a 2-core CPU (one tensor
 * in memory at a time, the largest 0.5 GiB). For GPU runs; the 0.5b one is for CPUs.
 */
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createTinyLlama, vocabFromGguf } from "../src/gguf/tiny-llama.js";

export const BENCH_SHAPES = {
  "0.5b": { embeddingLength: 896, blockCount: 24, headCount: 14, headCountKv: 2, feedForwardLength: 4864, weightType: "q8_0" },
  "7b": { embeddingLength: 4096, blockCount: 32, headCount: 32, headCountKv: 32, feedForwardLength: 11008, weightType: "q4_0" },
  tiny: { embeddingLength: 64, blockCount: 2, headCount: 4, headCountKv: 2, feedForwardLength: 128, weightType: "q8_0" },
} as const;

export type BenchShape = keyof typeof BENCH_SHAPES;

export async function benchModel(shape: string): Promise<{ path: string; dims: (typeof BENCH_SHAPES)[BenchShape] }> {
  const dims = BENCH_SHAPES[shape as BenchShape];
  if (!dims) throw new Error(`--shape: ${Object.keys(BENCH_SHAPES).join(" or ")}`);
  const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));
  const cacheDir = join(tmpdir(), "critic-bench-models");
  mkdirSync(cacheDir, { recursive: true });
  const path = join(cacheDir, `llama-${shape}-${dims.weightType}-32k-v1.gguf`);
  if (!existsSync(path)) {
    // CRITIC_BENCH_VOCAB: a copy of it where ../shared is not beside the checkout (a GPU machine).
    const vocab = await vocabFromGguf(process.env.CRITIC_BENCH_VOCAB ?? resolve(repoRoot, "../shared/models/llama-2-tiny-random.gguf"));
    console.log(`writing ${path} (${shape}, ${dims.weightType}) once...`);
    const started = performance.now();
    const { bytes } = await createTinyLlama(path, { ...dims, vocab, chatTemplate: false, name: `critic bench ${shape} random llama`, seed: 7 });
    console.log(`wrote ${path}: ${(bytes / 2 ** 20).toFixed(0)} MiB in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  return { path, dims };
}
