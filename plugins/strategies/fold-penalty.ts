// A strategy's quadratic penalty (a sum over past experiences) as the one term the training graph takes.

import type { FoldedPenalty } from '../../core/engine/train-step.ts';
import type { QuadraticPenalty } from './events.ts';

/**
 * Σ_t s_t Σ_j F_t[j] (θ[j] − a_t[j])² = Σ_j W[j] (θ[j] − B[j])² + c with W = Σ_t s_t F_t,
 * B = Σ_t s_t F_t a_t / W (0 where W = 0) and c = Σ_t s_t F_t a_t² − W B² summed: the same value and
 * gradient 2W(θ − B) for every θ, with one term in the graph however many experiences have passed.
 * Parameters no term covers get W = 0.
 */
export function foldPenalty(penalty: QuadraticPenalty, shapes: Readonly<Record<string, number>>): FoldedPenalty {
  const weight: Record<string, Float64Array> = {};
  const anchor: Record<string, Float64Array> = {};
  let constant = 0;
  for (const [name, size] of Object.entries(shapes)) {
    const W = new Float64Array(size);
    const S = new Float64Array(size);
    let squares = 0;
    for (const term of penalty.terms) {
      const a = term.anchor[name];
      if (!a) continue;
      const F = term.importance[name]!;
      if (a.length !== size || F.length !== size) throw new RangeError(`${penalty.name} penalty: '${name}' has ${size} values, its anchor ${a.length} and importance ${F.length}`);
      for (let j = 0; j < size; j++) {
        const w = term.scale * F[j]!;
        W[j] += w;
        S[j] += w * a[j]!;
        squares += w * a[j]! * a[j]!;
      }
    }
    const B = new Float64Array(size);
    let folded = 0;
    for (let j = 0; j < size; j++) {
      if (W[j]! > 0) B[j] = S[j]! / W[j]!;
      folded += W[j]! * B[j]! * B[j]!;
    }
    constant += squares - folded;
    weight[name] = W;
    anchor[name] = B;
  }
  return { weight, anchor, constant };
}
