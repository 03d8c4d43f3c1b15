// Video files through ffmpeg: metadata, every frame exact in every container, batches in any order,
// seeking == sequential, rotation, variable frame rate, and the errors of bad inputs.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../core/random.ts';
import { passthroughArgs } from '../../core/video/binaries.ts';
import { clipIndices, openSource, planRuns, randomClipStart, VideoError, VideoSource } from '../../core/video/index.ts';
import { ffmpeg, indexSource, indexVideo, indicesOf, LOSSLESS, tempDir } from './fixtures.ts';

const tmp = tempDir('video');
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
let files: Record<string, string>;

beforeAll(() => {
  files = {
    mp4: indexVideo(tmp.dir, 'i25', 'mp4', 25, 40),
    mkv: indexVideo(tmp.dir, 'i25', 'mkv', 25, 40),
    webm: indexVideo(tmp.dir, 'i25', 'webm', 25, 40),
    avi: indexVideo(tmp.dir, 'i25', 'avi', 25, 40),
    // 60 fps, 3 s, keyframe every 50 frames: clips must seek to a keyframe and decode through B-frames.
    long: join(tmp.dir, 'i60.mp4'),
  };
  ffmpeg([...indexSource(60, 180), ...LOSSLESS.mp4!, '-g', '50', files.long!]);
});
afterAll(() => tmp.remove());

describe('video metadata', () => {
  it.each(['mp4', 'mkv', 'webm', 'avi'])('%s: codec, size, fps, frame count, duration, timestamps', async (ext) => {
    const v = (await VideoSource.open(files[ext]!)) as VideoSource;
    const codec = { mp4: 'h264', mkv: 'ffv1', webm: 'vp9', avi: 'ffv1' }[ext];
    expect({ codec: v.meta.codec, width: v.width, height: v.height, rotation: v.meta.rotation, fps: v.fps, length: v.length, vfr: v.meta.variableFrameRate }).toEqual({
      codec,
      width: 32,
      height: 24,
      rotation: 0,
      fps: 25,
      length: 40,
      vfr: false,
    });
    expect(v.duration).toBeCloseTo(1.6, 6);
    v.timestamps.forEach((t, i) => expect(t).toBeCloseTo(i / 25, 6));
  });
});

describe('reading frames', () => {
  it.each(['mp4', 'mkv', 'webm', 'avi'])('%s: every frame read back, sequentially and as one batch, has exactly its index', async (ext) => {
    const v = (await VideoSource.open(files[ext]!)) as VideoSource;
    const streamed: Array<number | string> = [];
    for await (const f of v.frames()) streamed.push(indicesOf({ data: f.data, frames: 1, width: 32, height: 24 })[0]!);
    expect(streamed).toEqual(range(40));
    expect(indicesOf(await v.getBatch(range(40)))).toEqual(range(40));
  });

  it('a batch in any order, with repeats and far gaps (seeks), comes back in that order', async () => {
    const v = await openSource(files.long!);
    const want = [179, 3, 3, 100, 0, 51, 52, 52, 178, 49, 50];
    const b = await v.getBatch(want);
    expect(b.frames).toBe(want.length);
    expect(b.data.byteLength).toBe(want.length * 32 * 24 * 3);
    expect(indicesOf(b)).toEqual(want);
  });

  it('frames(start, end) streams exactly that range from one process', async () => {
    const v = (await VideoSource.open(files.long!)) as VideoSource;
    const got: number[] = [];
    for await (const f of v.frames({ start: 57, end: 64, ahead: 2 })) {
      expect(indicesOf({ data: f.data, frames: 1, width: 32, height: 24 })[0]).toBe(f.index);
      got.push(f.index);
    }
    expect(got).toEqual([57, 58, 59, 60, 61, 62, 63]);
  });

  it('a consumer that stops early stops ffmpeg and the rest is not read', async () => {
    const v = (await VideoSource.open(files.long!)) as VideoSource;
    const got: number[] = [];
    for await (const f of v.frames({ ahead: 1 })) {
      got.push(f.index);
      if (got.length === 3) break;
    }
    expect(got).toEqual([0, 1, 2]);
  });

  it('seeking == sequential: random clips read by seeking equal the same frames of one sequential pass', async () => {
    const clips = (await VideoSource.open(files.long!)) as VideoSource;
    // maxGap 1: every frame of a clip its own seek.
    const frames = (await VideoSource.open(files.long!, { maxGap: 1 })) as VideoSource;
    const all = await clips.getBatch(range(clips.length));
    const frameBytes = 32 * 24 * 3;
    const rng = mulberry32(7);
    for (let c = 0; c < 16; c++) {
      const source = c < 12 ? clips : frames;
      const idx = clipIndices(source.timestamps, { start: randomClipStart(source.duration, 8 / 30, rng), frames: 8, fps: 30 });
      const clip = await source.getBatch(idx);
      idx.forEach((i, k) => expect(Buffer.from(clip.data.subarray(k * frameBytes, (k + 1) * frameBytes)).equals(Buffer.from(all.data.subarray(i * frameBytes, (i + 1) * frameBytes)))).toBe(true));
      expect(indicesOf(clip)).toEqual(idx);
    }
  }, 60_000);

  it('seeking == sequential on lossy H.264 with B-frames and an edit list (yuv420p, a moving pattern)', async () => {
    const file = join(tmp.dir, 'bframes.mp4');
    const moving = "color=s=64x48:r=30,format=rgb24,geq=r='mod(X*8+N*3,256)':g='mod(Y*8+N*5,256)':b='mod(N*2,256)'";
    ffmpeg(['-f', 'lavfi', '-i', moving, '-frames:v', '90', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-bf', '3', '-g', '24', file]);
    const v = (await VideoSource.open(file)) as VideoSource;
    expect([v.length, v.fps, v.meta.variableFrameRate]).toEqual([90, 30, false]);
    const all = await v.getBatch(range(90));
    const frameBytes = 64 * 48 * 3;
    for (const idx of [[1, 2, 3], [23, 24, 25, 26], [47, 60, 89], [89], [30, 31]]) {
      const clip = await v.getBatch(idx);
      idx.forEach((i, k) => expect(Buffer.from(clip.data.subarray(k * frameBytes, (k + 1) * frameBytes)).equals(Buffer.from(all.data.subarray(i * frameBytes, (i + 1) * frameBytes)))).toBe(true));
    }
    // Every frame differs, so the equalities above are not by accident.
    const distinct = new Set(range(90).map((i) => Buffer.from(all.data.subarray(i * frameBytes, (i + 1) * frameBytes)).toString('base64')));
    expect(distinct.size).toBe(90);
  });

  it('a stream copy cut mid-GOP: packets before the edit list start (flag D) are no frames; seeking == sequential', async () => {
    const moving = "color=s=64x48:r=30,format=rgb24,geq=r='mod(X*8+N*3,256)':g='mod(Y*8+N*5,256)':b='mod(N*2,256)'";
    const whole = join(tmp.dir, 'gop.mp4');
    const cut = join(tmp.dir, 'gop-cut.mp4');
    ffmpeg(['-f', 'lavfi', '-i', moving, '-frames:v', '90', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-bf', '3', '-g', '24', whole]);
    ffmpeg(['-ss', '1.1', '-i', whole, '-c', 'copy', cut]);
    const v = (await VideoSource.open(cut)) as VideoSource;
    // What the same ffmpeg decodes on its own is the oracle.
    const decoded = execFileSync(v.binaries.ffmpeg.path, ['-v', 'error', '-i', cut, ...passthroughArgs(v.binaries.ffmpeg), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 26 });
    const frameBytes = 64 * 48 * 3;
    expect(v.length).toBe(decoded.length / frameBytes);
    expect(v.length).toBeLessThan(66); // ffprobe lists 66 packets, some of them to discard
    const all = await v.getBatch(range(v.length));
    expect(Buffer.from(all.data).equals(decoded)).toBe(true);
    for (const idx of [[0, 1], [5, 6, 7], [v.length - 1]]) {
      const clip = await v.getBatch(idx);
      idx.forEach((i, k) => expect(Buffer.from(clip.data.subarray(k * frameBytes, (k + 1) * frameBytes)).equals(decoded.subarray(i * frameBytes, (i + 1) * frameBytes))).toBe(true));
    }
  });

  it('planRuns: close indices share one decode run, a gap beyond maxGap starts a seek', () => {
    expect(planRuns([9, 2, 3, 3, 5, 40, 41, 100], 4)).toEqual([
      { start: 2, count: 8 },
      { start: 40, count: 2 },
      { start: 100, count: 1 },
    ]);
    expect(planRuns([0, 1, 2], 1)).toEqual([{ start: 0, count: 3 }]);
    expect(planRuns([0, 2], 1)).toEqual([
      { start: 0, count: 1 },
      { start: 2, count: 1 },
    ]);
  });
});

describe('rotation', () => {
  it('a rotate=90 file is reported and read as displayed: size swapped, pixels turned 90° counterclockwise', async () => {
    const plain = join(tmp.dir, 'xy.mp4');
    const rotated = join(tmp.dir, 'xy-rot.mp4');
    ffmpeg(['-f', 'lavfi', '-i', `color=c=black:s=4x2:r=25,format=rgb24,geq=r='X*60+Y*10':g=N:b=0`, '-frames:v', '3', ...LOSSLESS.mp4!, plain]);
    ffmpeg(['-i', plain, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated]);
    const p = (await VideoSource.open(plain)) as VideoSource;
    const r = (await VideoSource.open(rotated)) as VideoSource;
    expect([p.width, p.height, p.meta.rotation]).toEqual([4, 2, 0]);
    expect([r.width, r.height, r.meta.rotation]).toEqual([2, 4, 90]);
    const red = (b: { data: Uint8Array; width: number; height: number }) =>
      Array.from({ length: b.height }, (_, y) => Array.from({ length: b.width }, (_, x) => b.data[(y * b.width + x) * 3]));
    expect(red(await p.getBatch([2]))).toEqual([
      [0, 60, 120, 180],
      [10, 70, 130, 190],
    ]);
    const rb = await r.getBatch([2, 1]);
    expect(red(rb)).toEqual([
      [180, 190],
      [120, 130],
      [60, 70],
      [0, 10],
    ]);
    expect([rb.data[1], rb.data[2 * 4 * 3 + 1]]).toEqual([2, 1]);
  });
});

describe('variable frame rate', () => {
  it('timestamps are the real pts: 10 frames at 25 fps then 15 at 10 fps', async () => {
    const file = join(tmp.dir, 'vfr.mkv');
    // pts in milliseconds (time base 1/1000 from the filter to the encoder).
    ffmpeg([...indexSource(25, 25), '-vf', "settb=1/1000,setpts='if(lt(N,10),N*40,400+(N-10)*100)'", '-vsync', 'passthrough', '-enc_time_base', '1:1000', ...LOSSLESS.mkv!, file]);
    const v = (await VideoSource.open(file)) as VideoSource;
    expect(v.meta.variableFrameRate).toBe(true);
    expect(v.length).toBe(25);
    const want = range(25).map((n) => (n < 10 ? n / 25 : 0.4 + (n - 10) / 10));
    v.timestamps.forEach((t, i) => expect(t).toBeCloseTo(want[i]!, 6));
    // The last frame lasts what its packet says (the encoder's 1/25 s here).
    expect(v.duration).toBeCloseTo(1.84, 6);
    // 10 fps over the whole video: before 0.4 s every 2.5th frame, then every frame.
    const idx = clipIndices(v.timestamps, { start: 0, frames: 19, fps: 10 });
    expect(idx).toEqual([0, 2, 5, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    expect(indicesOf(await v.getBatch(idx))).toEqual(idx);
    // Seeking into the slow part lands on the right frame.
    expect(indicesOf(await v.getBatch([17, 12]))).toEqual([17, 12]);
  });
});

describe('bad inputs', () => {
  it('a missing file', async () => {
    const missing = join(tmp.dir, 'nope.mp4');
    await expect(openSource(missing)).rejects.toThrow(new VideoError(`video '${missing}' does not exist (ENOENT)`));
  });

  it('a corrupt file', async () => {
    const bad = join(tmp.dir, 'bad.mp4');
    writeFileSync(bad, Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919) % 251)));
    await expect(VideoSource.open(bad)).rejects.toThrow(new VideoError(`video '${bad}': ffprobe cannot read it: Invalid data found when processing input`));
  });

  it('a truncated file: the frame that cannot be decoded is named', async () => {
    const cut = join(tmp.dir, 'cut.mkv');
    const bytes = readFileSync(files.mkv!);
    const v = (await VideoSource.open(files.mkv!)) as VideoSource;
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const truncated = new VideoSource({ ...v.meta, path: cut }, v.binaries);
    const err = await truncated.getBatch(range(40)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VideoError);
    expect((err as Error).message).toMatch(new RegExp(`^video '${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}': frame \\d+ could not be decoded: ffmpeg ended after \\d+ of frames 0–39 \\(probed 40 frames\\); the file may be truncated or corrupt`));
  });

  it('a video stream without frames', async () => {
    const empty = join(tmp.dir, 'empty.avi');
    ffmpeg(['-i', files.avi!, '-map', '0:v', '-c', 'copy', '-ss', '5', empty]);
    await expect(VideoSource.open(empty)).rejects.toThrow(new VideoError(`video '${empty}': has no video frames (its ffv1 stream is empty)`));
  });

  it('no video stream (audio only)', async () => {
    const audio = join(tmp.dir, 'audio.mkv');
    ffmpeg(['-f', 'lavfi', '-i', 'sine=d=0.2', audio]);
    await expect(VideoSource.open(audio)).rejects.toThrow(new VideoError(`video '${audio}': has no video stream (container matroska,webm)`));
  });

  it('an unsupported codec', async () => {
    const odd = join(tmp.dir, 'odd.avi');
    copyFileSync(files.avi!, odd);
    // The AVI's FourCC (stream header and bitmap header) names a codec no ffmpeg knows.
    writeFileSync(odd, Buffer.from(readFileSync(odd).toString('latin1').replaceAll('FFV1', 'QQQQ'), 'latin1'));
    await expect(VideoSource.open(odd)).rejects.toThrow(
      new VideoError(`video '${odd}': unsupported codec (tag QQQQ): ffprobe does not know its video stream's codec; re-encode it (e.g. to H.264)`),
    );
  });

  it('a frame index out of range names the video and the frame', async () => {
    const v = await openSource(files.mkv!);
    const msg = (i: number) => `video '${files.mkv}': frame index ${i} is out of range: it has 40 frames (0–39)`;
    await expect(v.getBatch([0, 40])).rejects.toThrow(new VideoError(msg(40)));
    await expect(v.getBatch([-1])).rejects.toThrow(new VideoError(msg(-1)));
    await expect(v.getBatch([1.5])).rejects.toThrow(new VideoError(msg(1.5)));
  });
});

describe('file names', () => {
  it("a relative name with a colon is a file, not an ffmpeg protocol ('clip:01.mkv')", async () => {
    copyFileSync(files.mkv!, join(tmp.dir, 'clip:01.mkv'));
    const script = `import { openSource } from ${JSON.stringify(join(process.cwd(), 'dist', 'index.js'))};
      const v = await openSource('clip:01.mkv');
      const b = await v.getBatch([7]);
      console.log(v.length, b.data[0]);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: tmp.dir, encoding: 'utf8' });
    expect(out).toBe('40 7\n');
  });
});

describe('process lifetime', () => {
  it('frames reach Node through a pipe whose name is gone at once: no temp entry is left, whether a read ends or stops early', async () => {
    const scratch = join(tmp.dir, 'tmpdir');
    mkdirSync(scratch);
    const script = `import { VideoSource } from ${JSON.stringify(join(process.cwd(), 'dist', 'index.js'))};
      const v = await VideoSource.open(${JSON.stringify(files.long)});
      let n = 0;
      for await (const f of v.frames()) n++;
      for await (const f of v.frames({ ahead: 1 })) break;
      const b = await v.getBatch([3, 150, 4]);
      console.log(n, b.frames);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, TMPDIR: scratch } });
    expect(out).toBe('180 3\n');
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('a frames() iterator dropped mid-video does not keep the process alive', async () => {
    const script = `import { VideoSource } from ${JSON.stringify(join(process.cwd(), 'dist', 'index.js'))};
      const v = await VideoSource.open(${JSON.stringify(files.long)});
      const it = v.frames({ ahead: 1 })[Symbol.asyncIterator]();
      const first = await it.next();
      console.log('read', first.value.index);`;
    const t = Date.now();
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(out).toBe('read 0\n');
    expect(Date.now() - t).toBeLessThan(20_000);
  });
});
