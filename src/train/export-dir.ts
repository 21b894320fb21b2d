/**
 * Reads a `critic export` folder (train.jsonl, test.jsonl, export.json) and checks that it suits
 * the trainer asked for, before any run folder is written.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { readRecords } from "../records/read.js";
import type { SourcedRecord } from "../records/types.js";

export const EXPORT_FORMATS = [
  "sft-messages", "sft-prompt-completion", "alpaca", "criticon-sft", "prometheus-sft",
  "dpo", "dpo-conversational", "kto", "reward", "openai-sft", "openai-dpo", "classify", "regress",
] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const EXPORT_TRAINERS = ["sft", "dpo", "kto", "reward", "openai-sft", "openai-dpo", "classify", "regress"] as const;
export type ExportTrainer = (typeof EXPORT_TRAINERS)[number];

const manifestSchema = z.looseObject({
  format: z.enum(EXPORT_FORMATS, { error: `format must be one of ${EXPORT_FORMATS.join(", ")}` }),
  trainer: z.enum(EXPORT_TRAINERS, { error: `trainer must be one of ${EXPORT_TRAINERS.join(", ")}` }),
  conversational: z.boolean().optional(),
  files: z.looseObject({ train: z.string().min(1), test: z.string().min(1).optional() }),
  counts: z.record(z.string(), z.unknown()).optional(),
  head: z
    .object({
      kind: z.enum(["classify", "regress"]),
      labels: z.array(z.number()).nullable(),
      scale: z.object({ min: z.number(), max: z.number() }).nullable(),
      template: z.string().nullable(),
      template_options: z.record(z.string(), z.unknown()),
    })
    .optional(),
});

/** export.json `head` of a classify / regress export (see src/export/card.ts HeadInfo). */
export type ExportHead = NonNullable<z.infer<typeof manifestSchema>["head"]>;

export interface ExportDir {
  dir: string;
  format: ExportFormat;
  trainer: ExportTrainer;
  conversational: boolean;
  /** Absolute paths. */
  files: { train: string; test?: string };
  counts: Record<string, unknown>;
  head?: ExportHead;
}

export function readExportDir(dir: string): ExportDir {
  const root = path.resolve(dir);
  const manifestPath = path.join(root, "export.json");
  if (!existsSync(manifestPath)) {
    throw new Error(`${dir} is not an export folder: no export.json (make one with \`critic export\`)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, "utf8"));
  } catch (error) {
    throw new Error(`${manifestPath}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${manifestPath}: ${issue.path.join(".") || "export.json"}: ${issue.message}`);
  }
  const m = parsed.data;
  const files: ExportDir["files"] = { train: path.resolve(root, m.files.train) };
  if (m.files.test) files.test = path.resolve(root, m.files.test);
  for (const [split, file] of Object.entries(files)) {
    if (!existsSync(file)) throw new Error(`${manifestPath} names ${split} file ${file}, which does not exist`);
  }
  // `critic export` always writes test.jsonl; an empty one (counts.test 0) means there is no test split.
  if (files.test && (statSync(files.test).size === 0 || m.counts?.test === 0)) delete files.test;
  return { dir: root, format: m.format, trainer: m.trainer, conversational: m.conversational ?? false, files, counts: m.counts ?? {}, ...(m.head ? { head: m.head } : {}) };
}

/** Which export trainers each TRL trainer can train on. GRPO only needs a prompt column. */
const ACCEPTS: Record<string, readonly ExportTrainer[]> = {
  sft: ["sft", "openai-sft"],
  dpo: ["dpo"],
  kto: ["kto"],
  reward: ["reward"],
  grpo: ["sft", "dpo", "kto"],
  classify: ["classify"],
  regress: ["regress"],
};

const REQUIRED_COLUMNS: Record<string, string[][]> = {
  // Any one of these column sets.
  sft: [["messages"], ["prompt", "completion"], ["text"]],
  dpo: [["chosen", "rejected"]],
  kto: [["prompt", "completion", "label"]],
  reward: [["chosen", "rejected"]],
  grpo: [["prompt"]],
  classify: [["text", "label"]],
  regress: [["text", "label"]],
};

/** Throws a clear error when the export was made for another trainer, or lacks the columns TRL needs. */
export async function checkExportFor(trainer: string, exp: ExportDir): Promise<void> {
  const accepts = ACCEPTS[trainer];
  if (!accepts) throw new Error(`unknown trainer "${trainer}"`);
  if (!accepts.includes(exp.trainer)) {
    const hint = suggestFormat(trainer);
    throw new Error(
      `${exp.dir} holds a "${exp.format}" export (trainer ${exp.trainer}), which \`critic train ${trainer}\` cannot use; ` +
        `export it for ${trainer}${hint}`,
    );
  }
  // Parquet exports mirror the JSONL ones; only JSONL rows are peeked at here.
  if (/\.parquet$/i.test(exp.files.train)) return;
  const row = await firstRow(exp.files.train);
  if (row === undefined) throw new Error(`${exp.files.train} has no rows`);
  const sets = REQUIRED_COLUMNS[trainer]!;
  if (!sets.some((cols) => cols.every((c) => c in row))) {
    throw new Error(
      `${exp.files.train}: the first row has columns ${Object.keys(row).join(", ") || "(none)"}, but TRL's ${trainer} trainer needs ` +
        sets.map((cols) => cols.join(" + ")).join(" or "),
    );
  }
}

function suggestFormat(trainer: string): string {
  switch (trainer) {
    case "sft": return " (--format sft-messages, sft-prompt-completion, criticon-sft or prometheus-sft)";
    case "dpo": return " (--format dpo or dpo-conversational)";
    case "kto": return " (--format kto)";
    case "reward": return " (--format reward)";
    case "grpo": return " (any format with a prompt column, e.g. sft-prompt-completion or dpo)";
    case "classify": return " (--format classify)";
    case "regress": return " (--format regress)";
    default: return "";
  }
}

/** The first JSON row of a JSONL file. */
export async function firstRow(file: string): Promise<Record<string, unknown> | undefined> {
  for await (const { record } of readStrict(file)) return record;
  return undefined;
}

/**
 * The rows of an export file with their line numbers, through the shared record reader; unlike a
 * judge run, a bad line stops here (before anything is uploaded or launched).
 */
export function readStrict(file: string): AsyncGenerator<SourcedRecord> {
  return readRecords(file, {
    onReject: (reject) => {
      throw new Error(`${reject.file}:${reject.line}: ${reject.reason}`);
    },
  });
}
