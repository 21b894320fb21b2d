/** The run summaries the CLI prints: counts in the right number, and nothing left unsaid. */
import { describe, expect, it } from "vitest";
import { emptyStats } from "../judge/engine.js";
import type { JudgeSummary } from "../judge/judge.js";
import { emptyGenerationStats } from "../pipelines/runtime.js";
import type { PipelineSummary } from "../pipelines/run.js";
import { formatGenerateSummary } from "./generate.js";
import { formatSummary } from "./judge.js";

function judgeSummary(over: Partial<JudgeSummary>): JudgeSummary {
  return { ...emptyStats(), status: "finished", records: 1, rejected: 0, output: "out.jsonl", rejects: null, elapsedMs: 10, requestRetries: 0, runId: 1, ...over } as JudgeSummary;
}

describe("critic judge summary", () => {
  it("one judgment is singular; one batch request line too", () => {
    expect(formatSummary(judgeSummary({ judged: 1, calls: 1 }))).toMatch(/^wrote 1 judgment to out\.jsonl\n/);
    expect(formatSummary(judgeSummary({ judged: 2, records: 2 }))).toMatch(/^wrote 2 judgments to out\.jsonl\n/);
    expect(formatSummary(judgeSummary({ batchFile: { file: "b.jsonl", requests: 1 }, cachedCalls: 1 }))).toMatch(/^wrote 1 batch request line to b\.jsonl \(1 call already in the run store/);
    expect(formatSummary(judgeSummary({ judged: 0, records: 1, rejected: 1 }))).toContain("nothing was judged: the one record was rejected");
  });

  it("--swap auto says so when it saved nothing, and why", () => {
    const none = formatSummary(judgeSummary({ judged: 3, records: 3, swapPairs: 3, swapConsistent: 3, swapSkipped: 0 }), { swap: "auto", swapThreshold: 0.95 });
    expect(none).toContain("--swap auto: 0 calls saved: all 3 pairs graded in both orders (the judge's winner probability never reached --swap-threshold 0.95)");
    const some = formatSummary(judgeSummary({ judged: 3, records: 3, swapPairs: 2, swapConsistent: 2, swapSkipped: 1 }), { swap: "auto" });
    expect(some).toContain("--swap auto: 1 of 3 pairs graded in one order (the judge sure enough), 1 call saved");
    // Plain --swap: nothing about auto.
    expect(formatSummary(judgeSummary({ judged: 3, records: 3, swapPairs: 3, swapConsistent: 3 }), { swap: true })).not.toContain("--swap auto");
  });
});

describe("critic generate summary", () => {
  const base: PipelineSummary = {
    command: "generate questions", status: "finished", records: 4, rejected: 0, items: 4, failed: 0, written: 4, failures: 0,
    generation: { ...emptyGenerationStats(), calls: 4 }, judge: emptyStats(), requestRetries: 0,
    stage: { mode: "classify", classified: 4, failed: 0 }, output: "labelled.jsonl", rejects: null, failuresFile: null, elapsedMs: 5, runId: 1,
  };

  it("--classify counts the judge's classification calls as the judge's, not as `judge calls 0`", () => {
    const text = formatGenerateSummary(base);
    expect(text).toContain("judge (classification) calls 4 (0 cached)");
    expect(text).not.toMatch(/generation calls|judge calls 0/);
  });

  it("one row is singular", () => {
    expect(formatGenerateSummary({ ...base, written: 1 })).toMatch(/^wrote 1 row to labelled\.jsonl\n/);
  });
});
