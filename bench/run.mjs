// `npm run bench`: the config core's speed, measured with tinybench on the built library (dist/),
// which is what users run. Prints medians, and ratios against the targets of the config-core issue.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { compose, expandSweep, parseOverride } from '../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const configDir = join(root, 'conf');

// A 6-group experiment (data, loss, optim, scheduler, task, model with nested backbone and head) with 10 overrides.
const experiment = [
  '+model=slowfast',
  'loss=eql',
  'data=animal_kingdom',
  'optim.lr=1.5e-4',
  'data.batch_size=64',
  'seed=3',
  'scheduler.warmup_steps=10',
  'engine.threads=1',
  'optim.weight_decay=0.05',
  '+tags=[longtail,ak]',
];

// 4 losses x 10 learning rates x 5 batch sizes x 5 seeds = 1,000 jobs.
const sweep = ['+model=slowfast', 'data=animal_kingdom', 'loss=bce,focal,eql,ldam', 'optim.lr=range(1,11)', 'data.batch_size=8,16,32,64,128', 'seed=range(5)'];

const overrideTexts = [
  'optim.lr=1.5e-4',
  '+model=slowfast',
  'loss=bce,focal,eql',
  "name='run 1'",
  'data.sizes=[112,[224,256]]',
  '++vidra.run.dir=runs/${now:%H}',
  'x=range(0,1,0.25)',
  '~loss',
  'opts={a:1,b:{c:[1,2]}}',
  'flag=true',
];
const manyOverrides = Array.from({ length: 10_000 }, (_, i) => overrideTexts[i % overrideTexts.length]);

function composeSweep() {
  const jobs = expandSweep(sweep, {});
  for (const job of jobs) compose({ configDir, overrides: job }).toObject({ resolve: true });
  return jobs.length;
}

const jobsCount = composeSweep();
if (jobsCount !== 1000) throw new Error(`the sweep has ${jobsCount} jobs, not 1000`);

const bench = new Bench({ name: 'vidra config core', time: 2000, warmup: true });
bench
  .add('compose: 6-group experiment, 10 overrides', () => {
    compose({ configDir, overrides: experiment }).toObject({ resolve: true });
  })
  .add('parse 10,000 overrides', () => {
    for (const t of manyOverrides) parseOverride(t);
  });
await bench.run();
// A whole sweep takes most of a second: a fixed number of runs, not a time budget.
const sweepBench = new Bench({ name: 'sweep', time: 0, iterations: 7, warmup: false });
sweepBench.add('sweep: expand + compose 1,000 jobs', composeSweep);
await sweepBench.run();

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timeProcess(args, env = process.env, n = 10) {
  const times = [];
  for (let i = 0; i < n + 1; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
    if (i > 0) times.push(performance.now() - t); // the first run warms the OS file cache
  }
  return median(times);
}

const targets = {
  'compose: 6-group experiment, 10 overrides': 1,
  'sweep: expand + compose 1,000 jobs': 1500,
  'parse 10,000 overrides': null,
};
const rows = [...bench.tasks, ...sweepBench.tasks].map((task) => {
  const med = task.result.latency.p50;
  const target = targets[task.name];
  return {
    benchmark: task.name,
    'median ms': Number(med.toFixed(3)),
    samples: task.result.latency.samplesCount ?? task.result.latency.samples?.length,
    'target ms': target ?? '-',
    'median / target': target ? Number((med / target).toFixed(3)) : '-',
  };
});
const cli = [join(root, 'bin', 'vidra.mjs'), 'run', '--cfg', 'job'];
const cold = timeProcess(cli);
const bare = timeProcess(['-e', '0']);
rows.push({
  benchmark: 'CLI cold start: vidra run --cfg job (process)',
  'median ms': Number(cold.toFixed(1)),
  samples: 10,
  'target ms': 200,
  'median / target': Number((cold / 200).toFixed(3)),
});
rows.push({ benchmark: 'reference: node -e 0 (process)', 'median ms': Number(bare.toFixed(1)), samples: 10, 'target ms': '-', 'median / target': '-' });
// NODE_EXTRA_CA_CERTS (set on some machines, such as this sandbox) makes Node read a CA bundle at every
// start, before any of Vidra's code runs: measure without it too, to show what Vidra itself costs.
if (process.env.NODE_EXTRA_CA_CERTS) {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const coldNoCa = timeProcess(cli, env);
  const bareNoCa = timeProcess(['-e', '0'], env);
  rows.push({
    benchmark: 'CLI cold start, without NODE_EXTRA_CA_CERTS',
    'median ms': Number(coldNoCa.toFixed(1)),
    samples: 10,
    'target ms': 200,
    'median / target': Number((coldNoCa / 200).toFixed(3)),
  });
  rows.push({ benchmark: 'reference: node -e 0, without NODE_EXTRA_CA_CERTS', 'median ms': Number(bareNoCa.toFixed(1)), samples: 10, 'target ms': '-', 'median / target': '-' });
}
console.log(`${bench.name} on node ${process.version}`);
console.table(rows);
console.log(`CLI start-up above bare node: ${(cold - bare).toFixed(1)} ms (cold start / bare node = ${(cold / bare).toFixed(2)})`);
