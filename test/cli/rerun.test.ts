// `vidra rerun <run dir> [overrides]`: the same job again, from the run's .vidra/config.yaml.
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
      p.run(['rerun', '--help']),
    ]);
    expect(conf).toMatchObject({ code: 2, stdout: '', stderr: `Error: 'conf' is not a run directory: ${p.path('conf/.vidra/config.yaml')} does not exist\n${HINT}` });
    expect(nope).toMatchObject({ code: 2, stdout: '', stderr: `Error: 'runs/nope' is not a run directory: ${p.path('runs/nope/.vidra/config.yaml')} does not exist\n${HINT}` });
    expect(none).toMatchObject({ code: 2, stdout: '', stderr: `Error: usage: vidra rerun <run dir> [overrides...]\n${HINT}` });
    expect(flag).toMatchObject({ code: 2, stdout: '', stderr: `Error: usage: vidra rerun <run dir> [overrides...]\n${HINT}` });
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
