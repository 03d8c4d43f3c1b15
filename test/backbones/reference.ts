// Plain-JS float64 references for the backbone tests: naive loops written from the PyTorch docs of Conv3d,
// BatchNorm3d and MaxPool3d, and torchvision's VideoResNet forward (torchvision/models/video/resnet.py),
// independent of the graph code under test.

export interface Tensor5 {
  /** [N, C, T, H, W] */
  shape: [number, number, number, number, number];
  data: Float64Array;
}

export type Triple = [number, number, number];

const at = (s: Tensor5['shape'], n: number, c: number, t: number, h: number, w: number) => (((n * s[1] + c) * s[2] + t) * s[3] + h) * s[4] + w;

export function conv3d(x: Tensor5, weight: ArrayLike<number>, outC: number, k: Triple, stride: Triple, pad: Triple, options: { bias?: ArrayLike<number>; dilation?: Triple; groups?: number } = {}): Tensor5 {
  const [n, c, t, h, w] = x.shape;
  const d = options.dilation ?? [1, 1, 1];
  const groups = options.groups ?? 1;
  const cg = c / groups;
  const og = outC / groups;
  const out = [t, h, w].map((size, i) => Math.floor((size + 2 * pad[i]! - d[i]! * (k[i]! - 1) - 1) / stride[i]!) + 1) as Triple;
  const shape: Tensor5['shape'] = [n, outC, ...out];
  const y = new Float64Array(shape.reduce((a, b) => a * b, 1));
  for (let b = 0; b < n; b++)
    for (let o = 0; o < outC; o++) {
      const gi = Math.floor(o / og);
      for (let ot = 0; ot < out[0]; ot++)
        for (let oh = 0; oh < out[1]; oh++)
          for (let ow = 0; ow < out[2]; ow++) {
            let s = options.bias ? options.bias[o]! : 0;
            for (let ci = 0; ci < cg; ci++)
              for (let a = 0; a < k[0]; a++) {
                const it = ot * stride[0] - pad[0] + a * d[0];
                if (it < 0 || it >= t) continue;
                for (let bb = 0; bb < k[1]; bb++) {
                  const ih = oh * stride[1] - pad[1] + bb * d[1];
                  if (ih < 0 || ih >= h) continue;
                  for (let cc = 0; cc < k[2]; cc++) {
                    const iw = ow * stride[2] - pad[2] + cc * d[2];
                    if (iw < 0 || iw >= w) continue;
                    s += x.data[at(x.shape, b, gi * cg + ci, it, ih, iw)]! * weight[(((o * cg + ci) * k[0] + a) * k[1] + bb) * k[2] + cc]!;
                  }
                }
              }
            y[at(shape, b, o, ot, oh, ow)] = s;
          }
    }
  return { shape, data: y };
}

export function batchNorm3d(x: Tensor5, weight: ArrayLike<number>, bias: ArrayLike<number>, mean: ArrayLike<number>, variance: ArrayLike<number>, eps = 1e-5): Tensor5 {
  const [n, c] = x.shape;
  const inner = x.shape[2] * x.shape[3] * x.shape[4];
  const y = new Float64Array(x.data.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < inner; i++) {
        const j = (b * c + ch) * inner + i;
        y[j] = ((x.data[j]! - mean[ch]!) / Math.sqrt(variance[ch]! + eps)) * weight[ch]! + bias[ch]!;
      }
  return { shape: x.shape, data: y };
}

export function maxPool3d(x: Tensor5, k: Triple, stride: Triple, pad: Triple): Tensor5 {
  const [n, c, t, h, w] = x.shape;
  const out = [t, h, w].map((size, i) => Math.floor((size + 2 * pad[i]! - k[i]!) / stride[i]!) + 1) as Triple;
  const shape: Tensor5['shape'] = [n, c, ...out];
  const y = new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(-Infinity);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let ot = 0; ot < out[0]; ot++)
        for (let oh = 0; oh < out[1]; oh++)
          for (let ow = 0; ow < out[2]; ow++) {
            let m = -Infinity;
            for (let a = 0; a < k[0]; a++)
              for (let bb = 0; bb < k[1]; bb++)
                for (let cc = 0; cc < k[2]; cc++) {
                  const [it, ih, iw] = [ot * stride[0] - pad[0] + a, oh * stride[1] - pad[1] + bb, ow * stride[2] - pad[2] + cc];
                  if (it < 0 || it >= t || ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                  m = Math.max(m, x.data[at(x.shape, b, ch, it, ih, iw)]!);
                }
            y[at(shape, b, ch, ot, oh, ow)] = m;
          }
  return { shape, data: y };
}

const relu = (x: Tensor5): Tensor5 => ({ shape: x.shape, data: x.data.map((v) => Math.max(0, v)) });
const add = (a: Tensor5, b: Tensor5): Tensor5 => ({ shape: a.shape, data: a.data.map((v, i) => v + b.data[i]!) });

/** [N, C, T, H, W] in the given layout from N, T, H, W, C clips: (x / range − mean) / std. */
export function preprocessJs(clips: ArrayLike<number>, shape: [number, number, number, number, number], mean: number[], std: number[], range: number, layout: 'NCTHW' | 'NTCHW'): Float64Array {
  const [n, t, h, w, c] = shape;
  const out = new Float64Array(n * t * h * w * c);
  for (let b = 0; b < n; b++)
    for (let f = 0; f < t; f++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let ch = 0; ch < c; ch++) {
            const v = (clips[(((b * t + f) * h + y) * w + x) * c + ch]! / range - mean[ch]!) / std[ch]!;
            const j = layout === 'NCTHW' ? (((b * c + ch) * t + f) * h + y) * w + x : (((b * t + f) * c + ch) * h + y) * w + x;
            out[j] = v;
          }
  return out;
}

export interface VideoResNetShape {
  stem: [number, number];
  planes: number[];
  blocks: number[];
  strides: number[];
}

/**
 * torchvision's VideoResNet forward with R2Plus1dStem and BasicBlock(Conv2Plus1D), read from a state dict
 * by name: stem → layers → AdaptiveAvgPool3d(1) → flatten → fc. Returns [features, logits] per clip.
 */
export function videoResNetJs(x: Tensor5, sd: Map<string, ArrayLike<number>>, arch: VideoResNetShape): { features: number[][]; logits: number[][] } {
  const p = (k: string) => {
    const v = sd.get(k);
    if (!v) throw new Error(`reference: no tensor ${k}`);
    return v;
  };
  const bn = (h: Tensor5, name: string) => batchNorm3d(h, p(`${name}.weight`), p(`${name}.bias`), p(`${name}.running_mean`), p(`${name}.running_var`));
  let h = relu(bn(conv3d(x, p('stem.0.weight'), arch.stem[0], [1, 7, 7], [1, 2, 2], [0, 3, 3]), 'stem.1'));
  h = relu(bn(conv3d(h, p('stem.3.weight'), arch.stem[1], [3, 1, 1], [1, 1, 1], [1, 0, 0]), 'stem.4'));
  let inplanes = arch.stem[1];
  arch.planes.forEach((planes, l) => {
    for (let b = 0; b < arch.blocks[l]!; b++) {
      const s = b === 0 ? arch.strides[l]! : 1;
      const name = `layer${l + 1}.${b}`;
      const mid = Math.floor((inplanes * planes * 27) / (inplanes * 9 + 3 * planes));
      const conv2plus1d = (v: Tensor5, prefix: string, outC: number, stride: number) => {
        const a = relu(bn(conv3d(v, p(`${prefix}.0.0.weight`), mid, [1, 3, 3], [1, stride, stride], [0, 1, 1]), `${prefix}.0.1`));
        return conv3d(a, p(`${prefix}.0.3.weight`), outC, [3, 1, 1], [stride, 1, 1], [1, 0, 0]);
      };
      let out = relu(bn(conv2plus1d(h, `${name}.conv1`, planes, s), `${name}.conv1.1`));
      out = bn(conv2plus1d(out, `${name}.conv2`, planes, 1), `${name}.conv2.1`);
      const residual = sd.has(`${name}.downsample.0.weight`) ? bn(conv3d(h, p(`${name}.downsample.0.weight`), planes, [1, 1, 1], [s, s, s], [0, 0, 0]), `${name}.downsample.1`) : h;
      h = relu(add(out, residual));
      inplanes = planes;
    }
  });
  const [n, c] = h.shape;
  const inner = h.shape[2] * h.shape[3] * h.shape[4];
  const features = Array.from({ length: n }, (_, b) => Array.from({ length: c }, (_, ch) => h.data.slice((b * c + ch) * inner, (b * c + ch + 1) * inner).reduce((s, v) => s + v, 0) / inner));
  const fcW = p('fc.weight');
  const fcB = p('fc.bias');
  const classes = fcB.length;
  const logits = features.map((f) => Array.from({ length: classes }, (_, o) => f.reduce((s, v, i) => s + v * fcW[o * c + i]!, fcB[o]!)));
  return { features, logits };
}
