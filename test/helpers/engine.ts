// Test helpers for the ONNX engine: run a graph in ONNX Runtime, and check autodiff gradients against
// central finite differences in float64.
import ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { mulberry32 } from '../../core/random.ts';
import { gradients } from '../../core/engine/autodiff.ts';
import { Graph, type Value } from '../../core/engine/graph.ts';
import type { LossModule } from '../../core/engine/modules.ts';
import { toOnnxModel } from '../../core/engine/onnx-export.ts';
import { createSession } from '../../core/engine/session.ts';

export type Feed = { data: ArrayLike<number>; shape: number[]; dtype?: 'float64' | 'float32' | 'int64' };

function tensor(f: Feed): ort.Tensor {
  const dtype = f.dtype ?? 'float64';
  if (dtype === 'int64') return new ort.Tensor('int64', BigInt64Array.from(Array.from(f.data, (v) => BigInt(v))), f.shape);
  if (dtype === 'float32') return new ort.Tensor('float32', Float32Array.from(f.data), f.shape);
  return new ort.Tensor('float64', Float64Array.from(f.data), f.shape);
}

/** Runs `g` on CPU and returns every output as a plain number array. */
export async function runGraph(g: Graph, feeds: Record<string, Feed>): Promise<Record<string, number[]>> {
  const { session } = await createSession(toOnnxModel(g), { device: 'cpu', threads: 1 });
  const out = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, tensor(f)])));
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, Array.from(t.data as ArrayLike<number | bigint>, Number)]));
}

/** Deterministic pseudo-random numbers in [lo, hi) (mulberry32), for test inputs. */
export function seeded(seed: number, n: number, lo = -1, hi = 1): number[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * random());
}

export interface GradCheckInput {
  name: string;
  shape: number[];
  data: number[];
  /** Differentiate with respect to this input (default true); false for targets, masks, indices. */
  differentiable?: boolean;
  dtype?: 'float64' | 'int64';
}

/**
 * Builds `f` in float64, reduces a non-scalar output with fixed random weights to a scalar, and compares
 * the autodiff gradient of every differentiable input with central differences (step h) of the same graph.
 * Returns the analytic gradients.
 */
export async function gradCheck(
  f: (g: Graph, inputs: Record<string, Value>) => Value,
  inputs: GradCheckInput[],
  options: { h?: number; rtol?: number; atol?: number } = {},
): Promise<Record<string, number[]>> {
  const h = options.h ?? 1e-6;
  const rtol = options.rtol ?? 1e-6;
  const atol = options.atol ?? 1e-8;
  const g = new Graph();
  const vals = Object.fromEntries(inputs.map((i) => [i.name, g.input(i.name, i.dtype ?? 'float64', i.shape)]));
  const out = f(g, vals);
  const scalar = out.size === 1 ? g.reshape(out, []) : g.reduceSum(g.mul(out, g.constant(seeded(99, out.size, 0.5, 1.5), 'float64', out.shape)));
  const diff = inputs.filter((i) => i.differentiable !== false);
  const grads = gradients(g, scalar, diff.map((i) => vals[i.name]!));
  g.output(scalar, 'y');
  grads.forEach((d, k) => g.output(d, `d_${diff[k]!.name}`));
  const { session } = await createSession(toOnnxModel(g), { device: 'cpu', threads: 1 });
  const feeds = (override?: { name: string; data: number[] }) =>
    Object.fromEntries(inputs.map((i) => [i.name, tensor({ data: override?.name === i.name ? override.data : i.data, shape: i.shape, dtype: i.dtype })]));
  const base = await session.run(feeds());
  const analytic: Record<string, number[]> = {};
  for (const i of diff) {
    const got = Array.from(base[`d_${i.name}`]!.data as Float64Array);
    analytic[i.name] = got;
    for (let k = 0; k < i.data.length; k++) {
      const plus = [...i.data];
      const minus = [...i.data];
      plus[k]! += h;
      minus[k]! -= h;
      const yp = (await session.run(feeds({ name: i.name, data: plus }))).y!.data[0] as number;
      const ym = (await session.run(feeds({ name: i.name, data: minus }))).y!.data[0] as number;
      const numeric = (yp - ym) / (2 * h);
      const tol = atol + rtol * Math.max(Math.abs(numeric), Math.abs(got[k]!));
      expect(Math.abs(got[k]! - numeric), `d/d${i.name}[${k}]: autodiff ${got[k]} vs finite difference ${numeric}`).toBeLessThanOrEqual(tol);
    }
  }
  return analytic;
}

/**
 * Softmax cross-entropy, mean over N, written for the tests so that the step compiler is checked against
 * plain-JS arithmetic without depending on a loss plugin.
 */
export const softmaxCe: LossModule = {
  targetKind: 'index',
  needsClassCounts: false,
  build: ({ g }, { logits, targets }) => {
    const C = logits.shape[1]!;
    const onehot = g.cast(g.equal(g.unsqueeze(targets!, [1]), g.constant([...Array(C).keys()], 'int64')), logits.dtype);
    return g.neg(g.reduceMean(g.reduceSum(g.mul(onehot, g.logSoftmax(logits, 1)), [1])));
  },
};
