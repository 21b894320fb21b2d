/**
 * Offline batch files in OpenAI's Batch API format (also what vLLM's `run-batch` reads and writes),
 * so any engine or cluster job can do the generation:
 * - `--batch-file requests.jsonl` writes one request line per call the run would make
 *   (`custom_id` = the call's cache key, `method`, `url`, `body`), skipping calls already in the run
 *   store, and judges nothing;
 * - `--batch-results results.jsonl` stores each successful result line under its `custom_id`, so the
 *   run that follows answers those calls from the store; failed lines, and outputs that do not parse
 *   (retried with new samples), are called live.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { readRecords } from "../records/read.js";
import { callKey, type RunStore } from "../store/run-store.js";
import { chatCompletionBody } from "../backends/openai.js";
import { DeferredCallError, type Backend, type GenerateRequest, type GenerateResult } from "../backends/types.js";
import { redactSecrets } from "../util/redact.js";

export const BATCH_DEFERRED = "written to the batch file";

/** A Backend that writes each request as a batch line instead of sending it. */
export interface BatchRecorder extends Backend {
  readonly written: number;
  close(): Promise<void>;
}

/** What a stand-in for `target` must share with it so that its calls have the live run's cache keys. */
export function identityOf(target: Backend): Pick<Backend, "kind" | "model" | "concurrency" | "variant" | "distributions"> {
  return {
    kind: target.kind,
    model: target.model,
    concurrency: target.concurrency,
    ...(target.variant !== undefined ? { variant: target.variant } : {}),
    ...(target.distributions ? { distributions: true } : {}),
  };
}

/**
 * Stands in for `target` (same kind, model and variant, so the cache keys are the ones a live run
 * computes) and appends every request to `file`.
 */
export function createBatchRecorder(target: Backend, file: string, options: { sendGrammar?: boolean; logprobs?: boolean } = {}): BatchRecorder {
  const out: WriteStream = createWriteStream(file);
  let written = 0;
  // A call already written (the same prompt in two records) is not written again: the Batch API
  // wants each custom_id once, and each line is paid for.
  const keys = new Set<string>();
  // One wait for the stream to drain, shared by every call that found it full (not one listener each).
  let drained: Promise<void> | undefined;
  return {
    ...identityOf(target),
    get written() {
      return written;
    },
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      const key = callKey({
        backend: target.kind,
        model: target.model,
        ...(target.variant ? { variant: target.variant } : {}),
        messages: request.messages,
        params: request.params,
        constraint: request.constraint,
        ...(request.verdict ? { verdict: request.verdict } : {}),
      });
      if (keys.has(key)) throw new DeferredCallError(BATCH_DEFERRED);
      keys.add(key);
      const line = { custom_id: key, method: "POST", url: "/v1/chat/completions", body: chatCompletionBody(target.model, request, options) };
      if (!out.write(`${JSON.stringify(line)}\n`)) {
        drained ??= once(out, "drain").then(() => {
          drained = undefined;
        });
        await drained;
      }
      written++;
      throw new DeferredCallError(BATCH_DEFERRED);
    },
    close: () => new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve()))),
    dispose: async () => {},
  };
}

export interface BatchResultsSummary {
  loaded: number;
  failed: number;
  /** The first failures' ids and reasons, for the summary. */
  examples: Array<{ custom_id: string; reason: string }>;
  /** Tokens of the stored results (what the batch cost). */
  promptTokens: number;
  completionTokens: number;
}

export function emptyResultsSummary(): BatchResultsSummary {
  return { loaded: 0, failed: 0, examples: [], promptTokens: 0, completionTokens: 0 };
}

/** Counts a results line that gave no answer, keeping the first few as examples for the summary. */
export function recordFailedLine(summary: BatchResultsSummary, id: string, reason: string): void {
  summary.failed++;
  if (summary.examples.length < 5) summary.examples.push({ custom_id: id, reason: redactSecrets(reason) });
}

/**
 * Stores one line of a Batch API output or error file in the run store under its custom_id, when it
 * holds a completion; otherwise counts it as failed, with its reason.
 */
export function storeResultLine(record: Record<string, unknown>, store: RunStore, summary: BatchResultsSummary): void {
  const id = typeof record.custom_id === "string" ? record.custom_id : undefined;
  if (!id) {
    recordFailedLine(summary, "(none)", "a line without custom_id");
    return;
  }
  const response = record.response as { status_code?: number; body?: { choices?: Array<{ message?: { content?: string }; finish_reason?: string }>; usage?: { prompt_tokens?: number; completion_tokens?: number } } } | null | undefined;
  const error = record.error as { message?: string } | null | undefined;
  const choice = response?.body?.choices?.[0];
  if (error || !response || response.status_code !== 200 || typeof choice?.message?.content !== "string") {
    recordFailedLine(summary, id, error?.message ?? `status ${response?.status_code ?? "missing"}`);
    return;
  }
  const usage = { promptTokens: response.body?.usage?.prompt_tokens ?? 0, completionTokens: response.body?.usage?.completion_tokens ?? 0 };
  store.putCall(id, { text: choice.message.content, usage, ...(choice.finish_reason ? { finishReason: choice.finish_reason } : {}), latencyMs: 0 });
  summary.loaded++;
  summary.promptTokens += usage.promptTokens;
  summary.completionTokens += usage.completionTokens;
}

/** Stores the successful lines of a batch results file in the run store, keyed by custom_id. */
export async function loadBatchResults(file: string, store: RunStore): Promise<BatchResultsSummary> {
  const summary = emptyResultsSummary();
  for await (const { record } of readRecords(file, { format: "jsonl", onReject: (r) => recordFailedLine(summary, `line ${r.line}`, r.reason) })) storeResultLine(record, store, summary);
  return summary;
}
