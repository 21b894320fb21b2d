import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { once } from "node:events";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import { fileWriter, parquetWriteRows } from "hyparquet-writer";
import type { SchemaElement } from "hyparquet";
import type { Reject } from "./types.js";
import { setField } from "./fields.js";

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

  /** Rows are handed to the stream in chunks of about 64 KiB: one stream write per row cost more than the JSON. */
  private buffer: string[] = [];
  private buffered = 0;

  async write(row: Record<string, unknown>): Promise<void> {
    if (this.failed) throw new Error(`cannot write ${this.file}: ${this.failed.message}`);
    const line = `${JSON.stringify(row)}\n`;
    this.buffer.push(line);
    this.buffered += line.length;
    if (this.buffered >= 65_536) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer.join("");
    this.buffer = [];
    this.buffered = 0;
    if (!this.stream.write(chunk)) await once(this.stream, "drain");
  }

  async close(): Promise<void> {
    if (this.stream.closed) return;
    await this.flush();
    this.stream.end();
    await once(this.stream, "close");
    if (this.failed) throw new Error(`cannot write ${this.file}: ${this.failed.message}`);
  }
}

type ColumnKind = "number" | "boolean" | "string" | "json" | "messages";

/**
 * Parquet needs the full column set before the first row group, but judgments gain fields
 * (`error`, say) anywhere in a run. So rows are spooled to JSONL while the column union and
 * types are learned, then streamed into Parquet row group by row group: memory stays flat.
 * Chat message lists (`[{role, content}]`, as TRL's conversational formats hold them) become
 * Parquet LIST<STRUCT<role, content>> columns that datasets/pyarrow read as lists; other objects
 * and arrays are stored as JSON text.
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
      else if (kind !== null && kind !== known) this.columns.set(name, isStructured(known) || isStructured(kind) ? "json" : "string");
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
        columns: columns.map(({ name }) => ({ name })),
        schema: [{ name: "root", num_children: columns.length }, ...columns.flatMap(({ name, kind }) => schemaOf(name, kind))],
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
        setField(out, name, value === undefined || value === null ? null : kind === "json" || (kind === "string" && typeof value !== "string") ? JSON.stringify(value) : value);
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
  return isMessageList(value) ? "messages" : "json";
}

function isStructured(kind: ColumnKind): boolean {
  return kind === "json" || kind === "messages";
}

function isMessageList(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.every((m) => {
      if (typeof m !== "object" || m === null) return false;
      const keys = Object.keys(m);
      const { role, content } = m as Record<string, unknown>;
      return keys.length === 2 && typeof role === "string" && typeof content === "string";
    })
  );
}

function schemaOf(name: string, kind: ColumnKind): SchemaElement[] {
  const text = { type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" } as const;
  switch (kind) {
    case "number":
      return [{ name, type: "DOUBLE", repetition_type: "OPTIONAL" }];
    case "boolean":
      return [{ name, type: "BOOLEAN", repetition_type: "OPTIONAL" }];
    case "messages":
      return [
        { name, repetition_type: "OPTIONAL", num_children: 1, converted_type: "LIST" },
        { name: "list", repetition_type: "REPEATED", num_children: 1 },
        { name: "element", repetition_type: "OPTIONAL", num_children: 2 },
        { name: "role", ...text },
        { name: "content", ...text },
      ];
    default:
      return [{ name, ...text }];
  }
}
