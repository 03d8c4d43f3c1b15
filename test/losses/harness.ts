// Shared by the loss tests: autodiff-vs-finite-difference checks of a loss plugin's own graph, float32 vs
// float64 agreement, and deterministic inputs.
import { expect } from 'vitest';
import { createLoss, evaluateLoss, type LossEvalInputs } from '../../plugins/losses/evaluate.ts';
import { gradCheck, seeded, type GradCheckInput } from '../helpers/engine.ts';
import type { Matrix } from './reference.ts';

export function matrix(seed: number, rows: number, cols: number, lo = -3, hi = 3): Matrix {
  const flat = seeded(seed, rows * cols, lo, hi);
  return Array.from({ length: rows }, (_, i) => flat.slice(i * cols, (i + 1) * cols));
}

/** Central differences vs autodiff of the plugin's graph (float64), through the test helper gradCheck. */
export async function lossGradCheck(name: string, options: Record<string, unknown>, data: LossEvalInputs, tol: { rtol?: number; atol?: number; h?: number } = {}) {
  const loss = createLoss(name, options);
  const [n, c] = [data.logits.length, data.logits[0]!.length];
  const inputs: GradCheckInput[] = [{ name: 'x', shape: [n, c], data: data.logits.flat() }];
  if (data.targets !== undefined) {
    const index = !Array.isArray(data.targets[0]);
    inputs.push(
      index
        ? { name: 't', shape: [n], data: data.targets as number[], dtype: 'int64', differentiable: false }
        : { name: 't', shape: [n, c], data: (data.targets as Matrix).flat(), differentiable: false },
    );
  }
  if (data.mask) inputs.push({ name: 'mask', shape: [n, c], data: data.mask.flat(), differentiable: false });
  if (data.other) {
    inputs.push({ name: 'b', shape: [n, c], data: data.other.flat() });
    inputs.push({ name: 's', shape: [], data: [data.logitScale ?? Math.log(1 / 0.07)] });
  }
  return gradCheck(
    (g, v) =>
      loss.build(
        { g, dtype: 'float64', classCounts: data.classCounts, epoch: data.epoch },
        { logits: v.x!, targets: v.t ?? null, mask: v.mask, other: v.b, logitScale: v.s },
      ),
    inputs,
    tol,
  );
}

/** float32 evaluation agrees with float64 to rel 1e-5 (gradients relative to their largest magnitude). */
export async function expectFloat32Close(name: string, options: Record<string, unknown>, data: LossEvalInputs, rtol = 1e-5): Promise<void> {
  const f64 = await evaluateLoss(name, options, data);
  const f32 = await evaluateLoss(name, options, data, { dtype: 'float32' });
  const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flat(2) : [v as number]);
  const close = (a: number[], b: number[], what: string) => {
    const scale = Math.max(...b.map(Math.abs));
    a.forEach((v, i) => expect(Math.abs(v - b[i]!), `${what}[${i}]: float32 ${v} vs float64 ${b[i]}`).toBeLessThanOrEqual(rtol * Math.max(Math.abs(b[i]!), scale * 1e-2) + 1e-30));
  };
  close(flat(f32.loss), flat(f64.loss), 'loss');
  close(flat(f32.grad), flat(f64.grad), 'grad');
  if (f64.gradOther) close(flat(f32.gradOther), flat(f64.gradOther), 'gradOther');
}
