import { describe, expect, it } from 'vitest';
import { pluginCallbacks } from '../../core/plugins/plugin-events.ts';
import { checkPluginEvents, fireEvent, STRATEGY_EVENTS, type Sample, type StrategyContext, type StrategyEvent, type StrategyPlugin } from '../../plugins/strategies/events.ts';
import { itemBatches, StrategyTemplate, templateEvents } from '../../plugins/strategies/template.ts';

const samples = (n: number, offset = 0): Sample[] => Array.from({ length: n }, (_, i) => ({ input: [offset + i], target: (offset + i) % 3, index: offset + i }));

/** A plugin recording every event it receives. */
function recorder(log: string[], tag = ''): StrategyPlugin {
  const p: Record<string, (ctx: StrategyContext) => void> = {};
  for (const e of STRATEGY_EVENTS) p[e] = (ctx) => void log.push(`${tag}${e}${ctx.experience ? `@${ctx.experience.id}` : ''}`);
  return p as StrategyPlugin;
}

describe('the fixed list of events (Avalanche names)', () => {
  it('has the 20 training and evaluation events', () => {
    expect(STRATEGY_EVENTS).toHaveLength(20);
    expect(new Set(STRATEGY_EVENTS).size).toBe(20);
  });
});

describe('fireEvent: Avalanche trigger_plugins', () => {
  it('calls the plugins implementing the event, in list order, awaiting each', async () => {
    const log: string[] = [];
    const slow: StrategyPlugin = {
      async before_training_exp() {
        await new Promise((r) => setTimeout(r, 5));
        log.push('slow');
      },
    };
    const fast: StrategyPlugin = { before_training_exp: () => void log.push('fast') };
    const other: StrategyPlugin = { after_training_exp: () => void log.push('other') };
    const ctx: StrategyContext = { mode: 'train', trainExpCounter: 0, epoch: 0, iteration: 0, extraLoss: [] };
    await fireEvent([slow, other, fast], 'before_training_exp', ctx);
    expect(log).toEqual(['slow', 'fast']);
    expect(ctx.event).toBe('before_training_exp');
  });

  it('calls methods with the plugin as this', async () => {
    class Counter {
      n = 0;
      after_training_iteration() {
        this.n++;
      }
    }
    const c = new Counter();
    await fireEvent([c], 'after_training_iteration', { mode: 'train', trainExpCounter: 0, epoch: 0, iteration: 0, extraLoss: [] });
    expect(c.n).toBe(1);
  });
});

describe('StrategyTemplate: the order of events', () => {
  const experiences = [
    { id: 0, items: samples(4) },
    { id: 1, items: samples(2, 4) },
  ];

  it('fused steps: training events per experience, epoch and batch, without the phase events', async () => {
    const log: string[] = [];
    const steps: string[] = [];
    const t = new StrategyTemplate([recorder(log)]);
    await t.train(experiences.slice(0, 1), {
      epochs: 2,
      batches: (exp) => itemBatches(exp.items, 2),
      step: (ctx) => void steps.push(`${ctx.epoch}.${ctx.iteration}`),
    });
    const iteration = ['before_training_iteration@0', 'after_training_iteration@0'];
    const epoch = ['before_training_epoch@0', ...iteration, ...iteration, 'after_training_epoch@0'];
    expect(log).toEqual(['before_training', 'before_training_exp@0', ...epoch, ...epoch, 'after_training_exp@0', 'after_training']);
    expect(steps).toEqual(['0.0', '0.1', '1.0', '1.1']);
  });

  it('phased steps: forward, backward and update events inside each iteration (Avalanche training_epoch)', async () => {
    const log: string[] = [];
    const calls: string[] = [];
    const t = new StrategyTemplate([recorder(log)], { steps: 'phased' });
    await t.train([{ id: 7, items: samples(1) }], {
      batches: (exp) => itemBatches(exp.items, 1),
      forward: () => void calls.push('forward'),
      backward: () => void calls.push('backward'),
      update: () => void calls.push('update'),
    });
    expect(log.map((e) => e.replace('@7', ''))).toEqual([
      'before_training',
      'before_training_exp',
      'before_training_epoch',
      'before_training_iteration',
      'before_forward',
      'after_forward',
      'before_backward',
      'after_backward',
      'before_update',
      'after_update',
      'after_training_iteration',
      'after_training_epoch',
      'after_training_exp',
      'after_training',
    ]);
    expect(calls).toEqual(['forward', 'backward', 'update']);
  });

  it('evaluation events, and plugin order within each event', async () => {
    const log: string[] = [];
    const t = new StrategyTemplate([recorder(log, 'A:'), recorder(log, 'B:')]);
    await t.eval(experiences, { batches: (exp) => itemBatches(exp.items, 4), predict: () => void log.push('predict') });
    const both = (e: string) => [`A:${e}`, `B:${e}`];
    expect(log).toEqual([
      ...both('before_eval'),
      ...both('before_eval_exp@0'),
      ...both('before_eval_iteration@0'),
      'predict',
      ...both('after_eval_iteration@0'),
      ...both('after_eval_exp@0'),
      ...both('before_eval_exp@1'),
      ...both('before_eval_iteration@1'),
      'predict',
      ...both('after_eval_iteration@1'),
      ...both('after_eval_exp@1'),
      ...both('after_eval'),
    ]);
  });

  it('trainExpCounter counts finished training experiences; extraLoss is emptied before each iteration', async () => {
    const seen: Array<[number, number]> = [];
    const adder: StrategyPlugin = {
      before_training_iteration: (ctx) => {
        seen.push([ctx.trainExpCounter, ctx.extraLoss.length]);
        ctx.extraLoss.push({ name: 'x', kind: 'custom' });
      },
    };
    const t = new StrategyTemplate([adder]);
    await t.train(experiences, { batches: (exp) => itemBatches(exp.items, 2), step: (ctx) => expect(ctx.extraLoss).toHaveLength(1) });
    expect(seen).toEqual([
      [0, 0],
      [0, 0],
      [1, 0],
    ]);
  });

  it('a fused template needs step(); a phased one forward/backward/update', async () => {
    await expect(new StrategyTemplate([]).train([], { batches: () => [] })).rejects.toThrow(/needs step/);
    await expect(new StrategyTemplate([], { steps: 'phased' }).train([], { batches: () => [], step: () => {} })).rejects.toThrow(/forward\(\), backward\(\) and update\(\)/);
  });
});

describe('checkPluginEvents: plugins listening to events the template never fires (Avalanche _check_plugin_compatibility)', () => {
  class BackwardHook {
    before_training_exp() {}
    before_backward() {}
  }

  it('reports a callback the template does not fire, naming it', () => {
    const w = checkPluginEvents(new BackwardHook(), templateEvents('fused'));
    expect(w).toMatch(/strategy plugin BackwardHook implements callbacks this training template never fires: 'before_backward'/);
    expect(w).not.toMatch(/'before_training_exp'/);
    expect(checkPluginEvents(new BackwardHook(), templateEvents('phased'))).toBeNull();
  });

  it('reports names that are no event at all, with the closest event', () => {
    const w = checkPluginEvents({ name: 'typo', after_training_iter: () => {} }, STRATEGY_EVENTS);
    expect(w).toMatch(/typo .*'after_training_iter' \(not an event; did you mean 'after_training_iteration'/);
  });

  it('finds inherited callbacks and ignores other methods', () => {
    class Base {
      after_eval() {}
    }
    class Derived extends Base {
      helper() {}
      before_eval() {}
    }
    expect(pluginCallbacks(new Derived())).toEqual(['after_eval', 'before_eval']);
    expect(checkPluginEvents(new Derived(), ['before_eval'] as StrategyEvent[])).toMatch(/'after_eval'/);
  });

  it('the template reports at construction through the warn callback', () => {
    const warnings: string[] = [];
    const t = new StrategyTemplate([new BackwardHook(), {}], { context: { warn: (m) => warnings.push(m) } });
    expect(t.warnings).toHaveLength(1);
    expect(warnings).toEqual(t.warnings);
  });
});
