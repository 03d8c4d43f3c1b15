// `vidra`, `vidra --help`, `vidra --version` and `vidra run --help` (config groups and plugins).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { makeProject, removeProjects, REPO } from '../helpers/project.ts';

afterAll(removeProjects);

const T = 30_000;
const USAGE = `usage: vidra <command> [options] [overrides...]

commands:
  run [flags] [overrides...]              compose the config and run the task (vidra run --help for flags and config groups)
  rerun <run dir> [flags] [overrides...]  run again from a run directory's saved config (vidra rerun --help)
  status <sweep dir>                      progress and table of a slurm sweep (after --detach)
  resubmit <sweep dir> [--failed]         submit a slurm sweep's jobs that did not complete again
  new plugin <kind> <name> [--package]    scaffold a plugin: module, config, test (--package: a separate npm package)
  plugins [kind]                          list the registered plugins with their config keys (types, defaults, descriptions)
  schema --out <dir> [--vscode]           write the JSON Schemas of the config groups (for editors' YAML language server)
  completion bash|zsh                     print a shell completion script
  report <run or sweep dir>... [flags]    write an HTML, Markdown or CSV report of runs and sweeps (vidra report --help)

exit codes: 0 ok, 1 a job failed, 2 usage or config error
`;

describe.concurrent('vidra run --help lists the flags, the config groups with their options, and the plugins with their keys', () => {
  const p = makeProject();

  test('the whole help text', { timeout: T }, async () => {
    const r = await p.run(['run', '--help']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    // Flags and groups exactly; the plugin list grows with every plugin kind, so its blocks are checked one by one.
    const plugins = r.stdout.indexOf('== Plugins ==');
    const search = r.stdout.indexOf('Search path:');
    expect(r.stdout.slice(0, plugins)).toBe(`usage: vidra run [flags] [overrides...]

Compose the config from the config groups below, apply the overrides, and run the task.
Overrides: key=value (change), +key=value (add), ++key=value (add or change), ~key (delete), group=option;
sweeps with -m: key=a,b,c  range(0,10,2)  choice(a,b)  glob(*,exclude=x*)

== Flags ==
  -m, --multirun                     run a sweep: one job per combination of the sweep overrides
  --detach                           with --multirun and vidra/launcher=slurm: submit the sweep and return (follow it with vidra status)
  -c, --cfg job|vidra|all            print the composed config instead of running
  --resolve                          with --cfg: resolve interpolations before printing
  -p, --package PKG                  with --cfg: print only the config node at this dot path
  -i, --info all|config|defaults|defaults-tree|plugins|searchpath print information (default: all) instead of running
  -cn, --config-name NAME            the primary config (default: config, or the project settings)
  -cp, --config-path DIR             replace the primary config directory (absolute or relative to the cwd)
  -cd, --config-dir DIR              add a directory to the config search path
  -q, --quiet                        print only errors and the final result line (no progress)
  -v, --verbose                      print debug lines too
  -h, --help                         show this help, with the config groups and plugins

== Configuration groups == (primary config: config)
Compose your configuration from those groups (group=option)

model: slowfast
optim: adamw, sgd
task: fail, print_config, sleep, succeed
vidra/launcher: local, local_parallel, slurm
vidra/sweeper: basic

`);
    expect(r.stdout.slice(search)).toBe(`Search path:
  main: ${p.dir}/conf
  vidra: ${REPO}/core/conf

`);
    const pluginText = r.stdout.slice(plugins, search);
    for (const block of [
      `launcher:
  local                run the jobs of a sweep one after another in this process
  local_parallel       run the jobs of a sweep in n_jobs worker processes on this machine
      n_jobs: integer = 2                number of worker processes (-1: one per CPU core)
`,
      `sweeper:
  basic                cartesian product of the command-line sweeps, every job composed before launching
      params: object = {}                sweeps kept in config, e.g. {optim.lr: "1e-4,1.5e-4"}
      max_batch_size: integer = 0        launch in batches of this many jobs (0: all at once)
`,
      `task:
  print_config         print the composed config of the job
      resolve: boolean = false           resolve interpolations before printing
`,
      `  succeed              deterministic task writing metrics.jsonl
      steps: integer = 5
  fail                 a task that throws
      message: string = "boom"
  sleep                a task that sleeps until interrupted
      seconds: number = 30
`,
      `  mlp                  MLP classification head on features
`,
      `      activation: relu|gelu|tanh = "relu"
`,
    ]) {
      expect(pluginText).toContain(block);
    }
    expect(p.exists('runs')).toBe(false);
  });

  test('-h is --help, and a group added to conf/ shows up', { timeout: T }, async () => {
    const q = makeProject({ 'conf/data/kinetics.yaml': 'name: kinetics\n', 'conf/data/ssv2.yaml': 'name: ssv2\n' });
    const r = await q.run(['run', '-h']);
    expect(r.code).toBe(0);
    const groups = r.stdout.slice(r.stdout.indexOf('== Configuration groups =='), r.stdout.indexOf('== Plugins =='));
    expect(groups.split('\n').filter((l) => /^[a-z/]+: /.test(l))).toEqual([
      'data: kinetics, ssv2',
      'model: slowfast',
      'optim: adamw, sgd',
      'task: fail, print_config, sleep, succeed',
      'vidra/launcher: local, local_parallel, slurm',
      'vidra/sweeper: basic',
    ]);
  });
});

describe.concurrent('vidra top-level usage and version', () => {
  const p = makeProject();

  test('--help / help print the usage, exit 0', { timeout: T }, async () => {
    const [a, b] = await Promise.all([p.run(['--help']), p.run(['help'])]);
    expect(a).toMatchObject({ code: 0, stdout: USAGE, stderr: '' });
    expect(b).toMatchObject({ code: 0, stdout: USAGE, stderr: '' });
  });

  test('no command is a usage error: usage on stderr, exit 2', { timeout: T }, async () => {
    const r = await p.run([]);
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: USAGE });
  });

  test('an unknown command: exit 2', { timeout: T }, async () => {
    const r = await p.run(['bogus']);
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: `vidra: unknown command 'bogus'\n${USAGE}` });
  });

  test('--version / -V print the package version', { timeout: T }, async () => {
    const version = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version as string;
    const [a, b] = await Promise.all([p.run(['--version']), p.run(['-V'])]);
    expect(a).toMatchObject({ code: 0, stdout: `vidra ${version}\n`, stderr: '' });
    expect(b).toMatchObject({ code: 0, stdout: `vidra ${version}\n`, stderr: '' });
  });
});
