// `npm run bench` (engine part): training throughput of the heads on ONNX Runtime (CPU here), the cost of
// moving parameters and optimizer state in and out of the session, and the training step's FLOP rate
// against ONNX Runtime's own MatMul on the same shapes. tinybench medians.
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

/** The CLEP step's matrix products alone (forward shapes, forward + 2 backward products each), one session.run. */
async function matmulSession() {
  const g = new Graph({ name: 'matmuls' });
  const feeds = {};
  const layers = [
    [1536, 1536],
    [1536, 1536],
    [768, 1536],
    [1536, 1536],
  ];
  let flops = 0;
  layers.forEach(([i, o], k) => {
    const x = g.input(`x${k}`, 'float32', [N, i]);
    const w = g.input(`w${k}`, 'float32', [i, o]);
    const dy = g.input(`dy${k}`, 'float32', [N, o]);
    g.output(g.matmul(x, w), `y${k}`); // forward
    g.output(g.matmul(dy, g.transpose(w, [1, 0])), `dx${k}`); // input gradient
    g.output(g.matmul(g.transpose(x, [1, 0]), dy), `dw${k}`); // weight gradient
    feeds[`x${k}`] = new ort.Tensor('float32', floats(N * i, k), [N, i]);
    feeds[`w${k}`] = new ort.Tensor('float32', floats(i * o, k + 10), [i, o]);
    feeds[`dy${k}`] = new ort.Tensor('float32', floats(N * o, k + 20), [N, o]);
    flops += 3 * 2 * N * i * o;
  });
  const { session } = await createSession(toOnnxModel(g), { device: 'cpu', threads: THREADS });
  return { session, feeds, flops };
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

const bench = new Bench({ name: 'vidra engine', time: 4000, warmup: true, warmupIterations: 2 });
bench
  .add('CLEP head step (batch 128, K=1)', () => clep1.runner.run(clep1.batch))
  .add('CLEP head, 4 steps per run (batch 128, K=4)', () => clep4.runner.run(clep4.batch))
  .add('768→140 EQL head step (batch 128)', () => eql.runner.run(eql.batch))
  .add('CLEP parameters + AdamW state in and out (p·1)', () => io.session.run(io.feeds))
  .add('CLEP matrix products alone (fwd + bwd)', () => mm.session.run(mm.feeds));
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
const rows = [
  { benchmark: 'CLEP head, K=1', 'median ms/step': +stepMs.toFixed(2), 'examples/s': Math.round((N * 1000) / stepMs), target: '≥ 2,200 examples/s' },
  { benchmark: 'CLEP head, K=4 (4 steps per run)', 'median ms/step': +loopMs.toFixed(2), 'examples/s': Math.round((N * 1000) / loopMs), target: '≥ 2,200 examples/s' },
  { benchmark: '768→140 EQL head', 'median ms/step': +med['768→140 EQL head step (batch 128)'].toFixed(2), 'examples/s': Math.round((N * 1000) / med['768→140 EQL head step (batch 128)']), target: '-' },
  { benchmark: 'state in/out per run (CLEP)', 'median ms/step': +ioMs.toFixed(2), 'examples/s': '-', target: `${((100 * ioMs) / stepMs).toFixed(0)}% of a K=1 step` },
  { benchmark: 'matrix products alone', 'median ms/step': +mmMs.toFixed(2), 'examples/s': '-', target: `${(mm.flops / mmMs / 1e6).toFixed(1)} GFLOP/s` },
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
  `FLOP rate of the training step vs MatMul alone on the same shapes: K=1 ${((100 * mmMs) / stepMs).toFixed(0)}%, K=4 ${((100 * mmMs) / loopMs).toFixed(0)}% (target ≥ 70%)`,
);
