import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Config } from '../../core/config/config.ts';
import { VidraError } from '../../core/config/errors.ts';
import { ForwardRunner } from '../../core/engine/forward.ts';
import type { LossModule, ModelModule, OptimizerModule, ScheduleModule } from '../../core/engine/modules.ts';
import { saveCheckpoint } from '../../core/engine/safetensors.ts';
import { SampleGradients } from '../../core/engine/sample-gradients.ts';
import type { Device, GraphOptimization } from '../../core/engine/session.ts';
import { TrainStepRunner, type FoldedPenalty } from '../../core/engine/train-step.ts';
import { writeFileAtomic } from '../../core/run/atomic.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import type { JobContext, Task } from '../../core/plugins/interfaces.ts';
import { definePlugin, type PluginRegistry } from '../../core/plugins/registry.ts';
import { CONFIG, JOB_CONTEXT, PLUGIN_CONFIG, REGISTRY } from '../../core/plugins/tokens.ts';
import type { Dataset, DatasetSource } from '../datasets/dataset.ts';
import type { ContinualMetric } from '../metrics/continual.ts';
import type { OnlineUserMetric } from '../metrics/online.ts';
import type { IndexSampler } from '../samplers/sampler.ts';
import type { Experience, ExtraLoss, QuadraticPenalty, Sample, Strategy, StrategyContext } from '../strategies/events.ts';
import { foldPenalty } from '../strategies/fold-penalty.ts';
import { itemBatches, StrategyTemplate } from '../strategies/template.ts';
import { concatTyped } from './arrays.ts';
import { pickInput } from './evaluation.ts';
import { pluginAt, pluginNamed } from './plugin-nodes.ts';
import { Progress } from './progress.ts';
import { crossEntropy, sectionScores, targetColumns, targetLayout, type TargetColumns } from './targets.ts';

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
  nodes: { data: string; model: string; loss: string; optimizer: string; scheduler: string | null; strategy: string };
}

type EngineOptions = { device?: Device; threads?: number; graph_optimization?: GraphOptimization };

/** A stream sample: its features, its target columns, its dataset index and its user. */
interface StreamSample extends Sample<Float32Array, number[]> {
  index: number;
  user: string;
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
 * model as checkpoints/checkpoint.safetensors.
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
    const seed = Number(this.config.select('seed', { default: 0 }));
    const engine = (this.config.select('engine', { default: {} }) ?? {}) as EngineOptions;
    const model = pluginAt<ModelModule>(this.config, this.registry, 'continual', o.nodes.model, 'model');
    const loss = pluginAt<LossModule>(this.config, this.registry, 'continual', o.nodes.loss, 'loss');
    const optimizer = pluginAt<OptimizerModule>(this.config, this.registry, 'continual', o.nodes.optimizer, 'optimizer');
    const schedule = o.nodes.scheduler && this.config.has(o.nodes.scheduler) ? pluginAt<ScheduleModule>(this.config, this.registry, 'continual', o.nodes.scheduler, 'scheduler') : null;
    const baseLr = Number(this.config.get(`${o.nodes.optimizer}.lr`));
    if (loss.targetKind !== 'index_columns') {
      throw new VidraError(`the continual task trains class-index targets as columns: use a multi-head model with loss multi_ce (the loss at '${o.nodes.loss}' takes ${loss.targetKind} targets)`);
    }
    if (model.inputs().length !== 1) throw new VidraError('the continual task streams one feature vector per sample: the model must have one input');
    const users = stream.users;
    if (!users?.length) throw new VidraError(`the continual task streams users: the '${o.stream_split}' split has no user streams (an ego4d_features dataset in user_stream mode has)`);
    const empty = users.find((u) => u.end <= u.start);
    if (empty) throw new VidraError(`the user ${empty.id} of the '${o.stream_split}' split has an empty stream`);
    const layout = targetLayout(o.target, stream.getBatch([users[0]!.start]), model.sections?.() ?? []);
    this.checkMetrics(layout);

    const runner = await TrainStepRunner.create(
      { model, loss, optimizer, batchSize: o.batch_size, dtype: 'float32', quadraticPenalty: true },
      { seed, device: engine.device, threads: engine.threads, graphOptimization: engine.graph_optimization, notice: (l) => log.warn(l) },
    );
    this.job.record('engine', { provider: runner.provider, device: engine.device ?? 'auto', steps_per_run: 1 });
    const device = runner.provider;
    const forward = await ForwardRunner.create(model, runner.compiled.params, o.batch_size, { device, threads: engine.threads });
    const sampleGradients = await SampleGradients.create(model, loss, runner.compiled.params, { device, threads: engine.threads });
    const inputName = model.inputs()[0]!.name;

    const metricsFile = join(this.job.outputDir, 'metrics.jsonl');
    const emit = (record: Record<string, unknown>) => appendFileSync(metricsFile, `${JSON.stringify({ ...record, time: new Date().toISOString() })}\n`);
    const lrAt = (step: number) => baseLr * (schedule ? schedule.factor(step) : 1);

    // 1. The population model.
    if (pretrain) {
      const pre = await runner.withBatchSize(o.pretrain_batch_size);
      const sampler = pluginNamed<{ bind(d: { size: number }): IndexSampler }>(this.registry, 'sampler', 'random', { seed, batch_size: o.pretrain_batch_size, drop_last: true }).bind({
        size: pretrain.length,
      });
      if (sampler.numBatches === 0) throw new VidraError(`task.pretrain_batch_size=${o.pretrain_batch_size} is larger than the '${o.pretrain_split}' split (${pretrain.length} samples)`);
      const progress = new Progress(o.pretrain_epochs * sampler.numBatches, log, o.log_every);
      for (let epoch = 0; epoch < o.pretrain_epochs; epoch++) {
        let last = 0;
        for (const idx of sampler.batches(epoch)) {
          if (this.job.signal.aborted) throw new VidraError('interrupted');
          const b = pretrain.getBatch(idx);
          [last] = await pre.run({ inputs: { [inputName]: pickInput(b, inputName, 1).data }, targets: targetColumns(b, layout), lrs: [lrAt(pre.step + 1)] });
          progress.tick(pre.step, last!);
        }
        emit({ phase: 'pretrain', epoch, step: pre.step, loss: last });
      }
      progress.done();
      log.info(`population model: ${pre.step} steps on '${o.pretrain_split}' (${pretrain.length} samples)`);
    }
    const population = runner.parameters();
    const populationData = Object.fromEntries(Object.entries(population).map(([k, v]) => [k, v.data]));
    runner.reset(populationData);

    // 2. The user streams.
    const samplesOf = (u: { id: string; start: number; end: number }): StreamSample[] => {
      const idx = Array.from({ length: u.end - u.start }, (_, i) => u.start + i);
      const b = stream.getBatch(idx);
      const x = pickInput(b, inputName, 1);
      const dim = x.data.length / b.size;
      const cols = targetColumns(b, layout);
      const T = cols.length / b.size;
      return idx.map((index, r) => ({
        index,
        user: u.id,
        input: x.data.slice(r * dim, (r + 1) * dim),
        target: Array.from(cols.subarray(r * T, (r + 1) * T), Number),
      }));
    };
    const streams = users.map((u) => ({ id: u.id, samples: samplesOf(u) }));
    const online = o.metrics.includes('online_user') ? pluginNamed<OnlineUserMetric>(this.registry, 'metric', 'online_user', {}) : null;
    // online_user's targets (checkMetrics made sure both exist when it is asked for).
    const verb = layout.find((l) => l.name === 'verb')!;
    const noun = layout.find((l) => l.name === 'noun')!;
    const continual = o.evaluate_streams && !o.reset_per_user && o.metrics.includes('continual') ? layout.map(() => pluginNamed<ContinualMetric>(this.registry, 'metric', 'continual', {})) : null;

    const predict = async (params: Record<string, { data: Float32Array | Float64Array }>, rows: readonly Float32Array[]) => {
      const dim = rows[0]!.length;
      const x = new Float32Array(forward.batchSize * dim);
      rows.forEach((r, i) => x.set(r, i * dim));
      const { logits } = await forward.run(params, { [inputName]: x });
      return { logits, width: logits.length / forward.batchSize };
    };
    const evaluateStreams = async (template: StrategyTemplate<StreamSample>, trainedUser: number) => {
      if (!continual) return;
      const params = runner.parameters();
      await template.eval(
        streams.map((s, j) => ({ id: j, user: s.id, items: s.samples })),
        {
          batches: (exp) => itemBatches(exp.items, forward.batchSize),
          predict: async (ctx) => {
            const { logits, width } = await predict(params, ctx.batch!.inputs);
            layout.forEach((l, t) =>
              continual[t]!.update({
                scores: ctx.batch!.inputs.map((_, r) => sectionScores(logits, width, r, l.sections[0]!)),
                labels: ctx.batch!.targets.map((y) => y[l.column]!),
                experience: ctx.experience!.id,
                trainedExperience: trainedUser,
              }),
            );
          },
        },
      );
      const values = this.continualValues(continual, layout);
      emit({ phase: 'eval', after_user: trainedUser === -1 ? null : streams[trainedUser]!.id, ...values });
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
      if (online) {
        const rows = batch.inputs.slice(0, current);
        const now = await predict(runner.parameters(), rows);
        const pop = await predict(population, rows);
        const scoresOf = (p: { logits: Float32Array; width: number }, r: number, l: TargetColumns) => sectionScores(p.logits, p.width, r, l.sections[0]!);
        const lossOf = (p: { logits: Float32Array; width: number }, r: number) => layout.reduce((s, l) => s + crossEntropy(scoresOf(p, r, l), batch.targets[r]![l.column]!), 0);
        online.update({
          users: user,
          verbScores: rows.map((_, r) => scoresOf(now, r, verb)),
          nounScores: rows.map((_, r) => scoresOf(now, r, noun)),
          verbLabels: rows.map((_, r) => batch.targets[r]![verb.column]!),
          nounLabels: rows.map((_, r) => batch.targets[r]![noun.column]!),
          populationLosses: rows.map((_, r) => lossOf(pop, r)),
          losses: rows.map((_, r) => lossOf(now, r)),
        });
      }
      const r = await runner.withBatchSize(batch.inputs.length);
      const penalty = this.penaltyOf(ctx.extraLoss, shapes, folds);
      const [value] = await r.run({
        inputs: { [inputName]: concatTyped(batch.inputs, (n) => new Float32Array(n)) },
        targets: BigInt64Array.from(batch.targets.flat(), (v) => BigInt(v)),
        lrs: [lrAt(r.step + 1)],
        penalty,
      });
      ctx.loss = value;
      streamSteps++;
      if (streamSteps % o.log_every === 0 || streamSteps === totalSteps) emit({ phase: 'stream', step: streamSteps, user, loss: value, memory: batch.memory });
      progress.tick(streamSteps, value!);
    };

    for (const [u, s] of streams.entries()) {
      if (o.reset_per_user && u > 0) {
        runner.reset(populationData);
        template = newTemplate();
      }
      const experiences: Experience<StreamSample>[] =
        o.experience === 'user'
          ? [{ id: u, user: s.id, items: s.samples }]
          : Array.from({ length: Math.ceil(s.samples.length / o.batch_size) }, (_, k) => ({
              id: k,
              user: s.id,
              items: s.samples.slice(k * o.batch_size, (k + 1) * o.batch_size),
              online: true,
            }));
      await template.train(experiences, {
        batches: (exp) => itemBatches(exp.items, o.batch_size),
        step,
      });
      if (!o.reset_per_user) await evaluateStreams(template, u);
    }
    progress.done();

    const final: Record<string, number | string | null> = { steps: streamSteps, users: streams.length };
    if (online) for (const [k, v] of Object.entries(online.compute())) final[`online/${k}`] = v;
    if (continual) Object.assign(final, this.continualValues(continual, layout));
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
    return final;
  }

  /** The metrics this task computes need their targets: online_user scores a verb and a noun. */
  private checkMetrics(layout: readonly TargetColumns[]): void {
    for (const m of this.options.metrics) {
      if (m === 'online_user') {
        if (layout.length !== 2 || layout.some((l) => l.width !== 1) || !['verb', 'noun'].every((n) => layout.some((l) => l.name === n))) {
          throw new VidraError(`task.metrics: online_user scores a verb and a noun per sample: set task.target to [verb, noun] (got [${layout.map((l) => l.name).join(', ')}])`);
        }
      } else if (m !== 'continual') {
        throw new VidraError(`task.metrics: the continual task computes online_user and continual, not '${m}'`);
      }
    }
  }

  private continualValues(metrics: readonly ContinualMetric[], layout: readonly TargetColumns[]): Record<string, number> {
    const out: Record<string, number> = {};
    metrics.forEach((m, t) => {
      for (const [k, v] of Object.entries(m.compute())) out[`continual/${layout[t]!.name}/${k}`] = v;
    });
    return out;
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
        },
        additionalProperties: false,
        default: {},
      },
    },
    additionalProperties: false,
  },
  create: ContinualTask,
});
