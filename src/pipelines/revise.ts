/**
 * Self-critique and revision (Distilled Self-Critique, arXiv 2312.01957): the model answers a
 * prompt, critiques its answer against a principle, and revises it; `steps` rounds, each critiquing
 * the latest revision. The judge scores the original and every revision, and a revision is accepted
 * when it beats the original by the acceptance rule, giving a chosen/rejected pair.
 */
import type { ChatMessage } from "../backends/types.js";
import type { RawRecord } from "../records/types.js";
import { loadPrinciple, type Principle } from "./assets.js";
import { requiredText } from "./fields.js";
import { InterruptedError } from "./runtime.js";
import {
  runPipelineFile, runPipelineRecords, scorerOf,
  type PipelineOptions, type PipelineRecordsOptions, type PipelineSummary, type Stage, type StageContext,
} from "./run.js";

/** When a revision is accepted: it scores higher than the original, by at least a gain, or always. */
export type AcceptRule = "improved" | "always" | { minGain: number };

/** Parses `improved`, `always` or `min-gain=x`. */
export function parseAcceptRule(text: string): AcceptRule {
  const value = text.trim();
  if (value === "improved" || value === "always") return value;
  const match = /^min-gain=(.+)$/.exec(value);
  const gain = match ? Number(match[1]) : NaN;
  if (!match || !Number.isFinite(gain)) throw new Error(`--accept expects improved, always or min-gain=<number>, got "${text}"`);
  return { minGain: gain };
}

export function describeAcceptRule(rule: AcceptRule): string {
  return typeof rule === "string" ? rule : `min-gain=${rule.minGain}`;
}

/** Whether a revision scoring `revised` is accepted against an original scoring `original`. */
export function accepts(rule: AcceptRule, original: number, revised: number): boolean {
  if (rule === "always") return true;
  if (rule === "improved") return revised > original;
  return revised - original >= rule.minGain;
}

export interface ChainStep {
  response: string;
  /** The critique this revision answers (absent on the original). */
  critique?: string;
  score: number | null;
  feedback: string | null;
  /** Why there is no score (judge output that never parsed, backend error). */
  error?: string;
}

/** One output record: the input's own fields plus the chain and the pair it gives. */
export type ReviseRecord = Record<string, unknown> & {
  prompt: string;
  principle: string;
  chain: ChainStep[];
  accepted: boolean;
  chosen: string | null;
  rejected: string | null;
  chosen_score: number | null;
  rejected_score: number | null;
  error?: string;
};

export interface ReviseSettings {
  /** A built-in principle (harmlessness, positive-sentiment, privacy), a principle YAML file, or a Principle. Default harmlessness. */
  principle?: string | Principle;
  /** Critique-revision rounds. Default 1 (what the paper found sufficient). */
  steps?: number;
  /** Default "improved". */
  accept?: AcceptRule;
}

export interface ReviseOptions extends PipelineOptions, ReviseSettings {
  /** Prompts file: records with `prompt` (or `instruction`). */
  input: string;
}

export interface ReviseCounters {
  accepted: number;
  notAccepted: number;
  generationFailures: number;
  scoreFailures: number;
}

interface ReviseItem {
  record: RawRecord;
  prompt: string;
}

/** The revise pipeline as a Stage (for runPipelineFile / runPipelineRecords). */
export function reviseStage(settings: ReviseSettings): Stage<ReviseItem> & { counters: ReviseCounters } {
  const principle = typeof settings.principle === "object" ? settings.principle : loadPrinciple(settings.principle ?? "harmlessness");
  const steps = settings.steps ?? 1;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive whole number, got ${steps}`);
  const rule = settings.accept ?? "improved";
  const counters: ReviseCounters = { accepted: 0, notAccepted: 0, generationFailures: 0, scoreFailures: 0 };
  return {
    command: "generate revise",
    uses: { model: true, judge: true },
    scores: true,
    ...(principle.rubric ? { defaultRubric: principle.rubric } : {}),
    counters,
    check(record) {
      const prompt = requiredText(record, ["prompt", "instruction"]);
      if (!prompt.ok) return prompt;
      return { ok: true, item: { record, prompt: prompt.value } };
    },
    async process(item, ctx) {
      const row = await reviseOne(item, principle, steps, rule, ctx);
      if (row.accepted) counters.accepted++;
      else counters.notAccepted++;
      if (row.error?.startsWith("generation")) counters.generationFailures++;
      else if (row.error !== undefined) counters.scoreFailures++;
      return { rows: [row], failed: row.error !== undefined };
    },
    summary: () => ({ ...counters, principle: principle.name, steps, accept: describeAcceptRule(rule) }),
    describe: () => ({ principle: principle.name, steps, accept: describeAcceptRule(rule) }),
  };
}

/** The messages of each link of the chain (Constitutional-AI style turns). */
export function chainMessages(prompt: string, response: string, principle: Principle, critique?: string): ChatMessage[] {
  const messages: ChatMessage[] = [
    { role: "user", content: prompt },
    { role: "assistant", content: response },
    { role: "user", content: principle.critiqueRequest },
  ];
  if (critique !== undefined) {
    messages.push({ role: "assistant", content: critique }, { role: "user", content: principle.revisionRequest });
  }
  return messages;
}

async function reviseOne(item: ReviseItem, principle: Principle, steps: number, rule: AcceptRule, ctx: StageContext): Promise<ReviseRecord> {
  const { prompt } = item;
  const chain: ChainStep[] = [];
  const texts: Array<{ response: string; critique?: string }> = [];
  let error: string | undefined;
  try {
    const original = await ctx.generator.text([{ role: "user", content: prompt }], ctx.params, { maxRetries: ctx.maxRetries, what: "response" });
    texts.push({ response: original.text });
    for (let step = 1; step <= steps; step++) {
      const current = texts[texts.length - 1]!.response;
      const critique = await ctx.generator.text(chainMessages(prompt, current, principle), ctx.params, { maxRetries: ctx.maxRetries, what: "critique" });
      const revision = await ctx.generator.text(chainMessages(prompt, current, principle, critique.text), ctx.params, { maxRetries: ctx.maxRetries, what: "revision" });
      texts.push({ response: revision.text, critique: critique.text });
    }
  } catch (caught) {
    if (caught instanceof InterruptedError) throw caught;
    error = `generation failed at step ${texts.length}: ${caught instanceof Error ? caught.message : String(caught)}`;
  }
  const scores = await scorerOf(ctx).score(texts.map((t) => ({ instruction: prompt, response: t.response })));
  texts.forEach((t, i) => {
    const s = scores[i]!;
    chain.push({ response: t.response, ...(t.critique !== undefined ? { critique: t.critique } : {}), score: s.score, feedback: s.feedback, ...(s.error ? { error: s.error } : {}) });
  });
  const base = { ...item.record, prompt, principle: principle.name, chain };
  const notAccepted = { accepted: false, chosen: null, rejected: null, chosen_score: null, rejected_score: null };
  if (error !== undefined) return { ...base, ...notAccepted, error };
  const failed = chain.findIndex((step) => step.score === null);
  if (failed !== -1) {
    return { ...base, ...notAccepted, error: `judge failed on ${failed === 0 ? "the original" : `revision ${failed}`}: ${chain[failed]!.error ?? "no score"}` };
  }
  const original = chain[0]!.score!;
  let best: ChainStep | undefined;
  for (const step of chain.slice(1)) {
    if (!accepts(rule, original, step.score!)) continue;
    if (!best || step.score! >= best.score!) best = step; // ties: the later (more revised) one
  }
  if (!best) return { ...base, ...notAccepted };
  return {
    ...base,
    accepted: true,
    chosen: best.response,
    rejected: chain[0]!.response,
    chosen_score: best.score,
    rejected_score: original,
  };
}

/** Runs self-critique and revision over a prompts file; writes one ReviseRecord per prompt, in order. */
export async function revise(options: ReviseOptions): Promise<PipelineSummary & { stage: ReviseCounters }> {
  const stage = reviseStage(options);
  return (await runPipelineFile(stage, options.input, options)) as PipelineSummary & { stage: ReviseCounters };
}

/** Self-critique and revision over in-memory records (library use); yields ReviseRecords in order. */
export async function* reviseRecords(
  records: Iterable<RawRecord> | AsyncIterable<RawRecord>,
  options: PipelineRecordsOptions & ReviseSettings,
): AsyncGenerator<ReviseRecord> {
  for await (const result of runPipelineRecords(reviseStage(options), records, options)) {
    for (const row of result.rows) yield row as ReviseRecord;
  }
}
