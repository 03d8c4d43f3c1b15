// A source of RGB frames by index, decord-style (`len`, `fps`, `get_batch`): the caller decides which
// frames (sampling.ts computes them), the source only decodes. Two kinds: video files (ffmpeg, below) and
// frame folders (frames.ts). Sources are rebuilt from plain data (`describe()` → `openSource`) so that a
// worker thread can drive one without probing again; frame batches own their buffers (transferable).

import { resolveBinaries, type BinaryOptions, type Binaries } from './binaries.ts';
import { readFrameRun, type FrameRun } from './decode.ts';
import { VideoError } from './errors.ts';
import { probeVideo, type VideoMeta } from './probe.ts';

/** `frames` RGB frames, [frames, height, width, 3] uint8, row-major. */
export interface FrameBatch {
  data: Uint8Array;
  frames: number;
  height: number;
  width: number;
  /** The frame indices, in the batch's order. */
  indices: number[];
}

export interface FrameSource {
  readonly kind: 'video' | 'frames';
  readonly path: string;
  /** Number of frames. */
  readonly length: number;
  /** Average frame rate. */
  readonly fps: number;
  readonly width: number;
  readonly height: number;
  /** Presentation time of each frame in seconds, from the first. */
  readonly timestamps: readonly number[];
  readonly duration: number;
  /** The frames at `indices` (any order, repeats allowed), in that order. */
  getBatch(indices: readonly number[]): Promise<FrameBatch>;
}

/** Throws a VideoError naming the source and the first bad index. */
export function checkIndices(source: Pick<FrameSource, 'kind' | 'path' | 'length'>, indices: readonly number[]): void {
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= source.length) {
      throw new VideoError(
        `${source.kind === 'video' ? 'video' : 'frame folder'} '${source.path}': frame index ${i} is out of range: it has ${source.length} frames (0–${source.length - 1})`,
      );
    }
  }
}

/**
 * Consecutive runs that cover the sorted unique `indices`: a gap of more than `maxGap` frames starts a new run
 * (a seek), a smaller one is decoded through. Pure, for planning and tests.
 */
export function planRuns(indices: readonly number[], maxGap: number): Array<{ start: number; count: number }> {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const runs: Array<{ start: number; count: number }> = [];
  for (const i of sorted) {
    const last = runs[runs.length - 1];
    if (last && i - (last.start + last.count) < maxGap) last.count = i - last.start + 1;
    else runs.push({ start: i, count: 1 });
  }
  return runs;
}

export interface VideoSourceOptions extends BinaryOptions {
  /** Gap in frames beyond which getBatch seeks instead of decoding through; default: 2 s of frames. */
  maxGap?: number;
}

/** Plain data that reopens a source (in a worker thread) without probing it again. */
export type SourceDescription =
  | { kind: 'video'; meta: VideoMeta; binaries: Binaries; maxGap?: number }
  | { kind: 'frames'; path: string; files: string[]; fps: number; width: number; height: number };

/** A video file decoded by ffmpeg. */
export class VideoSource implements FrameSource {
  readonly kind = 'video';
  readonly maxGap: number;

  constructor(
    readonly meta: VideoMeta,
    readonly binaries: Binaries,
    maxGap?: number,
  ) {
    this.maxGap = maxGap ?? Math.max(1, Math.round(2 * meta.fps));
  }

  static async open(path: string, options: VideoSourceOptions = {}): Promise<VideoSource> {
    const binaries = resolveBinaries(options);
    return new VideoSource(await probeVideo(path, binaries.ffprobe), binaries, options.maxGap);
  }

  get path() {
    return this.meta.path;
  }
  get length() {
    return this.meta.frameCount;
  }
  get fps() {
    return this.meta.fps;
  }
  get width() {
    return this.meta.width;
  }
  get height() {
    return this.meta.height;
  }
  get timestamps() {
    return this.meta.timestamps;
  }
  get duration() {
    return this.meta.duration;
  }

  describe(): SourceDescription {
    return { kind: 'video', meta: this.meta, binaries: this.binaries, maxGap: this.maxGap };
  }

  /** One ffmpeg pass per run of close indices (planRuns); each byte is copied once, pipe → batch. */
  async getBatch(indices: readonly number[]): Promise<FrameBatch> {
    checkIndices(this, indices);
    const frameBytes = this.width * this.height * 3;
    const data = new Uint8Array(indices.length * frameBytes);
    // Each wanted frame goes to its first slot, then is copied to its repeats.
    const slots = new Map<number, number[]>();
    indices.forEach((i, slot) => {
      const s = slots.get(i);
      if (s) s.push(slot);
      else slots.set(i, [slot]);
    });
    const sink = {
      target: (i: number) => {
        const s = slots.get(i);
        return s ? data.subarray(s[0]! * frameBytes, (s[0]! + 1) * frameBytes) : null;
      },
      done: (i: number, frame: Uint8Array | null) => {
        for (const slot of slots.get(i)?.slice(1) ?? []) data.set(frame!, slot * frameBytes);
      },
    };
    for (const run of planRuns(indices, this.maxGap)) {
      await readFrameRun(this.meta, this.binaries.ffmpeg, run.start, run.count, sink).finished;
    }
    return { data, frames: indices.length, height: this.height, width: this.width, indices: [...indices] };
  }

  /**
   * Every frame of [start, end) in order from one ffmpeg process (a whole-video pass: extraction); at most
   * `ahead` decoded frames wait for the consumer before ffmpeg is paused. A frame's `data` is lent: it is
   * valid until the generator is resumed, then its buffer takes a later frame — copy what must outlive that.
   */
  async *frames(options: { start?: number; end?: number; ahead?: number } = {}): AsyncGenerator<{ index: number; data: Uint8Array }> {
    const start = options.start ?? 0;
    const end = options.end ?? this.length;
    if (end <= start) return;
    checkIndices(this, [start, end - 1]);
    const frameBytes = this.width * this.height * 3;
    const ahead = options.ahead ?? 4;
    const queue: Array<{ index: number; data: Uint8Array }> = [];
    // Buffers the consumer has handed back. A fresh multi-megabyte buffer per frame costs page faults and
    // GC of external memory that, at 1080p, halved the frame rate (bench/video.mjs); at most ahead + 2 exist.
    const free: Uint8Array[] = [];
    let wake: (() => void) | undefined;
    let release: (() => void) | undefined;
    let failure: unknown;
    let ended = false;
    const run: FrameRun = readFrameRun(this.meta, this.binaries.ffmpeg, start, end - start, {
      // Not zero-filled: every byte is written.
      target: () => free.pop() ?? Buffer.allocUnsafeSlow(frameBytes),
      done: (index, data) => {
        queue.push({ index, data: data! });
        wake?.();
        if (queue.length >= ahead) return new Promise<void>((r) => (release = r));
      },
    });
    run.finished.then(
      () => ((ended = true), wake?.()),
      (err) => ((failure = err), (ended = true), wake?.()),
    );
    try {
      for (;;) {
        const next = queue.shift();
        if (next) {
          if (queue.length < ahead && release) {
            const r = release;
            release = undefined;
            r();
          }
          yield next;
          free.push(next.data);
          continue;
        }
        if (ended) break;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
      if (failure) throw failure;
    } finally {
      run.stop();
    }
  }
}
