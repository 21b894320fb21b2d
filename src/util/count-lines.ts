import { createReadStream } from "node:fs";

/**
 * Counts the records of a JSONL or CSV file cheaply (newlines, minus a CSV header), for a
 * progress total. Returns undefined for formats where a line is not a record.
 */
export async function countDataLines(file: string): Promise<number | undefined> {
  const csv = /\.(csv|tsv)$/i.test(file);
  if (!/\.(jsonl|ndjson|csv|tsv)$/i.test(file)) return undefined;
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    last = chunk[chunk.length - 1] ?? last;
  }
  if (last !== 10) lines++;
  return csv ? Math.max(0, lines - 1) : lines;
}
