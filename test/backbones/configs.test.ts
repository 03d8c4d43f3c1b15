import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose } from '../../core/compose/compose.ts';
import type { DictNode } from '../../core/config/node.ts';
import { checkHeadInput, type FeatureExtractor } from '../../core/engine/backbone.ts';
import { container } from '../../core/plugins/di.ts';
import { instantiate } from '../../core/plugins/instantiate.ts';
import { PluginRegistry } from '../../core/plugins/registry.ts';
import { backbonePlugins } from '../../plugins/backbones/index.ts';
import { seeded } from '../helpers/engine.ts';

const configDir = join(import.meta.dirname, '..', '..', 'conf');
const cache = mkdtempSync(join(tmpdir(), 'vidra-backbones-'));
const built: FeatureExtractor[] = [];
let savedEnv: string | undefined;

beforeAll(() => {
  savedEnv = process.env.VIDRA_BACKBONES;
  process.env.VIDRA_BACKBONES = cache;
});
afterAll(async () => {
  if (savedEnv === undefined) delete process.env.VIDRA_BACKBONES;
  else process.env.VIDRA_BACKBONES = savedEnv;
  for (const b of built) await b.dispose();
});

function build(model: string, overrides: string[] = []) {
  const config = compose({ configDir, overrides: [`+model=${model}`, 'head=backbone_linear', ...overrides.map((o) => `model.backbone.${o}`)] });
  const registry = new PluginRegistry();
  for (const p of backbonePlugins) registry.register(p);
  const backbone = instantiate<FeatureExtractor>(config.resolvedNode('model.backbone') as DictNode, { container, registry, kind: 'model', path: 'model.backbone' }) as FeatureExtractor;
  built.push(backbone);
  return { backbone, config };
}

const clip = (b: FeatureExtractor) => Float32Array.from(seeded(41, b.inputSpec.frames * b.inputSpec.size ** 2 * 3, 0, 255));

describe('the shipped backbone configs build and run out of the box', () => {
  it('model/backbone/r2plus1d_18: torchvision R(2+1)D-18 spec, random weights unless `weights` is given', () => {
    const { backbone, config } = build('r2plus1d');
    expect(backbone.inputSpec).toEqual({ frames: 16, size: 112, channels: 3, layout: 'NCTHW', mean: [0.43216, 0.394666, 0.37645], std: [0.22803, 0.22145, 0.216989], inputRange: 255 });
    expect(backbone.outputDim).toBe(512);
    expect(() => checkHeadInput(backbone, config.get('model.head.in_dim') as number)).not.toThrow();
  });

  it('model/backbone/slowfast_r50: 32 fast / 8 slow frames at 224, 2304 features, a random-weight stand-in at $VIDRA_BACKBONES', async () => {
    const { backbone, config } = build('slowfast');
    expect(config.get('model.backbone.path')).toBe(join(cache, 'slowfast_r50.onnx'));
    expect(backbone.inputSpec).toMatchObject({ frames: 32, size: 224, layout: 'NCTHW', mean: [0.45, 0.45, 0.45], std: [0.225, 0.225, 0.225] });
    const features = await backbone.extract(clip(backbone), 1);
    expect(features.length).toBe(2304);
    expect(existsSync(join(cache, 'slowfast_r50.onnx'))).toBe(true);
    expect(() => checkHeadInput(backbone, config.get('model.head.in_dim') as number)).not.toThrow();
  });

  it('model/backbone/mvit_v2_s: 16 frames at 224, 768 features', async () => {
    const { backbone } = build('mvit');
    expect(backbone.inputSpec).toMatchObject({ frames: 16, size: 224 });
    expect((await backbone.extract(clip(backbone), 1)).length).toBe(768);
  });

  it('without generate_if_missing, a missing export names model.backbone.path', async () => {
    const { backbone } = build('mvit', ['generate_if_missing=false', `path=${join(cache, 'none.onnx')}`]);
    await expect(backbone.load()).rejects.toThrow(`model.backbone.path: the ONNX model '${join(cache, 'none.onnx')}' does not exist`);
  });

  it('the path default is .cache/backbones when VIDRA_BACKBONES is not set', () => {
    delete process.env.VIDRA_BACKBONES;
    try {
      expect(compose({ configDir, overrides: ['+model=slowfast'] }).get('model.backbone.path')).toBe('.cache/backbones/slowfast_r50.onnx');
    } finally {
      process.env.VIDRA_BACKBONES = cache;
    }
  });
});

describe('model.name is the backbone the model runs, whichever model/backbone= chose it', () => {
  it('each model config with its own backbone, and with another one', () => {
    const name = (...overrides: string[]) => compose({ configDir, overrides }).get('model.name');
    expect(name('+model=slowfast')).toBe('slowfast_r50');
    expect(name('+model=mvit')).toBe('mvit_v2_s');
    expect(name('+model=r2plus1d')).toBe('r2plus1d_18');
    expect(name('+model=slowfast', 'model/backbone=mvit_v2_s')).toBe('mvit_v2_s');
    expect(name('+model=mvit', 'model/backbone=r2plus1d_18')).toBe('r2plus1d_18');
  });
});
