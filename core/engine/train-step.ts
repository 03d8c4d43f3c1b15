// compileTrainStep: one ONNX graph per batch shape holding forward, loss, backward and the optimizer update.
// onnxruntime-node has no training API, so training is inference of this graph with the parameters and
// optimizer state as inputs and their updated values as outputs. With steps_per_run K > 1 the graph holds K
// steps one after another (K batches fed at once): moving the state in and out of the session is paid once
// per K steps. The steps are written out rather than put in an ONNX Loop: ONNX Runtime copies a Loop's
// carried values into its outputs after the last iteration (the whole state again, ~6 ms per CLEP step at
// K = 4), and the graph of K steps is still quick to build (K = 16 CLEP: 1.5 s).

import ort from 'onnxruntime-node';
import { mulberry32 } from '../random.ts';
import { VidraError } from '../config/errors.ts';
import { gradients } from './autodiff.ts';
import { Graph, typedArray, type DType, type Shape, type Value } from './graph.ts';
import type { LossModule, ModelModule, OptimizerModule, ParameterSpec } from './modules.ts';
import { toOnnxModel } from './onnx-export.ts';
import { buildOptimizerStep } from './optimizer-step.ts';
import { createSession, type Device, type GraphOptimization } from './session.ts';

export interface TrainStepSpec {
  model: ModelModule;
  loss: LossModule;
  optimizer: OptimizerModule;
  batchSize: number;
  /** Number of classes of the targets (multi-hot width); not needed for 'index' and 'none' targets. */
  numClasses?: number;
  dtype?: 'float32' | 'float64';
  /** `engine.steps_per_run`: optimizer steps per session.run (K steps written into one graph). */
  stepsPerRun?: number;
  classCounts?: readonly number[];
  epoch?: number;
  /**
   * Adds Σ_p Σ_j A_p[j]·(θ_p[j] − B_p[j])² to the loss, with A and B fed per run (`penalty/weight/<p>`,
   * `penalty/anchor/<p>`): the quadratic penalties of continual-learning strategies (EWC), folded into one term.
   */
  quadraticPenalty?: boolean;
}

export interface RandomInput {
  name: string;
  shape: Shape;
  /** P(element = 1). */
  p: number;
}

export interface CompiledStep {
  graph: Graph;
  params: ParameterSpec[];
  stateNames: string[];
  randomInputs: RandomInput[];
  stepsPerRun: number;
}

const paramIn = (n: string) => `param/${n}`;
const paramOut = (n: string) => `new/param/${n}`;
const stateIn = (n: string, s: string) => `state/${n}/${s}`;
const stateOut = (n: string, s: string) => `new/state/${n}/${s}`;

interface QuadraticInputs {
  weight: Record<string, Value>;
  anchor: Record<string, Value>;
  constant: Value;
}

interface Carried {
  params: Value[];
  state: Value[][];
  step: Value;
}

/** Writes one optimizer step into `g`: returns the loss and the updated parameters, state and step count. */
function writeStep(
  g: Graph,
  spec: TrainStepSpec,
  params: ParameterSpec[],
  carried: Carried,
  feed: {
    inputs: Record<string, Value>;
    targets: Value | null;
    lr: Value;
    random: (name: string, shape: Shape, p: number) => Value;
    penalty?: QuadraticInputs;
  },
): { loss: Value; next: Carried } {
  const dtype = spec.dtype ?? 'float32';
  const byName = Object.fromEntries(params.map((p, i) => [p.name, carried.params[i]!]));
  const out = spec.model.forward({ g, dtype, training: true, bernoulli: feed.random }, byName, feed.inputs);
  const mask = spec.loss.needsMask ? feed.random('loss_mask', out.logits.shape, spec.loss.maskProbability ?? 0) : undefined;
  const loss = spec.loss.build(
    { g, dtype, classCounts: spec.classCounts, epoch: spec.epoch, sections: spec.model.sections?.() },
    { logits: out.logits, targets: feed.targets, other: out.other, logitScale: out.logitScale, mask },
  );
  if (loss.size !== 1) throw new VidraError('the training loss must reduce to a scalar: set the loss reduction to mean or sum');
  let scalarLoss = g.reshape(loss, []);
  if (feed.penalty) {
    scalarLoss = g.add(scalarLoss, feed.penalty.constant);
    for (const [i, p] of params.entries()) {
      const d = g.sub(carried.params[i]!, feed.penalty.anchor[p.name]!);
      scalarLoss = g.add(scalarLoss, g.reduceSum(g.mul(feed.penalty.weight[p.name]!, g.mul(d, d))));
    }
  }
  const grads = gradients(g, scalarLoss, carried.params);
  const t = g.add(carried.step, 1);
  const updates = buildOptimizerStep(
    g,
    spec.optimizer,
    params.map((p, i) => ({ spec: p, value: carried.params[i]!, grad: grads[i]!, state: carried.state[i]! })),
    feed.lr,
    t,
  );
  const next: Carried = {
    params: updates.map((u) => (spec.model.afterUpdate ? spec.model.afterUpdate(g, u.spec.name, u.value) : u.value)),
    state: updates.map((u) => u.state),
    step: t,
  };
  return { loss: scalarLoss, next };
}

/** Builds the training-step graph: K steps, each reading batch k of the [K, ...] inputs when K > 1. */
export function compileTrainStep(spec: TrainStepSpec, params: ParameterSpec[]): CompiledStep {
  const dtype: DType = spec.dtype ?? 'float32';
  const K = spec.stepsPerRun ?? 1;
  const N = spec.batchSize;
  const g = new Graph({ name: 'train_step' });
  const stateNames = spec.optimizer.state.map((s) => s.name);
  const carried: Carried = {
    params: params.map((p) => g.input(paramIn(p.name), dtype, p.shape)),
    state: params.map((p) => stateNames.map((s) => g.input(stateIn(p.name, s), dtype, p.shape))),
    step: g.input('step', dtype, []),
  };
  const lead = K > 1 ? [K] : [];
  const inputs = Object.fromEntries(spec.model.inputs().map((i) => [i.name, g.input(`input/${i.name}`, dtype, [...lead, N, ...i.shape])]));
  const targets =
    spec.loss.targetKind === 'none'
      ? null
      : spec.loss.targetKind === 'index'
        ? g.input('targets', 'int64', [...lead, N])
        : spec.loss.targetKind === 'index_columns'
          ? g.input('targets', 'int64', [...lead, N, requireSections(spec).length])
          : g.input('targets', dtype, [...lead, N, requireClasses(spec)]);
  const lr = g.input('lr', dtype, lead);
  const randomInputs: RandomInput[] = [];
  const randomValues = new Map<string, Value>();
  // Random inputs are graph inputs ([K, ...] when K > 1), declared where a module asks.
  const declareRandom = (pick: (v: Value) => Value) => (name: string, shape: Shape, p: number) => {
    let v = randomValues.get(name);
    if (!v) {
      v = g.input(`random/${name}`, dtype, [...lead, ...shape]);
      randomValues.set(name, v);
      randomInputs.push({ name, shape, p });
    }
    return pick(v);
  };

  // The penalty's weights and anchors are constant over the K steps of a run (a strategy changes them between experiences).
  const penalty = spec.quadraticPenalty
    ? {
        weight: Object.fromEntries(params.map((p) => [p.name, g.input(`penalty/weight/${p.name}`, dtype, p.shape)])),
        anchor: Object.fromEntries(params.map((p) => [p.name, g.input(`penalty/anchor/${p.name}`, dtype, p.shape)])),
        constant: g.input('penalty/constant', dtype, []),
      }
    : undefined;

  // The K steps one after another, step k reading batch k of every [K, ...] input (the whole input when K = 1).
  const pickAt = (k: number) => (v: Value) => (K > 1 ? g.gather(v, g.constant(k, 'int64'), 0) : v);
  const losses: Value[] = [];
  let state = carried;
  for (let k = 0; k < K; k++) {
    const pick = pickAt(k);
    const { loss, next } = writeStep(g, spec, params, state, {
      inputs: Object.fromEntries(Object.entries(inputs).map(([name, v]) => [name, pick(v)])),
      targets: targets && pick(targets),
      lr: pick(lr),
      random: declareRandom(pick),
      penalty,
    });
    losses.push(loss);
    state = next;
  }
  if (K === 1) g.output(losses[0]!, 'loss');
  else g.output(g.concat(losses.map((l) => g.reshape(l, [1])), 0), 'losses');
  emitCarried(g, params, stateNames, state);
  return { graph: g, params, stateNames, randomInputs, stepsPerRun: K };
}

function emitCarried(g: Graph, params: ParameterSpec[], stateNames: string[], next: Carried): void {
  next.params.forEach((v, i) => g.output(v, paramOut(params[i]!.name)));
  next.state.forEach((vs, i) => vs.forEach((v, j) => g.output(v, stateOut(params[i]!.name, stateNames[j]!))));
  g.output(next.step, 'new/step');
}

function requireSections(spec: TrainStepSpec): number[] {
  const sections = spec.model.sections?.();
  if (!sections?.length) throw new VidraError('a loss over several target columns needs a multi-head model (one logit section per column, e.g. model multi_head)');
  return sections;
}

function requireClasses(spec: TrainStepSpec): number {
  if (!spec.numClasses) throw new VidraError('a multi-hot loss needs the number of classes (data.num_classes)');
  return spec.numClasses;
}

type Feeds = Record<string, ort.Tensor>;

interface RunnerOptions {
  seed: number;
  device?: Device;
  threads?: number;
  graphOptimization?: GraphOptimization;
  notice?: (l: string) => void;
}

/** A NaN or infinite loss: the job stops and is marked failed with the step number. */
export class NonFiniteLossError extends VidraError {
  constructor(
    message: string,
    readonly step: number,
  ) {
    super(message);
  }
}

export interface TrainBatch {
  /** Per model input: K·N·dim values, batch-major. */
  inputs: Record<string, Float32Array | Float64Array>;
  /** K·N·C multi-hot values, or K·N class indices. */
  targets?: Float32Array | Float64Array | BigInt64Array;
  /** The scheduled learning rate of each of the K steps. */
  lrs: number[];
  /** With `quadraticPenalty`: the folded penalty (absent: none this run, fed as zeros). */
  penalty?: FoldedPenalty;
}

/**
 * Σ_p Σ_j weight_p[j]·(θ_p[j] − anchor_p[j])² + constant: any sum of quadratic penalties Σ_t s_t F_t (θ − a_t)²
 * folds into this form (weight = Σ_t s_t F_t, anchor = Σ_t s_t F_t a_t / weight, constant = the rest), so the
 * graph has one term whatever the number of past experiences. Treated as immutable: a runner converts each
 * object to tensors once.
 */
export interface FoldedPenalty {
  weight: Record<string, Float32Array | Float64Array>;
  anchor: Record<string, Float32Array | Float64Array>;
  constant: number;
}

/**
 * Runs a compiled training step in ONNX Runtime, keeping the parameters and optimizer state as the
 * session's output tensors between runs. Random inputs (dropout masks, the EQL mask) come from a
 * generator seeded by `seed`, so a run is reproducible bit for bit.
 */
export class TrainStepRunner {
  private readonly siblings = new Map<number, Promise<TrainStepRunner>>();
  private readonly penaltyFeeds = new WeakMap<FoldedPenalty, Feeds>();
  private zeroPenalty: Feeds | undefined;

  private constructor(
    readonly compiled: CompiledStep,
    private readonly session: ort.InferenceSession,
    readonly provider: 'cuda' | 'cpu',
    private readonly spec: TrainStepSpec,
    private readonly seed: number,
    private readonly options: RunnerOptions,
    /** Parameters, optimizer state and step: one record shared by the runners of every batch size. */
    private readonly state: Feeds = {},
  ) {
    if (Object.keys(state).length > 0) return;
    const dtype = spec.dtype ?? 'float32';
    for (const p of compiled.params) {
      this.state[paramIn(p.name)] = tensor(dtype, p.init, p.shape);
      for (const s of spec.optimizer.state) {
        const size = p.shape.reduce((a, b) => a * b, 1);
        this.state[stateIn(p.name, s.name)] = tensor(dtype, new Array<number>(size).fill(s.init), p.shape);
      }
    }
    this.state.step = tensor(dtype, [0], []);
  }

  static async create(spec: TrainStepSpec, options: RunnerOptions): Promise<TrainStepRunner> {
    const params = spec.model.parameters(mulberry32(options.seed));
    const compiled = compileTrainStep(spec, params);
    const { session, provider } = await createSession(toOnnxModel(compiled.graph), options);
    return new TrainStepRunner(compiled, session, provider, spec, options.seed, options);
  }

  /**
   * The runner for another batch size (a replay batch, a user's shorter last batch): its graph is compiled once
   * per size and cached, on the provider this one uses, and it trains the SAME parameters and optimizer state.
   */
  withBatchSize(batchSize: number): Promise<TrainStepRunner> {
    if (batchSize === this.spec.batchSize) return Promise.resolve(this);
    let sibling = this.siblings.get(batchSize);
    if (!sibling) {
      const spec = { ...this.spec, batchSize };
      const compiled = compileTrainStep(spec, this.compiled.params);
      sibling = createSession(toOnnxModel(compiled.graph), { ...this.options, device: this.provider }).then(
        ({ session, provider }) => new TrainStepRunner(compiled, session, provider, spec, this.seed, this.options, this.state),
      );
      this.siblings.set(batchSize, sibling);
    }
    return sibling;
  }

  /** Optimizer steps taken so far. */
  get step(): number {
    return Number(this.state.step!.data[0]);
  }

  /** Runs K steps; returns the K losses. */
  async run(batch: TrainBatch): Promise<number[]> {
    const { stepsPerRun: K, randomInputs } = this.compiled;
    const dtype = this.spec.dtype ?? 'float32';
    const N = this.spec.batchSize;
    const lead = K > 1 ? [K] : [];
    if (batch.lrs.length !== K) throw new VidraError(`expected ${K} learning rates (engine.steps_per_run), got ${batch.lrs.length}`);
    const feeds: Feeds = { ...this.state, lr: tensor(dtype, batch.lrs, lead) };
    for (const i of this.spec.model.inputs()) {
      const data = batch.inputs[i.name];
      const shape = [...lead, N, ...i.shape];
      if (!data || data.length !== shape.reduce((a, b) => a * b, 1)) {
        throw new VidraError(`the model input '${i.name}' needs ${shape.join('×')} values, got ${data?.length ?? 'none'}`);
      }
      feeds[`input/${i.name}`] = tensor(dtype, data, shape);
    }
    if (this.spec.loss.targetKind === 'index') feeds.targets = new ort.Tensor('int64', batch.targets as BigInt64Array, [...lead, N]);
    else if (this.spec.loss.targetKind === 'index_columns') {
      feeds.targets = new ort.Tensor('int64', batch.targets as BigInt64Array, [...lead, N, this.spec.model.sections!().length]);
    }
    else if (this.spec.loss.targetKind === 'multi_hot') feeds.targets = tensor(dtype, batch.targets as Float32Array, [...lead, N, this.spec.numClasses!]);
    // Each step's masks come from a generator seeded by (seed, step): K steps per run draw exactly what K
    // single runs draw, and a run resumed from a checkpoint continues the same masks.
    const sizes = randomInputs.map((r) => r.shape.reduce((a, b) => a * b, 1));
    const masks = sizes.map((n) => new Array<number>(n * K));
    for (let k = 0; k < K; k++) {
      const random = mulberry32(this.seed ^ Math.imul(this.step + k + 1, 0x9e3779b1));
      randomInputs.forEach((r, j) => {
        for (let e = 0; e < sizes[j]!; e++) masks[j]![k * sizes[j]! + e] = random() < r.p ? 1 : 0;
      });
    }
    randomInputs.forEach((r, j) => (feeds[`random/${r.name}`] = tensor(dtype, masks[j]!, [...lead, ...r.shape])));
    if (this.spec.quadraticPenalty) this.feedPenalty(feeds, batch.penalty);
    else if (batch.penalty) throw new VidraError('this training step was compiled without a quadratic penalty (TrainStepSpec.quadraticPenalty)');
    const out = await this.session.run(feeds);
    const losses = Array.from((K > 1 ? out.losses! : out.loss!).data as Float32Array, Number);
    const bad = losses.findIndex((l) => !Number.isFinite(l));
    if (bad >= 0) {
      // The state of this run is dropped: the runner's parameters stay those of the last good step (saving them
      // is the task's business, which says where).
      throw new NonFiniteLossError(
        `the loss is ${losses[bad]} at step ${this.step + bad + 1}; lower optim.lr, check the data, or use a stable loss`,
        this.step + bad + 1,
      );
    }
    for (const p of this.compiled.params) {
      this.state[paramIn(p.name)] = out[paramOut(p.name)]!;
      for (const s of this.compiled.stateNames) this.state[stateIn(p.name, s)] = out[stateOut(p.name, s)]!;
    }
    this.state.step = out['new/step']!;
    return losses;
  }

  /** The penalty's feeds, converted once per penalty object (and once for "no penalty": zeros). */
  private feedPenalty(feeds: Feeds, penalty: FoldedPenalty | undefined): void {
    let cached = penalty ? this.penaltyFeeds.get(penalty) : this.zeroPenalty;
    if (!cached) {
      cached = this.penaltyTensors(penalty);
      if (penalty) this.penaltyFeeds.set(penalty, cached);
      else this.zeroPenalty = cached;
    }
    Object.assign(feeds, cached);
  }

  private penaltyTensors(penalty: FoldedPenalty | undefined): Feeds {
    const dtype = this.spec.dtype ?? 'float32';
    const feeds: Feeds = {};
    for (const p of this.compiled.params) {
      const size = p.shape.reduce((a, b) => a * b, 1);
      for (const [part, values] of [['weight', penalty?.weight[p.name]], ['anchor', penalty?.anchor[p.name]]] as const) {
        if (values && values.length !== size) throw new VidraError(`the penalty's ${part} of '${p.name}' has ${values.length} values, the parameter ${size}`);
        feeds[`penalty/${part}/${p.name}`] = tensor(dtype, values ?? new Float64Array(size), p.shape);
      }
    }
    feeds['penalty/constant'] = tensor(dtype, [penalty?.constant ?? 0], []);
    return feeds;
  }

  /** Current parameters by name (copies). */
  parameters(): Record<string, { shape: number[]; data: Float32Array | Float64Array }> {
    return Object.fromEntries(
      this.compiled.params.map((p) => {
        const t = this.state[paramIn(p.name)]!;
        return [p.name, { shape: [...t.dims], data: (t.data as Float32Array).slice() }];
      }),
    );
  }

  /** Optimizer state by `<param>.<state>` (copies). */
  optimizerState(): Record<string, { shape: number[]; data: Float32Array | Float64Array }> {
    const out: Record<string, { shape: number[]; data: Float32Array | Float64Array }> = {};
    for (const p of this.compiled.params) {
      for (const s of this.compiled.stateNames) {
        const t = this.state[stateIn(p.name, s)]!;
        out[`${p.name}.${s}`] = { shape: [...t.dims], data: (t.data as Float32Array).slice() };
      }
    }
    return out;
  }

  /** Sets the parameters and starts the optimizer afresh: initial state, step 0 (a model reset to a population model). */
  reset(params: Record<string, ArrayLike<number>>): void {
    const state: Record<string, number[]> = {};
    for (const p of this.compiled.params) {
      const size = p.shape.reduce((a, b) => a * b, 1);
      for (const s of this.spec.optimizer.state) state[`${p.name}.${s.name}`] = new Array<number>(size).fill(s.init);
    }
    this.restore(params, state, 0);
  }

  /** Restores parameters, optimizer state and the step count (a checkpoint resume). */
  restore(params: Record<string, ArrayLike<number>>, state: Record<string, ArrayLike<number>>, step: number): void {
    const dtype = this.spec.dtype ?? 'float32';
    for (const p of this.compiled.params) {
      const v = params[p.name];
      if (!v) throw new VidraError(`the checkpoint has no parameter '${p.name}'`);
      this.state[paramIn(p.name)] = tensor(dtype, v, p.shape);
      for (const s of this.compiled.stateNames) {
        const sv = state[`${p.name}.${s}`];
        if (!sv) throw new VidraError(`the checkpoint has no optimizer state '${p.name}.${s}'`);
        this.state[stateIn(p.name, s)] = tensor(dtype, sv, p.shape);
      }
    }
    this.state.step = tensor(dtype, [step], []);
  }
}

function tensor(dtype: 'float32' | 'float64', data: ArrayLike<number>, shape: Shape): ort.Tensor {
  const arr = data instanceof Float32Array && dtype === 'float32' ? data : data instanceof Float64Array && dtype === 'float64' ? data : typedArray(dtype, data);
  return new ort.Tensor(dtype, arr as Float32Array, [...shape]);
}
