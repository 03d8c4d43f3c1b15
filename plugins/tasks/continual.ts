import { join } from 'node:path';
import { Config } from '../../core/config/config.ts';
import { VidraError } from '../../core/config/errors.ts';
import { ForwardRunner } from '../../core/engine/forward.ts';
import { saveCheckpoint } from '../../core/engine/safetensors.ts';
import { SampleGradients } from '../../core/engine/sample-gradients.ts';
import { TrainStepRunner, type FoldedPenalty } from '../../core/engine/train-step.ts';
import { writeFileAtomic } from '../../core/run/atomic.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import type { JobContext, Task } from '../../core/plugins/interfaces.ts';
import { definePlugin, type PluginRegistry } from '../../core/plugins/registry.ts';
import { CONFIG, JOB_CONTEXT, PLUGIN_CONFIG, REGISTRY } from '../../core/plugins/tokens.ts';
import type { Dataset, DatasetSource } from '../datasets/dataset.ts';
import type { ExtraLoss, QuadraticPenalty, Strategy, StrategyContext } from '../strategies/events.ts';
import { foldPenalty } from '../strategies/fold-penalty.ts';
import { itemBatches, StrategyTemplate } from '../strategies/template.ts';
import { concatTyped } from './arrays.ts';
import { taskCallbacks } from './callback-nodes.ts';
import { checkFit } from './fit-check.ts';
import { pluginAt } from './plugin-nodes.ts';
import { pretrainPopulation } from './population.ts';
import { Progress } from './progress.ts';
import { engineOptions, jobSeed, metricsLog, runnerOptions, trainingPlugins } from './setup.ts';
import { checkStreamMetrics, StreamScoring } from './stream-scoring.ts';
import { targetLayout } from './targets.ts';
import { readUserStreams, streamExperiences, userRanges, type StreamSample } from './user-streams.ts';

interface ContinualOptions {
  stream_split: string;
  pretrain_split: string | null;
  pretrain_epochs: number;
  pretrain_batch_size: number;
  batch_size: number;
  experience: 'user' | 'batch';
  reset_per_user: boolean;
  evaluate_streams: boolean;
  target: string[];
  metrics: string[];
  log_every: number;
  nodes: { data: string; model: string; loss: string; optimizer: string; scheduler: string | null; strategy: string; callbacks: string | null };
}

/**
 * Continual learning on user streams (EgoAdapt, De Lange et al. 2023; Avalanche's training template): an optional
 * population model is pre-trained on `pretrain_split`, then the users of `stream_split` are streamed one after the
 * other, each user's samples in chronological order (the dataset's user ranges), in online mini-batches of
 * `batch_size`. Every mini-batch is first PREDICTED by the current model (online metrics: EgoAdapt `online_user`,
 * with OAG against the population model), then TRAINED on, through the strategy's plugins (`strategy` node:
 * finetune, replay — memory rows appended to the step's batch —, ewc — its penalty folded into the step graph).
 * An experience is a user (`experience: user`) or one mini-batch (`batch`, online continual learning).
 * `evaluate_streams`: before training and after each user, every user's stream is evaluated, giving the accuracy
 * matrix of the `continual` metric (stream accuracy, forgetting, BWT, forward transfer, min-ACC / WC-ACC).
 * `reset_per_user`: each user starts from the population model with a fresh optimizer and strategy (user
 * adaptation; no cross-user matrix then). Writes metrics.jsonl (steps, evaluations), metrics.json and the final
 * model as checkpoints/last.safetensors (weights) with last.optim.safetensors. Fires the callback events
 * (plugins/callbacks/events.ts; an experience is a user) at the callbacks of `nodes.callbacks`.
 */
@injectable()
export class ContinualTask implements Task {
  constructor(
    @inject(PLUGIN_CONFIG) private readonly options: ContinualOptions,
    @inject(JOB_CONTEXT) private readonly job: JobContext,
    @inject(CONFIG) private readonly config: Config,
    @inject(REGISTRY) private readonly registry: PluginRegistry,
  ) {}

  async run(): Promise<Record<string, unknown>> {
    const o = this.options;
    const source = pluginAt<DatasetSource>(this.config, this.registry, 'continual', o.nodes.data, 'dataset');
    const stream = await source.load(o.stream_split);
    let pretrain: Dataset | null = null;
    try {
      pretrain = o.pretrain_split ? await source.load(o.pretrain_split) : null;
      for (const d of [stream, pretrain]) for (const s of d?.skipped ?? []) this.job.log.warn(`skipped ${s.count} samples: ${s.reason} (e.g. ${s.examples.join(', ')})`);
      return await this.runOn(stream, pretrain);
    } finally {
      stream.close();
      pretrain?.close();
    }
  }

  private async runOn(stream: Dataset, pretrain: Dataset | null): Promise<Record<string, unknown>> {
    const o = this.options;
    const { log } = this.job;
    const seed = jobSeed(this.config);
    const engine = engineOptions(this.config);
    const { model, loss, optimizer, lrAt } = trainingPlugins(this.config, this.registry, 'continual', o.nodes);
    if (loss.targetKind !== 'index_columns') {
      throw new VidraError(`the continual task trains class-index targets as columns: use a multi-head model with loss multi_ce (the loss at '${o.nodes.loss}' takes ${loss.targetKind} targets)`);
    }
    if (model.inputs().length !== 1) throw new VidraError('the continual task streams one feature vector per sample: the model must have one input');
    const users = userRanges(stream, o.stream_split);
    const layout = targetLayout(o.target, stream.getBatch([users[0]!.start]), model.sections?.() ?? []);
    checkStreamMetrics(o.metrics, layout);

    const runner = await TrainStepRunner.create({ model, loss, optimizer, batchSize: o.batch_size, dtype: 'float32', quadraticPenalty: true }, runnerOptions(seed, engine, (l) => log.warn(l)));
    this.job.record('engine', { provider: runner.provider, device: engine.device ?? 'auto', steps_per_run: 1 });
    const device = runner.provider;
    const forward = await ForwardRunner.create(model, runner.compiled.params, o.batch_size, { device, threads: engine.threads });
    const sampleGradients = await SampleGradients.create(model, loss, runner.compiled.params, { device, threads: engine.threads });
    const inputName = model.inputs()[0]!.name;

    const metrics = metricsLog(this.job);
    const emit = (record: Record<string, unknown>) => metrics.write(record);
    const callbacks = taskCallbacks(this.config, this.registry, 'continual', o.nodes.callbacks, this.job);
    const parameters = () => runner.parameters();
    await callbacks.fire('before_training', { step: 0, parameters });

    // 1. The population model.
    if (pretrain) {
      await pretrainPopulation(await runner.withBatchSize(o.pretrain_batch_size), pretrain, this.registry, this.job, {
        split: o.pretrain_split!,
        epochs: o.pretrain_epochs,
        batchSize: o.pretrain_batch_size,
        seed,
        inputName,
        layout,
        lrAt,
        logEvery: o.log_every,
        onEpoch: (epoch, step, loss) => emit({ phase: 'pretrain', epoch, step, loss }),
      });
    }
    const population = runner.parameters();
    const populationData = Object.fromEntries(Object.entries(population).map(([k, v]) => [k, v.data]));
    runner.reset(populationData);

    // 2. The user streams, each predicted then trained on, batch by batch.
    const streams = readUserStreams(stream, users, inputName, layout);
    const scoring = new StreamScoring(forward, inputName, layout, population, this.registry, {
      metrics: o.metrics,
      evaluateStreams: o.evaluate_streams && !o.reset_per_user,
    });
    const evaluateStreams = async (template: StrategyTemplate<StreamSample>, trainedUser: number) => {
      if (!scoring.evaluatesStreams) return;
      const values = await scoring.evaluate(template, streams, runner.parameters(), trainedUser);
      emit({ phase: 'eval', after_user: trainedUser === -1 ? null : streams[trainedUser]!.id, ...values, ...scoring.accuracyRows() });
      await callbacks.fire('after_eval', { step: streamSteps, values, split: o.stream_split, parameters });
      log.info(`streams after ${trainedUser === -1 ? 'no training' : `user ${streams[trainedUser]!.id}`}: ${fmt(values)}`);
    };

    const totalSteps = streams.reduce((n, s) => n + Math.ceil(s.samples.length / o.batch_size), 0);
    const progress = new Progress(totalSteps, log, o.log_every);
    let streamSteps = 0;
    // A strategy's penalty object changes only between experiences: fold each one once.
    const folds = new WeakMap<ExtraLoss, FoldedPenalty>();
    const shapes = Object.fromEntries(runner.compiled.params.map((p) => [p.name, p.shape.reduce((a, b) => a * b, 1)]));
    const theta = () => Object.fromEntries(Object.entries(runner.parameters()).map(([k, v]) => [k, v.data]));
    const newTemplate = () => {
      const strategy = pluginAt<Strategy<StreamSample>>(this.config, this.registry, 'continual', o.nodes.strategy, 'strategy');
      return new StrategyTemplate<StreamSample>(strategy.plugins, {
        context: {
          trainBatchSize: o.batch_size,
          warn: (m) => log.warn(m),
          parameters: theta,
          gradients: (items) => sampleGradients.compute(theta(), items.map((s) => ({ inputs: { [inputName]: s.input }, target: s.target }))),
        },
      });
    };
    let template = newTemplate();
    await evaluateStreams(template, -1);

    const step = async (ctx: StrategyContext<StreamSample>) => {
      if (this.job.signal.aborted) throw new VidraError('interrupted');
      const batch = ctx.batch!;
      const current = batch.inputs.length - batch.memory;
      const user = ctx.experience!.user!;
      // Predict, then update: the prediction the user would have had from the model so far.
      await scoring.observe(user, batch.inputs.slice(0, current), batch.targets, () => runner.parameters());
      const r = await runner.withBatchSize(batch.inputs.length);
      const [value] = await r.run({
        inputs: { [inputName]: concatTyped(batch.inputs, (n) => new Float32Array(n)) },
        targets: BigInt64Array.from(batch.targets.flat(), (v) => BigInt(v)),
        lrs: [lrAt(r.step + 1)],
        penalty: this.penaltyOf(ctx.extraLoss, shapes, folds),
      });
      ctx.loss = value;
      streamSteps++;
      if (streamSteps % o.log_every === 0 || streamSteps === totalSteps) emit({ phase: 'stream', step: streamSteps, user, loss: value, memory: batch.memory, ...scoring.userOnline(user) });
      progress.tick(streamSteps, value!);
      await callbacks.fire('after_training_iteration', { step: streamSteps, experience: user, loss: value, lr: lrAt(r.step), parameters });
    };

    for (const [u, s] of streams.entries()) {
      if (o.reset_per_user && u > 0) {
        runner.reset(populationData);
        template = newTemplate();
      }
      await template.train(streamExperiences(s, u, o.experience, o.batch_size), { batches: (exp) => itemBatches(exp.items, o.batch_size), step });
      await callbacks.fire('after_training_exp', { step: streamSteps, experience: s.id, parameters });
      await evaluateStreams(template, u);
    }
    progress.done();

    const final: Record<string, number | string | null> = { steps: streamSteps, users: streams.length, ...scoring.results() };
    log.info(`final: ${fmt(final)}`);
    // The model after the last user (with reset_per_user: adapted to the last user), for task=evaluate.
    saveCheckpoint(join(this.job.outputDir, 'checkpoints'), {
      params: runner.parameters(),
      optimizerState: runner.optimizerState(),
      step: runner.step,
      optimizer: o.nodes.optimizer,
      extra: { users: streams.map((s) => s.id) },
    });
    writeFileAtomic(join(this.job.outputDir, 'metrics.json'), `${JSON.stringify(final, null, 2)}\n`);
    await callbacks.fire('after_training', { step: streamSteps, parameters });
    return final;
  }

  /** The strategy's extra losses as the step's penalty input, folded once per penalty object. */
  private penaltyOf(extra: readonly ExtraLoss[], shapes: Record<string, number>, folds: WeakMap<ExtraLoss, FoldedPenalty>): FoldedPenalty | undefined {
    if (extra.length === 0) return undefined;
    if (extra.length > 1 || extra[0]!.kind !== 'quadratic') {
      throw new VidraError(`the continual task adds one quadratic penalty to its training graph; the strategy asked for ${extra.map((e) => `${e.name} (${e.kind})`).join(', ')}`);
    }
    let folded = folds.get(extra[0]!);
    if (!folded) folds.set(extra[0]!, (folded = foldPenalty(extra[0] as QuadraticPenalty, shapes)));
    return folded;
  }
}

function fmt(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : v}`)
    .join(' ');
}

export const plugin = definePlugin({
  kind: 'task',
  name: 'continual',
  description: 'continual learning on user streams: population pre-training, predict-then-update per online batch, strategies, online and continual metrics',
  schema: {
    type: 'object',
    properties: {
      stream_split: { type: 'string', default: 'test', description: 'the split whose users are streamed' },
      pretrain_split: { type: ['string', 'null'], default: 'pretrain', description: 'the population model’s training split (null: start from the initial weights)' },
      pretrain_epochs: { type: 'integer', minimum: 0, default: 2 },
      pretrain_batch_size: { type: 'integer', minimum: 1, default: 32 },
      batch_size: { type: 'integer', minimum: 1, default: 4, description: 'online mini-batch size (a user’s last batch may be smaller)' },
      experience: { enum: ['user', 'batch'], default: 'user', description: 'what a strategy sees as an experience: a user’s stream, or each online mini-batch' },
      reset_per_user: { type: 'boolean', default: false, description: 'each user starts from the population model (user adaptation)' },
      evaluate_streams: { type: 'boolean', default: true, description: 'evaluate every user’s stream before training and after each user (the continual metrics)' },
      target: { type: 'array', items: { type: 'string' }, minItems: 1, default: ['verb', 'noun'], description: 'the dataset targets, in the order of the model’s heads' },
      metrics: { type: 'array', items: { enum: ['online_user', 'continual'] }, default: ['online_user', 'continual'] },
      log_every: { type: 'integer', minimum: 1, default: 10 },
      nodes: {
        type: 'object',
        properties: {
          data: { type: 'string', default: 'data' },
          model: { type: 'string', default: 'model.head' },
          loss: { type: 'string', default: 'loss' },
          optimizer: { type: 'string', default: 'optim' },
          scheduler: { type: ['string', 'null'], default: 'scheduler' },
          strategy: { type: 'string', default: 'strategy' },
          callbacks: { type: ['string', 'null'], default: 'callbacks', description: 'a map of callback nodes (the callbacks group); absent: none' },
        },
        additionalProperties: false,
        default: {},
      },
    },
    additionalProperties: false,
  },
  create: ContinualTask,
  check: checkFit,
});
