/**
 * The seeded train/test split. Rows are grouped by their task prompt (whitespace-normalised), and
 * whole groups go to train or to test, so no prompt is ever in both. Only a hash per prompt is
 * kept in memory, never the records.
 */
import { createHash } from "node:crypto";

/** Whitespace-normalised prompt: trimmed, every run of whitespace one space. */
export function normalizePrompt(prompt: string): string {
  return prompt.trim().replace(/\s+/g, " ");
}

/** 128-bit hash of the normalised prompt (base64url): the group key of the split. */
export function promptGroup(prompt: string): string {
  return createHash("sha256").update(normalizePrompt(prompt)).digest("base64url").slice(0, 22);
}

/** Hash of a row's JSON text, for --dedupe. */
export function rowKey(row: unknown): string {
  return createHash("sha256").update(JSON.stringify(row)).digest("base64url").slice(0, 22);
}

/**
 * How many of `groups` prompt groups go to test: a fraction in [0, 1) is rounded up (as
 * scikit-learn's train_test_split does), a whole number >= 1 is a count. Train always keeps at
 * least one group when there are two or more; a single group stays in train.
 */
export function testGroupCount(groups: number, testSize: number): number {
  if (!(testSize >= 0) || !Number.isFinite(testSize) || (testSize >= 1 && !Number.isInteger(testSize))) {
    throw new Error(`test size must be a fraction in [0, 1) or a whole number of prompts, got ${testSize}`);
  }
  if (groups < 2) return 0;
  const wanted = testSize < 1 ? Math.ceil(testSize * groups) : testSize;
  return Math.min(wanted, groups - 1);
}

/**
 * The groups that go to test: the `testGroupCount` groups with the smallest seeded hash. Depends
 * only on the set of prompts and the seed, not on the order of the records.
 */
export function chooseTestGroups(groups: Iterable<string>, testSize: number, seed: number): Set<string> {
  const keyed = [...groups].map((group) => ({ group, key: createHash("sha256").update(`${seed}\0${group}`).digest("hex").slice(0, 16) }));
  const count = testGroupCount(keyed.length, testSize);
  keyed.sort((a, b) => compare(a.key, b.key) || compare(a.group, b.group));
  return new Set(keyed.slice(0, count).map((entry) => entry.group));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
