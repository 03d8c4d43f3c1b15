import { ValidationError } from '../../core/config/errors.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { Fraction, RATIONAL_SCHEMA, seconds, window, type ClipContext, type ClipSampler, type ClipWindow, type Rational } from './sampler.ts';

export interface RecentPastOptions {
  /** Δ: how many seconds of the past are observed. */
  past: Rational;
  /** τ: seconds between the end of the observed window and the anchor (anticipation gap); 0 = right up to T. */
  gap: Rational;
}

/**
 * The "recent past only" window [T − Δ, T]: only the Δ seconds before an anchor time T are observed, clamped at the
 * video start — e.g. for anticipation / long-term action forecasting, the observed past before the action to predict
 * starts (T = the action's start, ml-spec §4). With `gap` τ > 0 the window is [T − τ − Δ, T − τ] (the anticipation
 * gap τ_a of action-anticipation benchmarks).
 *
 *   end = max(T − τ, 0),  start = max(end − Δ, 0)
 *
 * Near the video start the window is shorter than Δ (possibly empty, start = end = 0): the caller decides whether to
 * pad, skip or keep it. T comes from the call's context (`anchor`), default the video end; T outside [0, duration]
 * is an error. One window, `isLast` true. Exact fractions.
 */
export class RecentPastSampler implements ClipSampler {
  readonly type = 'clip' as const;
  readonly past: Fraction;
  readonly gap: Fraction;

  constructor(options: Partial<RecentPastOptions> & { past: Rational }) {
    this.past = Fraction.from(options.past);
    this.gap = Fraction.from(options.gap ?? 0);
    if (!this.past.gt(0)) throw new ValidationError(`recent_past sampler: past (Δ) must be > 0 seconds (got ${this.past})`);
    if (this.gap.lt(0)) throw new ValidationError(`recent_past sampler: gap must be >= 0 seconds (got ${this.gap})`);
  }

  clips(duration: Rational, context: ClipContext = {}): ClipWindow[] {
    const d = seconds('the video duration', duration);
    const t = context.anchor === undefined ? d : Fraction.from(context.anchor);
    if (t.lt(0) || t.gt(d)) throw new RangeError(`recent_past sampler: the anchor time ${t.toNumber()} s is outside the video [0, ${d.toNumber()}] s`);
    const end = Fraction.max(t.sub(this.gap), 0);
    const start = Fraction.max(end.sub(this.past), 0);
    return [window(start, end, 0, 0, true)];
  }
}

@injectable()
export class RecentPastSamplerPlugin extends RecentPastSampler {
  constructor(@inject(PLUGIN_CONFIG) options: RecentPastOptions) {
    super(options);
  }
}

export const plugin = definePlugin({
  kind: 'sampler',
  name: 'recent_past',
  description: 'the window [T − Δ, T] before an anchor time T (e.g. an action start), clamped at 0',
  schema: {
    type: 'object',
    properties: {
      past: { ...RATIONAL_SCHEMA, description: 'Δ, seconds of past observed before the anchor' },
      gap: { ...RATIONAL_SCHEMA, default: 0, description: 'τ, seconds left out between the window end and the anchor' },
    },
    required: ['past'],
    additionalProperties: false,
  },
  create: RecentPastSamplerPlugin,
});
