// What `vidra new plugin` writes for each kind: the plugin module (schema, class, registration), its config
// node, and a test that runs with `npx tsx --test` (Node's test runner; tsx compiles the TypeScript).
import type { PluginKind } from '../plugins/kinds.ts';
import { LAUNCHER, SWEEPER } from './sweep-templates.ts';
import { CALLBACK, METRIC, OPTIMIZER, SAMPLER, SCHEDULER, STRATEGY } from './training-templates.ts';

export interface PluginNames {
  /** The registered name, e.g. `mylab.brier`. */
  name: string;
  /** The config option and file stem: the name's last segment, e.g. `brier`. */
  option: string;
  /** The class, e.g. `BrierLoss`. */
  className: string;
}

export interface KindTemplate {
  /** The config group the option goes to; null for kinds that tasks build by name, without a config node. */
  group: string | null;
  module(n: PluginNames): string;
  config: ((n: PluginNames) => string) | null;
  /** The command that runs the plugin in the project, for the scaffold's closing hint. */
  runHint(n: PluginNames): string;
  /** The test; `module` is the import path of the plugin module from the test file. */
  test(n: PluginNames, module: string): string;
}

const TASK: KindTemplate = {
  group: 'task',
  module: ({ name, className }) => `import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { definePlugin, inject, injectable, JOB_CONTEXT, PLUGIN_CONFIG, type JobContext, type Task } from 'vidra';

interface ${className}Options {
  message: string;
  steps: number;
}

/** Logs its message once per step and writes one metrics.jsonl line per step: replace run() with your task. */
@injectable()
export class ${className} implements Task {
  constructor(
    @inject(PLUGIN_CONFIG) private readonly options: ${className}Options,
    @inject(JOB_CONTEXT) private readonly job: JobContext,
  ) {}

  async run(): Promise<Record<string, unknown>> {
    const { message, steps } = this.options;
    for (let step = 1; step <= steps; step++) {
      if (this.job.signal.aborted) throw new Error('interrupted');
      this.job.log.info(\`\${message} (step \${step}/\${steps})\`);
      appendFileSync(join(this.job.outputDir, 'metrics.jsonl'), \`\${JSON.stringify({ step, value: step * step })}\\n\`);
    }
    const result = { steps, total: (steps * (steps + 1) * (2 * steps + 1)) / 6 };
    writeFileSync(join(this.job.outputDir, 'metrics.json'), \`\${JSON.stringify(result)}\\n\`);
    return result;
  }
}

export const plugins = [
  definePlugin({
    kind: 'task',
    name: '${name}',
    description: 'logs a message per step; metrics.jsonl gets step and step squared',
    schema: {
      type: 'object',
      properties: {
        message: { type: 'string', default: 'hello', description: 'what each step logs' },
        steps: { type: 'integer', minimum: 1, default: 3, description: 'how many steps to run' },
      },
      additionalProperties: false,
    },
    create: ${className},
  }),
];
`,
  config: ({ name }) => `_target_: ${name}\nmessage: hello\nsteps: 3\n`,
  runHint: ({ option }) => `npx vidra run ++task=${option}`,
  test: ({ name }, module) => `// Runs the task as \`vidra run\` does, in a scratch project whose settings load the plugin module.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const vidra = join(dirname(fileURLToPath(import.meta.resolve('vidra'))), '..', 'bin', 'vidra.mjs');
const plugin = fileURLToPath(new URL('${module}', import.meta.url));

test('${name}: vidra run writes a metrics line per step and the result', () => {
  const dir = mkdtempSync(join(tmpdir(), '${name}-'));
  try {
    writeFileSync(join(dir, 'vidra.config.json'), JSON.stringify({ plugins: [plugin] }));
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf', 'config.yaml'), 'task:\\n  _target_: ${name}\\n  steps: 2\\n');
    const run = spawnSync(process.execPath, [vidra, 'run', 'vidra.run.dir=runs/check'], { cwd: dir, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const lines = readFileSync(join(dir, 'runs', 'check', 'metrics.jsonl'), 'utf8').trim().split('\\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      { step: 1, value: 1 },
      { step: 2, value: 4 },
    ]);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'runs', 'check', 'metrics.json'), 'utf8')), { steps: 2, total: 5 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
`,
};

const LOSS: KindTemplate = {
  group: 'loss',
  module: ({ name, className }) => `import {
  checkedTargets,
  definePlugin,
  inject,
  injectable,
  PLUGIN_CONFIG,
  reduce,
  sigmoid,
  type LossContext,
  type LossInputs,
  type LossModule,
  type Reduction,
  type Value,
} from 'vidra';

interface ${className}Options {
  scale: number;
  reduction: Reduction;
}

/** ℓ = scale · (σ(x) − y)², a multi-label Brier score: replace build() with your loss (ops with gradient rules). */
@injectable()
export class ${className} implements LossModule {
  readonly targetKind = 'multi_hot';
  readonly needsClassCounts = false;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: ${className}Options) {}

  build({ g }: LossContext, { logits, targets }: LossInputs): Value {
    const y = checkedTargets('${name}', logits, targets, 'multi_hot');
    const d = g.sub(sigmoid(g, logits), y);
    return reduce(g, g.mul(this.options.scale, g.mul(d, d)), this.options.reduction);
  }
}

export const plugins = [
  definePlugin({
    kind: 'loss',
    name: '${name}',
    description: 'multi-label Brier score: scale * (sigmoid(x) - y)^2',
    schema: {
      type: 'object',
      properties: {
        scale: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'multiplies every element loss' },
        reduction: { type: 'string', enum: ['mean', 'sum', 'none'], default: 'mean' },
      },
      additionalProperties: false,
    },
    create: ${className},
  }),
];
`,
  config: ({ name }) => `_target_: ${name}\nscale: 1.0\n`,
  runHint: ({ option }) => `npx vidra run -cp node_modules/vidra/conf -cd conf ++loss=${option}    (the bundled train experiment with this loss)`,
  test: ({ name }, module) => `// The loss and its gradient, computed by the ONNX graph training runs, against the formula.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry, evaluateLoss } from 'vidra';
import { plugins } from '${module}';

builtinRegistry().register(plugins[0]!);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

test('${name}: loss and d loss / d logits match the formula', async () => {
  const logits = [[0, 2], [-1, 0.5]];
  const targets = [[1, 0], [0, 1]];
  const { loss, grad } = await evaluateLoss('${name}', { scale: 2 }, { logits, targets });
  const n = 4;
  const expected = logits.flat().reduce((sum, x, i) => sum + 2 * (sigmoid(x) - targets.flat()[i]!) ** 2, 0) / n;
  assert.ok(Math.abs((loss as number) - expected) < 1e-9, \`loss \${loss} != \${expected}\`);
  logits.forEach((row, r) =>
    row.forEach((x, c) => {
      const s = sigmoid(x);
      const want = (2 * 2 * (s - targets[r]![c]!) * s * (1 - s)) / n;
      assert.ok(Math.abs(grad[r]![c]! - want) < 1e-9, \`grad[\${r}][\${c}] \${grad[r]![c]} != \${want}\`);
    }),
  );
});
`,
};

const MODEL: KindTemplate = {
  // The bundled configs train `model.head`: the head group's options carry `# @package model.head`.
  group: 'head',
  module: ({ name, className }) => `import { definePlugin, inject, injectable, linear, linearParameters, PLUGIN_CONFIG, type ForwardContext, type ModelModule, type Value } from 'vidra';

interface ${className}Options {
  in_dim: number;
  out_dim: number;
}

/** A linear head, logits = x Wᵀ + b (torch's nn.Linear initialisation): replace forward() with your model. */
@injectable()
export class ${className} implements ModelModule {
  constructor(@inject(PLUGIN_CONFIG) private readonly options: ${className}Options) {}

  inputs() {
    return [{ name: 'x', shape: [this.options.in_dim] }];
  }

  parameters(random: () => number) {
    return linearParameters('fc', this.options.in_dim, this.options.out_dim, random);
  }

  forward({ g }: ForwardContext, params: Record<string, Value>, inputs: Record<string, Value>) {
    return { logits: linear(g, inputs.x!, params, 'fc') };
  }
}

export const plugins = [
  definePlugin({
    kind: 'model',
    name: '${name}',
    description: 'a linear head on clip features',
    schema: {
      type: 'object',
      properties: {
        in_dim: { type: 'integer', minimum: 1, description: 'the feature dimension' },
        out_dim: { type: 'integer', minimum: 1, description: 'the number of classes' },
      },
      required: ['in_dim', 'out_dim'],
      additionalProperties: false,
    },
    create: ${className},
  }),
];
`,
  config: ({ name }) => `# @package model.head\n# Sizes of the bundled synthetic Animal Kingdom features: 32-d, 140 classes.\n_target_: ${name}\nin_dim: 32\nout_dim: 140\n`,
  runHint: ({ option }) => `npx vidra run -cp node_modules/vidra/conf -cd conf head=${option}    (the bundled train experiment with this head)`,
  test: ({ name, option }, module) => `// Trains the head with Vidra's train task on the bundled synthetic data, as \`vidra run\` does, in a scratch
// project whose settings load the plugin module.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.resolve('vidra'))), '..');
const plugin = fileURLToPath(new URL('${module}', import.meta.url));

test('${name}: trains one epoch and is evaluated', () => {
  const dir = mkdtempSync(join(tmpdir(), '${option}-'));
  try {
    writeFileSync(join(dir, 'vidra.config.json'), JSON.stringify({ plugins: [plugin] }));
    mkdirSync(join(dir, 'conf', 'head'), { recursive: true });
    writeFileSync(join(dir, 'conf', 'head', '${option}.yaml'), '# @package model.head\\n_target_: ${name}\\nin_dim: 32\\nout_dim: 140\\n');
    const args = ['run', '-cp', join(root, 'conf'), '-cd', 'conf', 'head=${option}', 'task.epochs=1', 'task.metrics=[map]', 'vidra.run.dir=runs/check'];
    const run = spawnSync(process.execPath, [join(root, 'bin', 'vidra.mjs'), ...args], { cwd: dir, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const metrics = JSON.parse(readFileSync(join(dir, 'runs', 'check', 'metrics.json'), 'utf8'));
    assert.ok(metrics.step > 0 && metrics.map > 0 && metrics.map <= 1, JSON.stringify(metrics));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
`,
};

const DATASET: KindTemplate = {
  group: 'data',
  module: ({ name, className }) => `import {
  checkIndices,
  countClasses,
  definePlugin,
  inject,
  injectable,
  LOADER_PROPERTIES,
  mulberry32,
  multiHot,
  PLUGIN_CONFIG,
  unbatch,
  VidraError,
  type Dataset,
  type DatasetBatch,
  type DatasetSource,
} from 'vidra';

interface ${className}Options {
  size: number;
  dim: number;
  num_classes: number;
  seed: number;
}

interface Row {
  features: number[];
  labels: number[];
}

/**
 * Seeded random features in [-1, 1); class c is present where feature c is positive: replace rows() with your
 * data. The train task reads batches in a worker thread that builds the same plugin from the same config,
 * so everything here follows from the options.
 */
@injectable()
export class ${className} implements DatasetSource {
  readonly splits = ['train', 'val'];

  constructor(@inject(PLUGIN_CONFIG) private readonly options: ${className}Options) {
    if (options.num_classes > options.dim) {
      throw new VidraError(\`${name}: num_classes (\${options.num_classes}) must not exceed dim (\${options.dim}): class c is read from feature c\`);
    }
  }

  async load(split = 'train'): Promise<Dataset> {
    if (!this.splits.includes(split)) throw new VidraError(\`${name}: there is no split '\${split}' (splits: \${this.splits.join(', ')})\`);
    const classes = this.options.num_classes;
    const rows = this.rows(split);
    const getBatch = (indices: readonly number[]): DatasetBatch => {
      checkIndices('${name}', rows.length, indices);
      const picked = indices.map((i) => rows[i]!);
      const n = picked.length;
      return {
        size: n,
        inputs: { features: { data: Float32Array.from(picked.flatMap((r) => r.features)), shape: [n, this.options.dim] } },
        targets: { labels: { data: multiHot(picked.map((r) => r.labels), classes), shape: [n, classes] } },
        meta: indices.map((i) => ({ row: i })),
      };
    };
    return {
      name: '${name}',
      split,
      length: rows.length,
      numClasses: { labels: classes },
      classCounts: { labels: countClasses(this.rows('train').map((r) => r.labels), classes) },
      skipped: [],
      getBatch,
      get: (i) => unbatch(getBatch([i]), 0),
      close: () => {},
    };
  }

  private rows(split: string): Row[] {
    const { size, dim, num_classes, seed } = this.options;
    const random = mulberry32(seed * 2 + (split === 'train' ? 0 : 1));
    return Array.from({ length: size }, () => {
      const features = Array.from({ length: dim }, () => random() * 2 - 1);
      return { features, labels: features.slice(0, num_classes).flatMap((f, c) => (f > 0 ? [c] : [])) };
    });
  }
}

export const plugins = [
  definePlugin({
    kind: 'dataset',
    name: '${name}',
    description: 'seeded random features; class c is present where feature c is positive',
    schema: {
      type: 'object',
      properties: {
        // Every dataset takes these: batch_size (the task reads it, e.g. task.batch_size: \${data.batch_size})
        // and what the data gives (feature_dim, num_classes, train_size, multi_label), which heads interpolate.
        ...LOADER_PROPERTIES,
        size: { type: 'integer', minimum: 1, default: 64, description: 'samples per split' },
        dim: { type: 'integer', minimum: 1, default: 8, description: 'features per sample' },
        num_classes: { type: 'integer', minimum: 1, default: 4 },
        seed: { type: 'integer', minimum: 0, default: 0 },
      },
      additionalProperties: false,
    },
    create: ${className},
  }),
];
`,
  config: ({ name }) => `_target_: ${name}\nsize: 64\ndim: 8\nnum_classes: 4\nseed: 0\nbatch_size: 16\n`,
  runHint: ({ option }) =>
    `npx vidra run -cp node_modules/vidra/conf -cd conf data=${option} model.head.in_dim=8 model.head.out_dim=4 task.metrics=[map]    (the bundled train experiment on this data)`,
  test: ({ name }, module) => `// The dataset as the train task reads it: splits, shapes, the label rule, class counts, and determinism.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry, createPlugin, type DatasetSource } from 'vidra';
import { plugins } from '${module}';

builtinRegistry().register(plugins[0]!);

test('${name}: batches of features and multi-hot labels (class c where feature c > 0)', async () => {
  const source = createPlugin<DatasetSource>('dataset', '${name}', { size: 10, dim: 3, num_classes: 2 });
  const train = await source.load('train');
  assert.equal(train.length, 10);
  assert.deepEqual(train.numClasses, { labels: 2 });
  const batch = train.getBatch([0, 1, 2]);
  assert.deepEqual(batch.inputs.features!.shape, [3, 3]);
  assert.deepEqual(batch.targets.labels!.shape, [3, 2]);
  const x = batch.inputs.features!.data;
  const y = batch.targets.labels!.data;
  for (let i = 0; i < 3; i++) for (let c = 0; c < 2; c++) assert.equal(y[i * 2 + c], x[i * 3 + c]! > 0 ? 1 : 0);
  const all = train.getBatch([...Array(10).keys()]).targets.labels!.data;
  assert.deepEqual(train.classCounts!.labels, [0, 1].map((c) => [...Array(10).keys()].filter((i) => all[i * 2 + c] === 1).length));
  // The same options give the same data (the prefetch worker builds its own copy); val differs from train.
  const again = await createPlugin<DatasetSource>('dataset', '${name}', { size: 10, dim: 3, num_classes: 2 }).load('train');
  assert.deepEqual(again.getBatch([0, 1, 2]).inputs.features!.data, x);
  const val = await source.load('val');
  assert.notDeepEqual(val.getBatch([0]).inputs.features!.data, train.getBatch([0]).inputs.features!.data);
  await assert.rejects(source.load('test'), /there is no split 'test'/);
});
`,
};

/** What `vidra new plugin` scaffolds for each kind. */
export const TEMPLATES: Record<PluginKind, KindTemplate> = {
  dataset: DATASET,
  sampler: SAMPLER,
  model: MODEL,
  loss: LOSS,
  strategy: STRATEGY,
  metric: METRIC,
  optimizer: OPTIMIZER,
  scheduler: SCHEDULER,
  launcher: LAUNCHER,
  sweeper: SWEEPER,
  callback: CALLBACK,
  task: TASK,
};

/** The names of a plugin: `mylab.brier_score` is the option `brier_score` and the class `BrierScoreLoss`. */
export function pluginNames(name: string, kind: PluginKind): PluginNames {
  const option = name.slice(name.lastIndexOf('.') + 1);
  const pascal = option
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
  const suffix = kind[0]!.toUpperCase() + kind.slice(1);
  const base = /^[0-9]/.test(pascal) ? `P${pascal}` : pascal;
  return { name, option, className: base.endsWith(suffix) ? base : `${base}${suffix}` };
}
