/**
 * The embedded head: a judge package's backbone run by llama.cpp (node-llama-cpp) in an embedding
 * context, and its head applied in TypeScript. llama.cpp's embedding output for a causal llama with
 * pooling NONE (the GGUF sets no pooling type) is the final hidden state after the output norm
 * (llama.cpp's "result_norm", the tensor the LM head multiplies); node-llama-cpp 3.21.1's
 * AddonContext::GetEmbedding reads llama_get_embeddings_ith(ctx, -1), the last token's. So
 * logits = W h + b is what a transformers *ForSequenceClassification model computes at the last
 * token (PHUDGE's Phi3ForSequenceClassification pools the last non-pad token).
 *
 * The prompt is rendered as the generative judge renders it (the model's chat wrapper, an open
 * assistant turn, no answer), so the last token is where a generative judge would start writing.
 * LlamaEmbeddingContext.getEmbedding would append an EOS token for tokenizers that ask for one and
 * re-evaluates the whole prompt each time; this keeps the sequence's tokens and evaluates only what
 * differs from the previous prompt (the template's head is shared by every record), as the
 * generative backend's prefix reuse does.
 *
 * With `parallel` n > 1 the context holds n sequences and up to n prompts in flight are evaluated
 * together, their tokens sharing llama.cpp decode batches. node-llama-cpp's getEmbedding reads only
 * the last output of the latest decode (llama_get_embeddings_ith(ctx, -1)), so in a round of several
 * prompts everything but each prompt's last token is evaluated together and then each last token is
 * evaluated alone, one decode each, and read straight after it: one extra one-token decode per prompt.
 *
 * An embedding context costs more than a generation context for the same tokens: llama.cpp makes every
 * token of its batches an output (llama_context::decode: `output_all = cparams.embeddings`), so the LM
 * head runs over all of them (bench/head-eval-overhead.ts: ~1.1x on the 0.5B shape). node-llama-cpp
 * 3.21.1 does not expose llama_set_embeddings, which would let the prompt's head run without outputs.
 */
import { resolveChatWrapper, type ChatWrapper, type LlamaContext, type LlamaContextSequence, type LlamaModel, type Token } from "node-llama-cpp";
import { acquireLlama, defaultThreads, modelIdentity, toChatHistory, type LlamaLease } from "../backends/embedded.js";
import type { ChatMessage } from "../backends/types.js";
import { fingerprintBytes } from "./fingerprint.js";
import { loadJudgePackage, type JudgePackage } from "./package.js";
import type { HeadModel, HeadOutput, HeadScore } from "./spec.js";

export interface EmbeddedHeadOptions {
  /** The package folder (or its judge.json). */
  package: string;
  /** Context tokens (default: up to 4096, capped by the backbone's training context). */
  contextSize?: number;
  /** CPU threads (default: the idle cores, as the generative embedded backend chooses). */
  threads?: number;
  gpu?: "auto" | false;
  /** Sequences of the one context: prompts evaluated in shared decode batches. Default 1. */
  parallel?: number;
}

/**
 * 1: on the CPU more sequences cost (bench/classifier-vs-generative.ts --head-only --parallel 1,2,4,
 * 0.5B shape, 2 threads: 0.402, 0.360, 0.309 judgments/s): prompt evaluation is compute-bound already,
 * each sequence re-evaluates the shared template head once, and each prompt in a round of several
 * pays one more decode. On a GPU it is unmeasured, so it stays 1 there too until measured.
 */
const DEFAULT_PARALLEL = 1;

interface NativeEmbeddingContext {
  getEmbedding(inputTokensLength: number, maxVectorSize?: number): Float64Array;
}

export async function createEmbeddedHead(options: EmbeddedHeadOptions): Promise<HeadModel & { readonly package: JudgePackage; hiddenStates(messages: ChatMessage[]): Promise<{ hidden: Float64Array; tokens: number }> }> {
  if (options.parallel !== undefined && (!Number.isInteger(options.parallel) || options.parallel < 1)) {
    throw new Error(`parallel must be a positive whole number, got ${options.parallel}`);
  }
  const pkg = await loadJudgePackage(options.package);
  const identity = `${await modelIdentity(pkg.backbonePath)}+head:${fingerprintBytes(pkg.weight, pkg.bias)}`;
  const lease = await acquireLlama(options.gpu ?? "auto");
  let model: LlamaModel | undefined;
  let context: LlamaContext | undefined;
  let threads: { value: number; why: string } | undefined;
  let parallel = { value: 1, why: "" };
  try {
    model = await lease.llama.loadModel({ modelPath: pkg.backbonePath });
    if (model.embeddingVectorSize !== pkg.hidden) {
      throw new Error(`the head has rows of ${pkg.hidden} values but the backbone's hidden size is ${model.embeddingVectorSize}`);
    }
    const train = model.trainContextSize;
    threads = options.threads !== undefined ? { value: options.threads, why: "--threads" } : lease.llama.gpu === false ? defaultThreads() : undefined;
    parallel = options.parallel !== undefined ? { value: options.parallel, why: "--parallel" } : { value: DEFAULT_PARALLEL, why: "default" };
    // `_embeddings` is the option LlamaEmbeddingContext._create passes (node-llama-cpp 3.21.1).
    context = await model.createContext({
      sequences: parallel.value,
      contextSize: options.contextSize ?? { min: Math.min(512, train), max: Math.min(4096, train) },
      ...(threads ? { threads: threads.value } : {}),
      _embeddings: true,
    } as Parameters<LlamaModel["createContext"]>[0]);
  } catch (error) {
    await context?.dispose();
    await model?.dispose();
    await lease.release();
    throw new Error(`cannot load the judge package ${pkg.dir}: ${(error as Error).message}`, { cause: error });
  }
  const t = threads ? `threads ${threads.value} (${threads.why.startsWith("--") ? threads.why : `chosen: ${threads.why}`})` : "threads: llama.cpp's choice";
  const settings = `embedded head ${lease.llama.gpu === false ? "CPU" : lease.llama.gpu}: ${pkg.manifest.kind} (${pkg.rows} outputs), parallel ${parallel.value} (${parallel.why}), context ${context.contextSize} tokens per sequence, ${t}, prefix reuse on`;
  return new EmbeddedHead(lease, model, context, pkg, identity, settings);
}

interface Pending {
  messages: ChatMessage[];
  resolve(value: { hidden: Float64Array; tokens: number }): void;
  reject(error: unknown): void;
}

class EmbeddedHead implements HeadModel {
  readonly kind = "embedded-head";
  readonly concurrency: number;
  readonly output: HeadOutput;
  readonly template: string;
  readonly templateOptions?: Record<string, unknown>;
  private readonly sequences: LlamaContextSequence[] = [];
  private readonly wrapper: ChatWrapper;
  private pending: Pending[] = [];
  private running: Promise<void> | undefined;
  private disposed = false;

  constructor(
    private readonly lease: LlamaLease,
    private readonly llamaModel: LlamaModel,
    private readonly context: LlamaContext,
    readonly pkg: JudgePackage,
    readonly model: string,
    readonly settings: string,
  ) {
    while (context.sequencesLeft > 0) this.sequences.push(context.getSequence());
    this.concurrency = this.sequences.length;
    this.wrapper = resolveChatWrapper(llamaModel);
    const m = pkg.manifest;
    this.output = { kind: m.kind, ...(m.labels ? { labels: m.labels } : {}), scale: m.scale };
    this.template = m.template;
    if (m.template_options) this.templateOptions = m.template_options;
  }

  get package(): JudgePackage {
    return this.pkg;
  }

  /** The prompt's tokens, rendered as the generative embedded backend renders them. */
  tokensOf(messages: ChatMessage[]): Token[] {
    return this.wrapper.generateContextState({ chatHistory: toChatHistory(messages) }).contextText.tokenize(this.llamaModel.tokenizer);
  }

  /**
   * The last token's final-norm hidden state. Prompts are taken in call order, up to `parallel` of
   * them per round (those waiting when a round starts).
   */
  hiddenStates(messages: ChatMessage[]): Promise<{ hidden: Float64Array; tokens: number }> {
    if (this.disposed) return Promise.reject(new Error("the embedded head was disposed"));
    return new Promise((resolve, reject) => {
      this.pending.push({ messages, resolve, reject });
      this.running ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        // Callers that ask in the same turn of the event loop join the round.
        if (this.pending.length < this.sequences.length) await new Promise((r) => setImmediate(r));
        await this.round(this.pending.splice(0, this.sequences.length));
      }
    } finally {
      this.running = undefined;
    }
  }

  private async round(round: Pending[]): Promise<void> {
    const jobs: Array<Pending & { tokens: Token[]; sequence: LlamaContextSequence; rest: Token[] }> = [];
    const free = [...this.sequences];
    for (const p of round) {
      try {
        if (this.disposed) throw new Error("the embedded head was disposed");
        const tokens = this.tokensOf(p.messages);
        if (tokens.length === 0) throw new Error("the prompt has no tokens");
        if (tokens.length >= this.context.contextSize) {
          throw new Error(`the prompt is ${tokens.length} tokens but the context holds ${this.context.contextSize}; raise --context-size`);
        }
        // The free sequence that already holds the longest head of this prompt.
        let best = 0, bestCommon = -1;
        free.forEach((sequence, i) => {
          const c = commonPrefix(tokens, sequence.contextTokens);
          if (c > bestCommon) (best = i), (bestCommon = c);
        });
        const [sequence] = free.splice(best, 1);
        jobs.push({ ...p, tokens, sequence: sequence!, rest: [] });
      } catch (error) {
        p.reject(error);
      }
    }
    // Everything but the last token of each prompt (one prompt: the last token too), in shared batches.
    const alone = jobs.length === 1;
    const first = await Promise.allSettled(jobs.map(async (job) => {
      job.rest = await this.keepCommonHead(job.sequence, job.tokens);
      await evaluate(job.sequence, alone ? job.rest : job.rest.slice(0, -1));
    }));
    for (const [i, job] of jobs.entries()) {
      const settled = first[i]!;
      if (settled.status === "rejected") {
        job.reject(settled.reason);
        continue;
      }
      try {
        if (!alone) await evaluate(job.sequence, job.rest.slice(-1));
        // Read straight after the decode that ended with this prompt's last token.
        job.resolve({ hidden: this.native.getEmbedding(alone ? job.rest.length : 1), tokens: job.tokens.length });
      } catch (error) {
        job.reject(error);
      }
    }
  }

  /** Erases what the sequence holds past the prompt's common head; returns the tokens left to evaluate. */
  private async keepCommonHead(sequence: LlamaContextSequence, tokens: Token[]): Promise<Token[]> {
    // The last token is always evaluated again: its hidden state is what is read.
    const common = Math.min(commonPrefix(tokens, sequence.contextTokens), tokens.length - 1);
    if (common < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: common, end: sequence.nextTokenIndex }]);
    return tokens.slice(common);
  }

  private get native(): NativeEmbeddingContext {
    return (this.context as unknown as { _ctx: NativeEmbeddingContext })._ctx;
  }

  async score(prompts: ChatMessage[][]): Promise<HeadScore[]> {
    const states = await Promise.all(prompts.map((messages) => this.hiddenStates(messages)));
    return states.map(({ hidden, tokens }) => ({ logits: applyHead(this.pkg, hidden), promptTokens: tokens }));
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    while (this.running) await this.running;
    await this.context.dispose();
    await this.llamaModel.dispose();
    await this.lease.release();
  }
}

function commonPrefix(a: readonly Token[], b: readonly Token[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

async function evaluate(sequence: LlamaContextSequence, tokens: Token[]): Promise<void> {
  if (tokens.length === 0) return;
  for await (const _ of sequence.evaluate(tokens, { _noSampling: true } as Parameters<LlamaContextSequence["evaluate"]>[1])) break;
}

/** logits = W h + b, in double precision. */
export function applyHead(pkg: Pick<JudgePackage, "weight" | "bias" | "rows" | "hidden">, hidden: ArrayLike<number>): number[] {
  if (hidden.length !== pkg.hidden) throw new Error(`hidden state of ${hidden.length} values for a head of width ${pkg.hidden}`);
  const logits: number[] = [];
  for (let r = 0; r < pkg.rows; r++) {
    let sum = pkg.bias ? pkg.bias[r]! : 0;
    const offset = r * pkg.hidden;
    for (let i = 0; i < pkg.hidden; i++) sum += pkg.weight[offset + i]! * hidden[i]!;
    logits.push(sum);
  }
  return logits;
}
