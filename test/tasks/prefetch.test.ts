// The train task reads its batches through the prefetcher (task.prefetch): a worker thread reads them ahead,
// and the run is the same, number for number, as one that reads them in the main thread.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, REPO } from '../helpers/project.ts';

const T = 120_000;
const dir = mkdtempSync(join(tmpdir(), 'vidra-prefetch-train-'));

function start(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, 'run', '-cp', join(REPO, 'conf'), ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return { child, done };
}
const vidra = (args: string[], env?: Record<string, string>) => start(args, env).done;
const read = (p: string) => readFileSync(join(dir, p), 'utf8');
const withoutTime = (jsonl: string) => jsonl.replace(/,"time":"[^"]*"/g, '');

describe('train with prefetch 0 and 2: the same run', () => {
  for (const [name, extra] of [
    ['one step per run', ['task.epochs=3']],
    ['3 steps per run (3 batches taken at once)', ['task.epochs=2', 'engine.steps_per_run=3']],
  ] as const) {
    it(`${name}: identical metrics.json and metrics.jsonl apart from time`, { timeout: T }, async () => {
      const tag = extra.length === 1 ? 'k1' : 'k3';
      const sync = await vidra([...extra, `vidra.run.dir=runs/${tag}-p0`, 'task.prefetch=0']);
      expect(sync.code, sync.stderr).toBe(0);
      const ahead = await vidra([...extra, `vidra.run.dir=runs/${tag}-p2`, 'task.prefetch=2']);
      expect(ahead.code, ahead.stderr).toBe(0);
      // The worker thread read the batches (no fallback notice), and each epoch reports its data time.
      expect(read(`runs/${tag}-p2/job.log`)).not.toContain('prefetch:');
      expect(read(`runs/${tag}-p2/job.log`)).toMatch(/epoch 0: data \d+ ms, compute \d+ ms/);
      expect(read(`runs/${tag}-p2/metrics.json`)).toBe(read(`runs/${tag}-p0/metrics.json`));
      expect(withoutTime(read(`runs/${tag}-p2/metrics.jsonl`))).toBe(withoutTime(read(`runs/${tag}-p0/metrics.jsonl`)));
    });
  }
});

describe('a data error in the worker fails the job with the loader\'s message', () => {
  it('a corrupt HDF5 chunk: exit 1, status failed, the file named', { timeout: T }, async () => {
    // The synthetic data of the tests above, with the Ego4D features' gzip streams garbled: the file opens
    // and the dataset loads, reading rows fails.
    cpSync(join(dir, '.cache/vidra-data/synthetic'), join(dir, 'corrupt/synthetic'), { recursive: true });
    const file = 'corrupt/synthetic/v2-seed0/ego4d/features.h5';
    const bytes = readFileSync(join(dir, file));
    for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === 0x78 && bytes[i + 1] === 0x5e) for (let k = 2; k < 40; k++) bytes[i + k]! ^= 0xff;
    writeFileSync(join(dir, file), bytes);
    const r = await vidra(['+experiment=clep', 'task.epochs=1', 'vidra.run.dir=runs/corrupt'], { VIDRA_DATA: 'corrupt' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`job failed: ${file}: cannot read rows \\[\\d+, \\d+\\) of dataset '[\\w-]+': HDF5 error`));
    expect(read('runs/corrupt/job.log')).not.toContain('prefetch:');
    expect(JSON.parse(read('runs/corrupt/status.json')).status).toBe('failed');
  });
});

describe('SIGINT while the worker reads ahead', () => {
  it('the run ends interrupted and the process exits', { timeout: T }, async () => {
    const run = start(['task.epochs=1000', 'vidra.run.dir=runs/int']);
    const log = join(dir, 'runs/int/job.log');
    // Training is under way once an epoch has been logged.
    while (run.child.exitCode === null && !(existsSync(log) && readFileSync(log, 'utf8').includes('epoch 1:'))) await new Promise((r) => setTimeout(r, 100));
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    expect(JSON.parse(read('runs/int/status.json'))).toMatchObject({ status: 'interrupted', signal: 'SIGINT' });
  });
});
