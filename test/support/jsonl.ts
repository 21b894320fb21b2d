import { readFileSync, writeFileSync } from "node:fs";

/** The records of a JSONL file (blank lines skipped). */
export function readJsonl<T = Record<string, unknown>>(file: string): T[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);
}

/** Writes rows as JSONL; a string row is written as it is (for malformed-line tests). Returns the path. */
export function writeJsonl(file: string, rows: unknown[]): string {
  writeFileSync(file, rows.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join("\n") + "\n");
  return file;
}
