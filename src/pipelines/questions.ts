/**
 * Critical questions: generate a question of a given type about a text (Socratic question types,
 * Walton argumentation schemes, or your own set), or classify a question's type with the judge and
 * measure that classification against human labels.
 */
import type { ChatMessage, GenerateRequest, SamplingParams } from "../backends/types.js";
import { cohenKappa, confusionMatrix, type ConfusionMatrix } from "../metaeval/agreement.js";
import type { MetricValue } from "../metaeval/types.js";
import type { RawRecord } from "../records/types.js";
import { findQuestionType, loadQuestionTypes, type QuestionType, type QuestionTypeSet } from "./assets.js";
import { describe, optionalText, requiredText } from "./fields.js";
import { InterruptedError, MAX_ATTEMPTS, paramsForAttempt } from "./runtime.js";
import {
  runPipelineFile, runPipelineRecords, scorerOf,
  type ItemResult, type PipelineOptions, type PipelineRecordsOptions, type PipelineSummary, type Stage, type StageContext,
} from "./run.js";

export interface QuestionsSettings {
  /** Question-type set: socratic (default), walton, a YAML file, or a set. */
  types?: string | QuestionTypeSet;
  /** Classify each record's `question` instead of generating. */
  classify?: boolean;
  /** Generate: the type(s) for records without a `type` field. Default: every type of the set. */
  type?: string | string[];
  /** Classify: the field holding the human label to measure against. */
  gold?: string;
  /** Generate: also score each question with the judge (the set's rubric unless --rubric). */
  score?: boolean;
}

export interface QuestionsOptions extends PipelineOptions, QuestionsSettings {
  input: string;
}

export interface TypeCounts {
  gold: number;
  predicted: number;
  correct: number;
}

/** How the judge's type labels compare with the human ones. */
export interface ClassificationReport {
  /** Records classified (with or without gold). */
  items: number;
  /** Records whose classification parsed to a type. */
  classified: number;
  unclassified: number;
  /** Records with a gold label among the set's types (the accuracy denominator). */
  withGold: number;
  /** Gold labels that are not types of the set (e.g. SocratiQ's "others"): left out of the metrics. */
  goldOutsideTypes: number;
  correct: number;
  /** correct / withGold; an unclassified record counts as wrong. Null when there is no gold. */
  accuracy: number | null;
  /** Cohen's kappa over the records with gold that parsed. */
  kappa: MetricValue;
  perType: Record<string, TypeCounts>;
  /** Rows: gold type; columns: predicted type ("(unclassified)" last when any failed). */
  confusion: ConfusionMatrix<string>;
}

export interface QuestionsCounters {
  mode: "generate" | "classify";
  types: string;
  /** Generate: questions written. */
  generated: number;
  /** Classify: questions whose type parsed. */
  classified: number;
  /** Questions not generated, or classifications that never parsed. */
  failed: number;
  classification?: ClassificationReport;
}

/** Default instruction for generating a question; {label} {description} {text} are filled in. */
export const QUESTION_PROMPT = `Read the text below and write one critical question about it of the type "{label}": a question that {description}.
Reply with the question only.

Text:
{text}`;

/** The instruction that asks for a question of `type` about `text` (kept as `prompt` in the output). */
export function questionPrompt(type: QuestionType, text: string): string {
  return QUESTION_PROMPT.replace("{label}", type.label).replace("{description}", type.description).replace("{text}", text);
}

/** The messages that ask a classifier for the type of a question. */
export function classificationMessages(set: QuestionTypeSet, question: string, text?: string): ChatMessage[] {
  const list = set.types.map((t) => `- ${t.name}: a question that ${t.description}`).join("\n");
  const context = text === undefined ? "" : `Text the question is about:\n${text}\n\n`;
  return [{
    role: "user",
    content: `Classify the critical question below by its type. The types are:\n${list}\n\n${context}Question: ${question}\n\nReply with the type name only, exactly as written in the list.`,
  }];
}

/** Output constraint for classification: a grammar over the type names (embedded), a JSON enum (Ollama). */
export function classificationConstraint(set: QuestionTypeSet): NonNullable<GenerateRequest["constraint"]> {
  return {
    gbnf: `root ::= ${set.types.map((t) => JSON.stringify(t.name)).join(" | ")}\n`,
    jsonSchema: {
      type: "object",
      properties: { type: { type: "string", enum: set.types.map((t) => t.name) } },
      required: ["type"],
    },
  };
}

/** Words of a name or text: camelCase split, lower case, punctuation as spaces. */
function words(text: string): string {
  return text.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
}

/**
 * Reads a type from a classifier's output: the exact name (or alias, or JSON `{"type": …}`), else the
 * one type the text names (a name inside a longer one, "ad hominem" in "circumstantial ad hominem",
 * does not count separately). No type or several: an error, never a guess.
 */
export function parseQuestionType(set: QuestionTypeSet, output: string): { ok: true; type: QuestionType } | { ok: false; error: string } {
  let text = output.trim();
  try {
    const json: unknown = JSON.parse(text);
    if (typeof json === "string") text = json;
    else if (json && typeof json === "object" && typeof (json as { type?: unknown }).type === "string") text = (json as { type: string }).type;
  } catch {
    // not JSON: plain text
  }
  const cleaned = text.replace(/^\s*(type|answer|label)\s*:\s*/i, "").replace(/^["'`*\s]+|["'`*.\s]+$/g, "");
  const exact = findQuestionType(set, cleaned);
  if (exact) return { ok: true, type: exact };
  const haystack = ` ${words(text)} `;
  const matches: Array<{ type: QuestionType; start: number; end: number }> = [];
  for (const type of set.types) {
    for (const form of new Set([type.name, type.label, ...type.aliases].map(words).filter(Boolean))) {
      for (let at = haystack.indexOf(` ${form} `); at !== -1; at = haystack.indexOf(` ${form} `, at + 1)) {
        matches.push({ type, start: at, end: at + form.length + 2 });
      }
    }
  }
  const outer = matches.filter((m) => !matches.some((o) => o !== m && o.start <= m.start && o.end >= m.end && o.end - o.start > m.end - m.start));
  const found = [...new Set(outer.map((m) => m.type))];
  if (found.length === 1) return { ok: true, type: found[0]! };
  if (found.length === 0) return { ok: false, error: `no ${set.name} type named in the output` };
  return { ok: false, error: `the output names several types (${found.map((t) => t.name).join(", ")})` };
}

/** The first line of a generated question, without a "Question:" label or quotes. */
export function cleanQuestion(output: string): string {
  const line = output.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
  return line.replace(/^(critical\s+)?question\s*:\s*/i, "").replace(/^["“]+|["”]+$/g, "").trim();
}

type QuestionsItem =
  | { kind: "generate"; record: RawRecord; text: string; types: QuestionType[] }
  | { kind: "classify"; record: RawRecord; question: string; text?: string; gold?: string };

/** Type names from a field: one name, a list, or a JSON list in a CSV cell. */
function typeNames(value: unknown): string[] | undefined {
  if (typeof value === "string") {
    const trimmed = value.trim();
    if (trimmed.startsWith("[")) {
      try {
        const parsed: unknown = JSON.parse(trimmed);
        if (Array.isArray(parsed) && parsed.every((v) => typeof v === "string")) return parsed as string[];
      } catch {
        // a plain name that starts with "["
      }
    }
    return [trimmed];
  }
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  return undefined;
}

/** The critical-questions pipeline as a Stage. */
export function questionsStage(settings: QuestionsSettings): Stage<QuestionsItem> & { counters: QuestionsCounters } {
  const set = typeof settings.types === "object" ? settings.types : loadQuestionTypes(settings.types ?? "socratic");
  const classify = settings.classify ?? false;
  const resolveAll = (names: string[], field: string): { ok: true; types: QuestionType[] } | { ok: false; field: string; reason: string } => {
    const types: QuestionType[] = [];
    for (const name of names) {
      const type = findQuestionType(set, name);
      if (!type) return { ok: false, field, reason: `${field === "--type" ? "--type" : `field "${field}"`}: "${name}" is not one of the ${set.name} types (${set.types.map((t) => t.name).join(", ")})` };
      if (!types.includes(type)) types.push(type);
    }
    return { ok: true, types };
  };
  let defaultTypes = set.types;
  if (settings.type !== undefined) {
    const resolved = resolveAll(Array.isArray(settings.type) ? settings.type : [settings.type], "--type");
    if (!resolved.ok) throw new Error(resolved.reason);
    defaultTypes = resolved.types;
  }
  const counters: QuestionsCounters = { mode: classify ? "classify" : "generate", types: set.name, generated: 0, classified: 0, failed: 0 };
  const outcomes: Array<{ gold: string | undefined; predicted: string | null }> = [];

  async function generate(item: Extract<QuestionsItem, { kind: "generate" }>, ctx: StageContext): Promise<ItemResult> {
    const rows: Array<Record<string, unknown>> = [];
    const drafts = await Promise.all(item.types.map(async (type) => {
      const prompt = questionPrompt(type, item.text);
      try {
        const out = await ctx.generator.text([{ role: "user", content: prompt }], ctx.params, { maxRetries: ctx.maxRetries, what: "question" });
        const question = cleanQuestion(out.text);
        return { type, prompt, question: question === "" ? out.text : question, raw: out.text };
      } catch (error) {
        if (error instanceof InterruptedError) throw error;
        return { type, prompt, error: `generation failed: ${error instanceof Error ? error.message : String(error)}` };
      }
    }));
    const scores = settings.score
      ? await scorerOf(ctx).score(drafts.filter((d) => d.question !== undefined).map((d) => ({ instruction: d.prompt, response: d.question! })))
      : [];
    let s = 0;
    for (const draft of drafts) {
      const base = { ...item.record, text: item.text, type: draft.type.name, prompt: draft.prompt };
      if (draft.question === undefined) {
        counters.failed++;
        rows.push({ ...base, question: null, error: draft.error });
        continue;
      }
      counters.generated++;
      const score = settings.score ? scores[s++]! : undefined;
      rows.push({
        ...base,
        question: draft.question,
        ...(draft.raw.trim() !== draft.question ? { raw: draft.raw } : {}),
        ...(score ? { score: score.score, feedback: score.feedback, ...(score.error ? { error: score.error } : {}) } : {}),
      });
    }
    return { rows, failed: rows.some((r) => r.error !== undefined) };
  }

  async function classifyOne(item: Extract<QuestionsItem, { kind: "classify" }>, ctx: StageContext): Promise<ItemResult> {
    const messages = classificationMessages(set, item.question, item.text);
    const constraint = classificationConstraint(set);
    const params: SamplingParams = { temperature: 0, seed: 0, maxTokens: 64, ...ctx.judgeParams };
    const failures: Array<{ raw: string; error: string }> = [];
    let predicted: QuestionType | undefined;
    let raw = "";
    let backendError: string | undefined;
    // An unparseable output an earlier run stored does not count: a run again draws new samples.
    for (let attempt = 0, counted = 0; counted <= ctx.maxRetries && attempt < MAX_ATTEMPTS && !predicted; attempt++) {
      let call;
      try {
        call = await ctx.judgeCaller.call(messages, paramsForAttempt(params, attempt), constraint);
      } catch (error) {
        if (error instanceof InterruptedError) throw error;
        backendError = `backend error: ${error instanceof Error ? error.message : String(error)}`;
        break;
      }
      raw = call.text;
      const parsed = parseQuestionType(set, raw);
      if (parsed.ok) predicted = parsed.type;
      else {
        failures.push({ raw, error: parsed.error });
        if (!ctx.judgeCaller.fromEarlierRun(call)) counted++;
      }
    }
    const goldType = item.gold === undefined ? undefined : findQuestionType(set, item.gold);
    const error = predicted ? undefined : backendError ?? `unparseable classification after ${failures.length} attempt(s): ${failures.at(-1)?.error}`;
    if (predicted) counters.classified++;
    else counters.failed++;
    outcomes.push({ gold: item.gold === undefined ? undefined : goldType?.name ?? `\u0000${item.gold}`, predicted: predicted?.name ?? null });
    return {
      rows: [{
        ...item.record,
        question: item.question,
        predicted_type: predicted?.name ?? null,
        ...(item.gold !== undefined ? { gold_type: goldType?.name ?? item.gold, ...(goldType ? { correct: goldType === predicted } : {}) } : {}),
        ...(error ? { error } : {}),
        classifier: { raw, attempts: failures.length + (predicted ? 1 : 0), ...(failures.length ? { failures } : {}) },
      }],
      failed: error !== undefined,
    };
  }

  return {
    command: classify ? "generate questions (classify)" : "generate questions",
    uses: classify ? { judge: true } : { model: true, ...(settings.score ? { judge: true } : {}) },
    scores: !classify && (settings.score ?? false),
    ...(set.rubric ? { defaultRubric: set.rubric } : {}),
    counters,
    check(record) {
      if (classify) {
        const question = requiredText(record, ["question"]);
        if (!question.ok) return question;
        const text = optionalText(record, ["text"]);
        if (!text.ok) return text;
        let gold: string | undefined;
        if (settings.gold !== undefined) {
          const value = record[settings.gold];
          if (value !== undefined && value !== null && value !== "") {
            if (typeof value !== "string") return { ok: false, field: settings.gold, reason: `field "${settings.gold}": expected a type label, got ${describe(value)}` };
            gold = value;
          }
        }
        return { ok: true, item: { kind: "classify", record, question: question.value, ...(text.value !== undefined ? { text: text.value } : {}), ...(gold !== undefined ? { gold } : {}) } };
      }
      const text = requiredText(record, ["text"]);
      if (!text.ok) return text;
      let types = defaultTypes;
      if (record.type !== undefined && record.type !== null && record.type !== "") {
        const names = typeNames(record.type);
        if (!names) return { ok: false, field: "type", reason: `field "type": expected a type name or a list of them, got ${describe(record.type)}` };
        const resolved = resolveAll(names, "type");
        if (!resolved.ok) return resolved;
        types = resolved.types;
      }
      if (types.length === 0) return { ok: false, field: "type", reason: `field "type": the list is empty` };
      return { ok: true, item: { kind: "generate", record, text: text.value, types } };
    },
    process: (item, ctx) => (item.kind === "classify" ? classifyOne(item, ctx) : generate(item, ctx)),
    summary() {
      if (classify && settings.gold !== undefined) counters.classification = classificationReport(set, outcomes);
      return { ...counters };
    },
    describe: () => ({ types: set.name, mode: classify ? "classify" : "generate", ...(settings.gold ? { gold: settings.gold } : {}) }),
  };
}

/**
 * Accuracy, kappa, per-type counts and the confusion matrix of predicted against gold types.
 * `gold` values outside the set are marked with a leading NUL by the stage and left out.
 */
export function classificationReport(set: QuestionTypeSet, outcomes: Array<{ gold: string | undefined; predicted: string | null }>): ClassificationReport {
  const names = set.types.map((t) => t.name);
  const perType: Record<string, TypeCounts> = Object.fromEntries(names.map((n) => [n, { gold: 0, predicted: 0, correct: 0 }]));
  let withGold = 0, outside = 0, correct = 0, classified = 0;
  const gold: string[] = [];
  const pred: string[] = [];
  for (const o of outcomes) {
    if (o.predicted !== null) {
      classified++;
      perType[o.predicted]!.predicted++;
    }
    if (o.gold === undefined) continue;
    if (o.gold.startsWith("\u0000")) {
      outside++;
      continue;
    }
    withGold++;
    perType[o.gold]!.gold++;
    if (o.predicted === o.gold) {
      correct++;
      perType[o.gold]!.correct++;
    }
    gold.push(o.gold);
    pred.push(o.predicted ?? "(unclassified)");
  }
  const labels = pred.includes("(unclassified)") ? [...names, "(unclassified)"] : names;
  const parsed = pred.map((p, i) => [p, gold[i]!] as const).filter(([p]) => p !== "(unclassified)");
  return {
    items: outcomes.length,
    classified,
    unclassified: outcomes.length - classified,
    withGold,
    goldOutsideTypes: outside,
    correct,
    accuracy: withGold === 0 ? null : correct / withGold,
    kappa: cohenKappa(confusionMatrix(parsed.map(([p]) => p), parsed.map(([, g]) => g), names)),
    perType,
    confusion: confusionMatrix(pred, gold, labels),
  };
}

/** Generates or classifies critical questions over a file. */
export async function criticalQuestions(options: QuestionsOptions): Promise<PipelineSummary & { stage: QuestionsCounters }> {
  return (await runPipelineFile(questionsStage(options), options.input, options)) as PipelineSummary & { stage: QuestionsCounters };
}

/** Critical questions over in-memory records (library use); yields output rows in input order. */
export async function* criticalQuestionsFromRecords(
  records: Iterable<RawRecord> | AsyncIterable<RawRecord>,
  options: PipelineRecordsOptions & QuestionsSettings,
): AsyncGenerator<Record<string, unknown>> {
  for await (const result of runPipelineRecords(questionsStage(options), records, options)) yield* result.rows;
}
