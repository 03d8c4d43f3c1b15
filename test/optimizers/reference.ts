// Plain float64 JavaScript transcriptions of PyTorch 1.13's single-tensor optimizer loops
// (torch/optim/sgd.py `_single_tensor_sgd`, adam.py `_single_tensor_adam`, adamw.py `_single_tensor_adamw`),
// element by element, in torch's operation order. The graphs under test are checked against these.

import { expect } from 'vitest';
import type { ParameterSpec } from '../../core/engine/modules.ts';
import type { TrajectoryPoint } from '../../core/engine/optimizer-step.ts';
import { seeded } from '../helpers/engine.ts';

export interface RefParam {
  name: string;
  init: number[];
  decay: boolean;
}

export type RefGrad = (k: number, params: Record<string, number[]>) => Record<string, ArrayLike<number>>;

export interface RefPoint {
  params: Record<string, number[]>;
  state: Record<string, Record<string, number[]>>;
}

export interface SGDRef {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weight_decay?: number;
  maximize?: boolean;
}

export interface AdamRef {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weight_decay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
}

/** Runs `steps` steps; lrs[k-1] is the lr of step k (the scheduled one). Returns the initial point and one per step. */
function run(
  params: RefParam[],
  steps: number,
  lrs: (k: number) => number,
  grad: RefGrad,
  stateNames: string[],
  update: (k: number, lr: number, p: RefParam, theta: number[], g: number[], state: Record<string, number[] | null>) => void,
): RefPoint[] {
  const theta: Record<string, number[]> = Object.fromEntries(params.map((p) => [p.name, [...p.init]]));
  const state: Record<string, Record<string, number[] | null>> = Object.fromEntries(params.map((p) => [p.name, Object.fromEntries(stateNames.map((s) => [s, null]))]));
  const snapshot = (): RefPoint => ({
    params: Object.fromEntries(params.map((p) => [p.name, [...theta[p.name]!]])),
    state: Object.fromEntries(params.map((p) => [p.name, Object.fromEntries(stateNames.map((s) => [s, [...(state[p.name]![s] ?? p.init.map(() => 0))]]))])),
  });
  const out = [snapshot()];
  for (let k = 1; k <= steps; k++) {
    const grads = grad(k, snapshot().params);
    for (const p of params) update(k, lrs(k), p, theta[p.name]!, Array.from(grads[p.name]!), state[p.name]!);
    out.push(snapshot());
  }
  return out;
}

export function sgdReference(params: RefParam[], steps: number, lrs: (k: number) => number, grad: RefGrad, o: SGDRef): RefPoint[] {
  const momentum = o.momentum ?? 0;
  const dampening = o.dampening ?? 0;
  return run(params, steps, lrs, grad, momentum !== 0 ? ['momentum_buffer'] : [], (_k, lr, p, theta, g, state) => {
    const wd = p.decay ? (o.weight_decay ?? 0) : 0;
    let d = g.map((x) => (o.maximize ? -x : x));
    if (wd !== 0) d = d.map((x, i) => x + wd * theta[i]!);
    if (momentum !== 0) {
      let buf = state.momentum_buffer;
      if (buf === null) {
        buf = [...d];
      } else {
        buf = buf.map((b, i) => b * momentum + (1 - dampening) * d[i]!);
      }
      state.momentum_buffer = buf;
      d = o.nesterov ? d.map((x, i) => x + momentum * buf[i]!) : [...buf];
    }
    for (let i = 0; i < theta.length; i++) theta[i] = theta[i]! + -lr * d[i]!;
  });
}

function adamLike(decoupled: boolean, params: RefParam[], steps: number, lrs: (k: number) => number, grad: RefGrad, o: AdamRef): RefPoint[] {
  const [beta1, beta2] = o.betas ?? [0.9, 0.999];
  const eps = o.eps ?? 1e-8;
  const names = ['exp_avg', 'exp_avg_sq', ...(o.amsgrad ? ['max_exp_avg_sq'] : [])];
  return run(params, steps, lrs, grad, names, (step, lr, p, theta, g0, state) => {
    const wd = p.decay ? (o.weight_decay ?? (decoupled ? 1e-2 : 0)) : 0;
    let g = g0.map((x) => (o.maximize ? -x : x));
    const zeros = () => theta.map(() => 0);
    const expAvg = state.exp_avg ?? zeros();
    const expAvgSq = state.exp_avg_sq ?? zeros();
    if (decoupled) {
      const f = 1 - lr * wd;
      for (let i = 0; i < theta.length; i++) theta[i] = theta[i]! * f;
    } else if (wd !== 0) {
      g = g.map((x, i) => x + wd * theta[i]!);
    }
    for (let i = 0; i < theta.length; i++) {
      expAvg[i] = expAvg[i]! * beta1 + (1 - beta1) * g[i]!;
      expAvgSq[i] = expAvgSq[i]! * beta2 + (1 - beta2) * g[i]! * g[i]!;
    }
    state.exp_avg = expAvg;
    state.exp_avg_sq = expAvgSq;
    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2 = 1 - beta2 ** step;
    const stepSize = lr / biasCorrection1;
    const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
    let v = expAvgSq;
    if (o.amsgrad) {
      const max = state.max_exp_avg_sq ?? zeros();
      for (let i = 0; i < max.length; i++) max[i] = Math.max(max[i]!, expAvgSq[i]!);
      state.max_exp_avg_sq = max;
      v = max;
    }
    for (let i = 0; i < theta.length; i++) {
      const denom = Math.sqrt(v[i]!) / biasCorrection2Sqrt + eps;
      theta[i] = theta[i]! + -stepSize * (expAvg[i]! / denom);
    }
  });
}

export const adamReference = (params: RefParam[], steps: number, lrs: (k: number) => number, grad: RefGrad, o: AdamRef) => adamLike(false, params, steps, lrs, grad, o);
export const adamwReference = (params: RefParam[], steps: number, lrs: (k: number) => number, grad: RefGrad, o: AdamRef) => adamLike(true, params, steps, lrs, grad, o);

// ---------------------------------------------------------------------------------------------------------
// Shared fixtures of the optimizer suites.


/** A weight matrix (decayed), a bias and a scalar logit scale (not decayed), as a CLIP-like head has. */
export function fixtureParams(): ParameterSpec[] {
  return [
    { name: 'head.weight', shape: [3, 4], init: Float64Array.from(seeded(1, 12)), decay: true },
    { name: 'head.bias', shape: [4], init: Float64Array.from(seeded(2, 4)), decay: false },
    { name: 'logit_scale', shape: [], init: Float64Array.of(2.6592), decay: false },
  ];
}

export const refParams = (specs: ParameterSpec[]): RefParam[] => specs.map((s) => ({ name: s.name, init: Array.from(s.init), decay: s.decay }));

/** Gradients of 0.25·θ² plus fixed noise per step: they depend on the parameters, so errors would feed back. */
export const fixtureGrad = (k: number, params: Readonly<Record<string, ArrayLike<number>>>): Record<string, number[]> =>
  Object.fromEntries(Object.entries(params).map(([name, v], j) => [name, seeded(1000 * k + j, v.length).map((noise, i) => noise + 0.5 * v[i]!)]));

/**
 * Every parameter and state tensor of every step agrees with the reference:
 * |got − want| ≤ rtol · max(|want|, floor · max|want of that tensor|).
 * floor 0 is element-wise relative. In float32 an element that passes near 0 keeps the absolute error of the
 * tensor's scale (ulps of the larger operands it came from), so float32 checks use floor 1: relative to the
 * tensor's largest element.
 */
export function expectTrajectory(got: TrajectoryPoint[], want: RefPoint[], rtol: number, floor = 0): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  got.forEach((point, k) => {
    const pairs: Array<[string, ArrayLike<number>, number[]]> = [];
    for (const [name, v] of Object.entries(want[k]!.params)) pairs.push([`step ${k}: ${name}`, point.params[name]!, v]);
    for (const [name, states] of Object.entries(want[k]!.state)) {
      for (const [s, v] of Object.entries(states)) pairs.push([`step ${k}: ${name}.${s}`, point.state[name]![s]!, v]);
    }
    for (const [what, a, b] of pairs) {
      expect(a.length, what).toBe(b.length);
      const scale = floor * Math.max(...b.map(Math.abs));
      for (let i = 0; i < b.length; i++) {
        const err = a[i] === b[i] ? 0 : Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), scale);
        worst = Math.max(worst, err);
        if (!(err <= rtol)) expect.fail(`${what}[${i}]: got ${a[i]}, torch formula gives ${b[i]} (relative error ${err.toExponential(2)} > ${rtol})`);
      }
    }
  });
  return worst;
}
