/**
 * Judgments as Langfuse score objects (the body of POST /api/public/scores, or of a
 * `score-create` ingestion event): name, value, dataType, traceId / observationId read from the
 * record fields you name, the feedback as the comment. Each score's id is derived from its trace,
 * observation and name, so sending the file again updates the same scores instead of adding copies.
 */
import { createHash } from "node:crypto";
import { mkdir, open, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import { readRecords } from "../records/read.js";

export interface LangfuseScoreOptions {
  /** Record field holding the Langfuse trace id (default `trace_id`). */
  traceField?: string;
  /** Record field holding the observation (span) id the judgment evaluates (default `observation_id`; optional per record). */
  observationField?: string;
  /** Score name (default: `critic.<template>`). */
  name?: string;
}

export interface LangfuseScore {
  id: string;
  traceId: string;
  observationId?: string;
  name: string;
  value: number | string;
  dataType: "NUMERIC" | "CATEGORICAL";
  comment?: string;
  metadata: Record<string, unknown>;
}

export type LangfuseScoreResult = { ok: true; score: LangfuseScore } | { ok: false; reason: string };

function text(value: unknown): string | undefined {
  if (typeof value === "string" && value.trim() !== "") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** One judgment's score, or why it has none (a failed judgment, no trace id). */
export function langfuseScoreOf(judgment: Record<string, unknown>, options: LangfuseScoreOptions = {}): LangfuseScoreResult {
  const traceField = options.traceField ?? "trace_id";
  const observationField = options.observationField ?? "observation_id";
  const judge = judgment.judge as { template?: unknown; model?: unknown; backend?: unknown } | undefined;
  if (!judge || typeof judge !== "object") return { ok: false, reason: 'not a judgment (no "judge" field)' };
  if (typeof judgment.error === "string") return { ok: false, reason: `the judgment failed: ${judgment.error}` };
  const traceId = text(judgment[traceField]);
  if (!traceId) return { ok: false, reason: `field "${traceField}" (the Langfuse trace id) is missing or empty; name the field with --trace-field` };
  const observationId = text(judgment[observationField]);
  const template = typeof judge.template === "string" ? judge.template : "judge";
  const name = options.name ?? `critic.${template}`;
  let value: number | string;
  let dataType: LangfuseScore["dataType"];
  if (typeof judgment.score === "number" && Number.isFinite(judgment.score)) {
    value = judgment.score;
    dataType = "NUMERIC";
  } else if (typeof judgment.winner === "string") {
    value = judgment.winner;
    dataType = "CATEGORICAL";
  } else {
    return { ok: false, reason: "the judgment has no score or winner" };
  }
  const metadata: Record<string, unknown> = { model: judge.model, backend: judge.backend, template };
  for (const field of ["score_distribution", "score_expected", "winner_distribution", "verdict"] as const) {
    if (judgment[field] !== undefined) metadata[field] = judgment[field];
  }
  const id = createHash("sha256").update(JSON.stringify([traceId, observationId ?? null, name])).digest("hex").slice(0, 32);
  const comment = text(judgment.feedback);
  return {
    ok: true,
    score: { id, traceId, ...(observationId ? { observationId } : {}), name, value, dataType, ...(comment ? { comment } : {}), metadata },
  };
}

export interface LangfuseExportSummary {
  file: string;
  written: number;
  skipped: Array<{ file: string; line: number; reason: string }>;
}

/**
 * Writes `<outDir>/langfuse-scores.jsonl`, one score object a line, from judgment files. Judgments
 * without a score (failed, no trace id) are listed with file and line, never written with a default.
 * The file is written whole: to a `.partial`, synced, then renamed.
 */
export async function exportLangfuseScores(inputs: string[], outDir: string, options: LangfuseScoreOptions & { map?: Record<string, string> } = {}): Promise<LangfuseExportSummary> {
  const file = join(outDir, "langfuse-scores.jsonl");
  const lines: string[] = [];
  const skipped: LangfuseExportSummary["skipped"] = [];
  for (const input of inputs) {
    for await (const { line, record } of readRecords(input, {
      ...(options.map ? { map: options.map } : {}),
      onReject: (reject) => skipped.push({ file: input, line: reject.line, reason: reject.reason }),
    })) {
      const result = langfuseScoreOf(record, options);
      if (result.ok) lines.push(JSON.stringify(result.score));
      else skipped.push({ file: input, line, reason: result.reason });
    }
  }
  await mkdir(dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  const handle = await open(partial, "w");
  try {
    const data = Buffer.from(lines.length > 0 ? `${lines.join("\n")}\n` : "", "utf8");
    const { bytesWritten } = await handle.write(data, 0, data.length, 0);
    if (bytesWritten !== data.length) throw new Error(`cannot write ${partial}: ${bytesWritten} of ${data.length} bytes written`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(partial, file);
  return { file, written: lines.length, skipped };
}
