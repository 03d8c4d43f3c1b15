import { describe, expect, it } from 'vitest';
import { createLoss, evaluateLoss } from '../../plugins/losses/evaluate.ts';
import type { LdamLoss } from '../../plugins/losses/ldam.ts';
import { expectFloat32Close, lossGradCheck, matrix } from './harness.ts';
import { drw, expectClose, expectFinite, ldamAnimalKingdom, ldamAnimalKingdomGrad, ldamSoftmax, ldamSoftmaxGrad, margins, sp, type Matrix } from './reference.ts';

// Cosine logits (|x| ≤ 1), as LDAM-DRW's NormedLinear produces.
const x = matrix(41, 5, 4, -1, 1);
const t = [0, 3, 1, 3, 2];
const counts = [5000, 400, 60, 7];

describe('ldam, softmax: LDAM-DRW LDAMLoss (ml-spec §1.5)', () => {
  it('hand-computed: the rarest class gets max_m, the margin is subtracted from the target logit only, before ×s', async () => {
    // counts [10000, 1]: m = [0.5·10000^(−1/4), 0.5] = [0.05, 0.5]
    const rare = await evaluateLoss('ldam', {}, { logits: [[0, 0]], targets: [1], classCounts: [10000, 1] });
    expectClose(rare.loss, 15 + Math.log1p(Math.exp(-15))); // z = [0, −15]
    const frequent = await evaluateLoss('ldam', {}, { logits: [[0, 0]], targets: [0], classCounts: [10000, 1] });
    expectClose(frequent.loss, Math.log(1 + Math.exp(1.5))); // z = [−1.5, 0]
    // three classes: the non-target logits keep their value (z = [0, 0, −5] for target 2, m_2 = 0.5/3)
    const three = await evaluateLoss('ldam', {}, { logits: [[0, 0, 0]], targets: [2], classCounts: [1, 16, 81] });
    expectClose(three.loss, 5 + Math.log(2 + Math.exp(-5)));
    expectClose(margins([1, 16, 81]), [0.5, 0.25, 0.5 / 3]);
  });

  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`reduction ${reduction}: values and ∂L/∂x = s·(softmax(z) − onehot)·w_t / Σw_t, stage 1 and stage 2 of DRW`, async () => {
      for (const epoch of [0, 200]) {
        const weight = epoch >= 160 ? drw(counts, epoch, 160) : null;
        const r = await evaluateLoss('ldam', { reduction }, { logits: x, targets: t, classCounts: counts, epoch });
        expectClose(r.loss, ldamSoftmax(x, t, counts, { weight, reduction }));
        const W = t.reduce((a, k) => a + (weight?.[k] ?? 1), 0);
        const g = ldamSoftmaxGrad(x, t, counts, { weight }).map((row) => row.map((v) => (reduction === 'mean' ? v : v * W)));
        expectClose(r.grad, g);
      }
    });
  }

  it('DRW switches at drw_epoch (160): epoch 159 is unweighted, 160 uses (1−β)/(1−β^n) normalised to sum C', async () => {
    const loss = createLoss('ldam') as LdamLoss;
    expect(loss.classWeights(counts, 159)).toEqual([1, 1, 1, 1]);
    const w = loss.classWeights(counts, 160)!;
    const raw = counts.map((n) => (1 - 0.9999) / (1 - Math.pow(0.9999, n)));
    const s = raw.reduce((a, b) => a + b);
    expectClose(w, raw.map((v) => (4 * v) / s));
    expectClose(w.reduce((a, b) => a + b), 4);
    expect(w[3]).toBeGreaterThan(w[0]!); // the rare class is up-weighted
    const before = await evaluateLoss('ldam', {}, { logits: x, targets: t, classCounts: counts, epoch: 159 });
    const after = await evaluateLoss('ldam', {}, { logits: x, targets: t, classCounts: counts, epoch: 160 });
    expectClose(before.loss, ldamSoftmax(x, t, counts) as number);
    expectClose(after.loss, ldamSoftmax(x, t, counts, { weight: drw(counts, 160, 160) }) as number);
    expect(Math.abs((before.loss as number) - (after.loss as number))).toBeGreaterThan(1e-3);
  });

  it('drw_epoch, drw_beta, drw=false and fixed class_weights', async () => {
    const custom = await evaluateLoss('ldam', { drw_epoch: 10, drw_beta: 0.999 }, { logits: x, targets: t, classCounts: counts, epoch: 10 });
    expectClose(custom.loss, ldamSoftmax(x, t, counts, { weight: drw(counts, 10, 10, 0.999) }) as number);
    const off = await evaluateLoss('ldam', { drw: false }, { logits: x, targets: t, classCounts: counts, epoch: 500 });
    expectClose(off.loss, ldamSoftmax(x, t, counts) as number);
    const fixed = await evaluateLoss('ldam', { class_weights: [1, 2, 3, 4], max_m: 0.3, s: 10 }, { logits: x, targets: t, classCounts: counts });
    expectClose(fixed.loss, ldamSoftmax(x, t, counts, { weight: [1, 2, 3, 4], maxM: 0.3, s: 10 }) as number);
  });

  it('|x| ≥ 50 is finite and exact; the graph passes the gradient check; float32 ≈ float64', async () => {
    const r = await evaluateLoss('ldam', { reduction: 'sum' }, { logits: [[50, -50], [-50, 50]], targets: [1, 1], classCounts: [10000, 1] });
    expectFinite(r);
    // target 1 of row 0: z = [1500, −1515] → 3015; row 1: z = [−1500, 1485] → ~0
    expectClose(r.loss, 3015 + sp(-2985), { rtol: 1e-12 });
    await lossGradCheck('ldam', { s: 5 }, { logits: x, targets: t, classCounts: counts, epoch: 200 }, { rtol: 1e-5 });
    await expectFloat32Close('ldam', {}, { logits: x, targets: t, classCounts: counts, epoch: 200 });
  });
});

describe('ldam, animal_kingdom: VideoLT/AK multi-label LDAM (ml-spec §1.5)', () => {
  const y: Matrix = [
    [1, 0, 0, 1],
    [0, 1, 0, 0],
    [1, 1, 1, 0],
    [0, 0, 0, 0],
    [0, 0, 1, 1],
  ];

  it('hand-computed: every positive gets the SUM of the margins of all positives of its row', async () => {
    // counts [1, 16]: m = [0.5, 0.25]; both positive: batch_m = 0.75, out = [0.2 − 0.75, 0.1 − 0.75]
    const r = await evaluateLoss('ldam', { variant: 'animal_kingdom' }, { logits: [[0.2, 0.1]], targets: [[1, 1]], classCounts: [1, 16] });
    expectClose(r.loss, (sp(30 * 0.55) + sp(30 * 0.65)) / 2);
    // not the per-class-margin variant (x − m_j on each positive)
    expect(Math.abs((r.loss as number) - (sp(30 * 0.3) + sp(30 * 0.15)) / 2)).toBeGreaterThan(1);
  });

  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`reduction ${reduction}: values against the reference (÷ N·C for mean) and ∂L/∂x = s·w_j(σ(s·out) − y), DRW at step epoch 80`, async () => {
      for (const epoch of [79, 80]) {
        const weight = epoch >= 80 ? drw(counts, epoch, 80) : null;
        const r = await evaluateLoss('ldam', { variant: 'animal_kingdom', reduction }, { logits: x, targets: y, classCounts: counts, epoch });
        expectClose(r.loss, ldamAnimalKingdom(x, y, counts, { weight, reduction }));
        expectClose(r.grad, ldamAnimalKingdomGrad(x, y, counts, { weight, reduction }));
      }
    });
  }

  it('soft targets: the margin applies where y = 1 only (torch.where on y.type(uint8)), batch_m sums m·y', async () => {
    const soft: Matrix = [[1, 0.5, 0, 0.2]];
    const r = await evaluateLoss('ldam', { variant: 'animal_kingdom', drw: false }, { logits: [x[0]!], targets: soft, classCounts: counts });
    expectClose(r.loss, ldamAnimalKingdom([x[0]!], soft, counts) as number);
  });

  it('|x| ≥ 50 is finite; the graph passes the gradient check; float32 ≈ float64', async () => {
    const r = await evaluateLoss('ldam', { variant: 'animal_kingdom' }, { logits: [[50, -50], [-50, 50]], targets: [[1, 0], [1, 1]], classCounts: [10000, 1] });
    expectFinite(r);
    expectClose(r.loss, ldamAnimalKingdom([[50, -50], [-50, 50]], [[1, 0], [1, 1]], [10000, 1]) as number);
    await lossGradCheck('ldam', { variant: 'animal_kingdom', s: 5 }, { logits: x, targets: y, classCounts: counts, epoch: 100 }, { rtol: 1e-5 });
    await expectFloat32Close('ldam', { variant: 'animal_kingdom' }, { logits: x, targets: y, classCounts: counts, epoch: 100 });
  });
});

describe('ldam: class counts', () => {
  it('without class counts: an error naming data.class_counts', async () => {
    await expect(evaluateLoss('ldam', {}, { logits: x, targets: t })).rejects.toThrow(
      "the ldam loss needs the training set's per-class sample counts (data.class_counts), and the dataset provides none",
    );
  });

  it('a class with no training sample has no margin: an error naming the class', async () => {
    await expect(evaluateLoss('ldam', {}, { logits: x, targets: t, classCounts: [5, 0, 3, 1] })).rejects.toThrow(
      'data.class_counts[1] is 0: the ldam loss needs a positive count for every class (its margins and class weights divide by powers of the count)',
    );
  });
});
