/**
 * `--rpm` / `--tpm`: requests and tokens per minute, over a sliding 60 s window. A call waits until
 * the window has room: fewer than `rpm` calls started in the last minute, and the tokens used in it
 * (each call counted at its estimate until its usage is known) plus this call's estimate within `tpm`.
 */
import { setTimeout as sleep } from "node:timers/promises";

const WINDOW_MS = 60_000;

export interface RateLimitOptions {
  rpm?: number;
  tpm?: number;
  /** For tests: the clock and the wait. */
  now?: () => number;
  wait?: (ms: number) => Promise<void>;
}

interface Entry {
  at: number;
  tokens: number;
}

export class RateLimiter {
  private readonly entries: Entry[] = [];
  private readonly now: () => number;
  private readonly wait: (ms: number) => Promise<void>;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: RateLimitOptions) {
    for (const [name, value] of Object.entries({ rpm: options.rpm, tpm: options.tpm })) {
      if (value !== undefined && !(value > 0)) throw new Error(`--${name} must be a positive number, got ${value}`);
    }
    this.now = options.now ?? Date.now;
    this.wait = options.wait ?? ((ms) => sleep(ms));
  }

  /** Waits for room for a call estimated at `tokens`; returns its entry, to be settled with the real usage. */
  acquire(tokens: number): Promise<{ settle(actual: number): void }> {
    // One waiter at a time, so calls start in order.
    const turn = this.queue.then(() => this.waitForRoom(tokens));
    this.queue = turn.then(() => undefined, () => undefined);
    return turn;
  }

  private async waitForRoom(tokens: number): Promise<{ settle(actual: number): void }> {
    for (;;) {
      const now = this.now();
      while (this.entries.length > 0 && this.entries[0]!.at <= now - WINDOW_MS) this.entries.shift();
      const used = this.entries.reduce((sum, e) => sum + e.tokens, 0);
      const rpmOk = this.options.rpm === undefined || this.entries.length < this.options.rpm;
      // A call bigger than the whole budget goes alone once the window is empty.
      const tpmOk = this.options.tpm === undefined || used + tokens <= this.options.tpm || this.entries.length === 0;
      if (rpmOk && tpmOk) {
        const entry = { at: now, tokens };
        this.entries.push(entry);
        return { settle: (actual) => void (entry.tokens = actual) };
      }
      await this.wait(Math.max(1, this.entries[0]!.at + WINDOW_MS - now));
    }
  }
}

/** A call's token estimate before it is made: prompt characters / 4, plus its completion limit. */
export function estimateTokens(messages: ReadonlyArray<{ content: string }>, maxTokens = 256): number {
  return Math.ceil(messages.reduce((sum, m) => sum + m.content.length, 0) / 4) + maxTokens;
}
