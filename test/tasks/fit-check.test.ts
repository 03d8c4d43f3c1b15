// Runs that are right by construction, through the CLI on the bundled conf/: the schedule follows the run's
// length, the data/model/loss fit is checked before any run directory, a sweep's missing input stops it before
// the first job directory (exit 2), and the README's long-tail experiment runs on a fresh clone.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { experimentDir, jsonLines } from '../helpers/experiment.ts';

const T = 120_000;
const { dir, vidra, read } = experimentDir('fit');
// Where the commands that must fail before any work run: nothing at all may appear in it.
const clean = experimentDir('fit-clean');
const nothingWritten = () => expect(readdirSync(clean.dir)).toEqual([]);
const FULL = '(Set the environment variable VIDRA_FULL_ERROR=1 for a complete stack trace.)\n';

describe('the learning-rate schedule follows the run', () => {
  it('derives total_steps from epochs × batches per epoch (or max_steps) at compose time; --cfg job --resolve shows it', async () => {
    const sched = (args: string[]) => vidra(['--cfg', 'job', '--resolve', '-p', 'scheduler', ...args]);
    const text = (total: number) => `# @package scheduler\n_target_: cosine_warmup\nwarmup_steps: 0.2\ntotal_steps: ${total}\nnum_cycles: 0.5\n`;
    expect((await sched([])).stdout).toBe(text(90));
    expect((await sched(['data.batch_size=128'])).stdout).toBe(text(20));
    expect((await sched(['data.batch_size=8'])).stdout).toBe(text(370));
    expect((await sched(['data.batch_size=8', 'task.max_steps=50'])).stdout).toBe(text(50));
    expect((await sched(['task.epochs=3'])).stdout).toBe(text(27));
    const task = await vidra(['--cfg', 'job', '--resolve', '-p', 'task.total_steps', '+experiment=animal_kingdom_longtail', 'data.batch_size=8']);
    expect(task.stdout).toBe('# @package task.total_steps\n1110\n');
    // Unresolved, the config keeps the derivation (a rerun with another batch size derives again).
    expect((await vidra(['--cfg', 'job', '-p', 'scheduler.total_steps'])).stdout).toBe('# @package scheduler.total_steps\n${oc.select:task.total_steps,null}\n');
  });

  it('batch 128 warms up for 20% of its 20 steps and decays to the end, instead of spending them in warmup', { timeout: T }, async () => {
    const r = await vidra(['data.batch_size=128', 'vidra.run.dir=runs/b128']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('does not follow the run');
    expect(read('runs/b128/job.log')).toContain('[INFO] scheduler: cosine_warmup over 20 steps, 4 of warmup, num_cycles 0.5\n');
    const lrs = jsonLines(read('runs/b128/metrics.jsonl')).filter((l) => l.lr !== undefined);
    // transformers: step k uses m(k − 1); W = 4, T = 20: m(s) = ½(1 + cos(π (s − 4) / 16)).
    const m = (s: number) => 0.5 * (1 + Math.cos(Math.PI * 0.5 * 2 * ((s - 4) / 16)));
    expect(lrs.map((l) => [l.step, l.lr])).toEqual([
      [10, 3e-3 * m(9)],
      [20, 3e-3 * m(19)],
    ]);
    expect(lrs[1]!.lr as number).toBeLessThan(3e-5);
  });

  it('an explicit total_steps that disagrees with the run is a warning naming both numbers', { timeout: T }, async () => {
    const r = await vidra(['data.batch_size=128', 'task.epochs=1', 'scheduler.total_steps=90', 'vidra.run.dir=runs/explicit']);
    expect(r.code, r.stderr).toBe(0);
    const warning =
      'scheduler.total_steps is 90, but this run takes 2 optimizer steps (task.epochs=1 × 2 batches: 300 training samples // task.batch_size=128): ' +
      'the schedule does not follow the run (scheduler.total_steps=null follows it)';
    expect(read('runs/explicit/job.log')).toContain(`[WARN] ${warning}\n`);
    // A train_size that the data contradicts is named too.
    const d = await vidra(['data.batch_size=128', 'task.epochs=1', 'data.train_size=200', 'vidra.run.dir=runs/declared']);
    expect(d.code, d.stderr).toBe(0);
    expect(read('runs/declared/job.log')).toContain(
      '[WARN] scheduler.total_steps is 1, but this run takes 2 optimizer steps (task.epochs=1 × 2 batches: 300 training samples // task.batch_size=128); ' +
        'data.train_size says 200 training samples, the split has 300: the schedule does not follow the run (scheduler.total_steps=null follows it)\n',
    );
  });
});

describe('the fit between data, model and loss is checked before any run directory', () => {
  it('names the keys to change and the values that fit; exit 2', async () => {
    const cases: Array<[string[], string]> = [
      [
        ['loss=ce'],
        "  loss: the ce loss reads one class index per sample, but the data gives multi-hot labels (data.multi_label=true); choose a loss for multi-hot labels: loss=bce, loss=focal, loss=eql\n",
      ],
      [['model.head.in_dim=2304'], '  model.head.in_dim=2304 does not fit the data: data.feature_dim=32 (the width of its features); set model.head.in_dim=32, or ${data.feature_dim} in the head config to follow the data\n'],
      [['model.head.out_dim=157'], '  model.head.out_dim=157 does not fit the data: data.num_classes=140; set model.head.out_dim=140, or ${data.num_classes} in the head config to follow the data\n'],
      [
        ['+experiment=ego4d_lta', 'loss=ce'],
        '  loss: the ce loss reads one class index per sample, but the data gives class indices for each head of a multi-head model (data.multi_label=false); choose a loss for class indices for each head of a multi-head model: loss=multi_ce\n',
      ],
    ];
    for (const [args, line] of cases) {
      const r = await clean.vidra(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toBe(`Error: the train task's data, model and loss do not fit:\n${line}${FULL}`);
    }
    nothingWritten();
  });

  it('heads follow the data config: switching data= just works', async () => {
    const head = async (args: string[]) => parseYaml((await vidra(['--cfg', 'job', '--resolve', '-p', 'model.head', ...args])).stdout) as Record<string, unknown>;
    expect(await head([])).toMatchObject({ _target_: 'mlp', in_dim: 32, out_dim: 140 });
    expect(await head(['data=synthetic_charades'])).toMatchObject({ in_dim: 32, out_dim: 157 });
    expect(await head(['data=synthetic_charades', 'data.backbone={name: mvit_v2_s, dim: 768}'])).toMatchObject({ in_dim: 768, out_dim: 157 });
    expect(await head(['data=animal_kingdom'])).toMatchObject({ in_dim: 2304, out_dim: 140 });
    expect(await head(['+model=slowfast', '~head', '+model/head=linear'])).toEqual({ _target_: 'linear', in_dim: 2304, out_dim: 140 });
  });
});

describe("the README's long-tail experiment", () => {
  it('runs on the generated stand-in by default; a sweep over real data that is not there stops before the first job dir (exit 2)', { timeout: T }, async () => {
    const data = process.env.VIDRA_DATA ? process.env.VIDRA_DATA : 'data';
    const r = await clean.vidra(['-m', '+experiment=animal_kingdom_longtail', 'data=animal_kingdom', 'loss=bce,focal,eql', 'optim.lr=1e-4,1.5e-4', 'data.batch_size=8,128']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'Error: missing inputs, checked before any run directory:\n' +
        `  data.root: ${data}/animal_kingdom/annotation/train.csv does not exist\n` +
        `  data.features: ${data}/animal_kingdom/features.h5 does not exist\n` +
        '  these are the Animal Kingdom release (annotation/*.csv) and its clip features: set data.root or VIDRA_DATA, or train on the generated stand-in with data=synthetic_animal_kingdom\n' +
        FULL,
    );
    nothingWritten();

    const ok = await vidra(['-m', '+experiment=animal_kingdom_longtail', 'loss=bce,eql', 'data.batch_size=8,128', 'task.max_steps=6', 'vidra.sweep.dir=runs/lt']);
    expect(ok.code, ok.stderr).toBe(0);
    for (const [job, batch] of [[0, 8], [1, 128], [2, 8], [3, 128]] as const) {
      const cfg = parseYaml(read(`runs/lt/${job}/.vidra/resolved.yaml`)) as { data: { _target_: string; batch_size: number }; model: { head: Record<string, number> }; scheduler: Record<string, number> };
      expect(cfg.data).toMatchObject({ _target_: 'synthetic', batch_size: batch });
      expect(cfg.model.head).toMatchObject({ in_dim: 32, out_dim: 140, width: 1024 });
      // 30 epochs of 300 clips: 1110 steps at batch 8, 60 at 128, capped here by max_steps.
      expect(cfg.scheduler).toMatchObject({ warmup_steps: 0.1, total_steps: 6 });
      expect((JSON.parse(read(`runs/lt/${job}/metrics.json`)) as { step: number }).step).toBe(6);
    }
  });

  it('reads the real format with one override (data=animal_kingdom); the schedule then counts the steps from the data', { timeout: T }, async () => {
    // The stand-in's files are in the real release's format: point the real loader at them.
    const root = '.cache/vidra-data/synthetic/v2-seed0/animal_kingdom';
    if (!existsSync(join(dir, root))) expect((await vidra(['task.max_steps=1', 'task.eval_split=null', 'vidra.run.dir=runs/generate'])).code).toBe(0);
    const r = await vidra(['+experiment=animal_kingdom_longtail', 'data=animal_kingdom', `data.root=${root}`, 'data.feature_dim=32', 'task.epochs=2', 'vidra.run.dir=runs/real']);
    expect(r.code, r.stderr).toBe(0);
    const log = read('runs/real/job.log');
    expect(log).toContain('[INFO] scheduler.total_steps: 4 optimizer steps, counted from the data (task.epochs=2 × 2 batches: 300 training samples // task.batch_size=128)\n');
    expect(log).toContain('[INFO] scheduler: cosine_warmup over 4 steps, 1 of warmup, num_cycles 0.5\n');
    // Declared 2304-d features that the file contradicts: the run fails at once, saying which key to set.
    const wide = await vidra(['+experiment=animal_kingdom_longtail', 'data=animal_kingdom', `data.root=${root}`, 'task.epochs=1', 'vidra.run.dir=runs/wide']);
    expect(wide.code).toBe(1);
    expect(read('runs/wide/job.log')).toContain(
      "job failed: the 'train' split of data gives 32 values per sample, but the model at 'model.head' takes 2304 for 'x': its features are 32-d, not data.feature_dim=2304; set data.feature_dim=32\n",
    );
  });
});

describe('charades_finetune on real-format features', () => {
  it('data=charades with a backbone-named features file runs (data.backbone names the features; the backbone is not run)', { timeout: T }, async () => {
    // The stand-in's files are in the real release's format: generate R(2+1)D-18's, then point the real loader at them.
    const gen = await vidra(['+experiment=charades_finetune', 'model/backbone=r2plus1d_18', 'task.max_steps=1', 'task.eval_split=null', 'vidra.run.dir=runs/cf-gen']);
    expect(gen.code, gen.stderr).toBe(0);
    const root = '.cache/vidra-data/synthetic/v2-seed0/charades';
    const r = await vidra(['+experiment=charades_finetune', 'model/backbone=r2plus1d_18', 'data=charades', `data.root=${root}`, 'data.features=backbones/r2plus1d_18-d512.h5', 'task.epochs=1', 'vidra.run.dir=runs/cf-real']);
    expect(r.code, r.stderr).toBe(0);
    const cfg = parseYaml(read('runs/cf-real/.vidra/resolved.yaml')) as { data: Record<string, unknown>; model: { head: Record<string, unknown> } };
    expect(cfg.data).toMatchObject({ _target_: 'charades', feature_dim: 512, backbone: { name: 'r2plus1d_18', dim: 512 } });
    expect(cfg.model.head).toMatchObject({ in_dim: 512, out_dim: 157 });
    expect(JSON.parse(read('runs/cf-real/metrics.json'))).toHaveProperty('map');
  });
});
