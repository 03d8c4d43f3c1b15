import { describe, expect, it } from 'vitest';
import { evaluateLoss } from '../../plugins/losses/evaluate.ts';
import { expectFloat32Close, lossGradCheck, matrix } from './harness.ts';
import { clipLogits, clipLoss, clipLossGrad, expectClose, expectFinite, numericGrad, type Matrix } from './reference.ts';

const a = matrix(51, 4, 3, -1, 1);
const b = matrix(52, 4, 3, -1, 1);
const eye = (n: number): Matrix => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
const INIT = Math.log(1 / 0.07);

describe('infonce, clip: open_clip ClipLoss (ml-spec §1.6)', () => {
  it('hand-computed: I = T = identity, scale 1 (param 0): each CE is ln(1 + e^−1)', async () => {
    const r = await evaluateLoss('infonce', {}, { logits: eye(2), other: eye(2), logitScale: 0 });
    expectClose(r.loss, Math.log(1 + Math.exp(-1)));
  });

  it('loss = (CE(L) + CE(Lᵀ)) / 2 with L = exp(param)·normalize(a)·normalize(b)ᵀ; default param ln(1/0.07)', async () => {
    const r = await evaluateLoss('infonce', {}, { logits: a, other: b });
    expectClose(r.loss, clipLoss(clipLogits(a, b, INIT)));
    const p = await evaluateLoss('infonce', {}, { logits: a, other: b, logitScale: 1.3 });
    expectClose(p.loss, clipLoss(clipLogits(a, b, 1.3)));
  });

  it('∂loss/∂L_ij = [(softmax_row − δ) + (softmax_col − δ)] / 2N and ∂loss/∂param = Σ ∂loss/∂L_ij · L_ij', async () => {
    // Without normalisation and with other = identity (D = N), L = e^p·a, so d/da = e^p·∂loss/∂L.
    const x = matrix(53, 4, 4, -2, 2);
    const p = 0.7;
    const r = await evaluateLoss('infonce', { normalize: false }, { logits: x, other: eye(4), logitScale: p });
    const L = x.map((row) => row.map((v) => Math.exp(p) * v));
    const G = clipLossGrad(L);
    expectClose(r.loss, clipLoss(L));
    expectClose(r.grad, G.map((row) => row.map((v) => Math.exp(p) * v)));
    // d/db_kj = e^p Σ_i G_ik x_ij
    expectClose(
      r.gradOther,
      eye(4).map((_, k) => x[0]!.map((__, j) => Math.exp(p) * G.reduce((s, row, i) => s + row[k]! * x[i]![j]!, 0))),
    );
    expectClose(r.gradLogitScale, G.flat().reduce((s, g, k) => s + g * L.flat()[k]!, 0));
  });

  it('gradients through the L2 normalisation match central differences of the reference', async () => {
    const r = await evaluateLoss('infonce', {}, { logits: a, other: b, logitScale: 2 });
    expectClose(r.grad, numericGrad((m) => clipLoss(clipLogits(m, b, 2)), a), { rtol: 1e-7, atol: 1e-10 });
    expectClose(r.gradOther, numericGrad((m) => clipLoss(clipLogits(a, m, 2)), b), { rtol: 1e-7, atol: 1e-10 });
    const h = 1e-5;
    expectClose(r.gradLogitScale, (clipLoss(clipLogits(a, b, 2 + h)) - clipLoss(clipLogits(a, b, 2 - h))) / (2 * h), { rtol: 1e-7 });
  });

  it('the graph passes the gradient check (embeddings and the logit-scale parameter); float32 ≈ float64', async () => {
    await lossGradCheck('infonce', {}, { logits: a, other: b, logitScale: 1.5 });
    await expectFloat32Close('infonce', {}, { logits: a, other: b });
  });
});

describe('infonce, clep: Ego4D CLEP (raw parameter, no exp, no L2 norm)', () => {
  it('the scale is the parameter itself and the embeddings are not normalised by default', async () => {
    const r = await evaluateLoss('infonce', { variant: 'clep' }, { logits: a, other: b, logitScale: 2 });
    expectClose(r.loss, clipLoss(clipLogits(a, b, 2, { variant: 'clep' })));
    // by hand: L_ij = 2·a_i·b_j, the raw dot products
    expectClose(r.loss, clipLoss(a.map((row) => b.map((q) => 2 * row.reduce((s, v, k) => s + v * q[k]!, 0)))));
    const clip = await evaluateLoss('infonce', {}, { logits: a, other: b, logitScale: 2 });
    expect(Math.abs((r.loss as number) - (clip.loss as number))).toBeGreaterThan(1e-3);
  });

  it('clep with param e^p and normalize: true is clip with param p; d/dparam differs by the exp', async () => {
    const clep = await evaluateLoss('infonce', { variant: 'clep', normalize: true }, { logits: a, other: b, logitScale: Math.exp(1.1) });
    const clip = await evaluateLoss('infonce', {}, { logits: a, other: b, logitScale: 1.1 });
    expectClose(clep.loss, clip.loss as number);
    expectClose(clep.grad, clip.grad);
    expectClose(clep.gradLogitScale! * Math.exp(1.1), clip.gradLogitScale!);
  });

  it('use_logit_scale: false drops the scale (s = 1)', async () => {
    const r = await evaluateLoss('infonce', { variant: 'clep', use_logit_scale: false }, { logits: a, other: b, logitScale: 3 });
    expectClose(r.loss, clipLoss(clipLogits(a, b, 1, { variant: 'clep' })));
    expect(r.gradLogitScale).toBe(0);
  });

  it('large unnormalised embeddings stay finite and exact', async () => {
    const r = await evaluateLoss('infonce', { variant: 'clep' }, { logits: [[50, 0], [0, 50]], other: [[0, 50], [50, 0]], logitScale: Math.log(100) });
    expectFinite(r);
    expectClose(r.loss, 2500 * Math.log(100), { rtol: 1e-12 });
  });

  it('the graph passes the gradient check; float32 ≈ float64', async () => {
    await lossGradCheck('infonce', { variant: 'clep' }, { logits: a, other: b, logitScale: 2.5 });
    await expectFloat32Close('infonce', { variant: 'clep' }, { logits: a, other: b, logitScale: 2.5 });
  });
});

describe('infonce: inputs', () => {
  it('needs other, of the same shape, and takes no targets', async () => {
    await expect(evaluateLoss('infonce', {}, { logits: a })).rejects.toThrow("the infonce loss needs 'other', the second embedding matrix [4, 3]");
    await expect(evaluateLoss('infonce', {}, { logits: a, other: [[1, 2, 3]] })).rejects.toThrow(
      'the infonce loss pairs rows of logits and other, which must have the same shape: got [4, 3] and [1, 3]',
    );
    await expect(evaluateLoss('infonce', {}, { logits: a, other: b, targets: [0, 1, 2, 3] })).rejects.toThrow('the infonce loss takes no targets');
  });
});
