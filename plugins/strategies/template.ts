// The training/evaluation loop that fires the strategy events (Avalanche `BaseTemplate.train/eval`,
// `BaseSGDTemplate.training_epoch`, `eval_epoch`), for tasks that train with strategies. The task supplies the data
// (batches per experience and epoch) and the step; the template owns the order of events.
//
// A Vidra training step is usually ONE compiled graph run (forward, backward and optimizer update fused): then the
// template fires no before_forward … after_update, and `checkPluginEvents` reports plugins that listen to them.
// A task that runs the phases separately passes `forward`, `backward` and `update` and gets all the events.

import { checkPluginEvents, fireEvent, STRATEGY_EVENTS, type Batch, type Experience, type Sample, type StrategyContext, type StrategyEvent, type StrategyPlugin } from './events.ts';

type MaybePromise<T> = T | Promise<T>;

export interface TrainLoop<S extends Sample = Sample> {
  /** Epochs per experience (default 1). */
  epochs?: number;
  /** The current-data mini-batches of an experience in an epoch. */
  batches(experience: Experience<S>, epoch: number): Iterable<Batch<S>> | AsyncIterable<Batch<S>>;
  /** Fused forward + backward + update on `ctx.batch` with `ctx.extraLoss`; may set `ctx.loss`. */
  step?(ctx: StrategyContext<S>): MaybePromise<void>;
  forward?(ctx: StrategyContext<S>): MaybePromise<void>;
  backward?(ctx: StrategyContext<S>): MaybePromise<void>;
  update?(ctx: StrategyContext<S>): MaybePromise<void>;
}

export interface EvalLoop<S extends Sample = Sample> {
  batches(experience: Experience<S>): Iterable<Batch<S>> | AsyncIterable<Batch<S>>;
  /** Predicts on `ctx.batch` (metrics are the task's business, e.g. in after_eval_iteration plugins). */
  predict(ctx: StrategyContext<S>): MaybePromise<void>;
}

export interface TemplateOptions<S extends Sample = Sample> {
  /** 'fused' (default): one call per training step; 'phased': forward, backward, update callbacks. */
  steps?: 'fused' | 'phased';
  /** Context fields the engine provides (trainBatchSize, gradients, parameters, warn). */
  context?: Partial<Pick<StrategyContext<S>, 'trainBatchSize' | 'gradients' | 'parameters' | 'warn'>>;
}

const PHASE_EVENTS: readonly StrategyEvent[] = ['before_forward', 'after_forward', 'before_backward', 'after_backward', 'before_update', 'after_update'];

/** The events a template fires, given how it runs a step. */
export function templateEvents(steps: 'fused' | 'phased'): StrategyEvent[] {
  return STRATEGY_EVENTS.filter((e) => steps === 'phased' || !PHASE_EVENTS.includes(e));
}

/**
 * Runs experiences through the strategy plugins. Events (Avalanche order):
 *   train: before_training; per experience: before_training_exp; per epoch: before_training_epoch; per batch:
 *          before_training_iteration, [before_forward, after_forward, before_backward, after_backward,
 *          before_update, after_update,] after_training_iteration; after_training_epoch; after_training_exp;
 *          after_training
 *   eval:  before_eval; per experience: before_eval_exp; per batch: before_eval_iteration, after_eval_iteration;
 *          after_eval_exp; after_eval
 * `ctx.extraLoss` is emptied before every before_training_iteration. `trainExpCounter` counts finished training
 * experiences (incremented after after_training_exp).
 */
export class StrategyTemplate<S extends Sample = Sample> {
  readonly steps: 'fused' | 'phased';
  readonly firedEvents: readonly StrategyEvent[];
  /** Plugins implementing events this template never fires (reported at construction through `context.warn`). */
  readonly warnings: readonly string[];
  private trainExpCounter = 0;

  constructor(
    readonly plugins: readonly StrategyPlugin<S>[],
    private readonly options: TemplateOptions<S> = {},
  ) {
    this.steps = options.steps ?? 'fused';
    this.firedEvents = templateEvents(this.steps);
    this.warnings = plugins.map((p) => checkPluginEvents(p, this.firedEvents)).filter((w): w is string => w !== null);
    for (const w of this.warnings) options.context?.warn?.(w);
  }

  private context(mode: 'train' | 'eval'): StrategyContext<S> {
    return { ...this.options.context, mode, trainExpCounter: this.trainExpCounter, epoch: 0, iteration: 0, extraLoss: [] };
  }

  async train(experiences: Iterable<Experience<S>>, loop: TrainLoop<S>): Promise<void> {
    if (this.steps === 'fused' ? !loop.step : !(loop.forward && loop.backward && loop.update)) {
      throw new TypeError(this.steps === 'fused' ? 'a fused training loop needs step()' : 'a phased training loop needs forward(), backward() and update()');
    }
    const ctx = this.context('train');
    const fire = (e: StrategyEvent) => fireEvent(this.plugins, e, ctx);
    await fire('before_training');
    for (const experience of experiences) {
      ctx.experience = experience;
      ctx.trainExpCounter = this.trainExpCounter;
      ctx.epoch = 0;
      ctx.iteration = 0;
      await fire('before_training_exp');
      for (let epoch = 0; epoch < (loop.epochs ?? 1); epoch++) {
        ctx.epoch = epoch;
        ctx.iteration = 0;
        await fire('before_training_epoch');
        for await (const batch of loop.batches(experience, epoch)) {
          ctx.batch = batch;
          ctx.extraLoss = [];
          ctx.loss = undefined;
          await fire('before_training_iteration');
          if (this.steps === 'fused') await loop.step!(ctx);
          else {
            await fire('before_forward');
            await loop.forward!(ctx);
            await fire('after_forward');
            await fire('before_backward');
            await loop.backward!(ctx);
            await fire('after_backward');
            await fire('before_update');
            await loop.update!(ctx);
            await fire('after_update');
          }
          await fire('after_training_iteration');
          ctx.iteration++;
        }
        ctx.batch = undefined;
        await fire('after_training_epoch');
      }
      await fire('after_training_exp');
      this.trainExpCounter++;
    }
    ctx.experience = undefined;
    ctx.trainExpCounter = this.trainExpCounter;
    await fire('after_training');
  }

  async eval(experiences: Iterable<Experience<S>>, loop: EvalLoop<S>): Promise<void> {
    const ctx = this.context('eval');
    const fire = (e: StrategyEvent) => fireEvent(this.plugins, e, ctx);
    await fire('before_eval');
    for (const experience of experiences) {
      ctx.experience = experience;
      ctx.iteration = 0;
      await fire('before_eval_exp');
      for await (const batch of loop.batches(experience)) {
        ctx.batch = batch;
        await fire('before_eval_iteration');
        await loop.predict(ctx);
        await fire('after_eval_iteration');
        ctx.iteration++;
      }
      ctx.batch = undefined;
      await fire('after_eval_exp');
    }
    ctx.experience = undefined;
    await fire('after_eval');
  }
}

/** Mini-batches of an experience's items in order (a plain loader for tests and simple tasks). */
export function* itemBatches<S extends Sample>(items: readonly S[], batchSize: number): Generator<Batch<S>> {
  for (let i = 0; i < items.length; i += batchSize) {
    const rows = items.slice(i, i + batchSize);
    yield {
      inputs: rows.map((s) => s.input),
      targets: rows.map((s) => s.target),
      indices: rows.map((s, k) => s.index ?? i + k),
      memory: 0,
    };
  }
}
