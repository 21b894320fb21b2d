/**
 * Training runs in the run store's SQLite file: a `train_runs` table beside `calls` and `runs`
 * (run-store.ts is left as it is; both open the same WAL-mode file). A row is updated while the
 * run goes, so a crashed or killed critic still leaves the last step and loss behind.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

export type TrainStatus = "running" | "succeeded" | "failed" | "interrupted";

export interface TrainRunRow {
  id: number;
  provider: "trl" | "openai";
  trainer: string;
  runDir: string | null;
  base: string | null;
  status: TrainStatus;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  step: number | null;
  totalSteps: number | null;
  loss: number | null;
  learningRate: number | null;
  epoch: number | null;
  exitCode: number | null;
  jobId: string | null;
  fineTunedModel: string | null;
  error: string | null;
  options: Record<string, unknown>;
}

export interface TrainProgressUpdate {
  step?: number | null;
  totalSteps?: number | null;
  loss?: number | null;
  learningRate?: number | null;
  epoch?: number | null;
  jobId?: string | null;
}

export interface TrainFinish extends TrainProgressUpdate {
  status: Exclude<TrainStatus, "running">;
  exitCode?: number | null;
  fineTunedModel?: string | null;
  error?: string | null;
}

const COLUMNS: Record<keyof TrainProgressUpdate | "exitCode" | "fineTunedModel" | "error", string> = {
  step: "step",
  totalSteps: "total_steps",
  loss: "loss",
  learningRate: "learning_rate",
  epoch: "epoch",
  jobId: "job_id",
  exitCode: "exit_code",
  fineTunedModel: "fine_tuned_model",
  error: "error",
};

export class TrainStore {
  private readonly db: Database.Database;

  private constructor(readonly path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS train_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        provider TEXT NOT NULL,
        trainer TEXT NOT NULL,
        run_dir TEXT,
        base TEXT,
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT,
        step INTEGER,
        total_steps INTEGER,
        loss REAL,
        learning_rate REAL,
        epoch REAL,
        exit_code INTEGER,
        job_id TEXT,
        fine_tuned_model TEXT,
        error TEXT,
        options TEXT NOT NULL
      );
    `);
  }

  static open(path: string): TrainStore {
    return new TrainStore(path);
  }

  start(run: { provider: "trl" | "openai"; trainer: string; runDir?: string; base?: string; options?: Record<string, unknown> }): number {
    const now = new Date().toISOString();
    const info = this.db
      .prepare(
        "INSERT INTO train_runs (provider, trainer, run_dir, base, status, started_at, updated_at, options) VALUES (?, ?, ?, ?, 'running', ?, ?, ?)",
      )
      .run(run.provider, run.trainer, run.runDir ?? null, run.base ?? null, now, now, JSON.stringify(run.options ?? {}));
    return Number(info.lastInsertRowid);
  }

  update(id: number, update: TrainProgressUpdate): void {
    this.set(id, update, {});
  }

  finish(id: number, finish: TrainFinish): void {
    const { status, ...rest } = finish;
    this.set(id, rest, { status, finished_at: new Date().toISOString() });
  }

  get(id: number): TrainRunRow | undefined {
    const row = this.db.prepare("SELECT * FROM train_runs WHERE id = ?").get(id) as Record<string, unknown> | undefined;
    return row ? toRow(row) : undefined;
  }

  list(limit = 20): TrainRunRow[] {
    return (this.db.prepare("SELECT * FROM train_runs ORDER BY id DESC LIMIT ?").all(limit) as Array<Record<string, unknown>>).map(toRow);
  }

  close(): void {
    this.db.close();
  }

  private set(id: number, values: Partial<Record<keyof typeof COLUMNS, unknown>>, extra: Record<string, unknown>): void {
    const assignments: string[] = ["updated_at = ?"];
    const params: unknown[] = [new Date().toISOString()];
    for (const [key, column] of Object.entries(COLUMNS)) {
      const value = values[key as keyof typeof COLUMNS];
      if (value === undefined) continue;
      assignments.push(`${column} = ?`);
      params.push(typeof value === "number" && !Number.isFinite(value) ? null : value);
    }
    for (const [column, value] of Object.entries(extra)) {
      assignments.push(`${column} = ?`);
      params.push(value);
    }
    this.db.prepare(`UPDATE train_runs SET ${assignments.join(", ")} WHERE id = ?`).run(...params, id);
  }
}

function toRow(row: Record<string, unknown>): TrainRunRow {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    id: Number(row.id),
    provider: row.provider as "trl" | "openai",
    trainer: String(row.trainer),
    runDir: str(row.run_dir),
    base: str(row.base),
    status: row.status as TrainStatus,
    startedAt: String(row.started_at),
    updatedAt: String(row.updated_at),
    finishedAt: str(row.finished_at),
    step: num(row.step),
    totalSteps: num(row.total_steps),
    loss: num(row.loss),
    learningRate: num(row.learning_rate),
    epoch: num(row.epoch),
    exitCode: num(row.exit_code),
    jobId: str(row.job_id),
    fineTunedModel: str(row.fine_tuned_model),
    error: str(row.error),
    options: JSON.parse(String(row.options)) as Record<string, unknown>,
  };
}
