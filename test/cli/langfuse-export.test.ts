// critic export -f langfuse-scores: judgments as Langfuse score objects, read from real files by the CLI.
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runCli } from "../support/cli.js";
import { langfuseScoreOf } from "../../src/export/langfuse.js";

let dir: string;
beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), "critic-langfuse-"));
});

const judge = { backend: "embedded", model: "judge.gguf", template: "prometheus-absolute", raw: "Feedback: ok [RESULT] 4", samples: [], tokens: { prompt: 1, completion: 1 }, latencyMs: 1, cached: false, calls: 1 };

describe("critic export -f langfuse-scores", () => {
  it("writes one score per judgment with its trace and observation, skips failed ones with file and line", async () => {
    const input = join(dir, "judgments.jsonl");
    writeFileSync(input, [
      { trace: "tr-1", span: "obs-1", instruction: "q", response: "r", feedback: "Clear and right.", score: 4, score_distribution: { "4": 0.7, "5": 0.3 }, judge },
      { trace: "tr-2", instruction: "q", response: "r", feedback: "A wins.", winner: "A", judge: { ...judge, template: "prometheus-pairwise" } },
      { trace: "tr-3", instruction: "q", response: "r", feedback: null, score: null, error: "unparseable judge output after 3 attempt(s)", judge },
      { instruction: "q", response: "r", feedback: "fine", score: 3, judge },
    ].map((r) => JSON.stringify(r)).join("\n") + "\n");
    const out = join(dir, "out");
    const run = await runCli(["export", input, "-o", out, "-f", "langfuse-scores", "--trace-field", "trace", "--observation-field", "span"]);
    expect(run.code, run.stderr).toBe(0);
    const scores = readFileSync(join(out, "langfuse-scores.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(scores).toHaveLength(2);
    expect(scores[0]).toMatchObject({ traceId: "tr-1", observationId: "obs-1", name: "critic.prometheus-absolute", value: 4, dataType: "NUMERIC", comment: "Clear and right.", metadata: { score_distribution: { "4": 0.7, "5": 0.3 }, model: "judge.gguf" } });
    expect(scores[1]).toMatchObject({ traceId: "tr-2", name: "critic.prometheus-pairwise", value: "A", dataType: "CATEGORICAL" });
    expect(scores[1].observationId).toBeUndefined();
    expect(run.stderr).toContain(`skipped ${input}:3: the judgment failed: unparseable judge output`);
    expect(run.stderr).toContain(`skipped ${input}:4: field "trace" (the Langfuse trace id) is missing or empty`);
    expect(run.stderr).toContain("langfuse-scores: 2 scores");
    expect(existsSync(join(out, "langfuse-scores.jsonl.partial"))).toBe(false);
  });

  it("gives a score the same id each time, so sending the file again updates rather than duplicates", () => {
    const j = { trace_id: "t", feedback: "x", score: 2, judge };
    const a = langfuseScoreOf(j);
    const b = langfuseScoreOf({ ...j, score: 5 });
    const other = langfuseScoreOf(j, { name: "helpfulness" });
    if (!a.ok || !b.ok || !other.ok) throw new Error("expected scores");
    expect(a.score.id).toBe(b.score.id);
    expect(other.score.id).not.toBe(a.score.id);
    expect(other.score.name).toBe("helpfulness");
  });
});
