import { describe, expect, it } from 'vitest';
import { createLoss, evaluateLoss } from '../../plugins/losses/evaluate.ts';
import { expectFloat32Close, lossGradCheck, matrix } from './harness.ts';
import {
  bce,
  bceElements,
  expectClose,
  expectFinite,
  focalAnimalKingdom,
  focalSigmoid,
  focalSigmoidGrad,
  focalSoftmaxKornia,
  focalSoftmaxLdam,
  numericGrad,
  sp,
  type Matrix,
} from './reference.ts';

const x = matrix(21, 3, 4);
const y: Matrix = [
  [1, 0, 0, 1],
  [0, 1, 0, 0],
  [0, 0, 1, 1],
];
const t = [3, 0, 1];
const total = (v: number | number[] | Matrix): number => (typeof v === 'number' ? v : (v as number[]).flat().reduce((a: number, b: number) => a + b, 0));

describe('focal, sigmoid: torchvision sigmoid_focal_loss (ml-spec §1.2)', () => {
  it("the default reduction is torchvision's 'none': the [N, C] element losses", async () => {
    const r = await evaluateLoss('focal', {}, { logits: x, targets: y });
    expect((r.loss as Matrix).length).toBe(3);
    expectClose(r.loss, focalSigmoid(x, y));
  });

  it('hand-computed at x = 0: α·(1/2)^γ·ln 2 on a positive, (1 − α)·(1/2)^γ·ln 2 on a negative', async () => {
    const r = await evaluateLoss('focal', {}, { logits: [[0, 0]], targets: [[1, 0]] });
    expectClose(r.loss, [[0.25 * 0.25 * Math.LN2, 0.75 * 0.25 * Math.LN2]]);
  });

  it('α_t is 1 − α on negatives (pitfall 1): a negative with α = 0.9 is weighted 0.1', async () => {
    const r = await evaluateLoss('focal', { alpha: 0.9, gamma: 0 }, { logits: [[1.5]], targets: [[0]] });
    expectClose(r.loss, [[0.1 * sp(1.5)]]);
  });

  it('γ = 0, α = 0.25 is α-weighted BCE (0.25 on positives, 0.75 on negatives), not plain BCE', async () => {
    const r = await evaluateLoss('focal', { gamma: 0, reduction: 'mean' }, { logits: x, targets: y });
    const weighted = bceElements(x, y).map((row, i) => row.map((v, j) => v * (y[i]![j] ? 0.25 : 0.75)));
    expectClose(r.loss, total(weighted) / 12);
    expect(Math.abs((r.loss as number) - (bce(x, y) as number))).toBeGreaterThan(1e-2);
  });

  it('alpha < 0 disables α_t', async () => {
    const r = await evaluateLoss('focal', { alpha: -1, gamma: 0, reduction: 'mean' }, { logits: x, targets: y });
    expectClose(r.loss, bce(x, y));
  });

  for (const reduction of ['none', 'mean', 'sum'] as const) {
    for (const gamma of [0, 0.5, 1, 2]) {
      it(`reduction ${reduction}, γ = ${gamma}: values, and the gradient formulas for y = 1 and y = 0`, async () => {
        for (const alpha of [0.25, -1]) {
          const r = await evaluateLoss('focal', { gamma, alpha, reduction }, { logits: x, targets: y });
          expectClose(r.loss, focalSigmoid(x, y, { alpha, gamma, reduction }));
          expectClose(r.grad, focalSigmoidGrad(x, y, { alpha, gamma, reduction }));
        }
      });
    }
  }

  it('class_weights multiply each element by its class weight', async () => {
    const w = [1, 2, 0.5, 0];
    const r = await evaluateLoss('focal', { class_weights: w, reduction: 'sum' }, { logits: x, targets: y });
    expectClose(r.loss, focalSigmoid(x, y, { classWeights: w, reduction: 'sum' }));
  });

  it('soft targets follow the literal torchvision expression', async () => {
    const soft = matrix(5, 3, 4, 0, 1);
    const r = await evaluateLoss('focal', { reduction: 'mean', gamma: 1.5 }, { logits: x, targets: soft });
    expectClose(r.loss, focalSigmoid(x, soft, { gamma: 1.5, reduction: 'mean' }));
    expectClose(r.grad, numericGrad((m) => focalSigmoid(m, soft, { gamma: 1.5, reduction: 'mean' }) as number, x), { rtol: 1e-6, atol: 1e-10 });
  });

  it('|x| ≥ 50: finite and exact (confident right answers cost ~0, confident wrong ones α_t·|x|)', async () => {
    const big: Matrix = [[50, -50, 1000, -1000]];
    for (const gamma of [0, 0.5, 2]) {
      const r = await evaluateLoss('focal', { gamma }, { logits: big, targets: [[1, 0, 0, 1]] });
      expectFinite(r);
      expectClose(r.loss, [[0.25 * sp(-50) * Math.pow(Math.exp(-50) / (1 + Math.exp(-50)), gamma), 0.75 * sp(-50) * Math.pow(Math.exp(-50) / (1 + Math.exp(-50)), gamma), 0.75 * 1000, 0.25 * 1000]], {
        atol: 1e-20,
      });
      expectClose(r.grad[0]!.slice(2), [0.75, -0.25]);
    }
  });

  it('autodiff of the plugin graph matches central differences (float64)', async () => {
    await lossGradCheck('focal', {}, { logits: x, targets: y });
    await lossGradCheck('focal', { gamma: 0.5, reduction: 'mean' }, { logits: x, targets: matrix(8, 3, 4, 0, 1) });
  });

  it('float32 agrees with float64 to rel 1e-5', async () => {
    await expectFloat32Close('focal', { reduction: 'mean' }, { logits: x, targets: y });
  });
});

describe('focal, animal_kingdom: VideoLT FocalLoss α (1 − e^−bce)^γ bce (ml-spec §1.5)', () => {
  it('the AK setting α = 1, γ = 0 (the defaults) equals BCE (pitfall 1)', async () => {
    const focal = await evaluateLoss('focal', { variant: 'animal_kingdom' }, { logits: x, targets: y });
    const plain = await evaluateLoss('bce', {}, { logits: x, targets: y });
    expectClose(focal.loss, plain.loss as number);
    expectClose(focal.grad, plain.grad);
  });

  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`reduction ${reduction}: α on positives and negatives alike, against the reference`, async () => {
      const soft = matrix(9, 3, 4, 0, 1);
      for (const targets of [y, soft]) {
        const r = await evaluateLoss('focal', { variant: 'animal_kingdom', alpha: 0.4, gamma: 2, reduction }, { logits: x, targets });
        expectClose(r.loss, focalAnimalKingdom(x, targets, { alpha: 0.4, gamma: 2, reduction }));
        expectClose(r.grad, numericGrad((m) => total(focalAnimalKingdom(m, targets, { alpha: 0.4, gamma: 2, reduction })), x), { rtol: 1e-6, atol: 1e-10 });
      }
    });
  }

  it('for binary targets it is the sigmoid form without α_t (e^−bce = p_t)', async () => {
    const ak = await evaluateLoss('focal', { variant: 'animal_kingdom', alpha: 1, gamma: 2, reduction: 'sum' }, { logits: x, targets: y });
    const tv = await evaluateLoss('focal', { alpha: -1, gamma: 2, reduction: 'sum' }, { logits: x, targets: y });
    expectClose(ak.loss, tv.loss as number);
  });

  it('stable for |x| ≥ 50, and its graph passes the gradient check', async () => {
    const r = await evaluateLoss('focal', { variant: 'animal_kingdom', gamma: 2 }, { logits: [[50, -50, 1000, -1000]], targets: [[1, 0, 0, 1]] });
    expectFinite(r);
    expectClose(r.loss, (2000 / 4) * 1, { rtol: 1e-12 });
    await lossGradCheck('focal', { variant: 'animal_kingdom', alpha: 0.5, gamma: 1.5 }, { logits: x, targets: matrix(10, 3, 4, 0, 1) });
  });
});

describe('focal, softmax (single-label, ml-spec §1.3)', () => {
  const w = [0.5, 1, 2, 1.5];

  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`ldam form (LDAM-DRW FocalLoss), reduction ${reduction}: (1 − p)^γ·ce with p = exp(−ce), plain mean over N`, async () => {
      for (const gamma of [0, 1, 2]) {
        for (const weight of [undefined, w]) {
          const r = await evaluateLoss('focal', { variant: 'softmax', gamma, reduction, class_weights: weight ?? null }, { logits: x, targets: t });
          expectClose(r.loss, focalSoftmaxLdam(x, t, { gamma, weight, reduction }));
          expectClose(r.grad, numericGrad((m) => total(focalSoftmaxLdam(m, t, { gamma, weight, reduction })), x), { rtol: 1e-6, atol: 1e-10 });
        }
      }
    });

    it(`kornia form, reduction ${reduction}: −α (1 − p_t)^γ log p_t with eps = 1e-8 on the probabilities`, async () => {
      for (const eps of [1e-8, 0]) {
        const r = await evaluateLoss('focal', { variant: 'softmax', softmax_form: 'kornia', alpha: 0.5, eps, reduction }, { logits: x, targets: t });
        expectClose(r.loss, focalSoftmaxKornia(x, t, { alpha: 0.5, eps, reduction }));
        expectClose(r.grad, numericGrad((m) => total(focalSoftmaxKornia(m, t, { alpha: 0.5, eps, reduction })), x), { rtol: 1e-6, atol: 1e-10 });
      }
    });
  }

  it('hand-computed: two equal logits, γ = 2: (1/2)²·ln 2 (ldam); kornia with α = 0.25 and eps = 0: 0.25·(1/2)²·ln 2', async () => {
    expectClose((await evaluateLoss('focal', { variant: 'softmax' }, { logits: [[0, 0]], targets: [0] })).loss, 0.25 * Math.LN2);
    expectClose((await evaluateLoss('focal', { variant: 'softmax', softmax_form: 'kornia', eps: 0 }, { logits: [[0, 0]], targets: [0] })).loss, 0.25 * 0.25 * Math.LN2);
  });

  it('with class weights, the ldam form uses p = p_t^{w_t} (not a probability)', async () => {
    // p_t = 1/2, w_t = 2: ce = 2 ln 2, p = 1/4, (3/4)²·2 ln 2
    const r = await evaluateLoss('focal', { variant: 'softmax', class_weights: [2, 1] }, { logits: [[0, 0]], targets: [0] });
    expectClose(r.loss, 0.5625 * 2 * Math.LN2);
  });

  it('|x| ≥ 50: finite; a confident wrong answer costs its margin', async () => {
    const big = [[50, -50, 0, 1000], [-1000, 1000, 0, 0]];
    const ldam = await evaluateLoss('focal', { variant: 'softmax', gamma: 0.5, reduction: 'sum' }, { logits: big, targets: [3, 0] });
    expectFinite(ldam);
    expectClose(ldam.loss, 2000, { rtol: 1e-12 });
    const kornia = await evaluateLoss('focal', { variant: 'softmax', softmax_form: 'kornia', eps: 0, gamma: 0.5, reduction: 'sum' }, { logits: big, targets: [3, 0] });
    expectFinite(kornia);
    expectClose(kornia.loss, 0.25 * 2000, { rtol: 1e-12 });
    expectFinite(await evaluateLoss('focal', { variant: 'softmax', softmax_form: 'kornia', gamma: 1.5 }, { logits: big, targets: [3, 0] }));
  });

  it('autodiff of the plugin graphs matches central differences (float64)', async () => {
    await lossGradCheck('focal', { variant: 'softmax', gamma: 1, class_weights: w }, { logits: x, targets: t });
    await lossGradCheck('focal', { variant: 'softmax', softmax_form: 'kornia', gamma: 2, reduction: 'none' }, { logits: x, targets: t });
  });

  it('float32 agrees with float64 to rel 1e-5', async () => {
    await expectFloat32Close('focal', { variant: 'softmax', gamma: 2 }, { logits: x, targets: t });
    await expectFloat32Close('focal', { variant: 'softmax', softmax_form: 'kornia' }, { logits: x, targets: t });
  });

  it('alpha with the ldam form is an error (LDAM-DRW has no α), and the softmax variant reads class indices', async () => {
    expect(() => createLoss('focal', { variant: 'softmax', alpha: 0.5 })).toThrow(
      "the focal loss's alpha has no effect with variant=softmax, softmax_form=ldam (LDAM-DRW's FocalLoss has no α): remove alpha, use class_weights, or set softmax_form=kornia",
    );
    expect(createLoss('focal', { variant: 'softmax' }).targetKind).toBe('index');
    expect(createLoss('focal').targetKind).toBe('multi_hot');
  });
});
