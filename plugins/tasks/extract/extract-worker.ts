// The extraction worker thread (its own build entry, dist/extract-worker.js): reopens each video the main
// thread sends from its description and runs window-batches.ts over it, posting batches while it has credit.

import { parentPort } from 'node:worker_threads';
import { sourceFrom } from '../../../core/video/index.ts';
import { toWire } from '../../datasets/prefetch-protocol.ts';
import type { FromWorker, ToWorker } from './extract-protocol.ts';
import { windowBatches, type WindowBatch } from './window-batches.ts';

const port = parentPort!;
const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

interface Run {
  credit: number;
  stop: AbortController;
  wake?: () => void;
}

const runs = new Map<number, Run>();

async function run(m: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const r: Run = { credit: m.credit, stop: new AbortController() };
  runs.set(m.id, r);
  let batches: AsyncGenerator<WindowBatch> | undefined;
  try {
    batches = windowBatches(sourceFrom(m.source), m.spatial, m.window, m.batchSize, r.stop.signal);
    for (;;) {
      while (r.credit <= 0 && !r.stop.signal.aborted) await new Promise<void>((resolve) => (r.wake = resolve));
      if (r.stop.signal.aborted) break;
      const it = await batches.next();
      if (it.done) {
        send({ type: 'end', id: m.id });
        break;
      }
      r.credit--;
      send({ type: 'batch', id: m.id, batch: it.value }, [it.value.data.buffer as ArrayBuffer]);
    }
  } catch (err) {
    if (!r.stop.signal.aborted) send({ type: 'error', id: m.id, error: toWire(err) });
  } finally {
    // Ends the video's ffmpeg before saying so.
    await batches?.return(undefined);
    runs.delete(m.id);
    if (r.stop.signal.aborted) send({ type: 'stopped', id: m.id });
  }
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'start') {
    void run(m);
    return;
  }
  const r = runs.get(m.id);
  if (!r) {
    // Already ended: nothing runs for it.
    if (m.type === 'cancel') send({ type: 'stopped', id: m.id });
    return;
  }
  if (m.type === 'credit') r.credit++;
  else r.stop.abort(new Error('cancelled'));
  r.wake?.();
});
