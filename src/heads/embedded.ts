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
}

interface NativeEmbeddingContext {
  getEmbedding(inputTokensLength: number, maxVectorSize?: number): Float64Array;
}

export async function createEmbeddedHead(options: EmbeddedHeadOptions): Promise<HeadModel & { readonly package: JudgePackage; hiddenStates(messages: ChatMessage[]): Promise<{ hidden: Float64Array; tokens: number }> }> {
  const pkg = await loadJudgePackage(options.package);
  const identity = `${await modelIdentity(pkg.backbonePath)}+head:${fingerprintBytes(pkg.weight, pkg.bias)}`;
  const lease = await acquireLlama(options.gpu ?? "auto");
  let model: LlamaModel | undefined;
  let context: LlamaContext | undefined;
  let threads: { value: number; why: string } | undefined;
  try {
    model = await lease.llama.loadModel({ modelPath: pkg.backbonePath });
    if (model.embeddingVectorSize !== pkg.hidden) {
      throw new Error(`the head has rows of ${pkg.hidden} values but the backbone's hidden size is ${model.embeddingVectorSize}`);
    }
    const train = model.trainContextSize;
    threads = options.threads !== undefined ? { value: options.threads, why: "--threads" } : lease.llama.gpu === false ? defaultThreads() : undefined;
    // `_embeddings` is the option LlamaEmbeddingContext._create passes (node-llama-cpp 3.21.1).
    context = await model.createContext({
      sequences: 1,
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
  const settings = `embedded head ${lease.llama.gpu === false ? "CPU" : lease.llama.gpu}: ${pkg.manifest.kind} (${pkg.rows} outputs), context ${context.contextSize} tokens, ${t}, prefix reuse on`;
  return new EmbeddedHead(lease, model, context, pkg, identity, settings);
}

class EmbeddedHead implements HeadModel {
  readonly kind = "embedded-head";
  readonly concurrency = 1;
  readonly output: HeadOutput;
  readonly template: string;
  readonly templateOptions?: Record<string, unknown>;
  private readonly sequence: LlamaContextSequence;
  private readonly wrapper: ChatWrapper;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(
    private readonly lease: LlamaLease,
    private readonly llamaModel: LlamaModel,
    private readonly context: LlamaContext,
    readonly pkg: JudgePackage,
    readonly model: string,
    readonly settings: string,
  ) {
    this.sequence = context.getSequence();
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

  /** The last token's final-norm hidden state. Prompts are evaluated one at a time, in call order. */
  hiddenStates(messages: ChatMessage[]): Promise<{ hidden: Float64Array; tokens: number }> {
    const run = this.queue.then(() => this.evaluate(messages));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async evaluate(messages: ChatMessage[]): Promise<{ hidden: Float64Array; tokens: number }> {
    if (this.disposed) throw new Error("the embedded head was disposed");
    const tokens = this.tokensOf(messages);
    if (tokens.length === 0) throw new Error("the prompt has no tokens");
    if (tokens.length >= this.context.contextSize) {
      throw new Error(`the prompt is ${tokens.length} tokens but the context holds ${this.context.contextSize}; raise --context-size`);
    }
    const held = this.sequence.contextTokens;
    let common = 0;
    while (common < tokens.length && common < held.length && tokens[common] === held[common]) common++;
    // The last token is always evaluated again: its hidden state is what is read.
    common = Math.min(common, tokens.length - 1);
    if (common < this.sequence.nextTokenIndex) await this.sequence.eraseContextTokenRanges([{ start: common, end: this.sequence.nextTokenIndex }]);
    const rest = tokens.slice(common);
    for await (const _ of this.sequence.evaluate(rest, { _noSampling: true } as Parameters<LlamaContextSequence["evaluate"]>[1])) break;
    const native = (this.context as unknown as { _ctx: NativeEmbeddingContext })._ctx;
    return { hidden: native.getEmbedding(rest.length), tokens: tokens.length };
  }

  async score(prompts: ChatMessage[][]): Promise<HeadScore[]> {
    const out: HeadScore[] = [];
    for (const messages of prompts) {
      const { hidden, tokens } = await this.hiddenStates(messages);
      out.push({ logits: applyHead(this.pkg, hidden), promptTokens: tokens });
    }
    return out;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue;
    await this.context.dispose();
    await this.llamaModel.dispose();
    await this.lease.release();
  }
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
