/**
 * What `critic view` has open: the judgment files (indexed, lined up on the first), the labels
 * file, and who is labelling. Its lifecycle is explicit: `openWorkspace()` then `dispose()`.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { hasVerdict, LabelStore, type HumanLabel } from "../records/labels.js";
import { raterReport, type RaterReport } from "../metaeval/evaluate.js";
import type { JudgmentRow, Label } from "../metaeval/rows.js";
import { indexJudgments, type JudgmentIndex } from "./judgment-index.js";
import { alignFiles, queryRows, type RowQuery, type Workspace } from "./query.js";

export interface OpenWorkspace extends Workspace {
  names: string[];
  /** The rows of a query in display order, cached by the query (the app asks page by page). */
  rowsFor(key: string, query: RowQuery): Promise<Int32Array>;
  /** Agreement between the annotators of the labels file on the first file's records. */
  annotatorAgreement(): RaterReport | undefined;
  dispose(): void;
}

export interface WorkspaceOptions {
  files: string[];
  /** Labels file (JSONL, appended to); default `<first file without extension>.labels.jsonl`. */
  labels?: string;
  annotator: string;
  /** Called as files are indexed, for a progress line. */
  onIndexed?: (file: string, rows: number, seconds: number) => void;
}

/** The labels file that goes with a judgments file when none is named. */
export function defaultLabelsFile(file: string): string {
  const base = path.basename(file).replace(/\.(jsonl|json|csv|tsv|parquet)(\.gz)?$/i, "");
  return path.join(path.dirname(file), `${base}.labels.jsonl`);
}

/** A short unique name per file for column headers: the file name, or its path when two share one. */
export function fileNames(files: string[]): string[] {
  const base = (f: string) => path.basename(f).replace(/\.(jsonl|json|csv|tsv|parquet)(\.gz)?$/i, "");
  return files.map((f) => (files.filter((g) => base(g) === base(f)).length > 1 ? f : base(f)));
}

export async function openWorkspace(options: WorkspaceOptions): Promise<OpenWorkspace> {
  if (options.files.length === 0) throw new Error("view: no judgment files given");
  if (options.annotator.trim() === "") throw new Error("view: --annotator must not be empty");
  const indexes: JudgmentIndex[] = [];
  try {
    for (const file of options.files) {
      const started = performance.now();
      const index = await indexJudgments(file);
      indexes.push(index);
      options.onIndexed?.(file, index.rows, (performance.now() - started) / 1000);
    }
  } catch (error) {
    for (const index of indexes) index.dispose();
    throw error;
  }
  const labelsFile = options.labels ?? defaultLabelsFile(options.files[0] as string);
  if (existsSync(labelsFile) === false) {
    const dir = path.dirname(labelsFile);
    if (!existsSync(dir)) throw new Error(`labels file ${labelsFile}: folder ${dir} does not exist`);
  }
  const labels = new LabelStore(labelsFile);
  const alignment = alignFiles(indexes);
  const cache = new Map<string, Int32Array>();
  const ws: OpenWorkspace = {
    indexes,
    alignment,
    labels,
    annotator: options.annotator,
    names: fileNames(options.files),
    async rowsFor(key, query) {
      const hit = cache.get(key);
      if (hit) return hit;
      const rows = await queryRows(ws, query);
      if (cache.size >= 8) cache.delete(cache.keys().next().value as string);
      cache.set(key, rows);
      return rows;
    },
    annotatorAgreement() {
      labels.refresh();
      const names = labels.annotators();
      if (names.length < 2) return undefined;
      const first = indexes[0] as JudgmentIndex;
      const kind = first.mode === "pairwise" ? "pairwise" : "score";
      const ids = new Set<string>();
      for (const name of names) for (const [id, label] of labels.byAnnotator.get(name) ?? []) if (hasVerdict(label)) ids.add(id);
      const rows: JudgmentRow[] = [...ids].map((id, index) => ({
        index, line: index + 1, pred: null, gold: null,
        ratings: names.map((name) => verdictOf(labels.get(name, id))),
      }));
      return raterReport(kind, names, rows, kind === "pairwise" ? "majority" : "mean");
    },
    dispose() {
      for (const index of indexes) index.dispose();
      cache.clear();
    },
  };
  return ws;
}

function verdictOf(label: HumanLabel | undefined): Label | null {
  if (!hasVerdict(label)) return null;
  return label.winner ?? (label.score as number);
}
