// Times meta-eval on 1,000,000 synthetic judgments. Build first: npx tsc -p tsconfig.build.json
// Usage: node bench/metaeval-1m.mjs [rows] [bootstrap]
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { once } from "node:events";
import { kendallTauB, metaEval, metaEvalRecords, Random, writeReport } from "../dist/metaeval/index.js";

const rows = Number(process.argv[2] ?? 1_000_000);
const bootstrap = Number(process.argv[3] ?? 1000);
const categories = ["coding", "math", "writing", "reasoning", "roleplay", "stem", "extraction", "humanities"];

/** A judge that is right about 60% of the time and off by one otherwise, on a 1-5 scale; 0.5% failures. */
function* scoreRecords(seed) {
  const random = new Random(seed);
  for (let i = 0; i < rows; i++) {
    const gold = 1 + random.below(5);
    const off = random.next() < 0.6 ? 0 : random.next() < 0.5 ? -1 : 1;
    const failed = random.next() < 0.005;
    yield {
      index: i,
      line: i + 1,
      record: {
        id: i,
        category: categories[i % categories.length],
        score: failed ? null : Math.min(5, Math.max(1, gold + off)),
        ...(failed ? { error: "no score in output" } : {}),
        gold,
      },
    };
  }
}

function* pairwiseRecords(seed) {
  const random = new Random(seed);
  const labels = ["A", "B", "tie"];
  for (let i = 0; i < rows; i++) {
    const gold = labels[random.below(10) < 9 ? random.below(2) : 2];
    const winner = random.next() < 0.7 ? gold : labels[random.below(3)];
    yield { index: i, line: i + 1, record: { winner, gold } };
  }
}

async function timed(label, fn) {
  const t0 = performance.now();
  const value = await fn();
  const seconds = (performance.now() - t0) / 1000;
  console.log(`${label.padEnd(58)} ${seconds.toFixed(2).padStart(7)} s`);
  return value;
}

console.log(`meta-eval bench: ${rows.toLocaleString("en")} rows, ${bootstrap} bootstrap resamples, node ${process.version}`);
const dir = await mkdtemp(path.join(tmpdir(), "critic-metaeval-bench-"));
try {
  const file = path.join(dir, "judgments.jsonl");
  await timed("write synthetic judgments.jsonl", async () => {
    const out = createWriteStream(file);
    for (const { record } of scoreRecords(1)) if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, "drain");
    out.end();
    await once(out, "finish");
  });

  const x = new Float64Array(rows), y = new Float64Array(rows);
  const random = new Random(2);
  for (let i = 0; i < rows; i++) { x[i] = random.next(); y[i] = x[i] + random.next(); }
  const tau = await timed("Kendall tau-b, 10^6 distinct continuous pairs", () => kendallTauB({ x, y }));

  const source = (records) => [{ name: "synthetic", file: "memory", records: () => records() }];
  await timed(`scores in memory, no bootstrap`, () => metaEvalRecords(source(() => scoreRecords(1)), { gold: "gold", bootstrap: 0 }));
  const inMemory = await timed(`scores in memory, ${bootstrap} resamples`, () => metaEvalRecords(source(() => scoreRecords(1)), { gold: "gold", bootstrap }));
  await timed(`scores in memory, ${bootstrap} resamples, --by category (8)`, () => metaEvalRecords(source(() => scoreRecords(1)), { gold: "gold", bootstrap, by: "category" }));
  await timed(`pairwise in memory, ${bootstrap} resamples`, () => metaEvalRecords(source(() => pairwiseRecords(3)), { gold: "gold", bootstrap }));
  const fromFile = await timed(`scores from JSONL file (read + metrics), ${bootstrap} resamples`, () => metaEval({ files: [file], gold: "gold", bootstrap, by: "category" }));
  await timed("write report (metrics.json, report.md/html, charts)", () => writeReport(fromFile, path.join(dir, "report")));

  const m = inMemory.judges[0].metrics;
  const fmt = (v) => `${v.value.toFixed(4)} [${v.ci[0].toFixed(4)}, ${v.ci[1].toFixed(4)}]`;
  console.log(`check: tau-b continuous ${tau.value.toFixed(4)}; scores pearson ${fmt(m.pearson)}, kendall ${fmt(m.kendallTau)}, QWK ${fmt(m.quadraticKappa)}`);
  console.log(`check: coverage ${JSON.stringify(fromFile.judges[0].coverage)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
