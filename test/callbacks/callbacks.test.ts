// The callback kind: the fixed event list each task fires, the report of events a task never fires, and the
// built-in callbacks driven event by event (the tasks' end-to-end tests are in test/tasks/checkpoints.test.ts).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CallbackList, TASK_EVENTS, type Callback, type CallbackEvent } from '../../plugins/callbacks/events.ts';
import { createPlugin } from '../../plugins/create.ts';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function listOf(task: keyof typeof TASK_EVENTS, callbacks: Callback[], outputDir = mkdtempSync(join(tmpdir(), 'vidra-cb-'))) {
  made.push(outputDir);
  const warnings: string[] = [];
  const list = new CallbackList(callbacks, task, outputDir, { info: () => {}, warn: (l) => warnings.push(l) });
  return { list, warnings, outputDir };
}

const parameters = () => ({});

describe('callback events: a callback listening to an event its task never fires is reported', () => {
  it('names the unfired events, and suggests the event a misspelt name meant', () => {
    class Exp implements Callback {
      after_training_exp() {}
      after_eval() {}
    }
    const { warnings } = listOf('train', [new Exp(), { name: 'typo', after_training_iter: () => {} } as Callback]);
    expect(warnings).toEqual([
      "callback Exp implements events the train task never fires: 'after_training_exp'. They will not run. The train task fires: before_training, after_training_iteration, after_eval, after_training_epoch, after_training.",
      "callback typo implements events the train task never fires: 'after_training_iter' (not an event; did you mean 'after_training_iteration' or 'after_training_exp' or 'after_training'?). They will not run. The train task fires: before_training, after_training_iteration, after_eval, after_training_epoch, after_training.",
    ]);
    expect(listOf('continual', [new Exp()]).warnings).toEqual([]);
    expect(listOf('evaluate', [createPlugin<Callback>('callback', 'metrics_logger')]).warnings).toEqual([
      "callback metrics_logger implements events the evaluate task never fires: 'after_training_iteration'. They will not run. The evaluate task fires: after_eval.",
    ]);
  });

  it('fires in list order with the task, event and run directory; the first stop reason wins', async () => {
    const seen: string[] = [];
    const dirs: string[] = [];
    const cb = (id: string): Callback => ({
      after_eval: (ctx) => {
        seen.push(`${id}:${ctx.task}:${ctx.event}:${ctx.step}:${ctx.values?.map}`);
        dirs.push(ctx.outputDir);
        ctx.stop(`stop ${id}`);
      },
    });
    const { list, outputDir } = listOf('train', [cb('a'), cb('b')]);
    await list.fire('after_eval', { step: 9, values: { map: 0.5 }, parameters });
    expect(seen).toEqual(['a:train:after_eval:9:0.5', 'b:train:after_eval:9:0.5']);
    expect(list.stopReason).toBe('stop a');
    expect(dirs).toEqual([outputDir, outputDir]);
    const cont = listOf('continual', [cb('c')]);
    await cont.list.fire('after_eval', { step: 1, values: { map: 0.1 }, parameters });
    expect(cont.warnings).toEqual(['the continual task does not stop early; ignored: stop c']);
  });
});

describe('early_stopping', () => {
  const run = async (options: Record<string, unknown>, values: number[]) => {
    const { list } = listOf('train', [createPlugin<Callback>('callback', 'early_stopping', options)]);
    for (const [i, v] of values.entries()) {
      await list.fire('after_eval', { step: (i + 1) * 10, values: { map: v }, parameters });
      if (list.stopReason) return { at: i, reason: list.stopReason };
    }
    return null;
  };

  it('stops after `patience` evaluations that do not improve by more than min_delta', async () => {
    expect(await run({ monitor: 'map', patience: 2 }, [0.1, 0.2, 0.2, 0.19, 0.3])).toEqual({
      at: 3,
      reason: 'early_stopping: map has not improved by more than 0 for 2 evaluations (best 0.2 at step 20)',
    });
    // An improvement resets the count; min_delta=0.05 makes 0.2 → 0.22 no improvement.
    expect(await run({ monitor: 'map', patience: 2, min_delta: 0.05 }, [0.1, 0.2, 0.22, 0.3, 0.31, 0.32])).toEqual({
      at: 5,
      reason: 'early_stopping: map has not improved by more than 0.05 for 2 evaluations (best 0.3 at step 40)',
    });
    expect(await run({ monitor: 'map', mode: 'min', patience: 1 }, [0.3, 0.2, 0.25])).toEqual({
      at: 2,
      reason: 'early_stopping: map has not improved by more than 0 for 1 evaluation (best 0.2 at step 20)',
    });
    expect(await run({ monitor: 'map', patience: 1 }, [0.1, 0.2, 0.3])).toBeNull();
  });

  it('says which values there are when the monitored one is not among them', async () => {
    await expect(run({ monitor: 'acc' }, [0.1])).rejects.toThrow("early_stopping callback: monitor 'acc' is not a value of the evaluation (it has map): set monitor to one of them");
  });
});

describe('metrics_logger', () => {
  it('writes CSV with every column seen so far, quoting fields as RFC 4180 says', async () => {
    const { list, outputDir } = listOf('continual', [createPlugin<Callback>('callback', 'metrics_logger', { log_every: 2 })]);
    const step = (s: number, event: CallbackEvent = 'after_training_iteration') => list.fire(event, { step: s, experience: 'user,"7"', loss: s / 10, lr: 0.001, parameters });
    for (const s of [1, 2, 3, 4]) await step(s);
    expect(readFileSync(join(outputDir, 'metrics_log.csv'), 'utf8')).toBe('step,experience,loss,lr\n2,"user,""7""",0.2,0.001\n4,"user,""7""",0.4,0.001\n');
    await list.fire('after_eval', { step: 4, values: { acc: 0.5, note: null }, split: 'test', parameters });
    expect(readFileSync(join(outputDir, 'metrics_log.csv'), 'utf8')).toBe(
      'step,experience,loss,lr,split,acc,note\n2,"user,""7""",0.2,0.001,,,\n4,"user,""7""",0.4,0.001,,,\n4,,,,test,0.5,\n',
    );
  });
});
