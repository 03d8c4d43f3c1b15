// The prefetch worker thread (its own build entry, dist/prefetch-worker.js): builds the dataset the main
// thread describes from its plugin config, then answers index batches in the order they arrive.

import { parentPort, workerData } from 'node:worker_threads';
import { fromPlain, type DictNode } from '../../core/config/node.ts';
import { container } from '../../core/plugins/di.ts';
import { instantiate } from '../../core/plugins/instantiate.ts';
import { loadPluginModule } from '../../core/plugins/loader.ts';
import { PluginRegistry } from '../../core/plugins/registry.ts';
import type { Dataset, DatasetSource } from './dataset.ts';
import type { BatchSource } from './prefetch.ts';
import { isClipDataset } from './video-clips.ts';
import { datasetPlugins } from './index.ts';
import { toWire, transferList, type FromWorker, type ToWorker, type WorkerSetup } from './prefetch-protocol.ts';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function build(): Promise<BatchSource> {
  // Of the built-ins, only the datasets: the rest would load onnxruntime-node into this thread for nothing.
  const registry = new PluginRegistry();
  for (const def of datasetPlugins) registry.register(def);
  for (const m of setup.modules) await loadPluginModule(registry, m.spec, m.root);
  const node = fromPlain(setup.config) as DictNode;
  const source = instantiate<DatasetSource>(node, { container: container.createChildContainer(), registry, kind: 'dataset', path: setup.path }) as DatasetSource;
  const data = await source.load(setup.split);
  return setup.clips && isClipDataset(data) ? data.batches(setup.clips) : (data as Dataset);
}

// Requests that arrive while the dataset loads wait here; then each is read in order (clips: decoded
// asynchronously, one batch at a time, while the main thread runs the backbone on the one before).
const queue: ToWorker[] = [];
let dataset: BatchSource | undefined;
let reading = false;

async function drain(): Promise<void> {
  if (!dataset || reading) return;
  reading = true;
  for (let m = queue.shift(); m; m = queue.shift()) {
    try {
      const batch = await dataset.getBatch(m.indices);
      send({ type: 'batch', id: m.id, batch }, transferList(batch));
    } catch (err) {
      send({ type: 'error', id: m.id, error: toWire(err) });
    }
  }
  reading = false;
}

port.on('message', (m: ToWorker) => {
  queue.push(m);
  void drain();
});

build().then(
  (d) => {
    dataset = d;
    send({ type: 'ready', length: d.length });
    void drain();
  },
  (err) => send({ type: 'failed', error: toWire(err) }),
);
