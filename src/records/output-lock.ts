import { createHash, randomUUID } from "node:crypto";
import { realpathSync } from "node:fs";
import { link, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { checkInputFile, checkMappedFields } from "./read.js";
import { outputFormatOf, type OutputKind } from "./write.js";
import { fileErrorMessage, writable } from "../util/fs-error.js";

/**
 * Holds `<output>.lock` for a run's life, so two runs never write one output (they would share
 * `<output>.partial` and leave a mixed file). A lock whose process is gone (kill -9) is taken over.
 */
export interface OutputLock {
  readonly path: string;
  release(): Promise<void>;
}

export interface LockOptions {
  /** Wait for the other run to finish instead of refusing (CLI `--wait`). */
  wait?: boolean;
  /** Poll interval while waiting, ms. Default 500. */
  pollMs?: number;
  signal?: AbortSignal;
}

export class OutputBusyError extends Error {
  constructor(readonly output: string, readonly pid: number) {
    super(`another run (pid ${pid}) is writing ${output}; wait for it to finish, or pass --wait`);
  }
}

export async function lockOutput(output: string, options: LockOptions = {}): Promise<OutputLock> {
  const path = `${output}.lock`;
  // The nonce makes every taking of the lock distinct, so a takeover can name the one it replaces.
  const me = `${process.pid} ${hostname()} ${randomUUID()}\n`;
  for (;;) {
    if (await createWhole(path, me)) {
      return {
        path,
        async release() {
          const held = await readFile(path, "utf8").catch(() => "");
          if (held === me) await rm(path, { force: true });
        },
      };
    }
    const holder = await readFile(path, "utf8").catch(() => undefined);
    if (holder === undefined) continue; // released meanwhile: try again
    const pid = Number(holder.split(" ")[0]);
    if (isStale(holder)) {
      await removeStale(path, holder);
      continue;
    }
    if (!options.wait) throw new OutputBusyError(output, pid);
    if (options.signal?.aborted) throw new Error(`stopped while waiting for pid ${pid} to finish writing ${output}`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }
}

/**
 * Creates `path` holding `content`, or returns false when it exists. The content is written to a
 * file of its own first and linked into place, so a lock file is never seen half written.
 */
async function createWhole(path: string, content: string): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(temp, content, { flag: "wx" });
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

/** A lock whose process is gone (kill -9), on this host; or one that is not a lock at all. */
function isStale(holder: string): boolean {
  const [pidText, host] = holder.trim().split(" ");
  const pid = Number(pidText);
  return !Number.isInteger(pid) || pid <= 0 || (host === hostname() && !isAlive(pid));
}

/**
 * Removes the lock file at `path` if it still holds `holder` (a stale lock). Reading it and
 * removing it are two steps, so two runs that both read the stale lock could otherwise both
 * remove, the second removing the lock the first had just taken. Only the run that creates
 * `<path>.takeover-<hash of holder>` may remove it; the claim is removed after the stale lock,
 * so a run that gets the claim later finds a different holder and removes nothing. A claim whose
 * own process died is stale in turn and taken over the same way.
 */
async function removeStale(path: string, holder: string): Promise<void> {
  const claim = `${path.replace(/\.takeover-[0-9a-f]+$/, "")}.takeover-${createHash("sha256").update(path).update("\0").update(holder).digest("hex").slice(0, 16)}`;
  if (await createWhole(claim, `${process.pid} ${hostname()} ${randomUUID()}\n`)) {
    try {
      const now = await readFile(path, "utf8").catch(() => undefined);
      if (now === holder) await rm(path, { force: true });
    } finally {
      await rm(claim, { force: true });
    }
    return;
  }
  const claimant = await readFile(claim, "utf8").catch(() => undefined);
  if (claimant !== undefined && isStale(claimant)) await removeStale(claim, claimant);
  // Another run is taking it over: give it a moment.
  else await new Promise((r) => setTimeout(r, 1));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Refuses an output that is one of the run's inputs (writing it would replace the input). */
export function assertNotAnInput(output: string, inputs: string[]): void {
  assertOwnFiles([{ path: output, role: "the output" }], inputs.map((path) => ({ path, role: "an input" })));
}

/** A file a run reads or writes, and what it is to the run ("the run store", "an input"). */
export interface RunFile {
  path: string;
  role: string;
}

/**
 * Refuses a run whose outputs are one of its other files, or each other (compared by real path):
 * `-o` naming the run store would destroy every cached call, `-o` naming the input would replace it.
 */
export function assertOwnFiles(outputs: RunFile[], others: RunFile[]): void {
  const seen = new Map<string, RunFile>();
  for (const file of others) seen.set(canonical(file.path), file);
  for (const output of outputs) {
    const other = seen.get(canonical(output.path));
    if (other) {
      throw new Error(
        other.role === "an input"
          ? `the output ${output.path} is also an input of this run (${other.path}); it would be overwritten: choose another -o`
          : `${output.role} ${output.path} is also ${other.role} of this run (${other.path}); writing it would destroy that: choose another file`,
      );
    }
    seen.set(canonical(output.path), output);
  }
}

/** The real path of a file, or of its folder joined with its name when it does not exist yet. */
function canonical(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    try {
      return join(realpathSync(dirname(resolve(file))), basename(file));
    } catch {
      return resolve(file);
    }
  }
}

/** What every file-to-file run (judge, the generate pipelines) checks and holds while it runs. */
export interface RunFiles {
  input: string;
  /** The record output first (its lock is taken), then other files written (rejects, failures). */
  outputs: Array<string | undefined>;
  map?: Record<string, string>;
  /** The record output's format when not the one its name asks for. */
  format?: OutputKind;
  /** The run store (a path; an open store is not checked), whose -wal and -shm files count too. */
  store?: string | object;
  /** Other files the run reads or writes (--batch-file, --batch-results), with their roles. */
  others?: RunFile[];
}

/**
 * What every file-to-file run (judge, the generate pipelines) does before it opens a backend:
 * the input exists, the output's name says a format critic writes, `--map` names fields the input
 * has, no output is another file of the run (the input, the run store); the output's folder is
 * created; then `body` runs holding the lock on the first output.
 */
export async function runLocked<T>(files: RunFiles, options: LockOptions, body: () => Promise<T>): Promise<T> {
  await checkInputFile(files.input);
  const outputs = files.outputs.filter((o): o is string => o !== undefined);
  const output = outputs[0]!;
  const store = typeof files.store === "string" && files.store !== ":memory:" ? files.store : undefined;
  assertOwnFiles(
    outputs.map((path, i) => ({ path, role: i === 0 ? "the output" : "the output file" })),
    [
      { path: files.input, role: "an input" },
      ...(store ? [{ path: store, role: "the run store" }, { path: `${store}-wal`, role: "the run store's log" }, { path: `${store}-shm`, role: "the run store's shared memory" }] : []),
      ...(files.others ?? []),
    ],
  );
  if (!files.format) outputFormatOf(output);
  for (const other of outputs.slice(1)) {
    // Rejects and failures are JSONL whatever the name; a name that says otherwise would mislead.
    if (!/\.(jsonl|ndjson)$/i.test(other)) throw new Error(`${other}: rejects and failures are written as JSONL; give the file a .jsonl name`);
  }
  if (files.map) await checkMappedFields(files.input, files.map);
  try {
    await mkdir(dirname(resolve(output)), { recursive: true });
  } catch (error) {
    throw new Error(writable(dirname(resolve(output)))
      ? fileErrorMessage("create the folder of the output", output, error)
      : `cannot create the folder of the output ${output}: the folder above it is read-only`);
  }
  let lock: OutputLock;
  try {
    lock = await lockOutput(output, options);
  } catch (error) {
    if (error instanceof OutputBusyError || (error as NodeJS.ErrnoException).code === undefined) throw error;
    throw new Error(fileErrorMessage("create the lock file", `${output}.lock`, error));
  }
  try {
    return await body();
  } finally {
    await lock.release();
  }
}
