// What `vidra new plugin` writes for each kind: the plugin module (schema, class, registration), its config
// node, and a test that runs with `npx tsx --test` (Node's test runner; tsx compiles the TypeScript).
import type { PluginKind } from '../plugins/kinds.ts';

export interface PluginNames {
  /** The registered name, e.g. `mylab.brier`. */
  name: string;
  /** The config option and file stem: the name's last segment, e.g. `brier`. */
  option: string;
  /** The class, e.g. `BrierLoss`. */
  className: string;
}

export interface KindTemplate {
  /** The config group the option goes to. */
  group: string;
  module(n: PluginNames): string;
  config(n: PluginNames): string;
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

/** The kinds `vidra new plugin` can scaffold. */
export const TEMPLATES: Partial<Record<PluginKind, KindTemplate>> = { task: TASK, loss: LOSS, model: MODEL };

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
