/**
 * Progress for long work: a redrawn line (done/total, rate, ETA) on a terminal, and a plain
 * line every 10% or 30 seconds elsewhere, so CI logs stay short.
 */
export interface ProgressOptions {
  label: string;
  total?: number;
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Force terminal or plain mode; default: terminal when the stream is a TTY and CI is unset. */
  interactive?: boolean;
}

export class Progress {
  private done = 0;
  private readonly started = performance.now();
  private lastDraw = 0;
  private lastPlainPercent = 0;
  private lastPlainTime = performance.now();
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly interactive: boolean;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.interactive = options.interactive ?? (Boolean(this.stream.isTTY) && !process.env.CI);
  }

  tick(count = 1, note = ""): void {
    this.done += count;
    const now = performance.now();
    if (this.interactive) {
      if (now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.stream.write(`\r\x1b[2K${this.line(note)}`);
      return;
    }
    const total = this.options.total;
    const percent = total ? Math.floor((this.done / total) * 10) * 10 : 0;
    if ((total && percent > this.lastPlainPercent) || now - this.lastPlainTime > 30_000) {
      this.lastPlainPercent = percent;
      this.lastPlainTime = now;
      this.stream.write(`${this.line(note)}\n`);
    }
  }

  finish(note = ""): void {
    if (this.interactive) this.stream.write(`\r\x1b[2K${this.line(note)}\n`);
  }

  private line(note: string): string {
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const total = this.options.total;
    const count = total ? `${this.done}/${total}` : `${this.done}`;
    const bar = total && this.interactive ? `${renderBar(this.done / total)} ` : "";
    const eta = total && rate > 0 ? ` ETA ${formatDuration((total - this.done) / rate)}` : "";
    return `${this.options.label} ${bar}${count} ${formatRate(rate)}/s${eta}${note ? ` ${note}` : ""}`;
  }
}

function renderBar(fraction: number, width = 24): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

function formatRate(rate: number): string {
  return rate >= 100 ? rate.toFixed(0) : rate.toFixed(2);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** A byte counter for downloads: redrawn on a terminal, a line per 10% elsewhere. */
export class ByteProgress {
  private readonly progress: Progress;
  private done = 0;

  constructor(label: string, totalBytes: number) {
    this.progress = new Progress({ label, total: Math.max(1, Math.round(totalBytes / 2 ** 20)) });
  }

  update(downloadedBytes: number): void {
    const mib = Math.round(downloadedBytes / 2 ** 20);
    if (mib > this.done) {
      this.progress.tick(mib - this.done, "MiB");
      this.done = mib;
    }
  }

  finish(): void {
    this.progress.finish("MiB");
  }
}
