// What `vidra new plugin` writes for the kinds that run sweeps: a launcher (how a batch of jobs is run) and a
// sweeper (which jobs a sweep has). Both live in Vidra's own config groups, vidra/launcher and vidra/sweeper; their
// tests run real sweeps (`vidra run -m`) of a tiny task in a scratch project.
import type { KindTemplate, PluginNames } from './plugin-templates.ts';

/** The test's preamble: a scratch project whose settings load the plugin module and whose task prints its config. */
const scratchProject = ({ name, option }: PluginNames, module: string, group: string, config: string) => `import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const vidra = join(dirname(fileURLToPath(import.meta.resolve('vidra'))), '..', 'bin', 'vidra.mjs');
const plugin = fileURLToPath(new URL('${module}', import.meta.url));

interface SweepJob {
  num: number;
  status: string;
  overrides: string[];
}

/** A project with the plugin and a task that prints its config; \`sweep\` runs \`vidra run -m\` there and reads summary.json. */
function project(): { dir: string; sweep(name: string, args: string[]): SweepJob[] } {
  const dir = mkdtempSync(join(tmpdir(), '${option}-'));
  writeFileSync(join(dir, 'vidra.config.json'), JSON.stringify({ plugins: [plugin] }));
  mkdirSync(join(dir, 'conf', '${group}'), { recursive: true });
  writeFileSync(join(dir, 'conf', 'config.yaml'), 'task:\\n  _target_: print_config\\n');
  writeFileSync(join(dir, 'conf', '${group}', '${option}.yaml'), ${JSON.stringify(`_target_: ${name}\n${config}`)});
  const sweep = (name: string, args: string[]) => {
    const run = spawnSync(process.execPath, [vidra, 'run', '-m', '-q', '${group}=${option}', \`vidra.sweep.dir=sweeps/\${name}\`, ...args], { cwd: dir, encoding: 'utf8' });
    const summary = join(dir, 'sweeps', name, 'summary.json');
    assert.ok(existsSync(summary), run.stderr);
    return (JSON.parse(readFileSync(summary, 'utf8')) as { jobs: SweepJob[] }).jobs;
  };
  return { dir, sweep };
}
`;

export const LAUNCHER: KindTemplate = {
  group: 'vidra/launcher',
  module: ({ name, className }) => `import { definePlugin, inject, injectable, PLUGIN_CONFIG, type JobReturn, type JobSpec, type LaunchContext, type Launcher } from 'vidra';

interface ${className}Options {
  fail_fast: boolean;
}

/**
 * Runs the jobs of a sweep one after another in this process, through the job runner the built-in \`local\`
 * launcher uses (ctx.runJobHere composes the job, makes its run directory and runs its task), and with
 * \`fail_fast\` starts no job after one that did not complete: the sweep's summary lists those as not_started.
 * Replace launch() with yours: a launcher that runs jobs elsewhere (processes, a cluster) rebuilds each job from
 * ctx.environment and reports starts and ends with ctx.jobStarted and ctx.jobEnded.
 */
@injectable()
export class ${className} implements Launcher {
  constructor(@inject(PLUGIN_CONFIG) private readonly options: ${className}Options) {}

  async launch(jobs: JobSpec[], ctx: LaunchContext): Promise<JobReturn[]> {
    const done: JobReturn[] = [];
    for (const job of jobs) {
      if (ctx.signal.aborted) break;
      const result = await ctx.runJobHere(job);
      done.push(result);
      if (this.options.fail_fast && result.status !== 'completed') break;
    }
    return done;
  }
}

export const plugins = [
  definePlugin({
    kind: 'launcher',
    name: '${name}',
    description: 'run the jobs one after another in this process; fail_fast: none after a failed job',
    schema: {
      type: 'object',
      properties: {
        fail_fast: { type: 'boolean', default: true, description: 'start no job after one that failed' },
      },
      additionalProperties: false,
    },
    create: ${className},
  }),
];
`,
  config: ({ name }) => `_target_: ${name}\nfail_fast: true\n`,
  runHint: ({ option }) => `npx vidra run -cp node_modules/vidra/conf -cd conf -m vidra/launcher=${option} optim.lr=1e-3,3e-3    (a sweep of the bundled train experiment)`,
  test: (n, module) => `// Real sweeps with the launcher: jobs in order, and fail_fast.
${scratchProject(n, module, 'vidra/launcher', 'fail_fast: true\n')}
test('${n.name}: runs the jobs in order; with fail_fast none after a failed job', () => {
  const { dir, sweep } = project();
  try {
    // The second job cannot make its run directory (sweeps/blocked is a file), so it fails.
    mkdirSync(join(dir, 'sweeps'));
    writeFileSync(join(dir, 'sweeps', 'blocked'), '');
    const subdirs = 'vidra.sweep.subdir=first,../blocked/job,third';
    const status = (jobs: SweepJob[]) => jobs.map((j) => [j.num, j.status]);
    assert.deepEqual(status(sweep('fail_fast', [subdirs])), [[0, 'completed'], [1, 'failed'], [2, 'not_started']]);
    assert.deepEqual(status(sweep('all', [subdirs, 'vidra.launcher.fail_fast=false'])), [[0, 'completed'], [1, 'failed'], [2, 'completed']]);
    assert.match(readFileSync(join(dir, 'sweeps', 'all', 'third', 'job.log'), 'utf8'), /_target_: print_config/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
`,
};

export const SWEEPER: KindTemplate = {
  group: 'vidra/sweeper',
  module: ({ name, className }) => `import { definePlugin, expandSweep, inject, injectable, mulberry32, PLUGIN_CONFIG, type JobReturn, type SweepContext, type Sweeper } from 'vidra';

interface ${className}Options {
  num_samples: number;
  seed: number;
}

/**
 * Random search over the grid of the command-line sweeps: \`num_samples\` distinct combinations drawn with a
 * seeded generator (the whole grid when it is smaller), launched in grid order. As the built-in basic sweeper it
 * composes every job first (ctx.check), so a bad value fails the sweep before any job runs. Replace sweep() with
 * your search: ctx.launch runs a batch of jobs and returns their results, so an adaptive search can launch batch
 * after batch and read each one's metrics (JobReturn.result) before choosing the next.
 */
@injectable()
export class ${className} implements Sweeper {
  constructor(@inject(PLUGIN_CONFIG) private readonly options: ${className}Options) {}

  async sweep(overrides: string[], ctx: SweepContext): Promise<JobReturn[]> {
    const grid = expandSweep(overrides, { listGroupOptions: (group) => ctx.groupOptions(group) }).flatMap((job) => ctx.expand(job));
    // A seeded Fisher–Yates shuffle of the grid's positions; the first num_samples, in grid order.
    const random = mulberry32(this.options.seed);
    const order = grid.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const jobs = order
      .slice(0, this.options.num_samples)
      .sort((a, b) => a - b)
      .map((i) => grid[i]!);
    for (const job of jobs) ctx.check(job);
    return ctx.launch(jobs);
  }
}

export const plugins = [
  definePlugin({
    kind: 'sweeper',
    name: '${name}',
    description: 'random search: num_samples seeded draws from the grid of the sweeps',
    schema: {
      type: 'object',
      properties: {
        num_samples: { type: 'integer', minimum: 1, default: 4, description: 'jobs drawn from the grid (all of it when smaller)' },
        seed: { type: 'integer', minimum: 0, default: 0, description: 'seeds the draw: the same seed, the same jobs' },
      },
      additionalProperties: false,
    },
    create: ${className},
  }),
];
`,
  config: ({ name }) => `_target_: ${name}\nnum_samples: 4\nseed: 0\n`,
  runHint: ({ option }) => `npx vidra run -cp node_modules/vidra/conf -cd conf -m vidra/sweeper=${option} optim.lr=1e-4,3e-4,1e-3 data.batch_size=32,64    (4 of these 6 jobs)`,
  test: (n, module) => `// Real sweeps with the sweeper: which jobs of the grid it draws.
${scratchProject(n, module, 'vidra/sweeper', 'num_samples: 4\nseed: 0\n')}
test('${n.name}: num_samples seeded draws from the grid, in grid order', () => {
  const { dir, sweep } = project();
  try {
    const axes = ['+lr=1,2,3', '+batch=8,16'];
    const grid = ['1 8', '1 16', '2 8', '2 16', '3 8', '3 16'];
    const drawn = (jobs: SweepJob[]) => jobs.map((j) => j.overrides.filter((o) => o.startsWith('+')).map((o) => o.split('=')[1]).join(' '));
    const first = sweep('first', axes);
    assert.deepEqual(first.map((j) => j.status), ['completed', 'completed', 'completed', 'completed']);
    // Seed 0 shuffles the grid's positions to [5, 2, 3, 4, 0, 1]: the first four, in grid order.
    const picked = drawn(first);
    assert.deepEqual(picked, ['2 8', '2 16', '3 8', '3 16']);
    // The same seed draws the same jobs; more samples than the grid has: the whole grid.
    assert.deepEqual(drawn(sweep('again', axes)), picked);
    assert.deepEqual(drawn(sweep('all', [...axes, 'vidra.sweeper.num_samples=10'])), grid);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
`,
};
