// The prefetch worker thread (its own build entry, dist/prefetch-worker.js): builds the dataset the main
// thread describes from its plugin config, then answers index batches in the order they arrive.

import { parentPort, workerData } from 'node:worker_threads';
import { fromPlain, type DictNode } from '../../core/config/node.ts';
import { container } from '../../core/plugins/di.ts';
import { instantiate } from '../../core/plugins/instantiate.ts';
import { loadPluginModule } from '../../core/plugins/loader.ts';
import { PluginRegistry } from '../../core/plugins/registry.ts';
import type { Dataset, DatasetSource } from './dataset.ts';
import { datasetPlugins } from './index.ts';
import { toWire, transferList, type FromWorker, type ToWorker, type WorkerSetup } from './prefetch-protocol.ts';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function build(): Promise<Dataset> {
  // Of the built-ins, only the datasets: the rest would load onnxruntime-node into this thread for nothing.
  const registry = new PluginRegistry();
  for (const def of datasetPlugins) registry.register(def);
  for (const m of setup.modules) await loadPluginModule(registry, m.spec, m.root);
  const node = fromPlain(setup.config) as DictNode;
  const source = instantiate<DatasetSource>(node, { container: container.createChildContainer(), registry, kind: 'dataset', path: setup.path }) as DatasetSource;
  return source.load(setup.split);
}

// Requests that arrive while the dataset loads wait here; then each is read synchronously, in order.
const queue: ToWorker[] = [];
let dataset: Dataset | undefined;

function drain(): void {
  if (!dataset) return;
  for (let m = queue.shift(); m; m = queue.shift()) {
    try {
      const batch = dataset.getBatch(m.indices);
      send({ type: 'batch', id: m.id, batch }, transferList(batch));
    } catch (err) {
      send({ type: 'error', id: m.id, error: toWire(err) });
    }
  }
}

port.on('message', (m: ToWorker) => {
  queue.push(m);
  drain();
});

build().then(
  (d) => {
    dataset = d;
    send({ type: 'ready', length: d.length });
    drain();
  },
  (err) => send({ type: 'failed', error: toWire(err) }),
);
