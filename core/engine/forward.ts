// The evaluation graph of a model: parameters and inputs in, logits out (dropout off). It takes the
// parameters as inputs, so the training runner's current values are evaluated without a recompile.

import ort from 'onnxruntime-node';
import { Graph, type Shape } from './graph.ts';
import type { ModelModule, ParameterSpec } from './modules.ts';
import { toOnnxModel } from './onnx-export.ts';
import { createSession, type Device, type GraphOptimization } from './session.ts';

export interface ForwardOutput {
  logits: Float32Array;
  /** [batch, classes] (or [batch, embedding] for contrastive models). */
  shape: number[];
  /** Contrastive models: the second embedding [batch, embedding]. */
  other?: Float32Array;
}

export class ForwardRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly model: ModelModule,
    private readonly params: ParameterSpec[],
    readonly batchSize: number,
  ) {}

  static async create(
    model: ModelModule,
    params: ParameterSpec[],
    batchSize: number,
    options: { device?: Device; threads?: number; graphOptimization?: GraphOptimization; notice?: (l: string) => void } = {},
  ): Promise<ForwardRunner> {
    const g = new Graph({ name: 'forward' });
    const byName = Object.fromEntries(params.map((p) => [p.name, g.input(`param/${p.name}`, 'float32', p.shape)]));
    const inputs = Object.fromEntries(model.inputs().map((i) => [i.name, g.input(`input/${i.name}`, 'float32', [batchSize, ...i.shape])]));
    const unused = (_name: string, _shape: Shape, _p: number) => {
      throw new Error('dropout masks are not drawn in evaluation');
    };
    const out = model.forward({ g, dtype: 'float32', training: false, bernoulli: unused }, byName, inputs);
    g.output(out.logits, 'logits');
    if (out.other) g.output(out.other, 'other');
    const { session } = await createSession(toOnnxModel(g), options);
    return new ForwardRunner(session, model, params, batchSize);
  }

  /** Logits for one batch of `batchSize` examples with the given parameter values. */
  async run(params: Record<string, { data: Float32Array | Float64Array }>, inputs: Record<string, Float32Array>): Promise<ForwardOutput> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const p of this.params) feeds[`param/${p.name}`] = new ort.Tensor('float32', Float32Array.from(params[p.name]!.data), [...p.shape]);
    for (const i of this.model.inputs()) feeds[`input/${i.name}`] = new ort.Tensor('float32', inputs[i.name]!, [this.batchSize, ...i.shape]);
    const result = await this.session.run(feeds);
    const out = result.logits!;
    return { logits: out.data as Float32Array, shape: [...out.dims], ...(result.other ? { other: result.other.data as Float32Array } : {}) };
  }
}
