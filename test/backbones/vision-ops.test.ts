import { describe, expect, it } from 'vitest';
import { Graph, ShapeError } from '../../core/engine/graph.ts';
import { batchNorm, conv, convOutputSize, foldBatchNorm, globalAvgPool, maxPool } from '../../core/engine/vision-ops.ts';
import { runGraph, seeded } from '../helpers/engine.ts';
import { batchNorm3d, conv3d, maxPool3d, type Tensor5, type Triple } from './reference.ts';

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5) => {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
  expect(worst).toBeLessThan(tol);
};

describe('convolution output shapes follow floor((in + 2p − d(k − 1) − 1) / s) + 1', () => {
  it('gives the sizes PyTorch gives', () => {
    expect(convOutputSize(112, 7, 2, 3, 3)).toBe(56); // R(2+1)D stem, spatial
    expect(convOutputSize(16, 3, 2, 1, 1)).toBe(8); // temporal conv with stride 2
    expect(convOutputSize(7, 3, 2, 1, 1)).toBe(4); // odd sizes round up through the padding
    expect(convOutputSize(10, 3, 1, 0, 0, 2)).toBe(6); // dilation 2
    expect(convOutputSize(5, 1, 2)).toBe(3); // 1×1×1 downsample
  });

  it('records the output shape of the node', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 3, 16, 112, 112]);
    const w = g.input('w', 'float32', [45, 3, 1, 7, 7]);
    expect(conv(g, x, w, null, { strides: [1, 2, 2], pads: [0, 3, 3] }).shape).toEqual([2, 45, 16, 56, 56]);
  });

  it('names the shapes when channels or sizes do not fit', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [1, 3, 4, 8, 8]);
    expect(() => conv(g, x, g.input('w', 'float32', [8, 4, 3, 3, 3]), null)).toThrow(ShapeError);
    expect(() => conv(g, x, g.input('w2', 'float32', [8, 4, 3, 3, 3]), null)).toThrow('input [1, 3, 4, 8, 8] has 3 channels, weight [8, 4, 3, 3, 3] with groups=1 expects 4');
    expect(() => conv(g, x, g.input('w3', 'float32', [8, 3, 5, 3, 3]), null)).toThrow('spatial axis 0 of the input [1, 3, 4, 8, 8] (4) is too small for kernel 5');
    expect(() => conv(g, x, g.input('w4', 'float32', [8, 3, 3, 3, 3]), null, { pads: [1, 1] })).toThrow('pads [1, 1] must have 3 (symmetric) or 6 (begin, end) values');
  });
});

describe('the ops compute what PyTorch computes (naive float64 loops as the reference)', () => {
  const input = (shape: Tensor5['shape'], seed: number): Tensor5 => ({ shape, data: Float64Array.from(seeded(seed, shape.reduce((a, b) => a * b, 1))) });

  it('Conv with strides, pads, dilations, groups and a bias', async () => {
    const x = input([2, 4, 5, 7, 6], 1);
    const k: Triple = [3, 3, 2];
    const weight = seeded(2, 6 * 2 * 3 * 3 * 2);
    const bias = seeded(3, 6);
    const g = new Graph();
    const xv = g.input('x', 'float32', x.shape);
    const y = conv(g, xv, g.constant(weight, 'float32', [6, 2, ...k]), g.constant(bias, 'float32', [6]), { strides: [1, 2, 2], pads: [1, 1, 0], dilations: [2, 1, 1], groups: 2 });
    g.output(y, 'y');
    const want = conv3d(x, weight, 6, k, [1, 2, 2], [1, 1, 0], { bias, dilation: [2, 1, 1], groups: 2 });
    expect(y.shape).toEqual(want.shape);
    const got = await runGraph(g, { x: { data: x.data, shape: [...x.shape], dtype: 'float32' } });
    close(got.y!, want.data);
  });

  it('BatchNormalization in inference mode, with eps 1e-5', async () => {
    const x = input([2, 3, 2, 3, 3], 4);
    const [w, b, m] = [seeded(5, 3, 0.5, 2), seeded(6, 3), seeded(7, 3)];
    const v = seeded(8, 3, 1e-4, 0.01); // small variances: eps matters
    const g = new Graph();
    const c = (a: number[]) => g.constant(a, 'float32', [3]);
    g.output(batchNorm(g, g.input('x', 'float32', x.shape), { weight: c(w), bias: c(b), runningMean: c(m), runningVar: c(v) }), 'y');
    const got = await runGraph(g, { x: { data: x.data, shape: [...x.shape], dtype: 'float32' } });
    close(got.y!, batchNorm3d(x, w, b, m, v).data, 1e-4);
  });

  it('folding BN into the conv before it changes nothing but the rounding', async () => {
    const x = input([1, 3, 3, 6, 6], 9);
    const weight = Float32Array.from(seeded(10, 5 * 3 * 27));
    const bn = { weight: Float32Array.from(seeded(11, 5, 0.5, 2)), bias: Float32Array.from(seeded(12, 5)), runningMean: Float32Array.from(seeded(13, 5)), runningVar: Float32Array.from(seeded(14, 5, 0.01, 3)) };
    const folded = foldBatchNorm(weight, null, bn);
    const g = new Graph();
    const xv = g.input('x', 'float32', x.shape);
    g.output(conv(g, xv, g.initializer('w', 'float32', [5, 3, 3, 3, 3], folded.weight), g.initializer('b', 'float32', [5], folded.bias), { pads: [1, 1, 1] }), 'y');
    const got = await runGraph(g, { x: { data: x.data, shape: [...x.shape], dtype: 'float32' } });
    const want = batchNorm3d(conv3d(x, weight, 5, [3, 3, 3], [1, 1, 1], [1, 1, 1]), bn.weight, bn.bias, bn.runningMean, bn.runningVar);
    close(got.y!, want.data, 1e-4);
  });

  it('MaxPool and global average pooling', async () => {
    const x = input([2, 3, 4, 5, 5], 15);
    const g = new Graph();
    const xv = g.input('x', 'float32', x.shape);
    const pooled = maxPool(g, xv, [1, 3, 3], { strides: [1, 2, 2], pads: [0, 1, 1] });
    const gap = globalAvgPool(g, xv);
    expect(pooled.shape).toEqual([2, 3, 4, 3, 3]);
    expect(gap.shape).toEqual([2, 3]);
    g.output(pooled, 'p');
    g.output(gap, 'gap');
    const got = await runGraph(g, { x: { data: x.data, shape: [...x.shape], dtype: 'float32' } });
    close(got.p!, maxPool3d(x, [1, 3, 3], [1, 2, 2], [0, 1, 1]).data);
    const inner = 4 * 5 * 5;
    close(got.gap!, Array.from({ length: 6 }, (_, k) => x.data.slice(k * inner, (k + 1) * inner).reduce((s, v) => s + v, 0) / inner));
  });
});
