/**
 * critic view on a large judgments file: the time to index it against the time to merely read its
 * bytes and split its lines (the limit, measured in the same run), the memory the index keeps
 * against the file's size, and how long the queries and a page of rows take.
 *
 *   npm run bench:build && node build/bench/view-index.js [rows]
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { byteLines, fileChunks } from "../src/records/read.js";
import { readRows } from "../src/view/judgment-index.js";
import { queryRows } from "../src/view/query.js";
import { openWorkspace } from "../src/view/workspace.js";
import { writeGeneratedJudgments } from "../test/support/view-data.js";

const rows = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(path.join(tmpdir(), "critic-view-bench-"));
const file = path.join(dir, "judgments.jsonl");
await writeGeneratedJudgments(file, rows);
const bytes = statSync(file).size;
const mb = (n: number) => (n / 2 ** 20).toFixed(0);
console.log(`${rows.toLocaleString()} judgments, ${mb(bytes)} MiB`);

const seconds = async (work: () => Promise<unknown>) => {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
};

let lines = 0;
const limit = await seconds(async () => {
  for await (const _ of byteLines(fileChunks(file, () => {}))) lines++;
});

global.gc?.();
const before = process.memoryUsage();
let ws: Awaited<ReturnType<typeof openWorkspace>> | undefined;
const indexing = await seconds(async () => {
  ws = await openWorkspace({ files: [file], labels: path.join(dir, "labels.jsonl"), annotator: "bench" });
});
global.gc?.();
const after = process.memoryUsage();
const workspace = ws!;
console.log(`read + split lines (the limit): ${limit.toFixed(2)}s (${lines.toLocaleString()} lines)`);
console.log(`index: ${indexing.toFixed(2)}s, ${(rows / indexing / 1000).toFixed(0)}k rows/s, ${(limit / indexing).toFixed(2)}x the limit's rate`);
const kept = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
console.log(`memory kept by the index: ${mb(kept)} MiB (${(kept / rows).toFixed(0)} bytes/row, ${((100 * kept) / bytes).toFixed(1)}% of the file); rss ${mb(after.rss)} MiB`);

for (const [name, query] of [
  ["all rows", {}],
  ["score 2-3", { score: "2-3" }],
  ["failed", { failed: true }],
  ["field task=code", { field: "task", value: "code" }],
  ["order -score", { order: "-score" }],
  ["order uncertainty", { order: "uncertainty" }],
  ["random queue", { order: "random", seed: 3 }],
  ["text search", { q: "because clearly" }],
] as const) {
  let found = 0;
  const s = await seconds(async () => {
    found = (await queryRows(workspace, query)).length;
  });
  console.log(`query ${name.padEnd(18)} ${(s * 1000).toFixed(0).padStart(6)} ms  ${found.toLocaleString()} rows`);
}
const page = Int32Array.from({ length: 100 }, (_, i) => Math.floor((i * rows) / 100));
const pageSeconds = await seconds(async () => readRows(workspace.indexes[0]!, page));
console.log(`read a page of 100 rows spread over the file: ${(pageSeconds * 1000).toFixed(1)} ms`);
workspace.dispose();
rmSync(dir, { recursive: true, force: true });
