import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph } from '../../core/engine/graph.ts';
import { toOnnxModel } from '../../core/engine/onnx-export.ts';
import { globalAvgPool } from '../../core/engine/vision-ops.ts';
import type { JobContext } from '../../core/plugins/interfaces.ts';
import { isRandomStandIn } from '../../plugins/backbones/export-random.ts';
import { OnnxBackbone, type OnnxBackboneOptions } from '../../plugins/backbones/onnx_backbone.ts';
import { seeded } from '../helpers/engine.ts';
import { preprocessJs } from './reference.ts';

const { onnx } = onnxProto;
const dir = mkdtempSync(join(tmpdir(), 'vidra-onnx-backbone-'));
const logs: string[] = [];
const job = { log: { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) } } as unknown as JobContext;
const opened: OnnxBackbone[] = [];
const backbone = (o: Partial<OnnxBackboneOptions>) => {
  const b = new OnnxBackbone(
    {
      path: join(dir, 'model.onnx'),
      input_name: null,
      output_name: null,
      frames: 4,
      size: 8,
      layout: 'NCTHW',
      mean: [0.45, 0.45, 0.45],
      std: [0.225, 0.225, 0.225],
      input_range: 255,
      alpha: null,
      output_dim: 5,
      generate_if_missing: false,
      seed: 0,
      device: 'cpu',
      threads: 1,
      ...o,
    },
    job,
  );
  opened.push(b);
  return b;
};
afterAll(async () => {
  for (const b of opened) await b.dispose();
});

// A small "video model" exported by Vidra itself: video [2, 3, 4, 8, 8] (a fixed batch of 2) →
// pooled [2, 3] (an inner tensor) → logits = pooled Wᵀ + b [2, 5]; a second output, fmap = 2·video.
const W = seeded(31, 15);
const B = seeded(32, 5);
const modelPath = join(dir, 'model.onnx');
{
  const g = new Graph({ name: 'tiny_video_model' });
  const video = g.input('video', 'float32', [2, 3, 4, 8, 8]);
  const [pooled] = g.node('Identity', [globalAvgPool(g, video)], [{ dtype: 'float32', shape: [2, 3], name: 'pooled' }]);
  g.output(g.gemm(pooled!, g.constant(W, 'float32', [5, 3]), g.constant(B, 'float32', [5]), { transB: true }), 'logits');
  g.output(g.mul(video, 2), 'fmap');
  writeFileSync(modelPath, toOnnxModel(g));
}

const clips = (batch: number, seed = 33, frames = 4, size = 8) => Float32Array.from(seeded(seed, batch * frames * size * size * 3, 0, 255));

/** What the model should give, computed in plain JS: per-channel means of the preprocessed clip, then fc. */
function expected(data: Float32Array, batch: number) {
  const x = preprocessJs(data, [batch, 4, 8, 8, 3], [0.45, 0.45, 0.45], [0.225, 0.225, 0.225], 255, 'NCTHW');
  const inner = 4 * 8 * 8;
  const pooled = Array.from({ length: batch }, (_, b) => [0, 1, 2].map((c) => x.slice((b * 3 + c) * inner, (b * 3 + c + 1) * inner).reduce((s, v) => s + v, 0) / inner));
  const logits = pooled.map((p) => Array.from({ length: 5 }, (_, o) => B[o]! + p.reduce((s, v, i) => s + v * W[o * 3 + i]!, 0)));
  return { pooled, logits };
}

describe('onnx_backbone runs an ONNX video model with its input spec', () => {
  it('reads the first output; preprocessing and the model give what plain JS computes', async () => {
    const b = backbone({});
    const data = clips(2);
    const got = await b.extract(data, 2);
    expect(b.provider).toBe('cpu');
    const want = expected(data, 2).logits.flat();
    expect(got.length).toBe(10);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
  });

  it('a model exported with a fixed batch runs in chunks of it (the last one padded)', async () => {
    const data = clips(3, 34);
    const got = await backbone({}).extract(data, 3);
    const want = expected(data, 3).logits.flat();
    expect(got.length).toBe(15);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
  });

  it('output_name reads another output; a feature map [N, C, T, H, W] is averaged to [N, C]', async () => {
    const data = clips(2, 35);
    const got = await backbone({ output_name: 'fmap', output_dim: 3 }).extract(data, 2);
    const want = expected(data, 2).pooled.flat().map((v) => 2 * v);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
  });

  it('output_name may name an inner tensor (a layer), which becomes a graph output', async () => {
    const data = clips(2, 36);
    const got = await backbone({ output_name: 'pooled', output_dim: 3 }).extract(data, 2);
    const want = expected(data, 2).pooled.flat();
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
    await expect(backbone({ output_name: 'nothing', output_dim: 3 }).load()).rejects.toThrow(
      `model.backbone.output_name: '${modelPath}' has no tensor 'nothing'; its outputs are [logits, fmap]`,
    );
  });
});

describe('bad input: errors name the config key to fix', () => {
  it("output_dim that is not the model's output width (declared shape)", async () => {
    await expect(backbone({ output_dim: 7 }).load()).rejects.toThrow(
      `model.backbone.output_dim=7, but the output 'logits' of '${modelPath}' is declared [2, 5]: 5 features per clip; set model.backbone.output_dim=5, or read another layer with model.backbone.output_name`,
    );
  });

  it('output_dim is checked before the first run even where the model declares a symbolic width', async () => {
    // The same model with its output declared [2, 'D']: ONNX Runtime infers the width, Vidra checks it at load.
    const model = onnx.ModelProto.decode(readFileSync(modelPath));
    model.graph!.output![0]!.type!.tensorType!.shape!.dim![1] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'D' });
    const p = join(dir, 'symbolic.onnx');
    writeFileSync(p, onnx.ModelProto.encode(model).finish());
    await expect(backbone({ path: p, output_dim: 4 }).load()).rejects.toThrow(
      `model.backbone.output_dim=4, but the output 'logits' of '${p}' is declared [2, 5]: 5 features per clip; set model.backbone.output_dim=5`,
    );
    expect((await backbone({ path: p }).extract(clips(2), 2)).length).toBe(10);
  });

  it('a missing file names model.backbone.path', async () => {
    const p = join(dir, 'absent.onnx');
    await expect(backbone({ path: p }).extract(clips(1), 1)).rejects.toThrow(`model.backbone.path: the ONNX model '${p}' does not exist`);
    await expect(backbone({ path: p }).load()).rejects.toThrow('or set model.backbone.generate_if_missing=true for a random-weight stand-in');
  });

  it('a corrupt file names the path and model.backbone.path', async () => {
    const p = join(dir, 'corrupt.onnx');
    writeFileSync(p, Buffer.from('this is not an ONNX protobuf, just text'));
    const err = (await backbone({ path: p }).load().catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(new RegExp(`^model\\.backbone\\.path: '${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}' is not a valid ONNX model \\(.+\\)\\. Re-export it`));
  });

  it('frames, size or layout that disagree with the declared input are named', async () => {
    await expect(backbone({ frames: 8 }).load()).rejects.toThrow(
      `model.backbone.frames: the input 'video' of '${modelPath}' is declared [2, 3, 4, 8, 8], but layout=NCTHW, frames=8, size=8 and 3 channels (mean/std) give [N, 3, 8, 8, 8]; set model.backbone.frames to match the model`,
    );
    await expect(backbone({ size: 16 }).load()).rejects.toThrow("model.backbone.size: the input 'video'");
    await expect(backbone({ layout: 'NTCHW' }).load()).rejects.toThrow("model.backbone.frames: the input 'video'");
    await expect(backbone({ input_name: 'clip' }).load()).rejects.toThrow(`model.backbone.input_name: '${modelPath}' has no input 'clip'; its inputs are [video]`);
    await expect(backbone({ alpha: 2 }).load()).rejects.toThrow('but the backbone feeds two inputs (slow then fast pathway, model.backbone.alpha=2); fix model.backbone.alpha');
  });
});

describe('generate_if_missing writes a seeded random-weight stand-in with the spec, and says so', () => {
  it('a single-pathway stand-in (MViT-like): right shapes, logged as random weights, deterministic', async () => {
    const p = join(dir, 'standins', 'mvit.onnx');
    logs.length = 0;
    const spec = { path: p, generate_if_missing: true, frames: 6, size: 24, output_dim: 12, input_name: 'video' };
    const a = await backbone(spec).extract(clips(2, 37, 6, 24), 2);
    expect(existsSync(p)).toBe(true);
    expect(isRandomStandIn(readFileSync(p))).toBe(true);
    expect(isRandomStandIn(readFileSync(modelPath))).toBe(false);
    expect(logs.some((l) => l.includes('wrote a stand-in with RANDOM WEIGHTS'))).toBe(true);
    expect(logs.some((l) => l.includes('is a Vidra stand-in with random weights, not a pretrained model'))).toBe(true);
    expect(a.length).toBe(24);
    expect(a.every(Number.isFinite)).toBe(true);
    // Loading the file again logs it again, and gives the same features.
    logs.length = 0;
    const b = await backbone(spec).extract(clips(2, 37, 6, 24), 2);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(logs.some((l) => l.includes('random weights'))).toBe(true);
    expect(logs.some((l) => l.includes('wrote a stand-in'))).toBe(false);
  });

  it('a SlowFast stand-in takes [slow, fast] pathways (alpha) and any batch size', async () => {
    const p = join(dir, 'standins', 'slowfast.onnx');
    const b = backbone({ path: p, generate_if_missing: true, frames: 8, alpha: 4, size: 16, output_dim: 20, input_name: ['slow', 'fast'] });
    await b.load();
    expect(b.outputDim).toBe(20);
    for (const n of [1, 3]) expect((await b.extract(clips(n, 38, 8, 16), n)).length).toBe(n * 20);
    // The slow pathway is declared with frames/alpha frames; another alpha is named.
    await expect(backbone({ path: p, frames: 8, alpha: 2, size: 16, output_dim: 20 }).load()).rejects.toThrow(
      "model.backbone.frames: the input 'slow'",
    );
  });
});
