// The moving-shapes videos: small H.264 clips of one coloured shape crossing a dark background, drawn by
// ffmpeg's lavfi (`color` source + `geq`), written on demand like the other synthetic data. Class = shape ×
// direction (circle, square × left, right, up, down: 8 classes); colours, sizes, start offsets and speeds vary
// per clip from a seeded stream, so only the shape and its motion tell the class.
//
// Layout of `<root>/moving_shapes/v<version>-seed<seed>/` (the `video_clips` layout): videos/<name>.mp4,
// classes.txt (one class name a line), train.csv and val.csv (`path,label`, path relative to the folder).
// Generated in a temporary folder renamed into place, so concurrent jobs never see a partial dataset.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveBinary } from '../../core/video/index.ts';
import { mulberry32 } from '../../core/random.ts';
import { ProgressBar } from '../../core/run/progress.ts';

const run = promisify(execFile);

/** Bump when the generated videos change: a cached set of another version is not reused. */
export const MOVING_SHAPES_VERSION = 2;

export const SHAPES = ['circle', 'square'] as const;
export const DIRECTIONS = ['left', 'right', 'up', 'down'] as const;
export const MOVING_SHAPES_CLASSES = SHAPES.flatMap((s) => DIRECTIONS.map((d) => `${s}_${d}`));

export interface MovingShapesOptions {
  seed: number;
  /** Clips per class in each split. */
  perClass: { train: number; val: number };
  /** Frame side in pixels, frames per clip and frame rate. */
  size: number;
  frames: number;
  fps: number;
}

export const MOVING_SHAPES_DEFAULTS: Omit<MovingShapesOptions, 'seed'> = { perClass: { train: 4, val: 2 }, size: 64, frames: 16, fps: 8 };

interface Clip {
  name: string;
  label: number;
  filter: string;
}

/** The lavfi graph of one clip: the shape's centre moves linearly over the clip (T is the time in seconds). */
export function clipFilter(label: number, o: MovingShapesOptions, u: () => number): string {
  const shape = SHAPES[Math.floor(label / DIRECTIONS.length)]!;
  const dir = DIRECTIONS[label % DIRECTIONS.length]!;
  const S = o.size;
  const r = Math.round(S * (0.14 + 0.06 * u()));
  const seconds = o.frames / o.fps;
  // Travel across most of the frame; the other coordinate stays put at a random offset.
  const span = (S - 2 * r) * (0.7 + 0.3 * u());
  const from = r + (S - 2 * r - span) * u();
  const across = r + (S - 2 * r) * u();
  const v = span / seconds;
  const moving = dir === 'right' || dir === 'down' ? `(${from.toFixed(2)}+${v.toFixed(3)}*T)` : `(${(from + span).toFixed(2)}-${v.toFixed(3)}*T)`;
  const [cx, cy] = dir === 'left' || dir === 'right' ? [moving, across.toFixed(2)] : [across.toFixed(2), moving];
  const inside = shape === 'circle' ? `lte(hypot(X-${cx},Y-${cy}),${r})` : `lte(max(abs(X-${cx}),abs(Y-${cy})),${r})`;
  // A bright colour on a near-black background: the colour varies, the contrast does not.
  const colour = [0, 1, 2].map(() => 160 + Math.floor(96 * u()));
  const bg = [0, 1, 2].map(() => Math.floor(24 * u()));
  const chan = (c: number) => `if(${inside},${colour[c]},${bg[c]})`;
  return `color=c=black:s=${S}x${S}:r=${o.fps}:d=${seconds},format=rgb24,geq=r='${chan(0)}':g='${chan(1)}':b='${chan(2)}',format=yuv420p`;
}

/** Encodes each lavfi graph's first `frames` frames as H.264 at `out`, two encoders at a time (each is mostly process start-up). */
export async function encodeClips(clips: ReadonlyArray<{ filter: string; out: string }>, frames: number, encoded?: (count: number) => void): Promise<void> {
  const ffmpeg = resolveBinary('ffmpeg').path;
  // Two encoders at a time: each is mostly process start-up.
  for (let k = 0; k < clips.length; k += 2) {
    const pair = clips.slice(k, k + 2);
    await Promise.all(
      pair.map((c) =>
        run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', c.filter, '-frames:v', String(frames), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p', '-y', c.out]),
      ),
    );
    encoded?.(pair.length);
  }
}

/** Writes the dataset into `dir` (which must not exist). */
export async function writeMovingShapes(dir: string, o: MovingShapesOptions): Promise<void> {
  const u = mulberry32(o.seed);
  mkdirSync(join(dir, 'videos'), { recursive: true });
  writeFileSync(join(dir, 'classes.txt'), `${MOVING_SHAPES_CLASSES.join('\n')}\n`);
  const bar = new ProgressBar('generate moving_shapes', (o.perClass.train + o.perClass.val) * MOVING_SHAPES_CLASSES.length, undefined, { unit: 'videos' });
  let made = 0;
  for (const split of ['train', 'val'] as const) {
    const clips: Clip[] = [];
    for (let i = 0; i < o.perClass[split]; i++) {
      MOVING_SHAPES_CLASSES.forEach((cls, label) => clips.push({ name: `${split}_${cls}_${i}`, label, filter: clipFilter(label, o, u) }));
    }
    await encodeClips(clips.map((c) => ({ filter: c.filter, out: join(dir, 'videos', `${c.name}.mp4`) })), o.frames, (n) => bar.update((made += n)));
    if (split === 'val') bar.done();
    writeFileSync(join(dir, `${split}.csv`), `path,label\n${clips.map((c) => `videos/${c.name}.mp4,${MOVING_SHAPES_CLASSES[c.label]}`).join('\n')}\n`);
  }
}

/** The dataset folder under `root`, generated first if missing. */
export async function ensureMovingShapes(root: string, seed: number, o: Omit<MovingShapesOptions, 'seed'> = MOVING_SHAPES_DEFAULTS): Promise<string> {
  const dir = join(root, 'moving_shapes', `v${MOVING_SHAPES_VERSION}-seed${seed}-${o.size}px-${o.frames}f-${o.perClass.train}x${o.perClass.val}`);
  if (!existsSync(dir)) await generateInPlace(dir, (tmp) => writeMovingShapes(tmp, { ...o, seed }));
  return dir;
}

/** Runs `write` on a temporary sibling of `dir` and renames it into place, so no job sees a partial folder. */
export async function generateInPlace(dir: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    await write(tmp);
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Another job generated it meanwhile (the same seed gives the same videos): use that one.
      if (!existsSync(dir)) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
