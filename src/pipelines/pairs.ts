/**
 * Preference pairs {prompt, chosen, rejected} for DPO / reward-model training, from three sources:
 * - candidates: several scored responses per prompt (scored with the judge where a score is missing);
 * - degrade: a good response and a deliberately worse one the model writes, kept only once the judge
 *   confirms it scores lower (retried up to a number of attempts, every attempt recorded);
 * - revise: the output of `critic generate revise` (accepted revision chosen, original rejected).
 */
import { readFileSync } from "node:fs";
import type { RawRecord } from "../records/types.js";
import { fillPlaceholders, placeholdersIn } from "../templates/render.js";
import { findQuestionType, loadQuestionTypes, type QuestionType, type QuestionTypeSet } from "./assets.js";
import { describe, optionalNumber, optionalText, requiredText, round4 } from "./fields.js";
import { InterruptedError } from "./runtime.js";
import {
  runPipelineFile, runPipelineRecords, scorerOf,
  type ItemResult, type PipelineOptions, type PipelineRecordsOptions, type PipelineSummary, type SourcedItem, type Stage, type StageContext,
} from "./run.js";

export type PairSource = "candidates" | "degrade" | "revise";

/** One output row. `margin` is chosen_score - rejected_score. */
export type PreferencePair = {
  prompt: string;
  chosen: string;
  rejected: string;
  chosen_score: number;
  rejected_score: number;
  margin: number;
  source: PairSource;
  /** The input record's `id`, where it has one. */
  id?: string | number;
  /** Candidates given one per row: the `id`s of the rows the two responses came from. */
  chosen_id?: string | number;
  rejected_id?: string | number;
  /** Degrade: every attempt at a worse response, in order (the last one is `rejected`). */
  attempts?: DegradeAttempt[];
};

export interface DegradeAttempt {
  response: string | null;
  score: number | null;
  /** The wrong type asked for (degrade style wrong-type). */
  type?: string;
  error?: string;
}

/** Built-in instructions for asking the model for a worse response; a file path gives your own. */
export const DEGRADE_TEMPLATES: Record<"generic" | "wrong-type", string> = {
  generic: `Below is a request and a good response to it. Write a different response to the same request that is clearly worse: less accurate, less complete or less relevant, while still reading like a sincere attempt. Do not say that it is worse. Reply with the worse response only.

Request:
{prompt}

Good response:
{response}`,
  "wrong-type": `Below is a task that asks for a critical question of the type "{type}", and a good answer to it. Write one question about the same text that is of the type "{wrong_type}" instead ({wrong_type_description}), so that it does not fit the requested type. Reply with the question only.

Task:
{prompt}

Good answer:
{response}`,
};

export interface PairsSettings {
  /** Where pairs come from. */
  from: PairSource;
  /** Keep a pair only when chosen_score - rejected_score > margin. Default 0 (equal scores are ties and dropped). */
  margin?: number;
  /** Candidates: every pair above the margin instead of best vs worst. */
  allPairs?: boolean;
  /** Candidates: list field holding the responses (strings or {response, score} objects). Default "responses". */
  candidatesField?: string;
  /** Candidates: list field with a score per response, parallel to the candidates. Default "scores". */
  scoresField?: string;
  /** Degrade: generic, wrong-type, or a template file with {prompt} {response} {type} {wrong_type} {wrong_type_description}. Default generic. */
  degradeStyle?: string;
  /** Degrade: attempts at a worse response before giving up. Default 3. */
  maxAttempts?: number;
  /** Degrade wrong-type: the question-type set (socratic, walton, a YAML file or a set). Default socratic. */
  types?: string | QuestionTypeSet;
}

export interface PairsOptions extends PipelineOptions, PairsSettings {
  input: string;
}

export interface PairsCounters {
  pairs: number;
  /** Candidate pairs (or revise records) with equal scores: dropped. */
  ties: number;
  /** Pairs whose score difference was not above the margin and not zero (a revision scoring lower counts here): dropped. */
  belowMargin: number;
  /** Candidates the judge could not score: their prompt makes no pair and counts as failed. */
  unscored: number;
  /** Candidates: prompts with fewer than two scored, distinct candidates. */
  tooFewCandidates: number;
  /** Degrade: items where no attempt scored below the good response. */
  exhausted: number;
  /** Degrade: attempts made (all items). */
  attempts: number;
  /** Revise: records that were not accepted. */
  notAccepted: number;
}

interface Candidate {
  response: string;
  score?: number;
  /** The id of the row it came from (candidates given one per row). */
  id?: string | number;
}

type Id = { id?: string | number };
type PairsItem =
  | ({ kind: "candidates"; prompt: string; candidates: Candidate[] } & Id)
  | { kind: "row"; prompt: string; candidate: Candidate }
  | ({ kind: "degrade"; prompt: string; response: string; type?: QuestionType } & Id)
  | ({ kind: "revise"; prompt: string; accepted: boolean; chosen?: string; rejected?: string; chosenScore?: number; rejectedScore?: number } & Id);

/** A record's `id` field, kept on the pairs made from it. */
function recordId(record: RawRecord): Id {
  const id = record.id;
  return typeof id === "string" || typeof id === "number" ? { id } : {};
}

/** The pairs pipeline as a Stage. */
export function pairsStage(settings: PairsSettings): Stage<PairsItem> & { counters: PairsCounters } {
  const margin = settings.margin ?? 0;
  if (!Number.isFinite(margin) || margin < 0) throw new Error(`margin must be a number >= 0, got ${margin}`);
  const maxAttempts = settings.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error(`max attempts must be a positive whole number, got ${maxAttempts}`);
  const counters: PairsCounters = { pairs: 0, ties: 0, belowMargin: 0, unscored: 0, tooFewCandidates: 0, exhausted: 0, attempts: 0, notAccepted: 0 };
  const style = settings.degradeStyle ?? "generic";
  const wrongType = style === "wrong-type";
  const types = settings.from === "degrade" && wrongType
    ? typeof settings.types === "object" ? settings.types : loadQuestionTypes(settings.types ?? "socratic")
    : undefined;
  const template = settings.from === "degrade" ? degradeTemplate(style) : "";
  const candidatesField = settings.candidatesField ?? "responses";
  const scoresField = settings.scoresField ?? "scores";

  /** Keeps a pair when it clears the margin; counts why not otherwise. */
  const keep = (chosenScore: number, rejectedScore: number): boolean => {
    const diff = chosenScore - rejectedScore;
    if (diff === 0) counters.ties++;
    else if (diff <= margin) counters.belowMargin++;
    return diff > margin;
  };

  const stage: Stage<PairsItem> & { counters: PairsCounters } = {
    command: `generate pairs (${settings.from})`,
    uses: settings.from === "degrade" ? { model: true, judge: true } : settings.from === "candidates" ? { judge: "lazy" } : {},
    scores: settings.from !== "revise",
    ...(types?.rubric ? { defaultRubric: types.rubric } : {}),
    counters,
    check(record) {
      const prompt = requiredText(record, ["prompt", "instruction"]);
      if (!prompt.ok) return prompt;
      switch (settings.from) {
        case "candidates":
          return withId(checkCandidates(record, prompt.value, candidatesField, scoresField), record);
        case "degrade": {
          const response = requiredText(record, ["response", "chosen", "question"]);
          if (!response.ok) return response;
          if (!types) return { ok: true, item: { kind: "degrade", prompt: prompt.value, response: response.value, ...recordId(record) } };
          const typeName = requiredText(record, ["type"]);
          if (!typeName.ok) return { ...typeName, reason: `${typeName.reason}: degrade style wrong-type needs the requested question type` };
          const type = findQuestionType(types, typeName.value);
          if (!type) return { ok: false, field: "type", reason: `field "type": "${typeName.value}" is not one of the ${types.name} types (${types.types.map((t) => t.name).join(", ")})` };
          return { ok: true, item: { kind: "degrade", prompt: prompt.value, response: response.value, type, ...recordId(record) } };
        }
        case "revise":
          return withId(checkRevision(record, prompt.value), record);
      }
    },
    async process(item, ctx): Promise<ItemResult> {
      switch (item.kind) {
        case "candidates":
          return pairCandidates(item.prompt, item.candidates, ctx, item.id);
        case "row":
          return pairCandidates(item.prompt, [item.candidate], ctx);
        case "degrade":
          return degrade(item, ctx);
        case "revise": {
          if (!item.accepted) {
            counters.notAccepted++;
            return { rows: [] };
          }
          if (!keep(item.chosenScore!, item.rejectedScore!)) return { rows: [] };
          counters.pairs++;
          return { rows: [pairRow(item.prompt, item.chosen!, item.rejected!, item.chosenScore!, item.rejectedScore!, "revise", { id: item.id })] };
        }
      }
    },
    summary: () => ({ ...counters, from: settings.from, margin, ...(settings.from === "degrade" ? { degradeStyle: style, maxAttempts } : {}) }),
    describe: () => ({ from: settings.from, margin, allPairs: settings.allPairs ?? false, degradeStyle: style, maxAttempts }),
  };
  if (settings.from === "candidates") stage.group = groupRows;

  async function pairCandidates(prompt: string, candidates: Candidate[], ctx: StageContext, id?: string | number): Promise<ItemResult> {
    const missing = candidates.filter((c) => c.score === undefined);
    const scored = missing.length === 0 ? [] : await scorerOf(ctx).score(missing.map((c) => ({ instruction: prompt, response: c.response })));
    const scoreOf = new Map<Candidate, number | null>(missing.map((c, i) => [c, scored[i]!.score]));
    const ready: Array<{ response: string; score: number; id?: string | number }> = [];
    const errors: string[] = [];
    let unscored = 0;
    for (const candidate of candidates) {
      const score = candidate.score ?? scoreOf.get(candidate) ?? null;
      if (score === null) {
        unscored++;
        const failure = scored[missing.indexOf(candidate)];
        if (failure?.error) errors.push(failure.error);
        continue;
      }
      // The same text twice is one candidate (its first score).
      if (!ready.some((r) => r.response === candidate.response)) ready.push({ response: candidate.response, score, ...(candidate.id !== undefined ? { id: candidate.id } : {}) });
    }
    if (unscored > 0) {
      // The missing candidate could be the best or the worst: a pair from the rest may be the wrong one.
      counters.unscored += unscored;
      return {
        rows: [],
        failures: [{ prompt, reason: `${unscored} of ${candidates.length} candidates could not be scored by the judge; no pair is made from the rest`, errors }],
        failed: true,
      };
    }
    if (ready.length < 2) {
      counters.tooFewCandidates++;
      return {
        rows: [],
        failures: [{ prompt, reason: `fewer than two scored, distinct candidates (${ready.length} of ${candidates.length})`, ...(errors.length ? { errors } : {}) }],
      };
    }
    const rows: PreferencePair[] = [];
    if (settings.allPairs) {
      for (let i = 0; i < ready.length; i++) {
        for (let j = i + 1; j < ready.length; j++) {
          const [hi, lo] = ready[i]!.score >= ready[j]!.score ? [ready[i]!, ready[j]!] : [ready[j]!, ready[i]!];
          if (keep(hi.score, lo.score)) rows.push(pairRow(prompt, hi.response, lo.response, hi.score, lo.score, "candidates", { id, chosen_id: hi.id, rejected_id: lo.id }));
        }
      }
    } else {
      // Best and worst; among equal scores the first candidate in input order.
      let best = ready[0]!;
      let worst = ready[0]!;
      for (const c of ready) {
        if (c.score > best.score) best = c;
        if (c.score < worst.score) worst = c;
      }
      if (keep(best.score, worst.score)) rows.push(pairRow(prompt, best.response, worst.response, best.score, worst.score, "candidates", { id, chosen_id: best.id, rejected_id: worst.id }));
    }
    counters.pairs += rows.length;
    return { rows };
  }

  async function degrade(item: Extract<PairsItem, { kind: "degrade" }>, ctx: StageContext): Promise<ItemResult> {
    const scorer = scorerOf(ctx);
    const [good] = await scorer.score([{ instruction: item.prompt, response: item.response }]);
    if (good!.score === null) {
      return { rows: [], failures: [{ prompt: item.prompt, reason: `the judge could not score the good response: ${good!.error}` }], failed: true };
    }
    const goodScore = good!.score;
    const attempts: DegradeAttempt[] = [];
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      counters.attempts++;
      const wrong = item.type && types ? wrongTypeFor(types, item.type, item.prompt, attempt) : undefined;
      const content = fillPlaceholders(template, (name) => {
        switch (name) {
          case "prompt": return item.prompt;
          case "response": return item.response;
          case "type": return item.type?.label ?? "";
          case "type_description": return item.type?.description ?? "";
          case "wrong_type": return wrong?.label ?? "";
          default: return wrong?.description ?? ""; // wrong_type_description (names are checked when the template loads)
        }
      });
      // A new seed per attempt (and some temperature), so a retry is a new sample, not the cached one.
      const params = attempt === 0 ? ctx.params : { ...ctx.params, seed: (ctx.params.seed ?? 0) + 1000 * attempt, temperature: ctx.params.temperature || 0.7 };
      let response: string;
      try {
        response = (await ctx.generator.text([{ role: "user", content }], params, { maxRetries: ctx.maxRetries, what: "worse response" })).text;
      } catch (error) {
        if (error instanceof InterruptedError) throw error;
        attempts.push({ response: null, score: null, ...(wrong ? { type: wrong.name } : {}), error: error instanceof Error ? error.message : String(error) });
        continue;
      }
      const [worse] = await scorer.score([{ instruction: item.prompt, response }]);
      attempts.push({ response, score: worse!.score, ...(wrong ? { type: wrong.name } : {}), ...(worse!.error ? { error: worse!.error } : {}) });
      if (worse!.score === null || response === item.response) continue;
      const diff = goodScore - worse!.score;
      if (diff > margin) {
        counters.pairs++;
        return { rows: [{ ...pairRow(item.prompt, item.response, response, goodScore, worse!.score, "degrade", { id: item.id }), attempts }] };
      }
    }
    // An attempt that failed (no response, or no score) might have been the worse response: the
    // item failed, and a run again tries it; only attempts that all scored too high exhaust it.
    const broken = attempts.filter((a) => a.error !== undefined).length;
    if (broken > 0) {
      return {
        rows: [],
        failures: [{ prompt: item.prompt, reason: `no pair: ${broken} of ${maxAttempts} attempt(s) failed (no response, or could not be scored) and none of the rest scored more than ${margin} below the good response (score ${goodScore})`, chosen: item.response, chosen_score: goodScore, attempts }],
        failed: true,
      };
    }
    counters.exhausted++;
    return {
      rows: [],
      failures: [{ prompt: item.prompt, reason: `no attempt scored more than ${margin} below the good response (score ${goodScore}) in ${maxAttempts} attempt(s)`, chosen: item.response, chosen_score: goodScore, attempts }],
    };
  }

  return stage;
}

type PairIds = Pick<PreferencePair, "id" | "chosen_id" | "rejected_id">;

function pairRow(prompt: string, chosen: string, rejected: string, chosenScore: number, rejectedScore: number, source: PairSource, ids: PairIds = {}): PreferencePair {
  const kept = Object.fromEntries(Object.entries(ids).filter(([, v]) => v !== undefined)) as PairIds;
  return { ...kept, prompt, chosen, rejected, chosen_score: chosenScore, rejected_score: rejectedScore, margin: round4(chosenScore - rejectedScore), source };
}

const DEGRADE_PLACEHOLDERS = ["prompt", "response", "type", "type_description", "wrong_type", "wrong_type_description"];

function degradeTemplate(style: string): string {
  if (style === "generic" || style === "wrong-type") return DEGRADE_TEMPLATES[style];
  let text: string;
  try {
    text = readFileSync(style, "utf8").trim();
  } catch (error) {
    throw new Error(`--degrade-style "${style}" is neither generic, wrong-type nor a readable template file: ${(error as Error).message}`);
  }
  if (text === "") throw new Error(`degrade template ${style} is empty`);
  const unknown = placeholdersIn(text).filter((name) => !DEGRADE_PLACEHOLDERS.includes(name));
  if (unknown.length > 0) {
    throw new Error(`degrade template ${style}: unknown placeholder(s) ${unknown.map((n) => `{${n}}`).join(", ")} (use ${DEGRADE_PLACEHOLDERS.map((n) => `{${n}}`).join(" ")})`);
  }
  return text;
}

/** A type other than the requested one: a different one per attempt, starting at a place fixed by the prompt. */
function wrongTypeFor(set: QuestionTypeSet, type: QuestionType, prompt: string, attempt: number): QuestionType {
  const others = set.types.filter((t) => t.name !== type.name);
  let hash = 0;
  for (let i = 0; i < prompt.length; i++) hash = (Math.imul(hash, 31) + prompt.charCodeAt(i)) >>> 0;
  return others[(hash + attempt) % others.length]!;
}

type CheckResult = ReturnType<Stage<PairsItem>["check"]>;

function withId(result: CheckResult, record: RawRecord): CheckResult {
  return result.ok && result.item.kind !== "row" ? { ...result, item: { ...result.item, ...recordId(record) } } : result;
}

function checkCandidates(record: RawRecord, prompt: string, listField: string, scoresField: string): CheckResult {
  const list = record[listField];
  if (list === undefined || list === null) {
    // A single scored response (e.g. a `critic judge` judgment): rows of one prompt are grouped.
    const response = requiredText(record, ["response"]);
    if (!response.ok) return { ok: false, field: listField, reason: `missing field "${listField}" (a list of candidates) or "response" (one candidate per row)` };
    const score = optionalNumber(record.score, "score");
    if (!score.ok) return score;
    return { ok: true, item: { kind: "row", prompt, candidate: { response: response.value, ...(score.value !== undefined ? { score: score.value } : {}), ...recordId(record) } } };
  }
  const items = typeof list === "string" ? parseJsonList(list) : list;
  if (!Array.isArray(items)) return { ok: false, field: listField, reason: `field "${listField}": expected a list of responses, got ${describe(list)}` };
  const rawScores = record[scoresField];
  const scores = typeof rawScores === "string" ? parseJsonList(rawScores) : rawScores;
  if (scores !== undefined && scores !== null && (!Array.isArray(scores) || scores.length !== items.length)) {
    return { ok: false, field: scoresField, reason: `field "${scoresField}": expected a list of ${items.length} scores, one per candidate` };
  }
  const candidates: Candidate[] = [];
  for (const [i, entry] of items.entries()) {
    const field = `${listField}.${i}`;
    const object = entry !== null && typeof entry === "object" && !Array.isArray(entry) ? (entry as RawRecord) : undefined;
    const text = object ? optionalText(object, ["response", "text", "content"]) : optionalText({ v: entry }, ["v"]);
    if (!text.ok || text.value === undefined) return { ok: false, field, reason: `field "${field}": expected response text, got ${describe(entry)}` };
    const score = optionalNumber(object ? object.score : Array.isArray(scores) ? scores[i] : undefined, object ? `${field}.score` : `${scoresField}.${i}`);
    if (!score.ok) return score;
    candidates.push({ response: text.value, ...(score.value !== undefined ? { score: score.value } : {}) });
  }
  if (candidates.length < 2) return { ok: false, field: listField, reason: `field "${listField}": needs at least two candidates, got ${candidates.length}` };
  return { ok: true, item: { kind: "candidates", prompt, candidates } };
}

/** CSV cells may hold a list as JSON text. */
function parseJsonList(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function checkRevision(record: RawRecord, prompt: string): CheckResult {
  if (typeof record.accepted !== "boolean") {
    return { ok: false, field: "accepted", reason: `field "accepted": expected true or false (is this \`critic generate revise\` output?)` };
  }
  if (!record.accepted) return { ok: true, item: { kind: "revise", prompt, accepted: false } };
  const chosen = requiredText(record, ["chosen"]);
  if (!chosen.ok) return chosen;
  const rejected = requiredText(record, ["rejected"]);
  if (!rejected.ok) return rejected;
  const chosenScore = optionalNumber(record.chosen_score, "chosen_score");
  if (!chosenScore.ok) return chosenScore;
  const rejectedScore = optionalNumber(record.rejected_score, "rejected_score");
  if (!rejectedScore.ok) return rejectedScore;
  if (chosenScore.value === undefined || rejectedScore.value === undefined) {
    return { ok: false, field: chosenScore.value === undefined ? "chosen_score" : "rejected_score", reason: "an accepted record needs chosen_score and rejected_score" };
  }
  return {
    ok: true,
    item: { kind: "revise", prompt, accepted: true, chosen: chosen.value, rejected: rejected.value, chosenScore: chosenScore.value, rejectedScore: rejectedScore.value },
  };
}

/**
 * Gathers one-candidate rows by prompt (in order of first appearance); list records pass as they
 * are. Reads the whole input first, since rows of one prompt may be anywhere.
 */
async function* groupRows(items: AsyncIterable<SourcedItem<PairsItem>>): AsyncIterable<SourcedItem<PairsItem>> {
  const out: Array<SourcedItem<PairsItem>> = [];
  const groups = new Map<string, Extract<PairsItem, { kind: "candidates" }>>();
  for await (const sourced of items) {
    const item = sourced.item;
    if (item.kind !== "row") {
      out.push(sourced);
      continue;
    }
    const group = groups.get(item.prompt);
    if (group) group.candidates.push(item.candidate);
    else {
      const created = { kind: "candidates" as const, prompt: item.prompt, candidates: [item.candidate] };
      groups.set(item.prompt, created);
      out.push({ index: sourced.index, line: sourced.line, item: created });
    }
  }
  let index = 0;
  for (const sourced of out) yield { ...sourced, index: index++ };
}

/** Makes preference pairs from a file; writes PreferencePair rows (and items with no pair to the failures file). */
export async function makePairs(options: PairsOptions): Promise<PipelineSummary & { stage: PairsCounters }> {
  return (await runPipelineFile(pairsStage(options), options.input, options)) as PipelineSummary & { stage: PairsCounters };
}

/** Preference pairs from in-memory records (library use); yields pairs in input order. */
export async function* makePairsFromRecords(
  records: Iterable<RawRecord> | AsyncIterable<RawRecord>,
  options: PipelineRecordsOptions & PairsSettings,
): AsyncGenerator<PreferencePair> {
  for await (const result of runPipelineRecords(pairsStage(options), records, options)) {
    for (const row of result.rows) yield row as unknown as PreferencePair;
  }
}
