import { mkdtempSync, writeFileSync, existsSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { parquetMetadata } from "hyparquet";
import { byteLines, readRecords, parseFieldMap, formatFromPath } from "./read.js";
import { createRecordWriter, createRejectsWriter, outputFormatOf } from "./write.js";
import { validateRecord } from "./validate.js";
import type { Reject, SourcedRecord } from "./types.js";
import { judgeRecordSchema } from "../judge/schema.js";

const shared = new URL("../../../shared/data/", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "critic-records-"));

async function readAll(file: string, options: Parameters<typeof readRecords>[1] = {}): Promise<{ rows: SourcedRecord[]; rejects: Reject[] }> {
  const rows: SourcedRecord[] = [];
  const rejects: Reject[] = [];
  for await (const row of readRecords(file, { ...options, onReject: (r) => rejects.push(r) })) rows.push(row);
  return { rows, rejects };
}

describe("readRecords: JSONL", () => {
  it("streams objects with line numbers, rejecting bad lines and going on", async () => {
    const file = join(dir, "mixed.jsonl");
    writeFileSync(file, '{"a":1}\r\n\n{"a":2\n[1,2]\n{"a":3}');
    const { rows, rejects } = await readAll(file);
    expect(rows.map((r) => [r.index, r.line, r.record.a])).toEqual([[0, 1, 1], [1, 5, 3]]);
    expect(rejects.map((r) => [r.line, r.file])).toEqual([[3, file], [4, file]]);
    expect(rejects[0]!.reason).toMatch(/invalid JSON/);
    expect(rejects[1]!.reason).toMatch(/expected a JSON object, got an array/);
  });

  it("reads gzip and renames fields with --map new=old", async () => {
    const file = join(dir, "orig.jsonl.gz");
    writeFileSync(file, gzipSync('{"orig_instruction":"q","orig_response":"r","keep":1}\n'));
    const { rows } = await readAll(file, { map: parseFieldMap(["instruction=orig_instruction", "response=orig_response"]) });
    expect(rows[0]!.record).toEqual({ instruction: "q", response: "r", keep: 1 });
  });

  it("counts the real hh-rlhf harmless test set (gzip, 2312 records)", async () => {
    const { rows, rejects } = await readAll(join(shared, "hh_rlhf_harmless_test/harmless-base_test.jsonl.gz"));
    expect(rows).toHaveLength(2312);
    expect(rejects).toHaveLength(0);
    expect(Object.keys(rows[0]!.record).sort()).toEqual(["chosen", "rejected"]);
  });

  it("counts the real Auto-J pairwise test set (1392 records)", async () => {
    const { rows } = await readAll(join(shared, "autoj/testdata_pairwise.jsonl"));
    expect(rows).toHaveLength(1392);
    expect(rows[1391]!.line).toBe(1392);
  });
});

describe("readRecords: CSV, JSON, Parquet", () => {
  it("reads quoted multi-line CSV fields, names an unnamed column, and rejects short rows", async () => {
    const file = join(dir, "data.csv");
    writeFileSync(file, ',instruction,response\n0,"multi\nline",ok\n1,short\n2,"a ""quoted"" word",fine\n');
    const { rows, rejects } = await readAll(file);
    expect(rows.map((r) => r.record)).toEqual([
      { column_0: "0", instruction: "multi\nline", response: "ok" },
      { column_0: "2", instruction: 'a "quoted" word', response: "fine" },
    ]);
    expect(rows.map((r) => r.line)).toEqual([2, 5]);
    expect(rejects).toMatchObject([{ line: 4, reason: "expected 3 columns (as in the header), got 2" }]);
  });

  it("reads the real SocratiQ MTurk test CSV (634 records)", async () => {
    const { rows, rejects } = await readAll(join(shared, "socratiq_mturk/mturk_test.csv"));
    expect(rejects).toEqual([]);
    expect(rows).toHaveLength(634);
    expect(Object.keys(rows[0]!.record)).toEqual(["column_0", "thought", "question", "label"]);
  });

  it("reads JSON arrays and objects keyed by id (real LLMBar and critical-questions files)", async () => {
    const natural = await readAll(join(shared, "llmbar/llmbar_natural.json"));
    expect(natural.rows).toHaveLength(100);
    expect(natural.rows[0]!.record).toHaveProperty("output_1");
    const cq = await readAll(join(shared, "critical_questions/validation.json"));
    expect(cq.rows).toHaveLength(186);
    expect(typeof cq.rows[0]!.record.id === "string" || typeof cq.rows[0]!.record.intervention_id === "string").toBe(true);
  });

  it("round-trips rows through Parquet, with fields that appear late and nested values as JSON", async () => {
    const file = join(dir, "out.parquet");
    const writer = await createRecordWriter(file);
    const rows = Array.from({ length: 25_000 }, (_, i) => ({
      id: i, text: `row ${i}`, score: i % 5 === 0 ? null : i % 5, ok: i % 2 === 0,
      ...(i === 24_000 ? { error: "late field" } : {}),
      judge: { model: "m", samples: [i] },
    }));
    for (const row of rows) await writer.write(row);
    await writer.close();
    expect(existsSync(`${file}.spool.jsonl`)).toBe(false);
    const { rows: back } = await readAll(file);
    expect(back).toHaveLength(25_000);
    expect(back[3]!.record).toEqual({ id: 3, text: "row 3", score: 3, ok: false, error: null, judge: '{"model":"m","samples":[3]}' });
    expect(back[24_000]!.record.error).toBe("late field");
    expect(back[5]!.record.score).toBeNull();
    expect(back[24_999]!.line).toBe(25_000);
  });

  it("writes chat message lists as Parquet LIST<STRUCT<role, content>>, read back as lists", async () => {
    const file = join(dir, "messages.parquet");
    const writer = await createRecordWriter(file);
    await writer.write({ messages: [{ role: "user", content: "2+2?" }, { role: "assistant", content: "4" }], n: 1 });
    await writer.write({ messages: null, n: 2 });
    await writer.write({ messages: [{ role: "user", content: "hi" }], n: 3 });
    await writer.close();
    const bytes = readFileSync(file);
    const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    expect(metadata.schema.map((e) => [e.name, e.converted_type ?? e.type ?? null])).toEqual([
      ["root", null], ["messages", "LIST"], ["list", null], ["element", null], ["role", "UTF8"], ["content", "UTF8"], ["n", "DOUBLE"],
    ]);
    const { rows: back } = await readAll(file);
    expect(back[0]!.record.messages).toEqual([{ role: "user", content: "2+2?" }, { role: "assistant", content: "4" }]);
    expect(back[1]!.record.messages ?? null).toBeNull();
    expect(back[2]!.record.messages).toEqual([{ role: "user", content: "hi" }]);
  });

  it("names the accepted formats for an unknown extension", () => {
    expect(() => formatFromPath("data.xlsx")).toThrow(/\.jsonl, \.json, \.csv, \.tsv or \.parquet/);
    expect(formatFromPath("x.JSONL.gz")).toBe("jsonl");
  });

  it("rejects a malformed --map", () => {
    expect(() => parseFieldMap(["instruction"])).toThrow(/new=old/);
  });
});

describe("validateRecord and rejects", () => {
  it("names the field and line of a bad record", () => {
    const schema = z.object({ instruction: z.string() });
    const result = validateRecord(schema, { index: 0, line: 7, record: { instruction: 3 } }, "in.jsonl");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reject).toMatchObject({ file: "in.jsonl", line: 7, field: "instruction", reason: expect.stringMatching(/^field "instruction": /) });
  });

  it("creates the rejects file only when a reject arrives", async () => {
    const file = join(dir, "rejects", "r.jsonl");
    const none = createRejectsWriter(file);
    await none.close();
    expect(existsSync(file)).toBe(false);
    const some = createRejectsWriter(file);
    await some.write({ file: "a", line: 2, reason: "bad" });
    await some.close();
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ file: "a", line: 2, reason: "bad" });
  });
});

describe("readRecords: damaged and unusual input", () => {
  it("names a missing input file", async () => {
    await expect(readAll(join(dir, "nope.jsonl"))).rejects.toThrow(`input file not found: ${join(dir, "nope.jsonl")}`);
  });

  it("strips a UTF-8 BOM from JSONL and JSON", async () => {
    const jsonl = join(dir, "bom.jsonl");
    writeFileSync(jsonl, '\uFEFF{"a":1}\n{"a":2}\n');
    expect((await readAll(jsonl)).rows.map((r) => r.record)).toEqual([{ a: 1 }, { a: 2 }]);
    const json = join(dir, "bom.json");
    writeFileSync(json, '\uFEFF[{"a":1}]');
    expect((await readAll(json)).rows.map((r) => r.record)).toEqual([{ a: 1 }]);
  });

  it("rejects a JSONL line with invalid UTF-8, naming the line, and reads the rest", async () => {
    const file = join(dir, "latin1.jsonl");
    writeFileSync(file, Buffer.concat([Buffer.from('{"a":"ok"}\n{"a":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n{"a":"\u00e9 real"}\n')]));
    const { rows, rejects } = await readAll(file);
    expect(rows.map((r) => r.record.a)).toEqual(["ok", "\u00e9 real"]);
    expect(rejects).toMatchObject([{ line: 2, reason: expect.stringMatching(/invalid UTF-8/) }]);
  });

  it("judges what a truncated .jsonl.gz holds and says where it ends", async () => {
    const file = join(dir, "cut.jsonl.gz");
    const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ i, text: `row ${i} `.repeat(20) })).join("\n");
    const whole = gzipSync(lines);
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 2)));
    const { rows, rejects } = await readAll(file);
    expect(rows.length).toBeGreaterThan(100);
    expect(rows.length).toBeLessThan(2000);
    expect(rows.map((r) => r.record.i)).toEqual(rows.map((_, i) => i));
    expect(rejects).toHaveLength(1);
    expect(rejects[0]!.reason).toMatch(new RegExp(`^input truncated after line ${rows.length}: unexpected end of file`));
    expect(rejects[0]!.line).toBe(rows.length + 1);
  });

  it("rejects a CSV row with a bad quote, with its line, instead of aborting", async () => {
    const file = join(dir, "badquote.csv");
    writeFileSync(file, 'instruction,response\nq1,r1\nq2,"r2" oops\n');
    const { rows, rejects } = await readAll(file);
    expect(rows.map((r) => [r.line, r.record.instruction])).toEqual([[2, "q1"]]);
    expect(rejects).toMatchObject([{ file, line: 3, reason: expect.stringMatching(/^malformed CSV row: /) }]);
  });

  it("after a bad or unclosed quote, reading starts again on the next line: the rows after it are read", async () => {
    const file = join(dir, "resync.csv");
    writeFileSync(file, 'instruction,response\nq1,r1\nq2,"bad "quote" here\nq3,"multi\nline"\nq4,"never closed\nq5,r5\nq6,r6\n');
    const { rows, rejects } = await readAll(file);
    // q5 and q6 come after an unclosed quote: the parse restarts on the line after the row that opened it.
    expect(rows.map((r) => [r.line, r.record.instruction, r.record.response])).toEqual([[2, "q1", "r1"], [4, "q3", "multi\nline"], [7, "q5", "r5"], [8, "q6", "r6"]]);
    expect(rejects).toMatchObject([
      { file, line: 3, reason: expect.stringMatching(/^malformed CSV row: .*reading goes on from line 4$/) },
      { file, line: 6, reason: "malformed CSV row: a quote opened in this row is never closed; reading goes on from line 7" },
    ]);
    // The same from a .gz (read again from the start, lines skipped) and after a BOM.
    const text = readFileSync(file);
    writeFileSync(`${file}.gz`, gzipSync(text));
    writeFileSync(join(dir, "resync-bom.csv"), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text]));
    for (const other of [`${file}.gz`, join(dir, "resync-bom.csv")]) {
      const again = await readAll(other);
      expect(again.rows.map((r) => [r.line, r.record.instruction])).toEqual(rows.map((r) => [r.line, r.record.instruction]));
      expect(again.rejects.map((r) => r.line)).toEqual([3, 6]);
    }
    // A file of 1,000 rows with one bad quote near the top loses only that row.
    const many = join(dir, "resync-many.csv");
    writeFileSync(many, `id,text\n1,"oops"x\n${Array.from({ length: 1000 }, (_, i) => `${i + 2},row ${i}`).join("\n")}\n`);
    const big = await readAll(many);
    expect(big.rows).toHaveLength(1000);
    expect(big.rejects.map((r) => r.line)).toEqual([2]);
  });

  it("a quote left open on one row rejects that row only, even when a later quote closes it: every row after it is read", async () => {
    const file = join(dir, "unclosed-then-quoted.csv");
    writeFileSync(file, 'id,instruction,response\n1,q1,a1\n2,"unclosed,a2\n3,q3,a3\n4,q4,a4\n5,"q ""quoted"" 5",a5\n6,q6,a6\n7,q7,a7\n');
    for (const variant of [file, `${file}.gz`]) {
      if (variant.endsWith(".gz")) writeFileSync(variant, gzipSync(readFileSync(file)));
      const { rows, rejects } = await readAll(variant);
      expect(rows.map((r) => [r.line, r.record.id, r.record.instruction])).toEqual([
        [2, "1", "q1"], [4, "3", "q3"], [5, "4", "q4"], [6, "5", 'q "quoted" 5'], [7, "6", "q6"], [8, "7", "q7"],
      ]);
      expect(rejects).toHaveLength(1);
      expect(rejects[0]).toMatchObject({ file: variant, line: 3, reason: expect.stringMatching(/^malformed CSV row: .*reading goes on from line 4$/) });
    }
  });

  it("rejects CSV rows with invalid UTF-8 but keeps a real U+FFFD when the file is valid", async () => {
    const bad = join(dir, "latin1.csv");
    writeFileSync(bad, Buffer.concat([Buffer.from("instruction,response\nq1,caf"), Buffer.from([0xe9]), Buffer.from("\nq2,r2\n")]));
    const { rows, rejects } = await readAll(bad);
    expect(rows.map((r) => r.record.instruction)).toEqual(["q2"]);
    expect(rejects).toMatchObject([{ line: 2, reason: expect.stringMatching(/invalid UTF-8/) }]);
    const good = join(dir, "fffd.csv");
    writeFileSync(good, "instruction,response\nq1,\uFFFD\n");
    expect((await readAll(good)).rows).toHaveLength(1);
  });

  it("says a JSON file with one object is not a list of records, and gives array rejects real lines", async () => {
    const single = join(dir, "single.json");
    writeFileSync(single, '{"instruction": "q", "response": "r"}');
    await expect(readAll(single)).rejects.toThrow(/a single object; expected an array of records/);
    const array = join(dir, "array.json");
    writeFileSync(array, '[\n  {"a": "x,[y]"},\n  3,\n  {\n    "a": "z"\n  }\n]\n');
    const { rows, rejects } = await readAll(array);
    expect(rows.map((r) => [r.line, r.record.a])).toEqual([[2, "x,[y]"], [4, "z"]]);
    expect(rejects).toMatchObject([{ line: 3, reason: expect.stringMatching(/element 2 of the array/) }]);
  });
});

describe("byteLines", () => {
  async function* chunksOf(text: string, size: number): AsyncGenerator<Buffer> {
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }

  it("splits lines that span many chunks with their offsets, and joins each line's chunks once (linear in its length)", async () => {
    const long = "x".repeat(10_000);
    const text = `a\r\n${long}\r\n\nb${long}\nlast`;
    const concat = vi.spyOn(Buffer, "concat");
    const lines: Array<{ line: number; offset: number; text: string }> = [];
    try {
      for await (const { line, offset, bytes } of byteLines(chunksOf(text, 7))) lines.push({ line, offset, text: bytes.toString() });
      // A 10,000-byte line in 7-byte chunks: one join per line, never one per chunk.
      expect(concat.mock.calls.length).toBeLessThanOrEqual(4);
    } finally {
      concat.mockRestore();
    }
    expect(lines).toEqual([
      { line: 1, offset: 0, text: "a" },
      { line: 2, offset: 3, text: long },
      { line: 3, offset: 10_005, text: "" },
      { line: 4, offset: 10_006, text: `b${long}` },
      { line: 5, offset: 20_008, text: "last" },
    ]);
    for (const { offset, text: line } of lines) expect(Buffer.from(text).subarray(offset, offset + line.length).toString()).toBe(line);
  });
});

describe("records are data: nothing is lost or kills the writer", () => {
  it("rejects a record nested deeper than the writer can write, with its file and line, and reads the rest", async () => {
    const file = join(dir, "deep.jsonl");
    const deep = `{"instruction":"q","response":"r","x":${"[".repeat(5000)}${"]".repeat(5000)}}`;
    writeFileSync(file, `{"instruction":"q","response":"r"}\n${deep}\n{"instruction":"q2","response":"r2"}\n`);
    const { rows, rejects } = await readAll(file);
    expect(rows.map((r) => [r.line, r.record.instruction])).toEqual([[1, "q"], [3, "q2"]]);
    expect(rejects).toMatchObject([{ file, line: 2, reason: expect.stringMatching(/nests more than 1000 levels deep/) }]);
    // What is read can be written.
    const out = join(dir, "deep-out.jsonl");
    const writer = await createRecordWriter(out);
    for (const row of rows) await writer.write(row.record);
    await writer.close();
    // As deep as allowed still reads and writes.
    const edge = join(dir, "edge.jsonl");
    writeFileSync(edge, `{"x":${"[".repeat(999)}${"]".repeat(999)}}\n`);
    const again = await readAll(edge);
    expect(again.rejects).toEqual([]);
    const writer2 = await createRecordWriter(join(dir, "edge-out.jsonl"));
    await writer2.write(again.rows[0]!.record);
    await writer2.close();
  });

  it("keeps a field named __proto__ through reading (JSONL, CSV), validation and writing (JSONL, Parquet)", async () => {
    const jsonl = join(dir, "proto.jsonl");
    writeFileSync(jsonl, '{"__proto__":{"polluted":1},"instruction":"q","response":"r"}\n');
    const csv = join(dir, "proto.csv");
    writeFileSync(csv, "__proto__,instruction,response\nkept,q,r\n");
    for (const [file, value] of [[jsonl, { polluted: 1 }], [csv, "kept"]] as const) {
      const { rows } = await readAll(file);
      const record = rows[0]!.record;
      expect(Object.hasOwn(record, "__proto__")).toBe(true);
      const validated = validateRecord(judgeRecordSchema, rows[0]!, file);
      expect(validated.ok).toBe(true);
      const data = (validated as { value: Record<string, unknown> }).value;
      expect(Object.getOwnPropertyDescriptor(data, "__proto__")?.value).toEqual(value);
      for (const ext of ["jsonl", "parquet"]) {
        const out = join(dir, `proto-out-${file.endsWith(".csv") ? "csv" : "jsonl"}.${ext}`);
        const writer = await createRecordWriter(out);
        await writer.write(data);
        await writer.close();
        const back = (await readAll(out)).rows[0]!.record;
        const kept = Object.getOwnPropertyDescriptor(back, "__proto__")?.value;
        expect(typeof kept === "string" && ext === "parquet" && typeof value === "object" ? JSON.parse(kept) : kept).toEqual(value);
      }
    }
  });
});

describe("createRecordWriter: formats and failures", () => {
  it("takes the format from the name, and refuses a name that says none", () => {
    expect(outputFormatOf("a/out.CSV")).toEqual({ kind: "csv", gzip: false });
    expect(outputFormatOf("out.json.gz")).toEqual({ kind: "json", gzip: true });
    expect(outputFormatOf("out.ndjson")).toEqual({ kind: "jsonl", gzip: false });
    expect(() => outputFormatOf("out.txt")).toThrow(/output out\.txt: cannot tell which format to write from the name/);
    expect(() => outputFormatOf("out.parquet.gz")).toThrow(/Parquet is compressed already/);
  });

  it("a full disk (/dev/full) fails the write or the close with the file's name, in every format, and a close after a failed write does not throw again", async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => ({ id: i, text: "x".repeat(100) }));
    for (const name of ["full.jsonl", "full.jsonl.gz", "full.json", "full.csv", "full.tsv.gz"]) {
      const file = join(dir, name);
      symlinkSync("/dev/full", file);
      const writer = await createRecordWriter(file);
      let failure: Error | undefined;
      try {
        for (const row of rows) await writer.write(row);
      } catch (error) {
        failure = error as Error;
      }
      if (failure) await writer.close();
      else failure = await writer.close().then(() => undefined, (error: Error) => error);
      expect(failure?.message, name).toBe(`cannot write ${file}: the disk is full (ENOSPC)`);
      expect(existsSync(`${file}.spool.jsonl`)).toBe(false);
    }
  });
});
