import { ValidationError } from '../../core/config/errors.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { Fraction, RATIONAL_SCHEMA, rngFor, seconds, window, type ClipContext, type ClipSampler, type ClipWindow, type Rational } from './sampler.ts';

export interface RandomClipOptions {
  clip_duration: Rational;
  seed: number;
}

/**
 * pytorchvideo `RandomClipSampler(clip_duration)` (`pytorchvideo/data/clip_sampling.py`; ml-spec §5): one window per
 * video, `start ~ U(0, max(duration − clip, 0))`, `end = start + clip`, `is_last` true. As there, the start is drawn as
 * a double (`random.uniform` on the float of the exact bound) and then taken exactly; the end is exact.
 * Seeded by (seed, epoch, video index) from the call's context, so a video's window in an epoch does not depend on
 * which worker reads it or in which order.
 */
export class RandomClipSampler implements ClipSampler {
  readonly type = 'clip' as const;
  readonly clipDuration: Fraction;
  readonly seed: number;

  constructor(options: Partial<RandomClipOptions> & { clip_duration: Rational }) {
    this.clipDuration = Fraction.from(options.clip_duration);
    this.seed = options.seed ?? 0;
    if (!this.clipDuration.gt(0)) throw new ValidationError(`random_clip sampler: clip_duration must be > 0 (got ${this.clipDuration})`);
  }

  clips(duration: Rational, context: ClipContext = {}): ClipWindow[] {
    const maxStart = Fraction.max(seconds('the video duration', duration).sub(this.clipDuration), 0);
    const u = rngFor(this.seed, context.epoch ?? 0, context.index ?? 0)();
    const start = Fraction.from(maxStart.toNumber() * u);
    return [window(start, start.add(this.clipDuration), 0, 0, true)];
  }
}

@injectable()
export class RandomClipSamplerPlugin extends RandomClipSampler {
  constructor(@inject(PLUGIN_CONFIG) options: RandomClipOptions) {
    super(options);
  }
}

export const plugin = definePlugin({
  kind: 'sampler',
  name: 'random_clip',
  description: 'one random clip window per video (pytorchvideo RandomClipSampler), seeded by (seed, epoch, video)',
  schema: {
    type: 'object',
    properties: {
      clip_duration: { ...RATIONAL_SCHEMA, description: 'window length in seconds (a number, or exact: "32/15")' },
      seed: { type: 'integer', default: 0 },
    },
    required: ['clip_duration'],
    additionalProperties: false,
  },
  create: RandomClipSamplerPlugin,
});
