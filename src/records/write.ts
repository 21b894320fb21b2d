import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { once } from "node:events";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import { fileWriter, parquetWriteRows } from "hyparquet-writer";
import type { Reject } from "./types.js";

export interface RecordWriter {
  write(row: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

/** A JSONL writer (streams with backpressure) or a Parquet writer (see ParquetWriter below). */
export async function createRecordWriter(file: string, options: { format?: "jsonl" | "parquet" } = {}): Promise<RecordWriter> {
  await mkdir(dirname(file), { recursive: true });
  const format = options.format ?? (file.toLowerCase().endsWith(".parquet") ? "parquet" : "jsonl");
  return format === "parquet" ? new ParquetWriter(file) : new JsonlWriter(file);
}

/** Writes rejects as JSONL; the file is only created when the first reject arrives. */
export function createRejectsWriter(file: string): RecordWriter & { readonly count: number } {
  let writer: JsonlWriter | undefined;
  let count = 0;
  return {
    get count() {
      return count;
    },
    async write(reject: Record<string, unknown> | Reject) {
      if (!writer) {
        await mkdir(dirname(file), { recursive: true });
        writer = new JsonlWriter(file);
      }
      count++;
      await writer.write(reject as Record<string, unknown>);
    },
    async close() {
      await writer?.close();
    },
  };
}

class JsonlWriter implements RecordWriter {
  private readonly stream: WriteStream;
  private failed: Error | undefined;

  constructor(readonly file: string) {
    this.stream = createWriteStream(file);
    this.stream.on("error", (error) => (this.failed = error));
  }

  async write(row: Record<string, unknown>): Promise<void> {
    if (this.failed) throw new Error(`cannot write ${this.file}: ${this.failed.message}`);
    if (!this.stream.write(`${JSON.stringify(row)}\n`)) await once(this.stream, "drain");
  }

  async close(): Promise<void> {
    if (this.stream.closed) return;
    this.stream.end();
    await once(this.stream, "close");
    if (this.failed) throw new Error(`cannot write ${this.file}: ${this.failed.message}`);
  }
}

type ColumnKind = "number" | "boolean" | "string" | "json";

/**
 * Parquet needs the full column set before the first row group, but judgments gain fields
 * (`error`, say) anywhere in a run. So rows are spooled to JSONL while the column union and
 * types are learned, then streamed into Parquet row group by row group: memory stays flat.
 * Objects and arrays are stored as JSON text.
 */
class ParquetWriter implements RecordWriter {
  private readonly spool: JsonlWriter;
  private readonly columns = new Map<string, ColumnKind | null>();

  constructor(private readonly file: string) {
    this.spool = new JsonlWriter(`${file}.spool.jsonl`);
  }

  async write(row: Record<string, unknown>): Promise<void> {
    for (const [name, value] of Object.entries(row)) {
      const kind = kindOf(value);
      const known = this.columns.get(name);
      if (known === undefined || known === null) this.columns.set(name, kind);
      else if (kind !== null && kind !== known) this.columns.set(name, known === "json" || kind === "json" ? "json" : "string");
    }
    await this.spool.write(row);
  }

  async close(): Promise<void> {
    await this.spool.close();
    const columns = [...this.columns].map(([name, kind]) => ({ name, kind: kind ?? "string" }));
    try {
      if (columns.length === 0) columns.push({ name: "empty", kind: "string" });
      await parquetWriteRows({
        writer: fileWriter(this.file),
        columns: columns.map(({ name, kind }) => ({ name, type: kind === "number" ? "DOUBLE" : kind === "boolean" ? "BOOLEAN" : "STRING", nullable: true })),
        rows: this.spooledRows(columns),
        rowGroupSize: 10_000,
      });
    } finally {
      await rm(this.spool.file, { force: true });
    }
  }

  private async *spooledRows(columns: Array<{ name: string; kind: ColumnKind }>): AsyncGenerator<Record<string, unknown>> {
    const lines = createInterface({ input: createReadStream(this.spool.file), crlfDelay: Infinity });
    for await (const line of lines) {
      const row = JSON.parse(line) as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const { name, kind } of columns) {
        const value = row[name];
        out[name] = value === undefined || value === null ? null : kind === "json" || (kind === "string" && typeof value !== "string") ? JSON.stringify(value) : value;
      }
      yield out;
    }
  }
}

function kindOf(value: unknown): ColumnKind | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "string") return "string";
  return "json";
}
