// `vidra new plugin <kind> <name> [--package]`, in fresh projects that depend on vidra through node_modules (as
// an installed package would): the scaffolded test passes as written (npx tsx --test), the plugins type-check
// (tsc), and a real `vidra run` uses the scaffolded plugin — for a plain module and for a separate package.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { execNode } from '../helpers/exec.ts';
import { BIN, REPO } from '../helpers/project.ts';

const TSX = join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

const exec = (file: string, args: readonly string[], cwd: string, timeoutMs = 60_000) => execNode(file, args, cwd, timeoutMs);

/** A project as `npm install` of a package.json that depends on vidra leaves it. */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vidra-new-'));
  made.push(dir);
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'lab', private: true, type: 'module', dependencies: { vidra: '^0.1.0' } }, null, 2)}\n`);
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(REPO, join(dir, 'node_modules', 'vidra'), 'dir');
  symlinkSync(join(REPO, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir');
  return dir;
}

const vidra = (dir: string, args: string[]) => exec(BIN, args, dir);
const read = (dir: string, rel: string) => readFileSync(join(dir, rel), 'utf8');

function files(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel), { withFileTypes: true })
    .filter((e) => e.name !== 'node_modules')
    .flatMap((e) => (e.isDirectory() ? files(dir, join(rel, e.name)) : [join(rel, e.name)]))
    .sort();
}

describe('vidra new plugin', () => {
  it('a task, a loss, a model and a dataset as modules of the project: their tests pass, tsc passes, vidra run runs them', { timeout: 240_000 }, async () => {
    const dir = project();
    const task = await vidra(dir, ['new', 'plugin', 'task', 'mylab.hello']);
    expect(task).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        '  created conf/task/hello.yaml',
        '  created conf/config.yaml',
        '  created plugins/hello.ts',
        '  created test/hello.test.ts',
        '  created tsconfig.json',
        '  created vidra.config.json (plugins: ./plugins/hello.ts)',
        '',
        'next:',
        '  npx tsx --test test/hello.test.ts',
        '  npx vidra run ++task=hello',
        '',
      ].join('\n'),
    });
    const loss = await vidra(dir, ['new', 'plugin', 'loss', 'mylab.brier']);
    expect(loss.code, loss.stderr).toBe(0);
    expect(loss.stdout).toContain('  updated vidra.config.json (plugins: ./plugins/brier.ts)\n');
    const model = await vidra(dir, ['new', 'plugin', 'model', 'mylab.lin_head']);
    expect(model.code, model.stderr).toBe(0);
    expect(model.stdout).toContain('  npx vidra run -cp node_modules/vidra/conf -cd conf head=lin_head    (the bundled train experiment with this head)\n');
    const data = await vidra(dir, ['new', 'plugin', 'dataset', 'mylab.toy']);
    expect(data.code, data.stderr).toBe(0);
    expect(read(dir, 'conf/data/toy.yaml')).toBe('_target_: mylab.toy\nsize: 64\ndim: 8\nnum_classes: 4\nseed: 0\nbatch_size: 16\n');
    expect(files(dir)).toEqual(
      [
        'conf/config.yaml',
        'conf/data/toy.yaml',
        'conf/head/lin_head.yaml',
        'conf/loss/brier.yaml',
        'conf/task/hello.yaml',
        'package.json',
        'plugins/brier.ts',
        'plugins/hello.ts',
        'plugins/lin_head.ts',
        'plugins/toy.ts',
        'test/brier.test.ts',
        'test/hello.test.ts',
        'test/lin_head.test.ts',
        'test/toy.test.ts',
        'tsconfig.json',
        'vidra.config.json',
      ].sort(),
    );
    expect(read(dir, 'plugins/lin_head.ts')).toContain('export class LinHeadModel implements ModelModule {');
    expect(JSON.parse(read(dir, 'vidra.config.json'))).toEqual({ plugins: ['./plugins/hello.ts', './plugins/brier.ts', './plugins/lin_head.ts', './plugins/toy.ts'] });
    expect(read(dir, 'conf/config.yaml')).toBe('defaults:\n  - task: hello\n  - _self_\n');
    expect(read(dir, 'conf/loss/brier.yaml')).toBe('_target_: mylab.brier\nscale: 1.0\n');

    // The scaffolded tests, as the scaffold says to run them.
    const tests = await exec(TSX, ['--test', 'test/hello.test.ts', 'test/brier.test.ts', 'test/lin_head.test.ts', 'test/toy.test.ts'], dir, 120_000);
    expect(tests.code, tests.stdout + tests.stderr).toBe(0);
    expect(tests.stdout).toMatch(/^# pass 4$/m);
    const tsc = await exec(TSC, ['-p', '.'], dir, 120_000);
    expect(tsc.stdout + tsc.stderr).toBe('');

    // vidra run with the scaffolded task: the primary config the scaffold wrote selects it.
    const run = await vidra(dir, ['run', 'vidra.run.dir=runs/hello']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('hello (step 3/3)\n');
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('steps=3 total=14');
    expect(read(dir, 'runs/hello/metrics.jsonl')).toBe('{"step":1,"value":1}\n{"step":2,"value":4}\n{"step":3,"value":9}\n');

    // The bundled train experiment with the scaffolded loss: the loss of its first logged step is the
    // Brier score of the initial head (about 0.25 from sigmoid(≈0) against 0/1 targets, mostly 0).
    const train = await vidra(dir, ['run', '-cp', join(REPO, 'conf'), '-cd', 'conf', '++loss=brier', 'task.epochs=1', 'vidra.run.dir=runs/train']);
    expect(train.code, train.stderr).toBe(0);
    expect(read(dir, 'runs/train/.vidra/resolved.yaml')).toContain('loss:\n  _target_: mylab.brier\n  scale: 1.0\n');
    const losses = read(dir, 'runs/train/metrics.jsonl').trim().split('\n').map((l) => JSON.parse(l) as { loss?: number }).filter((l) => l.loss !== undefined);
    expect(losses.length).toBeGreaterThan(0);
    expect(losses[0]!.loss!).toBeGreaterThan(0);
    expect(losses[0]!.loss!).toBeLessThan(0.3);

    // And with the scaffolded head (the head group's options are `# @package model.head`).
    const head = await vidra(dir, ['run', '-cp', join(REPO, 'conf'), '-cd', 'conf', 'head=lin_head', 'task.epochs=1', 'vidra.run.dir=runs/head']);
    expect(head.code, head.stderr).toBe(0);
    expect(read(dir, 'runs/head/.vidra/resolved.yaml')).toMatch(/^ {2}head:\n {4}_target_: mylab\.lin_head\n {4}in_dim: 32\n {4}out_dim: 140\n/m);
    expect(existsSync(join(dir, 'runs/head/checkpoints/last.safetensors'))).toBe(true);

    // And on the scaffolded dataset, as its hint says (8 features, 4 classes): 2 epochs of 64 rows in batches of 16.
    const onData = await vidra(dir, ['run', '-cp', join(REPO, 'conf'), '-cd', 'conf', 'data=toy', 'model.head.in_dim=8', 'model.head.out_dim=4', 'task.metrics=[map]', 'task.epochs=2', 'vidra.run.dir=runs/data']);
    expect(onData.code, onData.stderr).toBe(0);
    const final = JSON.parse(read(dir, 'runs/data/metrics.json')) as { step: number; map: number };
    expect(final.step).toBe(8);
    expect(final.map).toBeGreaterThan(0);
    expect(final.map).toBeLessThanOrEqual(1);
  });

  it('the other eight kinds in one project: their tests pass together, tsc passes, vidra run trains, sweeps and learns continually with them', { timeout: 300_000 }, async () => {
    const dir = project();
    const kinds: Array<[string, string, string | null]> = [
      ['optimizer', 'mylab.lion', 'conf/optim/lion.yaml'],
      ['scheduler', 'mylab.inv_sqrt', 'conf/scheduler/inv_sqrt.yaml'],
      ['metric', 'mylab.micro_f1', null],
      ['sampler', 'mylab.block_shuffle', 'conf/sampler/block_shuffle.yaml'],
      ['strategy', 'mylab.recent_replay', 'conf/strategy/recent_replay.yaml'],
      ['callback', 'mylab.epoch_loss', 'conf/callbacks/epoch_loss.yaml'],
      ['launcher', 'mylab.serial', 'conf/vidra/launcher/serial.yaml'],
      ['sweeper', 'mylab.random_grid', 'conf/vidra/sweeper/random_grid.yaml'],
    ];
    for (const [kind, name, config] of kinds) {
      const r = await vidra(dir, ['new', 'plugin', kind, name]);
      expect(r.code, r.stderr).toBe(0);
      const option = name.slice('mylab.'.length);
      // Metrics are built by name in tasks: no config node, and the scaffold says how to use them.
      expect(r.stdout.includes('  created conf/'), kind).toBe(config !== null);
      if (config) expect(r.stdout).toContain(`  created ${config}\n`);
      expect(r.stdout).toContain(`  created plugins/${option}.ts\n  created test/${option}.test.ts\n`);
    }
    expect(read(dir, 'conf/config.yaml')).toBe('defaults:\n  - optim: lion\n  - _self_\n');
    expect(read(dir, 'conf/callbacks/epoch_loss.yaml')).toBe('# @package callbacks.epoch_loss\n_target_: mylab.epoch_loss\npath: epoch_loss.json\nstop_below: null\n');
    expect(read(dir, 'conf/vidra/launcher/serial.yaml')).toBe('_target_: mylab.serial\nfail_fast: true\n');
    expect(read(dir, 'plugins/lion.ts')).toContain('export class LionOptimizer implements OptimizerModule {');
    expect(read(dir, 'plugins/serial.ts')).toContain('export class SerialLauncher implements Launcher {');
    expect(JSON.parse(read(dir, 'vidra.config.json')).plugins).toEqual(kinds.map(([, name]) => `./plugins/${name.slice('mylab.'.length)}.ts`));

    // The eight scaffolded tests in one run of Node's test runner, as the scaffold says to run each.
    const tests = await exec(TSX, ['--test', ...kinds.map(([, name]) => `test/${name.slice('mylab.'.length)}.test.ts`)], dir, 180_000);
    expect(tests.code, tests.stdout + tests.stderr).toBe(0);
    expect(tests.stdout).toMatch(/^# pass 8$/m);
    const tsc = await exec(TSC, ['-p', '.'], dir, 120_000);
    expect(tsc.stdout + tsc.stderr).toBe('');

    // The bundled train experiment with the scaffolded optimizer, schedule, sampler, callback and metric.
    const train = await vidra(dir, [
      'run', '-cp', join(REPO, 'conf'), '-cd', 'conf', 'optim=lion', 'scheduler=inv_sqrt', '+sampler=block_shuffle', '+callbacks=epoch_loss',
      'task.metrics=[map,mylab.micro_f1]', 'task.epochs=2', 'task.log_every=1', 'vidra.run.dir=runs/train',
    ]);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stdout).toContain('scheduler: mylab.inv_sqrt over 10 steps of warmup, then 1/sqrt decay with timescale 10\n');
    const resolved = read(dir, 'runs/train/.vidra/resolved.yaml');
    expect(resolved).toContain('optim:\n  _target_: mylab.lion\n  lr: 0.003\n');
    expect(resolved).toContain('scheduler:\n  _target_: mylab.inv_sqrt\n  warmup_steps: 10\n');
    expect(resolved).toContain('sampler:\n  _target_: mylab.block_shuffle\n  block_size: 16\n  seed: 0\n');
    const lines = read(dir, 'runs/train/metrics.jsonl').trim().split('\n').map((l) => JSON.parse(l) as { step: number; epoch: number; loss?: number; lr?: number; micro_f1?: number });
    const steps = lines.filter((l) => l.loss !== undefined);
    expect(steps.map((l) => l.step)).toEqual(steps.map((_, i) => i + 1));
    expect(steps.length).toBeGreaterThan(11);
    // The base lr 3e-3 (conf/config.yaml) times the schedule: 0 at step 1, (k − 1)/10 in the warmup, then 1/sqrt((k − 1)/10).
    for (const { step, lr } of steps) expect(lr).toBeCloseTo(3e-3 * (step <= 10 ? (step - 1) / 10 : 1 / Math.sqrt((step - 1) / 10)), 15);
    // The callback's file: each epoch's mean of the losses metrics.jsonl logged.
    const epochs = (JSON.parse(read(dir, 'runs/train/epoch_loss.json')) as { epochs: Array<{ epoch: number; steps: number; mean_loss: number }> }).epochs;
    expect(epochs.map((e) => [e.epoch, e.steps])).toEqual([[0, steps.length / 2], [1, steps.length / 2]]);
    for (const e of epochs) {
      const losses = steps.filter((l) => l.epoch === e.epoch).map((l) => l.loss!);
      expect(e.mean_loss).toBeCloseTo(losses.reduce((a, b) => a + b, 0) / losses.length, 12);
    }
    const final = JSON.parse(read(dir, 'runs/train/metrics.json')) as { step: number; micro_f1: number };
    expect(final.step).toBe(steps.length);
    expect(final.micro_f1).toBeGreaterThanOrEqual(0);
    expect(final.micro_f1).toBeLessThanOrEqual(1);
    expect(lines.filter((l) => l.micro_f1 !== undefined)).toHaveLength(2);

    // A sweep with the scaffolded launcher and sweeper: seed 0 draws 2 of the 3 learning rates (the 2nd and 3rd).
    const sweep = await vidra(dir, [
      'run', '-cp', join(REPO, 'conf'), '-cd', 'conf', '-m', 'vidra/launcher=serial', 'vidra/sweeper=random_grid', 'vidra.sweeper.num_samples=2',
      'optim.lr=1e-3,2e-3,3e-3', 'task.epochs=1', 'vidra.sweep.dir=sweeps/train',
    ]);
    expect(sweep.code, sweep.stderr).toBe(0);
    expect(read(dir, 'sweeps/train/multirun.yaml')).toContain('  launcher:\n    _target_: mylab.serial\n    fail_fast: true\n  sweeper:\n    _target_: mylab.random_grid\n');
    const jobs = (JSON.parse(read(dir, 'sweeps/train/summary.json')) as { jobs: Array<{ num: number; status: string; overrides: string[] }> }).jobs;
    expect(jobs.map((j) => [j.num, j.status, j.overrides.filter((o) => o.startsWith('optim.'))])).toEqual([
      [0, 'completed', ['optim.lr=2e-3']],
      [1, 'completed', ['optim.lr=3e-3']],
    ]);
    expect(read(dir, 'sweeps/train/1/.vidra/resolved.yaml')).toContain('optim:\n  _target_: adamw\n  lr: 0.003\n');
    expect(existsSync(join(dir, 'sweeps/train/1/checkpoints/last.safetensors'))).toBe(true);

    // Continual learning on the bundled synthetic user streams with the scaffolded strategy, as its hint says.
    const continual = await vidra(dir, ['run', '-cp', join(REPO, 'conf'), '-cd', 'conf', '+experiment=ego4d_continual', 'strategy=recent_replay', 'vidra.run.dir=runs/continual']);
    expect(continual.code, continual.stderr).toBe(0);
    expect(read(dir, 'runs/continual/.vidra/resolved.yaml')).toContain('strategy:\n  _target_: mylab.recent_replay\n  mem_size: 64\n  batch_size_mem: 4\n');
    const online = JSON.parse(read(dir, 'runs/continual/metrics.json')) as { users: number; 'online/acc_verb': number };
    expect(online.users).toBe(3);
    expect(online['online/acc_verb']).toBeGreaterThan(0);
  });

  it('--package: a separate npm package the settings list by name; its test passes and vidra run loads it through node_modules', { timeout: 180_000 }, async () => {
    const dir = project();
    writeFileSync(join(dir, 'vidra.config.json'), `${JSON.stringify({ configDir: 'conf', plugins: [] }, null, 2)}\n`);
    const r = await vidra(dir, ['new', 'plugin', 'loss', 'mylab.brier', '--package']);
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        '  created conf/loss/brier.yaml',
        '  created conf/config.yaml',
        '  created packages/vidra-plugin-brier/package.json',
        '  created packages/vidra-plugin-brier/tsconfig.json',
        '  created packages/vidra-plugin-brier/index.ts',
        '  created packages/vidra-plugin-brier/test/brier.test.ts',
        '  updated vidra.config.json (plugins: vidra-plugin-brier)',
        '  updated package.json (dependencies: vidra-plugin-brier)',
        '',
        'next:',
        '  npm install    (links packages/vidra-plugin-brier into node_modules)',
        '  (cd packages/vidra-plugin-brier && npx tsx --test test/brier.test.ts)',
        '  npx vidra run -cp node_modules/vidra/conf -cd conf ++loss=brier    (the bundled train experiment with this loss)',
        '',
      ].join('\n'),
    });
    expect(JSON.parse(read(dir, 'vidra.config.json'))).toEqual({ configDir: 'conf', plugins: ['vidra-plugin-brier'] });
    expect(JSON.parse(read(dir, 'package.json')).dependencies).toEqual({ vidra: '^0.1.0', 'vidra-plugin-brier': 'file:packages/vidra-plugin-brier' });
    const pkg = JSON.parse(read(dir, 'packages/vidra-plugin-brier/package.json')) as Record<string, unknown>;
    expect(pkg).toMatchObject({ name: 'vidra-plugin-brier', type: 'module', exports: { '.': './index.ts' }, peerDependencies: { vidra: '>=0.1.0' } });
    // What `npm install` does with a file: dependency.
    symlinkSync(join('..', 'packages', 'vidra-plugin-brier'), join(dir, 'node_modules', 'vidra-plugin-brier'), 'dir');

    const test = await exec(TSX, ['--test', 'test/brier.test.ts'], join(dir, 'packages', 'vidra-plugin-brier'));
    expect(test.code, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/^# pass 1$/m);
    const tsc = await exec(TSC, ['-p', '.'], join(dir, 'packages', 'vidra-plugin-brier'), 120_000);
    expect(tsc.stdout + tsc.stderr).toBe('');

    // The project's schemas know the package's plugin: its config validates, a wrong type does not.
    // --vscode sets yaml.schemas in .vscode/settings.json and keeps the other settings.
    mkdirSync(join(dir, '.vscode'));
    writeFileSync(join(dir, '.vscode', 'settings.json'), '{ "editor.tabSize": 2 }\n');
    const schema = await vidra(dir, ['schema', '--out', 'schemas', '--vscode']);
    expect(schema.code, schema.stderr).toBe(0);
    expect(schema.stdout.trimEnd().split('\n').at(-1)).toBe('set yaml.schemas in .vscode/settings.json');
    const printed = JSON.parse(schema.stdout.slice(schema.stdout.indexOf('{'), schema.stdout.lastIndexOf('}') + 1)) as { 'yaml.schemas': Record<string, string[]> };
    expect(printed['yaml.schemas']['./schemas/loss.schema.json']).toEqual(['conf/loss/*.yaml']);
    expect(JSON.parse(read(dir, '.vscode/settings.json'))).toEqual({ 'editor.tabSize': 2, ...printed });
    const validate = new Ajv({ strict: true, allowUnionTypes: true }).compile(JSON.parse(read(dir, 'schemas/loss.schema.json')) as object);
    expect(validate(parse(read(dir, 'conf/loss/brier.yaml')))).toBe(true);
    expect(validate({ _target_: 'mylab.brier', scale: 'big' })).toBe(false);

    const listed = await vidra(dir, ['plugins', 'loss']);
    expect(listed.stdout).toContain('  mylab.brier          multi-label Brier score: scale * (sigmoid(x) - y)^2\n      scale: number = 1                  multiplies every element loss\n');
    // A scheduler package too, trained together with the loss package.
    const scheduler = await vidra(dir, ['new', 'plugin', 'scheduler', 'mylab.inv_sqrt', '--package']);
    expect(scheduler.code, scheduler.stderr).toBe(0);
    expect(scheduler.stdout).toContain('  created conf/scheduler/inv_sqrt.yaml\n  created packages/vidra-plugin-inv-sqrt/package.json\n');
    symlinkSync(join('..', 'packages', 'vidra-plugin-inv-sqrt'), join(dir, 'node_modules', 'vidra-plugin-inv-sqrt'), 'dir');
    const schedulerTest = await exec(TSX, ['--test', 'test/inv_sqrt.test.ts'], join(dir, 'packages', 'vidra-plugin-inv-sqrt'));
    expect(schedulerTest.code, schedulerTest.stdout + schedulerTest.stderr).toBe(0);
    expect(schedulerTest.stdout).toMatch(/^# pass 1$/m);

    const train = await vidra(dir, ['run', '-cp', join(REPO, 'conf'), '-cd', 'conf', '++loss=brier', 'scheduler=inv_sqrt', 'task.epochs=1', 'task.log_every=1', 'vidra.run.dir=runs/train']);
    expect(train.code, train.stderr).toBe(0);
    expect(read(dir, 'runs/train/.vidra/resolved.yaml')).toContain('loss:\n  _target_: mylab.brier\n');
    expect(read(dir, 'runs/train/.vidra/resolved.yaml')).toContain('scheduler:\n  _target_: mylab.inv_sqrt\n');
    expect(read(dir, 'runs/train/.vidra/vidra.yaml')).toContain('- vidra-plugin-brier\n  - vidra-plugin-inv-sqrt\n');
    // Step 1 of the warmup runs with lr 0.
    expect(JSON.parse(read(dir, 'runs/train/metrics.jsonl').split('\n')[0]!)).toMatchObject({ step: 1, lr: 0 });

    // A task package too: its own test runs `vidra run` in a scratch project that loads the package's module.
    const task = await vidra(dir, ['new', 'plugin', 'task', 'hello', '--package']);
    expect(task.code, task.stderr).toBe(0);
    const taskTest = await exec(TSX, ['--test', 'test/hello.test.ts'], join(dir, 'packages', 'vidra-plugin-hello'));
    expect(taskTest.code, taskTest.stdout + taskTest.stderr).toBe(0);
    expect(JSON.parse(read(dir, 'vidra.config.json')).plugins).toEqual(['vidra-plugin-brier', 'vidra-plugin-inv-sqrt', 'vidra-plugin-hello']);
  });

  it('bad input: one usage error, exit 2, nothing written', { timeout: 60_000 }, async () => {
    const dir = project();
    await vidra(dir, ['new', 'plugin', 'loss', 'mylab.brier']);
    const before = files(dir).map((f) => [f, read(dir, f)]);
    const cases: Array<[string[], string]> = [
      [['new', 'plugin', 'los', 'x'], "Error: vidra new plugin: there is no plugin kind 'los'. Did you mean 'loss'? Plugin kinds: dataset, sampler, model, loss, strategy, metric, optimizer, scheduler, launcher, sweeper, callback, task"],
      [['new', 'plugin', 'metric', 'map'], "Error: vidra new plugin: Vidra has a built-in metric plugin named 'map'; choose another name (e.g. a scoped 'mylab.map')"],
      [['new', 'plugin', 'launcher', 'local'], "Error: vidra new plugin: Vidra has a built-in launcher plugin named 'local'; choose another name (e.g. a scoped 'mylab.local')"],
      [['new', 'plugin', 'loss', 'my lab'], "Error: vidra new plugin: invalid plugin name 'my lab': use letters, digits, '_', '-' and '.' (for a scope, e.g. 'mylab.brier')"],
      [['new', 'plugin', 'loss', 'bce'], "Error: vidra new plugin: Vidra has a built-in loss plugin named 'bce'; choose another name (e.g. a scoped 'mylab.bce')"],
      [['new', 'plugin', 'loss', 'other.brier'], 'Error: vidra new plugin: conf/loss/brier.yaml, plugins/brier.ts, test/brier.test.ts already exist; choose another name, or remove them first (nothing was written)'],
      [['new', 'plugin', 'loss'], 'Error: vidra new plugin needs a kind and a name (e.g. vidra new plugin loss mylab.brier). usage: vidra new plugin <kind> <name> [--package]'],
      [['new', 'widget'], "Error: vidra new: cannot create 'widget': vidra new creates plugins. usage: vidra new plugin <kind> <name> [--package]"],
    ];
    for (const [args, message] of cases) {
      const r = await vidra(dir, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n')[0]).toBe(message);
    }
    expect(files(dir).map((f) => [f, read(dir, f)])).toEqual(before);
    expect(existsSync(join(dir, 'packages'))).toBe(false);
  });
});
