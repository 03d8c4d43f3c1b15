// `npm run bench` (engine part): training throughput of the heads on ONNX Runtime (CPU here), the cost of
// moving parameters and optimizer state in and out of the session, the training step's FLOP rate against
// ONNX Runtime's own MatMul running the same products, and the least a CLEP step can cost on this machine.
// tinybench medians.
import ort from 'onnxruntime-node';
import { Bench } from 'tinybench';
import { createPlugin, createSession, Graph, mulberry32 as random, toOnnxModel, TrainStepRunner } from '../dist/index.js';

const THREADS = 2;
const N = 128;


const floats = (n, seed) => {
  const r = random(seed);
  return Float32Array.from({ length: n }, () => 2 * r() - 1);
};

async function clepRunner(K) {
  const spec = {
    model: createPlugin('model', 'clip_projection', { video_dim: 1536, text_dim: 768, hidden_dim: 1536, embed_dim: 1536, depth: 2, normalize: false }),
    loss: createPlugin('loss', 'infonce', { variant: 'clep' }),
    optimizer: createPlugin('optimizer', 'adamw', { lr: 1e-3, betas: [0.9, 0.98], eps: 1e-6, weight_decay: 0.1 }),
    batchSize: N,
    dtype: 'float32',
    stepsPerRun: K,
  };
  const runner = await TrainStepRunner.create(spec, { seed: 0, device: 'cpu', threads: THREADS });
  const batch = { inputs: { video: floats(K * N * 1536, 1), text: floats(K * N * 768, 2) }, lrs: new Array(K).fill(1e-4) };
  return { runner, batch, K };
}

async function eqlRunner() {
  const C = 140;
  const counts = Array.from({ length: C }, (_, c) => Math.max(1, Math.round(5000 * Math.exp(-c / 20))));
  const spec = {
    model: createPlugin('model', 'linear', { in_dim: 768, out_dim: C }),
    loss: createPlugin('loss', 'eql', { variant: 'animal_kingdom' }),
    optimizer: createPlugin('optimizer', 'adamw', { lr: 1.5e-4 }),
    batchSize: N,
    numClasses: C,
    classCounts: counts,
    dtype: 'float32',
  };
  const runner = await TrainStepRunner.create(spec, { seed: 0, device: 'cpu', threads: THREADS });
  const r = random(3);
  const targets = Float32Array.from({ length: N * C }, () => (r() < 0.03 ? 1 : 0));
  return { runner, batch: { inputs: { x: floats(N * 768, 4) }, targets, lrs: [1.5e-4] } };
}

/** A graph that only passes the CLEP head's parameters and AdamW state through (p·1): the cost of moving them. */
async function stateOnlySession(shapes) {
  const g = new Graph({ name: 'state_io' });
  const feeds = {};
  shapes.forEach((shape, i) => {
    for (const s of ['p', 'm', 'v']) {
      const name = `${s}${i}`;
      g.output(g.mul(g.input(name, 'float32', shape), 1), `out_${name}`);
      feeds[name] = new ort.Tensor('float32', floats(shape.reduce((a, b) => a * b, 1), i), shape);
    }
  });
  const { session } = await createSession(toOnnxModel(g), { device: 'cpu', threads: THREADS });
  return { session, feeds };
}

/**
 * The matrix products one CLEP step runs, alone in one session.run: each layer's forward Gemm and weight
 * gradient, the input gradients of the two upper layers (the step drops those of its data inputs), and the
 * three products of the logits. Each product is summed to a scalar so that the rate is MatMul's, not the
 * cost of copying outputs into JS.
 */
async function matmulSession() {
  const g = new Graph({ name: 'matmuls' });
  const feeds = {};
  const input = (name, shape, seed) => {
    feeds[name] = new ort.Tensor('float32', floats(shape[0] * shape[1], seed), shape);
    return g.input(name, 'float32', shape);
  };
  const products = [];
  let flops = 0;
  const product = (a, b, options) => {
    const y = g.gemm(a, b, null, options);
    const k = options.transA ? a.shape[0] : a.shape[1];
    flops += 2 * y.shape[0] * y.shape[1] * k;
    products.push(y);
  };
  const layers = [
    { name: 'video0', i: 1536, o: 1536, inputGradient: false },
    { name: 'video1', i: 1536, o: 1536, inputGradient: true },
    { name: 'text0', i: 768, o: 1536, inputGradient: false },
    { name: 'text1', i: 1536, o: 1536, inputGradient: true },
  ];
  layers.forEach(({ name, i, o, inputGradient }, k) => {
    const x = input(`x_${name}`, [N, i], k);
    const w = input(`w_${name}`, [o, i], k + 10); // torch layout [out, in], as the heads store it
    const dy = input(`dy_${name}`, [N, o], k + 20);
    product(x, w, { transB: true }); // forward
    product(dy, x, { transA: true }); // weight gradient
    if (inputGradient) product(dy, w, {}); // input gradient
  });
  const v = input('v', [N, 1536], 30);
  const t = input('t', [N, 1536], 31);
  const ds = input('ds', [N, N], 32);
  product(v, t, { transB: true }); // logits
  product(ds, t, {}); // their gradient for the video embeddings
  product(ds, v, { transA: true }); // and for the text embeddings
  products.forEach((y, k) => g.output(g.reduceSum(y), `sum${k}`));
  const { session } = await createSession(toOnnxModel(g), { device: 'cpu', threads: THREADS });
  return { session, feeds, flops };
}

/** One element-wise pass over the CLEP head's parameter count (a + b, summed): the machine's streaming rate. */
async function streamSession(size) {
  const g = new Graph({ name: 'stream' });
  const a = g.input('a', 'float32', [size]);
  const b = g.input('b', 'float32', [size]);
  g.output(g.reduceSum(g.add(a, b)), 'sum');
  const feeds = { a: new ort.Tensor('float32', floats(size, 40), [size]), b: new ort.Tensor('float32', floats(size, 41), [size]) };
  const { session } = await createSession(toOnnxModel(g), { device: 'cpu', threads: THREADS });
  return { session, feeds, bytes: 4 * 4 * size }; // read a, b; write a + b; read it again to sum
}

/** R(2+1)D-18 feature extraction (preprocessing + network, BN folded), seeded random weights. */
async function r2plus1d(batch) {
  const extractor = createPlugin('model', 'r2plus1d_18', { device: 'cpu', threads: THREADS });
  const clips = new Float32Array(batch * 16 * 112 * 112 * 3);
  for (let i = 0; i < clips.length; i++) clips[i] = (i * 2654435761) % 256;
  await extractor.extract(clips, batch); // compiles the session
  return { extractor, clips, batch };
}

const clep1 = await clepRunner(1);
const clep4 = await clepRunner(4);
const eql = await eqlRunner();
const paramShapes = Object.values(clep1.runner.parameters()).map((p) => p.shape);
const io = await stateOnlySession(paramShapes);
const mm = await matmulSession();
const parameterCount = paramShapes.reduce((n, shape) => n + shape.reduce((a, b) => a * b, 1), 0);
const stream = await streamSession(parameterCount);

const bench = new Bench({ name: 'vidra engine', time: 4000, warmup: true, warmupIterations: 2 });
bench
  .add('CLEP head step (batch 128, K=1)', () => clep1.runner.run(clep1.batch))
  .add('CLEP head, 4 steps per run (batch 128, K=4)', () => clep4.runner.run(clep4.batch))
  .add('768→140 EQL head step (batch 128)', () => eql.runner.run(eql.batch))
  .add('CLEP parameters + AdamW state in and out (p·1)', () => io.session.run(io.feeds))
  .add('CLEP matrix products alone (fwd + bwd)', () => mm.session.run(mm.feeds))
  .add('one element-wise pass over the CLEP parameters', () => stream.session.run(stream.feeds));
await bench.run();

// Each R(2+1)D call takes a second or more on 2 cores: a fixed number of runs.
const video = new Bench({ name: 'r2plus1d_18', time: 0, iterations: 5, warmup: false });
for (const b of [1, 4]) {
  const r = await r2plus1d(b);
  video.add(`R(2+1)D-18 16x112x112, batch ${b}`, () => r.extractor.extract(r.clips, r.batch));
}
await video.run();

const med = Object.fromEntries(bench.tasks.map((t) => [t.name, t.result.latency.p50]));
const stepMs = med['CLEP head step (batch 128, K=1)'];
const loopMs = med['CLEP head, 4 steps per run (batch 128, K=4)'] / 4;
const ioMs = med['CLEP parameters + AdamW state in and out (p·1)'];
const mmMs = med['CLEP matrix products alone (fwd + bwd)'];
// The least any step can cost here: its matrix products at MatMul's own rate, plus AdamW's unavoidable memory
// traffic (read parameter, gradient and both moments, write parameter and both moments) at the streaming rate.
const bytesPerMs = stream.bytes / med['one element-wise pass over the CLEP parameters'];
const optimizerFloorMs = (7 * 4 * parameterCount) / bytesPerMs;
const floorMs = mmMs + optimizerFloorMs;
const rate = (ms) => mm.flops / ms / 1e6; // GFLOP/s: the step runs exactly the products of the MatMul session
const rows = [
  { benchmark: 'CLEP head, K=1', 'median ms/step': +stepMs.toFixed(2), 'examples/s': Math.round((N * 1000) / stepMs), target: '≥ 2,200 examples/s' },
  { benchmark: 'CLEP head, K=4 (4 steps per run)', 'median ms/step': +loopMs.toFixed(2), 'examples/s': Math.round((N * 1000) / loopMs), target: '≥ 2,200 examples/s' },
  { benchmark: '768→140 EQL head', 'median ms/step': +med['768→140 EQL head step (batch 128)'].toFixed(2), 'examples/s': Math.round((N * 1000) / med['768→140 EQL head step (batch 128)']), target: '-' },
  { benchmark: 'state in/out per run (CLEP)', 'median ms/step': +ioMs.toFixed(2), 'examples/s': '-', target: `${((100 * ioMs) / stepMs).toFixed(0)}% of a K=1 step` },
  { benchmark: 'matrix products alone', 'median ms/step': +mmMs.toFixed(2), 'examples/s': '-', target: `${rate(mmMs).toFixed(1)} GFLOP/s` },
  { benchmark: 'AdamW memory traffic, at best', 'median ms/step': +optimizerFloorMs.toFixed(2), 'examples/s': '-', target: `${(bytesPerMs / 1e6).toFixed(1)} GB/s streamed` },
  { benchmark: 'CLEP step floor (the two above)', 'median ms/step': +floorMs.toFixed(2), 'examples/s': Math.round((N * 1000) / floorMs), target: 'the most this machine allows' },
  ...video.tasks.map((t, i) => ({
    benchmark: t.name,
    'median ms/step': +t.result.latency.p50.toFixed(0),
    'examples/s': +((1000 * [1, 4][i]) / t.result.latency.p50).toFixed(2),
    target: 'clips/s',
  })),
];
console.log(`vidra engine on node ${process.version}, onnxruntime ${ort.env.versions.node}, ${THREADS} threads, CPU`);
console.table(rows);
console.log(
  `FLOP rate of the training step vs MatMul alone on the same products: K=1 ${((100 * rate(stepMs)) / rate(mmMs)).toFixed(0)}%, ` +
    `K=4 ${((100 * rate(loopMs)) / rate(mmMs)).toFixed(0)}% (target ≥ 70%)`,
);
