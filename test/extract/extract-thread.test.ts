// Windows assembled in the extraction worker thread (task.prefetch > 0) against the main thread (0): the same
// feature bytes, the same error for a corrupt video (which fails alone), no ffmpeg left behind by an abort,
// and task.prefetch checked by the schema. Runs the built worker (dist/extract-worker.js, `npm run build`).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureExtractor } from '../../core/engine/backbone.ts';
import { FrameFolderSource, openSource, VideoError, VideoSource } from '../../core/video/index.ts';
import { extractThread, type ExtractThread } from '../../plugins/tasks/extract/extract-thread.ts';
import { extractVideo, type VideoFeatures } from '../../plugins/tasks/extract/video-features.ts';
import { experimentDir } from '../helpers/experiment.ts';
import { ffmpeg, indexVideo } from '../video/fixtures.ts';
import { featureContents, loadProbe, probeOverrides, writeProbeModel } from './probe.ts';

const FRAMES = 4;
const SIZE = 16;
const spatial = { size: SIZE, short_side: 24 };
// The scratch directory, where `vidra` runs the CLI on the repository's conf/.
const { dir: scratch, vidra } = experimentDir('extract-thread');
let probe: FeatureExtractor;
const threads: ExtractThread[] = [];

/** A thread that must not fall back to the main thread. */
function thread(prefetch: number): ExtractThread {
  const t = extractThread({ prefetch, notice: (line) => expect.fail(line) });
  threads.push(t);
  return t;
}

/** A lossy H.264 file of `seconds` of testsrc2 (real decoding, real rounding) at `fps`, 64x48. */
function h264(name: string, fps: number, seconds: number): string {
  const file = join(scratch, `${name}.mp4`);
  ffmpeg(['-f', 'lavfi', '-i', `testsrc2=s=64x48:r=${fps}:d=${seconds}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file]);
  return file;
}

/** A copy of `file` with its middle fifth overwritten: probes fine, fails while decoding. */
function corrupt(file: string, out: string): string {
  const b = readFileSync(file);
  for (let i = Math.floor(b.length * 0.4); i < Math.floor(b.length * 0.6); i++) b[i] = (i * 7919) & 255;
  writeFileSync(out, b);
  return out;
}

/**
 * The error without what differs between two runs of the same ffmpeg on the same file, in either thread:
 * the addresses its messages quote ([h264 @ 0x…]) and how many repeats of the last one it counted.
 */
const unaddressed = (s: string) => s.replace(/0x[0-9a-f]+/g, '0x…').replace(/repeated \d+ times/g, 'repeated N times');

const bytes = (f: VideoFeatures) => ({
  data: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength).toString('base64'),
  start: Array.from(f.start),
  end: Array.from(f.end),
  rows: f.rows,
  fps: f.fps,
  decodedFrames: f.decodedFrames,
});

beforeAll(async () => {
  probe = await loadProbe(join(scratch, 'probe.onnx'), FRAMES, SIZE);
});
afterAll(async () => {
  for (const t of threads) await t.close();
  await probe?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the worker thread assembles the same windows as the main thread', () => {
  it('byte-identical features of H.264 files (native rate and 25 → 30 fps) and a frame folder', async () => {
    const frames = join(scratch, 'frames');
    mkdirSync(frames);
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=10:d=2', join(frames, 'f-%03d.png')]);
    const inputs: Array<[string, { frames: number; stride: number; fps: number | null }, number]> = [
      [h264('n30', 30, 3), { frames: FRAMES, stride: 3, fps: null }, 4],
      [h264('r25', 25, 3), { frames: FRAMES, stride: 5, fps: 30 }, 3],
    ];
    const worker = thread(2);
    const deep = thread(5);
    const main = thread(0);
    for (const [file, window, batch] of inputs) {
      const v = await VideoSource.open(file);
      const here = bytes(await extractVideo(v, probe, spatial, window, batch, { thread: main }));
      expect(bytes(await extractVideo(v, probe, spatial, window, batch, { thread: worker }))).toEqual(here);
      expect(bytes(await extractVideo(v, probe, spatial, window, batch, { thread: deep }))).toEqual(here);
      expect(here.rows).toBeGreaterThan(10);
    }
    const folder = await FrameFolderSource.open(frames, { fps: 10 });
    const window = { frames: FRAMES, stride: 2, fps: 30 };
    const here = bytes(await extractVideo(folder, probe, spatial, window, 2, { thread: main }));
    expect(bytes(await extractVideo(folder, probe, spatial, window, 2, { thread: worker }))).toEqual(here);
    expect(worker.thread).toBe('worker');
  });

  it('stage times measured in the worker come back with the batches', async () => {
    const v = await VideoSource.open(h264('timed', 30, 2));
    const times = { decode: 0, preprocess: 0, model: 0 };
    await extractVideo(v, probe, spatial, { frames: FRAMES, stride: 4, fps: null }, 2, { thread: thread(2), times });
    expect(times.decode).toBeGreaterThan(0);
    expect(times.preprocess).toBeGreaterThan(0);
    expect(times.model).toBeGreaterThan(0);
  });
});

describe('a corrupt video fails alone, with the same error in both threads', () => {
  it('extractVideo: the VideoError naming the video, then the next video extracts in the same thread', async () => {
    const bad = await VideoSource.open(corrupt(h264('good', 30, 3), join(scratch, 'bad.mp4')));
    const good = await VideoSource.open(indexVideo(scratch, 'after', 'mkv', 30, 20, '64x48'));
    const window = { frames: FRAMES, stride: 4, fps: null };
    const messages: string[] = [];
    for (const t of [thread(0), thread(2)]) {
      const err = await extractVideo(bad, probe, spatial, window, 2, { thread: t }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VideoError);
      messages.push(unaddressed((err as Error).message));
      expect((await extractVideo(good, probe, spatial, window, 2, { thread: t })).rows).toBe(5);
    }
    expect(messages[0]).toContain(`video '${bad.path}': frame `);
    expect(messages[1]).toBe(messages[0]);
  });

  it('task=extract_features: failed_videos.json gives the same reason with task.prefetch=0 and 2; the other videos are identical', async () => {
    writeProbeModel(join(scratch, 'probe4.onnx'), FRAMES, SIZE);
    const dir = join(scratch, 'videos');
    mkdirSync(dir);
    copyFileSync(h264('a', 30, 2), join(dir, 'a.mp4'));
    corrupt(h264('b', 30, 3), join(dir, 'bad.mp4'));
    indexVideo(dir, 'c', 'mkv', 25, 40, '64x48');
    const base = [...probeOverrides(join(scratch, 'probe4.onnx'), FRAMES), 'task=extract_features', `io.video_dir=${dir}`, 'window.stride=4', 'task.batch_size=2'];
    const reasons: string[] = [];
    for (const prefetch of [0, 2]) {
      const r = await vidra([...base, `task.prefetch=${prefetch}`, `io.out_path=p${prefetch}.h5`, `vidra.run.dir=runs/p${prefetch}`]);
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).not.toContain('worker thread is gone');
      const failed = JSON.parse(readFileSync(join(scratch, 'runs', `p${prefetch}`, 'failed_videos.json'), 'utf8')) as Array<{ uid: string; reason: string }>;
      expect(failed.map((f) => f.uid)).toEqual(['bad']);
      reasons.push(unaddressed(failed[0]!.reason));
    }
    expect(reasons[1]).toBe(reasons[0]);
    const p0 = await featureContents(join(scratch, 'p0.h5'));
    expect(Object.keys(p0)).toEqual(['a', 'c']);
    expect(await featureContents(join(scratch, 'p2.h5'))).toEqual(p0);
  }, 60_000);
});

/** The ffmpeg processes this process has started and not yet reaped. */
const ffmpegChildren = () =>
  execFileSync('ps', ['-o', 'pid=,stat=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /ffmpeg/.test(l));

describe('an abort stops the video and its ffmpeg', () => {
  it.each([0, 2])('task.prefetch=%i: no ffmpeg child is left', async (prefetch) => {
    const v = await openSource(h264(`long${prefetch}`, 30, 10));
    const abort = new AbortController();
    let running: string[] = [];
    const err = await extractVideo(v, probe, spatial, { frames: FRAMES, stride: 4, fps: null }, 1, {
      thread: thread(prefetch),
      signal: abort.signal,
      progress: () => {
        running = ffmpegChildren();
        abort.abort(new Error('stop'));
      },
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('stop');
    expect(running).toHaveLength(1);
    // SIGKILLed at once; reaped by the thread that started it shortly after.
    for (let i = 0; i < 40 && ffmpegChildren().length; i++) await new Promise((r) => setTimeout(r, 50));
    expect(ffmpegChildren()).toEqual([]);
  });
});

describe('a worker thread that dies', () => {
  it('fails the video it was on, with a warning; the next videos are assembled in the main thread', async () => {
    const notices: string[] = [];
    const t = extractThread({ prefetch: 2, notice: (line) => notices.push(line), entry: new URL('./crash-worker.mjs', import.meta.url) });
    threads.push(t);
    const window = { frames: FRAMES, stride: 4, fps: null };
    const first = await VideoSource.open(h264('crash', 30, 3));
    const err = await extractVideo(first, probe, spatial, window, 2, { thread: t }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`video '${first.path}': the extraction worker thread stopped while preparing its windows (it exited (code 7))`);
    expect(notices).toEqual(['extraction: the worker thread is gone (it exited (code 7)): later videos are prepared in the main thread']);
    expect(t.thread).toBe('main');
    const next = await VideoSource.open(h264('after-crash', 30, 2));
    expect(bytes(await extractVideo(next, probe, spatial, window, 2, { thread: t }))).toEqual(bytes(await extractVideo(next, probe, spatial, window, 2)));
    // The dead thread's ffmpeg ends on its closed pipe.
    for (let i = 0; i < 40 && ffmpegChildren().some((l) => !/ Z/.test(l)); i++) await new Promise((r) => setTimeout(r, 50));
    expect(ffmpegChildren().filter((l) => !/ Z/.test(l))).toEqual([]);
  });
});

describe('task.prefetch', () => {
  it('a negative value is a schema error at its override (exit 2)', async () => {
    const r = await vidra(['task=extract_features', 'io.video_dir=.', 'task.prefetch=-1']);
    expect(r.stderr).toContain("override 'task.prefetch=-1' (argument 3): 'task.prefetch' must be >= 0 (got int -1)");
    expect(r.code).toBe(2);
  });
});
