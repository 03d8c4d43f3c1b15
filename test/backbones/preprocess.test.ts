import { describe, expect, it } from 'vitest';
import { checkClips, checkHeadInput, packPathways, preprocessClips, slowPathwayIndices, type InputSpec } from '../../core/engine/backbone.ts';
import { Graph } from '../../core/engine/graph.ts';
import { runGraph, seeded } from '../helpers/engine.ts';
import { preprocessJs } from './reference.ts';

const spec = (layout: 'NCTHW' | 'NTCHW', inputRange = 255): InputSpec => ({
  frames: 3,
  size: 4,
  channels: 3,
  layout,
  mean: [0.43216, 0.394666, 0.37645],
  std: [0.22803, 0.22145, 0.216989],
  inputRange,
});

describe('preprocessing runs in the ONNX graph: scale, normalize with mean/std, permute to the layout', () => {
  for (const [layout, range] of [['NCTHW', 255], ['NTCHW', 255], ['NCTHW', 1]] as const) {
    it(`${layout}, pixels in [0, ${range}]`, async () => {
      const s = spec(layout, range);
      const shape: [number, number, number, number, number] = [2, s.frames, s.size, s.size, 3];
      const clips = seeded(21, shape.reduce((a, b) => a * b, 1), 0, range);
      const g = new Graph();
      const x = preprocessClips(g, g.input('clips', 'float32', shape), s);
      expect(x.shape).toEqual([2, 3, 3, 4, 4]); // T = C = 3 here; the NTCHW order is checked below
      g.output(x, 'x');
      const got = (await runGraph(g, { clips: { data: clips, shape, dtype: 'float32' } })).x!;
      const want = preprocessJs(clips, shape, [...s.mean], [...s.std], range, layout);
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
    });
  }

  it('NTCHW keeps time before channels', () => {
    const g = new Graph();
    const x = preprocessClips(g, g.input('clips', 'float32', [1, 5, 4, 4, 3]), { ...spec('NTCHW'), frames: 5 });
    expect(x.shape).toEqual([1, 5, 3, 4, 4]);
  });

  it('a wrong clip size names the keys that set it', () => {
    expect(() => checkClips(new Float32Array(10), 1, spec('NCTHW'))).toThrow(
      'extract: got 10 values for 1 clip(s); the backbone expects [N, T, H, W, C] = [1, 3, 4, 4, 3] = 144 values (set by model.backbone.frames=3, model.backbone.size=4 and 3 channels in model.backbone.mean)',
    );
  });

  it("a head whose input is not the backbone's output width is an error naming both keys", () => {
    expect(() => checkHeadInput({ outputDim: 512 }, 768)).toThrow('model.head.in_dim=768, but the backbone gives 512 features (model.backbone.output_dim)');
    expect(() => checkHeadInput({ outputDim: 512 }, 512)).not.toThrow();
  });
});

describe("SlowFast's slow pathway takes T/alpha frames as PyTorchVideo's PackPathway", () => {
  it('indices are torch.linspace(0, T − 1, T // alpha).long()', () => {
    expect(slowPathwayIndices(32, 4)).toEqual([0, 4, 8, 13, 17, 22, 26, 31]);
    expect(slowPathwayIndices(16, 4)).toEqual([0, 5, 10, 15]);
    expect(slowPathwayIndices(8, 8)).toEqual([0]);
    expect(() => slowPathwayIndices(4, 8)).toThrow('model.backbone.alpha=8 leaves no frame for the slow pathway out of model.backbone.frames=4');
  });

  it('gathers those frames along time in either layout', async () => {
    for (const layout of ['NCTHW', 'NTCHW'] as const) {
      const shape = layout === 'NCTHW' ? [1, 2, 8, 1, 1] : [1, 8, 2, 1, 1];
      const g = new Graph();
      const x = g.input('x', 'float32', shape);
      const [slow, fast] = packPathways(g, x, layout, 4);
      expect(fast).toBe(x);
      g.output(slow, 'slow');
      const data = Array.from({ length: 16 }, (_, i) => i);
      const got = (await runGraph(g, { x: { data, shape, dtype: 'float32' } })).slow!;
      // linspace(0, 7, 2) = [0, 7]
      expect(got).toEqual(layout === 'NCTHW' ? [0, 7, 8, 15] : [0, 1, 14, 15]);
    }
  });
});
