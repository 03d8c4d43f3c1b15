import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Config } from '../../core/config/config.ts';
import { VidraError } from '../../core/config/errors.ts';
import { trainSteps } from '../../core/config/resolvers.ts';
import { ForwardRunner } from '../../core/engine/forward.ts';
import type { LossModule, ModelModule } from '../../core/engine/modules.ts';
import { LAST_CHECKPOINT, loadCheckpoint, saveCheckpoint, weightsFile } from '../../core/engine/safetensors.ts';
import { NonFiniteLossError, TrainStepRunner } from '../../core/engine/train-step.ts';
import { writeFileAtomic } from '../../core/run/atomic.ts';
import { watchPreemption } from '../../core/run/preemption.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import type { JobContext, Task } from '../../core/plugins/interfaces.ts';
import { definePlugin, type PluginRegistry } from '../../core/plugins/registry.ts';
import { CONFIG, JOB_CONTEXT, PLUGIN_CONFIG, REGISTRY } from '../../core/plugins/tokens.ts';
import { pickInput, type Dataset, type DatasetBatch, type DatasetSource, type IndexSampler } from './evaluation.ts';
import { batchReader, type BatchReader } from '../datasets/prefetch.ts';
import { concatTyped } from './arrays.ts';
import { scoreModel, targetPlan, type TargetPlan } from './scoring.ts';
import { CHECKPOINT_SCHEMA, type CheckpointOptions } from '../callbacks/checkpoint.ts';
import { TASK_EVENTS, type Callback } from '../callbacks/events.ts';
import { taskCallbacks } from './callback-nodes.ts';
import { checkCheckpointFits } from './checkpoint-fit.ts';
import { loadFeatures } from './backbone-data.ts';
import { checkFit, checkLoadedFit } from './fit-check.ts';
import { pluginAt, pluginNamed } from './plugin-nodes.ts';
import { splitLabels, trainSampler } from './sampler-node.ts';
import { Progress } from './progress.ts';
import { engineOptions, jobSeed, metricsLog, runnerOptions, trainingPlugins, type EngineOptions } from './setup.ts';
import { targetColumns } from './targets.ts';

interface TrainOptions {
  epochs: number;
  max_steps: number | null;
  batch_size: number;
  eval_batch_size: number;
  eval_every: number;
  checkpoint: CheckpointOptions;
  resume: string | null;
  log_every: number;
  prefetch: number;
  train_split: string;
  eval_split: string | null;
  target: string | string[];
  metrics: string[];
  forecast_samples: number;
  nodes: { data: string; model: string; loss: string; optimizer: string; scheduler: string | null; callbacks: string | null; sampler: string | null };
}

/**
 * Trains a model head on precomputed features: the dataset, model, loss, optimizer and schedule are the
 * plugin nodes named in `nodes`; every optimizer step is one compiled ONNX graph (core/engine/train-step.ts).
 * Writes `metrics.jsonl` (one line per logged step and per evaluation), `metrics.json` (the final values), and
 * checkpoints through the `checkpoint` callback built from `checkpoint` (`checkpoints/last.safetensors` and
 * `last.optim.safetensors`, `best`, `epoch_<N>`); `resume: <run dir>` continues from its `last` bit-exactly. Fires
 * the callback events (plugins/callbacks/events.ts) at the callbacks of `nodes.callbacks`. Same config and seed →
 * identical metrics (apart from the `time` field).
 */
@injectable()
export class TrainTask implements Task {
  constructor(
    @inject(PLUGIN_CONFIG) private readonly options: TrainOptions,
    @inject(JOB_CONTEXT) private readonly job: JobContext,
    @inject(CONFIG) private readonly config: Config,
    @inject(REGISTRY) private readonly registry: PluginRegistry,
  ) {}

  async run(): Promise<Record<string, unknown>> {
    const o = this.options;
    const { log } = this.job;
    const seed = jobSeed(this.config);
    const engine = engineOptions(this.config);
    this.engineThreads = engine.threads;
    const source = pluginAt<DatasetSource>(this.config, this.registry, 'train', o.nodes.data, 'dataset');
    // A clip dataset is read through the frozen model.backbone: its features are computed here, in memory.
    const features = { config: this.config, registry: this.registry, task: 'train', dataPath: o.nodes.data, info: (l: string) => log.info(l), signal: this.job.signal };
    const { datasets, fromClips } = await loadFeatures(source, o.eval_split ? [o.train_split, o.eval_split] : [o.train_split], features);
    const train = datasets[0]!;
    const evalSet = datasets[1] ?? null;
    // Features from clips are in memory already: a worker thread would decode the videos again.
    const depth = fromClips ? 0 : o.prefetch;
    for (const d of [train, evalSet]) for (const s of d?.skipped ?? []) log.warn(`skipped ${s.count} samples: ${s.reason} (e.g. ${s.examples.join(', ')})`);
    // Batches are read in worker threads, started now to load the splits while the step compiles.
    const readerOf = (split: string, d: Dataset) => batchReader(d, { depth, config: this.config, path: o.nodes.data, split, registry: this.registry, signal: this.job.signal, notice: (l) => log.warn(l) });
    const reader = readerOf(o.train_split, train);
    this.evalReader = o.eval_split && evalSet && o.metrics.length > 0 ? readerOf(o.eval_split, evalSet) : undefined;
    // Datasets hold open HDF5 files: close them whatever happens (a sweep on the local launcher runs jobs in one process).
    try {
      return await this.trainOn(train, reader, evalSet, seed, engine);
    } finally {
      await Promise.all([reader.close(), this.evalReader?.close()]);
      train.close();
      evalSet?.close();
    }
  }

  private async trainOn(
    train: Dataset,
    reader: BatchReader<DatasetBatch>,
    evalSet: Dataset | null,
    seed: number,
    engine: EngineOptions,
  ): Promise<Record<string, unknown>> {
    const o = this.options;
    const { log } = this.job;
    const perEpoch = Math.floor(train.length / o.batch_size);
    const run = {
      steps: trainSteps(o.epochs, train.length, o.batch_size, o.max_steps)!,
      samples: train.length,
      explain: `task.epochs=${o.epochs} × ${perEpoch} batches: ${train.length} training samples // task.batch_size=${o.batch_size}${o.max_steps !== null ? `, capped by task.max_steps=${o.max_steps}` : ''}`,
      info: (l: string) => log.info(l),
      warn: (l: string) => log.warn(l),
    };
    const { model, loss, optimizer, lrAt } = trainingPlugins(this.config, this.registry, 'train', o.nodes, run);
    checkLoadedFit(train, o.train_split, model, o.nodes, this.config.select(`${o.nodes.data}.feature_dim`, { default: null }));
    // Contrastive losses (targetKind 'none') pair the model's two outputs and read no target; a multi-head
    // model's loss (index_columns) reads several targets laid out over its logit sections.
    const plan = targetPlan(model, o.target, train, loss.targetKind === 'none');
    const { target, layout, numClasses } = plan;
    if ((loss.targetKind === 'index_columns') !== (layout !== null)) {
      throw new VidraError(
        layout
          ? `the model at '${o.nodes.model}' has several heads; train it with a loss over target columns (loss multi_ce)`
          : `the loss at '${o.nodes.loss}' reads several target columns: it needs a multi-head model (e.g. multi_head)`,
      );
    }
    const wrong = loss.targetKind === 'none' ? o.metrics.filter((m) => m !== 'retrieval') : o.metrics.filter((m) => m === 'retrieval');
    if (evalSet && wrong.length > 0) {
      throw new VidraError(
        loss.targetKind === 'none'
          ? `task.metrics: a contrastive model is evaluated by retrieval between its two embeddings, not by ${wrong.join(', ')} (set task.metrics=[retrieval])`
          : 'task.metrics: retrieval scores the paired embeddings of a contrastive model (a loss such as infonce)',
      );
    }
    const K = engine.steps_per_run ?? 1;

    const sampler = trainSampler(this.config, this.registry, o.nodes.sampler, { seed, batchSize: o.batch_size }, { size: train.length, labels: () => splitLabels((i) => train.getBatch(i), train.length, target) });
    if (sampler.numBatches === 0) throw new VidraError(`task.batch_size=${o.batch_size} is larger than the training split (${train.length} samples)`);
    if (sampler.numBatches % K !== 0) {
      throw new VidraError(`engine.steps_per_run=${K} must divide the ${sampler.numBatches} batches of an epoch (task.batch_size=${o.batch_size})`);
    }
    const runner = await TrainStepRunner.create(
      {
        model,
        loss,
        optimizer,
        batchSize: o.batch_size,
        numClasses: numClasses || undefined,
        classCounts: train.classCounts?.[target],
        dtype: 'float32',
        stepsPerRun: K,
      },
      runnerOptions(seed, engine, (l) => log.warn(l)),
    );
    this.job.record('engine', { provider: runner.provider, device: engine.device ?? 'auto', steps_per_run: K });

    const evaluates = evalSet !== null && o.metrics.length > 0;
    if (o.checkpoint.monitor !== null && !evaluates) {
      throw new VidraError(`task.checkpoint.monitor=${o.checkpoint.monitor}: best.safetensors follows an evaluation value, and this run evaluates nothing (set task.eval_split and task.metrics, or task.checkpoint.monitor=null)`);
    }
    const callbacks = taskCallbacks(this.config, this.registry, 'train', o.nodes.callbacks, this.job, {
      fired: evaluates ? TASK_EVENTS.train : TASK_EVENTS.train.filter((e) => e !== 'after_eval'),
      builtIn: [pluginNamed<Callback>(this.registry, 'callback', 'checkpoint', { ...o.checkpoint })],
    });
    const ckptDir = join(this.job.outputDir, 'checkpoints');
    let startEpoch = 0;
    let startBatch = 0;
    if (o.resume !== null) {
      const from = join(resolve(o.resume), 'checkpoints');
      const lastFile = join(from, weightsFile(LAST_CHECKPOINT));
      if (!existsSync(lastFile)) {
        throw new VidraError(`task.resume: ${lastFile} does not exist (task.resume names the run directory to continue)`);
      }
      const ckpt = loadCheckpoint(from);
      checkCheckpointFits(ckpt.params, runner.compiled.params, { key: 'task.resume', file: lastFile, runDir: resolve(o.resume), modelPath: o.nodes.model, config: this.config });
      runner.restore(
        Object.fromEntries(Object.entries(ckpt.params).map(([k, t]) => [k, t.data as Float32Array])),
        Object.fromEntries(Object.entries(ckpt.optimizerState).map(([k, t]) => [k, t.data as Float32Array])),
        ckpt.step,
      );
      const at = ckpt.extra as { epoch?: number; batch?: number };
      startEpoch = Number(at.epoch ?? 0);
      startBatch = Number(at.batch ?? 0);
      log.info(`resumed from ${from} at step ${ckpt.step} (epoch ${startEpoch}, batch ${startBatch})`);
    }

    const metrics = metricsLog(this.job);
    const emit = (record: Record<string, unknown>) => metrics.write(record);
    const modelInputs = model.inputs();
    const totalSteps = Math.min(o.epochs * sampler.numBatches, o.max_steps ?? Infinity);
    const progress = new Progress(totalSteps, log, o.log_every);
    let last: Record<string, number> = {};
    let dataMs = 0;
    let computeMs = 0;
    // One stream over every epoch left: reading runs ahead through evaluations and checkpoints too.
    const stream = reader.read(orderFrom(sampler, startEpoch, startBatch, o.epochs));
    const firstStep = runner.step;
    const parameters = () => runner.parameters();
    await callbacks.fire('before_training', { step: runner.step, epoch: startEpoch, parameters });

    const preempt = watchPreemption();
    try {
      for (let epoch = startEpoch; epoch < o.epochs && runner.step < totalSteps; epoch++) {
        // The batches themselves come in order from `stream`; here they are only counted.
        const numBatches = sampler.numBatches;
        let b = epoch === startEpoch ? startBatch : 0;
        for (; b < numBatches && runner.step < totalSteps; b += K) {
          if (preempt.requested) {
            // SIGUSR1 (Slurm, before its time limit or a preemption): checkpoint this step, where a requeued run resumes.
            saveCheckpoint(ckptDir, { params: runner.parameters(), optimizerState: runner.optimizerState(), step: runner.step, optimizer: o.nodes.optimizer, extra: { epoch, batch: b } });
            log.info(`SIGUSR1: checkpoint of step ${runner.step} written to checkpoints/${weightsFile(LAST_CHECKPOINT)} (task.resume=${this.job.outputDir} continues from it)`);
            preempt.saved();
          }
          if (this.job.signal.aborted) throw new VidraError('interrupted');
          const t0 = performance.now();
          const count = Math.min(K, numBatches - b);
          const read = await Promise.all(Array.from({ length: count }, () => stream.next()));
          const inputs = Object.fromEntries(modelInputs.map((mi) => [mi.name, concatTyped(read.map((r) => pickInput(r, mi.name, modelInputs.length).data), (n) => new Float32Array(n))]));
          const targets =
            loss.targetKind === 'none'
              ? undefined
              : layout
                ? concatTyped(read.map((r) => targetColumns(r, layout)), (n) => new BigInt64Array(n))
                : targetArray(loss.targetKind, read.map((r) => r.targets[target]!.data));
          const lrs = read.map((_, k) => lrAt(runner.step + k + 1));
          const t1 = performance.now();
          const losses = await runner.run({ inputs, targets, lrs }).catch((err: unknown) => {
            // The diverging run's update was dropped: save the parameters it started from, where resuming continues.
            if (!(err instanceof NonFiniteLossError)) throw err;
            const file = saveCheckpoint(ckptDir, { params: runner.parameters(), optimizerState: runner.optimizerState(), step: runner.step, optimizer: o.nodes.optimizer, extra: { epoch, batch: b } });
            throw new NonFiniteLossError(`${err.message} (the parameters of step ${runner.step}, the last good one, are saved in ${file}; task.resume=${this.job.outputDir} continues from there)`, err.step);
          });
          const t2 = performance.now();
          dataMs += t1 - t0;
          computeMs += t2 - t1;
          for (const [k, l] of losses.entries()) {
            const step = runner.step - K + k + 1;
            if (step % o.log_every === 0 || step === totalSteps) emit({ step, epoch, loss: l, lr: lrs[k] });
            await callbacks.fire('after_training_iteration', { step, epoch, loss: l, lr: lrs[k], parameters });
          }
          progress.tick(runner.step, losses[losses.length - 1]!);
        }
        log.info(`epoch ${epoch}: data ${dataMs.toFixed(0)} ms, compute ${computeMs.toFixed(0)} ms`);
        dataMs = computeMs = 0;
        const isLast = epoch === o.epochs - 1 || runner.step >= totalSteps;
        if (evalSet && o.metrics.length > 0 && ((epoch + 1) % o.eval_every === 0 || isLast)) {
          last = await this.evaluate(model, runner, evalSet, train, plan, seed);
          emit({ step: runner.step, epoch, split: o.eval_split, ...last });
          log.info(`eval after epoch ${epoch}: ${Object.entries(last).map(([k, v]) => `${k}=${v.toFixed(4)}`).join(' ')}`);
          await callbacks.fire('after_eval', { step: runner.step, epoch, values: last, split: o.eval_split, parameters });
        }
        // Where to continue: the next batch of this epoch when max_steps stopped it early, else the next epoch.
        const next = b >= numBatches ? { epoch: epoch + 1, batch: 0 } : { epoch, batch: b };
        const trainingState = () => ({ optimizerState: runner.optimizerState(), optimizer: o.nodes.optimizer, extra: next });
        await callbacks.fire('after_training_epoch', { step: runner.step, epoch, last: isLast || callbacks.stopReason !== null, parameters, trainingState });
        if (callbacks.stopReason !== null) {
          log.info(`stopped after epoch ${epoch}: ${callbacks.stopReason}`);
          emit({ step: runner.step, epoch, stopped: callbacks.stopReason });
          break;
        }
      }
    } finally {
      preempt.dispose();
    }
    progress.done();
    if (runner.step === firstStep && o.resume !== null) {
      // The checkpoint already reached task.epochs / task.max_steps: its model is evaluated, so metrics.json is right.
      const ends = `task.epochs=${o.epochs}${o.max_steps === null ? '' : `, task.max_steps=${o.max_steps}`}`;
      log.warn(`nothing left to train: the checkpoint is at step ${runner.step} (epoch ${startEpoch}, batch ${startBatch}) and this run ends at step ${totalSteps} (${ends}); its model is evaluated as it is`);
      const epoch = startEpoch - (startBatch === 0 ? 1 : 0);
      if (evaluates) {
        last = await this.evaluate(model, runner, evalSet!, train, plan, seed);
        emit({ step: runner.step, epoch, split: o.eval_split, ...last });
        await callbacks.fire('after_eval', { step: runner.step, epoch, values: last, split: o.eval_split, parameters });
      }
      // This run directory gets the checkpoint too, as it is, so that it is complete (task=evaluate, task.resume).
      const trainingState = () => ({ optimizerState: runner.optimizerState(), optimizer: o.nodes.optimizer, extra: { epoch: startEpoch, batch: startBatch } });
      await callbacks.fire('after_training_epoch', { step: runner.step, epoch, last: true, parameters, trainingState });
    }
    await callbacks.fire('after_training', { step: runner.step, parameters });
    const final = { step: runner.step, ...last };
    writeFileAtomic(join(this.job.outputDir, 'metrics.json'), `${JSON.stringify(final, null, 2)}\n`);
    return final;
  }

  private forward?: ForwardRunner;
  private engineThreads?: number;
  private evalReader?: BatchReader<DatasetBatch>;

  private async evaluate(model: ModelModule, runner: TrainStepRunner, data: Dataset, train: Dataset, plan: TargetPlan, seed: number): Promise<Record<string, number>> {
    const o = this.options;
    // The evaluation graph is compiled once per run: it takes the parameters as inputs.
    this.forward ??= await ForwardRunner.create(model, runner.compiled.params, o.eval_batch_size, { device: runner.provider, threads: this.engineThreads });
    return scoreModel({
      forward: this.forward,
      params: runner.parameters(),
      model,
      data,
      train,
      plan,
      metrics: o.metrics,
      registry: this.registry,
      forecastSamples: o.forecast_samples,
      seed,
      reader: this.evalReader,
    });
  }
}

/** The index batches of epochs [epoch, epochs), from batch `batch` of the first (samplers replay an epoch identically). */
function* orderFrom(sampler: IndexSampler, epoch: number, batch: number, epochs: number): Generator<number[]> {
  for (let e = epoch; e < epochs; e++) yield* [...sampler.batches(e)].slice(e === epoch ? batch : 0);
}

function targetArray(kind: LossModule['targetKind'], parts: Array<Float32Array | Int32Array>): Float32Array | BigInt64Array | undefined {
  if (kind === 'none') return undefined;
  if (kind === 'index') return BigInt64Array.from(parts.flatMap((p) => Array.from(p, (v) => BigInt(v))));
  return concatTyped(parts.map((p) => (p instanceof Float32Array ? p : Float32Array.from(p))), (n) => new Float32Array(n));
}

export const plugin = definePlugin({
  kind: 'task',
  name: 'train',
  description: 'train a head on precomputed features (compiled ONNX training steps), evaluate, checkpoint',
  schema: {
    type: 'object',
    properties: {
      epochs: { type: 'integer', minimum: 1, default: 1 },
      max_steps: { type: ['integer', 'null'], minimum: 1, default: null, description: 'stop after this many optimizer steps' },
      total_steps: { type: ['integer', 'null'], minimum: 1, default: null, description: 'derived: the run\'s optimizer steps (${train_steps:...}), read by the schedule' },
      batch_size: { type: 'integer', minimum: 1, default: 32 },
      eval_batch_size: { type: 'integer', minimum: 1, default: 64 },
      eval_every: { type: 'integer', minimum: 1, default: 1, description: 'evaluate every k epochs (and after the last)' },
      checkpoint: { ...CHECKPOINT_SCHEMA, default: {}, description: 'the checkpoint callback: last/best/epoch_<N>.safetensors in checkpoints/' },
      resume: { type: ['string', 'null'], default: null, description: 'a run directory whose checkpoints/ this run continues from (bit-exactly)' },
      log_every: { type: 'integer', minimum: 1, default: 10, description: 'write a metrics.jsonl line every k steps' },
      prefetch: { type: 'integer', minimum: 0, default: 2, description: 'training batches read ahead in a worker thread (0: read in the main thread when needed)' },
      train_split: { type: 'string', default: 'train' },
      eval_split: { type: ['string', 'null'], default: 'val' },
      target: {
        type: ['string', 'array'],
        items: { type: 'string' },
        default: 'labels',
        description: 'the dataset target the loss reads (e.g. labels, verb); a list for a multi-head model (e.g. [verb, noun])',
      },
      metrics: { type: 'array', items: { type: 'string' }, default: ['map'], description: 'metric plugins computed on eval_split' },
      forecast_samples: { type: 'integer', minimum: 1, default: 5, description: 'lta_ed: K sequences sampled per forecast (Ego4D LTA: 5)' },
      nodes: {
        type: 'object',
        properties: {
          data: { type: 'string', default: 'data' },
          model: { type: 'string', default: 'model.head' },
          loss: { type: 'string', default: 'loss' },
          optimizer: { type: 'string', default: 'optim' },
          scheduler: { type: ['string', 'null'], default: 'scheduler' },
          callbacks: { type: ['string', 'null'], default: 'callbacks', description: 'a map of callback nodes (the callbacks group); absent: none' },
          sampler: { type: ['string', 'null'], default: 'sampler', description: 'the index sampler node (the sampler group, e.g. +sampler=class_balanced); absent: random' },
        },
        additionalProperties: false,
        default: {},
        description: 'where the plugin nodes are in the config',
      },
    },
    additionalProperties: false,
  },
  create: TrainTask,
  check: checkFit,
});
