// Ego4D long-term action anticipation: edit distance ED@Z and AUED (ml-spec §2.3, EGO4D/forecasting
// ego4d_forecasting/evaluation/lta_metrics.py).
//
//   preds [N, K, Z] (K candidate sequences of Z future actions; the Ego4D code permutes to [N, Z, K]), labels [N, Z]
//   ED(z)  = mean_n min_k lev(preds[n, k, :z], labels[n, :z]) / z
//   ED@Z   = ED(Z)   (the Ego4D key "ED_19" for Z = 20: its keys count prefixes from 0)
//   AUED   = trapz([ED(1), …, ED(Z)]) / (Z − 1)   (unit spacing; Z = 1 gives 0/0 = NaN, as numpy does)
//   lev    = editdistance.eval: plain Levenshtein, insertion / deletion / substitution cost 1. The Ego4D docstring
//            says "Damerau–Levenshtein"; it is not: swapping two adjacent actions costs 2, not 1.
// verb, noun and action are scored separately; action id = verb · numNouns + noun (numNouns = 521 in Ego4D v1), so
// an action matches iff verb and noun both match. The min over K is taken independently for each of the three: the
// best verb sequence and the best noun sequence may be different candidates.
//
// Ego4D's validation loop logs these per batch and averages over batches; the challenge scores the whole test set.
// The functions here score the samples they are given (a sample mean); the `lta_ed` metric can do either.

import { definePlugin } from '../../core/plugins/registry.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { checkPositiveInteger, describe, MetricInputError } from './inputs.ts';
import type { Metric } from './metric.ts';

/** Ego4D v1 LTA noun vocabulary size, the multiplier of the action id. */
export const EGO4D_NUM_NOUNS = 521;

/** Plain Levenshtein distance (unit insertion, deletion, substitution; no transpositions). */
export function levenshtein<T>(a: ArrayLike<T>, b: ArrayLike<T>): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * For two sequences of the same length Z, min[z] = min(min[z], lev(a[:z], b[:z])) for z = 1…Z, read off the diagonal
 * of ONE Levenshtein table: cell (z, z) depends only on the first z items of each, so it is the distance of the
 * prefixes. `prev` and `cur` are scratch rows of length Z + 1.
 */
function minPrefixDistances(a: readonly number[], b: readonly number[], min: Int32Array, prev: Int32Array, cur: Int32Array): void {
  const z = b.length;
  for (let j = 0; j <= z; j++) prev[j] = j;
  for (let i = 1; i <= z; i++) {
    cur[0] = i;
    const ai = a[i - 1];
    for (let j = 1; j <= z; j++) {
      const sub = prev[j - 1]! + (ai === b[j - 1] ? 0 : 1);
      const del = prev[j]! + 1;
      const ins = cur[j - 1]! + 1;
      cur[j] = sub < del ? (sub < ins ? sub : ins) : del < ins ? del : ins;
    }
    if (cur[i]! < min[i - 1]!) min[i - 1] = cur[i]!;
    const t = prev;
    prev = cur;
    cur = t;
  }
}

export interface EditDistanceResult {
  /** ED at the full horizon Z. */
  edAtZ: number;
  /** Area under the ED(z) curve, trapz / (Z − 1). */
  aued: number;
  /** ED(z) for z = 1…Z (perZ[Z − 1] = edAtZ; Ego4D's key "ED_{z−1}"). */
  perZ: number[];
}

export interface LtaInput {
  /** [N, K, Z] predicted verb ids. */
  verbPreds: number[][][];
  /** [N, K, Z] predicted noun ids. */
  nounPreds: number[][][];
  /** [N, Z] ground-truth verb ids. */
  verbLabels: number[][];
  /** [N, Z] ground-truth noun ids. */
  nounLabels: number[][];
}

export interface LtaResult {
  verb: EditDistanceResult;
  noun: EditDistanceResult;
  action: EditDistanceResult;
}

/** Checks preds [N, K, Z] of non-negative integer ids; returns [N, K, Z]. */
function checkPreds(what: string, p: unknown): [number, number, number] {
  if (!Array.isArray(p) || p.length === 0) throw new MetricInputError(`${what} must be a non-empty N×K×Z array (got ${describe(p)})`);
  const k = Array.isArray(p[0]) ? p[0].length : 0;
  const z = k > 0 && Array.isArray(p[0][0]) ? p[0][0].length : 0;
  if (k === 0 || z === 0) throw new MetricInputError(`${what} must be N×K×Z with K, Z ≥ 1 (candidate sequences of future action ids); got ${what}[0] = ${describe(p[0])}`);
  p.forEach((cands, n) => {
    if (!Array.isArray(cands) || cands.length !== k) throw new MetricInputError(`${what}[${n}] must hold K = ${k} candidate sequences (got ${describe(cands)})`);
    cands.forEach((seq, kk) => checkIds(`${what}[${n}][${kk}]`, seq, z));
  });
  return [p.length, k, z];
}

function checkLabels(what: string, l: unknown, n: number, z: number): void {
  if (!Array.isArray(l) || l.length !== n) throw new MetricInputError(`${what} must be N×Z with N = ${n} (got ${describe(l)})`);
  l.forEach((seq, i) => checkIds(`${what}[${i}]`, seq, z));
}

function checkIds(what: string, seq: unknown, z: number): void {
  if (!Array.isArray(seq) || seq.length !== z) throw new MetricInputError(`${what} must be a sequence of Z = ${z} ids (got ${describe(seq)})`);
  for (let i = 0; i < z; i++) {
    const v: unknown = seq[i];
    if (!Number.isInteger(v) || (v as number) < 0) throw new MetricInputError(`${what}[${i}] must be a class id, a non-negative integer, not ${describe(v)}`);
  }
}

/** The per-sample, per-prefix minima min_k lev(preds[n,k,:z], labels[n,:z]) / z, for z = 1…Z: [N][Z]. */
function sampleCurves(preds: number[][][], labels: number[][]): Float64Array[] {
  const z = labels[0]!.length;
  const min = new Int32Array(z);
  const prev = new Int32Array(z + 1);
  const cur = new Int32Array(z + 1);
  const out: Float64Array[] = [];
  for (let n = 0; n < preds.length; n++) {
    min.fill(z + 1);
    const cands = preds[n]!;
    for (let k = 0; k < cands.length; k++) minPrefixDistances(cands[k]!, labels[n]!, min, prev, cur);
    const curve = new Float64Array(z);
    for (let p = 0; p < z; p++) curve[p] = min[p]! / (p + 1);
    out.push(curve);
  }
  return out;
}

function curveResult(perZ: number[]): EditDistanceResult {
  const z = perZ.length;
  let area = 0;
  for (let i = 1; i < z; i++) area += (perZ[i - 1]! + perZ[i]!) / 2;
  return { edAtZ: perZ[z - 1]!, aued: area / (z - 1), perZ };
}

function meanCurve(curves: readonly Float64Array[]): number[] {
  const z = curves[0]!.length;
  const out = new Array<number>(z).fill(0);
  for (const c of curves) for (let i = 0; i < z; i++) out[i]! += c[i]!;
  return out.map((s) => s / curves.length);
}

/** ED(z) for z = 1…Z, ED@Z and AUED of one head: preds [N, K, Z] against labels [N, Z]. */
export function editDistance(preds: number[][][], labels: number[][]): EditDistanceResult {
  const [n, , z] = checkPreds('preds', preds);
  checkLabels('labels', labels, n, z);
  return curveResult(meanCurve(sampleCurves(preds, labels)));
}

/** Action ids verb · numNouns + noun of [.., Z] sequences (a noun ≥ numNouns would collide, so it is an error). */
export function actionIds<T extends number[] | number[][] | number[][][]>(verbs: T, nouns: T, numNouns: number = EGO4D_NUM_NOUNS): T {
  const combine = (v: unknown, w: unknown, path: string): unknown => {
    if (Array.isArray(v)) {
      if (!Array.isArray(w) || w.length !== v.length) throw new MetricInputError(`the verb and noun arrays differ in shape at ${path || 'the top level'}`);
      return v.map((x, i) => combine(x, w[i], `${path}[${i}]`));
    }
    if ((w as number) >= numNouns) throw new MetricInputError(`noun id ${String(w)} at ${path} is not below numNouns = ${numNouns}; action ids would collide`);
    return (v as number) * numNouns + (w as number);
  };
  return combine(verbs, nouns, '') as T;
}

/**
 * Ego4D LTA edit distances for verb, noun and action (see the module comment): each `{ edAtZ, aued, perZ }`,
 * the min over the K candidates taken independently per head.
 */
export function ltaEditDistance(input: LtaInput, options: { numNouns?: number } = {}): LtaResult {
  return ltaCurves(input, options).result;
}

/** The per-sample curves behind ltaEditDistance (the `lta_ed` metric accumulates these). */
function ltaCurves(input: LtaInput, options: { numNouns?: number }): { result: LtaResult; samples: Record<'verb' | 'noun' | 'action', Float64Array[]> } {
  const numNouns = checkPositiveInteger('numNouns', options.numNouns ?? EGO4D_NUM_NOUNS);
  const [n, k, z] = checkPreds('verbPreds', input.verbPreds);
  const shape = checkPreds('nounPreds', input.nounPreds);
  if (shape[0] !== n || shape[1] !== k || shape[2] !== z) {
    throw new MetricInputError(`verbPreds is ${n}×${k}×${z} but nounPreds is ${shape.join('×')}`);
  }
  checkLabels('verbLabels', input.verbLabels, n, z);
  checkLabels('nounLabels', input.nounLabels, n, z);
  const samples = {
    verb: sampleCurves(input.verbPreds, input.verbLabels),
    noun: sampleCurves(input.nounPreds, input.nounLabels),
    action: sampleCurves(actionIds(input.verbPreds, input.nounPreds, numNouns), actionIds(input.verbLabels, input.nounLabels, numNouns)),
  };
  const result = {
    verb: curveResult(meanCurve(samples.verb)),
    noun: curveResult(meanCurve(samples.noun)),
    action: curveResult(meanCurve(samples.action)),
  };
  return { result, samples };
}

/** One test clip's forecast for the Ego4D LTA submission. */
export interface LtaForecast {
  clipUid: string;
  /** action_idx of the LAST observed clip of the input. */
  actionIdx: number;
  /** [K, Z] verb ids. */
  verbPreds: number[][];
  /** [K, Z] noun ids. */
  nounPreds: number[][];
}

/**
 * The Ego4D LTA test submission (`outputs.json`): `{ "<clip_uid>_<action_idx>": { verb: K×Z, noun: K×Z } }`,
 * as ego4d_forecasting's test step writes it. Two forecasts with the same key are an error.
 */
export function outputsJson(forecasts: readonly LtaForecast[]): Record<string, { verb: number[][]; noun: number[][] }> {
  const out: Record<string, { verb: number[][]; noun: number[][] }> = {};
  forecasts.forEach((f, i) => {
    if (typeof f.clipUid !== 'string' || f.clipUid === '') throw new MetricInputError(`forecasts[${i}].clipUid must be a non-empty string`);
    if (!Number.isInteger(f.actionIdx) || f.actionIdx < 0) throw new MetricInputError(`forecasts[${i}].actionIdx must be a non-negative integer, not ${describe(f.actionIdx)}`);
    const [, k, z] = checkPreds(`forecasts[${i}].verbPreds`, [f.verbPreds]);
    const shape = checkPreds(`forecasts[${i}].nounPreds`, [f.nounPreds]);
    if (shape[1] !== k || shape[2] !== z) throw new MetricInputError(`forecasts[${i}]: verbPreds is ${k}×${z} but nounPreds is ${shape[1]}×${shape[2]}`);
    const key = `${f.clipUid}_${f.actionIdx}`;
    if (Object.hasOwn(out, key)) throw new MetricInputError(`two forecasts for the key '${key}' (forecasts[${i}] and an earlier one)`);
    out[key] = { verb: f.verbPreds.map((s) => [...s]), noun: f.nounPreds.map((s) => [...s]) };
  });
  return out;
}

interface LtaConfig {
  z: number;
  num_nouns: number;
  reduce: 'samples' | 'batches';
}

/**
 * ED@Z and AUED over an epoch (`lta_ed`): ed_verb, ed_noun, ed_action, aued_verb, aued_noun, aued_action.
 * reduce 'samples' (default) scores all samples at once, as the challenge does; 'batches' averages per-batch
 * values, as Ego4D's validation logging does (equal only when batches are equal in size).
 */
@injectable()
export class LtaEditDistanceMetric implements Metric<LtaInput> {
  readonly name = 'lta_ed';
  private samples: Record<'verb' | 'noun' | 'action', Float64Array[]> = { verb: [], noun: [], action: [] };
  private batches: LtaResult[] = [];
  constructor(@inject(PLUGIN_CONFIG) private readonly config: LtaConfig) {}

  update(batch: LtaInput): void {
    const z = batch.verbPreds?.[0]?.[0]?.length;
    if (z !== undefined && z !== this.config.z) {
      throw new MetricInputError(`${this.name}: the forecasts have Z = ${z} future actions but the metric is configured with z = ${this.config.z}`);
    }
    const { result, samples } = ltaCurves(batch, { numNouns: this.config.num_nouns });
    this.batches.push(result);
    for (const h of ['verb', 'noun', 'action'] as const) this.samples[h].push(...samples[h]);
  }

  compute(): Record<string, number> {
    if (this.batches.length === 0) throw new MetricInputError(`${this.name}: compute() before any update(): no forecasts to evaluate`);
    const out: Record<string, number> = {};
    for (const h of ['verb', 'noun', 'action'] as const) {
      const r =
        this.config.reduce === 'batches'
          ? {
              edAtZ: this.batches.reduce((s, b) => s + b[h].edAtZ, 0) / this.batches.length,
              aued: this.batches.reduce((s, b) => s + b[h].aued, 0) / this.batches.length,
            }
          : curveResult(meanCurve(this.samples[h]));
      out[`ed_${h}`] = r.edAtZ;
      out[`aued_${h}`] = r.aued;
    }
    return out;
  }

  reset(): void {
    this.samples = { verb: [], noun: [], action: [] };
    this.batches = [];
  }
}

export const plugin = definePlugin({
  kind: 'metric',
  name: 'lta_ed',
  description: 'Ego4D LTA edit distance ED@Z and AUED for verb, noun and action (min over K candidates)',
  schema: {
    type: 'object',
    properties: {
      z: { type: 'integer', minimum: 1, default: 20, description: 'number of future actions Z (ED@Z)' },
      num_nouns: { type: 'integer', minimum: 1, default: EGO4D_NUM_NOUNS, description: 'noun vocabulary size: action id = verb·num_nouns + noun' },
      reduce: { enum: ['samples', 'batches'], default: 'samples', description: "samples: over all forecasts (the challenge); batches: mean of per-batch values (Ego4D's validation log)" },
    },
    additionalProperties: false,
  },
  create: LtaEditDistanceMetric,
});
