import { VidraError, ValidationError } from '../../core/config/errors.ts';
import { mulberry32 } from '../../core/random.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import type { Params, QuadraticPenalty, QuadraticTerm, Sample, Strategy, StrategyContext, StrategyPlugin } from './events.ts';

export interface EwcOptions {
  /** λ, the strength of the penalty. */
  ewc_lambda: number;
  /** separate: one penalty per past experience; online: one running Fisher with decay (Schwarz et al. 2018). */
  mode: 'separate' | 'online';
  /** γ of online mode: F ← γ F_old + F_new (required there, as in Avalanche). */
  decay_factor: number | null;
  /** Online mode: keep every experience's importance and snapshot (separate mode always keeps them). */
  keep_importance_data: boolean;
  /** Samples per gradient average before squaring: 1 = per-sample empirical Fisher; train_mb_size = Avalanche exactly. */
  fisher_batch_size: number;
  /** Samples of an experience used for the Fisher (seeded uniform subset); null = all. */
  fisher_samples: number | null;
  /** kirkpatrick: λ/2 Σ F (θ − θ*)² (the paper); avalanche: λ Σ F (θ − θ*)² (Avalanche's EWCPlugin). */
  penalty_form: 'kirkpatrick' | 'avalanche';
  seed: number;
}

const DEFAULTS: Omit<EwcOptions, 'ewc_lambda'> = {
  mode: 'separate',
  decay_factor: null,
  keep_importance_data: false,
  fisher_batch_size: 1,
  fisher_samples: null,
  penalty_form: 'kirkpatrick',
  seed: 0,
};

type Vectors = Record<string, Float64Array>;

/** One experience's importance F and parameter snapshot θ*. */
export interface EwcRecord {
  /** Training-experience counter it was computed at (0-based). */
  experience: number;
  importance: Readonly<Vectors>;
  params: Readonly<Vectors>;
}

function copy(params: Params): Vectors {
  const out: Vectors = {};
  for (const [k, v] of Object.entries(params)) out[k] = Float64Array.from(v as ArrayLike<number>);
  return out;
}

/**
 * The diagonal empirical Fisher of per-sample gradients: the gradients are averaged over consecutive groups of
 * `groupSize` samples (the loss of a mini-batch is a mean), each group's mean is squared, and the squares averaged
 * over groups: F = (1/G) Σ_g (mean_{i∈g} ∇ℓ_i)². groupSize 1 is Kirkpatrick's per-sample Fisher; Avalanche's
 * `EWCPlugin.compute_importances` squares mini-batch gradients (groupSize = train_mb_size, smaller last group).
 * Parameters a sample has no gradient for count as zero (Avalanche skips `p.grad is None`).
 */
export function diagonalFisher(params: Params, gradients: readonly Params[], groupSize = 1): Vectors {
  const fisher: Vectors = {};
  for (const [k, v] of Object.entries(params)) fisher[k] = new Float64Array(v.length);
  if (gradients.length === 0) return fisher;
  let groups = 0;
  for (let start = 0; start < gradients.length; start += groupSize) {
    const group = gradients.slice(start, start + groupSize);
    groups++;
    for (const [k, f] of Object.entries(fisher)) {
      const mean = new Float64Array(f.length);
      for (const g of group) {
        const gk = g[k];
        if (!gk) continue;
        if (gk.length !== f.length) throw new RangeError(`EWC: the gradient of '${k}' has ${gk.length} values, the parameter ${f.length}`);
        for (let j = 0; j < f.length; j++) mean[j] += gk[j]! / group.length;
      }
      for (let j = 0; j < f.length; j++) f[j] += mean[j]! * mean[j]!;
    }
  }
  for (const f of Object.values(fisher)) for (let j = 0; j < f.length; j++) f[j] /= groups;
  return fisher;
}

/**
 * Elastic Weight Consolidation (Kirkpatrick et al., PNAS 2017; Avalanche `training/plugins/ewc.py`), as data for a
 * compiled training graph:
 *
 * - after_training_exp: F = the diagonal Fisher at the trained parameters from per-sample gradients that the task's
 *   engine provides (`ctx.gradients(items)`), θ* = a snapshot of `ctx.parameters()`. `separate` keeps one
 *   {F, θ*} per experience; `online` keeps one running F_t = γ·F_{t−1} + F_new with the latest θ* (Schwarz et al.,
 *   "Progress & Compress", 2018; Avalanche's online mode, `decay_factor` γ required).
 * - before_training_iteration, from the second experience on: pushes the penalty onto `ctx.extraLoss` as a
 *   `QuadraticPenalty` named 'ewc':
 *       separate:  Σ_{t<now} s Σ F_t (θ − θ*_t)²        online:  s Σ F (θ − θ*)²
 *   with s = λ/2 (`penalty_form: kirkpatrick`, the paper's eq. 3) or s = λ (`avalanche`: Avalanche adds
 *   `ewc_lambda * Σ F (θ − θ*)²`, no ½). The gradient the graph adds is 2s·F(θ − θ*). `penaltyValue` /
 *   `penaltyGradient` (penalty.ts) compute both in float64.
 * The penalty object changes only after an experience: a graph builder may cache its feeds by identity.
 */
@injectable()
export class EwcPlugin implements StrategyPlugin, Strategy {
  readonly name = 'ewc';
  readonly options: EwcOptions;
  /** Per experience (separate, or online with keep_importance_data), else only the latest. */
  readonly records: EwcRecord[] = [];
  private counter = 0;
  private current: QuadraticPenalty | null = null;

  constructor(@inject(PLUGIN_CONFIG) options: Partial<EwcOptions> & { ewc_lambda: number }) {
    this.options = { ...DEFAULTS, ...options };
    const o = this.options;
    if (!(typeof o.ewc_lambda === 'number' && o.ewc_lambda >= 0)) throw new ValidationError(`ewc: ewc_lambda must be a number >= 0 (got ${o.ewc_lambda})`);
    if (o.mode === 'online' && (o.decay_factor === null || o.decay_factor === undefined)) {
      throw new ValidationError('ewc: mode=online needs decay_factor (γ in F ← γ·F_old + F_new), as in Avalanche');
    }
  }

  get plugins(): readonly StrategyPlugin[] {
    return [this];
  }

  /** The penalty the next training steps add (null during the first experience). */
  get penalty(): QuadraticPenalty | null {
    return this.current;
  }

  /** Scale s of s·Σ F (θ − θ*)². */
  get scale(): number {
    return this.options.penalty_form === 'kirkpatrick' ? this.options.ewc_lambda / 2 : this.options.ewc_lambda;
  }

  before_training_iteration(ctx: StrategyContext): void {
    if (this.current) ctx.extraLoss.push(this.current);
  }

  async after_training_exp(ctx: StrategyContext): Promise<void> {
    if (!ctx.gradients || !ctx.parameters) {
      throw new VidraError(
        'ewc: the task gives no per-sample gradients (ctx.gradients) or parameters (ctx.parameters); EWC needs both to compute the Fisher after each experience',
      );
    }
    const items = this.fisherItems(ctx.experience?.items ?? []);
    const params = copy(await ctx.parameters());
    const gradients = await ctx.gradients(items);
    if (gradients.length !== items.length) throw new RangeError(`ewc: ${items.length} samples but ${gradients.length} gradients`);
    this.addExperience(params, diagonalFisher(params, gradients, this.options.fisher_batch_size));
  }

  /** Records one experience's Fisher and snapshot (what after_training_exp does once gradients are known). */
  addExperience(params: Readonly<Vectors>, fisher: Readonly<Vectors>): void {
    const t = this.counter++;
    let importance: Vectors = { ...fisher };
    const previous = this.records[this.records.length - 1];
    if (this.options.mode === 'online' && previous) {
      const gamma = this.options.decay_factor!;
      importance = {};
      for (const k of new Set([...Object.keys(previous.importance), ...Object.keys(fisher)])) {
        const old = previous.importance[k];
        const cur = fisher[k];
        const out = new Float64Array((cur ?? old)!.length);
        for (let j = 0; j < out.length; j++) out[j] = gamma * (old?.[j] ?? 0) + (cur?.[j] ?? 0);
        importance[k] = out;
      }
      if (!this.options.keep_importance_data) this.records.length = 0;
    }
    this.records.push({ experience: t, importance, params });
    const terms: QuadraticTerm[] =
      this.options.mode === 'separate'
        ? this.records.map((r) => ({ scale: this.scale, importance: r.importance, anchor: r.params }))
        : [{ scale: this.scale, importance, anchor: params }];
    this.current = { name: 'ewc', kind: 'quadratic', terms };
  }

  private fisherItems(items: readonly Sample[]): readonly Sample[] {
    const n = this.options.fisher_samples;
    if (n === null || n >= items.length) return items;
    const rng = mulberry32((this.options.seed + this.counter) >>> 0);
    const idx = Array.from({ length: items.length }, (_, i) => i);
    for (let i = 0; i < n; i++) {
      const j = i + Math.min(items.length - i - 1, Math.floor(rng() * (items.length - i)));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    return idx
      .slice(0, n)
      .sort((a, b) => a - b)
      .map((i) => items[i]!);
  }
}

export const plugin = definePlugin({
  kind: 'strategy',
  name: 'ewc',
  description: 'elastic weight consolidation: a diagonal-Fisher quadratic penalty towards past parameters (Kirkpatrick et al. 2017)',
  schema: {
    type: 'object',
    properties: {
      ewc_lambda: { type: 'number', minimum: 0, description: 'λ, penalty strength (required)' },
      mode: { enum: ['separate', 'online'], default: 'separate', description: 'one penalty per past experience, or one decayed running Fisher' },
      decay_factor: { type: ['number', 'null'], minimum: 0, default: null, description: 'online mode: γ in F ← γ·F_old + F_new (required there)' },
      keep_importance_data: { type: 'boolean', default: false, description: 'online mode: also keep every past experience’s F and θ*' },
      fisher_batch_size: { type: 'integer', minimum: 1, default: 1, description: 'samples averaged before squaring (1: per-sample; train batch size: as Avalanche)' },
      fisher_samples: { type: ['integer', 'null'], minimum: 1, default: null, description: 'samples of the experience used for the Fisher (null: all)' },
      penalty_form: { enum: ['kirkpatrick', 'avalanche'], default: 'kirkpatrick', description: 'kirkpatrick: λ/2 Σ F(θ−θ*)²; avalanche: λ Σ F(θ−θ*)²' },
      seed: { type: 'integer', default: 0, description: 'seed of the fisher_samples subset' },
    },
    required: ['ewc_lambda'],
    additionalProperties: false,
  },
  create: EwcPlugin,
});
