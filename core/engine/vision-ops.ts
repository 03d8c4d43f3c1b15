// Forward-only ops for video backbones, written on `g.node(...)` with static output shapes. Backbones are
// frozen feature extractors, so none of these has (or needs) a gradient rule in autodiff.
//
// Shapes follow PyTorch's nn.Conv3d / nn.MaxPool3d docs and the ONNX operator specs (Conv, MaxPool,
// BatchNormalization, opset 18): out = floor((in + pad_begin + pad_end − dilation·(k − 1) − 1) / stride) + 1.

import { ShapeError, type Graph, type Value } from './graph.ts';

/** PyTorch's BatchNorm default eps. */
export const BN_EPS = 1e-5;

export interface ConvOptions {
  /** One per spatial axis (default 1). */
  strides?: readonly number[];
  /**
   * Zero padding: one per spatial axis (symmetric, PyTorch's `padding`) or ONNX's
   * [begin_0, …, begin_n, end_0, …, end_n]. Default 0.
   */
  pads?: readonly number[];
  /** One per spatial axis (default 1). */
  dilations?: readonly number[];
  /** Grouped convolution: input and output channels split into `groups` independent parts (default 1). */
  groups?: number;
}

/** The output length of one spatial axis of a convolution or pooling window (floor mode). */
export function convOutputSize(size: number, kernel: number, stride = 1, padBegin = 0, padEnd = 0, dilation = 1): number {
  return Math.floor((size + padBegin + padEnd - dilation * (kernel - 1) - 1) / stride) + 1;
}

function perAxis(name: string, op: string, values: readonly number[] | undefined, n: number, fallback: number): number[] {
  if (values === undefined) return new Array<number>(n).fill(fallback);
  if (values.length !== n) throw new ShapeError(`${op}: ${name} [${values.join(', ')}] must have one value per spatial axis (${n})`);
  return [...values];
}

/** ONNX pads (begin…, end…) from either form of `pads`. */
function onnxPads(op: string, pads: readonly number[] | undefined, n: number): number[] {
  if (pads === undefined) return new Array<number>(2 * n).fill(0);
  if (pads.length === n) return [...pads, ...pads];
  if (pads.length === 2 * n) return [...pads];
  throw new ShapeError(`${op}: pads [${pads.join(', ')}] must have ${n} (symmetric) or ${2 * n} (begin, end) values`);
}

function windowShape(op: string, x: Value, kernel: readonly number[], strides: number[], pads: number[], dilations: number[]): number[] {
  const n = kernel.length;
  return x.shape.slice(2).map((size, i) => {
    const out = convOutputSize(size, kernel[i]!, strides[i], pads[i], pads[i + n], dilations[i]);
    if (out < 1) {
      throw new ShapeError(
        `${op}: spatial axis ${i} of the input [${x.shape.join(', ')}] (${size}) is too small for kernel ${kernel[i]} with ` +
          `stride ${strides[i]}, pads ${pads[i]}/${pads[i + n]} and dilation ${dilations[i]}`,
      );
    }
    return out;
  });
}

/**
 * N-D convolution (ONNX Conv; a 3-D one for video: x [N, C, T, H, W], weight [M, C/groups, kT, kH, kW],
 * bias [M] or null) → [N, M, T', H', W'].
 */
export function conv(g: Graph, x: Value, weight: Value, bias: Value | null, options: ConvOptions = {}): Value {
  const op = 'Conv';
  const n = x.rank - 2;
  if (n < 1) throw new ShapeError(`${op}: the input [${x.shape.join(', ')}] needs a batch, a channel and at least one spatial axis`);
  if (weight.rank !== x.rank) throw new ShapeError(`${op}: weight [${weight.shape.join(', ')}] and input [${x.shape.join(', ')}] differ in rank`);
  if (x.dtype !== weight.dtype) throw new ShapeError(`${op}: dtypes ${x.dtype} and ${weight.dtype} differ`);
  const groups = options.groups ?? 1;
  const [m, cPerGroup] = [weight.shape[0]!, weight.shape[1]!];
  if (x.shape[1] !== cPerGroup * groups || m % groups !== 0) {
    throw new ShapeError(
      `${op}: input [${x.shape.join(', ')}] has ${x.shape[1]} channels, weight [${weight.shape.join(', ')}] with groups=${groups} expects ${cPerGroup * groups}` +
        (m % groups ? ` (and ${m} output channels do not split into ${groups} groups)` : ''),
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== m)) throw new ShapeError(`${op}: bias [${bias.shape.join(', ')}] must be [${m}]`);
  const kernel = weight.shape.slice(2);
  const strides = perAxis('strides', op, options.strides, n, 1);
  const dilations = perAxis('dilations', op, options.dilations, n, 1);
  const pads = onnxPads(op, options.pads, n);
  const shape = [x.shape[0]!, m, ...windowShape(op, x, kernel, strides, pads, dilations)];
  const attrs = { kernel_shape: [...kernel], strides, pads, dilations, group: groups };
  return g.node(op, bias ? [x, weight, bias] : [x, weight], [{ dtype: x.dtype, shape }], attrs)[0]!;
}

/** Batch normalization in inference mode: (x − mean) / √(var + eps) · weight + bias, per channel (axis 1). */
export function batchNorm(g: Graph, x: Value, bn: { weight: Value; bias: Value; runningMean: Value; runningVar: Value }, eps = BN_EPS): Value {
  const c = x.shape[1];
  for (const [k, v] of Object.entries(bn)) {
    if (v.rank !== 1 || v.shape[0] !== c) throw new ShapeError(`BatchNormalization: ${k} [${v.shape.join(', ')}] must be [${c}] for the input [${x.shape.join(', ')}]`);
  }
  return g.node('BatchNormalization', [x, bn.weight, bn.bias, bn.runningMean, bn.runningVar], [{ dtype: x.dtype, shape: x.shape }], { epsilon: { float: eps } })[0]!;
}

export interface BatchNormTensors {
  weight: Float32Array;
  bias: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
}

/**
 * Folds an inference-mode BatchNorm into the convolution before it: with s = weight / √(var + eps),
 * W' = W · s (per output channel) and b' = (b − mean) · s + bias. One Conv instead of Conv + BN; computed
 * in float64, rounded once.
 */
export function foldBatchNorm(convWeight: Float32Array, convBias: Float32Array | null, bn: BatchNormTensors, eps = BN_EPS): { weight: Float32Array; bias: Float32Array } {
  const m = bn.weight.length;
  if (convWeight.length % m !== 0) throw new ShapeError(`foldBatchNorm: ${convWeight.length} conv weights do not split into ${m} output channels`);
  const per = convWeight.length / m;
  const weight = new Float32Array(convWeight.length);
  const bias = new Float32Array(m);
  for (let o = 0; o < m; o++) {
    const s = bn.weight[o]! / Math.sqrt(bn.runningVar[o]! + eps);
    for (let k = o * per; k < (o + 1) * per; k++) weight[k] = convWeight[k]! * s;
    bias[o] = ((convBias?.[o] ?? 0) - bn.runningMean[o]!) * s + bn.bias[o]!;
  }
  return { weight, bias };
}

/** Max pooling (ONNX MaxPool, floor mode) over the spatial axes of [N, C, …]. */
export function maxPool(g: Graph, x: Value, kernel: readonly number[], options: Omit<ConvOptions, 'groups'> = {}): Value {
  const op = 'MaxPool';
  const n = x.rank - 2;
  if (kernel.length !== n) throw new ShapeError(`${op}: kernel [${kernel.join(', ')}] for the ${n} spatial axes of [${x.shape.join(', ')}]`);
  const strides = perAxis('strides', op, options.strides, n, 1);
  const dilations = perAxis('dilations', op, options.dilations, n, 1);
  const pads = onnxPads(op, options.pads, n);
  const shape = [x.shape[0]!, x.shape[1]!, ...windowShape(op, x, kernel, strides, pads, dilations)];
  return g.node(op, [x], [{ dtype: x.dtype, shape }], { kernel_shape: [...kernel], strides, pads, dilations })[0]!;
}

/** Global average pooling: [N, C, …spatial] → [N, C] (nn.AdaptiveAvgPool3d(1) then flatten(1)). */
export function globalAvgPool(g: Graph, x: Value): Value {
  if (x.rank < 3) throw new ShapeError(`globalAvgPool: the input [${x.shape.join(', ')}] has no spatial axes`);
  return g.reduceMean(x, x.shape.slice(2).map((_, i) => i + 2), false);
}
