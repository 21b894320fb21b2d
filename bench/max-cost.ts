/**
 * `--max-cost` overshoot: judges 400 records with `judge()` against a local OpenAI-compatible server
 * that counts the calls it answers (each after a short delay, so calls overlap), at concurrency 1,
 * 16 and 32, with a cap and price that make a call cost about $0.43 (about 46 calls for $20, as in
 * the issue's run). Prints the calls the server answered, what they cost, and the overshoot
 * (spent - cap; negative: under the cap).
 *
 *   npm run bench:build && node build/bench/max-cost.js [cap dollars] [delay ms]
 */
import { createWriteStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { judge } from "../src/judge/judge.js";
import { startFaultServer } from "../test/support/fault-server.js";

const cap = Number(process.argv[2] ?? 20);
const delayMs = Number(process.argv[3] ?? 20);
const records = 400;
const dir = mkdtempSync(join(tmpdir(), "critic-bench-cost-"));
const input = join(dir, "input.jsonl");
const file = createWriteStream(input);
for (let i = 0; i < records; i++) file.write(`${JSON.stringify({ id: i, instruction: `Question number ${i}: explain something.`, response: `Answer ${i}. `.repeat(20) })}\n`);
file.end();
await once(file, "finish");

const server = await startFaultServer({ record: false, faults: () => ({ delayMs }) });
// About 290 prompt tokens (words, as the server counts them) and 25 completion tokens a call.
const price = { inputPerMillion: 1450, outputPerMillion: 500 };
console.log(`cap $${cap}, ${records} records, replies after ${delayMs} ms, price in=${price.inputPerMillion},out=${price.outputPerMillion} per 1M`);
for (const concurrency of [1, 16, 32]) {
  const before = server.count;
  const summary = await judge({
    input, output: join(dir, `c${concurrency}.jsonl`), model: "openai:bench", baseURL: server.baseURL, concurrency,
    rubric: "helpfulness", store: join(dir, `c${concurrency}.sqlite`), progress: false, price, maxCost: cap,
  });
  const calls = server.count - before;
  const spent = summary.cost!.usd;
  const perCall = spent / Math.max(1, calls);
  console.log(
    `c=${String(concurrency).padStart(2)}: ${calls} calls answered, $${spent.toFixed(2)} spent, overshoot $${(spent - cap).toFixed(2)} ` +
      `(${((spent - cap) / perCall).toFixed(1)} calls), judged ${summary.judged}, not started ${summary.notStarted}`,
  );
}
await server.close();
