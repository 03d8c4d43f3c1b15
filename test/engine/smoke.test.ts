import { it, expect } from 'vitest';
import ort from 'onnxruntime-node';
import { Graph } from '../../core/engine/graph.ts';
import { toOnnxModel } from '../../core/engine/onnx-export.ts';
import { createSession } from '../../core/engine/session.ts';
it('smoke', async () => {
  const g = new Graph();
  const x = g.input('x', 'float64', [2, 3]);
  const w = g.input('w', 'float64', [3, 2]);
  const y = g.softplus(g.matmul(x, w));
  g.output(g.reduceSum(y), 'loss');
  g.output(y, 'y');
  const notices: string[] = [];
  const { session, provider } = await createSession(toOnnxModel(g), { device: 'auto', notice: (l) => notices.push(l) });
  console.log(provider, notices);
  const r = await session.run({ x: new ort.Tensor('float64', Float64Array.from([1, 2, 3, 4, 5, 6]), [2, 3]), w: new ort.Tensor('float64', Float64Array.from([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]), [3, 2]) });
  console.log(r.loss.data, r.y.data);
  await expect(createSession(toOnnxModel(g), { device: 'cuda' })).rejects.toThrow(/engine.device=cuda/);
});
