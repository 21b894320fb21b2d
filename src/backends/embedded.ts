/**
 * The embedded backend: a GGUF model run in-process by llama.cpp (node-llama-cpp).
 * One context holds `parallel` sequences; each request borrows a free sequence, so records
 * are batched together by llama.cpp while each sees only its own chat.
 */
import { createHash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import { availableParallelism, freemem, loadavg } from "node:os";
import { basename, resolve } from "node:path";
import {
  getLlama,
  LlamaChat,
  LlamaLogLevel,
  resolveModelFile as resolveModelFileWithNodeLlamaCpp,
  type ChatHistoryItem,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaGrammar,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import { stableStringify } from "../util/stable-json.js";
import { outputLogprobs, verdictDistribution } from "./embedded-distribution.js";
import { BackendError, type Backend, type ChatMessage, type GenerateRequest, type GenerateResult } from "./types.js";

export interface EmbeddedBackendOptions {
  /** Path to a local .gguf file (use {@link resolveModelFile} for `hf:` specs first). */
  modelPath: string;
  /** Parallel sequences of the one context (records generated in the same batch). Default 1 on CPU, up to 8 on a GPU. */
  parallel?: number;
  /** Context tokens per sequence. Default: up to 4096, capped by the model's training context. */
  contextSize?: number;
  /** "auto" uses CUDA/Vulkan/Metal when a prebuilt binary works here; false forces the CPU. Default "auto". */
  gpu?: "auto" | false | "cuda" | "vulkan" | "metal";
  /** A LoRA adapter in GGUF form, applied to the context. */
  lora?: { path: string; scale?: number };
  /** CPU threads for evaluation (default: node-llama-cpp's choice, the math cores). */
  threads?: number;
  /**
   * Keep each sequence's tokens after a request, so the next request on it evaluates only what
   * differs from them (the system prompt and the template's head are shared by every record).
   * Default true; false clears each sequence after every request (a cold evaluation each time).
   */
  prefixReuse?: boolean;
}

export interface EmbeddedBackend extends Backend {
  readonly kind: "embedded";
  /** Tokens each sequence can hold (prompt + completion). */
  readonly contextSize: number;
  /** The GPU in use, or false on the CPU. */
  readonly gpu: string | false;
  /** Sequences generating right now. */
  readonly busy: number;
  /** Requests waiting for a free sequence. */
  readonly queued: number;
  /** The parallelism, context, threads and prefix reuse in use, and why, in one line. */
  readonly settings: string;
  dispose(): Promise<void>;
}

export async function createEmbeddedBackend(options: EmbeddedBackendOptions): Promise<EmbeddedBackend> {
  const modelPath = resolve(options.modelPath);
  await assertReadableFile(modelPath, "model");
  const loraPath = options.lora ? resolve(options.lora.path) : undefined;
  if (loraPath) await assertReadableFile(loraPath, "LoRA adapter");
  if (options.parallel !== undefined && (!Number.isInteger(options.parallel) || options.parallel < 1)) {
    throw new Error(`parallel must be a positive whole number, got ${options.parallel}`);
  }
  if (options.contextSize !== undefined && (!Number.isInteger(options.contextSize) || options.contextSize < 16)) {
    throw new Error(`contextSize must be a whole number >= 16, got ${options.contextSize}`);
  }

  const identity = await modelIdentity(modelPath, loraPath ? { path: loraPath, scale: options.lora?.scale ?? 1 } : undefined);
  const llamaLease = await acquireLlama(options.gpu ?? "auto");
  const llama = llamaLease.llama;
  let model: LlamaModel | undefined;
  let context: LlamaContext | undefined;
  let parallel: Chosen;
  let threads: Chosen | undefined;
  try {
    model = await llama.loadModel({ modelPath });
    const trainContext = model.trainContextSize;
    const wantedContext = options.contextSize ?? Math.min(4096, trainContext);
    parallel = options.parallel !== undefined ? { value: options.parallel, why: "--parallel" } : await defaultParallel(llama, model, wantedContext);
    threads = options.threads !== undefined ? { value: options.threads, why: "--threads" } : llama.gpu === false ? defaultThreads() : undefined;
    context = await model.createContext({
      sequences: parallel.value,
      // An explicit size must be honoured (or fail loudly); the default may shrink to fit memory.
      contextSize: options.contextSize ?? { min: Math.min(512, trainContext), max: Math.min(4096, trainContext) },
      ...(threads ? { threads: threads.value } : {}),
      ...(loraPath ? { lora: { adapters: [{ filePath: loraPath, scale: options.lora?.scale ?? 1 }] } } : {}),
    });
  } catch (error) {
    await context?.dispose();
    await model?.dispose();
    await llamaLease.release();
    throw new Error(`cannot load GGUF model ${modelPath}: ${(error as Error).message}`, { cause: error });
  }
  const backend = new LlamaCppBackend(llamaLease, model, context, identity, options.prefixReuse ?? true);
  backend.settings = describeSettings(backend, options, parallel, threads, context);
  return backend;
}

interface Chosen {
  value: number;
  why: string;
}

/** CPU threads: the cores other processes leave idle (a busy machine collapses with every core asked for). */
export function defaultThreads(cores = availableParallelism(), load = loadavg()[0] ?? 0): Chosen {
  const idle = Math.max(1, Math.min(cores, Math.round(cores - load)));
  return { value: idle, why: `${cores} cores, load ${load.toFixed(1)}` };
}

/**
 * Sequences: 1 on the CPU, up to 8 on a GPU, as many as a quarter of the free memory holds in KV cache
 * at the wanted context (f16 keys and values: 2 x blocks x KV width x context x 2 bytes each). On the
 * CPU decoding is compute-bound, so more sequences share the same cores and each keeps less of its
 * prefix: bench/embedded-throughput measured 1.85, 1.61, ~1.1 and 0.94 judgments/s at 1, 2, 4 and 8
 * (a 0.5B-shape Q8_0 model, Criticon prompts, prefix reuse on, 2 cores).
 */
async function defaultParallel(llama: Llama, model: LlamaModel, contextSize: number): Promise<Chosen> {
  const cap = llama.gpu === false ? 1 : 8;
  const meta = (model.fileInfo.metadata as unknown as Record<string, { block_count?: number; embedding_length?: number; attention?: { head_count?: number; head_count_kv?: number } } | undefined>)[model.fileInfo.metadata.general.architecture as string];
  const blocks = meta?.block_count, width = meta?.embedding_length, heads = meta?.attention?.head_count, kvHeads = meta?.attention?.head_count_kv ?? heads;
  if (!blocks || !width || !heads || !kvHeads) return { value: cap, why: "default" };
  const kvPerSequence = 2 * blocks * (width / heads) * kvHeads * contextSize * 2;
  const free = llama.gpu === false ? freemem() : (await llama.getVramState()).free;
  const fits = Math.floor((free / 4) / kvPerSequence);
  const value = Math.max(1, Math.min(cap, fits));
  return { value, why: `${(kvPerSequence / 2 ** 20).toFixed(1)} MiB KV cache each, ${(free / 2 ** 30).toFixed(1)} GiB ${llama.gpu === false ? "RAM" : "VRAM"} free` };
}

function describeSettings(backend: LlamaCppBackend, options: EmbeddedBackendOptions, parallel: Chosen, threads: Chosen | undefined, context: LlamaContext): string {
  const chosen = (name: string, c: Chosen) => `${name} ${c.value} (${c.why.startsWith("--") ? c.why : `chosen: ${c.why}`})`;
  const t = threads ? chosen("threads", threads) : "threads: llama.cpp's choice";
  return `embedded ${backend.gpu === false ? "CPU" : backend.gpu}: ${chosen("parallel", parallel)}, context ${context.contextSize} tokens per sequence, ${t}, prefix reuse ${options.prefixReuse === false ? "off" : "on"}`;
}

class LlamaCppBackend implements EmbeddedBackend {
  readonly kind = "embedded" as const;
  readonly distributions = true;
  readonly tokenLogprobs = true;
  /** What was chosen at start and why, one line (printed by the CLI). */
  settings = "";
  readonly variant: string | undefined;
  readonly concurrency: number;
  readonly contextSize: number;
  readonly gpu: string | false;
  private readonly slots: SequencePool;
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private disposed = false;

  constructor(
    private readonly llamaLease: LlamaLease,
    private readonly llamaModel: LlamaModel,
    private readonly context: LlamaContext,
    readonly model: string,
    private readonly prefixReuse: boolean,
  ) {
    // Reused state is evaluated in other batches than a cold prompt; llama.cpp does not promise the
    // same floating-point results, so cached answers are kept apart.
    this.variant = prefixReuse ? "prefix-reuse" : undefined;
    const sequences: LlamaContextSequence[] = [];
    while (context.sequencesLeft > 0) sequences.push(context.getSequence());
    this.slots = new SequencePool(sequences.map((sequence) => new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false })));
    this.concurrency = sequences.length;
    this.contextSize = context.contextSize;
    this.gpu = llamaLease.llama.gpu;
  }

  get busy(): number {
    return this.slots.busy;
  }

  get queued(): number {
    return this.slots.queued;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    if (this.disposed) throw new BackendError("the embedded backend was disposed", false);
    if (request.messages.length === 0) throw new BackendError("a request needs at least one message", false);
    // Take a place in the queue before any other await, so requests are served in call order.
    const chat = await this.slots.acquire(request.signal);
    try {
      const grammar = await this.grammarFor(request.constraint);
      return await this.generateOn(chat, request, grammar);
    } finally {
      try {
        // With prefix reuse LlamaChat keeps the tokens this request shares with the next one and
        // erases the rest itself; without it the next request starts from an empty sequence.
        if (!this.prefixReuse && !chat.sequence.disposed) await chat.sequence.clearHistory();
      } finally {
        this.slots.release(chat);
      }
    }
  }

  private async generateOn(chat: LlamaChat, request: GenerateRequest, grammar: LlamaGrammar | undefined): Promise<GenerateResult> {
    const history = toChatHistory(request.messages);
    const prompt = chat.chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(this.llamaModel.tokenizer);
    const promptTokens = prompt.length;
    // What LlamaChat will keep of the sequence's tokens (it re-evaluates at least the last prompt token).
    const reused = Math.min(chat.sequence.compareContextTokens(prompt).firstDifferentIndex, Math.max(0, promptTokens - 1));
    const room = this.contextSize - promptTokens;
    if (room < 1) {
      throw new BackendError(
        `the prompt is ${promptTokens} tokens but each sequence holds ${this.contextSize}; raise --context-size (or lower --parallel to free memory)`,
        false,
      );
    }
    const { params } = request;
    // Never let llama.cpp shift the context: that would silently drop part of the prompt.
    const maxTokens = Math.min(params.maxTokens ?? room, room);
    let completionTokens = 0;
    const generated: Token[] = [];
    const response = await chat.generateResponse(history, {
      maxTokens,
      ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
      ...(params.topP !== undefined ? { topP: params.topP } : {}),
      ...(params.topK !== undefined ? { topK: params.topK } : {}),
      ...(params.seed !== undefined ? { seed: params.seed } : {}),
      ...(params.stop && params.stop.length > 0 ? { customStopTriggers: params.stop } : {}),
      ...(grammar ? { grammar } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
      onToken: (tokens) => {
        completionTokens += tokens.length;
        if (request.logprobs) generated.push(...tokens);
      },
      ...(request.onText ? { onTextChunk: request.onText } : {}),
    });
    const result: GenerateResult = {
      text: response.response,
      usage: { promptTokens, completionTokens, ...(reused > 0 ? { cachedPromptTokens: reused } : {}) },
      finishReason: finishReason(response.metadata.stopReason),
    };
    if (request.verdict) {
      const read = await verdictDistribution(chat, this.llamaModel, history, response.response, request.verdict);
      if ("distribution" in read) result.distribution = read.distribution;
      else result.distributionError = read.error;
    }
    if (request.logprobs) {
      try {
        result.logprobs = await outputLogprobs(chat, this.llamaModel, prompt, generated, response.response, request.logprobs.top);
      } catch (error) {
        throw new BackendError(`cannot read the output's token probabilities: ${(error as Error).message}`, true);
      }
    }
    return result;
  }

  /** A GBNF grammar wins over a JSON schema; compiled grammars are cached by their text. */
  private async grammarFor(constraint: GenerateRequest["constraint"]): Promise<LlamaGrammar | undefined> {
    const llama = this.llamaLease.llama;
    if (constraint?.gbnf !== undefined) {
      const gbnf = constraint.gbnf;
      return this.cachedGrammar(`gbnf:${gbnf}`, () => llama.createGrammar({ grammar: gbnf }), `invalid GBNF grammar`, gbnf);
    }
    if (constraint?.jsonSchema !== undefined) {
      const text = stableStringify(constraint.jsonSchema);
      return this.cachedGrammar(
        `json:${text}`,
        () => llama.createGrammarForJsonSchema(constraint.jsonSchema as never),
        "unsupported JSON schema (llama.cpp grammars cover a subset of JSON Schema)",
        text,
      );
    }
    return undefined;
  }

  private cachedGrammar(key: string, compile: () => Promise<LlamaGrammar>, problem: string, source: string): Promise<LlamaGrammar> {
    let compiled = this.grammars.get(key);
    if (!compiled) {
      compiled = Promise.resolve().then(compile).catch((error: unknown) => {
        this.grammars.delete(key);
        throw new BackendError(`${problem}: ${(error as Error).message}\n${source}`, false);
      });
      this.grammars.set(key, compiled);
    }
    return compiled;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.slots.close(new BackendError("the embedded backend was disposed", false));
    // Context before model before llama: each holds native memory owned by the next.
    await this.context.dispose();
    await this.llamaModel.dispose();
    await this.llamaLease.release();
  }
}

export function toChatHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((message): ChatHistoryItem => {
    switch (message.role) {
      case "system":
        return { type: "system", text: message.content };
      case "user":
        return { type: "user", text: message.content };
      case "assistant":
        return { type: "model", response: [message.content] };
    }
  });
  const last = history.at(-1);
  // A trailing assistant message is a prefix to continue; otherwise open an empty model turn.
  if (last?.type !== "model") history.push({ type: "model", response: [] });
  return history;
}

function finishReason(stopReason: string): string {
  switch (stopReason) {
    case "maxTokens":
      return "length";
    case "abort":
      return "abort";
    default:
      return "stop";
  }
}

/** Hands out free chats (one per sequence) first come, first served. */
class SequencePool {
  private readonly waiting: Array<{ resolve: (chat: LlamaChat) => void; reject: (error: unknown) => void }> = [];
  private closedWith: unknown;

  private readonly size: number;

  constructor(private readonly free: LlamaChat[]) {
    this.size = free.length;
  }

  get busy(): number {
    return this.size - this.free.length;
  }

  get queued(): number {
    return this.waiting.length;
  }

  acquire(signal?: AbortSignal): Promise<LlamaChat> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    signal?.throwIfAborted();
    const chat = this.free.pop();
    if (chat) return Promise.resolve(chat);
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (c: LlamaChat) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(c);
        },
        reject,
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  release(chat: LlamaChat): void {
    const next = this.waiting.shift();
    if (next) next.resolve(chat);
    else this.free.push(chat);
  }

  close(reason: unknown): void {
    this.closedWith = reason;
    for (const waiter of this.waiting.splice(0)) waiter.reject(reason);
  }
}

// One Llama (native backend) per GPU setting per process, shared by every embedded backend and
// freed when the last one is disposed.
export interface LlamaLease {
  llama: Llama;
  release(): Promise<void>;
}
const llamas = new Map<string, { llama: Promise<Llama>; users: number }>();

export async function acquireLlama(gpu: NonNullable<EmbeddedBackendOptions["gpu"]>): Promise<LlamaLease> {
  const key = String(gpu);
  let entry = llamas.get(key);
  if (!entry) {
    // build "never": use the prebuilt binaries shipped with node-llama-cpp; never compile or download at run time.
    const llama = getLlama({ gpu, build: "never", skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.error });
    entry = { llama, users: 0 };
    llamas.set(key, entry);
    llama.catch(() => llamas.delete(key));
  }
  entry.users++;
  const current = entry;
  let llama: Llama;
  try {
    llama = await current.llama;
  } catch (error) {
    current.users--;
    throw new Error(`cannot start llama.cpp (gpu: ${key}): ${(error as Error).message}`, { cause: error });
  }
  let released = false;
  return {
    llama,
    async release() {
      if (released) return;
      released = true;
      current.users--;
      if (current.users === 0 && llamas.get(key) === current) {
        llamas.delete(key);
        await llama.dispose();
      }
    },
  };
}

export async function assertReadableFile(path: string, what: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new Error(`${what} file not found: ${path}`);
  }
  if (!info.isFile()) throw new Error(`${what} path is not a file: ${path}`);
}

/**
 * A path-independent identity for the cache key: the file name plus a hash of the size and
 * 1 MiB samples spread across the file (a few MiB of reading, even for a 40 GB model).
 * Retrained or requantized weights differ in every sample; moving the file keeps the key.
 */
export async function modelIdentity(modelPath: string, lora?: { path: string; scale: number }): Promise<string> {
  let identity = `${basename(modelPath)}@${await fileFingerprint(modelPath)}`;
  if (lora) identity += `+lora:${basename(lora.path)}@${await fileFingerprint(lora.path)}*${lora.scale}`;
  return identity;
}

async function fileFingerprint(path: string): Promise<string> {
  const SAMPLE = 1 << 20;
  const SAMPLES = 16;
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const hash = createHash("sha256").update(`size:${size}\n`);
    const buffer = Buffer.alloc(SAMPLE);
    const offsets = new Set<number>();
    for (let i = 0; i < SAMPLES; i++) offsets.add(Math.max(0, Math.floor(((size - SAMPLE) * i) / (SAMPLES - 1))));
    for (const offset of [...offsets].sort((a, b) => a - b)) {
      const { bytesRead } = await handle.read(buffer, 0, SAMPLE, offset);
      hash.update(buffer.subarray(0, bytesRead));
    }
    return hash.digest("hex").slice(0, 16);
  } finally {
    await handle.close();
  }
}

export interface ResolveModelFileOptions {
  /** Where downloads go (default: $CRITIC_MODELS_DIR, else node-llama-cpp's ~/.node-llama-cpp/models). */
  directory?: string;
  /** Download progress, for a progress bar. */
  onProgress?: (status: { downloadedBytes: number; totalBytes: number }) => void;
  /** How long to wait for the download host to answer before calling it offline (default 10 s). */
  connectTimeoutMs?: number;
  /** Give up when no bytes arrive for this long (default 60 s). */
  stallTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Turns an `hf:<user>/<repo>[:quant]`, `hf:<user>/<repo>/<file.gguf>` or https URL into a local
 * GGUF path, downloading it once into the models directory. A file already there is used
 * without touching the network.
 */
export async function resolveModelFile(uri: string, options: ResolveModelFileOptions = {}): Promise<string> {
  const directory = options.directory ?? process.env.CRITIC_MODELS_DIR;
  const common = { cli: false, ...(directory ? { directory } : {}) };
  let expectedPath: string | undefined;
  try {
    return await resolveModelFileWithNodeLlamaCpp(uri, { ...common, download: false });
  } catch (error) {
    // Not downloaded yet; node-llama-cpp names the file it looked for.
    expectedPath = /No model file found at "(.+)" and download is disabled/.exec((error as Error).message)?.[1];
  }
  const offline = { url: downloadUrl(uri), path: expectedPath };

  const host = /^https?:\/\//i.test(uri) ? new URL(uri).origin : huggingFaceEndpoint();
  try {
    // node-llama-cpp's downloader can wait forever on a dead network, so ask the host first.
    await fetch(host, { method: "HEAD", signal: AbortSignal.timeout(options.connectTimeoutMs ?? 10_000) });
  } catch (error) {
    throw new Error(downloadFailure(uri, `${host} cannot be reached (${describeFetchError(error)})`, offline), { cause: error });
  }

  const controller = new AbortController();
  const stallMs = options.stallTimeoutMs ?? 60_000;
  let stallTimer: NodeJS.Timeout | undefined;
  let rejectStall: (error: Error) => void = () => {};
  const stalled = new Promise<never>((_, reject) => (rejectStall = reject));
  const armStallTimer = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => {
      controller.abort();
      rejectStall(new Error(`no data for ${Math.round(stallMs / 1000)} s`));
    }, stallMs);
  };
  const onOuterAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  armStallTimer();
  try {
    return await Promise.race([
      resolveModelFileWithNodeLlamaCpp(uri, {
        ...common,
        signal: controller.signal,
        onProgress: ({ totalSize, downloadedSize }) => {
          armStallTimer();
          options.onProgress?.({ downloadedBytes: downloadedSize, totalBytes: totalSize });
        },
      }),
      stalled,
    ]);
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new Error(downloadFailure(uri, (error as Error).message, offline), { cause: error });
  } finally {
    clearTimeout(stallTimer);
    options.signal?.removeEventListener("abort", onOuterAbort);
  }
}

/** Where `hf:` models come from: node-llama-cpp honours $MODEL_ENDPOINT, then $HF_ENDPOINT (mirrors). */
function huggingFaceEndpoint(): string {
  for (const value of [process.env.MODEL_ENDPOINT, process.env.HF_ENDPOINT]) {
    if (value && /^https?:\/\//i.test(value)) return new URL(value).origin;
  }
  return "https://huggingface.co";
}

/** The file URL of `hf:<user>/<repo>/<file.gguf>` (or the URL itself); none for `hf:<user>/<repo>[:quant]`, whose file the host picks. */
function downloadUrl(uri: string): string | undefined {
  if (/^https?:\/\//i.test(uri)) return uri;
  const match = /^hf:([^/]+)\/([^/:]+)\/(.+\.gguf)$/i.exec(uri);
  if (!match) return undefined;
  const [, user, repo, file] = match;
  return `${huggingFaceEndpoint()}/${user}/${repo}/resolve/main/${file!.split("/").map(encodeURIComponent).join("/")}`;
}

function downloadFailure(uri: string, why: string, offline: { url?: string; path?: string } = {}): string {
  const fetchByHand = offline.url
    ? [
        "To use it here without a connection, download on a machine that has one",
        `  ${offline.url}`,
        offline.path
          ? `and put it at\n  ${offline.path}\n(critic looks there first), or pass the file itself: --model ./${offline.url.split("/").pop()}`
          : `and pass the file itself: --model ./${offline.url.split("/").pop()}`,
      ]
    : [];
  return [
    `cannot download the model "${uri}": ${why}.`,
    ...fetchByHand,
    "If this machine is offline, use a model you already have:",
    "  a local GGUF file:            --model ./judge.gguf",
    "  an OpenAI-compatible server:  --model openai:<name> --base-url http://127.0.0.1:8080/v1",
    "  an Ollama server:             --model ollama:<name>",
  ].join("\n");
}

function describeFetchError(error: unknown): string {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  if (err.name === "TimeoutError") return "timed out";
  return err.cause?.code ?? err.cause?.message ?? err.message;
}
