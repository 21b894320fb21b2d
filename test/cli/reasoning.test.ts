import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultServer, type FaultServer } from "../support/fault-server.js";
import { assertBuilt, runCli } from "../support/cli.js";

let dir: string;
let input: string;
let server: FaultServer;

beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "critic-reasoning-"));
  input = join(dir, "in.jsonl");
  writeFileSync(input, `${JSON.stringify({ id: 1, instruction: "2+2?", response: "4" })}\n`);
  server = await startFaultServer({ reply: () => "<think>It adds correctly. Maybe [[3]]? No.</think>\n\nCorrect and short.\n\nRating: [[9]]" });
});
afterAll(async () => server.close());

const judge = (out: string, extra: string[]) => runCli(["judge", input, "-o", join(dir, out), "--model", "openai:judge", "--base-url", server.baseURL, "-t", "mt-bench", "--server-grammar", "--max-tokens", "200", "--store", join(dir, `${out}.sqlite`), ...extra]);

describe("judge --reasoning", () => {
  it("sends any template's grammar with a bounded <think> block before the verdict, and reads the verdict after it", async () => {
    const run = await judge("think.jsonl", ["--reasoning"]);
    expect(run.code, run.stderr).toBe(0);
    const grammar = String(server.requests.at(-1)!.body.grammar);
    expect(grammar).toMatch(/^root ::= "<think>"\? think "<\/think>\\n\\n" answer\nanswer ::= feedback "\\n\\nRating: \[\[" score "\]\]"/);
    // --max-tokens 200: 184 characters after the verdict margin, three quarters of them for the reasoning.
    expect(grammar).toContain("think ::= tchar{1,138}");
    const [row] = readFileSync(join(dir, "think.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { score: number; feedback: string });
    expect(row).toMatchObject({ score: 9, feedback: "Correct and short." });
  });

  it("without --reasoning the grammar has no think block (the verdict is still read after a </think>)", async () => {
    const run = await judge("plain.jsonl", []);
    expect(run.code, run.stderr).toBe(0);
    expect(String(server.requests.at(-1)!.body.grammar)).toMatch(/^root ::= feedback/);
  });
});
