/**
 * What `critic view` has open: the judgment files (indexed, lined up on the first), the labels
 * file, and who is labelling. Its lifecycle is explicit: `openWorkspace()` then `dispose()`.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { hasVerdict, LabelStore, type HumanLabel } from "../records/labels.js";
import { raterReport, type RaterReport } from "../metaeval/evaluate.js";
import type { JudgmentRow, Label } from "../metaeval/rows.js";
import { duplicateIdWarning } from "../records/label-keys.js";
import { fileStamp, indexJudgments, sameStamp, type JudgmentIndex } from "./judgment-index.js";
import { alignFiles, queryRows, type RowQuery, type Workspace } from "./query.js";
import { labelScale, type LabelScale } from "./scale.js";

export interface OpenWorkspace extends Workspace {
  names: string[];
  /** The shortest names that tell the files apart, for narrow table columns. */
  shortNames: string[];
  /** The scale humans label scores on. */
  scale: LabelScale;
  /** Warnings for the page and the terminal (records that share an id). */
  warnings: string[];
  /** Bumped each time the files are indexed again; the page sends it back with each label. */
  generation: number;
  /** The files that changed on disk (size, mtime or inode) since they were indexed. */
  changedFiles(): string[];
  /** Indexes every file again (after one was replaced, e.g. a judge run again to the same -o). */
  reindex(): Promise<void>;
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
  /** The label scale (e.g. 1-10), when neither the template nor the score distributions say it. */
  scale?: number[];
  /** Called as files are indexed, for a progress line. */
  onIndexed?: (file: string, rows: number, seconds: number) => void;
}

/** The labels file that goes with a judgments file when none is named. */
export function defaultLabelsFile(file: string): string {
  const base = path.basename(file).replace(/\.(jsonl|json|csv|tsv|parquet)(\.gz)?$/i, "");
  return path.join(path.dirname(file), `${base}.labels.jsonl`);
}

/**
 * The shortest names that still tell files apart, for the table's narrow judge columns: what is
 * left of the names once the prefix and suffix they all share (cut at a - _ . or space) is removed.
 */
export function shortNames(names: string[]): string[] {
  if (names.length < 2) return names.slice();
  const common = (a: string, b: string) => {
    let n = 0;
    while (n < a.length && n < b.length && a[n] === b[n]) n++;
    return n;
  };
  const reverse = (t: string) => [...t].reverse().join("");
  let prefix = Math.min(...names.map((n) => common(n, names[0] as string)));
  let suffix = Math.min(...names.map((n) => common(reverse(n), reverse(names[0] as string))));
  // Cut at a separator, so that "judge-7b" and "judge-13b" give "7b" and "13b", not "7b" and "13b" minus a shared digit.
  const first = names[0] as string;
  while (prefix > 0 && !/[-_. /\\]/.test(first[prefix - 1] as string)) prefix--;
  while (suffix > 0 && !/[-_. /\\]/.test(first[first.length - suffix] as string)) suffix--;
  const short = names.map((n) => n.slice(prefix, Math.max(prefix, n.length - suffix)));
  return short.some((s) => s === "") || new Set(short).size < names.length ? names.slice() : short;
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
  const names = fileNames(options.files);
  const scaleOf = (all: JudgmentIndex[]) =>
    labelScale(
      {
        templates: all.flatMap((i) => i.templates),
        distributionScores: [...new Set(all.flatMap((i) => i.distributionScores))].sort((a, b) => a - b),
        seenScores: [...new Set(all.flatMap((i) => i.seenScores))].sort((a, b) => a - b),
      },
      options.scale,
    );
  const warningsOf = (all: JudgmentIndex[]) => all.map((i) => duplicateIdWarning(i.file, i.duplicates)).filter((w): w is string => w !== undefined);
  let reindexing: Promise<void> | undefined;
  const ws: OpenWorkspace = {
    indexes,
    alignment,
    labels,
    annotator: options.annotator,
    names,
    shortNames: shortNames(names),
    scale: scaleOf(indexes),
    warnings: warningsOf(indexes),
    generation: 1,
    async rowsFor(key, query) {
      const hit = cache.get(key);
      if (hit) return hit;
      const rows = await queryRows(ws, query);
      if (cache.size >= 8) cache.delete(cache.keys().next().value as string);
      cache.set(key, rows);
      return rows;
    },
    changedFiles() {
      return ws.indexes.filter((index) => {
        try {
          return !sameStamp(index.stamp, fileStamp(index.file));
        } catch {
          return true; // removed
        }
      }).map((index) => index.file);
    },
    reindex() {
      reindexing ??= (async () => {
        const fresh: JudgmentIndex[] = [];
        try {
          for (const file of options.files) fresh.push(await indexJudgments(file));
        } catch (error) {
          for (const index of fresh) index.dispose();
          throw error;
        }
        const old = ws.indexes;
        ws.indexes = fresh;
        ws.alignment = alignFiles(fresh);
        ws.scale = scaleOf(fresh);
        ws.warnings = warningsOf(fresh);
        ws.generation++;
        cache.clear();
        for (const index of old) index.dispose();
      })().finally(() => {
        reindexing = undefined;
      });
      return reindexing;
    },
    annotatorAgreement() {
      labels.refresh();
      const names = labels.annotators();
      if (names.length < 2) return undefined;
      const first = ws.indexes[0] as JudgmentIndex;
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
      for (const index of ws.indexes) index.dispose();
      cache.clear();
    },
  };
  return ws;
}

function verdictOf(label: HumanLabel | undefined): Label | null {
  if (!hasVerdict(label)) return null;
  return label.winner ?? (label.score as number);
}
