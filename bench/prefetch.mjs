// `npm run bench` (data part): how long the training loop waits for its batches when they are read in the
// main thread (task.prefetch=0) and when a worker thread reads them ahead (task.prefetch=2), on the default
// experiment's synthetic Animal Kingdom features (batch 32). Two kinds of compute between batches, both
// blocking the main thread as session.run does: a busy wait as long as a synchronous read (reading and
// computing cost the same, where overlap helps most), and real training steps of the default head and of an
// 8x wider one (1 ORT thread, so that the worker has a core of its own on a 2-core machine). The default
// head's step is shorter than a read: there prefetch can hide only the step's time. tinybench medians.
import { Bench } from 'tinybench';
import { batchReader, builtinRegistry, compose, createPlugin, TrainStepRunner } from '../dist/index.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const config = compose({ configDir: join(root, 'conf'), overrides: [] });
const plain = (path) => {
  const { _target_, ...options } = config.get(path);
  return [_target_, options];
};
const [dataTarget, dataOptions] = plain('data');
const train = await createPlugin('dataset', dataTarget, dataOptions).load('train');
const B = 32;
const sampler = createPlugin('sampler', 'random', { seed: 0, batch_size: B, drop_last: true }).bind({ size: train.length });
// Four epochs per pass: one pass is one benchmark sample.
const order = [0, 1, 2, 3].flatMap((e) => [...sampler.batches(e)]);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function busy(ms) {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

// A synchronous read's median time (second pass: warm) sets the simulated compute.
const readTimes = [0, 1].flatMap(() =>
  order.map((idx) => {
    const t = performance.now();
    train.getBatch(idx);
    return performance.now() - t;
  }),
);
const readMs = median(readTimes.slice(order.length));

const [modelTarget, modelOptions] = plain('model.head');
async function trainStep(width) {
  const model = createPlugin('model', modelTarget, { ...modelOptions, width });
  const runner = await TrainStepRunner.create(
    {
      model,
      loss: createPlugin('loss', ...plain('loss')),
      optimizer: createPlugin('optimizer', ...plain('optim')),
      batchSize: B,
      numClasses: train.numClasses.labels,
      classCounts: train.classCounts.labels,
      dtype: 'float32',
    },
    { seed: 0, device: 'cpu', threads: 1 },
  );
  const input = model.inputs()[0].name;
  return (batch) => runner.run({ inputs: { [input]: batch.inputs.features.data }, targets: batch.targets.labels.data, lrs: [1e-3] });
}
const computes = {
  [`busy wait ${readMs.toFixed(1)} ms (= a read)`]: () => busy(readMs),
  [`default head step (width ${modelOptions.width})`]: await trainStep(modelOptions.width),
  'the head 8x wider, step': await trainStep(8 * modelOptions.width),
};

const ITERATIONS = 8;
const bench = new Bench({ name: 'prefetch', time: 0, iterations: ITERATIONS, warmup: true, warmupIterations: 1 });
const waits = new Map();
const readers = [];
for (const [computeName, compute] of Object.entries(computes)) {
  for (const depth of [0, 2]) {
    const reader = batchReader(train, { depth, config, path: 'data', split: 'train', registry: builtinRegistry() });
    readers.push(reader);
    const name = `${computeName}, prefetch ${depth}`;
    waits.set(name, []);
    bench.add(name, async () => {
      const stream = reader.read(order);
      let wait = 0;
      for (let i = 0; i < order.length; i++) {
        const t = performance.now();
        const batch = await stream.next();
        wait += performance.now() - t;
        await compute(batch);
      }
      waits.get(name).push(wait);
    });
  }
}
await bench.run();
await Promise.all(readers.map((r) => r.close()));
train.close();

const rows = bench.tasks.map((task) => {
  const w = median(waits.get(task.name).slice(-ITERATIONS));
  return {
    benchmark: task.name,
    'median pass ms': +task.result.latency.p50.toFixed(1),
    'median wait ms': +w.toFixed(1),
    'wait ms/batch': +(w / order.length).toFixed(2),
  };
});
console.log(`${bench.name} on node ${process.version}: ${order.length} batches of ${B} per pass, synchronous read median ${readMs.toFixed(2)} ms/batch`);
console.table(rows);
for (const computeName of Object.keys(computes)) {
  const [sync, ahead] = [0, 2].map((d) => rows.find((r) => r.benchmark === `${computeName}, prefetch ${d}`));
  console.log(`${computeName}: wait with prefetch / without = ${(ahead['median wait ms'] / sync['median wait ms']).toFixed(3)}, pass time ratio ${(ahead['median pass ms'] / sync['median pass ms']).toFixed(3)}`);
}
