import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultServer, type FaultServer } from "../support/fault-server.js";
import { assertBuilt, runCli } from "../support/cli.js";

let dir: string;
const servers: FaultServer[] = [];
const rows = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, any>);

beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "critic-jury-"));
  // Three judges with their own opinions: a lenient one, a harsh one, and one that fails on "hard" records.
  servers.push(await startFaultServer({ reply: () => "Feedback: fine. [RESULT] 5" }));
  servers.push(await startFaultServer({ reply: () => "Feedback: weak. [RESULT] 2" }));
  servers.push(await startFaultServer({ faults: (_i, body) => (JSON.stringify(body).includes("hard") ? { status: 400, message: "no" } : undefined), reply: () => "Feedback: ok. [RESULT] 2" }));
});
afterAll(async () => Promise.all(servers.map((s) => s.close())));

const jurors = (n: number) => servers.slice(0, n).flatMap((s, i) => ["--model", `openai:judge-${i}`, "--base-url", s.baseURL]);

describe("critic judge with a jury (several --model)", () => {
  it("every juror grades every record; the verdict is their mean (or median), each juror's kept, agreement reported", async () => {
    const input = join(dir, "in.jsonl");
    writeFileSync(input, ["easy", "hard"].map((r, i) => JSON.stringify({ id: i, instruction: "q", response: r })).join("\n") + "\n");
    const out = join(dir, "mean.jsonl");
    const run = await runCli(["judge", input, "-o", out, ...jurors(3), "--rubric", "helpfulness", "--store", join(dir, "s.sqlite")]);
    expect(run.code, run.stderr).toBe(0);
    const [easy, hard] = rows(out);
    expect(easy!.score).toBe(3); // (5 + 2 + 2) / 3
    expect(easy!.judge.jury.method).toBe("mean");
    expect(easy!.judge.jury.jurors.map((j: { model: string; score: number }) => [j.model, j.score])).toEqual([["judge-0", 5], ["judge-1", 2], ["judge-2", 2]]);
    // A juror that fails is listed with its error; the others decide.
    expect(hard!.score).toBe(3.5);
    expect(hard!.judge.jury.jurors[2]).toMatchObject({ model: "judge-2", score: null, error: expect.stringMatching(/HTTP 400/) });
    expect(servers.map((s) => s.count)).toEqual([2, 2, expect.any(Number)]);
    expect(run.stderr).toMatch(/jury of 3 \(mean\): openai:judge-0, openai:judge-1, openai:judge-2; agreement between jurors, Fleiss' kappa -?\d\.\d+ on 1 record\n/);

    const median = join(dir, "median.jsonl");
    const m = await runCli(["judge", input, "-o", median, ...jurors(3), "--jury", "median", "--rubric", "helpfulness", "--store", join(dir, "s.sqlite")]);
    expect(m.code, m.stderr).toBe(0);
    expect(rows(median).map((r) => r.score)).toEqual([2, 3.5]);
  });

  it("pairwise juries take the majority; a split vote is a tie; --jury mean is refused for verdicts", async () => {
    const pairServers = [
      await startFaultServer({ reply: () => "Feedback: a. [RESULT] A" }),
      await startFaultServer({ reply: () => "Feedback: a. [RESULT] A" }),
      await startFaultServer({ reply: () => "Feedback: b. [RESULT] B" }),
    ];
    try {
      const input = join(dir, "pairs.jsonl");
      writeFileSync(input, JSON.stringify({ instruction: "q", response_a: "x", response_b: "y", criteria: "c" }) + "\n");
      const args = (n: number, out: string, ...more: string[]) => ["judge", input, "-o", join(dir, out), "--mode", "pairwise", ...pairServers.slice(0, n).flatMap((s, i) => ["--model", `openai:p${i}`, "--base-url", s.baseURL]), "--store", join(dir, "p.sqlite"), ...more];
      expect((await runCli(args(3, "maj.jsonl"))).code).toBe(0);
      expect(rows(join(dir, "maj.jsonl"))[0]!.winner).toBe("A");
      const split = await runCli(["judge", input, "-o", join(dir, "split.jsonl"), "--mode", "pairwise", "--model", "openai:p1", "--base-url", pairServers[1]!.baseURL, "--model", "openai:p2", "--base-url", pairServers[2]!.baseURL, "--store", join(dir, "p.sqlite")]);
      expect(split.code).toBe(0);
      expect(rows(join(dir, "split.jsonl"))[0]!.winner).toBe("tie");
      const mean = await runCli(args(2, "mean.jsonl", "--jury", "mean"));
      expect(mean.code).toBe(1);
      expect(mean.stderr).toMatch(/--jury mean is for scores; pairwise verdicts are decided by majority/);
    } finally {
      await Promise.all(pairServers.map((s) => s.close()));
    }
  });

  it("meta-eval measures the jury and each juror against gold, and notes how much the jurors agree", async () => {
    const input = join(dir, "gold.jsonl");
    writeFileSync(input, [5, 2, 4, 1].map((gold, i) => JSON.stringify({ id: i, instruction: "q", response: `r${i}`, human: gold })).join("\n") + "\n");
    const out = join(dir, "gold-judged.jsonl");
    expect((await runCli(["judge", input, "-o", out, ...jurors(2), "--rubric", "helpfulness", "--store", join(dir, "g.sqlite")])).code).toBe(0);
    const report = join(dir, "jury-report");
    const meta = await runCli(["meta-eval", out, "--gold", "human", "--bootstrap", "0", "-o", report]);
    expect(meta.code, meta.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(join(report, "metrics.json"), "utf8")) as { judges: Array<{ name: string; coverage: { evaluated: number }; metrics: { mae: { value: number } } }>; notes: string[] };
    expect(metrics.judges.map((j) => j.name)).toEqual(["gold-judged", "gold-judged / juror 1 (judge-0)", "gold-judged / juror 2 (judge-1)"]);
    // Juror 1 always says 5, juror 2 always 2, the jury 3.5: gold 5, 2, 4, 1.
    expect(metrics.judges.map((j) => j.metrics.mae.value)).toEqual([(1.5 + 1.5 + 0.5 + 2.5) / 4, (0 + 3 + 1 + 4) / 4, (3 + 0 + 2 + 1) / 4]);
    expect(metrics.notes.join("\n")).toMatch(/gold-judged is a jury of 2 \(judge-0, judge-1\).*Fleiss' kappa .* on 4 records/);
  });

  it("refuses a mismatched list of servers", async () => {
    const input = join(dir, "in.jsonl");
    const bad = await runCli(["judge", input, "-o", join(dir, "x.jsonl"), "--model", "openai:a", "--model", "openai:b", "--model", "openai:c", "--base-url", "http://127.0.0.1:1/v1", "--base-url", "http://127.0.0.1:2/v1", "--rubric", "helpfulness"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/2 --base-url values for 3 --model values/);
  });
});
