import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { ChatMessage, GenerateRequest, GenerateResult, SamplingParams } from "../backends/types.js";
import { stableStringify } from "../util/stable-json.js";
import { fileErrorMessage, writable } from "../util/fs-error.js";

/** What identifies one model call: same key, same answer, so it is never paid twice. */
export interface CallIdentity {
  backend: string;
  model: string;
  /** Backend.variant, when set (e.g. the embedded backend's prefix reuse). */
  variant?: string;
  messages: ChatMessage[];
  params: SamplingParams;
  constraint?: GenerateRequest["constraint"];
  /** Present when the call also asked for verdict probabilities (its answer then holds them). */
  verdict?: GenerateRequest["verdict"];
}

export interface CachedCall extends GenerateResult {
  latencyMs: number;
}

export type RunStatus = "running" | "finished" | "interrupted" | "failed";

export interface RunInfo {
  id: number;
  command: string;
  options: Record<string, unknown>;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  summary: Record<string, unknown> | null;
}

export function callKey(identity: CallIdentity): string {
  return createHash("sha256").update(stableStringify(identity)).digest("hex");
}

const GROUP_SIZE = 64;
const GROUP_MS = 20;

/** A batch critic created on a server's Batch API: what it holds and how far it got. */
export interface BatchRecord {
  rowid: number;
  /** sha256 of the request lines: the same lines on the same server re-attach instead of being sent again. */
  hash: string;
  baseURL: string;
  batchId: string | null;
  inputFileId: string | null;
  model: string;
  output: string;
  status: string;
  requests: number;
  info: Record<string, unknown>;
  /** Its results are in the calls table. */
  loaded: boolean;
  createdAt: string;
  updatedAt: string;
}

function batchRecord(row: Record<string, unknown>): BatchRecord {
  return {
    rowid: Number(row.rowid),
    hash: String(row.hash),
    baseURL: String(row.base_url),
    batchId: row.batch_id === null ? null : String(row.batch_id),
    inputFileId: row.input_file_id === null ? null : String(row.input_file_id),
    model: String(row.model),
    output: String(row.output),
    status: String(row.status),
    requests: Number(row.requests),
    info: JSON.parse(String(row.info)) as Record<string, unknown>,
    loaded: Number(row.loaded) === 1,
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  };
}

/**
 * The run store: a SQLite file holding every completed model call (keyed by callKey) and
 * the history of runs (and of the Batch API batches it sent). WAL mode; calls are committed in
 * small groups (see putCall), so a call that returned is on disk within GROUP_MS even if the
 * process is killed.
 */
export class RunStore {
  private readonly db: Database.Database;
  private readonly getCallStmt: Database.Statement<[string], { result: string }>;
  private readonly createdAtStmt: Database.Statement<[string], { created_at: string }>;
  /** When this store was opened: calls stored before it come from an earlier run. */
  private readonly openedAt = new Date().toISOString();
  private readonly putCallStmt: Database.Statement<[string, string, string]>;
  private readonly commitGroup: (calls: Map<string, [string, string]>) => void;
  private readonly pending = new Map<string, [result: string, createdAt: string]>();
  private flushTimer: NodeJS.Timeout | undefined;
  /** A commit that failed (a full disk): later calls stay in memory and the run ends failed. */
  private writeFailure: Error | undefined;
  /** finishRun has recorded (and thrown) writeFailure. */
  private failureReported = false;

  private constructor(readonly path: string) {
    try {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path);
      this.db.pragma("journal_mode = WAL");
    } catch (error) {
      const readOnly = path !== ":memory:" && !writable(path);
      throw new Error(readOnly
        ? `cannot open the run store ${path}: it is read-only (critic writes the store, and its -wal and -shm files beside it; --store names another)`
        : `${fileErrorMessage("open the run store", path, error)} (--store names it)`);
    }
    try {
      this.init();
    } catch (error) {
      this.db.close();
      throw new Error(fileErrorMessage("set up the run store", path, error));
    }
    this.getCallStmt = this.db.prepare("SELECT result FROM calls WHERE key = ?");
    this.createdAtStmt = this.db.prepare("SELECT created_at FROM calls WHERE key = ?");
    this.putCallStmt = this.db.prepare(
      "INSERT OR REPLACE INTO calls (key, result, created_at) VALUES (?, ?, ?)",
    );
    this.commitGroup = this.db.transaction((calls: Map<string, [string, string]>) => {
      for (const [key, [result, createdAt]] of calls) this.putCallStmt.run(key, result, createdAt);
    });
  }

  private init(): void {
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS calls (
        key TEXT PRIMARY KEY,
        result TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS batches (
        hash TEXT NOT NULL,
        base_url TEXT NOT NULL,
        batch_id TEXT,
        input_file_id TEXT,
        model TEXT NOT NULL,
        output TEXT NOT NULL,
        status TEXT NOT NULL,
        requests INTEGER NOT NULL,
        info TEXT NOT NULL DEFAULT '{}',
        loaded INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS batches_by_hash ON batches (hash, base_url);
      CREATE TABLE IF NOT EXISTS runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        command TEXT NOT NULL,
        options TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        summary TEXT
      );
    `);
  }

  static open(path: string): RunStore {
    return new RunStore(path);
  }

  getCall(key: string): CachedCall | undefined {
    const pending = this.pending.get(key);
    if (pending) return JSON.parse(pending[0]) as CachedCall;
    const row = this.getCallStmt.get(key);
    return row ? (JSON.parse(row.result) as CachedCall) : undefined;
  }

  /**
   * Whether a stored call was stored by an earlier run (before this store was opened). A run again
   * reads such an output back but, where it did not parse, draws a new sample instead of counting
   * the old failure against its retries.
   */
  storedByEarlierRun(key: string): boolean {
    if (this.pending.has(key)) return false;
    const row = this.createdAtStmt.get(key);
    return row !== undefined && row.created_at < this.openedAt;
  }

  /**
   * Stores a call. Calls are committed in groups (GROUP_SIZE calls, or GROUP_MS after the first of
   * a group), one transaction each: a commit per call cost a tenth of a judge run's CPU. A kill -9
   * loses at most the group not yet committed, whose calls are paid again on resume.
   */
  putCall(key: string, call: CachedCall): void {
    this.pending.set(key, [JSON.stringify(call), new Date().toISOString()]);
    if (this.writeFailure) return;
    if (this.pending.size >= GROUP_SIZE) this.tryFlush();
    else this.flushTimer ??= setTimeout(() => this.tryFlush(), GROUP_MS);
  }

  /**
   * Commits the calls not yet on disk. A failed commit (the disk is full) is kept, not thrown at
   * the call that happened to trigger it: the run goes on with its calls in memory, and
   * finishRun records it as failed and throws.
   */
  private tryFlush(): void {
    try {
      this.flush();
    } catch (error) {
      this.writeFailure ??= new Error(fileErrorMessage("write to the run store", this.path, error));
    }
  }

  /** Commits the calls not yet on disk; throws (naming the store) when they cannot be written. */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.writeFailure) throw this.writeFailure;
    if (this.pending.size === 0) return;
    try {
      this.commitGroup(this.pending);
    } catch (error) {
      throw (this.writeFailure = new Error(fileErrorMessage("write to the run store", this.path, error)));
    }
    this.pending.clear();
  }

  countCalls(): number {
    this.flush();
    return (this.db.prepare("SELECT COUNT(*) AS n FROM calls").get() as { n: number }).n;
  }

  /** Records a batch about to be created, before anything is sent, so a killed run can find it. */
  addBatch(batch: Pick<BatchRecord, "hash" | "baseURL" | "model" | "output" | "requests" | "inputFileId">): BatchRecord {
    const now = new Date().toISOString();
    const info = this.db
      .prepare("INSERT INTO batches (hash, base_url, input_file_id, model, output, status, requests, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'uploaded', ?, ?, ?)")
      .run(batch.hash, batch.baseURL, batch.inputFileId ?? null, batch.model, batch.output, batch.requests, now, now);
    return batchRecord(this.db.prepare("SELECT rowid, * FROM batches WHERE rowid = ?").get(info.lastInsertRowid) as Record<string, unknown>);
  }

  updateBatch(rowid: number, change: Partial<Pick<BatchRecord, "batchId" | "status" | "info" | "loaded">>): void {
    const sets: string[] = ["updated_at = ?"];
    const values: unknown[] = [new Date().toISOString()];
    if (change.batchId !== undefined) sets.push("batch_id = ?"), values.push(change.batchId);
    if (change.status !== undefined) sets.push("status = ?"), values.push(change.status);
    if (change.info !== undefined) sets.push("info = ?"), values.push(JSON.stringify(change.info));
    if (change.loaded !== undefined) sets.push("loaded = ?"), values.push(change.loaded ? 1 : 0);
    this.db.prepare(`UPDATE batches SET ${sets.join(", ")} WHERE rowid = ?`).run(...values, rowid);
  }

  /** The batch of these request lines on this server whose results are not in the store yet. */
  openBatch(hash: string, baseURL: string): BatchRecord | undefined {
    const row = this.db.prepare("SELECT rowid, * FROM batches WHERE hash = ? AND base_url = ? AND loaded = 0 ORDER BY rowid DESC LIMIT 1").get(hash, baseURL);
    return row ? batchRecord(row as Record<string, unknown>) : undefined;
  }

  listBatches(limit = 50): BatchRecord[] {
    return (this.db.prepare("SELECT rowid, * FROM batches ORDER BY rowid DESC LIMIT ?").all(limit) as Array<Record<string, unknown>>).map(batchRecord);
  }

  startRun(command: string, options: Record<string, unknown>): number {
    try {
      const info = this.db
        .prepare("INSERT INTO runs (command, options, status, started_at) VALUES (?, ?, 'running', ?)")
        .run(command, JSON.stringify(options), new Date().toISOString());
      return Number(info.lastInsertRowid);
    } catch (error) {
      throw new Error(fileErrorMessage("write to the run store", this.path, error));
    }
  }

  /**
   * Records how a run ended. When the store could not take the run's calls (see tryFlush), the run
   * is recorded as failed, with the reason, and the reason is thrown (unless the caller is already
   * recording a failure).
   */
  finishRun(id: number, status: RunStatus, summary: Record<string, unknown>): void {
    if (!this.writeFailure) this.tryFlush();
    const failure = this.writeFailure;
    if (failure) {
      this.failureReported = true;
      // The calls that could not be written are dropped: their space may be what the history row needs.
      this.pending.clear();
      if (status !== "failed") summary = { ...summary, error: failure.message };
      status = "failed";
    }
    try {
      this.db
        .prepare("UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE id = ?")
        .run(status, new Date().toISOString(), JSON.stringify(summary), id);
    } catch (error) {
      const message = fileErrorMessage("write to the run store", this.path, error);
      throw new Error(failure ? `${failure.message}; the run could not be marked failed in its history either` : message);
    }
    if (failure && summary.error === failure.message) throw failure;
  }

  listRuns(limit = 20): RunInfo[] {
    const rows = this.db
      .prepare("SELECT * FROM runs ORDER BY id DESC LIMIT ?")
      .all(limit) as Array<Record<string, string | number | null>>;
    return rows.map((row) => ({
      id: Number(row.id),
      command: String(row.command),
      options: JSON.parse(String(row.options)) as Record<string, unknown>,
      status: row.status as RunStatus,
      startedAt: String(row.started_at),
      finishedAt: row.finished_at === null ? null : String(row.finished_at),
      summary: row.summary === null ? null : (JSON.parse(String(row.summary)) as Record<string, unknown>),
    }));
  }

  /** Commits what is pending and closes; after a failed commit, closes without it. */
  close(): void {
    if (!this.writeFailure) this.tryFlush();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.pending.clear();
    this.db.close();
    if (this.writeFailure && !this.failureReported) throw this.writeFailure;
  }
}
