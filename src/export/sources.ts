/**
 * Reading the three kinds of input `critic export` takes: judgments (`critic judge`), preference
 * pairs (`critic generate pairs`) and revisions (`critic generate revise`). Each record is told apart
 * by its fields (or forced with `from`), validated with zod, and normalised into an Example.
 */
import { z } from "zod";
import type { RawRecord } from "../records/types.js";
import type { Example, InputKind, JudgeMeta, SampleCritique, SkipReason } from "./types.js";

export type Classified =
  | { status: "example"; kind: InputKind; example: Example }
  /** A valid record that gives no row in any format (a failed judgment, a rejected revision). */
  | { status: "skip"; kind: InputKind; reason: SkipReason }
  | { status: "invalid"; kind?: InputKind; field?: string; reason: string };

// Numbers are fine where text is expected ("4" may arrive as 4), as in `critic judge`.
const text = z.union([z.string(), z.number().transform(String)]);

/** Parquet and CSV store objects, lists, numbers and booleans as text: read them back. */
function decoded<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => {
    if (typeof value !== "string") return value;
    const trimmed = value.trim();
    if (trimmed === "") return null;
    if (/^[[{]/.test(trimmed) || trimmed === "true" || trimmed === "false" || trimmed === "null" || /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(trimmed)) {
      try {
        return JSON.parse(trimmed) as unknown;
      } catch {
        return value;
      }
    }
    return value;
  }, schema);
}

const judgeSchema = z.looseObject({
  backend: z.string().optional(),
  model: z.string().optional(),
  template: z.string().optional(),
  samples: z.array(z.unknown()).optional(),
  rubric: z
    .object({
      criteria: z.string(),
      score1_description: z.string(),
      score2_description: z.string(),
      score3_description: z.string(),
      score4_description: z.string(),
      score5_description: z.string(),
    })
    .optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});

const judgmentSchema = z.looseObject({
  instruction: text,
  response: text.optional(),
  response_a: text.optional(),
  response_b: text.optional(),
  feedback: z.string().nullish(),
  score: decoded(z.number().nullish()),
  winner: z.enum(["A", "B", "tie"]).nullish(),
  error: z.string().nullish(),
  judge: decoded(judgeSchema.nullish()),
});

const pairSchema = z.looseObject({
  prompt: text,
  chosen: text,
  rejected: text,
});

const revisionSchema = z.looseObject({
  prompt: text,
  chain: decoded(z.array(z.looseObject({ response: text }))),
  accepted: decoded(z.boolean()),
  chosen: text.nullable(),
  rejected: text.nullish(),
});

/** Which kind a record is, from its fields: a `chain` means a revision, chosen/rejected a pair, a verdict a judgment. */
export function detectKind(record: RawRecord): InputKind | undefined {
  if ("chain" in record && "accepted" in record) return "revisions";
  if ("prompt" in record && ("chosen" in record || "rejected" in record)) return "pairs";
  if ("judge" in record || "score" in record || "winner" in record || "feedback" in record) return "judgments";
  return undefined;
}

/** Validates and normalises one record. `from` forces the kind instead of detecting it. */
export function classifyRecord(record: RawRecord, from?: InputKind): Classified {
  const kind = from ?? detectKind(record);
  if (kind === undefined) {
    return {
      status: "invalid",
      reason:
        "cannot tell what this record is: expected a judgment (instruction, response, feedback, score|winner, judge), " +
        "a pair (prompt, chosen, rejected) or a revision (prompt, chain, accepted, chosen, rejected); or pass --from",
    };
  }
  switch (kind) {
    case "judgments":
      return classifyJudgment(record);
    case "pairs":
      return classifyPair(record);
    case "revisions":
      return classifyRevision(record);
  }
}

function invalid(kind: InputKind, error: z.ZodError): Classified {
  const issue = error.issues[0]!;
  const field = issue.path.map(String).join(".");
  const message = issue.code === "invalid_type" && issue.input === undefined ? "is missing" : issue.message;
  return { status: "invalid", kind, ...(field ? { field } : {}), reason: field ? `${kind}: field "${field}" ${message}` : `${kind}: ${message}` };
}

function classifyJudgment(record: RawRecord): Classified {
  const parsed = judgmentSchema.safeParse(record);
  if (!parsed.success) return invalid("judgments", parsed.error);
  const j = parsed.data;
  const pairwise = "winner" in record || (!("score" in record) && j.response_a !== undefined);
  if (!pairwise && !("score" in record)) {
    return { status: "invalid", kind: "judgments", field: "score", reason: 'judgments: a judgment needs a "score" (absolute) or a "winner" (pairwise) field' };
  }
  for (const field of pairwise ? ["response_a", "response_b"] : ["response"]) {
    if (j[field] === undefined) return { status: "invalid", kind: "judgments", field, reason: `judgments: field "${field}" is missing` };
  }
  if (j.error !== undefined && j.error !== null && j.error !== "") return { status: "skip", kind: "judgments", reason: "judge-error" };
  const judge = judgeMeta(j.judge);
  const samples = sampleCritiques(j.judge?.samples);
  const base = { kind: "judgment" as const, prompt: j.instruction, record: normalisedRecord(record, j), feedback: j.feedback ?? "", ...(judge ? { judge } : {}), ...(samples ? { samples } : {}) };
  if (pairwise) {
    if (j.winner === null || j.winner === undefined) return { status: "skip", kind: "judgments", reason: "no-verdict" };
    return { status: "example", kind: "judgments", example: { ...base, mode: "pairwise", winner: j.winner } };
  }
  if (j.score === null || j.score === undefined) return { status: "skip", kind: "judgments", reason: "no-verdict" };
  return { status: "example", kind: "judgments", example: { ...base, mode: "absolute", score: j.score } };
}

/** The record with its text fields as strings (a numeric response becomes text), for template filling. */
function normalisedRecord(record: RawRecord, parsed: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...record };
  for (const field of ["instruction", "response", "response_a", "response_b"]) {
    if (parsed[field] !== undefined) out[field] = parsed[field];
  }
  return out;
}

/** The samples that have a critique and a verdict (judge.samples of `critic judge` output), or none. */
function sampleCritiques(samples: unknown[] | undefined): SampleCritique[] | undefined {
  if (!samples) return undefined;
  const out: SampleCritique[] = [];
  for (const sample of samples) {
    if (typeof sample !== "object" || sample === null) continue;
    const s = sample as { feedback?: unknown; score?: unknown; winner?: unknown; swap?: { original?: unknown } };
    if (typeof s.feedback !== "string") continue;
    // Under --swap the critique is the original order's: it argues for that order's winner.
    const argued = typeof s.swap?.original === "string" ? s.swap.original : s.winner;
    const verdict = typeof s.score === "number" ? s.score : typeof argued === "string" ? argued : undefined;
    if (verdict !== undefined) out.push({ feedback: s.feedback, verdict });
  }
  return out.length > 0 ? out : undefined;
}

function judgeMeta(judge: z.infer<typeof judgeSchema> | null | undefined): JudgeMeta | undefined {
  if (!judge) return undefined;
  const meta: JudgeMeta = {};
  if (judge.backend !== undefined) meta.backend = judge.backend;
  if (judge.model !== undefined) meta.model = judge.model;
  if (judge.template !== undefined) meta.template = judge.template;
  if (judge.rubric !== undefined) meta.rubric = judge.rubric;
  if (judge.params !== undefined) meta.params = judge.params;
  if (judge.samples !== undefined) {
    meta.samples = judge.samples.length;
    meta.swap = judge.samples.some((s) => typeof s === "object" && s !== null && "swap" in s);
  }
  return meta;
}

function classifyPair(record: RawRecord): Classified {
  const parsed = pairSchema.safeParse(record);
  if (!parsed.success) return invalid("pairs", parsed.error);
  const { prompt, chosen, rejected } = parsed.data;
  return { status: "example", kind: "pairs", example: { kind: "pair", source: "pairs", prompt, chosen, rejected } };
}

function classifyRevision(record: RawRecord): Classified {
  const parsed = revisionSchema.safeParse(record);
  if (!parsed.success) return invalid("revisions", parsed.error);
  const r = parsed.data;
  if (!r.accepted) return { status: "skip", kind: "revisions", reason: "not-accepted" };
  if (r.chosen === null) return { status: "invalid", kind: "revisions", field: "chosen", reason: 'revisions: an accepted revision has "chosen": null' };
  return {
    status: "example",
    kind: "revisions",
    example: { kind: "pair", source: "revisions", prompt: r.prompt, chosen: r.chosen, rejected: r.rejected ?? null },
  };
}
