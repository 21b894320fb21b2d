/**
 * Reads what a TRL run prints: the Trainer's log dicts (`{'loss': 1.23, 'grad_norm': ...,
 * 'learning_rate': 2e-05, 'epoch': 0.1}`, also with the values as quoted strings or numpy
 * reprs), the final `train_runtime` dict, and tqdm's progress line (`12%|█▏  | 12/100 [00:30<03:40,
 * 2.50s/it]`), which arrives on stderr with carriage returns.
 */
export interface TqdmProgress {
  kind: "progress";
  step: number;
  total: number;
  /** tqdm's own elapsed and remaining time, as printed. */
  elapsed?: string;
  remaining?: string;
}

export interface LogMetrics {
  kind: "metrics";
  /** "train" for training logs, "eval" for eval_* dicts, "summary" for the final train_runtime dict. */
  phase: "train" | "eval" | "summary";
  values: Record<string, number>;
}

export type TrainerEvent = TqdmProgress | LogMetrics;

// The Trainer's bar has no description; data preparation bars do ("Map: 100%|...", "Tokenizing train dataset: ...").
const TQDM = /^(\d+)%\|[^|]*\|\s*(\d+)\/(\d+)\s*(?:\[([\d:]+)<([\d:?]+))?/;
const PAIR = /'([^']+)':\s*(?:'([^']*)'|"([^"]*)"|(?:np\.float\d*|np\.int\d*|tensor)\(\s*([-+\w.]+)[^)]*\)|([-+]?(?:\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf|-inf)))/g;

/** Events in one line of output (a line may hold several tqdm redraws separated by \r). */
export function parseTrainerLine(line: string): TrainerEvent[] {
  const events: TrainerEvent[] = [];
  for (const part of line.split("\r")) {
    const text = part.trim();
    if (text === "") continue;
    const dict = parseLogDict(text);
    if (dict) {
      events.push(dict);
      continue;
    }
    const bar = TQDM.exec(text);
    if (bar) {
      const event: TqdmProgress = { kind: "progress", step: Number(bar[2]), total: Number(bar[3]) };
      if (bar[4]) event.elapsed = bar[4];
      if (bar[5] && bar[5] !== "?") event.remaining = bar[5];
      events.push(event);
    }
  }
  return events;
}

/** A Trainer log dict printed with Python's str(): single-quoted keys, numeric (or numeric-string) values. */
export function parseLogDict(text: string): LogMetrics | undefined {
  const start = text.indexOf("{'");
  const end = text.lastIndexOf("}");
  if (start === -1 || end < start) return undefined;
  const body = text.slice(start, end + 1);
  const values: Record<string, number> = {};
  for (const m of body.matchAll(PAIR)) {
    const raw = m[2] ?? m[3] ?? m[4] ?? m[5];
    if (raw === undefined) continue;
    const n = toNumber(raw);
    if (n !== undefined) values[m[1]!] = n;
  }
  const keys = Object.keys(values);
  if (keys.length === 0) return undefined;
  const phase = "train_runtime" in values ? "summary" : keys.some((k) => k.startsWith("eval_")) ? "eval" : "train";
  // Only dicts that look like a Trainer's logs: they always carry the epoch or a loss.
  if (!keys.some((k) => k === "epoch" || k === "loss" || k === "train_loss" || k.endsWith("_loss") || k === "train_runtime")) return undefined;
  return { kind: "metrics", phase, values };
}

function toNumber(raw: string): number | undefined {
  const text = raw.trim().replace(/_/g, "");
  if (/^-?inf$/i.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  const n = Number(text);
  return text !== "" && Number.isFinite(n) ? n : undefined;
}

/** Running state of a training run, folded from its events. */
export interface TrainState {
  step: number;
  total: number | null;
  epoch: number | null;
  loss: number | null;
  learningRate: number | null;
  evalLoss: number | null;
  summary: Record<string, number> | null;
  /** The last line that looked like an error (a Python exception, CUDA OOM...). */
  lastError: string | null;
}

export function emptyTrainState(): TrainState {
  return { step: 0, total: null, epoch: null, loss: null, learningRate: null, evalLoss: null, summary: null, lastError: null };
}

export function applyEvent(state: TrainState, event: TrainerEvent): void {
  if (event.kind === "progress") {
    // The training bar comes first (on_train_begin); evaluation bars drawn later have their own totals.
    state.total ??= event.total;
    if (event.total === state.total) state.step = Math.max(state.step, event.step);
    return;
  }
  const v = event.values;
  if (event.phase === "summary") {
    state.summary = v;
    if (v.train_loss !== undefined) state.loss = v.train_loss;
  } else if (event.phase === "eval") {
    if (v.eval_loss !== undefined) state.evalLoss = v.eval_loss;
  } else {
    if (v.loss !== undefined) state.loss = v.loss;
    if (v.learning_rate !== undefined) state.learningRate = v.learning_rate;
  }
  if (v.epoch !== undefined) state.epoch = v.epoch;
}

const ERROR_LINE = /(Error|Exception|Traceback|CUDA out of memory|Killed|error:|command not found|No such file)/;

export function noteErrorLine(state: TrainState, line: string): void {
  const text = line.trim();
  if (text && ERROR_LINE.test(text) && !text.startsWith("{'")) state.lastError = text.slice(0, 500);
}
