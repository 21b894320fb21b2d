/**
 * `critic judge --batch`: the run's calls go through an OpenAI-compatible Batch API (files +
 * batches endpoints) instead of live requests. The request lines are the ones `--batch-file`
 * writes; they are split within the API's limits, uploaded, sent as batches, followed until they
 * end, and their results stored in the run store under each line's custom_id (the call's cache
 * key), so the judging pass that follows reads every answer from the store.
 *
 * Exactly once: before a batch is created its row is in the run store (the hash of its lines and
 * the uploaded file), and the batch carries that hash in its metadata. A run that is killed and
 * started again finds the row and re-attaches to the batch, or finds the batch by its metadata
 * when the kill came between creating it and recording its id. It never submits the same lines
 * twice while a batch of them is open.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { once } from "node:events";
import OpenAI from "openai";
import type { RunStore, BatchRecord } from "../store/run-store.js";
import { emptyResultsSummary, recordFailedLine, storeResultLine, type BatchResultsSummary } from "./batch-file.js";
import { addSecret, redactError, redactSecrets } from "../util/redact.js";
import { backoffDelayMs, isRetryableStatus } from "../backends/retry.js";

/** OpenAI's limits for one batch input file. */
export const BATCH_MAX_REQUESTS = 50_000;
export const BATCH_MAX_BYTES = 200 * 1024 * 1024;
const TERMINAL = new Set(["completed", "failed", "expired", "cancelled"]);

export interface BatchApiOptions {
  baseURL: string;
  apiKey?: string;
  model: string;
  /** The judgments file the batches are for (shown by `critic batch list`). */
  output: string;
  pollIntervalMs?: number;
  maxRequests?: number;
  maxBytes?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface BatchRound {
  batches: Array<{ id: string; status: string; requests: number; reattached: boolean }>;
  results: BatchResultsSummary;
}

export function batchClient(baseURL: string, apiKey?: string): OpenAI {
  const key = apiKey ?? process.env.OPENAI_API_KEY;
  addSecret(key);
  if (!key && /api\.openai\.com/.test(baseURL)) throw new Error("--batch: OPENAI_API_KEY is not set");
  return new OpenAI({ apiKey: key || "sk-no-key", baseURL, maxRetries: 4, timeout: 300_000 });
}

/** Splits a request file into chunks of at most `maxRequests` lines and `maxBytes` bytes. */
export async function splitRequests(file: string, maxRequests: number, maxBytes: number): Promise<Array<{ file: string; lines: number; hash: string }>> {
  const chunks: Array<{ file: string; lines: number; hash: string }> = [];
  let out: WriteStream | undefined;
  let hash = createHash("sha256");
  let count = 0;
  let bytes = 0;
  const close = async () => {
    if (!out) return;
    out.end();
    await once(out, "finish");
    chunks.push({ file: `${file}.${chunks.length + 1}`, lines: count, hash: hash.digest("hex") });
    out = undefined;
  };
  // Streamed: a run's request file can be larger than memory should hold.
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (line === "") continue;
    const size = Buffer.byteLength(line) + 1;
    if (size > maxBytes) throw new Error(`--batch: one request is ${size} bytes, over the batch file limit of ${maxBytes}`);
    if (out && (count + 1 > maxRequests || bytes + size > maxBytes)) await close();
    if (!out) {
      out = createWriteStream(`${file}.${chunks.length + 1}`);
      hash = createHash("sha256");
      count = 0;
      bytes = 0;
    }
    if (!out.write(`${line}\n`)) await once(out, "drain");
    hash.update(`${line}\n`);
    count++;
    bytes += size;
  }
  await close();
  return chunks;
}

/** Sends the request lines of `file` as batches (or re-attaches to the open ones) and stores their results. */
export async function runBatches(file: string, store: RunStore, options: BatchApiOptions): Promise<BatchRound> {
  try {
    return await sendBatches(file, store, options);
  } catch (error) {
    // An SDK error carries the server's words, which may echo the Authorization header.
    throw redactError(error);
  }
}

async function sendBatches(file: string, store: RunStore, options: BatchApiOptions): Promise<BatchRound> {
  const client = batchClient(options.baseURL, options.apiKey);
  const log = (line: string) => options.log?.(redactSecrets(line));
  const chunks = await splitRequests(file, options.maxRequests ?? BATCH_MAX_REQUESTS, options.maxBytes ?? BATCH_MAX_BYTES);
  const open: Array<{ record: BatchRecord; batch: OpenAI.Batches.Batch; reattached: boolean }> = [];
  for (const chunk of chunks) {
    const found = store.openBatch(chunk.hash, options.baseURL);
    if (found?.batchId) {
      log(`batch ${found.batchId}: re-attached (${found.requests} requests, sent earlier)`);
      open.push({ record: found, batch: await client.batches.retrieve(found.batchId), reattached: true });
      continue;
    }
    let record = found;
    if (record?.inputFileId) {
      // Killed between creating the batch and recording its id: look for it by its metadata.
      const existing = await findByHash(client, chunk.hash);
      if (existing) {
        store.updateBatch(record.rowid, { batchId: existing.id, status: existing.status });
        log(`batch ${existing.id}: re-attached (found on the server by its request hash)`);
        open.push({ record: { ...record, batchId: existing.id }, batch: existing, reattached: true });
        continue;
      }
    }
    const inputFileId = record?.inputFileId ?? (await client.files.create({ file: createReadStream(chunk.file), purpose: "batch" })).id;
    record ??= store.addBatch({ hash: chunk.hash, baseURL: options.baseURL, model: options.model, output: options.output, requests: chunk.lines, inputFileId });
    const { batch, found: foundAfterRetry } = await createOnce(client, chunk.hash, {
      input_file_id: inputFileId,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
      metadata: { critic_request_hash: chunk.hash, critic_output: options.output.slice(-500) },
    });
    store.updateBatch(record.rowid, { batchId: batch.id, status: batch.status });
    log(foundAfterRetry ? `batch ${batch.id}: created (its reply was lost; found on the server by its request hash)` : `batch ${batch.id}: created with ${chunk.lines} requests`);
    open.push({ record: { ...record, batchId: batch.id }, batch, reattached: false });
  }

  const results = emptyResultsSummary();
  const seen = new Map<string, string>();
  const pending = new Set(open.map((o) => o.record.batchId as string));
  while (pending.size > 0) {
    for (const entry of open) {
      const id = entry.record.batchId as string;
      if (!pending.has(id)) continue;
      const batch = seen.has(id) ? await client.batches.retrieve(id) : entry.batch;
      entry.batch = batch;
      const counts = batch.request_counts;
      const line = `batch ${id}: ${batch.status}${counts ? ` ${counts.completed}/${counts.total} done${counts.failed ? `, ${counts.failed} failed` : ""}` : ""}`;
      if (seen.get(id) !== line) log(line);
      seen.set(id, line);
      store.updateBatch(entry.record.rowid, { status: batch.status, info: { request_counts: counts ?? null, errors: batch.errors?.data ? JSON.parse(redactSecrets(JSON.stringify(batch.errors.data.slice(0, 5)))) : null } });
      if (!TERMINAL.has(batch.status)) continue;
      pending.delete(id);
      for (const fileId of [batch.output_file_id, batch.error_file_id]) {
        if (!fileId) continue;
        // Streamed line by line: an output file can hold 50,000 answers.
        const response = await client.files.content(fileId);
        if (!response.body) continue;
        for await (const raw of createInterface({ input: Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), crlfDelay: Infinity })) {
          if (raw.trim() === "") continue;
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(raw) as Record<string, unknown>;
          } catch {
            // Its call stays unanswered, so the next round sends it again.
            recordFailedLine(results, "(unreadable)", `a line of batch ${id} is not JSON: ${raw.slice(0, 60)}…`);
            continue;
          }
          storeResultLine(parsed, store, results);
        }
      }
      if (batch.status !== "completed") {
        const reason = batch.errors?.data?.[0]?.message ?? batch.status;
        log(`batch ${id}: ${batch.status} (${reason}); its calls without a result are sent again`);
      }
      // Its answers on disk before the batch is marked loaded: a kill -9 now must not lose them.
      store.flush();
      store.updateBatch(entry.record.rowid, { loaded: true });
    }
    if (pending.size > 0) await pollWait(options.pollIntervalMs ?? 30_000, options.signal);
  }
  return { batches: open.map((o) => ({ id: o.record.batchId as string, status: o.batch.status, requests: o.record.requests, reattached: o.reattached })), results };
}

const CREATE_TRIES = 5;

/**
 * Creates a batch, at most once: the SDK's own retries are off for this request, because a gateway
 * that created the batch and lost the reply would make a retry create a second one (billed, and
 * tracked nowhere). Before each new try, the batch is looked for on the server by its request hash.
 */
async function createOnce(client: OpenAI, hash: string, body: OpenAI.Batches.BatchCreateParams): Promise<{ batch: OpenAI.Batches.Batch; found: boolean }> {
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) {
      const existing = await findByHash(client, hash);
      if (existing) return { batch: existing, found: true };
    }
    try {
      return { batch: await client.batches.create(body, { maxRetries: 0 }), found: false };
    } catch (error) {
      const retryable = error instanceof OpenAI.APIConnectionError || (error instanceof OpenAI.APIError && error.status !== undefined && isRetryableStatus(error.status));
      if (!retryable || attempt + 1 >= CREATE_TRIES) throw error;
      await pollWait(backoffDelayMs(attempt, 500, 8_000));
    }
  }
}

async function findByHash(client: OpenAI, hash: string): Promise<OpenAI.Batches.Batch | undefined> {
  for await (const batch of client.batches.list({ limit: 100 })) {
    if ((batch.metadata as Record<string, string> | null)?.critic_request_hash === hash) return batch;
  }
  return undefined;
}

/** Ctrl-C while waiting for batches: they go on at the server, and the next run re-attaches to them. */
export class BatchWaitInterrupted extends Error {
  override name = "BatchWaitInterrupted";
  constructor() {
    super("stopped while waiting for the batches (they go on at the server); run the same command again to re-attach");
  }
}

/** Waits between polls; an abort (Ctrl-C) rejects with BatchWaitInterrupted. */
export function pollWait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new BatchWaitInterrupted());
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new BatchWaitInterrupted());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
