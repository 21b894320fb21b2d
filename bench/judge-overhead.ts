/**
 * Orchestration overhead of `judge()`: 10,000 records, file in -> judgments file out, against an
 * instant local OpenAI-compatible server running in another process. Prints judgments/s and the
 * CPU time critic's process spends per judgment (reading, templating, HTTP client, parsing,
 * SQLite run store, writing).
 *
 *   npm run bench:build && node build/bench/judge-overhead.js [records] [concurrency]
 */
import { spawn } from "node:child_process";
import { createWriteStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { judge } from "../src/judge/judge.js";

const records = Number(process.argv[2] ?? 10_000);
const concurrency = Number(process.argv[3] ?? 32);
const dir = mkdtempSync(join(tmpdir(), "critic-bench-"));
const input = join(dir, "input.jsonl");

const file = createWriteStream(input);
for (let i = 0; i < records; i++) {
  file.write(`${JSON.stringify({ id: i, instruction: `Question number ${i}: explain something.`, response: `Answer ${i}. `.repeat(20) })}\n`);
}
file.end();
await once(file, "finish");

const serverProcess = spawn(process.execPath, [fileURLToPath(new URL("./fault-server-process.js", import.meta.url))], { stdio: ["ignore", "pipe", "inherit"] });
const [chunk] = (await once(serverProcess.stdout, "data")) as [Buffer];
const baseURL = chunk.toString().trim();

async function run(label: string, store: string): Promise<void> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const summary = await judge({
    input, output: join(dir, `${label}.jsonl`), model: "openai:bench", baseURL, concurrency,
    rubric: "helpfulness", store, progress: false,
  });
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuMicros = (used.user + used.system) / summary.judged;
  console.log(
    `${label.padEnd(22)} ${summary.judged} judgments in ${seconds.toFixed(2)} s = ${(summary.judged / seconds).toFixed(0)} judgments/s, ` +
      `${cpuMicros.toFixed(0)} CPU us/judgment (critic process), calls ${summary.calls}, cached ${summary.cachedCalls}`,
  );
}

console.log(`node ${process.version}, ${records} records, concurrency ${concurrency}, server in a separate process`);
const store = join(dir, "store.sqlite");
try {
  await run("cold (server calls)", store);
  await run("warm (all cached)", store);
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  serverProcess.kill("SIGTERM");
}
