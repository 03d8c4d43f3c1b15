// What loss, optimizer and model plugins give the engine: functions that write ONNX nodes with the graph
// builder. The engine composes them into one training-step graph (forward, loss, backward, update).

import type { DType, Graph, Shape, Value } from './graph.ts';

/** How a loss reads its targets. */
export type TargetKind =
  /** A multi-hot (or soft) matrix [N, C], same dtype as the logits. */
  | 'multi_hot'
  /** A vector of class indices [N], int64. */
  | 'index'
  /** No targets: contrastive losses pair row i of one input with row i of the other. */
  | 'none'
  /**
   * Several class-index targets per example, [N, T] int64 (verb and noun; Z future verbs then Z future nouns):
   * column t is scored by the logit section `sections[t]` of the model (its `sections()`), in order.
   */
  | 'index_columns';

export interface LossInputs {
  /** [N, C] logits; for contrastive losses, the first embedding matrix [N, D]. */
  logits: Value;
  /** Targets as `targetKind` says, or null for 'none'. */
  targets: Value | null;
  /** Contrastive losses: the second embedding matrix [N, D]. */
  other?: Value;
  /** Contrastive losses: the logit-scale parameter (a scalar). */
  logitScale?: Value;
  /** An injected mask (the Bernoulli draw of the Animal Kingdom EQL), [N, C] of 0/1, same dtype as the logits. */
  mask?: Value;
}

export interface LossContext {
  g: Graph;
  dtype: DType;
  /** Training-set sample count per class, from the dataset (EQL, LDAM, class-balanced weights). */
  classCounts?: readonly number[];
  /** The current epoch (LDAM's deferred re-weighting picks its class weights by epoch). */
  epoch?: number;
  /** 'index_columns' losses: the classes of each logit section, in column order (the model's `sections()`). */
  sections?: readonly number[];
}

export interface LossModule {
  readonly targetKind: TargetKind;
  /** True when the loss cannot be built without `classCounts` (the error names the config key to fix). */
  readonly needsClassCounts: boolean;
  /** True when `mask` is an input the caller must feed (a fresh Bernoulli draw per step). */
  readonly needsMask?: boolean;
  /** With `needsMask`: the probability that a mask element is 1 (the step runner draws it from the run's seed). */
  readonly maskProbability?: number;
  /** Writes the loss: a scalar for reduction mean/sum, [N, C] (or [N]) for `none`. */
  build(ctx: LossContext, inputs: LossInputs): Value;
}

/** A trainable tensor of a model, with its initial values and whether weight decay applies to it. */
export interface ParameterSpec {
  name: string;
  shape: Shape;
  init: Float32Array | Float64Array;
  /** AdamW/SGD weight decay applies (false for biases, norms and the logit scale, as CLIP/CLEP do). */
  decay: boolean;
}

export interface OptimizerStateSpec {
  /** Suffix of the state tensor's name, e.g. `exp_avg`. */
  name: string;
  /** Initial value of every element. */
  init: number;
}

export interface OptimizerContext {
  g: Graph;
  /** The scheduled learning rate of this step (a scalar input). */
  lr: Value;
  /** The 1-based step count t after this update (a scalar of the parameter dtype). */
  step: Value;
}

export interface OptimizerModule {
  /** State tensors per parameter, shaped like the parameter. */
  readonly state: readonly OptimizerStateSpec[];
  /** Writes one update: the new parameter and the new state tensors (in `state` order). */
  update(ctx: OptimizerContext, param: { value: Value; grad: Value; decay: boolean; state: Value[] }): { value: Value; state: Value[] };
}

/** A learning-rate schedule: the multiplier of the base lr used by the k-th optimizer step (k from 1). */
export interface ScheduleModule {
  factor(step: number): number;
  /** The schedule's resolved numbers for the job log (e.g. `1110 steps, 111 of warmup`). */
  describe?(): string;
}

/** One input of a model, per example (the batch dimension is added by the step compiler). */
export interface ModelInputSpec {
  name: string;
  shape: Shape;
}

export interface ForwardContext {
  g: Graph;
  dtype: DType;
  /** Training (dropout active) or evaluation. */
  training: boolean;
  /** A Bernoulli(p) 0/1 mask of `shape`, fed by the step runner from the run's seeded generator. */
  bernoulli(name: string, shape: Shape, p: number): Value;
}

export interface ForwardOutputs {
  /** Class logits [N, C]; for contrastive models, the first embedding [N, D]. */
  logits: Value;
  /** Contrastive models: the second embedding [N, D]. */
  other?: Value;
  /** Contrastive models: the logit-scale parameter. */
  logitScale?: Value;
}

export interface ModelModule {
  inputs(): ModelInputSpec[];
  /** Parameters with PyTorch's names and initial values drawn from `random` (uniform [0, 1)). */
  parameters(random: () => number): ParameterSpec[];
  forward(ctx: ForwardContext, params: Record<string, Value>, inputs: Record<string, Value>): ForwardOutputs;
  /**
   * Multi-target models: the logits are consecutive sections, one per target column, of these class counts
   * (a verb head then a noun head; Z verb heads then Z noun heads). Absent: one section over all logits.
   */
  sections?(): number[];
  /** Applied to a parameter after each optimizer update (CLIP clamps its logit scale to [0, ln 100]). */
  afterUpdate?(g: Graph, name: string, value: Value): Value;
}
