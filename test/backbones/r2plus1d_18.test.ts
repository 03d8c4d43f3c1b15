import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors, type SafeTensor } from '../../core/engine/safetensors.ts';
import {
  parameterCount,
  R2PLUS1D_18,
  randomStateDict,
  VideoResNetExtractor,
  videoResNetTensors,
  type R2Plus1dOptions,
  type StateDict,
  type VideoResNetArch,
} from '../../plugins/backbones/r2plus1d_18.ts';
import { seeded } from '../helpers/engine.ts';
import { preprocessJs, videoResNetJs } from './reference.ts';

const KINETICS = { mean: [0.43216, 0.394666, 0.37645], std: [0.22803, 0.22145, 0.216989] };

const options = (o: Partial<R2Plus1dOptions> = {}): R2Plus1dOptions => ({
  frames: 16,
  size: 112,
  layout: 'NCTHW',
  ...KINETICS,
  input_range: 255,
  output: 'features',
  num_classes: 400,
  weights: null,
  seed: 0,
  fold_bn: true,
  device: 'cpu',
  threads: 2,
  ...o,
});

/** Two BasicBlocks (the second with a downsample), narrow: the structure of R(2+1)D-18 at a test's cost. */
const TINY: VideoResNetArch = { stem: [6, 8], planes: [8, 16], blocks: [1, 1], strides: [1, 2], channels: 3, numClasses: 5 };
const tinyOptions = (o: Partial<R2Plus1dOptions> = {}) => options({ frames: 4, size: 16, num_classes: 5, ...o });

const logs: string[] = [];
const log = (_: string, m: string) => void logs.push(m);
const extractors: VideoResNetExtractor[] = [];
const make = (o: R2Plus1dOptions, arch: VideoResNetArch = R2PLUS1D_18) => {
  const e = new VideoResNetExtractor(o, arch, log);
  extractors.push(e);
  return e;
};
afterAll(async () => {
  for (const e of extractors) await e.dispose();
});

const clipsFor = (o: R2Plus1dOptions, batch: number, seed = 1) => Float32Array.from(seeded(seed, batch * o.frames * o.size * o.size * 3, 0, 255));
const dir = mkdtempSync(join(tmpdir(), 'vidra-r2plus1d-'));

/** A state dict with BN statistics far from the identity, so that BN handling shows in the outputs. */
function perturbed(arch: VideoResNetArch, seed: number): StateDict {
  const sd = randomStateDict(arch, seed);
  let k = seed * 100;
  for (const [name, v] of sd) {
    if (name.endsWith('running_var')) sd.set(name, Float32Array.from(seeded(k++, v.length, 0.2, 2)));
    else if (name.endsWith('running_mean') || (name.endsWith('.bias') && name !== 'fc.bias')) sd.set(name, Float32Array.from(seeded(k++, v.length, -0.5, 0.5)));
    else if (name.endsWith('.weight') && v.length === sd.get(name.replace(/weight$/, 'bias'))?.length && name !== 'fc.weight') sd.set(name, Float32Array.from(seeded(k++, v.length, 0.5, 1.5)));
    else if (name === 'fc.weight') sd.set(name, Float32Array.from(seeded(k++, v.length, -0.3, 0.3)));
  }
  return sd;
}

const withShapes = (sd: StateDict, arch: VideoResNetArch) => {
  const shapes = new Map(videoResNetTensors(arch).map((t) => [t.name, t.shape]));
  return new Map([...sd].map(([k, v]) => [k, { shape: shapes.get(k)!, data: v }]));
};

function saveStateDict(path: string, sd: StateDict, arch: VideoResNetArch, extra: Record<string, SafeTensor> = {}) {
  const tensors: Record<string, SafeTensor> = { ...extra };
  for (const t of videoResNetTensors(arch)) tensors[t.name] = { dtype: 'F32', shape: t.shape, data: sd.get(t.name)! };
  writeSafetensors(path, tensors, { format: 'pt' });
}

describe("parameter names and shapes are torchvision's r2plus1d_18 state_dict", () => {
  const specs = new Map(videoResNetTensors().map((t) => [t.name, t.shape]));
  const bn = (p: string, c: number) => ['weight', 'bias', 'running_mean', 'running_var'].map((k) => [`${p}.${k}`, [c]] as const);

  it('the stem: (1,7,7) conv to 45 channels, BN, (3,1,1) conv to 64, BN', () => {
    const want = [['stem.0.weight', [45, 3, 1, 7, 7]], ...bn('stem.1', 45), ['stem.3.weight', [64, 45, 3, 1, 1]], ...bn('stem.4', 64)];
    for (const [name, shape] of want) expect(specs.get(name as string), name as string).toEqual(shape);
    expect([...specs.keys()].filter((k) => k.startsWith('stem.'))).toEqual(want.map(([n]) => n));
  });

  it('layer1.0: Conv2Plus1D with midplanes 144, no downsample', () => {
    const want = [
      ['layer1.0.conv1.0.0.weight', [144, 64, 1, 3, 3]],
      ...bn('layer1.0.conv1.0.1', 144),
      ['layer1.0.conv1.0.3.weight', [64, 144, 3, 1, 1]],
      ...bn('layer1.0.conv1.1', 64),
      ['layer1.0.conv2.0.0.weight', [144, 64, 1, 3, 3]],
      ...bn('layer1.0.conv2.0.1', 144),
      ['layer1.0.conv2.0.3.weight', [64, 144, 3, 1, 1]],
      ...bn('layer1.0.conv2.1', 64),
    ];
    expect([...specs].filter(([k]) => k.startsWith('layer1.0.'))).toEqual(want);
  });

  it("layer2.0: midplanes (64·128·27) // (64·9 + 3·128) = 230 for both convs, and a 1×1×1 downsample", () => {
    expect(Math.floor((64 * 128 * 27) / (64 * 9 + 3 * 128))).toBe(230);
    const want = [
      ['layer2.0.conv1.0.0.weight', [230, 64, 1, 3, 3]],
      ...bn('layer2.0.conv1.0.1', 230),
      ['layer2.0.conv1.0.3.weight', [128, 230, 3, 1, 1]],
      ...bn('layer2.0.conv1.1', 128),
      ['layer2.0.conv2.0.0.weight', [230, 128, 1, 3, 3]],
      ...bn('layer2.0.conv2.0.1', 230),
      ['layer2.0.conv2.0.3.weight', [128, 230, 3, 1, 1]],
      ...bn('layer2.0.conv2.1', 128),
      ['layer2.0.downsample.0.weight', [128, 64, 1, 1, 1]],
      ...bn('layer2.0.downsample.1', 128),
    ];
    expect([...specs].filter(([k]) => k.startsWith('layer2.0.'))).toEqual(want);
    // The second block of a layer has in = planes: midplanes (128·128·27) // (128·9 + 3·128) = 288, no downsample.
    expect(specs.get('layer2.1.conv1.0.0.weight')).toEqual([288, 128, 1, 3, 3]);
    expect(specs.has('layer2.1.downsample.0.weight')).toBe(false);
  });

  it('fc is Linear(512, 400) and the tensors end there', () => {
    expect([...specs].slice(-2)).toEqual([
      ['fc.weight', [400, 512]],
      ['fc.bias', [400]],
    ]);
    expect(specs.size).toBe(5 + 5 + 8 * 20 + 3 * 5 + 2); // stem, 8 blocks of 4 conv+BN units, 3 downsamples, fc
  });

  it('31,505,325 learnable parameters, from the architecture arithmetic', () => {
    const convBn = (inC: number, outC: number, kernel: number) => inC * outC * kernel + 2 * outC;
    let total = convBn(3, 45, 1 * 7 * 7) + convBn(45, 64, 3);
    let inplanes = 64;
    for (const [planes, stride] of [[64, 1], [128, 2], [256, 2], [512, 2]] as const) {
      for (let b = 0; b < 2; b++) {
        const mid = Math.floor((inplanes * planes * 27) / (inplanes * 9 + 3 * planes));
        total += convBn(inplanes, mid, 9) + convBn(mid, planes, 3) + convBn(planes, mid, 9) + convBn(mid, planes, 3);
        if (b === 0 && (stride !== 1 || inplanes !== planes)) total += convBn(inplanes, planes, 1);
        inplanes = planes;
      }
    }
    total += 512 * 400 + 400;
    expect(total).toBe(31_505_325);
    expect(parameterCount()).toBe(total);
  });
});

describe('R(2+1)D-18 runs out of the box: seeded random weights, [B, 512] features or [B, 400] logits', () => {
  it('16×112×112 clips give 512 pooled features per clip', async () => {
    const o = options();
    const e = make(o);
    expect(e.outputDim).toBe(512);
    const f = await e.extract(clipsFor(o, 1), 1);
    expect(f.length).toBe(512);
    expect(f.every(Number.isFinite)).toBe(true);
    expect(f.some((v) => v > 0)).toBe(true);
    expect(e.provider).toBe('cpu');
    expect(logs.some((l) => l.includes('random weights (seed 0), not pretrained'))).toBe(true);
  }, 60_000);

  it('output: logits gives fc scores, [B, 400]', async () => {
    const o = options({ frames: 4, size: 32, output: 'logits', output_dim: 400 });
    const e = make(o);
    expect(e.outputDim).toBe(400);
    const y = await e.extract(clipsFor(o, 2), 2);
    expect(y.length).toBe(2 * 400);
    expect(e.buildGraph(2).outputs[0]!.shape).toEqual([2, 400]);
  }, 60_000);

  it('an output_dim that is not what the output gives names model.backbone.output_dim', () => {
    expect(() => make(options({ output: 'logits', output_dim: 512 }))).toThrow(
      'model.backbone.output_dim=512, but r2plus1d_18 with output=logits gives 400 values per clip (model.backbone.num_classes); set model.backbone.output_dim=400',
    );
    expect(() => make(options({ output_dim: 768 }))).toThrow('model.backbone.output_dim=768, but r2plus1d_18 with output=features gives 512 values per clip (its pooled features)');
  });

  it('clips of the wrong size are an error naming frames and size', async () => {
    const e = make(tinyOptions());
    await expect(e.extract(new Float32Array(100), 1)).rejects.toThrow('the backbone expects [N, T, H, W, C] = [1, 4, 16, 16, 3]');
  });
});

describe("the graph computes torchvision's VideoResNet forward (tiny 2-block variant, float64 JS reference)", () => {
  const sd = perturbed(TINY, 3);
  const o = tinyOptions({ output: 'logits' });
  const clips = clipsFor(o, 2, 5);
  const x = { shape: [2, 3, 4, 16, 16] as [number, number, number, number, number], data: preprocessJs(clips, [2, 4, 16, 16, 3], KINETICS.mean, KINETICS.std, 255, 'NCTHW') };
  const want = videoResNetJs(x, sd, { stem: [6, 8], planes: [8, 16], blocks: [1, 1], strides: [1, 2] }).logits.flat();

  for (const foldBn of [true, false]) {
    it(`with BN ${foldBn ? 'folded into the convolutions' : 'as BatchNormalization nodes'}`, async () => {
      const e = make(tinyOptions({ output: 'logits', fold_bn: foldBn }), TINY);
      e.setStateDict(withShapes(sd, TINY));
      const got = await e.extract(clips, 2);
      expect(got.length).toBe(10);
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
    });
  }

  it('folded and unfolded BN agree on features too', async () => {
    const a = make(tinyOptions({ fold_bn: true }), TINY);
    const b = make(tinyOptions({ fold_bn: false }), TINY);
    a.setStateDict(withShapes(sd, TINY));
    b.setStateDict(withShapes(sd, TINY));
    const [fa, fb] = [await a.extract(clips, 2), await b.extract(clips, 2)];
    for (let i = 0; i < fa.length; i++) expect(Math.abs(fa[i]! - fb[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(fb[i]!)));
  });
});

describe('weights: a PyTorch state dict saved as safetensors', () => {
  const sd = perturbed(TINY, 4);
  const path = join(dir, 'tiny.safetensors');
  // torchvision's state_dict also holds each BN's num_batches_tracked (int64 scalar): accepted and ignored.
  saveStateDict(path, sd, TINY, { 'stem.1.num_batches_tracked': { dtype: 'I64', shape: [], data: BigInt64Array.of(100n) } });
  const o = tinyOptions({ output: 'logits' });
  const clips = clipsFor(o, 1, 6);

  it('changes the outputs, and reproduces them on reload', async () => {
    const random = await make(o, TINY).extract(clips, 1);
    const loaded = await make({ ...o, weights: path }, TINY).extract(clips, 1);
    const again = await make({ ...o, weights: path }, TINY).extract(clips, 1);
    expect(Array.from(loaded)).not.toEqual(Array.from(random));
    expect(Array.from(again)).toEqual(Array.from(loaded));
    const x = { shape: [1, 3, 4, 16, 16] as [number, number, number, number, number], data: preprocessJs(clips, [1, 4, 16, 16, 3], KINETICS.mean, KINETICS.std, 255, 'NCTHW') };
    const want = videoResNetJs(x, sd, { stem: [6, 8], planes: [8, 16], blocks: [1, 1], strides: [1, 2] }).logits[0]!;
    for (let i = 0; i < want.length; i++) expect(loaded[i]).toBeCloseTo(want[i]!, 4);
    expect(logs.some((l) => l.includes(`loaded weights from '${path}'`))).toBe(true);
  });

  it('missing, unexpected and mis-shaped tensors are named', async () => {
    const bad = join(dir, 'bad.safetensors');
    const tensors: Record<string, SafeTensor> = {};
    for (const t of videoResNetTensors(TINY)) tensors[t.name] = { dtype: 'F32', shape: t.shape, data: sd.get(t.name)! };
    delete tensors['layer2.0.downsample.0.weight'];
    tensors['layer3.0.conv1.0.0.weight'] = { dtype: 'F32', shape: [1], data: Float32Array.of(0) };
    tensors['fc.weight'] = { dtype: 'F32', shape: [7, 16], data: new Float32Array(7 * 16) };
    writeSafetensors(bad, tensors);
    const e = make({ ...o, weights: bad }, TINY);
    const err = await e.extract(clips, 1).catch((x: Error) => x);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain(`model.backbone.weights: '${bad}' is not a r2plus1d_18 state dict`);
    expect(msg).toContain('missing tensors (1): layer2.0.downsample.0.weight');
    expect(msg).toContain('unexpected tensors (1): layer3.0.conv1.0.0.weight');
    expect(msg).toContain('wrong shapes: fc.weight is [7, 16], expected [5, 16]');
    expect(msg).toContain('set model.backbone.num_classes');
  });

  it('a missing file fails at construction, a corrupt one at load, both naming model.backbone.weights', async () => {
    expect(() => make({ ...o, weights: join(dir, 'nope.safetensors') }, TINY)).toThrow(`model.backbone.weights: the file '${join(dir, 'nope.safetensors')}' does not exist`);
    const corrupt = join(dir, 'corrupt.safetensors');
    writeFileSync(corrupt, 'not a safetensors file at all');
    await expect(make({ ...o, weights: corrupt }, TINY).load()).rejects.toThrow(`model.backbone.weights: '${corrupt}' is not a valid safetensors file`);
  });
});

describe('determinism: the same seed gives bit-identical features', () => {
  it('same seed, same features; another seed, other features', async () => {
    const o = tinyOptions();
    const clips = clipsFor(o, 2, 7);
    const [a, b, c] = await Promise.all([make(o, TINY).extract(clips, 2), make(o, TINY).extract(clips, 2), make({ ...o, seed: 1 }, TINY).extract(clips, 2)]);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    // Batch composition does not change a clip's features (up to float rounding of batched kernels).
    const single = await make(o, TINY).extract(clips.subarray(0, clips.length / 2), 1);
    for (let i = 0; i < single.length; i++) expect(single[i]).toBeCloseTo(a[i]!, 5);
  });

  it('the random initialisation is torchvision’s: kaiming normal fan_out convs, BN identity, fc N(0, 0.01)', () => {
    const sd = randomStateDict(R2PLUS1D_18, 0);
    const std = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    // layer4.1: midplanes (512·512·27) // (512·9 + 3·512) = 1152; fan_out = 1152 · 1·3·3.
    expect(std(sd.get('layer4.1.conv2.0.0.weight')!)).toBeCloseTo(Math.sqrt(2 / (1152 * 9)), 3);
    expect(std(sd.get('layer1.0.conv1.0.0.weight')!)).toBeCloseTo(Math.sqrt(2 / (144 * 9)), 3);
    expect(std(sd.get('fc.weight')!)).toBeCloseTo(0.01, 3);
    expect([...sd.get('stem.1.weight')!].every((v) => v === 1)).toBe(true);
    expect([...sd.get('stem.1.running_var')!].every((v) => v === 1)).toBe(true);
    expect([...sd.get('stem.1.running_mean')!, ...sd.get('stem.1.bias')!, ...sd.get('fc.bias')!].every((v) => v === 0)).toBe(true);
  });
});
