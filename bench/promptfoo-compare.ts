/**
 * critic judge next to promptfoo's llm-rubric, both as CLIs against the same instant local
 * OpenAI-compatible server (another process), on the same N records with the same concurrency.
 * Prints wall time, judgments per second and the CPU seconds of each CLI (user + sys, children
 * included). promptfoo is not a dependency of critic: install it anywhere and pass its binary.
 *
 *   npm i --prefix /tmp/pf promptfoo
 *   npm run bench:build && node build/bench/promptfoo-compare.js --promptfoo /tmp/pf/node_modules/.bin/promptfoo [records] [concurrency]
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const at = args.indexOf("--promptfoo");
if (at < 0) throw new Error("pass --promptfoo <path to the promptfoo binary>");
const promptfoo = args.splice(at, 2)[1]!;
const records = Number(args[0] ?? 1000);
const concurrency = Number(args[1] ?? 32);
const critic = fileURLToPath(new URL("../../bin/critic.js", import.meta.url));

// One answer both tools read: promptfoo's llm-rubric wants {reason, pass, score}; critic reads
// {feedback, score} as a verdict on its 1-5 scale.
const reply = JSON.stringify({ feedback: "Relevant and useful.", reason: "Relevant and useful.", pass: true, score: 4 });
const server = spawn(process.execPath, [fileURLToPath(new URL("./fault-server-process.js", import.meta.url)), "--reply", reply], { stdio: ["ignore", "pipe", "inherit"] });
const [chunk] = (await once(server.stdout, "data")) as [Buffer];
const baseURL = chunk.toString().trim();

const dir = mkdtempSync(join(tmpdir(), "critic-vs-promptfoo-"));
const rows = Array.from({ length: records }, (_, i) => ({ instruction: `Question ${i}: explain photosynthesis.`, response: `Answer ${i}: plants turn light into sugar.` }));
writeFileSync(join(dir, "input.jsonl"), rows.map((r) => JSON.stringify(r)).join("\n"));
writeFileSync(join(dir, "tests.csv"), `instruction,response\n${rows.map((r) => `"${r.instruction}","${r.response}"`).join("\n")}\n`);
const rubric = "Does the model provide relevant and useful responses to the user's needs or questions?";
writeFileSync(
  join(dir, "promptfooconfig.yaml"),
  [
    "prompts: ['{{response}}']",
    "providers: [echo]",
    "defaultTest:",
    "  options:",
    "    provider:",
    "      id: openai:chat:bench",
    `      config: { apiBaseUrl: "${baseURL}", apiKey: "local" }`,
    "  assert:",
    `    - { type: llm-rubric, value: "${rubric}" }`,
    "tests: file://tests.csv",
    "",
  ].join("\n"),
);

function run(label: string, command: string, commandArgs: string[], env: NodeJS.ProcessEnv = {}): void {
  // promptfoo exits non-zero when an assertion fails; the timing line is there either way.
  const result = spawnSync("/usr/bin/time", ["-f", "TIME %e %U %S %M", command, ...commandArgs], {
    cwd: dir, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"], maxBuffer: 1 << 30, encoding: "utf8",
  });
  const stderr = result.stderr ?? "";
  const line = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr)?.slice(1).map(Number);
  if (!line) throw new Error(`${label}: no timing (${stderr.slice(-500)})`);
  const [wall, user, sys, maxKb] = line as [number, number, number, number];
  console.log(
    `${label.padEnd(22)} ${records} judgments in ${wall.toFixed(2)} s = ${(records / wall).toFixed(0)} judgments/s, ` +
      `CPU ${(user + sys).toFixed(2)} s (${(((user + sys) / records) * 1e6).toFixed(0)} us/judgment), peak RSS ${(maxKb / 1024).toFixed(0)} MiB`,
  );
}

console.log(`node ${process.version}, ${records} records, concurrency ${concurrency}, instant server in another process; whole CLI runs, start-up included`);
try {
  run("critic judge", process.execPath, [
    critic, "judge", "input.jsonl", "-o", "out.jsonl", "--model", "openai:bench", "--base-url", baseURL,
    "--rubric", "helpfulness", "-c", String(concurrency), "--store", "store.sqlite", "--no-progress",
  ]);
  run("promptfoo llm-rubric", promptfoo, ["eval", "-c", "promptfooconfig.yaml", "--no-cache", "--max-concurrency", String(concurrency), "--no-progress-bar", "--no-table", "--no-write", "-o", "promptfoo.json"], {
    PROMPTFOO_DISABLE_TELEMETRY: "1", PROMPTFOO_DISABLE_UPDATE: "1", PROMPTFOO_CONFIG_DIR: join(dir, ".promptfoo"),
  });
  // Both must have graded every record, or the timings compare nothing.
  const judged = readFileSync(join(dir, "out.jsonl"), "utf8").trim().split("\n").filter((l) => JSON.parse(l).score === 4).length;
  const stats = (JSON.parse(readFileSync(join(dir, "promptfoo.json"), "utf8")) as { results: { stats: { successes: number; failures: number; errors?: number } } }).results.stats;
  console.log(`check: critic scored ${judged}/${records}; promptfoo passed ${stats.successes}, failed ${stats.failures}, errors ${stats.errors ?? 0}`);
} finally {
  server.kill("SIGTERM");
}
