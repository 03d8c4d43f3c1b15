// The optimizer part of a training step: every parameter's update written into one graph, so the step
// compiler calls one function after the backward pass. Also a small runner that trains parameters on given
// gradients for T steps in ONNX Runtime (outputs fed back as the next step's inputs), which is how the
// optimizer plugins are checked against PyTorch's formulas.

import { Graph, ShapeError, type DType, type Value } from './graph.ts';
import type { OptimizerModule, ParameterSpec, ScheduleModule } from './modules.ts';
import type { SessionOptions } from './session.ts';

/** `v` in `dtype`, cast only when it differs. */
export function asDtype(g: Graph, v: Value, dtype: DType): Value {
  return v.dtype === dtype ? v : g.cast(v, dtype);
}

/**
 * Scalars that depend on the step (β^t, lr/(1−β1^t), 1−lr·wd) are computed in float64 whatever the
 * parameter dtype, as PyTorch computes them in Python floats before the tensor op casts them once.
 */
export function f64(g: Graph, v: Value): Value {
  return asDtype(g, v, 'float64');
}

export interface ParameterUpdateInput {
  spec: ParameterSpec;
  value: Value;
  grad: Value;
  /** The optimizer's state tensors of this parameter, in `optimizer.state` order. */
  state: Value[];
}

export interface ParameterUpdate {
  spec: ParameterSpec;
  value: Value;
  state: Value[];
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Writes the optimizer update of every parameter. `lr` is this step's scheduled learning rate and `step`
 * the 1-based count t after this update, both scalars (any float dtype). Checks that what goes in and what
 * the optimizer gives back have the parameter's shape and dtype, naming the parameter when not.
 */
export function buildOptimizerStep(g: Graph, optimizer: OptimizerModule, params: ParameterUpdateInput[], lr: Value, step: Value): ParameterUpdate[] {
  for (const s of [lr, step]) {
    if (s.rank !== 0 || (s.dtype !== 'float32' && s.dtype !== 'float64')) {
      throw new ShapeError(`optimizer step: '${s.name}' must be a float scalar, got ${s.dtype} [${s.shape.join(', ')}]`);
    }
  }
  return params.map(({ spec, value, grad, state }) => {
    const where = `optimizer step, parameter '${spec.name}'`;
    if (!sameShape(value.shape, spec.shape)) throw new ShapeError(`${where}: the value has shape [${value.shape.join(', ')}], the spec [${spec.shape.join(', ')}]`);
    if (!sameShape(grad.shape, value.shape) || grad.dtype !== value.dtype) {
      throw new ShapeError(`${where}: the gradient is ${grad.dtype} [${grad.shape.join(', ')}], the parameter ${value.dtype} [${value.shape.join(', ')}]`);
    }
    if (state.length !== optimizer.state.length) {
      throw new ShapeError(`${where}: ${state.length} state tensors given, the optimizer keeps ${optimizer.state.length} (${optimizer.state.map((s) => s.name).join(', ') || 'none'})`);
    }
    const out = optimizer.update({ g, lr, step }, { value, grad, decay: spec.decay, state });
    const check = (v: Value, what: string) => {
      if (!sameShape(v.shape, value.shape) || v.dtype !== value.dtype) {
        throw new ShapeError(`${where}: the optimizer returned ${what} as ${v.dtype} [${v.shape.join(', ')}], expected ${value.dtype} [${value.shape.join(', ')}]`);
      }
    };
    check(out.value, 'the new value');
    if (out.state.length !== optimizer.state.length) throw new ShapeError(`${where}: the optimizer returned ${out.state.length} state tensors, expected ${optimizer.state.length}`);
    out.state.forEach((v, i) => check(v, `state '${optimizer.state[i]!.name}'`));
    return { spec, value: out.value, state: out.state };
  });
}

/** Graph input and output names used by `buildOptimizerGraph`. */
export const optimizerGraphNames = {
  param: (p: string) => `param.${p}`,
  grad: (p: string) => `grad.${p}`,
  state: (p: string, s: string) => `state.${p}.${s}`,
  newParam: (p: string) => `new.param.${p}`,
  newState: (p: string, s: string) => `new.state.${p}.${s}`,
  lr: 'lr',
  step: 'step',
};

/**
 * A graph whose inputs are every parameter, its gradient and its state tensors, `lr` and `step`, and whose
 * outputs are the updated parameters and state (names from `optimizerGraphNames`).
 */
export function buildOptimizerGraph(optimizer: OptimizerModule, params: ParameterSpec[], dtype: 'float32' | 'float64', scalarDtype: 'float32' | 'float64' = dtype): Graph {
  const g = new Graph({ name: 'optimizer_step' });
  const n = optimizerGraphNames;
  const lr = g.input(n.lr, scalarDtype, []);
  const step = g.input(n.step, scalarDtype, []);
  const inputs = params.map((spec) => ({
    spec,
    value: g.input(n.param(spec.name), dtype, spec.shape),
    grad: g.input(n.grad(spec.name), dtype, spec.shape),
    state: optimizer.state.map((s) => g.input(n.state(spec.name, s.name), dtype, spec.shape)),
  }));
  for (const u of buildOptimizerStep(g, optimizer, inputs, lr, step)) {
    g.output(u.value, n.newParam(u.spec.name));
    u.state.forEach((v, i) => g.output(v, n.newState(u.spec.name, optimizer.state[i]!.name)));
  }
  return g;
}

export type HostArray = Float32Array | Float64Array;

export interface OptimizerRun {
  optimizer: OptimizerModule;
  params: ParameterSpec[];
  /** Number of optimizer steps T. */
  steps: number;
  /** The gradient of each parameter at step k (1-based), given the parameters before that step. */
  grad: (k: number, params: Readonly<Record<string, HostArray>>) => Record<string, ArrayLike<number>>;
  /** Base learning rate. */
  lr: number;
  /** The k-th step uses lr · factor(k) (default: constant). */
  schedule?: ScheduleModule;
  /** Dtype of parameters, gradients and state (default float64). */
  dtype?: 'float32' | 'float64';
  /** Dtype of the `lr` and `step` inputs (default: the parameter dtype, as the step compiler feeds them). */
  scalarDtype?: 'float32' | 'float64';
  /** Default: CPU, one thread. */
  session?: SessionOptions;
}

export interface TrajectoryPoint {
  /** The step k that produced this point (0: the initial values). */
  step: number;
  /** The learning rate used by step k (0 for the initial point). */
  lr: number;
  params: Record<string, HostArray>;
  /** state[param][stateName]. */
  state: Record<string, Record<string, HostArray>>;
}

/** Trains `params` for `steps` steps with the optimizer in ONNX Runtime; returns the initial point and one point per step. */
export async function runOptimizer(run: OptimizerRun): Promise<TrajectoryPoint[]> {
  const [ortModule, { createSession }, { toOnnxModel }] = await Promise.all([import('onnxruntime-node'), import('./session.ts'), import('./onnx-export.ts')]);
  // Node gives the CommonJS exports as `default`; loaders such as tsx (a plugin's test) give them as the namespace only.
  const ort = (ortModule.default ?? ortModule) as typeof ortModule.default;
  const dtype = run.dtype ?? 'float64';
  const scalarDtype = run.scalarDtype ?? dtype;
  const n = optimizerGraphNames;
  const { optimizer, params } = run;
  const { session } = await createSession(toOnnxModel(buildOptimizerGraph(optimizer, params, dtype, scalarDtype)), run.session ?? { device: 'cpu', threads: 1 });
  const make = (values: ArrayLike<number>): HostArray => (dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values));
  const size = (p: ParameterSpec) => p.shape.reduce((a, b) => a * b, 1);

  let point: TrajectoryPoint = {
    step: 0,
    lr: 0,
    params: Object.fromEntries(params.map((p) => [p.name, make(p.init)])),
    state: Object.fromEntries(params.map((p) => [p.name, Object.fromEntries(optimizer.state.map((s) => [s.name, make(new Array<number>(size(p)).fill(s.init))]))])),
  };
  const trajectory = [point];
  const scalar = (x: number) => new ort.Tensor(scalarDtype, scalarDtype === 'float32' ? Float32Array.of(x) : Float64Array.of(x), []);
  for (let k = 1; k <= run.steps; k++) {
    const lr = run.lr * (run.schedule ? run.schedule.factor(k) : 1);
    const grads = run.grad(k, point.params);
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = { [n.lr]: scalar(lr), [n.step]: scalar(k) };
    for (const p of params) {
      const gr = grads[p.name];
      if (!gr || gr.length !== size(p)) throw new ShapeError(`runOptimizer: step ${k} gives ${gr ? gr.length : 'no'} gradient values for '${p.name}', expected ${size(p)}`);
      feeds[n.param(p.name)] = new ort.Tensor(dtype, point.params[p.name]!, [...p.shape]);
      feeds[n.grad(p.name)] = new ort.Tensor(dtype, make(gr), [...p.shape]);
      for (const s of optimizer.state) feeds[n.state(p.name, s.name)] = new ort.Tensor(dtype, point.state[p.name]![s.name]!, [...p.shape]);
    }
    const out = await session.run(feeds);
    const read = (name: string) => make(out[name]!.data as ArrayLike<number>);
    point = {
      step: k,
      lr,
      params: Object.fromEntries(params.map((p) => [p.name, read(n.newParam(p.name))])),
      state: Object.fromEntries(params.map((p) => [p.name, Object.fromEntries(optimizer.state.map((s) => [s.name, read(n.newState(p.name, s.name))]))])),
    };
    trajectory.push(point);
  }
  await session.release();
  return trajectory;
}
