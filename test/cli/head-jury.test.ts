import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runCli } from "../support/cli.js";
import { startFaultServer, type ChatBody, type FaultServer } from "../support/fault-server.js";
import { ensureTinyModel, TINY_MODEL_OPTIONS } from "../../src/gguf/tiny-model.js";
import { createTinyPackage } from "../../src/heads/tiny-package.js";

// Juries that mix classifier/regression heads (judge packages) with a generative judge on a local
// OpenAI-compatible server, and heads with heads.
let dir: string;
let classify: string;
let regress: string;
let server: FaultServer;
let pairServer: FaultServer;
/** The score the generative juror gives each record (by its response): set from the classify package's own. */
const serverScores = new Map<string, number>();
const rows = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, any>);
const RESPONSES = ["4", "five", "It is 4 because 2 and 2 make 4."];
const lastUser = (body: ChatBody) => [...(body.messages ?? [])].reverse().find((m) => m.role === "user")?.content ?? "";

beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "critic-head-jury-"));
  const backbone = await ensureTinyModel();
  classify = join(dir, "pkg-classify");
  regress = join(dir, "pkg-regress");
  await createTinyPackage(classify, { backbone, model: TINY_MODEL_OPTIONS, kind: "classify" });
  await createTinyPackage(regress, { backbone, model: TINY_MODEL_OPTIONS, kind: "regress" });
  writeFileSync(join(dir, "abs.jsonl"), RESPONSES.map((r, i) => JSON.stringify({ id: i, instruction: "What is 2+2?", response: r })).join("\n") + "\n");
  writeFileSync(join(dir, "pairs.jsonl"), [["4", "5"], ["five", "4"]].map(([a, b], i) => JSON.stringify({ id: i, instruction: "What is 2+2?", response_a: a, response_b: b })).join("\n") + "\n");
  // The generative juror: Prometheus's output format, the score chosen per record (below).
  server = await startFaultServer({
    reply: (body) => {
      const text = lastUser(body);
      const response = RESPONSES.find((r) => text.includes(`###Response to evaluate:\n${r}\n`));
      return `Feedback: judged. [RESULT] ${response === undefined ? 1 : serverScores.get(response) ?? 1}`;
    },
  });
  pairServer = await startFaultServer({ reply: () => "Feedback: A is right. [RESULT] A" });
});
afterAll(async () => Promise.all([server?.close(), pairServer?.close()]));

const common = ["--rubric", "helpfulness", "--threads", "1"];

describe("critic judge: a jury of heads and generative judges", () => {
  it("each juror judges as it would alone; mean, median and majority decide; kappa reported; a re-run makes no calls", async () => {
    // Each package alone (its own store), for what each juror must say in the jury.
    const solo: Record<string, Array<Record<string, any>>> = {};
    for (const [name, pkg] of [["classify", classify], ["regress", regress]] as const) {
      const out = join(dir, `solo-${name}.jsonl`);
      const run = await runCli(["judge", join(dir, "abs.jsonl"), "-o", out, "--model", pkg, ...common, "--store", join(dir, `solo-${name}.sqlite`)]);
      expect(run.code, run.stderr).toBe(0);
      solo[name] = rows(out);
    }
    // The generative juror agrees with the classifier on every record: the majority is the classifier's score.
    RESPONSES.forEach((r, i) => serverScores.set(r, solo.classify![i]!.score as number));

    const store = join(dir, "jury.sqlite");
    const jury = (method: string, out: string) => runCli(["judge", join(dir, "abs.jsonl"), "-o", join(dir, out), "--model", classify, "--model", regress, "--model", "openai:gen", "--base-url", server.baseURL, "--jury", method, ...common, "--store", store]);
    const mean = await jury("mean", "mean.jsonl");
    expect(mean.code, mean.stderr).toBe(0);
    expect(server.count).toBe(RESPONSES.length);
    expect(mean.stderr).toMatch(/jury of 3 \(mean\): embedded-head:[^,]+, embedded-head:[^,]+, openai:gen; agreement between jurors, Fleiss' kappa -?\d\.\d+ on 3 records\n/);
    const judged = rows(join(dir, "mean.jsonl"));
    for (const [i, j] of judged.entries()) {
      const [c, r, g] = j.judge.jury.jurors as Array<Record<string, any>>;
      // Each head as it judges alone: score, distribution, no feedback, its raw outputs.
      expect(c).toMatchObject({ backend: "embedded-head", score: solo.classify![i]!.score, score_distribution: solo.classify![i]!.score_distribution, score_expected: solo.classify![i]!.score_expected, feedback: null });
      expect(r).toMatchObject({ backend: "embedded-head", score: solo.regress![i]!.score, feedback: null });
      expect(r!.score_distribution).toBeUndefined();
      expect(c!.head.note).toMatch(/no feedback text/);
      expect(r!.head.logits).toHaveLength(1);
      expect(g).toMatchObject({ backend: "openai", model: "gen", score: solo.classify![i]!.score, feedback: "judged." });
      expect(j.judge.jury.method).toBe("mean");
      expect(j.score).toBeCloseTo((c!.score + r!.score + g!.score) / 3, 4);
      expect(j.error).toBeUndefined();
    }
    // The generative juror used the run's template (Prometheus); the heads their own (the package's, here Prometheus too).
    expect(server.requests[0]!.body.messages!.at(-1)!.content).toMatch(/###Score Rubrics:/);

    const median = await jury("median", "median.jsonl");
    expect(median.code, median.stderr).toBe(0);
    const majority = await jury("majority", "majority.jsonl");
    expect(majority.code, majority.stderr).toBe(0);
    for (const [i, j] of rows(join(dir, "median.jsonl")).entries()) {
      const scores = (j.judge.jury.jurors as Array<{ score: number }>).map((x) => x.score).sort((a, b) => a - b);
      expect(j.score).toBeCloseTo(scores[1]!, 4);
      expect(j.judge.jury.method).toBe("median");
      expect(j.judge.jury.jurors.map((x: { score: number }) => x.score)).toEqual(judged[i]!.judge.jury.jurors.map((x: { score: number }) => x.score));
    }
    for (const [i, j] of rows(join(dir, "majority.jsonl")).entries()) expect(j.score).toBe(solo.classify![i]!.score);
    // Median and majority re-used every juror's calls from the mean run.
    expect(server.count).toBe(RESPONSES.length);
    expect(median.stderr).toMatch(/calls 9 \(9 cached\)/);

    // The same command again: every juror's calls come from the run store.
    const again = await jury("mean", "mean-again.jsonl");
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/calls 9 \(9 cached\)/);
    expect(server.count).toBe(RESPONSES.length);
    expect(rows(join(dir, "mean-again.jsonl")).map((j) => j.score)).toEqual(judged.map((j) => j.score));
    expect(rows(join(dir, "mean-again.jsonl")).every((j) => j.judge.cached === true)).toBe(true);
  });

  it("heads with heads: a jury of two packages", async () => {
    const out = join(dir, "heads.jsonl");
    const run = await runCli(["judge", join(dir, "abs.jsonl"), "-o", out, "--model", classify, "--model", regress, "--jury", "median", ...common, "--store", join(dir, "heads.sqlite")]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/jury of 2 \(median\): .*Fleiss' kappa/);
    for (const j of rows(out)) {
      const [c, r] = j.judge.jury.jurors as Array<{ score: number }>;
      expect(j.score).toBeCloseTo((c!.score + r!.score) / 2, 4);
    }
  });

  it("several servers: one --base-url per model that is not a judge package", async () => {
    const other = await startFaultServer({ reply: () => "Feedback: middling. [RESULT] 3" });
    try {
      const before = server.count;
      const out = join(dir, "urls.jsonl");
      const run = await runCli(["judge", join(dir, "abs.jsonl"), "-o", out, "--model", "openai:gen", "--base-url", server.baseURL, "--model", classify, "--model", "openai:other", "--base-url", other.baseURL, ...common, "--store", join(dir, "urls.sqlite")]);
      expect(run.code, run.stderr).toBe(0);
      expect([server.count - before, other.count]).toEqual([RESPONSES.length, RESPONSES.length]);
      for (const j of rows(out)) expect(j.judge.jury.jurors.map((x: { model: string; score: number }) => x.score)[2]).toBe(3);
      const bad = await runCli(["judge", join(dir, "abs.jsonl"), "-o", join(dir, "bad.jsonl"), "--model", "openai:gen", "--model", classify, "--model", "openai:other", "--base-url", server.baseURL, "--base-url", other.baseURL, "--base-url", other.baseURL, "--base-url", other.baseURL, ...common, "--store", join(dir, "urls.sqlite")]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/4 --base-url values for 3 --model values: give one, or one per model \(or one per model that is not a judge package: 2\)/);
    } finally {
      await other.close();
    }
  });

  it("pairwise: each head scores each side (PHUDGE's rule) beside a generative juror; the majority decides", async () => {
    const solo: Record<string, Array<Record<string, any>>> = {};
    for (const [name, pkg] of [["classify", classify], ["regress", regress]] as const) {
      const out = join(dir, `pair-solo-${name}.jsonl`);
      const run = await runCli(["judge", join(dir, "pairs.jsonl"), "-o", out, "--mode", "pairwise", "--model", pkg, ...common, "--store", join(dir, `pair-solo-${name}.sqlite`)]);
      expect(run.code, run.stderr).toBe(0);
      solo[name] = rows(out);
    }
    const out = join(dir, "pair-jury.jsonl");
    const run = await runCli(["judge", join(dir, "pairs.jsonl"), "-o", out, "--mode", "pairwise", "--model", classify, "--model", regress, "--model", "openai:pj", "--base-url", pairServer.baseURL, ...common, "--store", join(dir, "pair-jury.sqlite")]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/jury of 3 \(majority\): .*Fleiss' kappa/);
    expect(pairServer.count).toBe(2);
    // The generative juror saw the pairwise template.
    expect(pairServer.requests[0]!.body.messages!.at(-1)!.content).toMatch(/###Response A:/);
    for (const [i, j] of rows(out).entries()) {
      const [c, r, g] = j.judge.jury.jurors as Array<{ winner: string }>;
      expect(c!.winner).toBe(solo.classify![i]!.winner);
      expect(r!.winner).toBe(solo.regress![i]!.winner);
      expect(g!.winner).toBe("A");
      const votes = [c!.winner, r!.winner, g!.winner];
      const top = ["A", "B", "tie"].find((w) => votes.filter((v) => v === w).length >= 2) ?? "tie";
      expect(j.winner).toBe(top);
    }
  });

  it("refuses, before any call: a head and a judge on different scales, and --swap with a head", async () => {
    const before = server.count;
    const scales = await runCli(["judge", join(dir, "abs.jsonl"), "-o", join(dir, "x.jsonl"), "--model", classify, "--model", "openai:gen", "--base-url", server.baseURL, "--template", "mt-bench", "--store", join(dir, "x.sqlite"), "--threads", "1"]);
    expect(scales.code).toBe(1);
    expect(scales.stderr).toMatch(/jurors grade on different scales: .*1-5.*1-10.*mt-bench/);
    expect(scales.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(scales.stderr).not.toMatch(/embedded head/); // refused before the package was loaded

    const headScales = await runCli(["judge", join(dir, "abs.jsonl"), "-o", join(dir, "y.jsonl"), "--model", classify, "--model", "vllm-classify:ten", "--base-url", server.baseURL, "--head", "classify:1,2,3,4,5,6,7,8,9,10", "--store", join(dir, "x.sqlite"), "--threads", "1"]);
    expect(headScales.code).toBe(1);
    expect(headScales.stderr).toMatch(/jurors grade on different scales: .*1-5.*1-10/);

    const swap = await runCli(["judge", join(dir, "pairs.jsonl"), "-o", join(dir, "z.jsonl"), "--mode", "pairwise", "--model", classify, "--model", "openai:pj", "--base-url", pairServer.baseURL, "--swap", "--store", join(dir, "x.sqlite"), "--threads", "1"]);
    expect(swap.code).toBe(1);
    expect(swap.stderr).toMatch(/--swap is meaningless with a classifier\/regression head/);
    expect(server.count).toBe(before);
  });
});
