import type { Command } from "commander";
import { batchClient } from "../judge/batch-api.js";
import { DEFAULT_STORE } from "../judge/judge.js";
import { RunStore, type BatchRecord } from "../store/run-store.js";
import { redactSecrets } from "../util/redact.js";

const say = (line: string): void => void process.stdout.write(`${redactSecrets(line)}\n`);

interface BatchCliOptions {
  store: string;
  baseUrl?: string;
}

export function registerBatch(program: Command): void {
  const batch = program.command("batch").description("the Batch API batches critic judge --batch created: list, status, cancel");
  const common = (c: Command) =>
    c
      .option("--store <file>", "run store", DEFAULT_STORE)
      .option("--base-url <url>", "the server (default: the one the batch was created on)");

  common(batch.command("list").description("the batches in the run store, newest first")).action((opts: BatchCliOptions) => {
    const store = RunStore.open(opts.store);
    try {
      const rows = store.listBatches();
      if (rows.length === 0) say(`no batches in ${opts.store}`);
      for (const b of rows) say(`${describe(b)}`);
    } finally {
      store.close();
    }
  });

  common(batch.command("status").description("ask the server how far a batch got").argument("<id>", "batch id")).action(async (id: string, opts: BatchCliOptions) => {
    const { client, record, store } = open(id, opts);
    try {
      const b = await client.batches.retrieve(id);
      if (record) store.updateBatch(record.rowid, { status: b.status, info: { request_counts: b.request_counts ?? null } });
      const c = b.request_counts;
      say(`${b.id}: ${b.status}${c ? `, ${c.completed}/${c.total} done, ${c.failed} failed` : ""}${record ? ` (judging ${record.output}; results stored: ${record.loaded ? "yes" : "not yet"})` : ""}`);
    } finally {
      store.close();
    }
  });

  common(batch.command("cancel").description("cancel a batch; its finished requests are kept by the next run").argument("<id>", "batch id")).action(async (id: string, opts: BatchCliOptions) => {
    const { client, record, store } = open(id, opts);
    try {
      const b = await client.batches.cancel(id);
      if (record) store.updateBatch(record.rowid, { status: b.status });
      say(`${b.id}: ${b.status}`);
    } finally {
      store.close();
    }
  });
}

function open(id: string, opts: BatchCliOptions) {
  const store = RunStore.open(opts.store);
  const record = store.listBatches(10_000).find((b) => b.batchId === id);
  const baseURL = opts.baseUrl ?? record?.baseURL ?? process.env.OPENAI_BASE_URL;
  if (!baseURL) {
    store.close();
    throw new Error(`batch ${id} is not in ${opts.store}: give --base-url`);
  }
  return { client: batchClient(baseURL), record, store };
}

function describe(b: BatchRecord): string {
  const counts = b.info.request_counts as { completed?: number; failed?: number; total?: number } | null | undefined;
  return [
    b.batchId ?? "(not created)",
    b.status,
    `${b.requests} requests${counts ? ` (${counts.completed ?? 0} done, ${counts.failed ?? 0} failed)` : ""}`,
    b.loaded ? "results stored" : "results not stored yet",
    `${b.model} at ${b.baseURL}`,
    `-> ${b.output}`,
    b.createdAt,
  ].join("  ");
}
