// Graph pieces the loss plugins share: an accurate sigmoid, BCE with logits, one-hot targets, reductions,
// per-class constants, and the checks that turn a missing or mis-sized class list into a message naming the key.
// Each piece is built only from ops that have gradient rules, and is exact (no kink) where the loss is smooth.

import type { LossContext } from './modules.ts';
import type { DType, Graph, Value } from './graph.ts';
import { EngineError } from './session.ts';

export type Reduction = 'mean' | 'sum' | 'none';

/**
 * σ(x) = exp(−sp(−x)). ONNX Runtime's float64 Sigmoid kernel loses relative accuracy in the negative tail
 * (≈4e-8 at x = −20, 100 % at x = −40); this form keeps it to a few ulps.
 */
export function sigmoid(g: Graph, x: Value): Value {
  return g.exp(g.neg(g.softplus(g.neg(x))));
}

/**
 * BCE with logits per element (torch.nn.functional.binary_cross_entropy_with_logits, reduction 'none'):
 * pw·y·sp(−x) + (1 − y)·sp(x), pw a per-class [C] constant or omitted (1).
 */
export function bceWithLogits(g: Graph, x: Value, y: Value, posWeight?: Value | null): Value {
  const pos = g.mul(y, g.softplus(g.neg(x)));
  const neg = g.mul(g.sub(1, y), g.softplus(x));
  return g.add(posWeight ? g.mul(posWeight, pos) : pos, neg);
}

/** 1 − e^−a for a ≥ 0 without cancellation near 0 (ONNX has no Expm1): a Taylor polynomial below 1e-5. */
export function oneMinusExpNeg(g: Graph, a: Value): Value {
  const small = g.less(a, 1e-5);
  // Both branches stay finite for every a ≥ 0 (the polynomial reads a clamped to 1e-5), so the branch Where
  // masks out sends no NaN back through its gradient.
  const t = g.min(a, 1e-5);
  const t2 = g.mul(t, t);
  const taylor = g.add(g.sub(t, g.mul(0.5, t2)), g.mul(1 / 6, g.mul(t2, t)));
  return g.where(small, taylor, g.sub(1, g.exp(g.neg(a))));
}

/** [N] int64 class indices → [N, C] one-hot of `dtype`. */
export function oneHot(g: Graph, indices: Value, classes: number, dtype: DType): Value {
  const idx = g.unsqueeze(indices, [1]);
  const range = g.constant(
    Array.from({ length: classes }, (_, i) => i),
    'int64',
    [1, classes],
  );
  return g.cast(g.equal(idx, range), dtype);
}

/** Σ over the last axis of a * b (picks the target column when b is one-hot). */
export function rowDot(g: Graph, a: Value, b: Value): Value {
  return g.reduceSum(g.mul(a, b), [-1]);
}

/** mean = Σℓ / divisor (the element count unless the loss says otherwise), sum = Σℓ, none = ℓ. */
export function reduce(g: Graph, loss: Value, reduction: Reduction, divisor: number | Value = loss.size): Value {
  if (reduction === 'none') return loss;
  const total = g.reduceSum(loss);
  return reduction === 'sum' ? total : g.div(total, typeof divisor === 'number' ? g.scalar(divisor, loss.dtype) : divisor);
}

/** A per-class constant [C] of the loss dtype (broadcasts over rows of [N, C]). */
export function perClass(g: Graph, values: readonly number[], dtype: DType): Value {
  return g.constant([...values], dtype, [values.length]);
}

/** The number of classes C of [N, C] logits, with a message naming the loss when the rank is wrong. */
export function classCount(loss: string, logits: Value): number {
  if (logits.rank !== 2) throw new EngineError(`the ${loss} loss expects logits of shape [N, C], got [${logits.shape.join(', ')}]`);
  return logits.shape[1]!;
}

/** A per-class option (a list) must have one value per class. */
export function checkPerClass(loss: string, key: string, values: readonly number[], classes: number): void {
  if (values.length !== classes) {
    throw new EngineError(`the ${loss} loss's ${key} has ${values.length} values, but the logits have ${classes} classes: give one value per class`);
  }
}

/**
 * The training set's per-class sample counts, which EQL and LDAM need at build time. The dataset fills
 * `data.class_counts`; when it is absent the message names that key (and evaluateLoss's `classCounts`).
 */
export function requireClassCounts(ctx: LossContext, loss: string, classes: number, options: { positive?: boolean } = {}): readonly number[] {
  const counts = ctx.classCounts;
  if (!counts) {
    throw new EngineError(
      `the ${loss} loss needs the training set's per-class sample counts (data.class_counts), and the dataset provides none: ` +
        `set data.class_counts to a list of ${classes} counts (evaluateLoss: pass classCounts), or use a loss that does not need them (bce, ce, focal)`,
    );
  }
  if (counts.length !== classes) {
    throw new EngineError(`data.class_counts has ${counts.length} values, but the ${loss} loss's logits have ${classes} classes: give one count per class`);
  }
  counts.forEach((n, j) => {
    if (!Number.isFinite(n) || n < 0 || (options.positive && n === 0)) {
      throw new EngineError(
        `data.class_counts[${j}] is ${n}: the ${loss} loss needs ${options.positive ? 'a positive' : 'a non-negative'} count for every class` +
          (options.positive ? ' (its margins and class weights divide by powers of the count)' : ''),
      );
    }
  });
  return counts;
}

/** The targets a loss reads, checked against the logits: a multi-hot [N, C] matrix or an index vector [N]. */
export function checkedTargets(loss: string, logits: Value, targets: Value | null, kind: 'multi_hot' | 'index'): Value {
  const shape = (v: Value) => `[${v.shape.join(', ')}]`;
  if (!targets) throw new EngineError(`the ${loss} loss needs targets (${kind === 'index' ? 'class indices [N]' : 'a multi-hot matrix [N, C]'})`);
  if (kind === 'multi_hot') {
    if (targets.rank !== 2 || targets.shape[0] !== logits.shape[0] || targets.shape[1] !== logits.shape[1]) {
      throw new EngineError(`the ${loss} loss expects multi-hot targets shaped like the logits ${shape(logits)}, got ${shape(targets)}`);
    }
    if (targets.dtype !== logits.dtype) throw new EngineError(`the ${loss} loss expects ${logits.dtype} targets like its logits, got ${targets.dtype}`);
  } else {
    if (targets.rank !== 1 || targets.shape[0] !== logits.shape[0]) {
      throw new EngineError(`the ${loss} loss expects class-index targets [${logits.shape[0]}] for logits ${shape(logits)}, got ${shape(targets)}`);
    }
    if (targets.dtype !== 'int64') throw new EngineError(`the ${loss} loss expects int64 class indices, got ${targets.dtype}`);
  }
  return targets;
}

/**
 * The focal modulating factor u^γ for u = 1 − p_t ∈ [0, 1]: null for γ = 0 (no factor, and no 0·∞ from Pow's
 * gradient γ·u^(γ−1) at u = 0); for 0 < γ < 1 u is floored at the smallest normal number, where the true
 * derivative is infinite, so that the gradient stays finite (the value changes by less than tiny^γ).
 */
export function focalFactor(g: Graph, u: Value, gamma: number): Value | null {
  if (gamma === 0) return null;
  if (gamma >= 1) return g.pow(u, gamma);
  return g.pow(g.max(u, u.dtype === 'float64' ? 2.3e-308 : 1.2e-38), gamma);
}
