// A worker thread can drive a video source: reopened from plain data (no second probe), it decodes and
// preprocesses clips while the main thread is free, and the tensors equal the main thread's own.
// Runs the built library (dist/, `npm run build`), as the data prefetch worker does.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, expect, it } from 'vitest';
import { clipTensor, VIDEO_WORKER_OPTIONS, VideoSource } from '../../core/video/index.ts';
import { indexVideo, tempDir } from './fixtures.ts';

const tmp = tempDir('worker');
afterAll(() => tmp.remove());

it('clips decoded and preprocessed in a worker thread equal the main thread ones, in request order', async () => {
  const v = await VideoSource.open(indexVideo(tmp.dir, 'w', 'mp4', 25, 60));
  const spatial = { size: 16, short_side: 20 };
  const worker = new Worker(join(import.meta.dirname, 'worker-fixture.mjs'), { ...VIDEO_WORKER_OPTIONS, workerData: { description: v.describe(), spatial } });
  try {
    const clips = [
      [0, 1, 2, 3],
      [50, 52, 54, 56],
      [9, 9, 30, 59],
    ];
    const replies = new Map<number, { clip?: Float32Array; error?: string }>();
    const all = new Promise<void>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('message', (m: { id: number; clip?: Float32Array; error?: string }) => {
        replies.set(m.id, m);
        if (replies.size === clips.length) resolve();
      });
    });
    clips.forEach((indices, id) => worker.postMessage({ id, indices }));
    await all;
    for (const [id, indices] of clips.entries()) {
      const r = replies.get(id)!;
      expect(r.error).toBeUndefined();
      expect(r.clip).toEqual(clipTensor(await v.getBatch(indices), spatial));
    }
    // Errors come back as their message, naming the video.
    worker.postMessage({ id: 9, indices: [60] });
    const err = await new Promise<{ error?: string }>((resolve) => worker.once('message', resolve));
    expect(err.error).toBe(`video '${v.path}': frame index 60 is out of range: it has 60 frames (0–59)`);
  } finally {
    await worker.terminate();
  }
});
