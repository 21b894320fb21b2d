import { isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { createGunzip, gunzipSync } from "node:zlib";
import { parse as parseCsv } from "csv-parse";
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } from "hyparquet";
import type { RawRecord, Reject, SourcedRecord } from "./types.js";
import { didYouMean } from "../util/did-you-mean.js";
import { MAX_NESTING, nestingDepth, setField } from "./fields.js";

export type RecordFormat = "jsonl" | "json" | "csv" | "tsv" | "parquet";

export interface ReadOptions {
  /** Default: from the extension (.jsonl/.ndjson, .json, .csv, .tsv, .parquet; a trailing .gz is decompressed). */
  format?: RecordFormat;
  /** Field renames, new name -> old name; the old name is removed. */
  map?: Record<string, string>;
  /** Rows that cannot be read (bad JSON, wrong column count) go here and reading goes on. */
  onReject?: (reject: Reject) => void;
}

export function formatFromPath(file: string): RecordFormat {
  const name = file.toLowerCase().replace(/\.gz$/, "");
  if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) return "jsonl";
  if (name.endsWith(".json")) return "json";
  if (name.endsWith(".csv")) return "csv";
  if (name.endsWith(".tsv")) return "tsv";
  if (name.endsWith(".parquet")) return "parquet";
  throw new Error(`${file}: unknown dataset format; use .jsonl, .json, .csv, .tsv or .parquet (optionally .gz)`);
}

/**
 * Streams the rows of a dataset with their line numbers (JSONL, CSV; for JSON, the line on
 * which the record starts) or 1-based row numbers (Parquet). A missing file throws "input file
 * not found"; a UTF-8 BOM is dropped; lines with bad JSON, invalid UTF-8 or a malformed CSV
 * quote are rejected and reading goes on; a truncated .gz ends with a reject saying where. Memory stays flat for JSONL, CSV and Parquet (row group by row group);
 * a JSON document is read whole.
 */
export async function* readRecords(file: string, options: ReadOptions = {}): AsyncGenerator<SourcedRecord> {
  const format = options.format ?? formatFromPath(file);
  await checkInputFile(file);
  const onReject = options.onReject ?? (() => {});
  const rows =
    format === "jsonl" ? readJsonl(file, onReject)
    : format === "json" ? readJson(file, onReject)
    : format === "parquet" ? readParquet(file)
    : readCsv(file, format === "tsv" ? "\t" : ",", onReject);
  let index = 0;
  for await (const { line, record } of rows) {
    // A record too deep to write (JSON.stringify recurses) is rejected here, before any call is paid.
    if (nestingDepth(record) > MAX_NESTING) {
      onReject({ file, line, reason: `the record nests more than ${MAX_NESTING} levels deep; it could not be written out` });
      continue;
    }
    yield { index: index++, line, record: options.map ? applyFieldMap(record, options.map) : record };
  }
}

/** Parses CLI `--map new=old` pairs. */
export function parseFieldMap(pairs: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of pairs) {
    const match = /^([^=\s]+)=([^=\s]+)$/.exec(pair.trim());
    if (!match) throw new Error(`--map expects new=old (e.g. instruction=orig_instruction), got "${pair}"`);
    map[match[1]!] = match[2]!;
  }
  return map;
}

/**
 * Fails at once when a `--map new=old` names a field that none of the first `sample` records has
 * (a typo would otherwise reject every record), suggesting the closest field names.
 */
export async function checkMappedFields(file: string, map: Record<string, string>, sample = 1000): Promise<void> {
  const sources = Object.values(map);
  if (sources.length === 0) return;
  const seen = new Set<string>();
  let read = 0;
  for await (const { record } of readRecords(file)) {
    for (const key of Object.keys(record)) seen.add(key);
    if (++read >= sample || sources.every((s) => seen.has(s))) break;
  }
  if (read === 0) return;
  for (const [target, source] of Object.entries(map)) {
    if (!seen.has(source)) throw new Error(missingFieldMessage(`--map ${target}=${source}`, source, seen, file, read >= sample ? read : undefined));
  }
}

/** "no record has field X; did you mean Y?" for a field a flag names. */
export function missingFieldMessage(flag: string, field: string, fields: Iterable<string>, file: string, sampled?: number): string {
  const close = didYouMean(field, fields);
  const where = sampled !== undefined ? `none of the first ${sampled} records of ${file}` : `no record of ${file}`;
  return `${flag}: ${where} has a field "${field}"` + (close.length > 0 ? `; did you mean ${close.map((c) => `"${c}"`).join(" or ")}?` : `; fields are ${[...fields].join(", ")}`);
}

export function applyFieldMap(record: RawRecord, map: Record<string, string>): RawRecord {
  const out: RawRecord = { ...record };
  for (const [target, source] of Object.entries(map)) {
    if (source in record) {
      delete out[source];
      setField(out, target, record[source]);
    }
  }
  return out;
}

/** Thrown by readRecords for an input that does not exist, before anything is read. */
export async function checkInputFile(file: string): Promise<void> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error(`input is not a file: ${file}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`input file not found: ${file}`);
    throw error;
  }
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The file's bytes, decompressed when it ends in .gz. A gzip stream that ends early (a truncated
 * download) ends the chunks instead of failing the run: `onTruncated` is told, and the caller
 * reports where the readable part ended.
 */
export async function* fileChunks(file: string, onTruncated: (error: Error) => void, startByte = 0): AsyncGenerator<Buffer> {
  const raw = createReadStream(file, { start: startByte });
  const stream: Readable = file.toLowerCase().endsWith(".gz") ? raw.pipe(createGunzip()) : raw;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    if (!code.startsWith("Z_")) throw error;
    onTruncated(error as Error);
  } finally {
    raw.destroy();
  }
}

/**
 * Splits bytes into lines (LF or CRLF) with 1-based numbers and the byte offset where each starts;
 * a final line without LF counts. The bytes of an unfinished line are kept as a list of chunks and
 * joined once, when its LF arrives, and only the new chunk is searched: a line of n bytes costs
 * O(n), however many chunks it spans (joining carry + chunk each time cost O(n²)).
 */
export async function* byteLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<{ line: number; offset: number; bytes: Buffer }> {
  let carried: Buffer[] = [];
  let carriedBytes = 0;
  let line = 0;
  let offset = 0; // where the line being gathered starts in the input
  const take = (last: Buffer): Buffer => {
    const bytes = carried.length === 0 ? last : Buffer.concat([...carried, last], carriedBytes + last.length);
    carried = [];
    carriedBytes = 0;
    return bytes;
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const whole = take(chunk.subarray(start, nl));
      const bytes = whole.length > 0 && whole[whole.length - 1] === 13 ? whole.subarray(0, whole.length - 1) : whole;
      yield { line: ++line, offset, bytes };
      offset += whole.length + 1;
      start = nl + 1;
    }
    if (start < chunk.length) {
      // Copied: the stream may reuse the chunk's memory.
      carried.push(Buffer.from(chunk.subarray(start)));
      carriedBytes += chunk.length - start;
    }
  }
  if (carriedBytes > 0) yield { line: ++line, offset, bytes: take(Buffer.alloc(0)) };
}

interface NumberedRow {
  line: number;
  record: RawRecord;
}

async function* readJsonl(file: string, onReject: (r: Reject) => void): AsyncGenerator<NumberedRow> {
  let truncated: Error | undefined;
  let lastComplete = 0;
  let pending: { line: number; bytes: Buffer } | undefined;
  const parse = (line: number, bytes: Buffer): NumberedRow | undefined => {
    if (line === 1 && bytes.subarray(0, 3).equals(BOM)) bytes = bytes.subarray(3);
    if (!isUtf8(bytes)) {
      onReject({ file, line, reason: "invalid UTF-8: the line holds bytes that are not UTF-8 text (is the file in another encoding?)" });
      return undefined;
    }
    const text = bytes.toString("utf8");
    if (text.trim() === "") return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      onReject({ file, line, reason: `invalid JSON: ${(error as Error).message}` });
      return undefined;
    }
    if (!isObject(value)) {
      onReject({ file, line, reason: `expected a JSON object, got ${describe(value)}` });
      return undefined;
    }
    return { line, record: value };
  };
  // One line is held back so that, when the file turns out truncated, its cut-off last line is
  // reported as the truncation rather than as a line of bad JSON.
  for await (const next of byteLines(fileChunks(file, (error) => (truncated = error)))) {
    if (pending) {
      const row = parse(pending.line, pending.bytes);
      lastComplete = pending.line;
      if (row) yield row;
    }
    pending = next;
  }
  if (truncated) {
    onReject({ file, line: lastComplete + 1, reason: `input truncated after line ${lastComplete}: ${truncated.message}`, truncated: true });
    return;
  }
  if (pending) {
    const row = parse(pending.line, pending.bytes);
    if (row) yield row;
  }
}

async function* readJson(file: string, onReject: (r: Reject) => void): AsyncGenerator<NumberedRow> {
  const raw = await readFile(file);
  let bytes = file.toLowerCase().endsWith(".gz") ? gunzipOrExplain(file, raw) : raw;
  if (bytes.subarray(0, 3).equals(BOM)) bytes = bytes.subarray(3);
  const text = bytes.toString("utf8");
  if (!isUtf8(bytes)) {
    const at = text.indexOf("\uFFFD");
    throw new Error(`${file}: invalid UTF-8 at line ${lineAt(text, at)}: the file holds bytes that are not UTF-8 text`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: invalid JSON: ${(error as Error).message}`);
  }
  // An array of records, or an object of records keyed by id.
  let entries: Array<[string | undefined, unknown]>;
  if (Array.isArray(document)) entries = document.map((value) => [undefined, value]);
  else if (isObject(document) && Object.keys(document).length > 0 && Object.values(document).every(isObject)) entries = Object.entries(document);
  else if (isObject(document)) {
    throw new Error(`${file}: a single object; expected an array of records (or an object whose every value is a record, keyed by id)`);
  } else throw new Error(`${file}: expected a JSON array of records, got ${describe(document)}`);
  const lines = topLevelValueLines(text);
  for (const [i, [key, value]] of entries.entries()) {
    const line = lines[i] ?? 1;
    if (!isObject(value)) {
      onReject({ file, line, reason: `element ${i + 1} of the array: expected a JSON object, got ${describe(value)}` });
      continue;
    }
    yield { line, record: key !== undefined && !("id" in value) ? { id: key, ...value } : value };
  }
}

function gunzipOrExplain(file: string, raw: Buffer): Buffer {
  try {
    return gunzipSync(raw);
  } catch (error) {
    throw new Error(`${file}: cannot decompress: ${(error as Error).message} (truncated download?)`);
  }
}

/** 1-based line of a character offset. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/**
 * The line on which each value of a top-level array or object starts, so that a reject names a
 * line a person can open. The text is known to be valid JSON (it parsed).
 */
export function topLevelValueLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expecting = false;
  let topIsArray = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 10) {
      line++;
      continue;
    }
    if (c === 32 || c === 9 || c === 13) continue;
    const closesTop = depth === 1 && (c === 93 || c === 125);
    if (depth === 1 && expecting && !closesTop) {
      lines.push(line);
      expecting = false;
    }
    if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      depth++;
      if (depth === 1) {
        topIsArray = c === 91;
        expecting = topIsArray;
      }
    } else if (c === 93 || c === 125) depth--;
    else if (depth === 1 && ((topIsArray && c === 44) || (!topIsArray && c === 58))) expecting = true;
  }
  return lines;
}

/**
 * CSV and TSV rows. A malformed row (a bad or unclosed quote) is rejected with its line and the
 * parse starts again on the next line, so one bad quote never swallows the rest of the file.
 */
async function* readCsv(file: string, delimiter: string, onReject: (r: Reject) => void): AsyncGenerator<NumberedRow> {
  const state: CsvState = { header: undefined, badUtf8: false };
  for (let from: CsvStart | undefined = { byte: 0, line: 1, skipLines: 0 }; from !== undefined; ) {
    from = yield* readCsvFrom(file, delimiter, from, state, onReject);
  }
}

/** Where a parse starts: `skipLines` lines after physical line `line`, which begins at `byte`. */
interface CsvStart {
  byte: number;
  line: number;
  skipLines: number;
}

interface CsvState {
  header: string[] | undefined;
  badUtf8: boolean;
}

/** Parses from `start` on; returns where to start again after a malformed row. */
async function* readCsvFrom(file: string, delimiter: string, start: CsvStart, state: CsvState, onReject: (r: Reject) => void): AsyncGenerator<NumberedRow, CsvStart | undefined> {
  let truncated: Error | undefined;
  const offset = start.line - 1 + start.skipLines;
  // A compressed file cannot be read from an offset: it is read from the start, lines skipped.
  const seekable = !file.toLowerCase().endsWith(".gz");
  // csv-parse decodes the bytes itself; watch them for invalid UTF-8 on the way in (a sequence
  // split across chunks is carried over) so that rows holding U+FFFD can be told apart.
  let tail = Buffer.alloc(0);
  let toSkip = start.skipLines;
  let parseStart = start.byte;
  const watched = async function* (): AsyncGenerator<Buffer> {
    for await (let chunk of fileChunks(file, (error) => (truncated = error), start.byte)) {
      while (toSkip > 0 && chunk.length > 0) {
        const newline = chunk.indexOf(10);
        const dropped = newline === -1 ? chunk.length : newline + 1;
        parseStart += dropped;
        chunk = chunk.subarray(dropped);
        if (newline !== -1) toSkip--;
      }
      if (chunk.length === 0) continue;
      if (!state.badUtf8) {
        const data = Buffer.concat([tail, chunk]);
        const cut = incompleteUtf8Tail(data);
        if (!isUtf8(data.subarray(0, data.length - cut))) state.badUtf8 = true;
        tail = Buffer.from(data.subarray(data.length - cut));
      }
      yield chunk;
    }
  };
  let produced = 0;
  let malformed: { afterRecords: number; line: number; message: string } | undefined;
  const source = Readable.from(watched());
  const parser = source.pipe(
    parseCsv({
      delimiter, bom: offset === 0, relax_column_count: true, skip_empty_lines: true, info: true,
      skip_records_with_error: true,
      on_record: (record: string[]) => {
        produced++;
        return record;
      },
      on_skip: (error: { message: string; lines?: number } | undefined) => {
        if (error && !malformed) malformed = { afterRecords: produced, line: offset + (error.lines ?? 0), message: error.message };
        return undefined;
      },
    }),
  );
  let lastLine = offset;
  let lastEnd = 0;
  let consumed = 0;
  const restartAfterMalformed = (): CsvStart => {
    const bad = malformed!;
    // The row that failed starts on the line after the last good row. A quote it opened may have
    // been closed lines later by another row's quote (the error then names that later line): only
    // this row is rejected and reading goes on from its next line, so no later row is swallowed.
    const row = lastLine + 1;
    const resume = row + 1;
    const unclosed = /quote not closed/i.test(bad.message);
    const reason = unclosed
      ? "a quote opened in this row is never closed"
      : bad.message.replace(/^Invalid [^:]*: /, "") + (bad.line > row ? ` (a quote opened in this row runs on to line ${bad.line})` : "");
    onReject({ file, line: row, reason: `malformed CSV row: ${reason}; reading goes on from line ${resume}` });
    parser.destroy();
    source.destroy();
    // The last good row ended where line `row` begins.
    return seekable ? { byte: parseStart + lastEnd, line: row, skipLines: resume - row } : { byte: 0, line: 1, skipLines: resume - 1 };
  };
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number; bytes: number } }>) {
    if (malformed && consumed === malformed.afterRecords) return restartAfterMalformed();
    consumed++;
    const line = lastLine + 1;
    lastLine = offset + info.lines;
    lastEnd = info.bytes;
    if (!state.header) {
      state.header = record.map((name, i) => (name === "" ? `column_${i}` : name));
      continue;
    }
    const header = state.header;
    if (record.length !== header.length) {
      onReject({ file, line, reason: `expected ${header.length} columns (as in the header), got ${record.length}` });
      continue;
    }
    if (state.badUtf8 && record.some((value) => value.includes("\uFFFD"))) {
      onReject({ file, line, reason: "invalid UTF-8: the row holds bytes that are not UTF-8 text (is the file in another encoding?)" });
      continue;
    }
    const row: RawRecord = {};
    header.forEach((name, i) => setField(row, name, record[i]));
    yield { line, record: row };
  }
  if (malformed) return restartAfterMalformed();
  if (truncated) onReject({ file, line: lastLine + 1, reason: `input truncated after line ${lastLine}: ${(truncated as Error).message}`, truncated: true });
  return undefined;
}

/** How many bytes at the end of `data` begin a UTF-8 sequence that the next chunk completes. */
function incompleteUtf8Tail(data: Buffer): number {
  for (let back = 1; back <= Math.min(3, data.length); back++) {
    const byte = data[data.length - back]!;
    if ((byte & 0xc0) !== 0x80) {
      const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
      return need > back ? back : 0;
    }
  }
  return 0;
}

async function* readParquet(file: string): AsyncGenerator<NumberedRow> {
  const unreadable = (error: unknown) => new Error(`${file}: not a readable Parquet file (${(error as Error).message}); is it damaged or truncated?`);
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer).catch((error: unknown) => Promise.reject(unreadable(error)));
  const columns = parquetSchema(metadata).children.map((child) => child.element.name);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    // Rows as arrays, made into records here: hyparquet's objects lose a column named __proto__.
    let rows: unknown[][] = [];
    try {
      await parquetRead({ file: buffer, metadata, rowStart, rowEnd, columns, rowFormat: "array", onComplete: (data: unknown[][]) => (rows = data) });
    } catch (error) {
      throw unreadable(error);
    }
    for (const [i, values] of rows.entries()) {
      const row: RawRecord = {};
      columns.forEach((name, c) => setField(row, name, values[c]));
      yield { line: rowStart + i + 1, record: normaliseParquetRow(row) };
    }
    rowStart = rowEnd;
  }
}

function normaliseParquetRow(row: RawRecord): RawRecord {
  for (const [key, value] of Object.entries(row)) {
    if (typeof value === "bigint" && value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)) {
      row[key] = Number(value);
    }
  }
  return row;
}

function isObject(value: unknown): value is RawRecord {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function describe(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}
