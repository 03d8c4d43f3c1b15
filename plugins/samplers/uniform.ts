import { ValidationError } from '../../core/config/errors.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { Fraction, RATIONAL_SCHEMA, seconds, window, type ClipSampler, type ClipWindow, type Rational } from './sampler.ts';

export interface UniformClipOptions {
  clip_duration: Rational;
  /** Offset between window starts; null = clip_duration (no overlap). */
  stride: Rational | null;
  backpad_last: boolean;
  /** Tolerance of the backpad "did the window move?" test (pytorchvideo's eps). */
  eps: number;
}

/**
 * pytorchvideo `UniformClipSampler(clip_duration, stride=None, backpad_last=False, eps=1e-6)`
 * (`pytorchvideo/data/clip_sampling.py`; ml-spec §5), the whole loop of calls for one video:
 *
 *   start_0 = 0;  start_{k+1} = max(end_k − (clip − stride), 0);  end = start + clip
 *   backpad_last: a window passing the video end is shifted back to end at it (start clamped at 0);
 *   is_last: no backpad — the next window would end after the video (next_end > duration);
 *            backpad — the next window would not move (|next_end − end| < eps).
 *
 * Without backpad the first window is returned even when the video is shorter than a clip, and a tail shorter than
 * a stride is never covered. E.g. 39 frames @30 fps, clip 32/30 s, stride 16/30 s: [0, 32/30] alone; with backpad
 * [0, 32/30], [7/30, 39/30] (frames 0–31 and 7–38).
 *
 * Exact arithmetic: times are Fractions. pytorchvideo converts clip_duration to a Fraction but keeps a float stride
 * as a float, so with float arguments its starts are rounded to doubles between windows; with Fraction arguments (its
 * docstring's advice) it is exact, as here. Write "32/15" rather than 2.1333 in a config for an exact 64-frame clip at 30 fps.
 */
export class UniformClipSampler implements ClipSampler {
  readonly type = 'clip' as const;
  readonly clipDuration: Fraction;
  readonly stride: Fraction;
  readonly backpadLast: boolean;
  readonly eps: Fraction;

  constructor(options: Partial<UniformClipOptions> & { clip_duration: Rational }) {
    this.clipDuration = Fraction.from(options.clip_duration);
    this.stride = options.stride === null || options.stride === undefined ? this.clipDuration : Fraction.from(options.stride);
    this.backpadLast = options.backpad_last ?? false;
    this.eps = Fraction.from(options.eps ?? 1e-6);
    if (!this.clipDuration.gt(0)) throw new ValidationError(`uniform clip sampler: clip_duration must be > 0 (got ${this.clipDuration})`);
    if (!(this.stride.gt(0) && this.stride.le(this.clipDuration))) {
      throw new ValidationError(`uniform clip sampler: stride must be > 0 and <= clip_duration (${this.clipDuration}), got ${this.stride}`);
    }
  }

  /** pytorchvideo `_clip_start_end`. */
  private startEnd(lastEnd: Fraction, duration: Fraction): [Fraction, Fraction] {
    let start = Fraction.max(lastEnd.sub(Fraction.max(0, this.clipDuration.sub(this.stride))), 0);
    let end = start.add(this.clipDuration);
    if (this.backpadLast) {
      const buffer = Fraction.max(0, end.sub(duration));
      start = Fraction.max(0, start.sub(buffer));
      end = start.add(this.clipDuration);
    }
    return [start, end];
  }

  /** The window after the one ending at `lastEnd` (0 for the first), as one pytorchvideo call. */
  next(lastEnd: Rational, duration: Rational, clipIndex = 0): ClipWindow {
    const d = seconds('the video duration', duration);
    const [start, end] = this.startEnd(Fraction.from(lastEnd), d);
    const [, nextEnd] = this.startEnd(end, d);
    const isLast = this.backpadLast ? nextEnd.sub(end).abs().lt(this.eps) : nextEnd.gt(d);
    return window(start, end, clipIndex, 0, isLast);
  }

  clips(duration: Rational): ClipWindow[] {
    const out: ClipWindow[] = [];
    let lastEnd = Fraction.ZERO;
    for (;;) {
      const w = this.next(lastEnd, duration, out.length);
      out.push(w);
      if (w.isLast) return out;
      lastEnd = w.exact.end;
    }
  }
}

@injectable()
export class UniformClipSamplerPlugin extends UniformClipSampler {
  constructor(@inject(PLUGIN_CONFIG) options: UniformClipOptions) {
    super(options);
  }
}

export const plugin = definePlugin({
  kind: 'sampler',
  name: 'uniform',
  description: 'clip windows every stride seconds through the video (pytorchvideo UniformClipSampler, exact fractions)',
  schema: {
    type: 'object',
    properties: {
      clip_duration: { ...RATIONAL_SCHEMA, description: 'window length in seconds (a number, or exact: "32/15")' },
      stride: { anyOf: [...RATIONAL_SCHEMA.anyOf, { type: 'null' }], default: null, description: 'seconds between window starts (null: clip_duration)' },
      backpad_last: { type: 'boolean', default: false, description: 'shift a last window that passes the end back to end at the video end' },
      eps: { type: 'number', exclusiveMinimum: 0, default: 1e-6, description: 'tolerance of the backpad last-window test' },
    },
    required: ['clip_duration'],
    additionalProperties: false,
  },
  create: UniformClipSamplerPlugin,
});
