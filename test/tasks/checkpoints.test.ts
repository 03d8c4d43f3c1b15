// Checkpoints as PyTorch users expect them, and the callbacks (early stopping, metrics logger), end to end through
// the CLI on the default experiment (9 batches an epoch).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint, loadWeights, readSafetensors } from '../../core/engine/safetensors.ts';
import { experimentDir, jsonLines as lines, withoutTime } from '../helpers/experiment.ts';
import { headParameterNames } from '../helpers/state-dict.ts';

const T = 120_000;
const { dir, vidra, read } = experimentDir('checkpoints');
const evalsOf = (run: string) => lines(withoutTime(read(`${run}/metrics.jsonl`))).filter((l) => l.split === 'val');

describe('train checkpoints: last, best and periodic weights-only state dicts, optimizer state beside last', () => {
  it('writes last + last.optim, best by the monitored value, and the newest task.checkpoint.keep epoch files', { timeout: T }, async () => {
    const r = await vidra(['vidra.run.dir=runs/ck', 'task.epochs=4', 'task.checkpoint.keep=2', 'task.checkpoint.monitor=map_tail', 'task.checkpoint.mode=min']);
    expect(r.code, r.stderr).toBe(0);
    const ckpts = join(dir, 'runs/ck/checkpoints');
    expect(readdirSync(ckpts).sort()).toEqual(['best.safetensors', 'epoch_2.safetensors', 'epoch_3.safetensors', 'last.optim.safetensors', 'last.safetensors']);
    // Weights-only: exactly the model's state-dict keys, so load_state_dict(strict=True) takes each file.
    const names = headParameterNames(join(dir, 'runs/ck'));
    for (const f of ['last', 'best', 'epoch_2', 'epoch_3']) expect(Object.keys(readSafetensors(join(ckpts, `${f}.safetensors`)).tensors).sort()).toEqual(names);
    const optim = Object.keys(readSafetensors(join(ckpts, 'last.optim.safetensors')).tensors).sort();
    expect(optim).toEqual(names.flatMap((n) => [`${n}.exp_avg`, `${n}.exp_avg_sq`]).sort());
    const last = loadCheckpoint(ckpts);
    expect({ step: last.step, optimizer: last.optimizer, extra: last.extra }).toEqual({ step: 36, optimizer: 'optim', extra: { epoch: 4, batch: 0 } });
    expect(loadWeights(join(ckpts, 'epoch_2.safetensors')).step).toBe(27);
    // best (mode=min): the step of the lowest map_tail — the first evaluation here, not the last — and evaluating
    // it gives that evaluation's values.
    const evals = evalsOf('runs/ck');
    const best = evals.reduce((a, b) => ((b.map_tail as number) < (a.map_tail as number) ? b : a));
    expect(best.step).toBe(9);
    expect(evals.at(-1)!.step).toBe(36);
    expect(loadWeights(join(ckpts, 'best.safetensors')).step).toBe(9);
    const ev = await vidra(['task=evaluate', `task.checkpoint=${join(ckpts, 'best.safetensors')}`, 'vidra.run.dir=runs/ck-best']);
    expect(ev.code, ev.stderr).toBe(0);
    const { epoch: _epoch, ...bestValues } = best;
    expect(JSON.parse(read('runs/ck-best/metrics.json'))).toEqual(bestValues);
  });

  it('says what is wrong with task.checkpoint.monitor', { timeout: T }, async () => {
    const r = await vidra(['vidra.run.dir=runs/ck-bad', 'task.epochs=2', 'task.checkpoint.monitor=acc']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "checkpoint callback (task.checkpoint): monitor 'acc' is not a value of the evaluation (it has map, map_overall, map_head, map_middle, map_tail): set monitor to one of them",
    );
    const none = await vidra(['vidra.run.dir=runs/ck-none', 'task.eval_split=null', 'task.checkpoint.monitor=map']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(
      'task.checkpoint.monitor=map: best.safetensors follows an evaluation value, and this run evaluates nothing (set task.eval_split and task.metrics, or task.checkpoint.monitor=null)',
    );
  });
});

describe('callbacks from the callbacks group', () => {
  it('early_stopping stops when the monitored value has not improved for `patience` evaluations', { timeout: T }, async () => {
    // map rises every epoch, so with mode=min the first evaluation stays the best: two more and it stops.
    const r = await vidra(['vidra.run.dir=runs/es', '+callbacks=early_stopping', 'callbacks.early_stopping.mode=min', 'callbacks.early_stopping.patience=2']);
    expect(r.code, r.stderr).toBe(0);
    const evals = evalsOf('runs/es');
    expect(evals.map((e) => e.step)).toEqual([9, 18, 27]);
    const reason = `early_stopping: map has not improved by more than 0 for 2 evaluations (best ${evals[0]!.map} at step 9)`;
    expect(read('runs/es/job.log')).toContain(`stopped after epoch 2: ${reason}`);
    expect(lines(withoutTime(read('runs/es/metrics.jsonl'))).at(-1)).toEqual({ step: 27, epoch: 2, stopped: reason });
    expect(JSON.parse(read('runs/es/metrics.json'))).toMatchObject({ step: 27, map: evals[2]!.map });
    // The checkpoint of the epoch it stopped at is the last: resuming would start epoch 3.
    expect(loadCheckpoint(join(dir, 'runs/es/checkpoints')).extra).toEqual({ epoch: 3, batch: 0 });
  });

  it('reports a callback listening to an event this run never fires (early stopping without evaluations)', { timeout: T }, async () => {
    const r = await vidra(['vidra.run.dir=runs/es-none', 'task.epochs=1', 'task.eval_split=null', '+callbacks=early_stopping']);
    expect(r.code, r.stderr).toBe(0);
    expect(read('runs/es-none/job.log')).toContain(
      "callback early_stopping implements events this train run never fires: 'after_eval'. They will not run. This train run fires: before_training, after_training_iteration, after_training_epoch, after_training.",
    );
  });

  it('metrics_logger writes the logged steps and evaluations as CSV or JSONL, every log_every steps', { timeout: T }, async () => {
    const args = ['task.epochs=2', 'task.log_every=5', '+callbacks=metrics_logger', 'callbacks.metrics_logger.log_every=5'];
    const csv = await vidra(['vidra.run.dir=runs/log-csv', ...args]);
    expect(csv.code, csv.stderr).toBe(0);
    const jsonl = await vidra(['vidra.run.dir=runs/log-jsonl', ...args, 'callbacks.metrics_logger.format=jsonl', 'callbacks.metrics_logger.path=logs/train.jsonl']);
    expect(jsonl.code, jsonl.stderr).toBe(0);
    // metrics.jsonl logs the same steps (task.log_every=5) plus the last one (18); the logger, every 5th only.
    const expected = lines(withoutTime(read('runs/log-csv/metrics.jsonl'))).filter((l) => l.split !== undefined || (l.step as number) % 5 === 0);
    expect(expected.map((l) => [l.step, l.split ?? null])).toEqual([[5, null], [9, 'val'], [10, null], [15, null], [18, 'val']]);
    expect(lines(read('runs/log-jsonl/logs/train.jsonl'))).toEqual(expected);
    const columns = [...new Set(expected.flatMap((l) => Object.keys(l)))];
    expect(columns).toEqual(['step', 'epoch', 'loss', 'lr', 'split', 'map', 'map_overall', 'map_head', 'map_middle', 'map_tail']);
    const rows = expected.map((l) => columns.map((c) => (l[c] === undefined ? '' : String(l[c]))).join(','));
    expect(read('runs/log-csv/metrics_log.csv')).toBe(`${[columns.join(','), ...rows].join('\n')}\n`);
  });
});
