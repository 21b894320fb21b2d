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
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface GenerateResult {
  text: string;
  usage: TokenUsage;
  finishReason?: string;
}

export interface Backend {
  /** Backend kind: "embedded" | "openai" | "ollama". Part of the cache key. */
  readonly kind: string;
  /** Model identity (path, repo or server model name). Part of the cache key. */
  readonly model: string;
  /** How many requests this backend serves at once (parallel sequences or HTTP concurrency). */
  readonly concurrency: number;
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
