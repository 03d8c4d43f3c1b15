// evaluateLoss: a loss and its gradient for given logits, computed by the graph that training runs — the loss
// plugin built from a validated config, differentiated by `gradients()` in the same ONNX graph, run by ONNX Runtime.
// For tests, notebooks and bug reports ("is my loss what the paper says?") without a dataset or a model.

import ort from 'onnxruntime-node';
import { createPlugin } from '../create.ts';
import { gradients } from '../../core/engine/autodiff.ts';
import { Graph, type Value } from '../../core/engine/graph.ts';
import type { LossContext, LossInputs, LossModule } from '../../core/engine/modules.ts';
import { toOnnxModel } from '../../core/engine/onnx-export.ts';
import { createSession, EngineError } from '../../core/engine/session.ts';

export interface LossEvalInputs {
  /** [N, C] logits; for infonce the first embedding matrix [N, D]. */
  logits: number[][];
  /** A multi-hot (or soft) [N, C] matrix, or class indices [N] for single-label losses; none for infonce. */
  targets?: number[][] | number[];
  /** The training set's per-class sample counts (data.class_counts), for eql and ldam. */
  classCounts?: number[];
  /** The Bernoulli draw β of the Animal Kingdom EQL, [N, C] of 0/1; drawn with `rng` when omitted. */
  mask?: number[][];
  /** infonce: the second embedding matrix [N, D]. */
  other?: number[][];
  /** infonce: the logit-scale parameter as the model holds it (default ln(1/0.07), open_clip's init). */
  logitScale?: number;
  /** The epoch (0-based), for LDAM's deferred re-weighting (default 0). */
  epoch?: number;
  /** The RNG of the Animal Kingdom EQL mask when `mask` is omitted (default Math.random). */
  rng?: () => number;
  /** multi_ce: the classes of each logit section (targets are then [N, T], one class index per section). */
  sections?: number[];
}

export interface LossEvalSettings {
  /** The graph's float type (default float64). */
  dtype?: 'float32' | 'float64';
}

export interface LossEvaluation {
  /** A number for reduction mean/sum; the per-sample [N] or per-element [N, C] losses for 'none'. */
  loss: number | number[] | number[][];
  /** d loss / d logits, shaped like the logits (for 'none', the gradient of the sum of the losses). */
  grad: number[][];
  /** infonce: d loss / d other. */
  gradOther?: number[][];
  /** infonce: d loss / d logitScale (the parameter, before any exp). */
  gradLogitScale?: number;
  /** The mask the loss used, when it needs one (the one given, or the one drawn). */
  mask?: number[][];
}

/** open_clip's initial logit-scale parameter ln(1/0.07). */
const CLIP_INIT_LOGIT_SCALE = Math.log(1 / 0.07);

/**
 * Builds the built-in loss plugin `name` from its config keys as a config's `loss: {_target_: name, ...}` node
 * is built: validated against the plugin's schema (defaults filled in, errors as the config core words them),
 * then instantiated through tsyringe with the config injected as PLUGIN_CONFIG.
 */
export function createLoss(name: string, options: Record<string, unknown> = {}): LossModule {
  return createPlugin<LossModule>('loss', name, options);
}

/**
 * Evaluates the loss plugin `name` configured by `options` (its config keys, validated against its schema and
 * defaulted as the config core does) on the given inputs, and returns the loss and d loss / d logits computed in
 * one ONNX graph on the CPU.
 */
export async function evaluateLoss(
  name: string,
  options: Record<string, unknown>,
  inputs: LossEvalInputs,
  settings: LossEvalSettings = {},
): Promise<LossEvaluation> {
  const dtype = settings.dtype ?? 'float64';
  const loss = createLoss(name, options);

  const [n, c] = matrixShape(`${name}: logits`, inputs.logits);
  const g = new Graph({ name: `loss_${name.replace(/\W/g, '_')}` });
  const feeds: Record<string, ort.Tensor> = {};
  const floatInput = (inputName: string, shape: number[], data: number[]): Value => {
    feeds[inputName] = new ort.Tensor(dtype, dtype === 'float64' ? Float64Array.from(data) : Float32Array.from(data), shape);
    return g.input(inputName, dtype, shape);
  };
  const lossInputs: LossInputs = { logits: floatInput('logits', [n, c], inputs.logits.flat()), targets: null };

  if (loss.targetKind === 'none') {
    if (inputs.targets !== undefined) throw new EngineError(`the ${name} loss takes no targets: it pairs row i of logits with row i of other`);
    if (!inputs.other) throw new EngineError(`the ${name} loss needs 'other', the second embedding matrix [${n}, ${c}]`);
    const shape = matrixShape(`${name}: other`, inputs.other);
    if (shape[0] !== n || shape[1] !== c) {
      throw new EngineError(`the ${name} loss pairs rows of logits and other, which must have the same shape: got [${n}, ${c}] and [${shape.join(', ')}]`);
    }
    lossInputs.other = floatInput('other', [n, c], inputs.other.flat());
    lossInputs.logitScale = floatInput('logit_scale', [], [inputs.logitScale ?? CLIP_INIT_LOGIT_SCALE]);
  } else if (loss.targetKind === 'index_columns') {
    lossInputs.targets = columnTargets(name, inputs.targets, n, inputs.sections, feeds, g);
  } else {
    lossInputs.targets = targetsInput(name, loss.targetKind, inputs.targets, n, c, floatInput, feeds, g);
  }

  let mask: number[][] | undefined;
  if (loss.needsMask) {
    mask = inputs.mask ?? drawMask(loss, n, c, inputs.rng);
    const shape = matrixShape(`${name}: mask`, mask);
    if (shape[0] !== n || shape[1] !== c) throw new EngineError(`the ${name} loss's mask must be shaped like the logits [${n}, ${c}], got [${shape.join(', ')}]`);
    lossInputs.mask = floatInput('mask', [n, c], mask.flat());
  } else if (inputs.mask !== undefined) {
    throw new EngineError(`the ${name} loss (with these options) takes no mask`);
  }

  const ctx: LossContext = { g, dtype, classCounts: inputs.classCounts, epoch: inputs.epoch, sections: inputs.sections };
  const out = loss.build(ctx, lossInputs);
  const wrt = [lossInputs.logits, ...(lossInputs.other ? [lossInputs.other, lossInputs.logitScale!] : [])];
  const grads = out.size === 1 ? gradients(g, g.reshape(out, []), wrt) : gradients(g, out, wrt, g.expand(g.scalar(1, dtype), out.shape));
  g.output(out, 'loss');
  const gradNames = ['grad', 'grad_other', 'grad_logit_scale'];
  grads.forEach((d, i) => g.output(d, gradNames[i]));

  const { session } = await createSession(toOnnxModel(g), { device: 'cpu', threads: 1 });
  try {
    const result = await session.run(feeds);
    const values = (key: string) => Array.from(result[key]!.data as Float64Array | Float32Array);
    const lossValues = values('loss');
    const evaluation: LossEvaluation = {
      loss: out.rank === 0 ? lossValues[0]! : out.rank === 1 ? lossValues : rows(lossValues, out.shape[1]!),
      grad: rows(values('grad'), c),
    };
    if (lossInputs.other) {
      evaluation.gradOther = rows(values('grad_other'), c);
      evaluation.gradLogitScale = values('grad_logit_scale')[0]!;
    }
    if (mask) evaluation.mask = mask;
    return evaluation;
  } finally {
    await session.release();
  }
}

function rows(flat: number[], width: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += width) out.push(flat.slice(i, i + width));
  return out;
}

/** [rows, cols] of a non-empty rectangular matrix of numbers, or an error that says what is wrong. */
function matrixShape(what: string, m: unknown): [number, number] {
  if (!Array.isArray(m) || m.length === 0 || !m.every((r) => Array.isArray(r))) {
    throw new EngineError(`${what} must be a non-empty matrix (an array of rows of numbers)`);
  }
  const width = (m[0] as unknown[]).length;
  if (width === 0) throw new EngineError(`${what} has empty rows`);
  m.forEach((r: unknown[], i) => {
    if (r.length !== width) throw new EngineError(`${what} is not rectangular: row 0 has ${width} values, row ${i} has ${r.length}`);
    if (!r.every((v) => typeof v === 'number')) throw new EngineError(`${what}: row ${i} holds a value that is not a number`);
  });
  return [m.length, width];
}

function targetsInput(
  name: string,
  kind: 'multi_hot' | 'index',
  targets: number[][] | number[] | undefined,
  n: number,
  c: number,
  floatInput: (name: string, shape: number[], data: number[]) => Value,
  feeds: Record<string, ort.Tensor>,
  g: Graph,
): Value {
  if (targets === undefined) throw new EngineError(`the ${name} loss needs targets: ${kind === 'index' ? `class indices [${n}]` : `a multi-hot matrix [${n}, ${c}]`}`);
  if (kind === 'multi_hot') {
    if (!targets.every((r) => Array.isArray(r))) {
      throw new EngineError(`the ${name} loss (with these options) takes multi-hot targets [${n}, ${c}], not a vector of class indices`);
    }
    const shape = matrixShape(`${name}: targets`, targets);
    if (shape[0] !== n || shape[1] !== c) throw new EngineError(`the ${name} loss's targets must be shaped like the logits [${n}, ${c}], got [${shape.join(', ')}]`);
    return floatInput('targets', [n, c], (targets as number[][]).flat());
  }
  if (!targets.every((v) => typeof v === 'number')) {
    throw new EngineError(`the ${name} loss (with these options) takes class-index targets [${n}] (single-label), not a matrix`);
  }
  const idx = targets as number[];
  if (idx.length !== n) throw new EngineError(`the ${name} loss needs one class index per row of the logits: ${idx.length} targets for logits [${n}, ${c}]`);
  idx.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 0 || t >= c) throw new EngineError(`targets[${i}] = ${t} is not a class index in [0, ${c - 1}] (logits [${n}, ${c}])`);
  });
  feeds.targets = new ort.Tensor('int64', BigInt64Array.from(idx, (t) => BigInt(t)), [n]);
  return g.input('targets', 'int64', [n]);
}

function columnTargets(name: string, targets: number[][] | number[] | undefined, n: number, sections: number[] | undefined, feeds: Record<string, ort.Tensor>, g: Graph): Value {
  if (!sections?.length) throw new EngineError(`the ${name} loss needs inputs.sections: the classes of each logit section`);
  const t = sections.length;
  if (!Array.isArray(targets) || targets.length !== n || !targets.every((r) => Array.isArray(r) && r.length === t)) {
    throw new EngineError(`the ${name} loss takes targets [${n}, ${t}]: one class index per logit section per row`);
  }
  (targets as number[][]).forEach((row, i) =>
    row.forEach((v, j) => {
      if (!Number.isInteger(v) || v < 0 || v >= sections[j]!) throw new EngineError(`targets[${i}][${j}] = ${v} is not a class index in [0, ${sections[j]! - 1}]`);
    }),
  );
  feeds.targets = new ort.Tensor('int64', BigInt64Array.from((targets as number[][]).flat(), (v) => BigInt(v)), [n, t]);
  return g.input('targets', 'int64', [n, t]);
}

function drawMask(loss: LossModule, n: number, c: number, rng?: () => number): number[][] {
  const draw = (loss as { drawMask?: (rows: number, cols: number, rng?: () => number) => number[][] }).drawMask;
  if (typeof draw !== 'function') throw new EngineError('this loss needs a mask: pass inputs.mask [N, C]');
  return draw.call(loss, n, c, rng);
}
