// `npm run bench`: the slurm launcher's overhead. 100 no-op jobs (the test project's `succeed` task with
// no steps) as one array on a private single-node Slurm (test/slurm/cluster.mjs), and the same 100 jobs
// with local_parallel; medians side by side (BENCH_SLURM_REPEATS sweeps each, default 1). Skipped, with
// the reason, where Slurm cannot start.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster } from '../test/slurm/cluster.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_SLURM_JOBS ?? 100);
const REPEATS = Number(process.env.BENCH_SLURM_REPEATS ?? 1);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function project() {
  const dir = mkdtempSync(join(tmpdir(), 'vidra-bench-slurm-'));
  cpSync(join(root, 'test', 'fixtures', 'project'), dir, { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/**
 * One sweep of N no-op jobs, timed from the files it leaves (seconds): from the launch (multirun.yaml
 * written, every job composed) to the first job's start; the sweep's wall time from the launch to the last
 * job's end, per job (the per-task overhead: a no-op job's own run time is the third figure).
 */
function sweep(launcher, env) {
  const dir = project();
  try {
    const r = spawnSync(process.execPath, [join(root, 'bin', 'vidra.mjs'), 'run', '-m', ...launcher, 'vidra.sweep.dir=runs/b', 'task.steps=0', `seed=range(${N})`], {
      cwd: dir,
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`${launcher.join(' ')} exited ${r.status}: ${r.stderr.slice(-500)}`);
    const launched = statSync(join(dir, 'runs', 'b', 'multirun.yaml')).mtimeMs;
    const statuses = Array.from({ length: N }, (_, i) => JSON.parse(readFileSync(join(dir, 'runs', 'b', String(i), 'status.json'), 'utf8')));
    const firstStart = Math.min(...statuses.map((s) => Date.parse(s.started_at)));
    const lastEnd = Math.max(...statuses.map((s) => Date.parse(s.ended_at)));
    return { firstStart: (firstStart - launched) / 1000, perJob: (lastEnd - launched) / 1000 / N, run: median(statuses.map((s) => s.duration_s)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cpus = Math.max(16, availableParallelism() * 4);
let cluster;
try {
  cluster = await startCluster({ cpus });
} catch (err) {
  console.log(`slurm bench skipped: ${err.message}`);
  process.exit(0);
}
try {
  const nJobs = availableParallelism();
  const results = { slurm: [], local_parallel: [] };
  for (let i = 0; i < REPEATS; i++) {
    results.slurm.push(sweep(['vidra/launcher=slurm', 'vidra.launcher.poll_interval_s=0.5'], cluster.env));
    results.local_parallel.push(sweep(['vidra/launcher=local_parallel', `vidra.launcher.n_jobs=${nJobs}`], {}));
  }
  const row = (name, f) => `${name.padEnd(40)}${f(results.slurm).padStart(12)}${f(results.local_parallel).padStart(18)}`;
  const s = (key) => (rs) => `${median(rs.map((r) => r[key])).toFixed(2)} s`;
  console.log(`\n${N} no-op jobs, median of ${REPEATS} run(s) (slurm: ${cpus} task slots on one node; local_parallel: n_jobs=${nJobs})`);
  console.log(`${''.padEnd(40)}${'slurm'.padStart(12)}${'local_parallel'.padStart(18)}`);
  console.log(row('submission to first job start', s('firstStart')));
  console.log(row('overhead per task (sweep wall time / N)', s('perJob')));
  console.log(row("a no-op job's own run time", s('run')));
} finally {
  cluster.stop();
}
