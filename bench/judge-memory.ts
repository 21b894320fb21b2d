/**
 * Peak memory of `judge()` as the input grows: judges N-record JSONL files (default 10,000,
 * 100,000 and 1,000,000) against an instant OpenAI-compatible server in another process, each
 * size in a fresh child process, and prints the peak RSS and the JS heap in use at the end.
 * Flat figures across sizes mean the input is streamed.
 *
 *   npm run bench:build && node build/bench/judge-memory.js [sizes...] [--concurrency 32]
 */
import { spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { judge } from "../src/judge/judge.js";

const args = process.argv.slice(2);
const concurrencyAt = args.indexOf("--concurrency");
const concurrency = concurrencyAt >= 0 ? Number(args[concurrencyAt + 1]) : 32;

if (args[0] === "--child") {
  // Child: one size, one judge() run, report memory as JSON on stdout.
  const [, records, baseURL] = args as [string, string, string];
  const dir = mkdtempSync(join(tmpdir(), "critic-mem-"));
  const input = join(dir, "input.jsonl");
  const file = createWriteStream(input);
  for (let i = 0; i < Number(records); i++) {
    if (!file.write(`${JSON.stringify({ id: i, instruction: `Question ${i}: explain something.`, response: `Answer ${i}. `.repeat(10) })}\n`)) {
      await once(file, "drain");
    }
  }
  file.end();
  await once(file, "finish");
  let peakHeap = 0;
  let ticks = 0;
  const sampler = setInterval(() => {
    const { heapUsed, rss } = process.memoryUsage();
    peakHeap = Math.max(peakHeap, heapUsed);
    // A line every minute, so a long run shows its memory as it goes.
    if (++ticks % 240 === 0) process.stderr.write(`  ${records} records, ${ticks / 4} s in: RSS ${(rss / 2 ** 20).toFixed(0)} MiB, heap ${(heapUsed / 2 ** 20).toFixed(0)} MiB\n`);
  }, 250);
  const started = performance.now();
  const summary = await judge({
    input, output: join(dir, "out.jsonl"), model: "openai:bench", baseURL, concurrency,
    rubric: "helpfulness", store: join(dir, "store.sqlite"), progress: false,
  });
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ records: summary.judged, seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024, peakHeapMiB: peakHeap / 2 ** 20 })}\n`);
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

const sizes = args.filter((a, i) => /^\d+$/.test(a) && args[i - 1] !== "--concurrency").map(Number);
const server = spawn(process.execPath, [fileURLToPath(new URL("./fault-server-process.js", import.meta.url))], { stdio: ["ignore", "pipe", "inherit"] });
const [chunk] = (await once(server.stdout, "data")) as [Buffer];
const baseURL = chunk.toString().trim();
console.log(`node ${process.version}, concurrency ${concurrency}, server in a separate process, one child process per size`);
try {
  for (const size of sizes.length > 0 ? sizes : [10_000, 100_000, 1_000_000]) {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--child", String(size), baseURL, "--concurrency", String(concurrency)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    await once(child, "exit");
    const r = JSON.parse(out) as { records: number; seconds: number; peakRssMiB: number; peakHeapMiB: number };
    console.log(
      `${String(r.records).padStart(9)} records: peak RSS ${r.peakRssMiB.toFixed(0)} MiB, peak JS heap ${r.peakHeapMiB.toFixed(0)} MiB, ` +
        `${r.seconds.toFixed(1)} s (${(r.records / r.seconds).toFixed(0)} judgments/s)`,
    );
  }
} finally {
  server.kill("SIGTERM");
}
