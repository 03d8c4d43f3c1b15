// What `vidra new plugin` writes for the kinds a training run is assembled from besides the model, loss and data:
// optimizer, scheduler, metric, sampler, strategy and callback. Each is a small working example of its kind, and
// its test checks values (the optimizer's ONNX update against its formula, the schedule's factors, …).
import type { KindTemplate } from './plugin-templates.ts';

/** The hint for a config group of the bundled train experiment, run from a project that depends on vidra. */
const bundled = (override: string, what: string) => `npx vidra run -cp node_modules/vidra/conf -cd conf ${override}    (the bundled train experiment with this ${what})`;

export const OPTIMIZER: KindTemplate = {
  group: 'optim',
  module: ({ name, className }) => `import {
  asDtype,
  definePlugin,
  inject,
  injectable,
  PLUGIN_CONFIG,
  type OptimizerContext,
  type OptimizerModule,
  type OptimizerStateSpec,
  type Value,
} from 'vidra';

interface ${className}Options {
  lr: number;
  betas: [number, number];
  weight_decay: number;
}

/**
 * Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms"), written as ONNX nodes: the engine
 * puts every parameter's update into the compiled training step (forward, loss, backward, update in one graph).
 *
 *     θ ← θ·(1 − lr·wd)                      decoupled weight decay (not on \`decay: false\` parameters)
 *     θ ← θ − lr·sign(β1·m + (1 − β1)·g)
 *     m ← β2·m + (1 − β2)·g
 *
 * Replace update() with your rule: \`state\` lists the tensors kept per parameter (shaped like it, saved in
 * checkpoints), and update() returns the new parameter and the new state in that order. \`lr\` is this step's
 * scheduled learning rate, \`step\` the 1-based step count.
 */
@injectable()
export class ${className} implements OptimizerModule {
  readonly state: readonly OptimizerStateSpec[] = [{ name: 'exp_avg', init: 0 }];

  constructor(@inject(PLUGIN_CONFIG) private readonly options: ${className}Options) {}

  update({ g, lr }: OptimizerContext, param: { value: Value; grad: Value; decay: boolean; state: Value[] }): { value: Value; state: Value[] } {
    const [beta1, beta2] = this.options.betas;
    const rate = asDtype(g, lr, param.value.dtype);
    const wd = param.decay ? this.options.weight_decay : 0;
    const m = param.state[0]!;
    const decayed = wd === 0 ? param.value : g.mul(param.value, g.sub(1, g.mul(rate, wd)));
    const direction = g.sign(g.add(g.mul(m, beta1), g.mul(param.grad, 1 - beta1)));
    const value = g.sub(decayed, g.mul(direction, rate));
    return { value, state: [g.add(g.mul(m, beta2), g.mul(param.grad, 1 - beta2))] };
  }
}

export const plugins = [
  definePlugin({
    kind: 'optimizer',
    name: '${name}',
    description: 'Lion: sign of the interpolated momentum, decoupled weight decay',
    schema: {
      type: 'object',
      properties: {
        lr: { type: 'number', minimum: 0, default: 1e-4, description: 'base learning rate (scaled by the schedule each step)' },
        betas: {
          type: 'array',
          items: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
          minItems: 2,
          maxItems: 2,
          default: [0.9, 0.99],
          description: '[β1, β2]: the update interpolation and the momentum decay',
        },
        weight_decay: { type: 'number', minimum: 0, default: 0, description: 'decoupled decay θ·(1 − lr·wd); not applied to decay: false parameters' },
      },
      additionalProperties: false,
    },
    create: ${className},
  }),
];
`,
  config: ({ name }) => `_target_: ${name}\nlr: 1.0e-4\nbetas: [0.9, 0.99]\nweight_decay: 0.1\n`,
  runHint: ({ option }) => bundled(`optim=${option}`, 'optimizer'),
  test: ({ name }, module) => `// The update as the training step runs it: T steps of the optimizer's ONNX graph (ONNX Runtime, float64) on
// ½‖θ‖², whose gradient is θ, against the formula computed here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry, createPlugin, runOptimizer, type OptimizerModule } from 'vidra';
import { plugins } from '${module}';

builtinRegistry().register(plugins[0]!);

test('${name}: five ONNX steps match the formula, with and without weight decay', async () => {
  const [lr, beta1, beta2, wd] = [0.01, 0.9, 0.99, 0.1];
  const optimizer = createPlugin<OptimizerModule>('optimizer', '${name}', { lr, betas: [beta1, beta2], weight_decay: wd });
  assert.deepEqual(optimizer.state, [{ name: 'exp_avg', init: 0 }]);
  const init = [1.5, -0.5, 0.004];
  const params = [
    { name: 'weight', shape: [3], init: Float64Array.from(init), decay: true },
    { name: 'bias', shape: [3], init: Float64Array.from(init), decay: false },
  ];
  const trajectory = await runOptimizer({ optimizer, params, steps: 5, lr, grad: (_k, p) => ({ weight: p.weight!, bias: p.bias! }) });
  for (const { name, decay } of params) {
    let theta = [...init];
    let m = [0, 0, 0];
    for (let k = 1; k <= 5; k++) {
      const grad = theta;
      theta = theta.map((t, j) => (decay ? t * (1 - lr * wd) : t) - lr * Math.sign(beta1 * m[j]! + (1 - beta1) * grad[j]!));
      m = m.map((mj, j) => beta2 * mj + (1 - beta2) * grad[j]!);
      const point = trajectory[k]!;
      theta.forEach((t, j) => assert.ok(Math.abs(point.params[name]![j]! - t) < 1e-12, \`step \${k} \${name}[\${j}]: \${point.params[name]![j]} != \${t}\`));
      m.forEach((v, j) => assert.ok(Math.abs(point.state[name]!.exp_avg![j]! - v) < 1e-12, \`step \${k} exp_avg of \${name}[\${j}]\`));
    }
  }
  // A sign step moves each coordinate by lr: after 5 steps 1.5 is 1.45 without decay.
  assert.ok(Math.abs(trajectory[5]!.params.bias![0]! - 1.45) < 1e-12);
});
`,
};

export const SCHEDULER: KindTemplate = {
  group: 'scheduler',
  module: ({ name, className }) => `import { definePlugin, inject, injectable, PLUGIN_CONFIG, VidraError, type ScheduleModule } from 'vidra';

interface ${className}Options {
  warmup_steps: number;
  timescale: number | null;
}

/**
 * Inverse square-root decay after a linear warmup (transformers' get_inverse_sqrt_schedule). The k-th optimizer
 * step (k = 1, 2, …) runs with lr · factor(k); with c = k − 1, W = warmup_steps and τ = timescale (default W, or
 * 10000 without warmup):
 *
 *     factor = c / W                       while c < W (0 at the first step)
 *     factor = 1 / sqrt((c + τ − W) / τ)    afterwards (1 at the end of the warmup)
 *
 * Replace factor() with your schedule: it multiplies the optimizer's base lr and must depend on k only, so that a
 * resumed run continues the same schedule.
 */
@injectable()
export class ${className} implements ScheduleModule {
  private readonly timescale: number;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: ${className}Options) {
    this.timescale = options.timescale ?? (options.warmup_steps > 0 ? options.warmup_steps : 10_000);
  }

  factor(step: number): number {
    if (!Number.isInteger(step) || step < 1) throw new VidraError(\`${name}: the step must be an integer k >= 1, got \${step}\`);
    const c = step - 1;
    const w = this.options.warmup_steps;
    return c < w ? c / w : 1 / Math.sqrt((c + this.timescale - w) / this.timescale);
  }

  describe(): string {
    return \`\${this.options.warmup_steps} steps of warmup, then 1/sqrt decay with timescale \${this.timescale}\`;
  }
}

export const plugins = [
  definePlugin({
    kind: 'scheduler',
    name: '${name}',
    description: 'linear warmup, then lr / sqrt(step / timescale)',
    schema: {
      type: 'object',
      properties: {
        warmup_steps: { type: 'integer', minimum: 0, default: 10, description: 'W: optimizer steps of linear warmup from 0' },
        timescale: { type: ['integer', 'null'], minimum: 1, default: null, description: 'τ: steps after which the lr has fallen by 1/sqrt(2) (null: W, or 10000 without warmup)' },
      },
      additionalProperties: false,
    },
    create: ${className},
  }),
];
`,
  config: ({ name }) => `_target_: ${name}\nwarmup_steps: 10\ntimescale: null\n`,
  runHint: ({ option }) => bundled(`scheduler=${option}`, 'schedule'),
  test: ({ name }, module) => `// The schedule's factor per optimizer step, against the formula, and what it says in the job log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry, createPlugin, type ScheduleModule } from 'vidra';
import { plugins } from '${module}';

builtinRegistry().register(plugins[0]!);

test('${name}: linear warmup, then 1/sqrt decay', () => {
  const schedule = createPlugin<ScheduleModule>('scheduler', '${name}', { warmup_steps: 10 });
  assert.equal(schedule.factor(1), 0);
  assert.equal(schedule.factor(6), 0.5);
  assert.equal(schedule.factor(11), 1);
  assert.equal(schedule.factor(21), 1 / Math.sqrt(2));
  assert.equal(schedule.factor(51), 1 / Math.sqrt(5));
  assert.equal(schedule.describe?.(), '10 steps of warmup, then 1/sqrt decay with timescale 10');
  assert.throws(() => schedule.factor(0), /the step must be an integer k >= 1, got 0/);

  const noWarmup = createPlugin<ScheduleModule>('scheduler', '${name}', { warmup_steps: 0, timescale: 100 });
  assert.equal(noWarmup.factor(1), 1);
  assert.equal(noWarmup.factor(301), 0.5);
});
`,
};

export const METRIC: KindTemplate = {
  // Tasks build their metrics by name from \`task.metrics\` (with their schema's defaults): there is no config group.
  group: null,
  module: ({ name, option, className }) => `import { definePlugin, inject, injectable, MetricInputError, PLUGIN_CONFIG, type ClassificationBatch, type Metric } from 'vidra';

interface ${className}Options {
  threshold: number;
}

/**
 * Micro-averaged F1 over an evaluation epoch, 2·TP / (2·TP + FP + FN) pooled over every (sample, class). With
 * multi-hot labels class c is predicted where sigmoid(score) >= threshold; with class-index labels the arg-max class
 * is (F1 is then the accuracy). The task feeds the epoch batch after batch (update: the model's logits and the
 * labels) and logs what compute() returns in metrics.jsonl and metrics.json. Replace update() and compute() with
 * your metric; keep only counts in update(), so that an epoch in batches gives what the whole epoch would.
 */
@injectable()
export class ${className} implements Metric {
  readonly name = '${name}';
  private tp = 0;
  private fp = 0;
  private fn = 0;
  private samples = 0;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: ${className}Options) {}

  update({ scores, labels }: ClassificationBatch): void {
    if (scores.length !== labels.length) throw new MetricInputError(\`${name}: \${scores.length} rows of scores but \${labels.length} labels\`);
    scores.forEach((row, i) => {
      const label = labels[i]!;
      if (typeof label === 'number') {
        const predicted = row.indexOf(Math.max(...row));
        if (predicted === label) this.tp++;
        else {
          this.fp++;
          this.fn++;
        }
        return;
      }
      if (label.length !== row.length) throw new MetricInputError(\`${name}: row \${i} has \${row.length} scores but \${label.length} labels\`);
      row.forEach((score, c) => {
        const predicted = 1 / (1 + Math.exp(-score)) >= this.options.threshold;
        if (predicted && label[c] === 1) this.tp++;
        else if (predicted) this.fp++;
        else if (label[c] === 1) this.fn++;
      });
    });
    this.samples += scores.length;
  }

  compute(): Record<string, number> {
    if (this.samples === 0) throw new MetricInputError(\`${name}: compute() before any update(): no samples to evaluate\`);
    const denominator = 2 * this.tp + this.fp + this.fn;
    // No positives and no predictions: sklearn's zero_division=0.
    return { '${option}': denominator === 0 ? 0 : (2 * this.tp) / denominator };
  }

  reset(): void {
    this.tp = this.fp = this.fn = this.samples = 0;
  }
}

export const plugins = [
  definePlugin({
    kind: 'metric',
    name: '${name}',
    description: 'micro-averaged F1 (multi-label: sigmoid(score) >= threshold; single-label: arg-max)',
    schema: {
      type: 'object',
      properties: {
        threshold: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.5, description: 'multi-label: the probability from which a class is predicted' },
      },
      additionalProperties: false,
    },
    create: ${className},
  }),
];
`,
  config: null,
  runHint: ({ name }) => `npx vidra run -cp node_modules/vidra/conf -cd conf 'task.metrics=[map,${name}]'    (the bundled train experiment, evaluated with this metric too)`,
  test: ({ name, option }, module) => `// The metric as a task feeds it: batches of logits and labels over an epoch, then compute().
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry, createPlugin, type Metric } from 'vidra';
import { plugins } from '${module}';

builtinRegistry().register(plugins[0]!);

test('${name}: micro F1 over batches, multi-label and single-label', () => {
  const metric = createPlugin<Metric>('metric', '${name}', {});
  assert.throws(() => metric.compute(), /no samples to evaluate/);
  // Predicted (sigmoid >= 0.5, i.e. logit >= 0): [1, 0], [1, 0], [1, 1]; labels [1, 0], [0, 1], [1, 1]: TP 3, FP 1, FN 1.
  metric.update({ scores: [[2, -1], [0.5, -3]], labels: [[1, 0], [0, 1]] });
  metric.update({ scores: [[0, 4]], labels: [[1, 1]] });
  assert.deepEqual(metric.compute(), { '${option}': 0.75 });

  metric.reset();
  // Class indices: the arg-max is right for the first row only.
  metric.update({ scores: [[1, 2, 0], [3, 0, 0]], labels: [1, 2] });
  assert.deepEqual(metric.compute(), { '${option}': 0.5 });

  // A higher threshold predicts fewer classes: sigmoid(0.5) ≈ 0.62 and sigmoid(0) = 0.5 fall below 0.7, so the
  // false positive goes and one more positive is missed: TP 2, FP 0, FN 2.
  const strict = createPlugin<Metric>('metric', '${name}', { threshold: 0.7 });
  strict.update({ scores: [[2, -1], [0.5, -3], [0, 4]], labels: [[1, 0], [0, 1], [1, 1]] });
  assert.deepEqual(strict.compute(), { '${option}': 4 / 6 });
});
`,
};

export const SAMPLER: KindTemplate = {
  // The sampler group: the train task draws its batches with the sampler at task.nodes.sampler (+sampler=<option>)
  // and sets its batch_size and drop_last.
  group: 'sampler',
  module: ({ name, className }) => `import {
  BATCH_SCHEMA,
  batchCount,
  checkSize,
  chunk,
  definePlugin,
  inject,
  injectable,
  PLUGIN_CONFIG,
  rngFor,
  shuffle,
  type BatchOptions,
  type IndexSampler,
  type IndexSamplerPlugin,
  type SamplerData,
} from 'vidra';

interface ${className}Options extends BatchOptions {
  block_size: number;
  seed: number;
}

/**
 * Shuffles contiguous blocks of \`block_size\` dataset indices, each block kept in order: every index once per
 * epoch, reads stay sequential inside a block (features stored video by video, sharded files), and batches still
 * mix the data. The order of epoch e depends on (seed, e) only, so any epoch replays identically (a resumed run,
 * a prefetch worker). Replace order() with yours.
 */
export class ${className}Epochs implements IndexSampler {
  readonly numSamples: number;
  readonly numBatches: number;
  readonly batch_size: number;
  readonly drop_last: boolean;

  constructor(
    readonly size: number,
    private readonly options: ${className}Options,
  ) {
    this.batch_size = options.batch_size;
    this.drop_last = options.drop_last;
    this.numSamples = size;
    this.numBatches = batchCount(size, options.batch_size, options.drop_last);
  }

  order(epoch: number): number[] {
    const { block_size, seed } = this.options;
    const blocks = Array.from({ length: Math.ceil(this.size / block_size) }, (_, b) => b);
    return shuffle(blocks, rngFor(seed, epoch)).flatMap((b) => Array.from({ length: Math.min(block_size, this.size - b * block_size) }, (_, i) => b * block_size + i));
  }

  batches(epoch: number): Iterable<number[]> {
    return chunk(this.order(epoch), this.batch_size, this.drop_last);
  }
}

/** The plugin a config builds; a task binds it to its dataset's size. */
@injectable()
export class ${className} implements IndexSamplerPlugin {
  readonly type = 'index' as const;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: ${className}Options) {}

  bind(data: SamplerData): ${className}Epochs {
    return new ${className}Epochs(checkSize('${name}', data), this.options);
  }
}

export const plugins = [
  definePlugin({
    kind: 'sampler',
    name: '${name}',
    description: 'shuffled blocks of consecutive indices, each block in order',
    schema: {
      type: 'object',
      properties: {
        ...BATCH_SCHEMA,
        block_size: { type: 'integer', minimum: 1, default: 16, description: 'consecutive indices kept together' },
        seed: { type: 'integer', minimum: 0, default: 0, description: 'with the epoch, seeds the order of the blocks' },
      },
      additionalProperties: false,
    },
    create: ${className},
  }),
];
`,
  config: ({ name }) => `_target_: ${name}\nblock_size: 16\nseed: \${seed}\n`,
  runHint: ({ option }) => bundled(`+sampler=${option}`, 'sampler'),
  test: ({ name }, module) => `// The sampler as a task uses it: bound to a dataset size, batches per epoch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry, createPlugin, type IndexSamplerPlugin } from 'vidra';
import { plugins } from '${module}';

builtinRegistry().register(plugins[0]!);

test('${name}: every index once per epoch, blocks kept in order, epochs seeded', () => {
  const sampler = createPlugin<IndexSamplerPlugin>('sampler', '${name}', { batch_size: 4, block_size: 3, seed: 7 }).bind({ size: 10 });
  assert.equal(sampler.numBatches, 3);
  const epoch0 = [...sampler.batches(0)];
  assert.deepEqual(epoch0.map((b) => b.length), [4, 4, 2]);
  const flat = epoch0.flat();
  assert.deepEqual([...flat].sort((a, b) => a - b), [...Array(10).keys()]);
  // Blocks [0, 1, 2], [3, 4, 5], [6, 7, 8], [9], each contiguous and in order.
  for (const start of [0, 3, 6]) assert.deepEqual(flat.slice(flat.indexOf(start), flat.indexOf(start) + 3), [start, start + 1, start + 2]);
  // An epoch replays identically; another epoch is another order.
  assert.deepEqual([...sampler.batches(0)], epoch0);
  const orders = new Set([0, 1, 2, 3, 4].map((e) => JSON.stringify([...sampler.batches(e)])));
  assert.ok(orders.size > 1);
  const dropLast = createPlugin<IndexSamplerPlugin>('sampler', '${name}', { batch_size: 4, drop_last: true }).bind({ size: 10 });
  assert.deepEqual([...dropLast.batches(0)].map((b) => b.length), [4, 4]);
});
`,
};

export const STRATEGY: KindTemplate = {
  group: 'strategy',
  module: ({ name, className }) => `import {
  definePlugin,
  inject,
  injectable,
  PLUGIN_CONFIG,
  type Strategy,
  type StrategyContext,
  type StrategyPlugin,
  type StrategySample,
} from 'vidra';

interface ${className}Options {
  mem_size: number;
  batch_size_mem: number;
}

/**
 * Replays the most recent samples: a first-in-first-out memory of the last \`mem_size\` samples of the experiences
 * trained so far (taken after each experience), of which \`batch_size_mem\` rows are appended to every training
 * batch, walking the memory round-robin. The continual task fires the events (STRATEGY_EVENTS); a strategy
 * implements any of them and may change \`ctx.batch\` (appended rows are counted in \`batch.memory\`) or add
 * penalties to \`ctx.extraLoss\`. Replace these two events with yours.
 */
@injectable()
export class ${className} implements Strategy, StrategyPlugin {
  readonly name = '${name}';
  private memory: StrategySample[] = [];
  private cursor = 0;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: ${className}Options) {}

  get plugins(): readonly StrategyPlugin[] {
    return [this];
  }

  before_training_iteration(ctx: StrategyContext): void {
    const batch = ctx.batch;
    if (!batch || this.memory.length === 0) return;
    const rows = Math.min(this.options.batch_size_mem, this.memory.length);
    for (let r = 0; r < rows; r++) {
      const sample = this.memory[this.cursor]!;
      this.cursor = (this.cursor + 1) % this.memory.length;
      batch.inputs.push(sample.input);
      batch.targets.push(sample.target);
    }
    batch.memory += rows;
  }

  after_training_exp(ctx: StrategyContext): void {
    this.memory = [...this.memory, ...(ctx.experience?.items ?? [])].slice(-this.options.mem_size);
    this.cursor = 0;
  }
}

export const plugins = [
  definePlugin({
    kind: 'strategy',
    name: '${name}',
    description: 'replay of the most recent samples (FIFO memory), appended to every training batch',
    schema: {
      type: 'object',
      properties: {
        mem_size: { type: 'integer', minimum: 1, default: 64, description: 'samples kept: the last ones trained on' },
        batch_size_mem: { type: 'integer', minimum: 1, default: 4, description: 'memory rows appended to each training batch' },
      },
      additionalProperties: false,
    },
    create: ${className},
  }),
];
`,
  config: ({ name }) => `_target_: ${name}\nmem_size: 64\nbatch_size_mem: 4\n`,
  runHint: ({ option }) => `npx vidra run -cp node_modules/vidra/conf -cd conf +experiment=ego4d_continual strategy=${option}    (continual learning on the bundled synthetic user streams)`,
  test: ({ name }, module) => `// The strategy in Vidra's training template (the loop the continual task runs): what each training step gets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry, createPlugin, StrategyTemplate, type Strategy, type StrategyBatch, type StrategySample } from 'vidra';
import { plugins } from '${module}';

builtinRegistry().register(plugins[0]!);

const items = (from: number, n: number): StrategySample[] => Array.from({ length: n }, (_, i) => ({ input: [from + i], target: from + i }));

test('${name}: the last mem_size samples are appended to the batches of later experiences', async () => {
  const strategy = createPlugin<Strategy>('strategy', '${name}', { mem_size: 3, batch_size_mem: 2 });
  const template = new StrategyTemplate(strategy.plugins);
  const steps: Array<{ targets: unknown[]; memory: number }> = [];
  await template.train([{ id: 0, items: items(0, 4) }, { id: 1, items: items(4, 4) }], {
    batches: (experience) =>
      [0, 2].map((at): StrategyBatch => {
        const part = experience.items.slice(at, at + 2);
        return { inputs: part.map((s) => s.input), targets: part.map((s) => s.target), memory: 0 };
      }),
    step: (ctx) => void steps.push({ targets: [...ctx.batch!.targets], memory: ctx.batch!.memory }),
  });
  assert.deepEqual(steps, [
    { targets: [0, 1], memory: 0 },
    { targets: [2, 3], memory: 0 },
    // The memory after experience 0 is its last 3 samples, walked round-robin.
    { targets: [4, 5, 1, 2], memory: 2 },
    { targets: [6, 7, 3, 1], memory: 2 },
  ]);
});
`,
};

export const CALLBACK: KindTemplate = {
  // The callbacks group: each option is \`# @package callbacks.<option>\`, chosen with +callbacks=<option>.
  group: 'callbacks',
  module: ({ name, className }) => `import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { definePlugin, inject, injectable, PLUGIN_CONFIG, type Callback, type CallbackContext } from 'vidra';

interface ${className}Options {
  path: string;
  stop_below: number | null;
}

interface EpochLoss {
  epoch: number;
  steps: number;
  mean_loss: number;
}

/**
 * The mean training loss of every epoch, written to \`path\` in the run directory after each epoch (so an
 * interrupted run keeps the epochs it finished), and an early stop once an epoch's mean falls below
 * \`stop_below\`. A callback implements any of the events its task fires (CALLBACK_EVENTS; the job log says when
 * one is never fired): replace these two with yours.
 */
@injectable()
export class ${className} implements Callback {
  readonly name = '${name}';
  private readonly epochs: EpochLoss[] = [];
  private sum = 0;
  private steps = 0;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: ${className}Options) {}

  after_training_iteration(ctx: CallbackContext): void {
    if (ctx.loss === undefined) return;
    this.sum += ctx.loss;
    this.steps++;
  }

  after_training_epoch(ctx: CallbackContext): void {
    if (this.steps === 0) return;
    const epoch = ctx.epoch ?? this.epochs.length;
    const mean_loss = this.sum / this.steps;
    this.epochs.push({ epoch, steps: this.steps, mean_loss });
    this.sum = 0;
    this.steps = 0;
    // Written whole, then renamed: the file is never half-written.
    const file = join(ctx.outputDir, this.options.path);
    writeFileSync(\`\${file}.tmp\`, \`\${JSON.stringify({ epochs: this.epochs }, null, 2)}\\n\`);
    renameSync(\`\${file}.tmp\`, file);
    const { stop_below } = this.options;
    if (stop_below !== null && mean_loss < stop_below) ctx.stop(\`${name}: the mean training loss of epoch \${epoch} is \${mean_loss} < stop_below=\${stop_below}\`);
  }
}

export const plugins = [
  definePlugin({
    kind: 'callback',
    name: '${name}',
    description: 'the mean training loss of each epoch to a JSON file; optional early stop below a loss',
    schema: {
      type: 'object',
      properties: {
        path: { type: 'string', minLength: 1, default: 'epoch_loss.json', description: 'the file, relative to the run directory' },
        stop_below: { type: ['number', 'null'], default: null, description: 'stop training after an epoch whose mean loss is below this (null: never)' },
      },
      additionalProperties: false,
    },
    create: ${className},
  }),
];
`,
  config: ({ name, option }) => `# @package callbacks.${option}\n_target_: ${name}\npath: ${option}.json\nstop_below: null\n`,
  runHint: ({ option }) => bundled(`+callbacks=${option}`, 'callback'),
  test: ({ name }, module) => `// The callback fired as the train task fires it (CallbackList), into a scratch run directory.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { builtinRegistry, CallbackList, createPlugin, type Callback } from 'vidra';
import { plugins } from '${module}';

builtinRegistry().register(plugins[0]!);

test('${name}: the mean loss per epoch in the run directory, and a stop below stop_below', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callback-'));
  try {
    const callback = createPlugin<Callback>('callback', '${name}', { path: 'losses.json', stop_below: 0.5 });
    const warnings: string[] = [];
    const list = new CallbackList([callback], 'train', dir, { info: () => {}, warn: (l) => void warnings.push(l) });
    const parameters = () => ({});
    let step = 0;
    for (const [epoch, losses] of [[0, [1, 0.5]], [1, [0.5, 0.25]]] as const) {
      for (const loss of losses) await list.fire('after_training_iteration', { step: ++step, epoch, loss, lr: 0.1, parameters });
      await list.fire('after_training_epoch', { step, epoch, last: false, parameters });
      if (epoch === 0) assert.equal(list.stopReason, null);
    }
    assert.deepEqual(warnings, []);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'losses.json'), 'utf8')), {
      epochs: [
        { epoch: 0, steps: 2, mean_loss: 0.75 },
        { epoch: 1, steps: 2, mean_loss: 0.375 },
      ],
    });
    assert.equal(list.stopReason, '${name}: the mean training loss of epoch 1 is 0.375 < stop_below=0.5');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
`,
};
