// The value and gradient of a quadratic penalty (events.ts `QuadraticPenalty`) in float64, for given parameters.
// The training graph computes the same thing on the engine; this is the reference a test or a notebook checks it by.

import type { Params, QuadraticPenalty } from './events.ts';

/** Σ_t scale_t Σ_p Σ_j F_t[p][j] (θ[p][j] − θ*_t[p][j])², over parameters present in both θ and the term. */
export function penaltyValue(penalty: QuadraticPenalty, theta: Params): number {
  let total = 0;
  for (const term of penalty.terms) {
    let sum = 0;
    for (const [name, anchor] of Object.entries(term.anchor)) {
      const values = theta[name];
      if (!values) continue;
      const importance = term.importance[name]!;
      checkLength(penalty.name, name, values, anchor);
      for (let j = 0; j < anchor.length; j++) {
        const d = values[j]! - anchor[j]!;
        sum += importance[j]! * d * d;
      }
    }
    total += term.scale * sum;
  }
  return total;
}

/** ∂/∂θ: Σ_t 2 · scale_t · F_t (θ − θ*_t) per parameter (zeros for parameters no term covers). */
export function penaltyGradient(penalty: QuadraticPenalty, theta: Params): Record<string, Float64Array> {
  const grad: Record<string, Float64Array> = {};
  for (const [name, values] of Object.entries(theta)) grad[name] = new Float64Array(values.length);
  for (const term of penalty.terms) {
    for (const [name, anchor] of Object.entries(term.anchor)) {
      const values = theta[name];
      if (!values) continue;
      const importance = term.importance[name]!;
      checkLength(penalty.name, name, values, anchor);
      const g = grad[name]!;
      for (let j = 0; j < anchor.length; j++) g[j] += 2 * term.scale * importance[j]! * (values[j]! - anchor[j]!);
    }
  }
  return grad;
}

function checkLength(penalty: string, name: string, values: ArrayLike<number>, anchor: ArrayLike<number>): void {
  if (values.length !== anchor.length) {
    throw new RangeError(`${penalty} penalty: the parameter '${name}' has ${values.length} values but its anchor ${anchor.length}`);
  }
}
