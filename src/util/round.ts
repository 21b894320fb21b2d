/** Rounding for values written to outputs (scores, shares, dollars), so files stay readable. */
export function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

export function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
