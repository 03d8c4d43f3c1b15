// The continual task end to end through the CLI: the ego4d_continual experiment on synthetic Ego4D-format user
// streams, with each strategy, the online and continual metrics, determinism and the errors it gives.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../core/engine/safetensors.ts';
import { experimentDir, jsonLines, withoutTime } from '../helpers/experiment.ts';
import { headParameterNames } from '../helpers/state-dict.ts';

const T = 120_000;
const { dir, vidra, read } = experimentDir('continual');
const metricsOf = (run: string) => JSON.parse(read(`${run}/metrics.json`)) as Record<string, number>;

describe('continual: user streams with finetune, replay and ewc', () => {
  it('streams the test users after a population model, predicts then updates, and reports online and continual metrics', { timeout: T }, async () => {
    const r = await vidra(['-m', '+experiment=ego4d_continual', 'strategy=finetune,replay,ewc', 'vidra.sweep.dir=runs/m', 'vidra.sweep.subdir=${strategy._target_}']);
    expect(r.code, r.stderr).toBe(0);
    const [finetune, replay, ewc] = ['finetune', 'replay', 'ewc'].map((s) => metricsOf(`runs/m/${s}`));
    for (const m of [finetune!, replay!, ewc!]) {
      expect(m.steps).toBe(153); // the 3 test users' streams in batches of 4, last batches smaller
      expect(m.users).toBe(3);
      // Chance is 1/12 (verbs) and 1/20 (nouns); the pre-trained population model and the stream do much better.
      expect(m['online/acc_verb']).toBeGreaterThan(0.5);
      expect(m['online/acc_noun']).toBeGreaterThan(0.3);
      expect(m['online/acc_action']).toBeLessThanOrEqual(Math.min(m['online/acc_verb']!, m['online/acc_noun']!));
      // The streams teach what the population model did not know: OAG > 0, accuracy on seen streams rises.
      expect(m['online/oag']).toBeGreaterThan(0);
      expect(m['continual/verb/stream_acc']).toBeGreaterThan(0.8);
      expect(m['continual/verb/bwt']).toBeCloseTo(-m['continual/verb/forgetting']!, 12);
      for (const k of ['fwt', 'min_acc', 'wc_acc', 'wf10', 'wp10']) expect(typeof m[`continual/noun/${k}`]).toBe('number');
    }
    expect(replay).not.toEqual(finetune);
    expect(ewc).not.toEqual(finetune);

    // Replay appends memory rows from the second user on (the first streams with an empty memory).
    const steps = jsonLines(read('runs/m/replay/metrics.jsonl')).filter((l) => l.phase === 'stream');
    const users = [...new Set(steps.map((l) => l.user))];
    expect(users).toHaveLength(3);
    expect(steps.filter((l) => l.user === users[0]).every((l) => l.memory === 0)).toBe(true);
    expect(steps.filter((l) => l.user === users[2]).every((l) => l.memory === 4)).toBe(true);
    // Evaluations: before any training, then after each user.
    const evals = jsonLines(read('runs/m/ewc/metrics.jsonl')).filter((l) => l.phase === 'eval');
    expect(evals.map((l) => l.after_user)).toEqual([null, ...users]);
    // Each evaluation logs its row of the accuracy matrix (one accuracy per stream), each stream row the user's
    // online accuracy so far (the report draws them as a heat map and per-user curves).
    for (const l of evals) expect([l['continual/verb/accuracy'], l['continual/noun/accuracy']].map((row) => (row as unknown as number[]).length)).toEqual([3, 3]);
    expect((evals.at(-1)!['continual/verb/accuracy'] as unknown as number[]).every((a) => a > 0 && a <= 1)).toBe(true);
    for (const l of steps) expect(Object.keys(l).filter((k) => k.startsWith('online/'))).toEqual(['online/acc_verb', 'online/acc_noun', 'online/acc_action']);
    expect(jsonLines(read('runs/m/finetune/metrics.jsonl')).filter((l) => l.phase === 'stream').every((l) => l.memory === 0)).toBe(true);
    // The final model: a weights-only state dict (exactly the head's parameters) and its optimizer state beside it.
    expect(readdirSync(join(dir, 'runs/m/replay/checkpoints')).sort()).toEqual(['last.optim.safetensors', 'last.safetensors']);
    expect(Object.keys(readSafetensors(join(dir, 'runs/m/replay/checkpoints/last.safetensors')).tensors).sort()).toEqual(headParameterNames(join(dir, 'runs/m/replay')));
  });

  it('is deterministic: the same config and seed give the same metrics.jsonl', { timeout: T }, async () => {
    for (const d of ['a', 'b']) {
      const r = await vidra(['+experiment=ego4d_continual', 'strategy=ewc', `vidra.run.dir=runs/${d}`]);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(withoutTime(read('runs/b/metrics.jsonl'))).toBe(withoutTime(read('runs/a/metrics.jsonl')));
  });

  it('reset_per_user adapts each user from the population model; online mini-experiences work too', { timeout: T }, async () => {
    const reset = await vidra(['+experiment=ego4d_continual', 'task.reset_per_user=true', 'vidra.run.dir=runs/reset']);
    expect(reset.code, reset.stderr).toBe(0);
    const m = metricsOf('runs/reset');
    expect(Object.keys(m).filter((k) => k.startsWith('continual/'))).toEqual([]);
    expect(m['online/acc_verb']).toBeGreaterThan(0.4);
    const online = await vidra(['+experiment=ego4d_continual', 'task.experience=batch', 'task.pretrain_split=null', 'vidra.run.dir=runs/online']);
    expect(online.code, online.stderr).toBe(0);
    expect(online.stderr).not.toContain('population model');
    expect(metricsOf('runs/online').steps).toBe(153);
  });

  it('fires the callback events: metrics_logger logs stream steps (by user) and stream evaluations; a stop request is ignored', { timeout: T }, async () => {
    const r = await vidra([
      '+experiment=ego4d_continual',
      'strategy=finetune',
      'task.log_every=50',
      '+callbacks=[metrics_logger,early_stopping]',
      'callbacks.metrics_logger.format=jsonl',
      'callbacks.metrics_logger.log_every=50',
      'callbacks.early_stopping.monitor=continual/verb/stream_acc',
      'callbacks.early_stopping.patience=1',
      'callbacks.early_stopping.mode=min',
      'vidra.run.dir=runs/cb',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const task = jsonLines(withoutTime(read('runs/cb/metrics.jsonl')));
    const logged = jsonLines(read('runs/cb/metrics_log.jsonl'));
    const steps = task.filter((l) => l.phase === 'stream' && (l.step as number) % 50 === 0);
    expect(logged.filter((l) => l.loss !== undefined)).toEqual(steps.map((l) => ({ step: l.step, experience: l.user, loss: l.loss, lr: 1e-3 })));
    const evals = task.filter((l) => l.phase === 'eval');
    // The callbacks get the metric values; the task's own rows add each target's accuracy-matrix row.
    expect(logged.filter((l) => l.split === 'test').map(({ step: _s, split: _p, ...v }) => v)).toEqual(
      evals.map(({ phase: _p, after_user: _u, 'continual/verb/accuracy': _v, 'continual/noun/accuracy': _n, ...v }) => v),
    );
    // early_stopping asks to stop at the second evaluation; the stream goes on, and the log says so once.
    expect(metricsOf('runs/cb').steps).toBe(153);
    expect(read('runs/cb/job.log').match(/the continual task does not stop early; ignored: early_stopping: continual\/verb\/stream_acc has not improved/g)).toHaveLength(1);
  });

  it('says what to fix', { timeout: T }, async () => {
    const target = await vidra(['+experiment=ego4d_continual', 'task.target=[verb]']);
    expect(target.code).toBe(1);
    expect(target.stderr).toContain('task.target [verb] gives 1 target columns (verb: 1), but the model has 2 logit sections (12, 20)');
    // A loss that does not fit the data and model is refused before the run starts (plugins/tasks/fit-check.ts).
    const loss = await vidra(['+experiment=ego4d_continual', 'loss=bce']);
    expect(loss.code).toBe(2);
    expect(loss.stderr).toContain(
      'loss: the bce loss reads multi-hot labels, but the data gives class indices for each head of a multi-head model (data.multi_label=false); choose a loss for class indices for each head of a multi-head model: loss=multi_ce',
    );
    // data.multi_label=null: no declared label kind, so the stream check is the one that speaks.
    const split = await vidra(['+experiment=ego4d_continual', 'data=synthetic_animal_kingdom', 'data.multi_label=null', 'task.stream_split=train', 'task.pretrain_split=null']);
    expect(split.code).toBe(1);
    expect(split.stderr).toContain("the 'train' split has no user streams");
  });
});
