/**
 * Why the embedded head's forward pass costs more than a generative judge's prompt evaluation on the
 * same backbone: the same prompt tokens (same count, threads and batch size, a fresh sequence each
 * time) evaluated in (a) a generation context and (b) the head's embedding context (`_embeddings:
 * true`, as src/heads/embedded.ts makes it), repeats interleaved a/b/a/b so drift on a busy machine
 * hits both alike. Prints ms per prompt for each and the ratio b/a. (c) is the generation context
 * again with every token an output (controlledEvaluate asking each position for its greedy next token):
 * the embedding context's work without embeddings, plus a greedy pick per token.
 *
 * The cause (llama.cpp at the source node-llama-cpp 3.21.1 builds, src/llama-context.cpp
 * llama_context::decode): `const bool output_all = cparams.embeddings;` every token of every batch is
 * an output in an embedding context, so the last block's FFN, the output norm and the LM head run
 * over all prompt tokens, and all their logits (n_vocab floats each) are copied out, where a
 * generation context computes them for the last token only. The estimate printed beside the figures
 * is that extra work as a share of the prompt's matmul work.
 *
 *   npm run bench:build && node build/bench/head-eval-overhead.js [tokens] [--repeats n] [--threads n] [--batch n] [--shape 0.5b|tiny]
 */
import { readFileSync } from "node:fs";
import { getLlama, type LlamaContext, type LlamaContextSequence, type LlamaModel, type Token } from "node-llama-cpp";
import { defaultThreads } from "../src/backends/embedded.js";
import { benchModel } from "./bench-model.js";

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
};
const repeats = Number(flag("--repeats") ?? 4);
const threadsFlag = flag("--threads");
const threads = threadsFlag !== undefined ? Number(threadsFlag) : defaultThreads().value;
const batchSize = Number(flag("--batch") ?? 512);
const shape = flag("--shape") ?? "0.5b";
const count = Number(args[0] ?? 480);

const { path: modelPath, dims } = await benchModel(shape);
const llama = await getLlama({ gpu: false });
const model = await llama.loadModel({ modelPath });

// `count` tokens of ordinary text (BOS first), the same for both contexts.
const text = "The judge reads the instruction, the response and the rubric, then decides which score from one to five fits best and why. ";
let tokens: Token[] = model.tokenize(text.repeat(Math.ceil(count / 20) + 1), true);
tokens = tokens.slice(0, count);
if (tokens.length < count) throw new Error(`only ${tokens.length} tokens`);

async function makeContext(embeddings: boolean): Promise<LlamaContext> {
  return model.createContext({ sequences: 1, contextSize: Math.max(1024, count + 64), batchSize, threads, ...(embeddings ? { _embeddings: true } : {}) } as Parameters<LlamaModel["createContext"]>[0]);
}

const generation = await makeContext(false);
const embedding = await makeContext(true);
const sequences = { generation: generation.getSequence(), embedding: embedding.getSequence() };

async function once(sequence: LlamaContextSequence, context: LlamaContext, readEmbedding: boolean): Promise<number> {
  await sequence.clearHistory();
  const started = performance.now();
  for await (const _ of sequence.evaluate(tokens, { _noSampling: true } as Parameters<LlamaContextSequence["evaluate"]>[1])) break;
  if (readEmbedding) (context as unknown as { _ctx: { getEmbedding(n: number): Float64Array } })._ctx.getEmbedding(tokens.length);
  return performance.now() - started;
}

const load = () => readFileSync("/proc/loadavg", "utf8").trim();

// The extra matmul work of (b) per prompt, as a share of the prompt's: LM head (vocab x width) and
// the last block's FFN for every token but the last, against every block's weights for every token.
const vocab = Number((model.fileInfo.metadata as unknown as { llama?: { vocab_size?: number } }).llama?.vocab_size ?? 32000);
const w = dims.embeddingLength, kv = (w / dims.headCount) * dims.headCountKv, ff = dims.feedForwardLength;
const perBlock = w * w * 2 + w * kv * 2 + 3 * w * ff;
const extra = (count - 1) * (vocab * w + 3 * w * ff);
const base = count * (dims.blockCount * perBlock) + vocab * w;
console.log(`model ${modelPath} (${shape}), ${tokens.length} prompt tokens, threads ${threads}, batch ${batchSize}, ${repeats} repeats interleaved; load ${load()}`);
console.log(`estimate: the embedding context's extra matmul work (LM head + last FFN over ${count - 1} more tokens) is ${((100 * extra) / base).toFixed(1)}% of a prompt's, plus ${(((count - 1) * vocab * 4) / 2 ** 20).toFixed(0)} MiB of logits copied out`);

// One untimed warm-up each (buffers are allocated on the first decode).
await once(sequences.generation, generation, false);
await once(sequences.embedding, embedding, true);
async function everyOutput(): Promise<number> {
  const sequence = sequences.generation;
  await sequence.clearHistory();
  const started = performance.now();
  await sequence.controlledEvaluate(tokens.map((t) => [t, { generateNext: { token: true } }] as const));
  return performance.now() - started;
}
await everyOutput();
const times = { generation: [] as number[], embedding: [] as number[], everyOutput: [] as number[] };
for (let r = 0; r < repeats; r++) {
  times.generation.push(await once(sequences.generation, generation, false));
  times.embedding.push(await once(sequences.embedding, embedding, true));
  times.everyOutput.push(await everyOutput());
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const min = (xs: number[]) => Math.min(...xs);
const runs = (xs: number[]) => xs.map((t) => t.toFixed(0)).join(", ");
console.log(`(a) generation context: ${min(times.generation).toFixed(0)} ms per prompt (fastest), median ${median(times.generation).toFixed(0)}; runs ${runs(times.generation)}`);
console.log(`(b) embedding context:  ${min(times.embedding).toFixed(0)} ms per prompt (fastest), median ${median(times.embedding).toFixed(0)}; runs ${runs(times.embedding)}`);
console.log(`(c) generation context, every token an output: ${min(times.everyOutput).toFixed(0)} ms per prompt (fastest), median ${median(times.everyOutput).toFixed(0)}; runs ${runs(times.everyOutput)}`);
// Per pair (a then b, back to back): the ratio least hit by load that changes between pairs.
const pairs = times.generation.map((g, i) => times.embedding[i]! / g);
console.log(`ratio b/a: fastest ${(min(times.embedding) / min(times.generation)).toFixed(3)}, median ${(median(times.embedding) / median(times.generation)).toFixed(3)}, per pair ${pairs.map((p) => p.toFixed(2)).join(", ")}; c/a fastest ${(min(times.everyOutput) / min(times.generation)).toFixed(3)}; load ${load()}`);
await generation.dispose();
await embedding.dispose();
await model.dispose();
