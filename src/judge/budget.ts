/**
 * `--max-cost`: every call reserves what it may cost before it is sent (its prompt's estimated
 * tokens plus its max_tokens, at the price) and settles with its real usage when it returns. A call
 * whose reservation does not fit under the cap beside what is spent and what is reserved waits for
 * the calls in flight to settle (their real cost is usually far below their reservation); when it
 * does not fit with nothing in flight it is not sent, and the run stops taking records. So what a
 * run spends stays within the cap, and stops short of it by less than one call's reservation, as long as no
 * call uses more tokens than its reservation (the prompt estimate is characters / 4, above the real
 * count for text in the languages a tokenizer was trained on); the only overshoot is that excess
 * of the calls in flight at the time.
 */
import type { ChatMessage } from "../backends/types.js";
import { estimateTokens } from "../backends/rate-limit.js";

export interface Price {
  /** Dollars per million prompt tokens. */
  inputPerMillion: number;
  /** Dollars per million completion tokens. */
  outputPerMillion: number;
}

/** A call the budget refused to send: it could take the run over --max-cost. */
export class BudgetExhaustedError extends Error {
  override name = "BudgetExhaustedError";
}

export function costOf(promptTokens: number, completionTokens: number, price: Price): number {
  return (promptTokens * price.inputPerMillion + completionTokens * price.outputPerMillion) / 1e6;
}

export class CostBudget {
  /** Dollars of the calls that returned. */
  spent = 0;
  /** Dollars reserved by the calls in flight. */
  reserved = 0;
  /** Set when a call was refused: the run stops taking records. */
  exhausted = false;
  /** Calls in flight now, and at most (for the bound a bench reports). */
  inFlight = 0;
  peakInFlight = 0;

  constructor(
    readonly cap: number,
    readonly price: Price,
  ) {
    if (!(cap >= 0) || !Number.isFinite(cap)) throw new Error(`--max-cost must be a number of dollars >= 0, got ${cap}`);
  }

  /** What a call may cost at most: its prompt's estimate and all of its max tokens. */
  estimate(messages: ReadonlyArray<ChatMessage>, maxTokens: number | undefined): number {
    const total = estimateTokens(messages, maxTokens ?? 0);
    const completion = maxTokens ?? 0;
    return costOf(total - completion, completion, this.price);
  }

  private readonly waiting: Array<() => void> = [];

  /**
   * Reserves `amount` for a call about to be sent, waiting while calls in flight may free room;
   * false (and the budget exhausted) when it cannot fit.
   */
  async reserve(amount: number): Promise<boolean> {
    while (!this.exhausted && this.spent + this.reserved + amount > this.cap) {
      if (this.inFlight === 0) this.exhausted = true;
      else await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    if (this.exhausted) return false;
    this.reserved += amount;
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    return true;
  }

  /** The call returned (or failed: `actual` 0): its reservation gives way to what it cost. */
  settle(amount: number, actual: number): void {
    this.reserved = Math.max(0, this.reserved - amount);
    this.inFlight--;
    this.spent += actual;
    for (const wake of this.waiting.splice(0)) wake();
  }
}
