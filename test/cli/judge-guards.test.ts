import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lastUserMessage, startFaultServer, type FaultServer } from "../support/fault-server.js";
import { assertBuilt, runCli, startCli } from "../support/cli.js";

const RECORDS = 400;
let server: FaultServer;
let dir: string;
let input: string;

beforeAll(async () => {
  assertBuilt();
  // Records whose response says "outage" always get a 400 (not retried): they fail for good after the retries.
  server = await startFaultServer({
    faults: (_i, body) => (lastUserMessage(body).includes("outage") ? { status: 400, message: "bad request" } : { delayMs: 20 }),
  });
  dir = mkdtempSync(join(tmpdir(), "critic-guards-"));
  input = join(dir, "input.jsonl");
  const lines = Array.from({ length: RECORDS }, (_, i) => JSON.stringify({ id: i, instruction: `question ${i}`, response: `answer ${i}` }));
  writeFileSync(input, `${lines.join("\n")}\n`);
});
afterAll(async () => server?.close());

const judgeArgs = (inFile: string, out: string, ...more: string[]) => [
  "judge", inFile, "-o", out, "--model", "openai:judge", "--base-url", server.baseURL, "-c", "4",
  "--store", join(dir, `${out.split("/").pop()}.store.sqlite`), ...more,
];

function jsonLines(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("critic judge guards its output and its inputs", () => {
  it("refuses a second run on the same output while the first writes it; --wait waits; never a mixed file", async () => {
    const out = join(dir, "shared-out.jsonl");
    const first = startCli(judgeArgs(input, out, "--rubric", "helpfulness"));
    while (!existsSync(`${out}.lock`)) await new Promise((r) => setTimeout(r, 10));
    const refused = await runCli(judgeArgs(input, out, "--rubric", "honesty"));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`another run \\(pid ${first.child.pid}\\) is writing ${out}`));
    const waiting = startCli(judgeArgs(input, out, "--rubric", "honesty", "--wait"));
    const firstResult = await first.done;
    expect(firstResult.code, firstResult.stderr).toBe(0);
    const waited = await waiting.done;
    expect(waited.code, waited.stderr).toBe(0);
    const rows = jsonLines(out);
    expect(rows.map((r) => r.id)).toEqual([...Array(RECORDS).keys()]);
    // The waiting run wrote the file after the first: every row is from the honesty run.
    const criteria = new Set(rows.map((r) => (r.judge as { rubric?: { criteria?: string } }).rubric?.criteria));
    expect(criteria.size).toBe(1);
    expect([...criteria][0]).toMatch(/truthful/);
    expect(existsSync(`${out}.lock`)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it("refuses an output that is the input, and leaves the input as it was", async () => {
    const before = readFileSync(input, "utf8");
    const result = await runCli(judgeArgs(input, input));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/is also an input of this run/);
    expect(readFileSync(input, "utf8")).toBe(before);
  });

  it("names a missing input and a --map field that no record has", async () => {
    const missing = await runCli(judgeArgs(join(dir, "nope.jsonl"), join(dir, "x.jsonl")));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`input file not found: ${join(dir, "nope.jsonl")}`);
    const typo = await runCli(judgeArgs(input, join(dir, "y.jsonl"), "--map", "response=respons"));
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/--map response=respons: no record of .* has a field "respons"; did you mean "response"\?/);
  });

  it("exits 1 saying how many failed when records fail, and the counts add up", async () => {
    const file = join(dir, "mixed.jsonl");
    const rows = [
      ...Array.from({ length: 5 }, (_, i) => JSON.stringify({ id: i, instruction: `q${i}`, response: `fine ${i}` })),
      ...Array.from({ length: 2 }, (_, i) => JSON.stringify({ id: 10 + i, instruction: "q", response: "outage" })),
      '{"id": 20, "instruction": "q"}', "not json", "[1]", '{"instruction": "q", "response": null}', "{",
    ];
    writeFileSync(file, `${rows.join("\n")}\n`);
    const out = join(dir, "mixed-out.jsonl");
    const result = await runCli(judgeArgs(file, out, "--rubric", "helpfulness", "--timeout", "2000"));
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain("records 12, judged 5, failed 2, rejected 5");
    expect(result.stderr).toContain("2 failed: run the same command again to retry them");
  });

  it("Ctrl-C exits 130 with a summary that adds up: the records read and not judged are counted as not started", async () => {
    const out = join(dir, "sigint-out.jsonl");
    const run = startCli(judgeArgs(input, out, "--rubric", "helpfulness"));
    while (!existsSync(`${out}.partial`) || readFileSync(`${out}.partial`, "utf8").split("\n").length < 20) await new Promise((r) => setTimeout(r, 10));
    run.child.kill("SIGINT");
    const result = await run.done;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain("interrupted: partial output in");
    const [, records, judged, failed, rejected, notStarted] = /records (\d+), judged (\d+), failed (\d+), rejected (\d+), not started (\d+)/.exec(result.stderr)!.map(Number);
    expect(judged! + failed! + rejected! + notStarted!).toBe(records);
    expect(judged).toBe(readFileSync(`${out}.partial`, "utf8").trim().split("\n").length);
    expect(judged).toBeLessThan(RECORDS);
  });

  it("--request-retries sets the HTTP retries, and the summary counts the server faults that were retried", async () => {
    const seen = new Map<string, number>();
    // Every record's first two calls get a 503; the third answers.
    const flaky = await startFaultServer({
      faults: (_i, body) => {
        const key = lastUserMessage(body);
        const n = (seen.get(key) ?? 0) + 1;
        seen.set(key, n);
        return n <= 2 ? { status: 503, message: "overloaded", retryAfterMs: 1 } : undefined;
      },
    });
    try {
      const file = join(dir, "flaky.jsonl");
      writeFileSync(file, ["a", "b", "c"].map((r, i) => JSON.stringify({ id: i, instruction: "q", response: r })).join("\n") + "\n");
      const args = (out: string, ...more: string[]) => ["judge", file, "-o", out, "--model", "openai:judge", "--base-url", flaky.baseURL, "--rubric", "helpfulness", "--store", join(dir, `${out.split("/").pop()}.sqlite`), ...more];
      const ok = await runCli(args(join(dir, "flaky-ok.jsonl")));
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stderr).toContain("backend errors 0 (after 6 retried server faults)");
      seen.clear();
      const few = await runCli(args(join(dir, "flaky-few.jsonl"), "--request-retries", "1"));
      expect(few.code).toBe(1);
      expect(few.stderr).toContain("records 3, judged 0, failed 3");
      expect(few.stderr).toContain("backend errors 3 (after 3 retried server faults)");
    } finally {
      await flaky.close();
    }
  });

  it("--price totals the cost; --max-cost stops cleanly, and a re-run pays only for what is left", async () => {
    const file = join(dir, "priced.jsonl");
    writeFileSync(file, Array.from({ length: 20 }, (_, i) => JSON.stringify({ id: i, instruction: `question ${i}`, response: `answer ${i}` })).join("\n") + "\n");
    const out = join(dir, "priced-out.jsonl");
    const store = join(dir, "priced.sqlite");
    const args = (...more: string[]) => ["judge", file, "-o", out, "--model", "openai:judge", "--base-url", server.baseURL, "-c", "1", "--rubric", "helpfulness", "--store", store, "--price", "in=1000000,out=0", ...more];
    const first = await runCli(args("--max-cost", "2000"));
    expect(first.code).toBe(1);
    expect(first.stderr).toContain("stopped at --max-cost");
    const cost = Number(/cost \$([\d.]+) for (\d+) prompt/.exec(first.stderr)![1]);
    const partial = readFileSync(`${out}.partial`, "utf8").trim().split("\n");
    // Each call costs its prompt tokens in dollars and reserves its estimate before it is sent: the
    // run stops before the call that could take it over $2000, never after.
    expect(cost).toBeLessThanOrEqual(2000);
    expect(cost).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(20);
    // The summary adds up: every record read is judged, failed, rejected or not started.
    const [, records, judged, failed, rejected, notStarted] = /records (\d+), judged (\d+), failed (\d+), rejected (\d+), not started (\d+)/.exec(first.stderr)!.map(Number);
    expect(judged).toBe(partial.length);
    expect(judged! + failed! + rejected! + notStarted!).toBe(records);
    expect(notStarted).toBeGreaterThan(0);
    expect(existsSync(out)).toBe(false);
    const rest = await runCli(args());
    expect(rest.code, rest.stderr).toBe(0);
    expect(jsonLines(out)).toHaveLength(20);
    // Each judgment records what it cost to produce: its prompt tokens at $1 each here.
    for (const j of jsonLines(out)) expect((j.judge as { cost_usd: number; tokens: { prompt: number } }).cost_usd).toBe((j.judge as { tokens: { prompt: number } }).tokens.prompt);
    expect(rest.stderr).toMatch(new RegExp(`calls 20 \\(${partial.length} cached\\)`));
    const restCost = Number(/cost \$([\d.]+)/.exec(rest.stderr)![1]);
    expect(restCost).toBeGreaterThan(0);
    expect(restCost).toBeLessThan(cost * 20);
    const bad = await runCli(["judge", file, "-o", join(dir, "nope.jsonl"), "--model", "openai:judge", "--base-url", server.baseURL, "--rubric", "helpfulness", "--max-cost", "1"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--max-cost needs --price");
  });

  it("exits 1 when every record is rejected", async () => {
    const file = join(dir, "bad.jsonl");
    writeFileSync(file, '{"instruction": "q"}\n{"instruction": "q2"}\n');
    const result = await runCli(judgeArgs(file, join(dir, "bad-out.jsonl"), "--rubric", "helpfulness"));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("nothing was judged: all 2 records were rejected");
  });
});
