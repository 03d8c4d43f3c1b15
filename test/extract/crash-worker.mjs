// The real extraction worker (dist/extract-worker.js) that dies mid-video: it exits with code 7 when the main
// thread takes the first batch (test/extract/extract-thread.test.ts: a worker crash).
import { parentPort } from 'node:worker_threads';
import '../../dist/extract-worker.js';

parentPort.on('message', (m) => {
  if (m.type === 'credit') process.exit(7);
});
