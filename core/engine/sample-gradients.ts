// Per-sample gradients of the training loss at given parameters: what EWC's Fisher, and other importance-based
// strategies, are computed from. A graph of batch size 1 (forward in evaluation mode, the loss, the backward pass)
// run once per sample; the parameters are inputs, so the current values are used without a recompile.

import ort from 'onnxruntime-node';
import { gradients } from './autodiff.ts';
import { Graph, type Shape } from './graph.ts';
import type { LossModule, ModelModule, ParameterSpec } from './modules.ts';
import { toOnnxModel } from './onnx-export.ts';
import { createSession, EngineError, type Device } from './session.ts';

export interface SampleInput {
  /** Per model input, one example's values. */
  inputs: Record<string, Float32Array>;
  /** The loss's target for this example: a class index, index columns, or a multi-hot row. */
  target: number | readonly number[];
}

export class SampleGradients {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly model: ModelModule,
    private readonly loss: LossModule,
    private readonly params: ParameterSpec[],
  ) {}

  /** Dropout is off (evaluation mode), so the gradients are deterministic. */
  static async create(
    model: ModelModule,
    loss: LossModule,
    params: ParameterSpec[],
    options: { device?: Device; threads?: number; classCounts?: readonly number[]; numClasses?: number } = {},
  ): Promise<SampleGradients> {
    if (loss.targetKind === 'none') throw new EngineError('per-sample gradients need a loss with targets (a contrastive loss pairs the rows of a batch)');
    const g = new Graph({ name: 'sample_gradients' });
    const values = params.map((p) => g.input(`param/${p.name}`, 'float32', p.shape));
    const byName = Object.fromEntries(params.map((p, i) => [p.name, values[i]!]));
    const inputs = Object.fromEntries(model.inputs().map((i) => [i.name, g.input(`input/${i.name}`, 'float32', [1, ...i.shape])]));
    const sections = model.sections?.();
    const targetShape: Shape = loss.targetKind === 'index' ? [1] : loss.targetKind === 'index_columns' ? [1, sections?.length ?? 0] : [1, options.numClasses ?? 0];
    const targets = g.input('targets', loss.targetKind === 'multi_hot' ? 'float32' : 'int64', targetShape);
    const noMasks = () => {
      throw new EngineError('dropout masks are not drawn for per-sample gradients');
    };
    const out = model.forward({ g, dtype: 'float32', training: false, bernoulli: noMasks }, byName, inputs);
    if (loss.needsMask) throw new EngineError('per-sample gradients of a loss with a random mask (the Animal Kingdom EQL) are not defined');
    const value = loss.build({ g, dtype: 'float32', classCounts: options.classCounts, sections }, { logits: out.logits, targets });
    gradients(g, g.reshape(value, []), values).forEach((d, i) => g.output(d, `grad/${params[i]!.name}`));
    const { session } = await createSession(toOnnxModel(g), { device: options.device, threads: options.threads });
    return new SampleGradients(session, model, loss, params);
  }

  /** ∇θ ℓ(x_i, y_i) for every sample, at the parameters `theta`. */
  async compute(theta: Record<string, ArrayLike<number>>, samples: readonly SampleInput[]): Promise<Record<string, Float32Array>[]> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const p of this.params) {
      const v = theta[p.name];
      if (!v) throw new EngineError(`per-sample gradients: no value for the parameter '${p.name}'`);
      feeds[`param/${p.name}`] = new ort.Tensor('float32', Float32Array.from(v), [...p.shape]);
    }
    const out: Record<string, Float32Array>[] = [];
    for (const s of samples) {
      for (const i of this.model.inputs()) feeds[`input/${i.name}`] = new ort.Tensor('float32', s.inputs[i.name]!, [1, ...i.shape]);
      const t = typeof s.target === 'number' ? [s.target] : [...s.target];
      feeds.targets =
        this.loss.targetKind === 'multi_hot'
          ? new ort.Tensor('float32', Float32Array.from(t), [1, t.length])
          : new ort.Tensor('int64', BigInt64Array.from(t, (v) => BigInt(v)), this.loss.targetKind === 'index' ? [1] : [1, t.length]);
      const result = await this.session.run(feeds);
      out.push(Object.fromEntries(this.params.map((p) => [p.name, result[`grad/${p.name}`]!.data as Float32Array])));
    }
    return out;
  }
}
