/**
 * The one interface every backend implements (embedded GGUF, OpenAI-compatible, Ollama).
 * A backend turns chat messages into text; templating, parsing and caching live elsewhere.
 */

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface SamplingParams {
  temperature?: number;
  topP?: number;
  topK?: number;
  maxTokens?: number;
  /** Seed for reproducible sampling where the backend supports it. */
  seed?: number;
  stop?: string[];
}

export interface GenerateRequest {
  messages: ChatMessage[];
  params: SamplingParams;
  /**
   * Output constraint. `gbnf` is a llama.cpp grammar (used by the embedded backend);
   * `jsonSchema` is used by backends with structured output (Ollama `format`).
   * Backends that cannot enforce a constraint ignore it; the parser still checks the text.
   */
  constraint?: { gbnf?: string; jsonSchema?: Record<string, unknown> };
  signal?: AbortSignal;
  /**
   * Called with each piece of text as it is generated, where the backend can stream (the embedded
   * backend does); other backends never call it and return the whole text at the end.
   */
  onText?: (delta: string) => void;
  /**
   * Ask for the probability of each verdict the output could have ended with: the output ends with
   * one of `candidates` followed by `suffix` (an output grammar guarantees it). Backends that can
   * read token probabilities (embedded; OpenAI-compatible with logprobs) fill `distribution`.
   */
  verdict?: VerdictRequest;
  /**
   * Ask for each output token's log probability and the `top` most likely tokens at its position
   * (OpenAI's `logprobs` / `top_logprobs`; `critic serve` passes them on). Backends with
   * `tokenLogprobs` fill `logprobs`.
   */
  logprobs?: { top: number };
}

export interface VerdictRequest {
  candidates: string[];
  /** Fixed text after the verdict value (`]]` for MT-Bench), default none. */
  suffix?: string;
}

/** The verdict an output ends with (the longest candidate that fits: "10" before "0") and where it starts. */
export function verdictAtEnd(output: string, request: VerdictRequest): { candidate: string; at: number } | undefined {
  const suffix = request.suffix ?? "";
  let best: string | undefined;
  for (const c of request.candidates) if (output.endsWith(c + suffix) && (best === undefined || c.length > best.length)) best = c;
  return best === undefined ? undefined : { candidate: best, at: output.length - best.length - suffix.length };
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens served from state kept from an earlier request (not evaluated again). */
  cachedPromptTokens?: number;
}

export interface GenerateResult {
  text: string;
  usage: TokenUsage;
  finishReason?: string;
  /** For a `verdict` request: each candidate's probability at the verdict position, summing to 1. */
  distribution?: Record<string, number>;
  /** For a `verdict` request the backend could not answer: why (never a made-up distribution). */
  distributionError?: string;
  /** For a `logprobs` request: one entry per output token, in order; their texts make up `text`. */
  logprobs?: TokenLogprob[];
  /** What the backend said about this call that did not stop it (an AI SDK provider's unsupported setting). */
  warnings?: string[];
}

/** One output token's log probability and its most likely alternatives, as OpenAI's `logprobs.content` holds them. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  top_logprobs?: Array<{ token: string; logprob: number }>;
}

export interface Backend {
  /** Backend kind: "embedded" | "openai" | "ollama". Part of the cache key. */
  readonly kind: string;
  /** Model identity (path, repo or server model name). Part of the cache key. */
  readonly model: string;
  /** How many requests this backend serves at once (parallel sequences or HTTP concurrency). */
  readonly concurrency: number;
  /** Whether it answers `verdict` requests with a distribution (token probabilities). */
  readonly distributions?: boolean;
  /** Whether it answers `logprobs` requests with each output token's log probability. */
  readonly tokenLogprobs?: boolean;
  /** A mode that may change answers for the same model and request (part of the cache key when set). */
  readonly variant?: string;
  generate(request: GenerateRequest): Promise<GenerateResult>;
  dispose(): Promise<void>;
}

/** An error a backend raises when retrying cannot help (bad request, auth, missing model). */
export class BackendError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = "BackendError";
  }
}

/** A call written somewhere to be answered later (a batch file), not an error of the backend. */
export class DeferredCallError extends BackendError {
  constructor(message: string) {
    super(message, false);
    this.name = "DeferredCallError";
  }
}
