// The video_clips layout (classes.txt + <split>.csv of path,label) over frame folders: the centre clip of each
// video, resized and cropped for the backbone, and the errors of a bad folder.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Config } from '../../core/config/config.ts';
import { fromPlain, type DictNode } from '../../core/config/node.ts';
import { builtinRegistry } from '../../plugins/create.ts';
import { batchReader } from '../../plugins/datasets/prefetch.ts';
import { readClipFolder } from '../../plugins/datasets/video-clips.ts';
import { ensureMovingShapes } from '../../plugins/datasets/moving-shapes.ts';
import { probeVideo, resolveBinary } from '../../core/video/index.ts';
import { tempDir } from '../video/fixtures.ts';

const tmp = tempDir('video-clips');
const root = tmp.dir;

/** A folder of `n` PNG frames 12×8 (w×h), frame k a flat grey of 20·k (lossless: exact values). */
async function frameFolder(name: string, n: number) {
  mkdirSync(join(root, name));
  for (let k = 0; k < n; k++) {
    await sharp(Buffer.alloc(12 * 8 * 3, 20 * k), { raw: { width: 12, height: 8, channels: 3 } }).png().toFile(join(root, name, `${name}-${k + 1}.png`));
  }
}

beforeAll(async () => {
  await frameFolder('a', 10);
  await frameFolder('b', 3);
  writeFileSync(join(root, 'classes.txt'), 'walk\nrun\n');
  writeFileSync(join(root, 'train.csv'), 'path,label\na,run\nb,walk\n');
  writeFileSync(join(root, 'val.csv'), 'path,label\na,run\nb,jump\n');
  writeFileSync(join(root, 'test.csv'), 'file,label\na,run\n');
});
afterAll(() => tmp.remove());

describe('video_clips: one centre clip per video', () => {
  it('lists the split with class indices from classes.txt, paths relative to the folder', () => {
    const d = readClipFolder(root, 'train', 10, 'video_clips');
    expect(d.length).toBe(2);
    expect(d.numClasses).toEqual({ labels: 2 });
    expect(d.items).toEqual([
      { path: join(root, 'a'), label: 1 },
      { path: join(root, 'b'), label: 0 },
    ]);
  });

  it('takes the centre frames (a short video repeats its last), resized to the short side and centre-cropped', async () => {
    const d = readClipFolder(root, 'train', 10, 'video_clips');
    const clips = await d.getClips([0, 1], { frames: 4, size: 4, short_side: 4, fps: null });
    const per = 4 * 4 * 4 * 3;
    expect(clips.length).toBe(2 * per);
    const frameValues = (b: number) => Array.from({ length: 4 }, (_, t) => [...new Set(clips.subarray(b * per + t * 48, b * per + (t + 1) * 48))]);
    // 10 frames at 10 fps: the 0.4 s clip starts at 0.3 s, frames 3..6.
    expect(frameValues(0)).toEqual([[60], [80], [100], [120]]);
    // 3 frames (0.3 s) are shorter than the clip: from the first, the last repeated.
    expect(frameValues(1)).toEqual([[0], [20], [40], [40]]);
  });

  it('a label not in classes.txt, a bad header, a missing split: errors naming the file and line', () => {
    expect(() => readClipFolder(root, 'val', 10, 'video_clips')).toThrow(`${join(root, 'val.csv')}:3: label 'jump' is not in ${join(root, 'classes.txt')} (walk, run)`);
    expect(() => readClipFolder(root, 'test', 10, 'video_clips')).toThrow(`${join(root, 'test.csv')}:1: the header must be 'path,label'`);
    expect(() => readClipFolder(root, 'holdout', 10, 'video_clips')).toThrow(
      `${join(root, 'holdout.csv')}: does not exist (a video_clips folder holds classes.txt and <split>.csv with path,label)`,
    );
  });
});

describe('clips read ahead in the prefetch worker thread (asynchronous getBatch)', () => {
  it('the worker decodes and preprocesses the same clips as the main thread, in order', async () => {
    const spec = { frames: 4, size: 4, short_side: 4, fps: null };
    const d = readClipFolder(root, 'train', 10, 'video_clips');
    const notices: string[] = [];
    const options = { config: new Config(fromPlain({ data: { _target_: 'video_clips', root, fps: 10 } }) as DictNode), path: 'data', split: 'train', registry: builtinRegistry(), clips: spec, notice: (l: string) => notices.push(l) };
    const order = [[1], [0, 1], [0]];
    const read = async (depth: number) => {
      const reader = batchReader(d.batches(spec), { ...options, depth });
      try {
        const stream = reader.read(order);
        const got = [];
        for (const _ of order) got.push(await stream.next());
        return { thread: reader.thread, got };
      } finally {
        await reader.close();
      }
    };
    const worker = await read(2);
    const main = await read(0);
    expect([worker.thread, main.thread]).toEqual(['worker', 'main']);
    expect(notices).toEqual([]);
    expect(worker.got.map((b) => Array.from(b.targets.labels!.data))).toEqual([[0], [1, 0], [1]]);
    expect(worker.got.map((b) => b.inputs.clips!.shape)).toEqual([[1, 4, 4, 4, 3], [2, 4, 4, 4, 3], [1, 4, 4, 4, 3]]);
    worker.got.forEach((b, k) => expect(b.inputs.clips!.data).toEqual(main.got[k]!.inputs.clips!.data));
    expect(Array.from(worker.got[2]!.inputs.clips!.data.subarray(0, 3))).toEqual([60, 60, 60]);
  });
});

describe('moving_shapes: generated on demand', () => {
  it('two jobs generating at once get one folder: 8 classes × the clips per split, H.264 of the asked size and length', { timeout: 60_000 }, async () => {
    const shapes = join(root, 'gen');
    const o = { perClass: { train: 1, val: 1 }, size: 32, frames: 4, fps: 8 };
    const [a, b] = await Promise.all([ensureMovingShapes(shapes, 5, o), ensureMovingShapes(shapes, 5, o)]);
    expect(a).toBe(b);
    expect(readdirSync(join(shapes, 'moving_shapes'))).toEqual(['v2-seed5-32px-4f-1x1']);
    expect(readdirSync(join(a, 'videos')).length).toBe(16);
    const d = readClipFolder(a, 'val', 30, 'moving_shapes');
    expect(d.items.map((it) => it.label)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const meta = await probeVideo(d.items[0]!.path, resolveBinary('ffprobe'));
    expect([meta.width, meta.height, meta.codec, meta.frameCount, meta.fps]).toEqual([32, 32, 'h264', 4, 8]);
  });
});
