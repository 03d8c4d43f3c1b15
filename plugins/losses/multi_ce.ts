import { EngineError } from '../../core/engine/session.ts';
import type { Value } from '../../core/engine/graph.ts';
import type { LossContext, LossInputs, LossModule, TargetKind } from '../../core/engine/modules.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { CeLoss } from './ce.ts';

interface MultiCeOptions {
  label_smoothing: number;
  column_weights: number[] | null;
  reduction: 'mean' | 'sum';
}

/**
 * Cross-entropy over several class-index targets scored by consecutive logit sections (a multi-head model):
 *
 *   L = Σ_t w_t · CE(x[:, section t], y[:, t])      CE as the `ce` loss (torch cross_entropy), mean or sum over N
 *
 * EgoAdapt's action loss is CE_verb + CE_noun; the Ego4D LTA baseline sums the CE of its Z verb heads and Z noun
 * heads (`MultiTaskHead` + `ForecastingEncoderDecoder`). Targets are [N, T] int64, sections from the model.
 */
@injectable()
export class MultiCeLoss implements LossModule {
  readonly targetKind: TargetKind = 'index_columns';
  readonly needsClassCounts = false;
  private readonly ce: CeLoss;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: MultiCeOptions) {
    this.ce = new CeLoss({ label_smoothing: options.label_smoothing, class_weights: null, reduction: options.reduction });
  }

  build(ctx: LossContext, inputs: LossInputs): Value {
    const { g } = ctx;
    const sections = ctx.sections;
    const x = inputs.logits;
    const y = inputs.targets;
    if (!sections?.length) throw new EngineError('the multi_ce loss needs a multi-head model (one logit section per target column; model keys `heads`)');
    const width = sections.reduce((a, b) => a + b, 0);
    if (x.rank !== 2 || x.shape[1] !== width) {
      throw new EngineError(`the multi_ce loss expects logits [N, ${width}] (sections ${sections.join(' + ')}), got [${x.shape.join(', ')}]`);
    }
    if (!y || y.rank !== 2 || y.shape[0] !== x.shape[0] || y.shape[1] !== sections.length || y.dtype !== 'int64') {
      throw new EngineError(`the multi_ce loss expects int64 targets [${x.shape[0]}, ${sections.length}] (one class index per section), got ${y ? `${y.dtype} [${y.shape.join(', ')}]` : 'none'}`);
    }
    const w = this.options.column_weights;
    if (w && w.length !== sections.length) {
      throw new EngineError(`the multi_ce loss's column_weights has ${w.length} values, but there are ${sections.length} target columns: give one per column`);
    }
    let total: Value | null = null;
    let at = 0;
    sections.forEach((classes, t) => {
      const logits = g.slice(x, [at], [at + classes], [1]);
      at += classes;
      const column = g.reshape(g.slice(y, [t], [t + 1], [1]), [y.shape[0]!]);
      let term = g.reshape(this.ce.build(ctx, { logits, targets: column }), []);
      if (w) term = g.mul(term, w[t]!);
      total = total ? g.add(total, term) : term;
    });
    return total!;
  }
}

export const plugin = definePlugin({
  kind: 'loss',
  name: 'multi_ce',
  description: 'cross-entropy summed over target columns (verb + noun; Z future verbs and nouns) of a multi-head model',
  schema: {
    type: 'object',
    properties: {
      label_smoothing: { type: 'number', minimum: 0, maximum: 1, default: 0, description: 'ε of each column’s cross-entropy (torch label_smoothing)' },
      column_weights: { type: ['array', 'null'], items: { type: 'number', minimum: 0 }, default: null, description: 'w_t per target column; null: 1' },
      reduction: { enum: ['mean', 'sum'], default: 'mean', description: 'each column’s CE over the batch: mean or sum (columns are always summed)' },
    },
    additionalProperties: false,
  },
  create: MultiCeLoss,
});
