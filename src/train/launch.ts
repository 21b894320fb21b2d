/**
 * Runs a run folder's launch.sh (or a stand-in launcher), turns the trainer's log lines into a
 * progress bar, records the run in the store as it goes, and forwards Ctrl-C to the trainer.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { formatDuration, Progress } from "../util/progress.js";
import { applyEvent, emptyTrainState, noteErrorLine, parseTrainerLine, type TrainState } from "./log-parser.js";
import { readRunManifest } from "./recipe.js";
import { TrainStore, type TrainStatus } from "./train-store.js";

export interface LaunchOptions {
  runDir: string;
  /** Executable run instead of `bash launch.sh`; it gets launch.sh's path as its only argument. */
  launcher?: string;
  /** Run store file (the train_runs table), or an open TrainStore. */
  store: string | TrainStore;
  /** Abort = Ctrl-C: SIGINT to the trainer's process group; a second abort sends SIGTERM, a third SIGKILL. */
  signal?: AbortSignal;
  /** Where the trainer's own output is echoed (default: nowhere). */
  echo?: (line: string) => void;
  /** Progress bar stream (default stderr); false for none. */
  progress?: NodeJS.WritableStream | false;
  env?: NodeJS.ProcessEnv;
  /** Minimum interval between store updates (default 1000 ms); the final state is always written. */
  storeIntervalMs?: number;
}

export interface LaunchResult {
  id: number;
  status: Exclude<TrainStatus, "running">;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  state: TrainState;
  elapsedMs: number;
  /** The last lines the trainer printed (stdout and stderr), for a failed run's report. */
  tail: string[];
  /** Why a failed run failed: its error line or exit status, and what to check. */
  error: string | null;
}

const TAIL_LINES = 20;

export interface RunningLaunch {
  /** Ctrl-C: SIGINT to the trainer's process group the first time, SIGTERM the second, SIGKILL after. */
  interrupt(): void;
  done: Promise<LaunchResult>;
}

export async function launchRun(options: LaunchOptions): Promise<LaunchResult> {
  return startLaunch(options).done;
}

export function startLaunch(options: LaunchOptions): RunningLaunch {
  const manifest = readRunManifest(path.resolve(options.runDir));
  let interrupt: () => void = () => {};
  const done = run(options, manifest, (fn) => (interrupt = fn));
  return { interrupt: () => interrupt(), done };
}

async function run(options: LaunchOptions, manifest: ReturnType<typeof readRunManifest>, expose: (interrupt: () => void) => void): Promise<LaunchResult> {
  const runDir = path.resolve(options.runDir);
  const store = typeof options.store === "string" ? TrainStore.open(options.store) : options.store;
  const started = performance.now();
  const id = store.start({
    provider: "trl",
    trainer: manifest.trainer,
    runDir,
    base: manifest.base,
    options: { preset: manifest.preset, accelerate: manifest.accelerate, numProcesses: manifest.numProcesses, export: manifest.export.dir, launcher: options.launcher ?? "bash launch.sh" },
  });

  const script = path.join(runDir, "launch.sh");
  const [command, args] = options.launcher ? [options.launcher, [script]] : ["bash", [script]];
  const state = emptyTrainState();
  let progress: Progress | undefined;
  let shownStep = 0;
  let lastStoreWrite = 0;
  const storeInterval = options.storeIntervalMs ?? 1000;

  const child = spawn(command, args, {
    cwd: runDir,
    env: { ...process.env, PYTHONUNBUFFERED: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so Ctrl-C reaches accelerate and every worker once, through us.
    detached: process.platform !== "win32",
  });

  let interrupts = 0;
  const forward = () => {
    interrupts++;
    const sig: NodeJS.Signals = interrupts === 1 ? "SIGINT" : interrupts === 2 ? "SIGTERM" : "SIGKILL";
    try {
      if (child.pid !== undefined && process.platform !== "win32") process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      // Already gone.
    }
  };
  expose(forward);
  if (options.signal?.aborted) forward();
  options.signal?.addEventListener("abort", forward);

  let trailing: NodeJS.Timeout | undefined;
  const flush = (force: boolean) => {
    const now = performance.now();
    if (!force && now - lastStoreWrite < storeInterval) {
      // Throttled: write once the interval is over, so a quiet trainer still leaves its last step behind.
      trailing ??= setTimeout(() => {
        trailing = undefined;
        flush(true);
      }, storeInterval - (now - lastStoreWrite));
      return;
    }
    if (trailing) clearTimeout(trailing);
    trailing = undefined;
    lastStoreWrite = now;
    store.update(id, { step: state.step, totalSteps: state.total, loss: state.loss, learningRate: state.learningRate, epoch: state.epoch });
  };

  const tail: string[] = [];
  const onLine = (line: string) => {
    options.echo?.(line);
    if (line.trim() !== "") {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
    }
    noteErrorLine(state, line);
    const events = parseTrainerLine(line);
    if (events.length === 0) return;
    for (const event of events) applyEvent(state, event);
    if (options.progress !== false && state.total !== null) {
      progress ??= new Progress({ label: `train ${manifest.trainer}`, total: state.total, ...(options.progress ? { stream: options.progress } : {}) });
      // A log dict redraws the bar with the new loss (a terminal shows it at once; CI logs at the next 10%).
      progress.tick(Math.max(0, state.step - shownStep), note(state));
      shownStep = Math.max(shownStep, state.step);
    }
    flush(false);
  };

  const readers = [child.stdout!, child.stderr!].map((stream) => {
    // tqdm redraws with \r and no newline: split on both so progress arrives as it is drawn.
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    rl.on("line", (line) => line.split("\r").forEach(onLine));
    return new Promise<void>((resolve) => rl.once("close", resolve));
  });

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  await Promise.all(readers);
  options.signal?.removeEventListener("abort", forward);
  progress?.finish(note(state));

  let status: LaunchResult["status"];
  let error: string | null = null;
  if (exit.error) {
    status = "failed";
    error = `cannot start ${command}: ${exit.error.message}`;
  } else if (interrupts > 0) {
    status = "interrupted";
  } else if (exit.code === 0) {
    status = "succeeded";
  } else {
    status = "failed";
    error = failureMessage(state.lastError, exit.code, exit.signal);
  }
  if (trailing) clearTimeout(trailing);
  store.finish(id, { status, exitCode: exit.code, error, step: state.step, totalSteps: state.total, loss: state.loss, learningRate: state.learningRate, epoch: state.epoch });
  if (typeof options.store === "string") store.close();
  return { id, status, exitCode: exit.code, signal: exit.signal, state, elapsedMs: Math.round(performance.now() - started), tail, error };
}

/** The trainer's own error line, or what its exit status means, with where to look next. */
function failureMessage(lastError: string | null, code: number | null, signal: NodeJS.Signals | null): string {
  const status = code === null ? `signal ${signal}` : `code ${code}`;
  if (lastError) return lastError;
  if (code === 127) return `the trainer exited with code 127: a command was not found (is accelerate installed? \`critic train doctor\` checks python, torch, trl and accelerate)`;
  return `the trainer exited with ${status}; its last output is above, and \`critic train doctor\` checks the Python packages`;
}

function note(state: TrainState): string {
  const parts: string[] = [];
  if (state.loss !== null) parts.push(`loss ${formatMetric(state.loss)}`);
  if (state.learningRate !== null) parts.push(`lr ${state.learningRate.toExponential(2)}`);
  if (state.epoch !== null) parts.push(`epoch ${state.epoch.toFixed(2)}`);
  return parts.join(" ");
}

export function formatMetric(n: number): string {
  return Math.abs(n) >= 0.01 || n === 0 ? n.toFixed(4) : n.toExponential(3);
}

/** One line for the end of a run. */
export function describeLaunch(result: LaunchResult): string {
  const s = result.state;
  const step = s.total !== null ? `step ${s.step}/${s.total}` : `step ${s.step}`;
  const loss = s.loss !== null ? `, loss ${formatMetric(s.loss)}` : "";
  return `train run ${result.id} ${result.status} at ${step}${loss} after ${formatDuration(result.elapsedMs / 1000)}`;
}
