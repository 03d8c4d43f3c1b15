// A worker thread that drives a frame source (test/video/worker.test.ts): reopens it from its description,
// decodes and preprocesses each requested clip, and moves the tensor back (transfer, no copy).
import { parentPort, workerData } from 'node:worker_threads';
import { clipTensor, sourceFrom } from '../../dist/index.js';

const source = sourceFrom(workerData.description);
parentPort.on('message', async ({ id, indices }) => {
  try {
    const clip = clipTensor(await source.getBatch(indices), workerData.spatial);
    parentPort.postMessage({ id, clip }, [clip.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: err.message });
  }
});
