import 'reflect-metadata';
import { container } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/config/errors.ts';
import type { DictNode } from '../../core/config/node.ts';
import { loadYaml } from '../../core/config/yaml-load.ts';
import type { ScheduleModule } from '../../core/engine/modules.ts';
import { instantiate } from '../../core/plugins/instantiate.ts';
import { PluginRegistry } from '../../core/plugins/registry.ts';
import { ConstantSchedule } from '../../plugins/schedulers/constant.ts';
import { CosineWarmupSchedule } from '../../plugins/schedulers/cosine_warmup.ts';
import { schedulerPlugins } from '../../plugins/schedulers/index.ts';
import { LinearWarmupSchedule } from '../../plugins/schedulers/linear_warmup.ts';
import { StepSchedule } from '../../plugins/schedulers/step.ts';

// Hand-computed values: ½(1 + cos(π/4)) = ½ + √2/4 and ½(1 + cos(3π/4)) = ½ − √2/4.
const C1 = 0.5 + Math.SQRT2 / 4; // 0.8535533905932737…
const C3 = 0.5 - Math.SQRT2 / 4; // 0.1464466094067262…

/** factor(1), factor(2), … */
const table = (s: ScheduleModule, n: number) => Array.from({ length: n }, (_, i) => s.factor(i + 1));

function expectTable(got: number[], want: number[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((v, i) => expect(v, `factor(${i + 1})`).toBeCloseTo(want[i]!, 15));
}

describe('cosine_warmup: transformers get_cosine_schedule_with_warmup as a LambdaLR', () => {
  it('W = 0: the first step has the full lr, cosine down to 0 at step T + 1', () => {
    // factor(k) = m(k − 1), T = 4: m(0..4) = 1, ½(1 + cos π/4), ½, ½(1 + cos 3π/4), 0.
    expectTable(table(new CosineWarmupSchedule({ total_steps: 4 }), 5), [1, C1, 0.5, C3, 0]);
  });

  it('W > 0: the first update has lr 0, the warmup rises by 1/W per step, the peak is step W + 1', () => {
    // W = 2, T = 6: m(0) = 0, m(1) = ½, m(2) = 1, then the cosine over T − W = 4 steps.
    const s = new CosineWarmupSchedule({ warmup_steps: 2, total_steps: 6 });
    expect(s.factor(1)).toBe(0);
    expectTable(table(s, 7), [0, 0.5, 1, C1, 0.5, C3, 0]);
  });

  it('past T nothing is clamped but max(0, ·): with num_cycles ½ the curve rises again', () => {
    const s = new CosineWarmupSchedule({ warmup_steps: 2, total_steps: 6 });
    // m(7) = ½(1 + cos(5π/4)) = ½ − √2/4, m(8) = ½(1 + cos(3π/2)) = ½, m(10) = ½(1 + cos 2π) = 1.
    expectTable([s.factor(8), s.factor(9), s.factor(11)], [C3, 0.5, 1]);
  });

  it('num_cycles ≠ ½ changes the period: 1 full wave, ¼ wave', () => {
    // num_cycles 1, T = 4: ½(1 + cos(2π·s/4)) = 1, ½, 0, ½, 1.
    expectTable(table(new CosineWarmupSchedule({ total_steps: 4, num_cycles: 1 }), 5), [1, 0.5, 0, 0.5, 1]);
    // num_cycles ¼, T = 4: ½(1 + cos(π/2·s/4)) at s = 2 is ½(1 + cos π/4), at s = 4 is ½.
    const quarter = new CosineWarmupSchedule({ total_steps: 4, num_cycles: 0.25 });
    expectTable([quarter.factor(3), quarter.factor(5)], [C1, 0.5]);
  });

  it('T = W: max(1, T − W) keeps p finite, m(W) = 1 and m(W + 1) = 0', () => {
    const s = new CosineWarmupSchedule({ warmup_steps: 3, total_steps: 3 });
    expectTable(table(s, 5), [0, 1 / 3, 2 / 3, 1, 0]);
  });

  it('the multiplier is exactly transformers’ lambda of the scheduler step', () => {
    const s = new CosineWarmupSchedule({ warmup_steps: 10, total_steps: 100, num_cycles: 0.5 });
    for (const step of [0, 5, 9, 10, 37, 100, 150]) {
      const want = step < 10 ? step / 10 : Math.max(0, 0.5 * (1 + Math.cos(Math.PI * 0.5 * 2 * ((step - 10) / 90))));
      expect(s.multiplier(step)).toBe(want);
      expect(s.factor(step + 1)).toBe(want);
    }
  });
});

describe('linear_warmup: transformers get_linear_schedule_with_warmup as a LambdaLR', () => {
  it('W > 0: 0, ½, then linearly from 1 to 0 at step T + 1, 0 afterwards', () => {
    // W = 2, T = 6: m(0..7) = 0, ½, 1, ¾, ½, ¼, 0, max(0, −¼) = 0.
    expectTable(table(new LinearWarmupSchedule({ warmup_steps: 2, total_steps: 6 }), 8), [0, 0.5, 1, 0.75, 0.5, 0.25, 0, 0]);
  });

  it('W = 0: the first step has the full lr', () => {
    expectTable(table(new LinearWarmupSchedule({ total_steps: 4 }), 6), [1, 0.75, 0.5, 0.25, 0, 0]);
  });
});

describe('step: torch StepLR stepped per optimizer step', () => {
  it('γ^⌊(k − 1)/step_size⌋: the first decay is at step step_size + 1', () => {
    expectTable(table(new StepSchedule({ step_size: 3, gamma: 0.5 }), 9), [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]);
  });

  it('gamma defaults to 0.1', () => {
    expectTable(table(new StepSchedule({ step_size: 2 }), 5), [1, 1, 0.1, 0.1, 0.01]);
  });
});

describe('constant', () => {
  it('is 1 at every step', () => {
    expect(table(new ConstantSchedule(), 4)).toEqual([1, 1, 1, 1]);
  });
});

describe('every schedule is asked for steps k ≥ 1', () => {
  it('step 0, negative or fractional steps are errors', () => {
    const all: ScheduleModule[] = [new ConstantSchedule(), new StepSchedule({ step_size: 1 }), new CosineWarmupSchedule({ total_steps: 5 }), new LinearWarmupSchedule({ total_steps: 5 })];
    for (const s of all) {
      expect(() => s.factor(0)).toThrow(/the step must be an integer k >= 1, got 0/);
      expect(() => s.factor(1.5)).toThrow(RangeError);
    }
  });
});

describe('scheduler plugins from config', () => {
  const registry = () => {
    const r = new PluginRegistry();
    for (const d of schedulerPlugins) r.register(d);
    return r;
  };
  const build = (yaml: string) => instantiate<ScheduleModule>(loadYaml(yaml, 'conf/scheduler.yaml').node as DictNode, { container, registry: registry(), kind: 'scheduler' }) as ScheduleModule;

  it('registers constant, step, cosine_warmup and linear_warmup', () => {
    expect(registry().list('scheduler').map((d) => d.name)).toEqual(['constant', 'step', 'cosine_warmup', 'linear_warmup']);
  });

  it('fills defaults from the schema', () => {
    const s = build('_target_: cosine_warmup\ntotal_steps: 100\n') as CosineWarmupSchedule;
    expect(s.options).toEqual({ warmup_steps: 0, total_steps: 100, num_cycles: 0.5 });
    expect((build('_target_: step\nstep_size: 30\n') as StepSchedule).options).toEqual({ step_size: 30, gamma: 0.1 });
    expect(build('_target_: constant\n').factor(7)).toBe(1);
  });

  it('total_steps must be filled in (by the config or the task) and step_size is required; unknown keys are refused', () => {
    expect(() => build('_target_: cosine_warmup\nwarmup_steps: 5\n')).toThrow(
      "cosine_warmup: total_steps is null and no task filled it in from the run's length (set scheduler.total_steps to the run's optimizer steps)",
    );
    expect(() => build('_target_: linear_warmup\nwarmup_steps: 5\ntotal_steps: null\n')).toThrow(/linear_warmup: total_steps is null/);
    expect(() => build('_target_: step\ngamma: 0.5\n')).toThrow(/step_size/);
    expect(() => build('_target_: cosine_warmup\ntotal_steps: 10\nwarmup: 5\n')).toThrow(ValidationError);
  });
});
