/**
 * Seeded resampling. Every metric here can be computed from a table of counts over distinct
 * observations (a (judge, gold) pair, or a tuple for several judges), so one bootstrap replicate
 * is n random draws into that table followed by a metric over the table: for judge scores on a
 * small scale the table has a few dozen cells and 1,000 replicates of 10^6 rows take seconds.
 */

/** xoshiro128** seeded through splitmix32: a fast 32-bit generator with a 2^128 period. */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let z = seed >>> 0;
    const next = () => {
      z = (z + 0x9e3779b9) | 0;
      let t = z ^ (z >>> 16);
      t = Math.imul(t, 0x21f0aaad);
      t ^= t >>> 15;
      t = Math.imul(t, 0x735a2d97);
      return (t ^ (t >>> 15)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * Adds one count to `counts[cellOf[i]]` for each of n rows i drawn uniformly with replacement.
   * The generator is inlined with its state in locals: this loop runs n times per bootstrap replicate.
   */
  drawInto(cellOf: ArrayLike<number>, counts: Float64Array): void {
    let s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
    const n = cellOf.length;
    for (let k = 0; k < n; k++) {
      const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      const cell = cellOf[Math.floor((r / 4294967296) * n)] as number;
      counts[cell] = (counts[cell] as number) + 1;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n), n <= 2^32. */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export interface BootstrapOptions {
  /** Replicates; 0 turns the bootstrap off. */
  iterations: number;
  seed: number;
}

/**
 * Draws `iterations` resamples of the rows and calls `onReplicate` with the count of each cell in
 * that resample. `cellOf[i]` is the cell of row i; the array passed is reused between calls.
 */
export function resampleCounts(
  cellOf: ArrayLike<number>,
  cells: number,
  options: BootstrapOptions,
  onReplicate: (counts: Float64Array, replicate: number) => void,
): void {
  const random = new Random(options.seed);
  const counts = new Float64Array(cells);
  for (let b = 0; b < options.iterations; b++) {
    counts.fill(0);
    random.drawInto(cellOf, counts);
    onReplicate(counts, b);
  }
}

/** Percentile interval of the finite replicate values; null when too few replicates were defined. */
export function percentileInterval(values: number[], confidence = 0.95): [number, number] | null {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length < 2 || finite.length < values.length / 2) return null;
  const alpha = (1 - confidence) / 2;
  return [quantile(finite, alpha), quantile(finite, 1 - alpha)];
}

/** Linear-interpolation quantile of sorted values (numpy's default). */
export function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/**
 * Groups rows into cells of identical keys. Returns each row's cell and the first row of each cell,
 * so a metric over the cells (with the counts as weights) equals the metric over the rows.
 */
export function cellsOf(rowCount: number, key: (row: number) => string | number): { cellOf: Uint32Array; firstRow: number[] } {
  const index = new Map<string | number, number>();
  const cellOf = new Uint32Array(rowCount);
  const firstRow: number[] = [];
  for (let i = 0; i < rowCount; i++) {
    const k = key(i);
    let cell = index.get(k);
    if (cell === undefined) {
      cell = firstRow.length;
      index.set(k, cell);
      firstRow.push(i);
    }
    cellOf[i] = cell;
  }
  return { cellOf, firstRow };
}
