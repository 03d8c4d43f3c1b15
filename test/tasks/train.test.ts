// The bundled default experiment, end to end through the CLI: synthetic Animal Kingdom-format data
// generated into the project's cache, a head trained by compiled ONNX steps, evaluated and checkpointed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadCheckpoint } from '../../core/engine/safetensors.ts';
import { experimentDir, jsonLines as lines, withoutTime } from '../helpers/experiment.ts';

const T = 120_000;
const { dir, vidra, read } = experimentDir('train');

describe('the default experiment trains a long-tailed head on synthetic features', () => {
  it('runs, learns, evaluates, checkpoints and records the provider; a second run is identical', { timeout: T }, async () => {
    // The first run also generates the synthetic data; the second reads the cache.
    const a = await vidra(['vidra.run.dir=runs/a']);
    expect(a.code, a.stderr).toBe(0);
    const b = await vidra(['vidra.run.dir=runs/b']);
    expect(b.code, b.stderr).toBe(0);

    const metrics = JSON.parse(read('runs/a/metrics.json')) as Record<string, number>;
    expect(Object.keys(metrics)).toEqual(['step', 'map', 'map_overall', 'map_head', 'map_middle', 'map_tail']);
    expect(metrics.step).toBe(90); // 10 epochs x 9 batches of 32
    const evals = lines(read('runs/a/metrics.jsonl')).filter((l) => l.split === 'val');
    expect(evals).toHaveLength(10);
    // Learning: mAP after the last epoch well above the first (chance on 140 long-tailed classes is ~0.05).
    expect(evals[0]!.map as number).toBeLessThan(0.15);
    expect(metrics.map).toBeGreaterThan(0.25);
    expect(metrics.map_head).toBeGreaterThan(metrics.map_tail!);
    const train = lines(read('runs/a/metrics.jsonl')).filter((l) => l.loss !== undefined);
    expect(train.map((l) => l.step)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(train[0]!.loss as number).toBeGreaterThan(train[train.length - 1]!.loss as number);

    expect(readdirSync(join(dir, 'runs/a/checkpoints')).sort()).toEqual(['last.optim.safetensors', 'last.safetensors']);
    expect(parseYaml(read('runs/a/.vidra/vidra.yaml')).recorded).toEqual({ engine: { provider: 'cpu', device: 'auto', steps_per_run: 1 } });
    expect(JSON.parse(read('runs/a/status.json'))).toMatchObject({ status: 'completed', result: metrics });

    // Same config and seed: the same bytes in metrics.jsonl apart from the timestamps.
    expect(withoutTime(read('runs/b/metrics.jsonl'))).toBe(withoutTime(read('runs/a/metrics.jsonl')));
  });

  it('resumes from a run stopped mid-epoch and continues exactly as an uninterrupted run', { timeout: T }, async () => {
    // max_steps sets the schedule's length too (transformers' num_training_steps): keep the full run's 90 steps
    // so that the stopped run is the first 50 steps of the uninterrupted one.
    const stopped = await vidra(['vidra.run.dir=runs/stopped', 'task.max_steps=50', 'scheduler.total_steps=90']);
    expect(stopped.code, stopped.stderr).toBe(0);
    const resumed = await vidra(['vidra.run.dir=runs/resumed', 'task.resume=runs/stopped']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(read('runs/resumed/job.log')).toContain(`resumed from ${join(dir, 'runs/stopped/checkpoints')} at step 50 (epoch 5, batch 5)`);
    const straight = await vidra(['vidra.run.dir=runs/straight']);
    expect(straight.code, straight.stderr).toBe(0);
    const after50 = lines(withoutTime(read('runs/straight/metrics.jsonl'))).filter((l) => (l.step as number) > 50);
    expect(lines(withoutTime(read('runs/resumed/metrics.jsonl')))).toEqual(after50);
    expect(read('runs/resumed/metrics.json')).toBe(read('runs/straight/metrics.json'));
  });

  it('on SIGUSR1 (Slurm, before its time limit) checkpoints the current step, from which task.resume continues', { timeout: T }, async () => {
    // A long run (900 steps), signalled once training is under way, then killed: its checkpoint is the one a run
    // stopped at that step by task.max_steps writes (same schedule length), byte for byte.
    const long = ['task.epochs=100', 'task.eval_every=1000', 'scheduler.total_steps=900'];
    let signalled = false;
    const killed = await vidra(['vidra.run.dir=runs/usr1', ...long], (text, child) => {
      if (!signalled && text.includes('step 20/900')) child.kill('SIGUSR1'), (signalled = true);
      if (text.includes('SIGUSR1: checkpoint of step')) child.kill('SIGKILL');
    });
    expect(killed.code, killed.stderr + killed.stdout).toBe(null);
    const line = /SIGUSR1: checkpoint of step (\d+) written to checkpoints\/last\.safetensors \(task\.resume=(\S+) continues from it\)/.exec(killed.stdout + killed.stderr);
    expect(line?.[2]).toBe(join(dir, 'runs/usr1'));
    const step = Number(line![1]);
    expect(step).toBeGreaterThanOrEqual(20);
    expect(step).toBeLessThan(900);
    const stopped = await vidra(['vidra.run.dir=runs/at-step', ...long, `task.max_steps=${step}`]);
    expect(stopped.code, stopped.stderr).toBe(0);
    for (const f of ['last.safetensors', 'last.optim.safetensors']) expect(readFileSync(join(dir, 'runs/usr1/checkpoints', f)).equals(readFileSync(join(dir, 'runs/at-step/checkpoints', f)))).toBe(true);
    const resumed = await vidra(['vidra.run.dir=runs/usr1-resumed', ...long, 'task.max_steps=' + (step + 5), 'task.resume=runs/usr1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(read('runs/usr1-resumed/job.log')).toContain(`resumed from ${join(dir, 'runs/usr1/checkpoints')} at step ${step} `);
    expect(JSON.parse(read('runs/usr1-resumed/metrics.json')).step).toBe(step + 5);
  });

  it('says what to fix', { timeout: T }, async () => {
    const r = await vidra(['vidra.run.dir=runs/bad', 'engine.steps_per_run=2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('engine.steps_per_run=2 must divide the 9 batches of an epoch (task.batch_size=32)');
    expect(JSON.parse(read('runs/bad/status.json')).status).toBe('failed');
    const missing = await vidra(['vidra.run.dir=runs/bad2', 'task.resume=runs/nowhere']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`task.resume: ${join(dir, 'runs/nowhere/checkpoints/last.safetensors')} does not exist (task.resume names the run directory to continue)`);
  });

  it('a diverging step saves the last good parameters where the error says, and resuming continues from them', { timeout: T }, async () => {
    // optim.lr=1e6 with 20 warmup steps overflows at step 11, in the second epoch (9 batches each): the epoch
    // checkpoint is at step 9.
    const r = await vidra(['vidra.run.dir=runs/diverged', 'task.epochs=3', 'optim.lr=1e6', 'scheduler.warmup_steps=20']);
    expect(r.code).toBe(1);
    const file = join(dir, 'runs/diverged/checkpoints/last.safetensors');
    expect(r.stderr).toContain(
      `the loss is Infinity at step 11; lower optim.lr, check the data, or use a stable loss (the parameters of step 10, the last good one, are saved in ${file}; task.resume=${join(dir, 'runs/diverged')} continues from there)`,
    );
    const ckpt = loadCheckpoint(join(dir, 'runs/diverged/checkpoints'));
    expect(ckpt.step).toBe(10);
    expect(ckpt.extra).toEqual({ epoch: 1, batch: 1 });
    expect(Object.values(ckpt.params).every((t) => t.data.every(Number.isFinite))).toBe(true);
    expect(JSON.parse(read('runs/diverged/status.json')).status).toBe('failed');
    // Resuming continues from step 10 exactly: the same step diverges again, from the saved parameters.
    const resumed = await vidra(['vidra.run.dir=runs/after-divergence', 'task.epochs=3', 'optim.lr=1e6', 'scheduler.warmup_steps=20', 'task.resume=runs/diverged']);
    expect(resumed.code).toBe(1);
    expect(read('runs/after-divergence/job.log')).toContain(`resumed from ${join(dir, 'runs/diverged/checkpoints')} at step 10 (epoch 1, batch 1)`);
    expect(resumed.stderr).toContain('the loss is Infinity at step 11;');
  });

  it('resuming with another model width names the tensor and the config key that differ', { timeout: T }, async () => {
    const base = await vidra(['vidra.run.dir=runs/w128', 'task.epochs=1']);
    expect(base.code, base.stderr).toBe(0);
    const r = await vidra(['vidra.run.dir=runs/w64', 'task.resume=runs/w128', 'model.head.width=64']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `task.resume: the checkpoint tensor 'layers.0.weight' in ${join(dir, 'runs/w128/checkpoints/last.safetensors')} has shape [128, 32]; ` +
        `the model at 'model.head' makes it [64, 32] (config keys that differ from ${join(dir, 'runs/w128/.vidra/config.yaml')}: model.head.width=64 here, 128 there)`,
    );
    expect(r.stderr).not.toContain('does not match data length');
  });

  it('the config keys that differ are read from where the run recorded its config (vidra.output_subdir)', { timeout: T }, async () => {
    const base = await vidra(['vidra.run.dir=runs/w128m', 'vidra.output_subdir=meta', 'task.epochs=1']);
    expect(base.code, base.stderr).toBe(0);
    const r = await vidra(['vidra.run.dir=runs/w64m', 'task.resume=runs/w128m', 'model.head.width=64']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`(config keys that differ from ${join(dir, 'runs/w128m/meta/config.yaml')}: model.head.width=64 here, 128 there)`);
  });

  it('resuming with fewer epochs than the checkpoint evaluates its model and says nothing was left to train', { timeout: T }, async () => {
    const base = await vidra(['vidra.run.dir=runs/three', 'task.epochs=3']);
    expect(base.code, base.stderr).toBe(0);
    const r = await vidra(['vidra.run.dir=runs/two', 'task.resume=runs/three', 'task.epochs=2']);
    expect(r.code, r.stderr).toBe(0);
    expect(read('runs/two/job.log')).toContain(
      'nothing left to train: the checkpoint is at step 27 (epoch 3, batch 0) and this run ends at step 18 (task.epochs=2); its model is evaluated as it is',
    );
    expect(read('runs/two/metrics.json')).toBe(read('runs/three/metrics.json'));
    const evals = lines(read('runs/two/metrics.jsonl'));
    expect(evals).toHaveLength(1);
    expect(evals[0]).toMatchObject({ step: 27, epoch: 2, split: 'val' });
    // Its run directory holds the checkpoint as it was: the same bytes, so it evaluates and resumes like the original.
    for (const f of ['last.safetensors', 'last.optim.safetensors']) expect(readFileSync(join(dir, 'runs/two/checkpoints', f)).equals(readFileSync(join(dir, 'runs/three/checkpoints', f)))).toBe(true);
  });

  it('make_user_splits writes disjoint per-user splits of the synthetic Ego4D data', { timeout: T }, async () => {
    // The synthetic data of the first test (all kinds are generated together).
    const data = join(dir, '.cache/vidra-data/synthetic/v2-seed0/ego4d');
    const r = await vidra([
      'task=make_user_splits',
      `task.annotation_dir=${data}/annotations`,
      `task.metadata=${data}/ego4d.json`,
      'task.num_train_users=2',
      'task.num_test_users=3',
      'vidra.run.dir=runs/split',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('train_users=2 test_users=3 pretrain_users=2');
    const users = (name: string) => JSON.parse(read(`runs/split/usersplit/${name}_usersplit.json`)) as { user_ids: string[] };
    const train = users('train').user_ids;
    const test = users('test').user_ids;
    expect(train).toHaveLength(2);
    expect(test).toHaveLength(3);
    expect(train.filter((u) => test.includes(u))).toEqual([]);
    expect(existsSync(join(dir, 'runs/split/usersplit/usersplit_summary.json'))).toBe(true);
    // metrics.json: the summary's per-split numbers.
    const summary = JSON.parse(read('runs/split/usersplit/usersplit_summary.json')) as { splits: Record<string, Record<string, number>> };
    const metrics = JSON.parse(read('runs/split/metrics.json')) as Record<string, number>;
    expect(metrics['train/users']).toBe(2);
    expect(metrics['test/clips']).toBe(summary.splits.test!.clips);
    expect(Object.keys(metrics)).toHaveLength(3 * 6);
  });

  it('evaluate reads a train run\'s checkpoint and reproduces its final evaluation', { timeout: T }, async () => {
    const r = await vidra(['task=evaluate', 'task.checkpoint=runs/a', 'vidra.run.dir=runs/eval']);
    expect(r.code, r.stderr).toBe(0);
    const trained = JSON.parse(read('runs/a/metrics.json')) as Record<string, number>;
    expect(JSON.parse(read('runs/eval/metrics.json'))).toEqual({ ...trained, split: 'val' });
    const missing = await vidra(['task=evaluate', 'task.checkpoint=runs/nowhere', 'vidra.run.dir=runs/eval2']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `task.checkpoint: ${join(dir, 'runs/nowhere/checkpoints/last.safetensors')} does not exist (task.checkpoint names a train or continual run directory, or a .safetensors weights file)`,
    );
  });

  it('the Animal Kingdom long-tail experiment runs a few steps on synthetic data', { timeout: T }, async () => {
    const r = await vidra([
      '+experiment=animal_kingdom_longtail',
      'data=synthetic_animal_kingdom',
      'model.head.in_dim=32',
      'data.batch_size=32',
      'task.max_steps=5',
      'vidra.run.dir=runs/ak',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(read('runs/ak/metrics.json'))).toMatchObject({ step: 5 });
    expect(read('runs/ak/.vidra/config.yaml')).toContain('_target_: focal');
  });

  it('the CLEP experiment trains video and text projections with InfoNCE on synthetic narrations', { timeout: T }, async () => {
    const r = await vidra(['+experiment=clep', 'task.epochs=4', 'vidra.run.dir=runs/clep']);
    expect(r.code, r.stderr).toBe(0);
    const losses = lines(read('runs/clep/metrics.jsonl'))
      .filter((l) => l.loss !== undefined)
      .map((l) => l.loss as number);
    expect(losses.length).toBeGreaterThan(2);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
    expect(read('runs/clep/.vidra/config.yaml')).toContain('_target_: clip_projection');
    // Zero-shot retrieval on the held-out videos' narrations: far above chance (R@1 = 1/368, R@10 ≈ 0.03).
    const m = JSON.parse(read('runs/clep/metrics.json')) as Record<string, number>;
    expect(Object.keys(m)).toEqual(['step', 'v2t_r1', 'v2t_r5', 'v2t_r10', 'v2t_medr', 't2v_r1', 't2v_r5', 't2v_r10', 't2v_medr']);
    expect(m.v2t_r10).toBeGreaterThan(0.4);
    expect(m.t2v_r10).toBeGreaterThan(0.4);
    expect(m.v2t_medr).toBeLessThan(20);
    const bad = await vidra(['+experiment=clep', 'task.metrics=[map]']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('a contrastive model is evaluated by retrieval between its two embeddings, not by map (set task.metrics=[retrieval])');
  });
});
