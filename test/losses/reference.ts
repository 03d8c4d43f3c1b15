// Naive float64 implementations of the loss formulas of ml-spec §1, written from the spec with plain loops and
// independent of the graph code, for the loss tests to compare against. Each follows the literal reference
// (torch / torchvision / LDAM-DRW / VideoLT / open_clip) expression, not the graph's rearranged stable form.
import { expect } from 'vitest';

export type Matrix = number[][];
export type Reduction = 'mean' | 'sum' | 'none';

/** sp(z) = max(z, 0) + log1p(exp(−|z|)), the spec's stable softplus. */
export const sp = (z: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
export const sigma = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

const sum = (v: number[]): number => v.reduce((a, b) => a + b, 0);
const sumM = (m: Matrix): number => sum(m.map(sum));
export const mapM = (m: Matrix, f: (v: number, i: number, j: number) => number): Matrix => m.map((r, i) => r.map((v, j) => f(v, i, j)));

export function reduceM(l: Matrix, reduction: Reduction, divisor = l.length * l[0]!.length): number | Matrix {
  if (reduction === 'none') return l;
  return reduction === 'sum' ? sumM(l) : sumM(l) / divisor;
}
export function reduceV(l: number[], reduction: Reduction, divisor = l.length): number | number[] {
  if (reduction === 'none') return l;
  return reduction === 'sum' ? sum(l) : sum(l) / divisor;
}

export function logSoftmax(row: number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(sum(row.map((v) => Math.exp(v - m))));
  return row.map((v) => v - lse);
}
export const softmax = (row: number[]): number[] => logSoftmax(row).map(Math.exp);

// ---- §1.1 BCE with logits ----------------------------------------------------------------------------------

/** ℓ_ic = w_c [pw_c y sp(−x) + (1 − y) sp(x)]. */
export function bceElements(x: Matrix, y: Matrix, o: { weight?: number[] | null; posWeight?: number[] | null } = {}): Matrix {
  return mapM(x, (v, i, j) => {
    const yy = y[i]![j]!;
    const pw = o.posWeight?.[j] ?? 1;
    return (o.weight?.[j] ?? 1) * (pw * yy * sp(-v) + (1 - yy) * sp(v));
  });
}
export function bce(x: Matrix, y: Matrix, o: { weight?: number[] | null; posWeight?: number[] | null; reduction?: Reduction } = {}) {
  return reduceM(bceElements(x, y, o), o.reduction ?? 'mean');
}
/** ∂ℓ_ic/∂x_ic = w_c [σ(x)(pw·y + 1 − y) − pw·y], ÷ N·C for mean. */
export function bceGrad(x: Matrix, y: Matrix, o: { weight?: number[] | null; posWeight?: number[] | null; reduction?: Reduction } = {}): Matrix {
  const scale = (o.reduction ?? 'mean') === 'mean' ? 1 / (x.length * x[0]!.length) : 1;
  return mapM(x, (v, i, j) => {
    const yy = y[i]![j]!;
    const pw = o.posWeight?.[j] ?? 1;
    return scale * (o.weight?.[j] ?? 1) * (sigma(v) * (pw * yy + 1 - yy) - pw * yy);
  });
}

// ---- torch cross_entropy with weight and label_smoothing ---------------------------------------------------------

export function ce(x: Matrix, t: number[], o: { eps?: number; weight?: number[] | null; reduction?: Reduction } = {}) {
  const eps = o.eps ?? 0;
  const C = x[0]!.length;
  const w = (j: number) => o.weight?.[j] ?? 1;
  const per = x.map((row, i) => {
    const lp = logSoftmax(row);
    const nll = -w(t[i]!) * lp[t[i]!]!;
    let smooth = 0;
    for (let j = 0; j < C; j++) smooth += -w(j) * lp[j]!;
    return (1 - eps) * nll + (eps / C) * smooth;
  });
  return reduceV(per, o.reduction ?? 'mean', o.weight ? sum(t.map(w)) : x.length);
}
/** Unweighted: softmax − [(1 − ε) onehot + ε/C], ÷ N for mean. */
export function ceGradUnweighted(x: Matrix, t: number[], eps = 0): Matrix {
  const C = x[0]!.length;
  return x.map((row, i) => softmax(row).map((p, j) => (p - ((1 - eps) * (j === t[i] ? 1 : 0) + eps / C)) / x.length));
}

// ---- §1.2 sigmoid focal (torchvision), §1.5 AK focal ------------------------------------------------------------

/** torchvision sigmoid_focal_loss, literally: p = σ(x), p_t = p y + (1−p)(1−y), ce·(1−p_t)^γ·α_t. */
export function focalSigmoid(x: Matrix, y: Matrix, o: { alpha?: number; gamma?: number; reduction?: Reduction; classWeights?: number[] } = {}) {
  const alpha = o.alpha ?? 0.25;
  const gamma = o.gamma ?? 2;
  const ceM = bceElements(x, y);
  const l = mapM(x, (v, i, j) => {
    const yy = y[i]![j]!;
    const p = sigma(v);
    const pt = p * yy + (1 - p) * (1 - yy);
    let loss = ceM[i]![j]! * Math.pow(1 - pt, gamma);
    if (alpha >= 0) loss *= alpha * yy + (1 - alpha) * (1 - yy);
    return loss * (o.classWeights?.[j] ?? 1);
  });
  return reduceM(l, o.reduction ?? 'none');
}
/** The spec's gradient for binary y: y=1: α(1−p)^γ(γ p log p + p − 1); y=0: (1−α) p^γ (p − γ(1−p) log(1−p)). */
export function focalSigmoidGrad(x: Matrix, y: Matrix, o: { alpha?: number; gamma?: number; reduction?: Reduction } = {}): Matrix {
  const alpha = o.alpha ?? 0.25;
  const gamma = o.gamma ?? 2;
  const scale = o.reduction === 'mean' ? 1 / (x.length * x[0]!.length) : 1;
  return mapM(x, (v, i, j) => {
    const p = sigma(v);
    const logP = -sp(-v);
    const log1mP = -sp(v);
    const a = alpha >= 0 ? alpha : 1;
    const b = alpha >= 0 ? 1 - alpha : 1;
    if (y[i]![j] === 1) return scale * a * Math.pow(1 - p, gamma) * (gamma * p * logP + p - 1);
    return scale * b * Math.pow(p, gamma) * (p - gamma * (1 - p) * log1mP);
  });
}
/** VideoLT FocalLoss: α (1 − e^−bce)^γ bce, mean over N·C. */
export function focalAnimalKingdom(x: Matrix, y: Matrix, o: { alpha?: number; gamma?: number; reduction?: Reduction } = {}) {
  const alpha = o.alpha ?? 1;
  const gamma = o.gamma ?? 0;
  const l = bceElements(x, y).map((r) => r.map((b) => alpha * Math.pow(1 - Math.exp(-b), gamma) * b));
  return reduceM(l, o.reduction ?? 'mean');
}

// ---- §1.3 softmax focal -----------------------------------------------------------------------------------------

/** LDAM-DRW FocalLoss: ce_i = −w_t log softmax_t, p = exp(−ce), (1 − p)^γ ce, plain mean over N. */
export function focalSoftmaxLdam(x: Matrix, t: number[], o: { gamma?: number; weight?: number[]; reduction?: Reduction } = {}) {
  const gamma = o.gamma ?? 2;
  const per = x.map((row, i) => {
    const ceI = -(o.weight?.[t[i]!] ?? 1) * logSoftmax(row)[t[i]!]!;
    const p = Math.exp(-ceI);
    return Math.pow(1 - p, gamma) * ceI;
  });
  return reduceV(per, o.reduction ?? 'mean');
}
/** kornia ≤ 0.6 focal_loss: p = softmax + eps, −α (1 − p_t)^γ log p_t, mean over N. */
export function focalSoftmaxKornia(x: Matrix, t: number[], o: { alpha?: number; gamma?: number; eps?: number; reduction?: Reduction } = {}) {
  const alpha = o.alpha ?? 0.25;
  const gamma = o.gamma ?? 2;
  const eps = o.eps ?? 1e-8;
  const per = x.map((row, i) => {
    const pt = softmax(row)[t[i]!]! + eps;
    return -alpha * Math.pow(1 - pt, gamma) * Math.log(pt);
  });
  return reduceV(per, o.reduction ?? 'mean');
}

// ---- §1.4 EQL -----------------------------------------------------------------------------------------------------

/** eql.detectron2 eql_loss: w = 1 − E_i T_j (1 − y), T_j = [count_j / images < λ], Σ w·bce / N. */
export function eqlOriginal(x: Matrix, y: Matrix, counts: number[], o: { lambda?: number; images?: number; reduction?: Reduction } = {}) {
  const lambda = o.lambda ?? 0.00177;
  const images = o.images ?? sum(counts);
  const b = bceElements(x, y);
  const l = mapM(x, (_, i, j) => eqlOriginalWeight(y, counts, lambda, images, i, j) * b[i]![j]!);
  return reduceM(l, o.reduction ?? 'mean', x.length);
}
function eqlOriginalWeight(y: Matrix, counts: number[], lambda: number, images: number, i: number, j: number): number {
  const E = y[i]!.some((v) => v > 0) ? 1 : 0;
  const T = counts[j]! / images < lambda ? 1 : 0;
  return 1 - E * T * (1 - y[i]![j]!);
}
/** ∂L/∂x_ij = w_ij (σ(x_ij) − y_ij) / N. */
export function eqlOriginalGrad(x: Matrix, y: Matrix, counts: number[], o: { lambda?: number; images?: number } = {}): Matrix {
  const lambda = o.lambda ?? 0.00177;
  const images = o.images ?? sum(counts);
  return mapM(x, (v, i, j) => (eqlOriginalWeight(y, counts, lambda, images, i, j) * (sigma(v) - y[i]![j]!)) / x.length);
}
/** VideoLT EQL with the Bernoulli draw β given: w = 1 − β·[count ≤ max_tail]·(1 − y), BCE mean ÷ N·C. */
export function eqlAnimalKingdom(x: Matrix, y: Matrix, counts: number[], beta: Matrix, o: { maxTail?: number; reduction?: Reduction } = {}) {
  const maxTail = o.maxTail ?? 100;
  const b = bceElements(x, y);
  const l = mapM(x, (_, i, j) => (1 - beta[i]![j]! * (counts[j]! <= maxTail ? 1 : 0) * (1 - y[i]![j]!)) * b[i]![j]!);
  return reduceM(l, o.reduction ?? 'mean');
}

// ---- §1.5 LDAM + DRW ---------------------------------------------------------------------------------------------

export function margins(counts: number[], maxM = 0.5): number[] {
  const m = counts.map((n) => Math.pow(n, -0.25));
  const top = Math.max(...m);
  return m.map((v) => (maxM * v) / top);
}
/** cifar_train.py DRW: idx = epoch // step, β = [0, β][idx], (1−β)/(1−β^n) normalised to sum C. */
export function drw(counts: number[], epoch: number, step: number, beta = 0.9999): number[] {
  const b = [0, beta][Math.min(Math.floor(epoch / step), 1)]!;
  const w = counts.map((n) => (1 - b) / (1 - Math.pow(b, n)));
  const s = sum(w);
  return w.map((v) => (v / s) * counts.length);
}
/** LDAMLoss: z = s (x − m_t [j = t]), weighted CE mean Σ w_t ℓ / Σ w_t. */
export function ldamSoftmax(x: Matrix, t: number[], counts: number[], o: { maxM?: number; s?: number; weight?: number[] | null; reduction?: Reduction } = {}) {
  const m = margins(counts, o.maxM);
  const s = o.s ?? 30;
  const w = (j: number) => o.weight?.[j] ?? 1;
  const per = x.map((row, i) => -w(t[i]!) * logSoftmax(row.map((v, j) => s * (v - (j === t[i] ? m[j]! : 0))))[t[i]!]!);
  return reduceV(per, o.reduction ?? 'mean', sum(t.map(w)));
}
/** ∂L/∂x_ij = s (softmax(z_i)_j − [j = t_i]) w_{t_i} / Σ_k w_{t_k}. */
export function ldamSoftmaxGrad(x: Matrix, t: number[], counts: number[], o: { maxM?: number; s?: number; weight?: number[] | null } = {}): Matrix {
  const m = margins(counts, o.maxM);
  const s = o.s ?? 30;
  const w = (j: number) => o.weight?.[j] ?? 1;
  const W = sum(t.map(w));
  return x.map((row, i) => softmax(row.map((v, j) => s * (v - (j === t[i] ? m[j]! : 0)))).map((p, j) => (s * (p - (j === t[i] ? 1 : 0)) * w(t[i]!)) / W));
}
/** VideoLT LDAM: batch_m_i = Σ_j m_j y_ij on every positive, BCE(s·out, y, weight) mean ÷ N·C. */
export function ldamAnimalKingdom(x: Matrix, y: Matrix, counts: number[], o: { maxM?: number; s?: number; weight?: number[] | null; reduction?: Reduction } = {}) {
  const m = margins(counts, o.maxM);
  const s = o.s ?? 30;
  const out = x.map((row, i) => {
    const batchM = sum(y[i]!.map((v, j) => v * m[j]!));
    return row.map((v, j) => s * (y[i]![j] === 1 ? v - batchM : v));
  });
  return reduceM(bceElements(out, y, { weight: o.weight }), o.reduction ?? 'mean');
}

/** The margin is a constant shift: ∂L/∂x_ij = s·w_j·(σ(s·out_ij) − y_ij), ÷ N·C for mean. */
export function ldamAnimalKingdomGrad(x: Matrix, y: Matrix, counts: number[], o: { maxM?: number; s?: number; weight?: number[] | null; reduction?: Reduction } = {}): Matrix {
  const m = margins(counts, o.maxM);
  const s = o.s ?? 30;
  const scale = (o.reduction ?? 'mean') === 'mean' ? 1 / (x.length * x[0]!.length) : 1;
  return x.map((row, i) => {
    const batchM = sum(y[i]!.map((v, j) => v * m[j]!));
    return row.map((v, j) => scale * s * (o.weight?.[j] ?? 1) * (sigma(s * (y[i]![j] === 1 ? v - batchM : v)) - y[i]![j]!));
  });
}

// ---- §1.6 CLIP / CLEP ----------------------------------------------------------------------------------------------

const matmulT = (a: Matrix, b: Matrix): Matrix => a.map((r) => b.map((q) => sum(r.map((v, k) => v * q[k]!))));
const normRows = (a: Matrix): Matrix => a.map((r) => r.map((v) => v / Math.max(Math.sqrt(sum(r.map((u) => u * u))), 1e-12)));
const transpose = (a: Matrix): Matrix => a[0]!.map((_, j) => a.map((r) => r[j]!));

/** The similarity matrix L = s · I Tᵀ of ClipLoss (clip: s = exp(param)) or CLEP (s = param). */
export function clipLogits(a: Matrix, b: Matrix, param: number, o: { variant?: 'clip' | 'clep'; normalize?: boolean } = {}): Matrix {
  const variant = o.variant ?? 'clip';
  const normalize = o.normalize ?? variant === 'clip';
  const scale = variant === 'clip' ? Math.exp(param) : param;
  const sim = matmulT(normalize ? normRows(a) : a, normalize ? normRows(b) : b);
  return sim.map((r) => r.map((v) => scale * v));
}
/** (CE(L, arange) + CE(Lᵀ, arange)) / 2. */
export function clipLoss(L: Matrix): number {
  const n = L.length;
  const rows = sum(L.map((r, i) => -logSoftmax(r)[i]!)) / n;
  const cols = sum(transpose(L).map((r, i) => -logSoftmax(r)[i]!)) / n;
  return (rows + cols) / 2;
}
/** ∂loss/∂L_ij = [(softmax_row(L)_ij − δ_ij) + (softmax_col(L)_ij − δ_ij)] / (2N). */
export function clipLossGrad(L: Matrix): Matrix {
  const n = L.length;
  const row = L.map(softmax);
  const col = transpose(transpose(L).map(softmax));
  return mapM(L, (_, i, j) => (row[i]![j]! - (i === j ? 1 : 0) + col[i]![j]! - (i === j ? 1 : 0)) / (2 * n));
}

// ---- numeric helpers -----------------------------------------------------------------------------------------------

/** Central differences of a scalar function of a matrix (float64, h = 1e-5). */
export function numericGrad(f: (x: Matrix) => number, x: Matrix, h = 1e-5): Matrix {
  return mapM(x, (v, i, j) => {
    const plus = x.map((r) => [...r]);
    const minus = x.map((r) => [...r]);
    plus[i]![j] = v + h;
    minus[i]![j] = v - h;
    return (f(plus) - f(minus)) / (2 * h);
  });
}

type Nested = number | Nested[];

/** Element-wise |a − b| ≤ atol + rtol·|b| over nested arrays, with the index of the first mismatch in the message. */
export function expectClose(actual: unknown, expected: Nested, o: { rtol?: number; atol?: number } = {}, path = ''): void {
  const rtol = o.rtol ?? 1e-9;
  const atol = o.atol ?? 1e-12;
  if (typeof expected === 'number') {
    expect(typeof actual, `${path}: expected a number`).toBe('number');
    const a = actual as number;
    expect(Number.isFinite(a), `${path}: ${a} is not finite`).toBe(Number.isFinite(expected));
    if (Number.isFinite(expected)) expect(Math.abs(a - expected), `${path}: ${a} vs ${expected}`).toBeLessThanOrEqual(atol + rtol * Math.abs(expected));
    return;
  }
  expect(Array.isArray(actual), `${path}: expected an array`).toBe(true);
  const arr = actual as unknown[];
  expect(arr.length, `${path}: length`).toBe(expected.length);
  expected.forEach((e, i) => expectClose(arr[i], e, o, `${path}[${i}]`));
}

/** Every number of a nested array is finite. */
export function expectFinite(v: unknown, path = ''): void {
  if (typeof v === 'number') expect(Number.isFinite(v), `${path} = ${v}`).toBe(true);
  else if (Array.isArray(v)) v.forEach((x, i) => expectFinite(x, `${path}[${i}]`));
}
