import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { ChatMessage, GenerateRequest, GenerateResult, SamplingParams } from "../backends/types.js";
import { stableStringify } from "../util/stable-json.js";

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

/**
 * The run store: a SQLite file holding every completed model call (keyed by callKey) and
 * the history of runs. WAL mode with one transaction per call, so a call that returned is on
 * disk even if the process is killed right after.
 */
export class RunStore {
  private readonly db: Database.Database;
  private readonly getCallStmt: Database.Statement<[string], { result: string }>;
  private readonly putCallStmt: Database.Statement<[string, string, string]>;

  private constructor(readonly path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS calls (
        key TEXT PRIMARY KEY,
        result TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
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
    this.getCallStmt = this.db.prepare("SELECT result FROM calls WHERE key = ?");
    this.putCallStmt = this.db.prepare(
      "INSERT OR REPLACE INTO calls (key, result, created_at) VALUES (?, ?, ?)",
    );
  }

  static open(path: string): RunStore {
    return new RunStore(path);
  }

  getCall(key: string): CachedCall | undefined {
    const row = this.getCallStmt.get(key);
    return row ? (JSON.parse(row.result) as CachedCall) : undefined;
  }

  putCall(key: string, call: CachedCall): void {
    this.putCallStmt.run(key, JSON.stringify(call), new Date().toISOString());
  }

  countCalls(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM calls").get() as { n: number }).n;
  }

  startRun(command: string, options: Record<string, unknown>): number {
    const info = this.db
      .prepare("INSERT INTO runs (command, options, status, started_at) VALUES (?, ?, 'running', ?)")
      .run(command, JSON.stringify(options), new Date().toISOString());
    return Number(info.lastInsertRowid);
  }

  finishRun(id: number, status: RunStatus, summary: Record<string, unknown>): void {
    this.db
      .prepare("UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE id = ?")
      .run(status, new Date().toISOString(), JSON.stringify(summary), id);
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

  close(): void {
    this.db.close();
  }
}
