// Schedules that follow the run: `${train_steps:...}` derives the optimizer steps at compose time, and
// `warmup_steps` is steps (an int) or a fraction of total_steps (a float in [0, 1), rounded up as transformers').
import 'reflect-metadata';
import { container } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { Config } from '../../core/config/config.ts';
import { ValidationError } from '../../core/config/errors.ts';
import type { DictNode } from '../../core/config/node.ts';
import { fromPlain } from '../../core/config/node.ts';
import { trainSteps } from '../../core/config/resolvers.ts';
import { loadYaml } from '../../core/config/yaml-load.ts';
import type { ScheduleModule } from '../../core/engine/modules.ts';
import { instantiate } from '../../core/plugins/instantiate.ts';
import { PluginRegistry } from '../../core/plugins/registry.ts';
import type { CosineWarmupSchedule } from '../../plugins/schedulers/cosine_warmup.ts';
import { schedulerPlugins } from '../../plugins/schedulers/index.ts';
import type { LinearWarmupSchedule } from '../../plugins/schedulers/linear_warmup.ts';

const registry = new PluginRegistry();
for (const d of schedulerPlugins) registry.register(d);
const build = (yaml: string) => instantiate<ScheduleModule>(loadYaml(yaml, 'conf/scheduler.yaml').node as DictNode, { container, registry, kind: 'scheduler' }) as ScheduleModule;

describe('train_steps: the run length at compose time', () => {
  it('is epochs × ⌊train_size / batch_size⌋, capped by max_steps; null without a train_size', () => {
    expect(trainSteps(10, 300, 32, null)).toBe(90);
    expect(trainSteps(10, 300, 128, null)).toBe(20);
    expect(trainSteps(10, 300, 8, null)).toBe(370);
    expect(trainSteps(10, 300, 8, 50)).toBe(50);
    expect(trainSteps(10, 300, 8, 5000)).toBe(370);
    expect(trainSteps(10, null, 8, null)).toBeNull();
  });

  it('resolves as the bundled train task and schedule use it', () => {
    const cfg = new Config(
      fromPlain({
        data: { train_size: 300, batch_size: 128 },
        task: { epochs: 30, max_steps: null, batch_size: '${data.batch_size}', total_steps: '${train_steps:${.epochs},${data.train_size},${.batch_size},${.max_steps}}' },
        scheduler: { total_steps: '${oc.select:task.total_steps,null}' },
      }) as DictNode,
    );
    expect(cfg.get('task.total_steps')).toBe(60);
    expect(cfg.get('scheduler.total_steps')).toBe(60);
    const bad = new Config(fromPlain({ a: '${train_steps:1,300,0,null}' }) as DictNode);
    expect(() => bad.get('a')).toThrow('train_steps: batch_size must be an integer >= 1, got 0');
    const few = new Config(fromPlain({ a: '${train_steps:1,300}' }) as DictNode);
    expect(() => few.get('a')).toThrow('train_steps takes epochs, train_size, batch_size and max_steps, but got 2 arguments');
  });
});

describe('warmup_steps: steps or a fraction of total_steps', () => {
  it('takes an integer as steps and a fraction rounded up (transformers get_warmup_steps)', () => {
    expect((build('_target_: cosine_warmup\nwarmup_steps: 20\ntotal_steps: 90\n') as CosineWarmupSchedule).options).toEqual({ warmup_steps: 20, total_steps: 90, num_cycles: 0.5 });
    expect((build('_target_: cosine_warmup\nwarmup_steps: 0.1\ntotal_steps: 1110\n') as CosineWarmupSchedule).options.warmup_steps).toBe(111);
    expect((build('_target_: cosine_warmup\nwarmup_steps: 0.2\ntotal_steps: 7\n') as CosineWarmupSchedule).options.warmup_steps).toBe(2);
    expect((build('_target_: linear_warmup\nwarmup_steps: 0.25\ntotal_steps: 20\n') as LinearWarmupSchedule).options).toEqual({ warmup_steps: 5, total_steps: 20 });
    expect(build('_target_: cosine_warmup\nwarmup_steps: 0.2\ntotal_steps: 20\n').describe?.()).toBe('20 steps, 4 of warmup, num_cycles 0.5');
  });

  it('a fraction warms up for that share of the run: the same curve at every run length', () => {
    for (const T of [20, 92, 372]) {
      const s = build(`_target_: linear_warmup\nwarmup_steps: 0.5\ntotal_steps: ${T}\n`);
      // m(W) = 1 at the end of warmup, step W + 1; m(T) = 0.
      expect(s.factor(T / 2 + 1)).toBe(1);
      expect(s.factor(T + 1)).toBe(0);
      expect(s.factor(T / 4 + 1)).toBe(0.5);
    }
  });

  it('refuses a float of 1 or more, and negative values', () => {
    expect(() => build('_target_: cosine_warmup\nwarmup_steps: 1.5\ntotal_steps: 90\n')).toThrow(ValidationError);
    expect(() => build('_target_: cosine_warmup\nwarmup_steps: -1\ntotal_steps: 90\n')).toThrow(ValidationError);
  });
});
