// Exit codes 0 / 1 / 2, and what bad input looks like: one clear message on stderr, exit code 2 and
// no run directory — unless a job actually started and failed, which leaves its directory marked failed.
import { afterAll, describe, expect, test } from 'vitest';
import { makeProject, removeProjects, REPO } from '../helpers/project.ts';
import { aliasBomb } from '../helpers/yaml.ts';

afterAll(removeProjects);

const T = 30_000;
const HINT = '(Set the environment variable VIDRA_FULL_ERROR=1 for a complete stack trace.)\n';

interface Case {
  name: string;
  args: string[];
  files?: Record<string, string>;
  /** The whole of stderr, without the trailing VIDRA_FULL_ERROR hint; `<P>` is the project dir. */
  stderr: string;
}

const searchPath = `Search path:\n  main: <P>/conf\n  vidra: ${REPO}/core/conf`;

const cases: Case[] = [
  {
    name: 'malformed YAML in a config group option (file:line:col)',
    args: ['run', 'optim=broken'],
    files: { 'conf/optim/broken.yaml': 'lr: [0.1\nmomentum: 0.9\n' },
    stderr: 'Error: <P>/conf/optim/broken.yaml:2:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
  },
  {
    name: 'malformed YAML in the primary config',
    args: ['run'],
    files: { 'conf/config.yaml': 'defaults:\n  - task: succeed\nseed: 0\n  bad: indent\n' },
    stderr: 'Error: <P>/conf/config.yaml:3:7: invalid YAML: Nested mappings are not allowed in compact mappings',
  },
  {
    name: 'a YAML alias bomb in a config file fails at once (file:line:col), instead of expanding for ever',
    args: ['run'],
    files: { 'conf/config.yaml': `defaults:\n  - task: succeed\n  - _self_\nseed: 0\n${aliasBomb(9)}` },
    stderr:
      'Error: <P>/conf/config.yaml:9:8: YAML aliases expand to more than 10000 values in this file, reached at alias *d (anchors nested in aliased nodes multiply): write the values out or nest fewer aliases',
  },
  {
    name: 'a defaults list that includes itself under another package: the chain of files, not a stack overflow',
    args: ['run', '+model=a'],
    files: { 'conf/model/a.yaml': 'defaults:\n  - /model@sub: a\nx: 1\n' },
    stderr:
      "Error: <P>/conf/model/a.yaml:2:5: defaults-list cycle: 'model/a' includes itself:\n  <P>/conf/model/a.yaml\n  -> <P>/conf/model/a.yaml (/model@sub: a at <P>/conf/model/a.yaml:2:5)\nRemove one of the entries of this chain.",
  },
  {
    name: 'unknown group option: the available options and a did-you-mean',
    args: ['run', 'optim=adamx'],
    stderr: `Error: override 'optim=adamx' (argument 1): In 'config': Could not find 'optim/adamx'.\nAvailable options in 'optim': adamw sgd. Did you mean 'adamw'?\n${searchPath}`,
  },
  {
    name: 'unknown group option in one job of a sweep: every job is composed before any runs',
    args: ['run', '-m', 'seed=1,2', 'task=succeed,sleeep'],
    stderr: `Error: override 'task=sleeep' (argument 2): In 'config': Could not find 'task/sleeep'.\nAvailable options in 'task': fail print_config sleep succeed. Did you mean 'sleep'?\n${searchPath}`,
  },
  {
    name: 'bad override syntax: the column caret',
    args: ['run', 'seed=1', 'optim.lr=[1,'],
    stderr: "Error: Error parsing override 'optim.lr=[1,'\n  optim.lr=[1,\n              ^\nat column 12: expected a value after ',' but found the end of the override (remove the trailing comma)",
  },
  {
    name: 'bad override syntax: a non-ASCII character outside quotes',
    args: ['run', 'name=é'],
    stderr:
      "Error: Error parsing override 'name=é'\n  name=é\n       ^\nat column 5: expected a value (a number, a string, a quoted string, a list [..] or a dict {..}) but found 'é' (non-ASCII characters can only appear in a quoted value: put the value in quotes, e.g. name='é')",
  },
  {
    name: 'a key that is not in the config',
    args: ['run', 'optim.lrr=0.1'],
    stderr: "Error: override 'optim.lrr=0.1' (argument 1): Could not override 'optim.lrr'. To append to your config use +optim.lrr=0.1\nDid you mean 'optim.lr'?",
  },
  {
    name: 'a dict override that would add a key to a struct node needs + (as Hydra)',
    args: ['run', 'optim={nesterov:true}'],
    stderr: "Error: override 'optim={nesterov:true}' (argument 1): Could not override 'optim'. To append to your config use +optim={nesterov:true}",
  },
  {
    name: "hydra.run.dir: Vidra's settings are under vidra",
    args: ['run', 'hydra.run.dir=out'],
    stderr: "Error: override 'hydra.run.dir=out' (argument 1): Could not override 'hydra.run.dir': Vidra's own settings are under 'vidra', not 'hydra'. Use vidra.run.dir=out",
  },
  {
    name: "a hydra.* key without a vidra twin: the close vidra keys",
    args: ['run', 'seed=1', 'hydra.run.dri=out'],
    stderr:
      "Error: override 'hydra.run.dri=out' (argument 2): Could not override 'hydra.run.dri': Vidra's own settings are under 'vidra', not 'hydra'. 'vidra.run.dri' does not exist either (vidra run --cfg vidra lists them)\nDid you mean 'vidra.run.dir'?",
  },
  {
    name: "hydra/launcher=...: Vidra's config groups are under vidra/",
    args: ['run', 'hydra/launcher=local_parallel'],
    stderr: "Error: override 'hydra/launcher=local_parallel' (argument 1): Could not override 'hydra/launcher': Vidra's own config groups are under 'vidra/', not 'hydra/'. Use vidra/launcher=local_parallel",
  },
  {
    name: 'interval() in a basic sweep: list the values (there is no optimizing sweeper)',
    args: ['run', '-m', 'optim.lr=interval(0.001,0.1)'],
    stderr:
      "Error: cannot sweep 'optim.lr=interval(0.001,0.1)': interval() is a continuous range, which the basic sweeper (Vidra's only sweeper) cannot enumerate; list the values instead: optim.lr=choice(a,b,c) or optim.lr=range(start,stop,step)",
  },
  {
    name: 'a sweep without --multirun',
    args: ['run', 'seed=1,2'],
    stderr:
      "Error: override 'seed=1,2' (argument 1): Ambiguous value for argument 'seed=1,2'\n1. To use it as a list, use key=[value1,value2]\n2. To use it as string, quote the value: key=\\'value1,value2\\'\n3. To sweep over it, add --multirun to your command line",
  },
  {
    name: 'wrong type for a plugin key in a config file: file:line:col and the accepted keys',
    args: ['run', 'task=bad'],
    files: { 'conf/task/bad.yaml': '_target_: succeed\nsteps: abc\n' },
    stderr: "Error: invalid config for the task plugin 'succeed' at 'task':\n  <P>/conf/task/bad.yaml:2:8: 'task.steps' must be integer (got the string 'abc')\n  The task plugin 'succeed' accepts: steps (integer).",
  },
  {
    name: 'wrong type for a plugin key from an override',
    args: ['run', '-m', 'vidra/launcher=local_parallel', 'vidra.launcher.n_jobs=two', 'seed=1,2'],
    stderr:
      "Error: invalid config for the launcher plugin 'local_parallel' at 'vidra.launcher':\n  override 'vidra.launcher.n_jobs=two' (argument 2): 'vidra.launcher.n_jobs' must be integer (got the string 'two')\n  The launcher plugin 'local_parallel' accepts: n_jobs (integer).",
  },
  {
    name: 'unknown key for a plugin',
    args: ['run', '+task.stepz=3'],
    stderr: "Error: invalid config for the task plugin 'succeed' at 'task':\n  override '+task.stepz=3' (argument 1): 'task.stepz' is not a key of this plugin. Did you mean 'task.steps'?\n  The task plugin 'succeed' accepts: steps (integer).",
  },
  {
    name: 'an unknown plugin key added with +: the close match',
    args: ['run', '+loss=ce', '+loss.smooth=0.2'],
    files: { 'conf/loss/ce.yaml': '_target_: ce\n' },
    stderr:
      "Error: invalid config for the loss plugin 'ce' at 'loss':\n  override '+loss.smooth=0.2' (argument 2): 'loss.smooth' is not a key of this plugin. Did you mean 'loss.label_smoothing'?\n  The loss plugin 'ce' accepts: label_smoothing (number), class_weights (array|null), reduction (string).",
  },
  {
    name: 'interpolation cycle in a config file',
    args: ['run'],
    files: { 'conf/config.yaml': 'defaults:\n  - task: succeed\n  - optim: adamw\n  - _self_\nseed: 0\na: ${b}\nb: ${a}\n' },
    stderr: "Error: <P>/conf/config.yaml:7:4: Recursive interpolation detected: a -> b -> a (in '${a}' at 'b')",
  },
  {
    name: 'interpolation cycle through overrides',
    args: ['run', 'optim.lr=${optim.wd}', '+optim.wd=${optim.lr}'],
    stderr: "Error: override '+optim.wd=${optim.lr}' (argument 2): Recursive interpolation detected: optim.lr -> optim.wd -> optim.lr (in '${optim.lr}' at 'optim.wd')",
  },
  {
    name: 'interpolation to a key that does not exist',
    args: ['run', 'optim.lr=${nope}'],
    stderr: "Error: override 'optim.lr=${nope}' (argument 1): Interpolation key 'nope' not found (in '${nope}' at 'optim.lr'). Did you mean 'name'?",
  },
  {
    name: 'a config dir that does not exist (-cp nope)',
    args: ['run', '-cp', 'nope'],
    stderr: "Error: -cp/--config-path: the config directory 'nope' does not exist (resolved to <P>/nope)",
  },
  {
    name: 'an extra config dir that does not exist (-cd nope)',
    args: ['run', '-cd', 'nope'],
    stderr: "Error: -cd/--config-dir: the config directory 'nope' does not exist (resolved to <P>/nope)",
  },
  {
    name: 'a primary config that does not exist (-cn nope)',
    args: ['run', '-cn', 'nope'],
    stderr: `Error: Cannot find primary config 'nope'.\n${searchPath}`,
  },
  {
    name: 'unknown flag',
    args: ['run', 'seed=1', '--bogus'],
    stderr:
      "Error: unknown flag '--bogus' (argument 2). Flags: -m --multirun --detach -c --cfg --resolve -p --package -i --info -cn --config-name -cp --config-path -cd --config-dir -q --quiet -v --verbose -h --help. Overrides are key=value, +key=value, ++key=value or ~key",
  },
  {
    name: 'a flag without its value',
    args: ['run', '--cfg'],
    stderr: 'Error: --cfg needs a value: job|vidra|all',
  },
  {
    name: 'a bad --cfg value',
    args: ['run', '--cfg', 'everything'],
    stderr: "Error: --cfg takes job, vidra or all, not 'everything'",
  },
  {
    name: 'two modes at once',
    args: ['run', '-m', '--cfg', 'job'],
    stderr: 'Error: only one of --multirun, --cfg and --info at a time (got --multirun and --cfg)',
  },
  {
    name: '--resolve without --cfg',
    args: ['run', '--resolve'],
    stderr: 'Error: --resolve and --package go with --cfg',
  },
  {
    name: 'no task configured',
    args: ['run', '~task'],
    stderr: 'Error: no task is configured: select one with task=<name> (tasks: print_config, train, evaluate, continual, inference, make_user_splits, extract_features, profile, succeed, fail, sleep)',
  },
];

describe.concurrent('bad input: one clear message on stderr, exit code 2, no run directory', () => {
  for (const c of cases) {
    test(c.name, { timeout: T }, async () => {
      const p = makeProject(c.files);
      const r = await p.run(c.args);
      expect(r.stderr).toBe(`${c.stderr.replaceAll('<P>', p.dir)}\n${HINT}`);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(p.exists('runs')).toBe(false);
    });
  }

  test('VIDRA_FULL_ERROR=1 adds the stack trace', { timeout: T }, async () => {
    const p = makeProject();
    const r = await p.run(['run', 'optim=adamx'], { env: { VIDRA_FULL_ERROR: '1' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Error: override 'optim=adamx' \(argument 1\): In 'config': Could not find 'optim\/adamx'\.\n/);
    expect(r.stderr).toMatch(/\n {4}at .*dist\/.*\.js:\d+:\d+\)?\n/);
    expect(r.stderr).not.toContain(HINT);
  });
});

describe.concurrent('??? (mandatory values): a job that reads one fails; one never read is fine', () => {
  test('a ??? in a config file that the task reads: the job starts and fails (exit 1), its directory marked failed', { timeout: T }, async () => {
    const p = makeProject({ 'conf/config.yaml': 'defaults:\n  - task: succeed\n  - optim: adamw\n  - _self_\nseed: ???\nname: run_${seed}\n' });
    const r = await p.run(['run', 'vidra.run.dir=runs/m']);
    expect(r.code).toBe(1);
    const message = `${p.path('conf/config.yaml')}:5:7: Missing mandatory value: seed`;
    expect(r.stderr).toBe(`job failed: ${message}\njob failed; run directory: runs/m\n`);
    expect(p.status('runs/m')).toMatchObject({ status: 'failed', error: { type: 'MissingMandatoryValueError', message } });
    expect(p.read('runs/m/.vidra/config.yaml')).toContain('seed: ???\n');
  });

  test('a ??? set by an override that the task reads: the job fails', { timeout: T }, async () => {
    // As in OmegaConf, assigning '???' makes the value missing: reading it fails the job.
    const p = makeProject();
    const r = await p.run(['run', 'seed=???', 'vidra.run.dir=runs/m']);
    expect(p.status('runs/m')).toMatchObject({ status: 'failed', error: { type: 'MissingMandatoryValueError', message: "override 'seed=???' (argument 1): Missing mandatory value: seed" } });
    expect(r.code).toBe(1);
  });

  test('a ??? that is never read does not fail the job', { timeout: T }, async () => {
    const p = makeProject({ 'conf/config.yaml': 'defaults:\n  - task: succeed\n  - optim: adamw\n  - _self_\nseed: 0\nnotes: ???\n' });
    const [a, b] = await Promise.all([p.run(['run', 'vidra.run.dir=runs/a']), p.run(['run', '+extra=???', 'vidra.run.dir=runs/b'])]);
    expect(a).toMatchObject({ code: 0, stderr: '' });
    expect(b).toMatchObject({ code: 0, stderr: '' });
    expect(p.status('runs/a').status).toBe('completed');
    expect(p.status('runs/b').status).toBe('completed');
    expect(p.read('runs/a/.vidra/resolved.yaml')).toContain('notes: ???\n');
  });
});

describe.concurrent('exit codes', () => {
  test('0 when the job completes, 1 when it fails, 2 for a usage error', { timeout: T }, async () => {
    const p = makeProject();
    const [ok, failed, usage] = await Promise.all([p.run(['run', 'vidra.run.dir=runs/ok']), p.run(['run', 'task=fail', 'vidra.run.dir=runs/failed']), p.run(['run', 'oops'])]);
    expect([ok.code, failed.code, usage.code]).toEqual([0, 1, 2]);
    expect(p.runDirs()).toEqual(['runs/failed', 'runs/ok']);
  });
});
