import { describe, expect, it } from 'vitest';
import { createLoss, evaluateLoss } from '../../plugins/losses/evaluate.ts';
import type { EqlLoss } from '../../plugins/losses/eql.ts';
import { expectFloat32Close, lossGradCheck, matrix } from './harness.ts';
import { bce, bceElements, bceGrad, eqlAnimalKingdom, eqlOriginal, eqlOriginalGrad, expectClose, expectFinite, numericGrad, sp, type Matrix } from './reference.ts';

const x = matrix(31, 4, 3);
// Rows 0–2 are foreground, row 3 is background (no positive: gt = C in eql.detectron2).
const y: Matrix = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
  [0, 0, 0],
];
// λ = 0.00177: frequencies [0.001, 0.995, 0.004] — class 0 rare, classes 1 and 2 not.
const counts = [1, 995, 4];

describe('eql, original: eql.detectron2 eql_loss (ml-spec §1.4)', () => {
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`reduction ${reduction}: w_ij = 1 − E_i·T_j·(1 − y_ij) times BCE, against the reference`, async () => {
      const r = await evaluateLoss('eql', { reduction }, { logits: x, targets: y, classCounts: counts });
      expectClose(r.loss, eqlOriginal(x, y, counts, { reduction }));
      const scale = reduction === 'mean' ? 1 : x.length;
      expectClose(r.grad, eqlOriginalGrad(x, y, counts).map((row) => row.map((v) => v * scale)));
    });
  }

  it("'mean' divides the SUM over classes by N, not by N·C", async () => {
    const r = await evaluateLoss('eql', {}, { logits: x, targets: y, classCounts: counts });
    const s = (await evaluateLoss('eql', { reduction: 'sum' }, { logits: x, targets: y, classCounts: counts })).loss as number;
    expectClose(r.loss, s / 4);
    expect(Math.abs((r.loss as number) - s / 12)).toBeGreaterThan(1e-3);
  });

  it('only the negative terms of rare classes are dropped, only for foreground rows (hand-computed)', async () => {
    const r = await evaluateLoss('eql', { reduction: 'none' }, { logits: x, targets: y, classCounts: counts });
    const b = bceElements(x, y);
    const loss = r.loss as Matrix;
    expectClose(loss[0]![0], b[0]![0]!); // positive of the rare class: kept
    expectClose(loss[1]![0], 0); // negative of the rare class, foreground row: dropped
    expectClose(loss[2]![0], 0);
    expectClose(loss[3]![0], b[3]![0]!); // background row: nothing ignored
    expectClose(loss.map((row) => row[1]!), b.map((row) => row[1]!)); // frequent classes untouched
    expectClose(r.grad[1]![0], 0);
  });

  it('rare means frequency STRICTLY below λ: f = λ is not rare; a frequency, not a count', async () => {
    // λ = 0.25, counts [1, 3]: f = [0.25, 0.75] — neither rare → plain Σ bce / N
    const eq = await evaluateLoss('eql', { lambda: 0.25, reduction: 'sum' }, { logits: [[0.3, -0.2], [1, 2]], targets: [[0, 1], [0, 1]], classCounts: [1, 3] });
    expectClose(eq.loss, bce([[0.3, -0.2], [1, 2]], [[0, 1], [0, 1]], { reduction: 'sum' }) as number);
    // counts [1, 4]: f0 = 0.2 < 0.25 → class 0's negatives dropped
    const below = await evaluateLoss('eql', { lambda: 0.25, reduction: 'sum' }, { logits: [[0.3, -0.2], [1, 2]], targets: [[0, 1], [0, 1]], classCounts: [1, 4] });
    expectClose(below.loss, sp(0.2) + sp(-2));
    // 5 samples of 1000 is frequency 0.005 ≥ 0.00177: not rare although the count is tiny
    const frequent = await evaluateLoss('eql', { reduction: 'sum' }, { logits: [[0.3, -0.2]], targets: [[0, 1]], classCounts: [5, 995] });
    expectClose(frequent.loss, sp(0.3) + sp(0.2));
  });

  it('num_images sets the frequency denominator (multi-label data: Σ counts over-counts the images)', async () => {
    // counts [1, 3] over 100 images: f = [0.01, 0.03] < λ = 0.02 only for class 0
    const r = await evaluateLoss('eql', { lambda: 0.02, num_images: 100, reduction: 'sum' }, { logits: [[0.3, -0.2]], targets: [[0, 1]], classCounts: [1, 3] });
    expectClose(r.loss, sp(0.2));
    expectClose(r.loss, eqlOriginal([[0.3, -0.2]], [[0, 1]], [1, 3], { lambda: 0.02, images: 100, reduction: 'sum' }) as number);
  });

  it('|x| ≥ 50 is finite and exact; the graph passes the gradient check; float32 ≈ float64', async () => {
    const big: Matrix = [[50, -50, 1000], [-1000, 50, -50]];
    const r = await evaluateLoss('eql', { reduction: 'sum' }, { logits: big, targets: [[1, 0, 0], [0, 0, 0]], classCounts: counts });
    expectFinite(r);
    expectClose(r.loss, sp(-50) + sp(-50) + 1000 + sp(-1000) + 50 + sp(-50));
    await lossGradCheck('eql', {}, { logits: x, targets: y, classCounts: counts });
    await expectFloat32Close('eql', {}, { logits: x, targets: y, classCounts: counts });
  });
});

describe('eql, animal_kingdom: VideoLT EQL with an injected Bernoulli mask (ml-spec §1.4)', () => {
  // max_tail_num = 100 is inclusive: counts 100 and 3 are tail, 101 is not.
  const akCounts = [100, 101, 3];
  const ones = x.map((r) => r.map(() => 1));
  const zeros = x.map((r) => r.map(() => 0));

  it('a mask of zeros is plain BCE (mean over N·C)', async () => {
    const r = await evaluateLoss('eql', { variant: 'animal_kingdom' }, { logits: x, targets: y, classCounts: akCounts, mask: zeros });
    expectClose(r.loss, bce(x, y));
    expectClose(r.grad, bceGrad(x, y));
  });

  it('a mask of ones drops every negative of the tail classes (count ≤ 100), background rows included', async () => {
    const r = await evaluateLoss('eql', { variant: 'animal_kingdom', reduction: 'none' }, { logits: x, targets: y, classCounts: akCounts, mask: ones });
    const b = bceElements(x, y);
    const loss = r.loss as Matrix;
    expectClose(
      loss,
      b.map((row, i) => row.map((v, j) => (j !== 1 && y[i]![j] === 0 ? 0 : v))),
    );
  });

  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`reduction ${reduction} with a random mask, against the reference; gradient w·(σ − y)/(N·C)`, async () => {
      const beta = matrix(2, 4, 3, 0, 1).map((r) => r.map((v) => (v > 0.5 ? 1 : 0)));
      const r = await evaluateLoss('eql', { variant: 'animal_kingdom', reduction }, { logits: x, targets: y, classCounts: akCounts, mask: beta });
      expectClose(r.loss, eqlAnimalKingdom(x, y, akCounts, beta, { reduction }));
      const total = (m: Matrix) => {
        const v = eqlAnimalKingdom(m, y, akCounts, beta, { reduction });
        return typeof v === 'number' ? v : v.flat().reduce((a, b) => a + b, 0);
      };
      expectClose(r.grad, numericGrad(total, x), { rtol: 1e-7, atol: 1e-10 });
    });
  }

  it('the mask is a Bernoulli(λ = 1.76e-3) draw, u ≥ 1 − λ, from an injectable RNG', async () => {
    const loss = createLoss('eql', { variant: 'animal_kingdom' }) as EqlLoss;
    expect(loss.needsMask).toBe(true);
    expect(loss.lambda).toBe(1.76e-3);
    expect(loss.maskProbability).toBe(1.76e-3);
    expect(createLoss('eql').needsMask).toBe(false);
    expect(loss.drawMask(1, 3, () => 0.9983)).toEqual([[1, 1, 1]]);
    expect(loss.drawMask(1, 3, () => 0.998)).toEqual([[0, 0, 0]]);
    const drawn = await evaluateLoss('eql', { variant: 'animal_kingdom' }, { logits: x, targets: y, classCounts: akCounts, rng: () => 0.99999 });
    expect(drawn.mask).toEqual(ones);
    expectClose(drawn.loss, eqlAnimalKingdom(x, y, akCounts, ones) as number);
    let state = 0;
    const rng = () => ((state = (state * 7 + 3) % 11) / 11) * 0.01 + 0.99; // some ≥ 0.99824, some below
    const r = await evaluateLoss('eql', { variant: 'animal_kingdom', lambda: 0.005 }, { logits: x, targets: y, classCounts: akCounts, rng });
    expect(r.mask!.flat().some((v) => v === 1) && r.mask!.flat().some((v) => v === 0)).toBe(true);
    expectClose(r.loss, eqlAnimalKingdom(x, y, akCounts, r.mask!) as number);
  });

  it('|x| ≥ 50 is finite; the graph passes the gradient check; float32 ≈ float64', async () => {
    const big: Matrix = [[50, -50, 1000], [-1000, 50, -50]];
    const r = await evaluateLoss('eql', { variant: 'animal_kingdom', reduction: 'sum' }, { logits: big, targets: [[1, 0, 0], [0, 0, 0]], classCounts: akCounts, mask: [[1, 1, 1], [1, 1, 1]] });
    expectFinite(r);
    expectClose(r.loss, sp(-50) + sp(-50) + 50);
    const beta = [[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1]];
    await lossGradCheck('eql', { variant: 'animal_kingdom' }, { logits: x, targets: y, classCounts: akCounts, mask: beta });
    await expectFloat32Close('eql', { variant: 'animal_kingdom' }, { logits: x, targets: y, classCounts: akCounts, mask: beta });
  });
});

describe('eql: class counts', () => {
  it('without class counts: an error naming data.class_counts', async () => {
    for (const variant of ['original', 'animal_kingdom']) {
      await expect(evaluateLoss('eql', { variant }, { logits: x, targets: y, ...(variant === 'original' ? {} : { mask: x.map((r) => r.map(() => 0)) }) })).rejects.toThrow(
        "the eql loss needs the training set's per-class sample counts (data.class_counts), and the dataset provides none: set data.class_counts to a list of 3 counts (evaluateLoss: pass classCounts), or use a loss that does not need them (bce, ce, focal)",
      );
    }
  });

  it('class counts of the wrong length', async () => {
    await expect(evaluateLoss('eql', {}, { logits: x, targets: y, classCounts: [1, 2] })).rejects.toThrow(
      "data.class_counts has 2 values, but the eql loss's logits have 3 classes: give one count per class",
    );
  });
});
