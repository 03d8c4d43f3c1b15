// Frame folders (Charades-style `<id>/<id>-000001.jpg`) decoded by sharp: order by frame number, sizes,
// values within JPEG tolerance, timing from the given fps, and the errors of bad folders.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameFolderSource, openSource, sourceFrom, VideoError } from '../../core/video/index.ts';
import { tempDir } from './fixtures.ts';

const tmp = tempDir('frames');
const W = 40;
const H = 30;
/** Frame n: R = 20·n, G = a horizontal ramp 6·x, B = 255 − 20·n. */
const pixel = (n: number, x: number) => [20 * n, 6 * x, 255 - 20 * n];
const folder = join(tmp.dir, 'ABC12');

async function writeFrame(file: string, n: number, w = W, h = H) {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(pixel(n, x), (y * w + x) * 3);
  await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 95 }).toFile(file);
}

beforeAll(async () => {
  mkdirSync(folder);
  // Written out of order, numbered past 9 so that name order and frame order differ without zero padding.
  for (const n of [11, 1, 2, 10, 3, 4, 5, 6, 7, 8, 9, 12]) await writeFrame(join(folder, `ABC12-${n}.jpg`), n - 1);
  writeFileSync(join(folder, 'notes.txt'), 'not a frame');
});
afterAll(() => tmp.remove());

describe('frame folders', () => {
  it('frames in number order, size and fps, values within JPEG tolerance', async () => {
    const s = (await openSource(folder, { fps: 24 })) as FrameFolderSource;
    expect(s.kind).toBe('frames');
    expect([s.length, s.width, s.height, s.fps]).toEqual([12, W, H, 24]);
    expect(s.files.slice(0, 3)).toEqual(['ABC12-1.jpg', 'ABC12-2.jpg', 'ABC12-3.jpg']);
    expect(s.files.slice(-3)).toEqual(['ABC12-10.jpg', 'ABC12-11.jpg', 'ABC12-12.jpg']);
    expect(s.timestamps[6]).toBeCloseTo(0.25, 12);
    expect(s.duration).toBeCloseTo(0.5, 12);
    const want = [11, 0, 0, 5];
    const b = await s.getBatch(want);
    expect([b.frames, b.width, b.height, b.data.length]).toEqual([4, W, H, 4 * W * H * 3]);
    let worst = 0;
    want.forEach((n, f) => {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const p = pixel(n, x);
          for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(b.data[((f * H + y) * W + x) * 3 + c]! - p[c]!));
        }
      }
    });
    expect(worst).toBeLessThanOrEqual(6);
  });

  it('reopened from its description (as a worker thread would) it reads the same frames', async () => {
    const s = await FrameFolderSource.open(folder, { fps: 30 });
    const again = sourceFrom(JSON.parse(JSON.stringify(s.describe())));
    expect(Buffer.from((await again.getBatch([3, 7])).data).equals(Buffer.from((await s.getBatch([3, 7])).data))).toBe(true);
  });

  it('errors: missing, empty, no fps, a frame of another size, an undecodable frame, an index out of range', async () => {
    const missing = join(tmp.dir, 'nope');
    await expect(FrameFolderSource.open(missing, { fps: 24 })).rejects.toThrow(new VideoError(`frame folder '${missing}' does not exist or cannot be listed (ENOENT)`));
    const empty = join(tmp.dir, 'empty');
    mkdirSync(empty);
    await expect(FrameFolderSource.open(empty, { fps: 24 })).rejects.toThrow(new VideoError(`frame folder '${empty}' has no frames (.jpg, .jpeg or .png files)`));
    await expect(openSource(folder)).rejects.toThrow(new VideoError(`frame folder '${folder}': give its frame rate (fps): a folder of images has none of its own`));
    await expect(FrameFolderSource.open(folder, { fps: 0 })).rejects.toThrow(new VideoError(`frame folder '${folder}': fps must be a positive number (the rate its frames were extracted at), got 0`));

    const odd = join(tmp.dir, 'odd');
    mkdirSync(odd);
    await writeFrame(join(odd, 'odd-000001.jpg'), 0);
    await writeFrame(join(odd, 'odd-000002.jpg'), 1, 20, 30);
    writeFileSync(join(odd, 'odd-000003.jpg'), 'not a jpeg');
    const s = await FrameFolderSource.open(odd, { fps: 24 });
    await expect(s.getBatch([0, 1])).rejects.toThrow(new VideoError(`frame folder '${odd}': frame 1 ('odd-000002.jpg') is 20x30, but its first frame is 40x30`));
    await expect(s.getBatch([2])).rejects.toThrow(/^frame '.*odd-000003\.jpg': cannot decode it: Input file contains unsupported image format$/);
    await expect(s.getBatch([3])).rejects.toThrow(new VideoError(`frame folder '${odd}': frame index 3 is out of range: it has 3 frames (0–2)`));
  });
});
