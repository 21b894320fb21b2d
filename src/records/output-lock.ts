import { realpathSync } from "node:fs";
import { open, readFile, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { checkInputFile, checkMappedFields } from "./read.js";

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
  const me = `${process.pid} ${hostname()}\n`;
  for (;;) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(me);
      await handle.close();
      return {
        path,
        async release() {
          const held = await readFile(path, "utf8").catch(() => "");
          if (held === me) await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = await readFile(path, "utf8").catch(() => "");
    const [pidText, host] = holder.trim().split(" ");
    const pid = Number(pidText);
    if (!Number.isInteger(pid) || pid <= 0 || (host === hostname() && !isAlive(pid))) {
      // A lock left by a process that died (or a half-written one): take it over.
      await rm(path, { force: true });
      continue;
    }
    if (!options.wait) throw new OutputBusyError(output, pid);
    if (options.signal?.aborted) throw new Error(`stopped while waiting for pid ${pid} to finish writing ${output}`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }
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
  const out = canonical(output);
  for (const input of inputs) {
    if (canonical(input) === out) throw new Error(`the output ${output} is also an input of this run (${input}); it would be overwritten: choose another -o`);
  }
}

function canonical(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return resolve(file);
  }
}

/**
 * What every file-to-file run (judge, the generate pipelines) does before it opens a backend:
 * the input exists, `--map` names fields the input has, no output is an input; then `body` runs
 * holding the lock on the first output.
 */
export async function runLocked<T>(
  files: { input: string; outputs: Array<string | undefined>; map?: Record<string, string> },
  options: LockOptions,
  body: () => Promise<T>,
): Promise<T> {
  await checkInputFile(files.input);
  if (files.map) await checkMappedFields(files.input, files.map);
  const outputs = files.outputs.filter((o): o is string => o !== undefined);
  for (const output of outputs) assertNotAnInput(output, [files.input]);
  const lock = await lockOutput(outputs[0]!, options);
  try {
    return await body();
  } finally {
    await lock.release();
  }
}
