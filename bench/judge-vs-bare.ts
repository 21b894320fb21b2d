/**
 * critic's hot path against its limit: the same requests sent by a bare node:http loop (keep-alive,
 * the same concurrency, JSON out and in: the HTTP + JSON limit) and by `critic judge` (reading the
 * input, templating, the HTTP client, parsing, the SQLite run store on, writing the judgments),
 * each as a whole process, against an instant OpenAI-compatible server in a third process.
 * Alternates the two, twice, and prints each rate and critic's rate as a share of the loop's.
 *
 *   npm run bench:build && node build/bench/judge-vs-bare.js [records] [concurrency]
 */
import { spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chatCompletionBody } from "../src/backends/openai.js";
import { resolveGrader } from "../src/judge/grader.js";
import { judge } from "../src/judge/judge.js";
import { resolveParams } from "../src/judge/engine.js";

const self = fileURLToPath(import.meta.url);
const [mode, ...rest] = process.argv.slice(2);

if (mode === "--bare") {
  // The limit: every request body rendered up front, then only HTTP and JSON.
  const [input, baseURL, concurrencyText] = rest as [string, string, string];
  const grader = resolveGrader({ rubric: "helpfulness" });
  const params = resolveParams(undefined, 1);
  const bodies = readFileSync(input, "utf8").trim().split("\n").map((line) => JSON.stringify(chatCompletionBody("bench", { messages: grader.buildMessages(JSON.parse(line)), params })));
  const url = new URL(`${baseURL}/chat/completions`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrencyText) });
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const text = await new Promise<string>((resolve, reject) => {
        const request = http.request(url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (response) => {
          let data = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => (data += chunk));
          response.on("end", () => resolve(data));
        });
        request.on("error", reject);
        request.end(body);
      });
      (JSON.parse(text) as { choices: unknown[] }).choices.length;
    }
  };
  await Promise.all(Array.from({ length: Number(concurrencyText) }, worker));
  process.stdout.write(`${JSON.stringify({ done: bodies.length, seconds: (performance.now() - started) / 1000 })}\n`);
  agent.destroy();
} else if (mode === "--critic") {
  const [input, baseURL, concurrencyText, dir] = rest as [string, string, string, string];
  const summary = await judge({
    input, output: join(dir, "out.jsonl"), model: "openai:bench", baseURL, concurrency: Number(concurrencyText),
    rubric: "helpfulness", store: join(dir, `store-${process.pid}.sqlite`), progress: false,
  });
  process.stdout.write(`${JSON.stringify({ done: summary.judged, calls: summary.calls, cached: summary.cachedCalls })}\n`);
} else {
  const records = Number(mode ?? 10_000);
  const concurrency = Number(rest[0] ?? 32);
  const dir = mkdtempSync(join(tmpdir(), "critic-vs-bare-"));
  const input = join(dir, "input.jsonl");
  const file = createWriteStream(input);
  for (let i = 0; i < records; i++) file.write(`${JSON.stringify({ id: i, instruction: `Question number ${i}: explain something.`, response: `Answer ${i}. `.repeat(20) })}\n`);
  file.end();
  await once(file, "finish");
  const server = spawn(process.execPath, [fileURLToPath(new URL("./fault-server-process.js", import.meta.url))], { stdio: ["ignore", "pipe", "inherit"] });
  const [chunk] = (await once(server.stdout!, "data")) as [Buffer];
  const baseURL = chunk.toString().trim();
  const run = async (args: string[]) => {
    const started = performance.now();
    const child = spawn(process.execPath, [self, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const [code] = (await once(child, "exit")) as [number];
    if (code !== 0) throw new Error(`${args[0]} exited ${code}`);
    const seconds = (performance.now() - started) / 1000;
    return { seconds, result: JSON.parse(out.trim().split("\n").pop()!) as { done: number } };
  };
  console.log(`node ${process.version}, ${records} records, concurrency ${concurrency}, whole processes, server in its own process`);
  const ratios: number[] = [];
  try {
    for (let round = 1; round <= 2; round++) {
      const bare = await run(["--bare", input, baseURL, String(concurrency)]);
      const critic = await run(["--critic", input, baseURL, String(concurrency), dir]);
      const bareRate = bare.result.done / bare.seconds;
      const criticRate = critic.result.done / critic.seconds;
      ratios.push(criticRate / bareRate);
      console.log(`round ${round}: bare node:http loop ${bareRate.toFixed(0)} requests/s (${bare.seconds.toFixed(2)} s); critic judge ${criticRate.toFixed(0)} judgments/s (${critic.seconds.toFixed(2)} s); critic / limit = ${(criticRate / bareRate).toFixed(2)}x`);
    }
    console.log(`critic / limit: ${ratios.map((r) => r.toFixed(2)).join(", ")} (goal >= 0.5)`);
  } finally {
    server.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}
