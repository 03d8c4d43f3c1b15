import { describe, expect, it } from 'vitest';
import type { Params, QuadraticPenalty, Sample } from '../../plugins/strategies/events.ts';
import { diagonalFisher, EwcPlugin, type EwcOptions } from '../../plugins/strategies/ewc.ts';
import { penaltyGradient, penaltyValue } from '../../plugins/strategies/penalty.ts';
import { itemBatches, StrategyTemplate } from '../../plugins/strategies/template.ts';
import { build } from '../samplers/build.ts';

const close = (a: ArrayLike<number>, b: number[], digits = 12) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) expect(a[i]).toBeCloseTo(b[i]!, digits);
};

// Per-sample gradients by dataset index: experience 0 = items 0..2, experience 1 = items 3..4.
const G: Params[] = [
  { w: [1, 0], b: [2] },
  { w: [3, -1], b: [0] },
  { w: [-1, 1], b: [1] },
  { w: [2, 2], b: [0] },
  { w: [0, 0], b: [2] },
];
// Parameters at the end of each experience.
const THETA_STAR: Params[] = [
  { w: [1, 2], b: [0.5] },
  { w: [0, 1], b: [1] },
];
const item = (index: number): Sample => ({ input: [index], target: 0, index });
const experiences = [
  { id: 0, items: [0, 1, 2].map(item) },
  { id: 1, items: [3, 4].map(item) },
];

/** Runs EWC through a fused template whose engine serves G and THETA_STAR; returns the penalties each step saw. */
async function train(options: Partial<EwcOptions> & { ewc_lambda: number }) {
  const ewc = new EwcPlugin(options);
  let exp = 0;
  const requested: number[][] = [];
  const penalties: Array<QuadraticPenalty | null> = [];
  // Runs after EWC's after_training_exp: the engine's parameters move on to the next experience's.
  const nextExperience = { after_training_exp: () => void exp++ };
  const template = new StrategyTemplate([...ewc.plugins, nextExperience], {
    context: {
      parameters: () => THETA_STAR[exp]!,
      gradients: async (items) => {
        requested.push(items.map((s) => s.index!));
        return items.map((s) => G[s.index!]!);
      },
    },
  });
  expect(template.warnings).toEqual([]);
  await template.train(experiences, {
    batches: (e) => itemBatches(e.items, 2),
    step: (ctx) => void penalties.push((ctx.extraLoss.find((l) => l.name === 'ewc') as QuadraticPenalty | undefined) ?? null),
  });
  return { ewc, requested, penalties };
}

const theta: Params = { w: [2, 0], b: [0] };

describe('diagonal Fisher from per-sample gradients', () => {
  it('per-sample (Kirkpatrick): the mean of squared gradients', () => {
    const f = diagonalFisher(THETA_STAR[0]!, G.slice(0, 3));
    close(f.w!, [11 / 3, 2 / 3]);
    close(f.b!, [5 / 3]);
  });

  it('fisher_batch_size: squares of mini-batch mean gradients, averaged over batches (Avalanche compute_importances)', () => {
    const f = diagonalFisher(THETA_STAR[0]!, G.slice(0, 3), 2);
    close(f.w!, [2.5, 0.625]);
    close(f.b!, [1]);
  });

  it('a parameter without a gradient counts as zero', () => {
    const f = diagonalFisher({ w: [0, 0], head: [0] }, [{ w: [2, 0] }]);
    close(f.head!, [0]);
    close(f.w!, [4, 0]);
  });
});

describe('ewc, separate mode: one {F, θ*} per past experience', () => {
  it('no penalty during the first experience; afterwards the same penalty object every step', async () => {
    const { penalties, requested } = await train({ ewc_lambda: 4 });
    expect(requested).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
    expect(penalties.slice(0, 2)).toEqual([null, null]);
    expect(penalties[2]).not.toBeNull();
    expect(penalties[2]).toBe(penalties[2]);
  });

  it('stores F and a snapshot of θ per experience', async () => {
    const { ewc } = await train({ ewc_lambda: 4 });
    expect(ewc.records.map((r) => r.experience)).toEqual([0, 1]);
    close(ewc.records[0]!.importance.w!, [11 / 3, 2 / 3]);
    close(ewc.records[1]!.importance.w!, [2, 2]);
    close(ewc.records[1]!.importance.b!, [2]);
    close(ewc.records[0]!.params.w!, [1, 2]);
    close(ewc.records[1]!.params.b!, [1]);
    expect(ewc.penalty!.terms).toHaveLength(2);
  });

  it('penalty λ/2 Σ_t Σ F_t (θ − θ*_t)² and its gradient λ F_t (θ − θ*_t), by hand', async () => {
    const { ewc } = await train({ ewc_lambda: 4 });
    // term 0: 11/3·1² + 2/3·(−2)² + 5/3·(−0.5)² = 27/4;  term 1: 2·2² + 2·(−1)² + 2·(−1)² = 12;  × λ/2 = 2.
    expect(penaltyValue(ewc.penalty!, theta)).toBeCloseTo(2 * (27 / 4 + 12), 12);
    const g = penaltyGradient(ewc.penalty!, theta);
    close(g.w!, [(4 * 23) / 3, -40 / 3]);
    close(g.b!, [-34 / 3]);
  });

  it('the gradient matches central differences of the value', async () => {
    const { ewc } = await train({ ewc_lambda: 0.7 });
    const p = ewc.penalty!;
    const at: Record<string, number[]> = { w: [0.3, -1.2], b: [2.5] };
    const g = penaltyGradient(p, at);
    for (const k of ['w', 'b']) {
      for (let j = 0; j < at[k]!.length; j++) {
        const h = 1e-5;
        const plus = structuredClone(at);
        const minus = structuredClone(at);
        plus[k]![j]! += h;
        minus[k]![j]! -= h;
        expect(g[k]![j]).toBeCloseTo((penaltyValue(p, plus) - penaltyValue(p, minus)) / (2 * h), 6);
      }
    }
  });

  it("penalty_form 'avalanche' is λ Σ F (θ − θ*)² (Avalanche's EWCPlugin has no ½)", async () => {
    const { ewc } = await train({ ewc_lambda: 4, penalty_form: 'avalanche' });
    expect(penaltyValue(ewc.penalty!, theta)).toBeCloseTo(4 * (27 / 4 + 12), 12);
  });

  it('parameters a term does not cover (a new head) add nothing and get a zero gradient', async () => {
    const { ewc } = await train({ ewc_lambda: 4 });
    const withHead = { ...theta, head: [3, 3] };
    expect(penaltyValue(ewc.penalty!, withHead)).toBeCloseTo(37.5, 12);
    close(penaltyGradient(ewc.penalty!, withHead).head!, [0, 0]);
  });
});

describe('ewc, online mode: F ← γ·F_old + F_new, latest θ* (Schwarz et al. 2018)', () => {
  it('accumulates with decay and keeps only the latest record', async () => {
    const { ewc } = await train({ ewc_lambda: 4, mode: 'online', decay_factor: 0.5 });
    expect(ewc.records.map((r) => r.experience)).toEqual([1]);
    close(ewc.records[0]!.importance.w!, [0.5 * (11 / 3) + 2, 0.5 * (2 / 3) + 2]);
    close(ewc.records[0]!.importance.b!, [0.5 * (5 / 3) + 2]);
    expect(ewc.penalty!.terms).toHaveLength(1);
    close(ewc.penalty!.terms[0]!.anchor.w!, [0, 1]);
    // (23/6)·2² + (7/3)·(−1)² + (17/6)·(−1)² = 41/2, × λ/2.
    expect(penaltyValue(ewc.penalty!, theta)).toBeCloseTo(2 * 20.5, 12);
  });

  it('keep_importance_data keeps every record; the penalty still uses the latest', async () => {
    const { ewc } = await train({ ewc_lambda: 4, mode: 'online', decay_factor: 0.5, keep_importance_data: true });
    expect(ewc.records.map((r) => r.experience)).toEqual([0, 1]);
    expect(penaltyValue(ewc.penalty!, theta)).toBeCloseTo(41, 12);
  });

  it('needs decay_factor', () => {
    expect(() => new EwcPlugin({ ewc_lambda: 1, mode: 'online' })).toThrow(/mode=online needs decay_factor/);
  });
});

describe('ewc bookkeeping', () => {
  it('fisher_samples uses a seeded subset of the experience', async () => {
    const a = await train({ ewc_lambda: 1, fisher_samples: 2, seed: 3 });
    const b = await train({ ewc_lambda: 1, fisher_samples: 2, seed: 3 });
    expect(a.requested[0]).toHaveLength(2);
    expect(a.requested).toEqual(b.requested);
  });

  it('without engine gradients after_training_exp fails with an explanation', async () => {
    const ewc = new EwcPlugin({ ewc_lambda: 1 });
    const t = new StrategyTemplate(ewc.plugins);
    await expect(t.train(experiences, { batches: (e) => itemBatches(e.items, 2), step: () => {} })).rejects.toThrow(/per-sample gradients \(ctx.gradients\)/);
  });

  it('from config: ewc_lambda is required; defaults', () => {
    expect(() => build('strategy', 'ewc')).toThrow(/ewc_lambda/);
    const e = build<EwcPlugin>('strategy', 'ewc', { ewc_lambda: 10 });
    expect(e.options).toEqual({
      ewc_lambda: 10,
      mode: 'separate',
      decay_factor: null,
      keep_importance_data: false,
      fisher_batch_size: 1,
      fisher_samples: null,
      penalty_form: 'kirkpatrick',
      seed: 0,
    });
    expect(e.scale).toBe(5);
    expect(() => build('strategy', 'ewc', { ewc_lambda: 1, mode: 'online' })).toThrow(/decay_factor/);
  });
});
