// A single `vidra run`: where its run directory is, and everything it holds.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { BIN, makeProject, metricsWithoutTime, removeProjects, REPO, runDirNamesBetween, type StatusJson } from '../helpers/project.ts';

afterAll(removeProjects);

const T = 30_000;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const LOG_LINE = /^\[(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\]\[(INFO|WARN|ERROR|DEBUG)\] (.*)$/;

/** The fixture's `succeed` task, written out again: metrics.jsonl must hold exactly these losses. */
function expectedMetrics(seed: number, lr: number, steps = 5): string {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let loss = 1;
  let out = '';
  for (let step = 0; step < steps; step++) {
    loss = loss * (1 - lr) + 0.01 * rand();
    out += `${JSON.stringify({ step, loss })}\n`;
  }
  return out;
}

function onnxruntimeVersion(): string {
  try {
    return (createRequire(join(REPO, 'package.json'))('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

describe.concurrent('a single run gets its own run directory with the config, metadata, log, status and task output', () => {
  test('runs/<YYYY-MM-DD>/<HH-MM-SS> holds .vidra/{config,resolved,overrides,vidra}.yaml, job.log, status.json, metrics.jsonl', { timeout: T }, async () => {
    const p = makeProject();
    const before = new Date();
    const r = await p.run(['run', 'optim.lr=0.3', 'seed=4']);
    const after = new Date();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);

    const dirs = p.runDirs();
    expect(dirs).toHaveLength(1);
    const rel = dirs[0]!;
    expect(runDirNamesBetween(before, after).map((n) => `runs/${n}`)).toContain(rel);
    const abs = p.path(rel);
    expect(p.files(rel)).toEqual(['.vidra/config.yaml', '.vidra/overrides.yaml', '.vidra/resolved.yaml', '.vidra/vidra.yaml', 'job.log', 'metrics.jsonl', 'status.json']);

    // The composed config, unresolved (interpolations kept) and resolved; the overrides as given.
    const config = `task:
  _target_: succeed
  steps: 5
optim:
  lr: 0.3
  weight_decay: 0.01
seed: 4
name: run_\${seed}
`;
    expect(p.read(`${rel}/.vidra/config.yaml`)).toBe(config);
    expect(p.read(`${rel}/.vidra/resolved.yaml`)).toBe(config.replace('run_${seed}', 'run_4'));
    expect(p.read(`${rel}/.vidra/overrides.yaml`)).toBe('- optim.lr=0.3\n- seed=4\n');

    // What the task wrote, and what the job returned.
    const metrics = p.read(`${rel}/metrics.jsonl`);
    expect(metricsWithoutTime(metrics)).toBe(expectedMetrics(4, 0.3));
    for (const line of metrics.trimEnd().split('\n')) expect(JSON.parse(line).time).toMatch(ISO);
    const finalLoss = JSON.parse(metrics.trimEnd().split('\n').at(-1)!).loss as number;

    const status = p.status(rel);
    expect(Object.keys(status).sort()).toEqual(['duration_s', 'ended_at', 'pid', 'result', 'started_at', 'status']);
    expect(status).toMatchObject({ status: 'completed', result: { loss: finalLoss } });
    expect(status.started_at).toMatch(ISO);
    expect(status.ended_at).toMatch(ISO);
    expect(status.duration_s).toBe((Date.parse(status.ended_at!) - Date.parse(status.started_at)) / 1000);

    expect(r.stdout).toBe(`run directory: ${abs}\nfinal loss ${finalLoss}\njob completed; run directory: ${rel}\nloss=${finalLoss}\n`);
    const log = p.read(`${rel}/job.log`).trimEnd().split('\n').map((l) => LOG_LINE.exec(l)?.slice(2));
    expect(log).toEqual([
      ['INFO', `run directory: ${abs}`],
      ['INFO', `final loss ${finalLoss}`],
    ]);

    // Run metadata.
    const meta = parseYaml(p.read(`${rel}/.vidra/vidra.yaml`));
    expect(Object.keys(meta)).toEqual(['argv', 'versions', 'git', 'host', 'pid', 'seed', 'config_hash', 'started_at', 'ended_at', 'environment', 'recorded', 'vidra']);
    // What the task recorded through JobContext.record (the fixture task records its step count).
    expect(meta.recorded).toEqual({ succeed: { steps: 5 } });
    expect(meta.argv).toEqual([BIN, 'run', 'optim.lr=0.3', 'seed=4']);
    expect(meta.versions).toEqual({
      vidra: JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version,
      node: process.versions.node,
      onnxruntime: onnxruntimeVersion(),
    });
    expect(meta.git).toEqual({ commit: null, dirty: null }); // the temp project is no git repository
    expect(meta.host).toBe(hostname());
    expect(meta.pid).toBe(status.pid);
    expect(meta.seed).toBe(4);
    expect(meta.config_hash).toBe(`sha256:${createHash('sha256').update(config).digest('hex')}`);
    expect(meta.started_at).toBe(status.started_at);
    expect(meta.ended_at).toBe(status.ended_at);
    expect(meta.environment).toEqual({ configDir: p.path('conf'), configName: 'config', searchPath: [], plugins: ['./test-plugins.mjs'], pluginRoot: p.dir });
    expect(meta.vidra).toMatchObject({
      run: { dir: 'runs/${now:%Y-%m-%d}/${now:%H-%M-%S}' },
      mode: 'RUN',
      job: { name: '${vidra:job.config_name}', config_name: 'config', num: 0, id: `${status.pid}_0`, override_dirname: 'optim.lr=0.3,seed=4' },
      runtime: { cwd: p.dir, output_dir: abs, choices: { 'vidra/launcher': 'local', 'vidra/sweeper': 'basic', task: 'succeed', optim: 'adamw' } },
      overrides: { task: ['optim.lr=0.3', 'seed=4'], vidra: [] },
    });
  });

  test('vidra.yaml records the git commit and whether the work tree was dirty', { timeout: T }, async () => {
    const p = makeProject({ '.gitignore': 'node_modules\nruns/\n' });
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: p.dir }).toString().trim();
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'fixture');
    const commit = git('rev-parse', 'HEAD');
    expect((await p.run(['run', 'vidra.run.dir=runs/clean'])).code).toBe(0);
    p.write('conf/optim/adamw.yaml', 'lr: 0.002\n');
    expect((await p.run(['run', 'vidra.run.dir=runs/dirty'])).code).toBe(0);
    expect(parseYaml(p.read('runs/clean/.vidra/vidra.yaml')).git).toEqual({ commit, dirty: false });
    expect(parseYaml(p.read('runs/dirty/.vidra/vidra.yaml')).git).toEqual({ commit, dirty: true });
  });

  test('vidra.run.dir is configurable, and may read the job config', { timeout: T }, async () => {
    const p = makeProject();
    const [a, b] = await Promise.all([
      p.run(['run', 'vidra.run.dir=out/fixed', 'seed=1']),
      p.run(['run', 'vidra.run.dir=out/${name}_${optim.lr}', 'seed=2']),
    ]);
    expect(a).toMatchObject({ code: 0, stderr: '' });
    expect(b).toMatchObject({ code: 0, stderr: '' });
    expect(p.exists('runs')).toBe(false);
    expect(p.runDirs('out')).toEqual(['out/fixed', 'out/run_2_0.001']);
    expect(a.stdout.split('\n')[2]).toBe('job completed; run directory: out/fixed');
    expect(parseYaml(p.read('out/run_2_0.001/.vidra/vidra.yaml')).vidra.runtime.output_dir).toBe(p.path('out/run_2_0.001'));
  });

  test('a failing task leaves its run directory marked failed, with the error; exit code 1', { timeout: T }, async () => {
    const p = makeProject();
    const r = await p.run(['run', 'task=fail', 'seed=3', 'vidra.run.dir=runs/f']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`run directory: ${p.path('runs/f')}\n`);
    expect(r.stderr).toBe('job failed: boom (seed 3)\njob failed; run directory: runs/f\n');
    const status = p.status('runs/f');
    expect(status).toMatchObject({ status: 'failed', error: { type: 'Error', message: 'boom (seed 3)' } });
    expect(status.error!.stack).toMatch(/^Error: boom \(seed 3\)\n {4}at Fail\.run /);
    expect(p.read('runs/f/job.log')).toMatch(/\]\[ERROR\] job failed: boom \(seed 3\)\n/);
    expect(parseYaml(p.read('runs/f/.vidra/vidra.yaml')).ended_at).toBe(status.ended_at);
  });

  test('task=print_config prints the config into job.log', { timeout: T }, async () => {
    const p = makeProject();
    const r = await p.run(['run', 'task=print_config', 'optim.lr=1.0', 'vidra.run.dir=runs/pc']);
    expect(r.code).toBe(0);
    const config = 'task:\n  _target_: print_config\n  resolve: true\noptim:\n  lr: 1.0\n  weight_decay: 0.01\nseed: 0\nname: run_0\n';
    const log = p.read('runs/pc/job.log');
    const lines = log.split('\n');
    expect(lines[0]).toMatch(LOG_LINE);
    expect(LOG_LINE.exec(lines[1]!)!.slice(2)).toEqual(['INFO', 'composed config (resolved):']);
    expect(lines.slice(2).join('\n')).toBe(`${config}\n`);
    expect(r.stdout).toContain(`composed config (resolved):\n${config}`);
    const unresolved = await p.run(['run', 'task=print_config', 'task.resolve=false', 'vidra.run.dir=runs/pc2']);
    expect(unresolved.code).toBe(0);
    expect(p.read('runs/pc2/job.log')).toContain('composed config:\ntask:\n  _target_: print_config\n  resolve: false\n');
    expect(p.read('runs/pc2/job.log')).toContain('name: run_${seed}\n');
  });
});

describe('two runs started in the same second never share a directory', () => {
  test('6 parallel runs with a fixed vidra.run.dir get runs/fixed, runs/fixed_1, … runs/fixed_5, each complete', { timeout: T }, async () => {
    const p = makeProject();
    const seeds = [1, 2, 3, 4, 5, 6];
    const results = await Promise.all(seeds.map((s) => p.run(['run', 'vidra.run.dir=runs/fixed', `seed=${s}`])));
    for (const r of results) expect(r).toMatchObject({ code: 0, stderr: '' });
    const dirs = p.runDirs();
    expect(dirs).toEqual(['runs/fixed', 'runs/fixed_1', 'runs/fixed_2', 'runs/fixed_3', 'runs/fixed_4', 'runs/fixed_5']);
    const seen = new Map<number, string>();
    for (const d of dirs) {
      expect(p.files(d)).toEqual(['.vidra/config.yaml', '.vidra/overrides.yaml', '.vidra/resolved.yaml', '.vidra/vidra.yaml', 'job.log', 'metrics.jsonl', 'status.json']);
      const status: StatusJson = p.status(d);
      expect(status.status).toBe('completed');
      const meta = parseYaml(p.read(`${d}/.vidra/vidra.yaml`));
      expect(meta.pid).toBe(status.pid);
      expect(meta.vidra.runtime.output_dir).toBe(p.path(d));
      const seed = meta.seed as number;
      expect(p.read(`${d}/.vidra/overrides.yaml`)).toBe(`- vidra.run.dir=runs/fixed\n- seed=${seed}\n`);
      expect(metricsWithoutTime(p.read(`${d}/metrics.jsonl`))).toBe(expectedMetrics(seed, 0.001));
      expect(p.read(`${d}/job.log`).split('\n')[0]).toMatch(new RegExp(`\\] run directory: ${p.path(d).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`));
      seen.set(seed, d);
    }
    expect([...seen.keys()].sort()).toEqual(seeds);
    // Each run printed its own directory.
    for (const r of results) expect(dirs.map((d) => `job completed; run directory: ${d}`)).toContain(r.stdout.split('\n')[2]);
  });
});
