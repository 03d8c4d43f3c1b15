// `vidra run --cfg/--resolve/--package/--info/-cn/-cp/-cd`: print the composed config or how it was
// composed, without running anything.
import { afterAll, describe, expect, test } from 'vitest';
import { PLUGIN_KINDS } from '../../core/plugins/kinds.ts';
import { makeProject, removeProjects, REPO } from '../helpers/project.ts';

afterAll(removeProjects);

const T = 30_000;
const BUILTIN = `${REPO}/core/conf`;

const JOB = `task:
  _target_: succeed
  steps: 5
optim:
  lr: 0.001
  weight_decay: 0.01
seed: 0
name: run_\${seed}
`;

const vidraYaml = (cwd: string) => `vidra:
  launcher:
    _target_: local
  sweeper:
    _target_: basic
    params: {}
    max_batch_size: 0
  run:
    dir: runs/\${now:%Y-%m-%d}/\${now:%H-%M-%S}
  sweep:
    dir: runs/multirun/\${now:%Y-%m-%d}/\${now:%H-%M-%S}
    subdir: \${vidra:job.num}
  output_subdir: .vidra
  logger: null
  mode: RUN
  job:
    name: \${vidra:job.config_name}
    config_name: config
    num: 0
    id: ???
    override_dirname: ''
    config:
      override_dirname:
        kv_sep: '='
        item_sep: ','
        exclude_keys: []
  runtime:
    cwd: ${cwd}
    output_dir: ???
    choices:
      vidra/launcher: local
      vidra/sweeper: basic
      task: succeed
      optim: adamw
  overrides:
    task: []
    vidra: []
  verbose: false
  report: true
`;

describe.concurrent('vidra run --cfg prints the composed config and runs nothing', () => {
  const p = makeProject();

  test('--cfg job: composition order, the vidra node left out, overrides applied', { timeout: T }, async () => {
    const r = await p.run(['run', '--cfg', 'job', '+model=slowfast', 'optim.lr=1.5e-4']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`task:
  _target_: succeed
  steps: 5
optim:
  lr: 0.00015
  weight_decay: 0.01
seed: 0
name: run_\${seed}
model:
  name: slowfast
  depth: 50
`);
    expect(p.exists('runs')).toBe(false);
  });

  test('--cfg job without overrides', { timeout: T }, async () => {
    const r = await p.run(['run', '--cfg', 'job']);
    expect(r).toMatchObject({ code: 0, stdout: JOB, stderr: '' });
  });

  test('floats keep their decimal point, ints stay ints (as OmegaConf.to_yaml)', { timeout: T }, async () => {
    const r = await p.run(['run', '-c', 'job', 'optim.lr=1.0', 'optim.weight_decay=1e3', 'seed=1_000', '+a=1e-10', '+b=-.5', '+c=[1.0,2]', '+d=inf']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`task:
  _target_: succeed
  steps: 5
optim:
  lr: 1.0
  weight_decay: 1000.0
seed: 1000
name: run_\${seed}
a: 1.0e-10
b: -0.5
c:
- 1.0
- 2
d: .inf
`);
  });

  test('--cfg vidra prints only the vidra node, --cfg all both (vidra first)', { timeout: T }, async () => {
    const [v, all] = await Promise.all([p.run(['run', '--cfg', 'vidra']), p.run(['run', '--cfg=all'])]);
    expect(v).toMatchObject({ code: 0, stdout: vidraYaml(p.dir), stderr: '' });
    expect(all).toMatchObject({ code: 0, stdout: vidraYaml(p.dir) + JOB, stderr: '' });
  });

  test('--cfg vidra records the overrides, split into the task and vidra ones', { timeout: T }, async () => {
    const r = await p.run(['run', '--cfg', 'vidra', 'seed=3', 'vidra.verbose=true', 'vidra/launcher=local_parallel']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`  launcher:
    _target_: local_parallel
    n_jobs: 2
`);
    expect(r.stdout.slice(r.stdout.indexOf('  overrides:'))).toBe(`  overrides:
    task:
    - seed=3
    vidra:
    - vidra.verbose=true
    - vidra/launcher=local_parallel
  verbose: true
  report: true
`);
  });

  test('--resolve resolves interpolations', { timeout: T }, async () => {
    const r = await p.run(['run', '--cfg', 'job', '--resolve', 'seed=7']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(JOB.replace('seed: 0', 'seed: 7').replace('run_${seed}', 'run_7'));
  });

  test('--cfg vidra --resolve fills in the run directories and the job name', { timeout: T }, async () => {
    const r = await p.run(['run', '--cfg', 'vidra', '--resolve']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.find((l) => l.startsWith('    dir: runs/2'))).toMatch(/^ {4}dir: runs\/\d{4}-\d{2}-\d{2}\/\d{2}-\d{2}-\d{2}$/);
    expect(lines.find((l) => l.startsWith('    dir: runs/multirun/'))).toMatch(/^ {4}dir: runs\/multirun\/\d{4}-\d{2}-\d{2}\/\d{2}-\d{2}-\d{2}$/);
    expect(lines).toContain('    subdir: 0');
    expect(lines).toContain('    name: config');
  });

  test('--package prints a package header, then the node', { timeout: T }, async () => {
    const [optim, lr, resolved, launcher] = await Promise.all([
      p.run(['run', '--cfg', 'job', '--package', 'optim']),
      p.run(['run', '--cfg', 'job', '-p', 'optim.lr']),
      p.run(['run', '--cfg', 'job', '--resolve', '-p', 'name', 'seed=4']),
      p.run(['run', '--cfg', 'vidra', '--package=vidra.launcher', 'vidra/launcher=local_parallel']),
    ]);
    expect(optim).toMatchObject({ code: 0, stdout: '# @package optim\nlr: 0.001\nweight_decay: 0.01\n', stderr: '' });
    expect(lr).toMatchObject({ code: 0, stdout: '# @package optim.lr\n0.001\n', stderr: '' });
    expect(resolved).toMatchObject({ code: 0, stdout: '# @package name\nrun_4\n', stderr: '' });
    expect(launcher).toMatchObject({ code: 0, stdout: '# @package vidra.launcher\n_target_: local_parallel\nn_jobs: 2\n', stderr: '' });
  });

  test('--package of a node that does not exist is a usage error', { timeout: T }, async () => {
    const r = await p.run(['run', '--cfg', 'job', '--package', 'optim.nope']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe("Error: --package: the composed config has no node 'optim.nope'");
  });
});

describe.concurrent('vidra run --info shows how the config was composed', () => {
  const p = makeProject();

  test('--info defaults: the merge order with packages and files', { timeout: T }, async () => {
    const r = await p.run(['run', '--info', 'defaults', '+model=slowfast']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`== Defaults list == (merge order)
config path           package         file
vidra/launcher/local  vidra.launcher  ${BUILTIN}/vidra/launcher/local.yaml
vidra/sweeper/basic   vidra.sweeper   ${BUILTIN}/vidra/sweeper/basic.yaml
vidra/config          vidra           ${BUILTIN}/vidra/config.yaml
task/succeed          task            ${p.dir}/conf/task/succeed.yaml
optim/adamw           optim           ${p.dir}/conf/optim/adamw.yaml
config                <root>          ${p.dir}/conf/config.yaml
model/slowfast        model           ${p.dir}/conf/model/slowfast.yaml

`);
  });

  test('--info defaults-tree', { timeout: T }, async () => {
    const r = await p.run(['run', '--info', 'defaults-tree', 'optim=sgd']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`== Defaults tree ==
<root>
  vidra/config (@vidra)
    vidra/launcher/local (@vidra.launcher)
      _self_
    vidra/sweeper/basic (@vidra.sweeper)
      _self_
    _self_
  config
    task/succeed (@task)
      _self_
    optim/sgd (@optim)
      _self_
    _self_

`);
  });

  test('--info searchpath', { timeout: T }, async () => {
    const r = await p.run(['run', '--info', 'searchpath']);
    expect(r).toMatchObject({ code: 0, stdout: `== Search path ==\n  main: ${p.dir}/conf\n  vidra: ${BUILTIN}\n\n`, stderr: '' });
  });

  test('--info config: the job config and the group choices', { timeout: T }, async () => {
    const r = await p.run(['run', '--info', 'config', 'optim=sgd']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`== Config ==
${JOB.replace('lr: 0.001\n  weight_decay: 0.01', 'lr: 0.1\n  momentum: 0.9')}
== Choices ==
  vidra/launcher: local
  vidra/sweeper: basic
  task: succeed
  optim: sgd

`);
  });

  test('--info plugins: built-in and project plugins', { timeout: T }, async () => {
    const r = await p.run(['run', '--info', 'plugins']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('== Plugins ==');
    expect(lines.slice(-2)).toEqual(['', '']);
    const entries = lines.slice(1, -2);
    for (const l of entries) expect(l).toMatch(/^ {2}[a-z]+:[\w.-]+( {2}\(from \.\/test-plugins\.mjs\))?$/);
    // Grouped by kind in the registry's order; the project's modules say where they came from.
    const kinds = entries.map((l) => l.trim().split(':')[0]!);
    expect(kinds).toEqual([...kinds].sort((a, b) => PLUGIN_KINDS.indexOf(a as never) - PLUGIN_KINDS.indexOf(b as never)));
    expect(entries).toEqual(
      expect.arrayContaining([
        '  launcher:local',
        '  launcher:local_parallel',
        '  sweeper:basic',
        '  task:print_config',
        '  task:succeed  (from ./test-plugins.mjs)',
        '  task:fail  (from ./test-plugins.mjs)',
        '  task:sleep  (from ./test-plugins.mjs)',
        '  loss:focal',
        '  optimizer:adamw',
        '  model:clip_projection',
      ]),
    );
  });

  test('--info alone prints every section', { timeout: T }, async () => {
    const r = await p.run(['run', '--info']);
    expect(r.code).toBe(0);
    const headers = r.stdout.split('\n').filter((l) => l.startsWith('== '));
    expect(headers).toEqual(['== Search path ==', '== Defaults list == (merge order)', '== Defaults tree ==', '== Config ==', '== Choices ==', '== Plugins ==']);
    expect(p.exists('runs')).toBe(false);
  });
});

describe.concurrent('-cn, -cp and -cd choose the primary config and the search path', () => {
  const p = makeProject({
    'conf/other.yaml': 'defaults:\n  - optim: sgd\n  - _self_\nseed: 7\n',
    'alt/config.yaml': 'defaults:\n  - optim: adamw\n  - _self_\nseed: 9\n',
    'alt/optim/adamw.yaml': 'lr: 0.5\n',
    'alt/second.yaml': 'seed: 11\n',
    'extra/optim/lamb.yaml': 'lr: 0.02\nbetas: [0.9, 0.99]\n',
    'sub/.keep': '',
  });

  test('-cn / --config-name / --config-name=', { timeout: T }, async () => {
    const expected = 'optim:\n  lr: 0.1\n  momentum: 0.9\nseed: 7\n';
    const rs = await Promise.all([
      p.run(['run', '--cfg', 'job', '-cn', 'other']),
      p.run(['run', '--cfg', 'job', '--config-name', 'other']),
      p.run(['run', '--cfg', 'job', '--config-name=other']),
    ]);
    for (const r of rs) expect(r).toMatchObject({ code: 0, stdout: expected, stderr: '' });
  });

  test('-cp replaces the primary config dir (relative to the cwd)', { timeout: T }, async () => {
    const [rel, fromSub] = await Promise.all([
      p.run(['run', '--cfg', 'job', '-cp', 'alt']),
      p.run(['run', '--cfg', 'job', '--config-path', '../alt'], { cwd: 'sub' }),
    ]);
    expect(rel).toMatchObject({ code: 0, stdout: 'optim:\n  lr: 0.5\nseed: 9\n', stderr: '' });
    expect(fromSub).toMatchObject({ code: 0, stdout: 'optim:\n  lr: 0.5\nseed: 9\n', stderr: '' });
  });

  test('-cp takes an absolute path, and the conf groups of the project are gone', { timeout: T }, async () => {
    const [abs, info, sgd] = await Promise.all([
      p.run(['run', '--cfg', 'job', '-cp', p.path('alt'), '-cn', 'second']),
      p.run(['run', '--info', 'searchpath', '-cp', p.path('alt')]),
      p.run(['run', '--cfg', 'job', '-cp', 'alt', 'optim=sgd']),
    ]);
    expect(abs).toMatchObject({ code: 0, stdout: 'seed: 11\n', stderr: '' });
    expect(info).toMatchObject({ code: 0, stdout: `== Search path ==\n  main: ${p.dir}/alt\n  vidra: ${BUILTIN}\n\n` });
    expect(sgd.code).toBe(2);
    expect(sgd.stderr).toContain("Available options in 'optim': adamw.");
  });

  test('-cd adds a search-path entry: an option that exists only there becomes selectable', { timeout: T }, async () => {
    const [without, withDir, info] = await Promise.all([
      p.run(['run', '--cfg', 'job', 'optim=lamb']),
      p.run(['run', '--cfg', 'job', '-cd', 'extra', 'optim=lamb']),
      p.run(['run', '--info', 'searchpath', '--config-dir', 'extra']),
    ]);
    expect(without.code).toBe(2);
    expect(without.stdout).toBe('');
    expect(withDir).toMatchObject({ code: 0, stderr: '' });
    expect(withDir.stdout).toBe(JOB.replace('lr: 0.001\n  weight_decay: 0.01', 'lr: 0.02\n  betas:\n  - 0.9\n  - 0.99'));
    expect(info.stdout).toBe(`== Search path ==\n  main: ${p.dir}/conf\n  command-line: ${p.dir}/extra\n  vidra: ${BUILTIN}\n\n`);
  });

  test('--help with -cd lists the options found there', { timeout: T }, async () => {
    const r = await p.run(['run', '--help', '-cd', 'extra']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toContain('optim: adamw, lamb, sgd');
  });
});
