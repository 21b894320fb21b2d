/**
 * Adaptive concurrency for server backends (additive increase, multiplicative decrease): start at
 * the configured limit, halve it when the server answers 429 or a call times out, and grow it back by
 * one after as many successes in a row as the current limit, never past the configured one. A
 * server's Retry-After is honoured by the retry loop; this keeps the run from hammering it meanwhile.
 */
export class AdaptiveLimit {
  private active = 0;
  private current: number;
  private streak = 0;
  private readonly waiting: Array<() => void> = [];
  /** Lowest limit reached (for the summary and tests). */
  lowest: number;

  constructor(private readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`concurrency must be a positive integer, got ${max}`);
    this.current = max;
    this.lowest = max;
  }

  get limit(): number {
    return this.current;
  }

  async run<T>(task: () => Promise<T>, isOverload: (error: unknown) => boolean): Promise<T> {
    while (this.active >= this.current) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      const result = await task();
      if (++this.streak >= this.current && this.current < this.max) {
        this.current++;
        this.streak = 0;
      }
      return result;
    } catch (error) {
      if (isOverload(error)) {
        this.current = Math.max(1, Math.floor(this.current / 2));
        this.lowest = Math.min(this.lowest, this.current);
        this.streak = 0;
      }
      throw error;
    } finally {
      this.active--;
      this.release();
    }
  }

  private release(): void {
    // Woken waiters check the limit again, so waking one per free slot is safe.
    for (let free = this.current - this.active; free > 0 && this.waiting.length > 0; free--) this.waiting.shift()!();
  }
}
