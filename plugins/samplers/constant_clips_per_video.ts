import { ValidationError } from '../../core/config/errors.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { Fraction, RATIONAL_SCHEMA, seconds, window, type ClipSampler, type ClipWindow, type Rational } from './sampler.ts';

export interface ConstantClipsOptions {
  clip_duration: Rational;
  clips_per_video: number;
  augs_per_clip: number;
}

/**
 * pytorchvideo `ConstantClipsPerVideoSampler(clip_duration, clips_per_video, augs_per_clip=1)`
 * (`pytorchvideo/data/clip_sampling.py`; ml-spec §5) — the usual multi-view test sampler:
 *
 *   start_k = k · max(duration − clip, 0) / n,  end_k = start_k + clip,  k = 0 .. n − 1
 *
 * divided by n, not n − 1: the last window does not reach the video end (a 10 s video, 2 s clips, n = 4 starts at
 * 0, 2, 4, 6). Each window is repeated `augs_per_clip` times (aug_index 0 .. augs − 1); the very last is `isLast`.
 * A video shorter than a clip gives n windows at 0 (longer than the video). Exact fractions throughout.
 */
export class ConstantClipsPerVideoSampler implements ClipSampler {
  readonly type = 'clip' as const;
  readonly clipDuration: Fraction;
  readonly clipsPerVideo: number;
  readonly augsPerClip: number;

  constructor(options: Partial<ConstantClipsOptions> & { clip_duration: Rational; clips_per_video: number }) {
    this.clipDuration = Fraction.from(options.clip_duration);
    this.clipsPerVideo = options.clips_per_video;
    this.augsPerClip = options.augs_per_clip ?? 1;
    if (!this.clipDuration.gt(0)) throw new ValidationError(`constant_clips_per_video sampler: clip_duration must be > 0 (got ${this.clipDuration})`);
    for (const [k, v] of [
      ['clips_per_video', this.clipsPerVideo],
      ['augs_per_clip', this.augsPerClip],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ValidationError(`constant_clips_per_video sampler: ${k} must be an integer >= 1 (got ${v})`);
    }
  }

  clips(duration: Rational): ClipWindow[] {
    const maxStart = Fraction.max(seconds('the video duration', duration).sub(this.clipDuration), 0);
    const step = maxStart.div(this.clipsPerVideo);
    const out: ClipWindow[] = [];
    for (let k = 0; k < this.clipsPerVideo; k++) {
      const start = step.mul(k);
      const end = start.add(this.clipDuration);
      for (let a = 0; a < this.augsPerClip; a++) {
        out.push(window(start, end, k, a, k === this.clipsPerVideo - 1 && a === this.augsPerClip - 1));
      }
    }
    return out;
  }
}

@injectable()
export class ConstantClipsPerVideoSamplerPlugin extends ConstantClipsPerVideoSampler {
  constructor(@inject(PLUGIN_CONFIG) options: ConstantClipsOptions) {
    super(options);
  }
}

export const plugin = definePlugin({
  kind: 'sampler',
  name: 'constant_clips_per_video',
  description: 'n evenly spaced clip windows per video, start_k = k·max(dur − clip, 0)/n (pytorchvideo ConstantClipsPerVideoSampler)',
  schema: {
    type: 'object',
    properties: {
      clip_duration: { ...RATIONAL_SCHEMA, description: 'window length in seconds (a number, or exact: "32/15")' },
      clips_per_video: { type: 'integer', minimum: 1, description: 'n, windows per video' },
      augs_per_clip: { type: 'integer', minimum: 1, default: 1, description: 'views of each window (aug_index)' },
    },
    required: ['clip_duration', 'clips_per_video'],
    additionalProperties: false,
  },
  create: ConstantClipsPerVideoSamplerPlugin,
});
