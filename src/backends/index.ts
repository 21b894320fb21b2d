import type { EmbeddedBackend, EmbeddedBackendOptions, ResolveModelFileOptions } from "./embedded.js";
import { createOllamaBackend } from "./ollama.js";
import { createOpenAIBackend } from "./openai.js";
import { parseModelSpec } from "./spec.js";
import { createAiSdkBackend, isAiSdkLanguageModel, type AiSdkLanguageModel, type AiSdkBackendOptions } from "./ai-sdk.js";
import { AI_SDK_PROVIDERS, openAiSdkModel, openAiSdkProvider } from "./ai-sdk-providers.js";
import type { Backend } from "./types.js";
import { ByteProgress } from "../util/progress.js";

export type { Backend, ChatMessage, GenerateRequest, GenerateResult, SamplingParams, TokenUsage } from "./types.js";
export { BackendError } from "./types.js";
export { createOllamaBackend, createOpenAIBackend, parseModelSpec, createAiSdkBackend, isAiSdkLanguageModel, openAiSdkModel, AI_SDK_PROVIDERS };
export type { AiSdkLanguageModel, AiSdkBackendOptions };
/** What the library takes wherever a judge goes: a model spec, a Backend, or an AI SDK language model. */
export type JudgeModel = string | Backend | AiSdkLanguageModel;
export type { EmbeddedBackend, EmbeddedBackendOptions };

// node-llama-cpp is loaded when an embedded model is first opened: the server backends, and the
// commands that use none, start without it (it took about half of critic's start-up).
export async function createEmbeddedBackend(options: EmbeddedBackendOptions): Promise<EmbeddedBackend> {
  return (await import("./embedded.js")).createEmbeddedBackend(options);
}

/** Resolves an `hf:` model spec to a local GGUF file, downloading it once. */
export async function resolveModelFile(uri: string, options: ResolveModelFileOptions = {}): Promise<string> {
  return (await import("./embedded.js")).resolveModelFile(uri, options);
}

export interface BackendOptions {
  /** OpenAI-compatible server URL (with `openai:<name>`). */
  baseURL?: string;
  /** Ollama server URL (with `ollama:<name>`). */
  host?: string;
  /** Requests in flight at once for server backends. */
  concurrency?: number;
  /** Per-request timeout for server backends. */
  timeoutMs?: number;
  /** HTTP-level retries on 429, 5xx and timeouts. */
  requestRetries?: number;
  /** Called on every HTTP-level retry (for counting and logs). */
  onRetry?: (info: { attempt: number; status?: number; delayMs: number; error: string }) => void;
  /** OpenAI-compatible: send the output grammar in the `grammar` field (llama.cpp server, critic serve). */
  sendGrammar?: boolean;
  /** OpenAI-compatible: ask for logprobs and read verdict probabilities from them. */
  logprobs?: boolean;
  /**
   * Where a backend's warnings go (default stderr, `warning: …`), each distinct one once: a server
   * that refuses logprobs (OpenAI-compatible), an AI SDK provider's call warnings (unsupported settings).
   */
  onWarning?: (message: string) => void;
  /** OpenAI-compatible: requests / tokens per minute. */
  rpm?: number;
  tpm?: number;
  /** Embedded: parallel sequences of one context. */
  parallel?: number;
  /** Embedded: context tokens per sequence. */
  contextSize?: number;
  /** Embedded: "auto" uses a GPU when there is one. */
  gpu?: "auto" | false;
  /** Embedded: CPU threads (default: node-llama-cpp's choice). */
  threads?: number;
  /** Embedded: a LoRA adapter in GGUF form. */
  lora?: { path: string; scale?: number };
}

/** HTTP retries a server backend has made so far (429, 5xx, timeouts); 0 for the embedded backend. */
export function requestRetriesOf(backend: Backend): number {
  const retries = (backend as { retries?: unknown }).retries;
  return typeof retries === "number" ? retries : 0;
}

/** Opens the backend a model spec names: `./x.gguf`, `hf:user/repo[:quant]`, `openai:name`, `ollama:name`. */
export async function openBackend(spec: string, options: BackendOptions = {}): Promise<Backend> {
  const parsed = parseModelSpec(spec);
  switch (parsed.kind) {
    case "openai":
      return createOpenAIBackend({
        model: parsed.model,
        baseURL: options.baseURL,
        concurrency: options.concurrency,
        timeoutMs: options.timeoutMs,
        maxRetries: options.requestRetries,
        onRetry: options.onRetry,
        sendGrammar: options.sendGrammar,
        logprobs: options.logprobs,
        onWarning: options.onWarning,
        rpm: options.rpm,
        tpm: options.tpm,
      });
    case "ai-sdk": {
      const opened = await openAiSdkProvider(parsed.provider, parsed.model, { ...(options.baseURL !== undefined ? { baseURL: options.baseURL } : {}) });
      return createAiSdkBackend({
        model: opened.model,
        ...(opened.batchApi ? { batchApi: opened.batchApi } : {}),
        concurrency: options.concurrency,
        timeoutMs: options.timeoutMs,
        maxRetries: options.requestRetries,
        onRetry: options.onRetry,
        logprobs: options.logprobs,
        ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      });
    }
    case "ollama":
      return createOllamaBackend({
        model: parsed.model,
        host: options.host,
        concurrency: options.concurrency,
        timeoutMs: options.timeoutMs,
        maxRetries: options.requestRetries,
        onRetry: options.onRetry,
      });
    case "embedded": {
      const modelPath = "path" in parsed ? parsed.path : await downloadWithProgress(parsed.uri);
      return createEmbeddedBackend({
        modelPath,
        parallel: options.parallel,
        contextSize: options.contextSize,
        gpu: options.gpu,
        lora: options.lora,
        threads: options.threads,
      });
    }
  }
}

/**
 * A judge given as a Backend, or as an AI SDK language model (`anthropic("claude-…")`), as a Backend.
 * Library callers may hand either wherever a model goes (judge, judgeRecords, juries, pipelines).
 */
export function asBackend(model: Backend | AiSdkLanguageModel, options: Omit<AiSdkBackendOptions, "model"> = {}): Backend {
  return isAiSdkLanguageModel(model) && !("generate" in model) ? createAiSdkBackend({ ...options, model }) : (model as Backend);
}

/** Resolves an `hf:` model to a local file, downloading it once with a progress bar. */
async function downloadWithProgress(uri: string): Promise<string> {
  let progress: ByteProgress | undefined;
  let totalBytes = 0;
  try {
    const file = await resolveModelFile(uri, {
      onProgress: (status) => {
        if (!progress) {
          // One plain line even where the bar is not drawn (CI logs), so a long pause has a reason.
          process.stderr.write(`downloading ${uri} (${(status.totalBytes / 2 ** 20).toFixed(1)} MiB)\n`);
          progress = new ByteProgress(`downloading ${uri}`, status.totalBytes);
        }
        totalBytes = status.totalBytes;
        progress.update(status.downloadedBytes);
      },
    });
    if (progress) process.stderr.write(`downloaded ${(totalBytes / 2 ** 20).toFixed(1)} MiB to ${file}\n`);
    return file;
  } finally {
    progress?.finish();
  }
}
