// Shape and value checks shared by the metrics: a metric given a ragged matrix or a label of 2 must say so,
// naming the row and column, instead of returning a plausible wrong number.

import { VidraError } from '../../core/config/errors.ts';

/** A metric was given inputs of the wrong shape or with invalid values. */
export class MetricInputError extends VidraError {}

/** Checks that `m` is a non-empty N×C matrix of numbers that are not NaN (±Infinity allowed); returns [N, C]. */
export function checkScoreMatrix(what: string, m: unknown): [number, number] {
  if (!Array.isArray(m) || m.length === 0) throw new MetricInputError(`${what} must be a non-empty N×C array of rows (got ${describe(m)})`);
  const first = m[0];
  if (!Array.isArray(first) || first.length === 0) throw new MetricInputError(`${what}[0] must be a non-empty row of numbers (got ${describe(first)})`);
  const c = first.length;
  for (let i = 0; i < m.length; i++) {
    const row = m[i];
    if (!Array.isArray(row)) throw new MetricInputError(`${what}[${i}] must be a row of numbers (got ${describe(row)})`);
    if (row.length !== c) throw new MetricInputError(`${what} is ragged: row 0 has ${c} columns, row ${i} has ${row.length}`);
    for (let j = 0; j < c; j++) {
      const v = row[j];
      if (typeof v !== 'number' || Number.isNaN(v)) throw new MetricInputError(`${what}[${i}][${j}] must be a number, not ${describe(v)}`);
    }
  }
  return [m.length, c];
}

/** Checks that `labels` is a 0/1 multi-hot matrix of shape [n, c]. */
export function checkMultiHot(what: string, labels: unknown, n: number, c: number): void {
  if (!Array.isArray(labels)) throw new MetricInputError(`${what} must be an N×C array of 0/1 rows (got ${describe(labels)})`);
  if (labels.length !== n) throw new MetricInputError(`${what} has ${labels.length} rows but the scores have ${n}`);
  for (let i = 0; i < n; i++) {
    const row = labels[i];
    if (!Array.isArray(row)) throw new MetricInputError(`${what}[${i}] must be a row of 0/1 (got ${describe(row)}); class indices are not multi-hot labels`);
    if (row.length !== c) throw new MetricInputError(`${what}[${i}] has ${row.length} columns but the scores have ${c}`);
    for (let j = 0; j < c; j++) {
      const v = row[j];
      if (v !== 0 && v !== 1) throw new MetricInputError(`${what}[${i}][${j}] must be 0 or 1, not ${describe(v)}`);
    }
  }
}

/** Checks that `labels` holds n class indices, integers in [0, c). */
export function checkClassIndices(what: string, labels: unknown, n: number, c: number): void {
  if (!Array.isArray(labels)) throw new MetricInputError(`${what} must be an array of class indices (got ${describe(labels)})`);
  if (labels.length !== n) throw new MetricInputError(`${what} has ${labels.length} entries but the scores have ${n} rows`);
  for (let i = 0; i < n; i++) {
    const v = labels[i];
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) >= c) {
      throw new MetricInputError(`${what}[${i}] must be a class index, an integer in [0, ${c - 1}], not ${describe(v)}`);
    }
  }
}

/** Checks a vector of n finite numbers. */
export function checkFiniteVector(what: string, v: unknown, n?: number): number[] {
  if (!Array.isArray(v)) throw new MetricInputError(`${what} must be an array of numbers (got ${describe(v)})`);
  if (n !== undefined && v.length !== n) throw new MetricInputError(`${what} has ${v.length} entries, expected ${n}`);
  v.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new MetricInputError(`${what}[${i}] must be a finite number, not ${describe(x)}`);
  });
  return v as number[];
}

export function checkPositiveInteger(what: string, k: unknown): number {
  if (!Number.isInteger(k) || (k as number) < 1) throw new MetricInputError(`${what} must be a positive integer, not ${describe(k)}`);
  return k as number;
}

/** The columns of a row-major N×C matrix, transposed in one pass. */
export function columns(m: readonly (readonly number[])[], c: number): Float64Array[] {
  const out = Array.from({ length: c }, () => new Float64Array(m.length));
  for (let i = 0; i < m.length; i++) {
    const row = m[i]!;
    for (let j = 0; j < c; j++) out[j]![i] = row[j]!;
  }
  return out;
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

export function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'number') return String(v);
  if (v === null) return 'null';
  return typeof v;
}
