/**
 * A tiny llama-architecture GGUF model with seeded random weights and a real SentencePiece-style
 * ("llama") tokenizer, so tests and the offline demo run real llama.cpp inference with no download.
 * Same options -> same bytes.
 */
import { encodeGguf, gguf, writeGguf, type GgufFile, type GgufMetadataValue, type GgufTensor, type GgufTensorType } from "./write.js";

export interface TinyLlamaOptions {
  /** PRNG seed for the weights (default 1). */
  seed?: number;
  /** n_embd (default 32). */
  embeddingLength?: number;
  /** Number of transformer blocks (default 2). */
  blockCount?: number;
  /** Attention heads (default 4); must divide embeddingLength. */
  headCount?: number;
  /** Key/value heads (default 2, grouped-query attention); must divide headCount. */
  headCountKv?: number;
  /** FFN hidden size (default 64). */
  feedForwardLength?: number;
  /** llama.context_length, the training context the model claims (default 4096). */
  contextLength?: number;
  /** Storage type of the 2-D weight matrices (default "f32"); norms are always f32, as in llama.cpp. */
  weightType?: GgufTensorType;
  /** Jinja chat template stored as tokenizer.chat_template (default ChatML); false to leave it out. */
  chatTemplate?: string | false;
  /** Another tokenizer (e.g. a real 32k SentencePiece vocabulary read from a GGUF); default the built-in one. */
  vocab?: TinyLlamaVocab;
  /** general.name (default "critic tiny random llama"). */
  name?: string;
}

/** ChatML, the format node-llama-cpp recognises as its ChatMLChatWrapper. */
export const TINY_LLAMA_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** llama.cpp token types (llama_token_type / LLAMA_TOKEN_TYPE_*). */
export const TokenType = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

export interface TinyLlamaVocab {
  tokens: string[];
  scores: number[];
  types: number[];
  unk: number;
  bos: number;
  eos: number;
  imStart: number;
  imEnd: number;
}

/** SentencePiece's word-boundary marker: a space is "▁" in the vocabulary. */
const SPACE = "\u2581";

/**
 * Words that get whole-word pieces (after a space, "▁word"), so English and judge prompts
 * tokenize into fewer tokens than one per character. Everything else still tokenizes, through
 * single characters and byte fallback.
 */
const WORDS = [
  // judge output formats and rubric vocabulary
  "Feedback", "RESULT", "SCORE", "Score", "score", "response", "Response", "instruction", "reference", "answer",
  "rubric", "criteria", "feedback", "evaluate", "quality", "helpful", "accurate", "correct", "clear", "detailed",
  "better", "worse", "good", "poor", "fair", "judge", "assistant", "user", "system", "rating",
  "integer", "between", "number", "output", "format", "should", "write", "given", "based", "strictly",
  // common English
  "the", "The", "and", "of", "to", "a", "A", "B", "in", "is", "it", "that", "for", "on", "with", "as", "was",
  "are", "be", "this", "This", "by", "or", "not", "an", "at", "from", "but", "have", "has", "its", "which",
  "you", "your", "can", "all", "more", "one", "some", "what", "how", "why", "when", "does", "do", "no",
  "yes", "very", "well", "also", "only", "each", "other", "than", "then", "there", "their", "they", "we",
  "I", "he", "she", "will", "would", "could", "about", "into", "because", "use", "make", "like", "time",
  "text", "question", "explain", "example", "information", "provides", "missing", "relevant", "complete",
];

/** Words that also get pieces without the leading "▁": they follow "[", "###" or a newline in judge formats. */
const BARE_WORDS = ["RESULT", "SCORE", "Feedback"];

/** Printable ASCII (space excluded: SentencePiece writes it as "▁"). */
const PRINTABLE = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i));

/**
 * The vocabulary: <unk>, <s>, </s>, the 256 byte-fallback tokens <0x00>..<0xFF>, the ChatML control
 * tokens, then "▁", every printable ASCII character with and without "▁", and every prefix of the
 * word pieces above (about 850 tokens in all). llama.cpp's SPM tokenizer only merges adjacent pieces whose concatenation is in the
 * vocabulary, so each word needs its whole chain of prefixes to be reachable.
 */
export function tinyLlamaVocab(): TinyLlamaVocab {
  const tokens: string[] = [];
  const scores: number[] = [];
  const types: number[] = [];
  const seen = new Set<string>();
  const add = (token: string, type: number, score = 0): number => {
    if (seen.has(token)) throw new Error(`duplicate token ${JSON.stringify(token)}`);
    seen.add(token);
    tokens.push(token);
    scores.push(score);
    types.push(type);
    return tokens.length - 1;
  };

  const unk = add("<unk>", TokenType.unknown);
  const bos = add("<s>", TokenType.control);
  const eos = add("</s>", TokenType.control);
  for (let byte = 0; byte < 256; byte++) add(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`, TokenType.byte);
  const imStart = add("<|im_start|>", TokenType.control);
  const imEnd = add("<|im_end|>", TokenType.control);

  // Normal pieces, shortest first; like SentencePiece, earlier pieces get higher merge scores.
  const pieces = new Set<string>([SPACE, ...PRINTABLE, ...PRINTABLE.map((c) => SPACE + c)]);
  const chains = [...WORDS.map((word) => SPACE + word), ...BARE_WORDS];
  for (const word of chains) for (let end = 2; end <= word.length; end++) pieces.add(word.slice(0, end));
  const ordered = [...pieces].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  ordered.forEach((piece, rank) => add(piece, TokenType.normal, -rank));

  return { tokens, scores, types, unk, bos, eos, imStart, imEnd };
}

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Approximately standard normal values: a scaled sum of four uniforms (Irwin-Hall). Only additions,
 * multiplications and Math.sqrt, which IEEE 754 rounds exactly, so every platform and Node version
 * produces the same bytes (Math.log and Math.cos carry no such guarantee).
 */
function gaussian(random: () => number): () => number {
  const scale = Math.sqrt(3); // the sum of four U(0,1) has variance 4/12
  return () => (random() + random() + random() + random() - 2) * scale;
}

/**
 * Channel 0 of the residual stream is a constant "bias" channel: every token embedding has
 * BIAS_CHANNEL_VALUE there and no layer writes to it, so the output row of a token can add a fixed
 * logit. Special, control and byte tokens get a large negative one: unconstrained sampling then
 * yields printable word pieces and runs to maxTokens instead of stopping at random, while a
 * grammar that only allows one of those tokens (EOS at its end, a byte for "\n") still gets it.
 */
const BIAS_CHANNEL_VALUE = 2;
const SUPPRESSED_LOGIT_WEIGHT = -30;
/** Target standard deviation of ordinary token logits, so sampling with temperature is varied. */
const LOGIT_STD = 3;

interface Resolved {
  seed: number;
  embd: number;
  blocks: number;
  heads: number;
  headsKv: number;
  ff: number;
  context: number;
  weightType: GgufTensorType;
  chatTemplate: string | false;
  name: string;
}

function resolve(options: TinyLlamaOptions): Resolved {
  const r: Resolved = {
    seed: options.seed ?? 1,
    embd: options.embeddingLength ?? 32,
    blocks: options.blockCount ?? 2,
    heads: options.headCount ?? 4,
    headsKv: options.headCountKv ?? 2,
    ff: options.feedForwardLength ?? 64,
    context: options.contextLength ?? 4096,
    weightType: options.weightType ?? "f32",
    chatTemplate: options.chatTemplate ?? TINY_LLAMA_CHAT_TEMPLATE,
    name: options.name ?? "critic tiny random llama",
  };
  for (const [name, value] of Object.entries({ embeddingLength: r.embd, blockCount: r.blocks, headCount: r.heads, headCountKv: r.headsKv, feedForwardLength: r.ff, contextLength: r.context })) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`tiny llama option ${name} must be a positive integer, got ${value}`);
  }
  if (!Number.isSafeInteger(r.seed)) throw new RangeError(`tiny llama option seed must be an integer, got ${r.seed}`);
  if (r.embd % r.heads !== 0) throw new RangeError(`tiny llama: embeddingLength ${r.embd} is not divisible by headCount ${r.heads}`);
  if (r.heads % r.headsKv !== 0) throw new RangeError(`tiny llama: headCount ${r.heads} is not divisible by headCountKv ${r.headsKv}`);
  if ((r.embd / r.heads) % 2 !== 0) throw new RangeError(`tiny llama: head size ${r.embd / r.heads} must be even for RoPE`);
  if (r.embd < 2) throw new RangeError("tiny llama: embeddingLength must be at least 2 (channel 0 is the bias channel)");
  return r;
}

/** llama_ftype of the weights: ALL_F32, MOSTLY_F16, MOSTLY_Q4_0, MOSTLY_Q8_0. */
const FILE_TYPE: Record<GgufTensorType, number> = { f32: 0, f16: 1, q4_0: 2, q8_0: 7 };

/**
 * The tokenizer of another llama GGUF (tokens, scores, types and special ids), for models with a
 * real-size vocabulary, e.g. the public 32k SentencePiece one of ../shared/models/llama-2-tiny-random.gguf.
 */
export async function vocabFromGguf(path: string): Promise<TinyLlamaVocab> {
  const { readGgufFileInfo } = await import("node-llama-cpp");
  const info = await readGgufFileInfo(path);
  const t = (info.metadata as { tokenizer?: { ggml?: Record<string, unknown> } }).tokenizer?.ggml;
  if (!t || t.model !== "llama" || !Array.isArray(t.tokens)) throw new Error(`${path}: no SentencePiece (llama) tokenizer in its metadata`);
  const tokens = t.tokens as string[];
  return {
    tokens,
    scores: (t.scores as number[] | undefined) ?? tokens.map(() => 0),
    types: (t.token_type as number[] | undefined) ?? tokens.map(() => TokenType.normal),
    unk: Number(t.unknown_token_id ?? 0),
    bos: Number(t.bos_token_id ?? 1),
    eos: Number(t.eos_token_id ?? 2),
    imStart: -1,
    imEnd: -1,
  };
}

/** Builds the GGUF structure (metadata and tensors) of a tiny random llama, without writing it. */
export function buildTinyLlama(options: TinyLlamaOptions = {}): GgufFile {
  const o = resolve(options);
  const vocab = options.vocab ?? tinyLlamaVocab();
  const nVocab = vocab.tokens.length;
  const headDim = o.embd / o.heads;
  const kvDim = headDim * o.headsKv;
  const normal = gaussian(mulberry32(o.seed));

  const random = (count: number, std: number): Float32Array => {
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = normal() * std;
    return data;
  };
  // Weights are made when the file is written, tensor after tensor in file order (the order the
  // seeded generator is drawn in), so a model of any size needs memory for one tensor at a time.
  // A ggml matrix [inputs, outputs] is stored one output row (of `inputs` values) after another.
  const matrix = (name: string, inputs: number, outputs: number, keepBias = false): GgufTensor => ({
    name,
    dimensions: [inputs, outputs],
    type: o.weightType,
    data: () => {
      const data = random(inputs * outputs, 1 / Math.sqrt(inputs));
      if (keepBias) data.fill(0, 0, inputs); // output row 0 writes nothing to the bias channel
      return data;
    },
  });
  const ones = (name: string): GgufTensor => ({ name, dimensions: [o.embd], type: "f32", data: new Float32Array(o.embd).fill(1) });

  const embeddings = () => {
    const data = random(nVocab * o.embd, 1);
    for (let t = 0; t < nVocab; t++) data[t * o.embd] = BIAS_CHANNEL_VALUE;
    return data;
  };

  const tensors: GgufTensor[] = [{ name: "token_embd.weight", dimensions: [o.embd, nVocab], type: o.weightType, data: embeddings }];
  for (let b = 0; b < o.blocks; b++) {
    tensors.push(
      matrix(`blk.${b}.attn_q.weight`, o.embd, o.embd),
      matrix(`blk.${b}.attn_k.weight`, o.embd, kvDim),
      matrix(`blk.${b}.attn_v.weight`, o.embd, kvDim),
      matrix(`blk.${b}.attn_output.weight`, o.embd, o.embd, true),
      matrix(`blk.${b}.ffn_gate.weight`, o.embd, o.ff),
      matrix(`blk.${b}.ffn_up.weight`, o.embd, o.ff),
      matrix(`blk.${b}.ffn_down.weight`, o.ff, o.embd, true),
      ones(`blk.${b}.attn_norm.weight`),
      ones(`blk.${b}.ffn_norm.weight`),
    );
  }
  tensors.push(ones("output_norm.weight"));

  const output = () => {
    const data = random(nVocab * o.embd, LOGIT_STD / Math.sqrt(o.embd - 1));
    for (let t = 0; t < nVocab; t++) {
      const suppressed = vocab.types[t] !== TokenType.normal;
      data[t * o.embd] = suppressed ? SUPPRESSED_LOGIT_WEIGHT : 0;
      if (suppressed) data.fill(0, t * o.embd + 1, (t + 1) * o.embd);
    }
    return data;
  };
  tensors.push({ name: "output.weight", dimensions: [o.embd, nVocab], type: o.weightType, data: output });

  const metadata: Record<string, GgufMetadataValue> = {
    "general.architecture": gguf.str("llama"),
    "general.name": gguf.str(o.name),
    "general.description": gguf.str("Random weights for testing; its output means nothing."),
    "general.file_type": gguf.u32(FILE_TYPE[o.weightType]),
    "llama.vocab_size": gguf.u32(nVocab),
    "llama.context_length": gguf.u32(o.context),
    "llama.embedding_length": gguf.u32(o.embd),
    "llama.block_count": gguf.u32(o.blocks),
    "llama.feed_forward_length": gguf.u32(o.ff),
    "llama.rope.dimension_count": gguf.u32(headDim),
    "llama.rope.freq_base": gguf.f32(10000),
    "llama.attention.head_count": gguf.u32(o.heads),
    "llama.attention.head_count_kv": gguf.u32(o.headsKv),
    "llama.attention.layer_norm_rms_epsilon": gguf.f32(1e-5),
    "tokenizer.ggml.model": gguf.str("llama"),
    "tokenizer.ggml.tokens": gguf.array("string", vocab.tokens),
    "tokenizer.ggml.scores": gguf.array("float32", vocab.scores),
    "tokenizer.ggml.token_type": gguf.array("int32", vocab.types),
    "tokenizer.ggml.unknown_token_id": gguf.u32(vocab.unk),
    "tokenizer.ggml.bos_token_id": gguf.u32(vocab.bos),
    "tokenizer.ggml.eos_token_id": gguf.u32(vocab.eos),
    ...(vocab.imEnd >= 0 ? { "tokenizer.ggml.eot_token_id": gguf.u32(vocab.imEnd) } : {}),
    "tokenizer.ggml.add_bos_token": gguf.bool(true),
    "tokenizer.ggml.add_eos_token": gguf.bool(false),
    "tokenizer.ggml.add_space_prefix": gguf.bool(true),
  };
  if (o.chatTemplate !== false) metadata["tokenizer.chat_template"] = gguf.str(o.chatTemplate);
  return { metadata, tensors };
}

/** Encodes the tiny random llama to GGUF bytes. */
export function encodeTinyLlama(options: TinyLlamaOptions = {}): Buffer {
  return encodeGguf(buildTinyLlama(options));
}

/** Writes a tiny random llama GGUF file (atomically) to `path`; returns its size in bytes. */
export async function createTinyLlama(path: string, options: TinyLlamaOptions = {}): Promise<{ path: string; bytes: number }> {
  const bytes = await writeGguf(path, buildTinyLlama(options));
  return { path, bytes };
}
