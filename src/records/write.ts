import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { once } from "node:events";
import type { Writable } from "node:stream";
import { createGzip } from "node:zlib";
import { fileErrorMessage } from "../util/fs-error.js";
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

/** The record formats a writer can write; the text ones may be gzip-compressed. */
export type OutputKind = "jsonl" | "json" | "csv" | "tsv" | "parquet";

export interface OutputFormat {
  kind: OutputKind;
  gzip: boolean;
}

const OUTPUT_KINDS: Array<[suffix: string, kind: OutputKind]> = [
  [".jsonl", "jsonl"], [".ndjson", "jsonl"], [".json", "json"], [".csv", "csv"], [".tsv", "tsv"], [".parquet", "parquet"],
];

/**
 * The format an output file's name asks for: .jsonl/.ndjson, .json (an array), .csv, .tsv or
 * .parquet, the text ones optionally with .gz. Any other name is refused, so that a run never
 * writes one format under another's name (every command that writes records asks this, before it
 * makes a call).
 */
export function outputFormatOf(file: string): OutputFormat {
  const name = file.toLowerCase();
  const gzip = name.endsWith(".gz");
  const base = gzip ? name.slice(0, -3) : name;
  const kind = OUTPUT_KINDS.find(([suffix]) => base.endsWith(suffix))?.[1];
  if (kind === "parquet" && gzip) throw new Error(`output ${file}: Parquet is compressed already and cannot be gzipped; use .parquet`);
  if (kind === undefined) {
    throw new Error(`output ${file}: cannot tell which format to write from the name; end it in .jsonl, .json, .csv, .tsv or .parquet (.jsonl, .json, .csv and .tsv may add .gz)`);
  }
  return { kind, gzip };
}

/**
 * A writer of `file` in `format` (default: the one its name asks for, see outputFormatOf):
 * JSONL and JSON arrays stream; CSV/TSV and Parquet spool rows first (their columns must be known
 * before the first row). Text formats are gzipped when `gzip` is set.
 */
export async function createRecordWriter(file: string, options: { format?: OutputKind | OutputFormat } = {}): Promise<RecordWriter> {
  const format = options.format === undefined ? outputFormatOf(file) : typeof options.format === "string" ? { kind: options.format, gzip: false } : options.format;
  try {
    await mkdir(dirname(file), { recursive: true });
  } catch (error) {
    throw new Error(fileErrorMessage("create the folder of", file, error));
  }
  switch (format.kind) {
    case "parquet":
      return new ParquetWriter(file);
    case "csv":
    case "tsv":
      return new CsvWriter(file, format.kind === "tsv" ? "\t" : ",", format.gzip);
    case "json":
      return new JsonArrayWriter(file, format.gzip);
    default:
      return new JsonlWriter(file, format.gzip);
  }
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

/**
 * Text into a file, optionally through gzip, in chunks of about 64 KiB (one stream write per row
 * cost more than the JSON). A failed write (a full disk) fails the next write or the close, naming
 * the file; the file is flushed to disk (fsync) before the close resolves.
 */
class TextFile {
  private readonly out: WriteStream;
  private readonly sink: Writable;
  private readonly closed: Promise<void>;
  private failed: Error | undefined;
  /** The failure was thrown at a write: close does not throw it again (the caller is cleaning up). */
  private reported = false;
  private buffer: string[] = [];
  private buffered = 0;
  private ended = false;

  constructor(readonly file: string, gzip = false) {
    this.out = createWriteStream(file, { flush: true });
    this.closed = new Promise((resolve) => this.out.once("close", resolve));
    this.out.on("error", (error) => (this.failed ??= error));
    if (gzip) {
      const zip = createGzip();
      zip.on("error", (error) => (this.failed ??= error));
      zip.pipe(this.out);
      this.sink = zip;
    } else this.sink = this.out;
  }

  async write(text: string): Promise<void> {
    this.check(true);
    this.buffer.push(text);
    this.buffered += text.length;
    if (this.buffered >= 65_536) await this.flush(true);
  }

  private check(atWrite = false): void {
    if (!this.failed) return;
    this.reported ||= atWrite;
    throw new Error(fileErrorMessage("write", this.file, this.failed));
  }

  private async flush(atWrite: boolean): Promise<void> {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer.join("");
    this.buffer = [];
    this.buffered = 0;
    // A failed file stream is destroyed and never drains: its close ends the wait.
    if (!this.sink.write(chunk)) await Promise.race([once(this.sink, "drain").catch(() => {}), this.closed]);
    this.check(atWrite);
  }

  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      if (!this.failed) await this.flush(false).catch(() => {});
      if (this.failed) this.out.destroy();
      else this.sink.end();
      await this.closed;
    }
    if (!this.reported) this.check();
  }
}

class JsonlWriter implements RecordWriter {
  private readonly text: TextFile;

  constructor(readonly file: string, gzip = false) {
    this.text = new TextFile(file, gzip);
  }

  write(row: Record<string, unknown>): Promise<void> {
    return this.text.write(`${JSON.stringify(row)}\n`);
  }

  close(): Promise<void> {
    return this.text.close();
  }
}

/** A JSON array, one record a line, streamed. */
class JsonArrayWriter implements RecordWriter {
  private readonly text: TextFile;
  private rows = 0;
  /** A write failed (and threw): close only closes, as the caller is cleaning up. */
  private failed = false;

  constructor(readonly file: string, gzip: boolean) {
    this.text = new TextFile(file, gzip);
  }

  async write(row: Record<string, unknown>): Promise<void> {
    try {
      await this.text.write(`${this.rows++ === 0 ? "[\n" : ",\n"}${JSON.stringify(row)}`);
    } catch (error) {
      this.failed = true;
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.failed) return this.text.close();
    try {
      await this.text.write(this.rows === 0 ? "[]\n" : "\n]\n");
    } finally {
      await this.text.close();
    }
  }
}

/** Spooled rows read back in order. */
async function* spooledRows(spool: string): AsyncGenerator<Record<string, unknown>> {
  const lines = createInterface({ input: createReadStream(spool), crlfDelay: Infinity });
  for await (const line of lines) yield JSON.parse(line) as Record<string, unknown>;
}

/**
 * CSV or TSV: a header of every field any row has (in the order they first appear), then one line
 * a row; objects and lists are written as JSON text, a missing value as an empty cell. Rows are
 * spooled to JSONL first, as the header must hold fields that appear late.
 */
class CsvWriter implements RecordWriter {
  private readonly spool: JsonlWriter;
  private readonly columns = new Set<string>();
  private failed = false;

  constructor(private readonly file: string, private readonly delimiter: string, private readonly gzip: boolean) {
    this.spool = new JsonlWriter(`${file}.spool.jsonl`);
  }

  async write(row: Record<string, unknown>): Promise<void> {
    for (const name of Object.keys(row)) this.columns.add(name);
    await this.spool.write(row).catch((error: unknown) => Promise.reject((this.failed = true, error)));
  }

  async close(): Promise<void> {
    try {
      await this.spool.close();
      if (this.failed) return;
      const columns = [...this.columns];
      const out = new TextFile(this.file, this.gzip);
      try {
        await out.write(`${columns.map((c) => this.cell(c)).join(this.delimiter)}\n`);
        for await (const row of spooledRows(this.spool.file)) {
          await out.write(`${columns.map((c) => this.cell(Object.getOwnPropertyDescriptor(row, c)?.value)).join(this.delimiter)}\n`);
        }
      } finally {
        await out.close();
      }
    } finally {
      await rm(this.spool.file, { force: true });
    }
  }

  private cell(value: unknown): string {
    if (value === undefined || value === null) return "";
    const text = typeof value === "object" ? JSON.stringify(value) : String(value);
    return text.includes(this.delimiter) || /["\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
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
  /** A write failed (and threw): close writes no Parquet file. */
  private failed = false;

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
    await this.spool.write(row).catch((error: unknown) => Promise.reject((this.failed = true, error)));
  }

  async close(): Promise<void> {
    await this.spool.close();
    if (this.failed) return rm(this.spool.file, { force: true });
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
    } catch (error) {
      throw new Error(fileErrorMessage("write", this.file, error));
    } finally {
      await rm(this.spool.file, { force: true });
    }
  }

  private async *spooledRows(columns: Array<{ name: string; kind: ColumnKind }>): AsyncGenerator<Record<string, unknown>> {
    for await (const row of spooledRows(this.spool.file)) {
      const out: Record<string, unknown> = {};
      for (const { name, kind } of columns) {
        const value = Object.getOwnPropertyDescriptor(row, name)?.value;
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
