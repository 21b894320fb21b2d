/**
 * Reading one very long JSONL line: the time readRecords takes against JSON.parse of the same
 * line (the floor), so a splitter that copies or rescans its carried bytes shows as a ratio that
 * grows with the line. Also times the line splitter alone (byteLines, which critic view's index uses).
 *
 *   npm run bench:build && node build/bench/long-line.js [megabytes, default 50]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { byteLines, fileChunks, readRecords } from "../src/records/read.js";

const megabytes = Number(process.argv[2] ?? 50);
const dir = mkdtempSync(path.join(tmpdir(), "critic-long-line-"));
const file = path.join(dir, "long.jsonl");
const long = JSON.stringify({ id: 1, instruction: "q", response: "x".repeat(megabytes * 2 ** 20) });
writeFileSync(file, `{"id":0,"instruction":"q","response":"short"}\n${long}\n{"id":2,"instruction":"q","response":"short"}\n`);

const seconds = async (work: () => Promise<unknown> | unknown) => {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
};

const text = readFileSync(file, "utf8").split("\n")[1]!;
const parse = await seconds(() => JSON.parse(text));
const split = await seconds(async () => {
  for await (const _ of byteLines(fileChunks(file, () => {})));
});
let records = 0;
const read = await seconds(async () => {
  for await (const _ of readRecords(file)) records++;
});
console.log(`one ${megabytes} MiB line (${records} records in the file)`);
console.log(`  JSON.parse of the line   ${parse.toFixed(2)} s`);
console.log(`  byteLines (split only)   ${split.toFixed(2)} s`);
console.log(`  readRecords (whole file) ${read.toFixed(2)} s = ${(read / parse).toFixed(1)}x JSON.parse`);
rmSync(dir, { recursive: true, force: true });
