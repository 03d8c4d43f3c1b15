// `vidra rerun <run dir> [flags] [overrides]`: the same job again, from the run's saved config.yaml.
import { afterAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { makeProject, metricsWithoutTime, removeProjects, type Project } from '../helpers/project.ts';

afterAll(removeProjects);

const T = 30_000;
const HINT = '(Set the environment variable VIDRA_FULL_ERROR=1 for a complete stack trace.)\n';

/** A project with one completed run in runs/orig (optim.lr=0.3 seed=4). */
async function withRun(): Promise<Project> {
  const p = makeProject();
  const r = await p.run(['run', 'optim.lr=0.3', 'seed=4', 'vidra.run.dir=runs/orig']);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return p;
}

describe.concurrent('vidra rerun runs a job again from its run directory', () => {
  test('the deterministic task reproduces metrics.jsonl byte for byte (apart from time), in a new directory', { timeout: T }, async () => {
    const p = await withRun();
    // The project's config changes after the run: a rerun must not see it.
    p.write('conf/optim/adamw.yaml', 'lr: 0.9\nweight_decay: 0.5\n');
    p.write('conf/config.yaml', 'defaults:\n  - task: succeed\n  - optim: adamw\n  - _self_\nseed: 99\nname: other\n');
    const r = await p.run(['rerun', 'runs/orig']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    // The run directory pattern is the original run's: runs/orig exists, so the rerun gets runs/orig_1.
    expect(p.runDirs()).toEqual(['runs/orig', 'runs/orig_1']);
    expect(r.stdout.split('\n')[2]).toBe('job completed; run directory: runs/orig_1');
    const a = p.read('runs/orig/metrics.jsonl');
    const b = p.read('runs/orig_1/metrics.jsonl');
    expect(a.split('\n')).toHaveLength(6);
    expect(metricsWithoutTime(b)).toBe(metricsWithoutTime(a));
    expect(p.read('runs/orig_1/.vidra/config.yaml')).toBe(p.read('runs/orig/.vidra/config.yaml'));
    expect(p.read('runs/orig_1/.vidra/resolved.yaml')).toBe(p.read('runs/orig/.vidra/resolved.yaml'));
    expect(p.status('runs/orig_1').result).toEqual(p.status('runs/orig').result);
    const meta = parseYaml(p.read('runs/orig_1/.vidra/vidra.yaml'));
    expect(meta.config_hash).toBe(parseYaml(p.read('runs/orig/.vidra/vidra.yaml')).config_hash);
    expect(meta.argv.slice(1)).toEqual(['rerun', 'runs/orig']);
    expect(meta.vidra.runtime.output_dir).toBe(p.path('runs/orig_1'));
  });

  test('a rerun with the default run dir pattern goes to a fresh runs/<date>/<time>', { timeout: T }, async () => {
    const p = makeProject();
    expect((await p.run(['run', 'seed=2'])).code).toBe(0);
    const [first] = p.runDirs();
    const r = await p.run(['rerun', first!]);
    expect(r.code).toBe(0);
    const dirs = p.runDirs();
    expect(dirs).toHaveLength(2);
    expect(dirs[1]).toMatch(/^runs\/\d{4}-\d{2}-\d{2}\/\d{2}-\d{2}-\d{2}(_1)?$/);
    expect(metricsWithoutTime(p.read(`${dirs[1]}/metrics.jsonl`))).toBe(metricsWithoutTime(p.read(`${first}/metrics.jsonl`)));
  });

  test('extra value overrides apply: seed=5 changes the metrics, interpolations follow', { timeout: T }, async () => {
    const p = await withRun();
    const [r, fresh] = await Promise.all([
      p.run(['rerun', 'runs/orig', 'seed=5', 'vidra.run.dir=runs/seed5']),
      p.run(['run', 'optim.lr=0.3', 'seed=5', 'vidra.run.dir=runs/fresh5']),
    ]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(fresh.code).toBe(0);
    expect(p.read('runs/seed5/.vidra/overrides.yaml')).toBe('- seed=5\n- vidra.run.dir=runs/seed5\n');
    expect(p.read('runs/seed5/.vidra/resolved.yaml')).toBe(
      'task:\n  _target_: succeed\n  steps: 5\noptim:\n  lr: 0.3\n  weight_decay: 0.01\nseed: 5\nname: run_5\n',
    );
    expect(metricsWithoutTime(p.read('runs/seed5/metrics.jsonl'))).not.toBe(metricsWithoutTime(p.read('runs/orig/metrics.jsonl')));
    expect(metricsWithoutTime(p.read('runs/seed5/metrics.jsonl'))).toBe(metricsWithoutTime(p.read('runs/fresh5/metrics.jsonl')));
  });

  test('a group override on rerun is a clear error (exit 2), and nothing runs', { timeout: T }, async () => {
    const p = await withRun();
    const r = await p.run(['rerun', 'runs/orig', 'optim=sgd']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `Error: 'optim=sgd': 'optim' was a config group in the run being rerun (${p.path('runs/orig')}); rerun keeps that run's composed config, ` +
        `so change values (e.g. optim.<key>=...) or start a new run with 'vidra run'\n${HINT}`,
    );
    expect(p.runDirs()).toEqual(['runs/orig']);
  });

  test('a directory that is not a run directory: exit 2, clear message', { timeout: T }, async () => {
    const p = await withRun();
    const [conf, nope, none, flag] = await Promise.all([
      p.run(['rerun', 'conf']),
      p.run(['rerun', 'runs/nope']),
      p.run(['rerun']),
      p.run(['rerun', '--cfg', 'job']),
    ]);
    const notRun = (arg: string, missing: string) =>
      `Error: '${arg}' is not a run directory: ${p.path(missing)} does not exist, and no subfolder holds config.yaml and vidra.yaml naming it as vidra.output_subdir\n${HINT}`;
    expect(conf).toMatchObject({ code: 2, stdout: '', stderr: notRun('conf', 'conf/.vidra/config.yaml') });
    expect(nope).toMatchObject({ code: 2, stdout: '', stderr: notRun('runs/nope', 'runs/nope/.vidra/config.yaml') });
    expect(none).toMatchObject({ code: 2, stdout: '', stderr: `Error: usage: vidra rerun <run dir> [flags] [overrides...]\n${HINT}` });
    expect(flag).toMatchObject({ code: 2, stdout: '', stderr: `Error: usage: vidra rerun <run dir> [flags] [overrides...]\n${HINT}` });
    expect(p.runDirs()).toEqual(['runs/orig']);
  });

  test('a job of a sweep can be rerun', { timeout: T }, async () => {
    const p = makeProject();
    expect((await p.run(['run', '-m', 'seed=1,2', 'vidra.sweep.dir=runs/sweep'])).code).toBe(0);
    const r = await p.run(['rerun', 'runs/sweep/1', 'vidra.run.dir=runs/again']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(metricsWithoutTime(p.read('runs/again/metrics.jsonl'))).toBe(metricsWithoutTime(p.read('runs/sweep/1/metrics.jsonl')));
    expect(parseYaml(p.read('runs/again/.vidra/vidra.yaml')).vidra.mode).toBe('RUN');
  });
});

describe.concurrent('vidra rerun takes the flags of vidra run', () => {
  test('--cfg job prints the config the rerun would run, overrides applied, and runs nothing', { timeout: T }, async () => {
    const p = await withRun();
    const [cfg, seed, resolved] = await Promise.all([
      p.run(['rerun', 'runs/orig', '--cfg', 'job']),
      p.run(['rerun', 'runs/orig', 'seed=9', '--cfg=job', '-p', 'seed']),
      p.run(['rerun', '-c', 'job', '--resolve', '--package', 'name', 'runs/orig', 'seed=7']),
    ]);
    expect(cfg).toEqual({ code: 0, signal: null, stderr: '', stdout: p.read('runs/orig/.vidra/config.yaml') });
    expect(seed).toEqual({ code: 0, signal: null, stderr: '', stdout: '# @package seed\n9\n' });
    expect(resolved).toEqual({ code: 0, signal: null, stderr: '', stdout: '# @package name\nrun_7\n' });
    expect(p.runDirs()).toEqual(['runs/orig']);
  });

  test("--cfg vidra shows the run's own vidra settings; --info defaults the saved config as primary", { timeout: T }, async () => {
    const p = await withRun();
    const [vidra, info] = await Promise.all([p.run(['rerun', 'runs/orig', '--cfg', 'vidra', '-p', 'vidra.run.dir']), p.run(['rerun', 'runs/orig', '--info', 'defaults'])]);
    expect(vidra).toEqual({ code: 0, signal: null, stderr: '', stdout: '# @package vidra.run.dir\nruns/orig\n' });
    expect(info.code).toBe(0);
    expect(info.stdout.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^config +<root> +${p.path('runs/orig/.vidra/config.yaml')}$`));
  });

  test('-m sweeps value overrides of the rerun, each job in the sweep directory', { timeout: T }, async () => {
    const p = await withRun();
    const r = await p.run(['rerun', 'runs/orig', '-m', 'seed=1,2', 'vidra.sweep.dir=runs/again']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(p.runDirs()).toEqual(['runs/again/0', 'runs/again/1', 'runs/orig']);
    expect(parseYaml(p.read('runs/again/1/.vidra/config.yaml')).seed).toBe(2);
    expect(p.status('runs/again/1').status).toBe('completed');
  });

  test('--help prints the rerun usage and its flags (exit 0)', { timeout: T }, async () => {
    const r = await makeProject().run(['rerun', '--help']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.split('\n').slice(0, 4)).toEqual([
      'usage: vidra rerun <run dir> [flags] [overrides...]',
      '',
      "The flags of 'vidra run' (vidra run --help), except --config-name, --config-path, --config-dir:",
      '  -m, --multirun                     run a sweep: one job per combination of the sweep overrides',
    ]);
    expect(r.stdout).not.toContain('--config-name NAME');
  });

  test('flags that choose another primary config are an error (exit 2), as is a group override with --cfg', { timeout: T }, async () => {
    const p = await withRun();
    const [cn, cd, group] = await Promise.all([
      p.run(['rerun', 'runs/orig', '-cn', 'other']),
      p.run(['rerun', '--config-dir=conf', 'runs/orig']),
      p.run(['rerun', 'runs/orig', '--cfg', 'job', 'optim=sgd']),
    ]);
    const msg = (flag: string) => `Error: rerun composes the run's own saved config, so ${flag} does not apply; use 'vidra run' for another config\n${HINT}`;
    expect(cn).toMatchObject({ code: 2, stdout: '', stderr: msg('-cn/--config-name') });
    expect(cd).toMatchObject({ code: 2, stdout: '', stderr: msg('-cd/--config-dir') });
    expect(group).toMatchObject({ code: 2, stdout: '' });
    expect(group.stderr.split('\n')[0]).toBe(
      `Error: 'optim=sgd': 'optim' was a config group in the run being rerun (${p.path('runs/orig')}); rerun keeps that run's composed config, so change values (e.g. optim.<key>=...) or start a new run with 'vidra run'`,
    );
    expect(p.runDirs()).toEqual(['runs/orig']);
  });

  test('a run made with vidra.output_subdir=meta reruns from meta/, and the rerun writes meta/ too', { timeout: T }, async () => {
    const p = makeProject();
    expect((await p.run(['run', 'vidra.output_subdir=meta', 'seed=3', 'vidra.run.dir=runs/m'])).code).toBe(0);
    expect(p.exists('runs/m/.vidra')).toBe(false);
    const r = await p.run(['rerun', 'runs/m']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(p.runDirs()).toEqual(['runs/m', 'runs/m_1']);
    expect(p.read('runs/m_1/meta/config.yaml')).toBe(p.read('runs/m/meta/config.yaml'));
    expect(metricsWithoutTime(p.read('runs/m_1/metrics.jsonl'))).toBe(metricsWithoutTime(p.read('runs/m/metrics.jsonl')));
    expect(p.exists('runs/m_1/.vidra')).toBe(false);
    // A nested output_subdir is found too.
    expect((await p.run(['run', 'vidra.output_subdir=meta/x', 'vidra.run.dir=runs/n'])).code).toBe(0);
    expect(await p.run(['rerun', 'runs/n', '--cfg', 'vidra', '-p', 'vidra.output_subdir'])).toMatchObject({ code: 0, stdout: '# @package vidra.output_subdir\nmeta/x\n' });
  });
});
