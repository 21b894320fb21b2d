/**
 * `--batch` through an AI SDK provider's batch API (`provider.experimental_batch()`: Anthropic Message
 * Batches, Gemini batches): the same request lines critic writes for OpenAI's Batch API are sent as
 * AI SDK text batch requests, each under its call key, and the answers are stored in the run store
 * under that key, so the judging pass reads them as it reads OpenAI batch results. A batch is
 * recorded in the run store before it is created and its id as soon as it is known; the next run
 * re-attaches to it instead of sending the lines again.
 */
import { readRecords } from "../records/read.js";
import type { RunStore } from "../store/run-store.js";
import { emptyResultsSummary, recordFailedLine } from "../judge/batch-file.js";
import { BatchWaitInterrupted, pollWait, splitRequests, BATCH_MAX_BYTES, type BatchApiOptions, type BatchRound } from "../judge/batch-api.js";
import { redactError, redactSecrets } from "../util/redact.js";
import type { AiSdkCallOptions } from "./ai-sdk.js";

/** What critic needs of an AI SDK `BatchV4` (the `@ai-sdk/provider` type, written out). */
export interface AiSdkBatchApi {
  readonly provider: string;
  doStartBatch(options: { requests: Array<{ type: "text"; id: string; modelId: string; options: Omit<AiSdkCallOptions, "abortSignal"> }> }): PromiseLike<{ batchId: string; status: string }>;
  doGetBatchStatus(options: { batchId: string }): PromiseLike<AiSdkBatchStatus>;
  doGetBatchResults(options: { batchId: string }): PromiseLike<ReadableStream<AiSdkBatchItem>>;
}

export interface AiSdkBatchStatus {
  status: "pending" | "completed" | "failed";
  rawStatus?: string;
  requestCounts?: { total: number; pending: number; completed: number; failed: number };
  error?: { message: string };
}

type AiSdkBatchItem =
  | { id: string; status: "succeeded"; result: { content: Array<{ type: string; text?: string }>; finishReason: string | { unified: string }; usage: { inputTokens: number | { total: number | undefined } | undefined; outputTokens: number | { total: number | undefined } | undefined } } }
  | { id: string; status: "failed" | "cancelled" | "expired"; error?: { message: string } };

interface ChatLine {
  custom_id: string;
  body: { messages: Array<{ role: "system" | "user" | "assistant"; content: string }>; max_tokens?: number; temperature?: number; top_p?: number; top_k?: number; seed?: number; stop?: string[] };
}

/** An OpenAI Batch API request line as an AI SDK text batch request. */
function textRequest(line: ChatLine, modelId: string): { type: "text"; id: string; modelId: string; options: Omit<AiSdkCallOptions, "abortSignal"> } {
  const b = line.body;
  return {
    type: "text",
    id: line.custom_id,
    modelId,
    options: {
      prompt: b.messages.map((m) => (m.role === "system" ? { role: "system", content: m.content } : { role: m.role, content: [{ type: "text", text: m.content }] })),
      ...(b.max_tokens !== undefined ? { maxOutputTokens: b.max_tokens } : {}),
      ...(b.temperature !== undefined ? { temperature: b.temperature } : {}),
      ...(b.top_p !== undefined ? { topP: b.top_p } : {}),
      ...(b.top_k !== undefined ? { topK: b.top_k } : {}),
      ...(b.seed !== undefined ? { seed: b.seed } : {}),
      ...(b.stop && b.stop.length > 0 ? { stopSequences: b.stop } : {}),
    },
  };
}

const count = (v: number | { total: number | undefined } | undefined): number => (typeof v === "number" ? v : v?.total ?? 0);

export interface AiSdkBatchOptions extends Omit<BatchApiOptions, "baseURL" | "apiKey"> {
  batchApi: AiSdkBatchApi;
  /** The model id the requests name (the provider's own, without its prefix). */
  modelId: string;
  /** Where these batches live, as the run store keys them (`anthropic` plus its base URL). */
  server: string;
}

/** Sends the request lines of `file` as AI SDK batches (or re-attaches to open ones) and stores their results. */
export async function runAiSdkBatches(file: string, store: RunStore, options: AiSdkBatchOptions): Promise<BatchRound> {
  try {
    return await sendBatches(file, store, options);
  } catch (error) {
    if (error instanceof BatchWaitInterrupted) throw error;
    throw redactError(error);
  }
}

async function sendBatches(file: string, store: RunStore, options: AiSdkBatchOptions): Promise<BatchRound> {
  const { batchApi } = options;
  const log = (line: string) => options.log?.(redactSecrets(line));
  const chunks = await splitRequests(file, options.maxRequests ?? 10_000, options.maxBytes ?? BATCH_MAX_BYTES);
  const open: Array<{ rowid: number; id: string; requests: number; status: string; reattached: boolean }> = [];
  for (const chunk of chunks) {
    const found = store.openBatch(chunk.hash, options.server);
    if (found?.batchId) {
      log(`batch ${found.batchId}: re-attached (${found.requests} requests, sent earlier)`);
      open.push({ rowid: found.rowid, id: found.batchId, requests: found.requests, status: found.status ?? "pending", reattached: true });
      continue;
    }
    if (found) {
      // Killed between sending the batch and recording its id: these providers keep no metadata to find it by.
      log(`warning: a batch of these ${found.requests} requests may have been created by a run that stopped before recording its id; sending them again`);
    }
    const requests: ReturnType<typeof textRequest>[] = [];
    for await (const { record } of readRecords(chunk.file, { format: "jsonl" })) requests.push(textRequest(record as unknown as ChatLine, options.modelId));
    const record = found ?? store.addBatch({ hash: chunk.hash, baseURL: options.server, model: options.model, output: options.output, requests: chunk.lines, inputFileId: `${batchApi.provider} batch` });
    // Sent once: a lost reply is not sent again (a second batch would be billed and tracked nowhere).
    const started = await batchApi.doStartBatch({ requests });
    store.updateBatch(record.rowid, { batchId: started.batchId, status: started.status });
    log(`batch ${started.batchId}: created with ${chunk.lines} requests`);
    open.push({ rowid: record.rowid, id: started.batchId, requests: chunk.lines, status: started.status, reattached: false });
  }

  const results = emptyResultsSummary();
  const seen = new Map<string, string>();
  const pending = new Set(open.map((o) => o.id));
  while (pending.size > 0) {
    for (const entry of open) {
      if (!pending.has(entry.id)) continue;
      const status = await batchApi.doGetBatchStatus({ batchId: entry.id });
      entry.status = status.rawStatus ?? status.status;
      const counts = status.requestCounts;
      const line = `batch ${entry.id}: ${entry.status}${counts ? ` ${counts.completed}/${counts.total} done${counts.failed ? `, ${counts.failed} failed` : ""}` : ""}`;
      if (seen.get(entry.id) !== line) log(line);
      seen.set(entry.id, line);
      store.updateBatch(entry.rowid, { status: entry.status, info: { request_counts: counts ?? null, errors: status.error ? redactSecrets(status.error.message) : null } });
      if (status.status === "pending") continue;
      pending.delete(entry.id);
      if (status.status === "completed") {
        const reader = (await batchApi.doGetBatchResults({ batchId: entry.id })).getReader();
        for (;;) {
          const { done, value: item } = await reader.read();
          if (done) break;
          storeItem(item, store, results);
        }
      } else {
        log(`batch ${entry.id}: ${entry.status} (${status.error?.message ?? "failed"}); its calls without a result are sent again`);
      }
      // Its answers on disk before the batch is marked loaded: a kill -9 now must not lose them.
      store.flush();
      store.updateBatch(entry.rowid, { loaded: true });
    }
    if (pending.size > 0) await pollWait(options.pollIntervalMs ?? 30_000, options.signal);
  }
  return { batches: open.map((o) => ({ id: o.id, status: o.status, requests: o.requests, reattached: o.reattached })), results };
}

function storeItem(item: AiSdkBatchItem, store: RunStore, summary: ReturnType<typeof emptyResultsSummary>): void {
  if (item.status !== "succeeded") {
    recordFailedLine(summary, item.id, item.error?.message ?? item.status);
    return;
  }
  const text = item.result.content.flatMap((p) => (p.type === "text" && typeof p.text === "string" ? [p.text] : [])).join("");
  const usage = { promptTokens: count(item.result.usage.inputTokens), completionTokens: count(item.result.usage.outputTokens) };
  const finishReason = typeof item.result.finishReason === "string" ? item.result.finishReason : item.result.finishReason?.unified;
  store.putCall(item.id, { text, usage, ...(finishReason ? { finishReason } : {}), latencyMs: 0 });
  summary.loaded++;
  summary.promptTokens += usage.promptTokens;
  summary.completionTokens += usage.completionTokens;
}
