// Batch prefetch (plugins/datasets/prefetch.ts): a worker thread reads the batches the main thread will
// ask for, in the same order and with the same values as synchronous getBatch calls. The worker is the
// built dist/prefetch-worker.js (`npm test` builds first).
import { spawn } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Config } from '../../core/config/config.ts';
import { VidraError } from '../../core/config/errors.ts';
import { fromPlain, type DictNode } from '../../core/config/node.ts';
import { createRegistry } from '../../core/plugins/loader.ts';
import { definePlugin, PluginRegistry } from '../../core/plugins/registry.ts';
import { builtinRegistry, createPlugin } from '../../plugins/create.ts';
import type { Batch, Dataset, DatasetSource } from '../../plugins/datasets/dataset.ts';
import { DataFormatError } from '../../plugins/datasets/formats/errors.ts';
import { batchReader, type PrefetchOptions } from '../../plugins/datasets/prefetch.ts';
import { ensureSynthetic } from '../../plugins/datasets/synthetic.ts';
import { REPO } from '../helpers/project.ts';
import { tempDir } from './helpers.ts';

const T = 60_000;
const root = tempDir('vidra-prefetch-');
const FIXTURE = join(REPO, 'test', 'fixtures', 'prefetch-dataset.mjs');

/** A job config whose `data` node is `data`, and reader options over it. */
function options(data: Record<string, unknown>, extra: Partial<PrefetchOptions> = {}): PrefetchOptions {
  return { depth: 2, config: new Config(fromPlain({ data }) as DictNode), path: 'data', split: 'train', registry: builtinRegistry(), ...extra };
}

async function synthetic(kind: string, dataRoot = root): Promise<{ data: Record<string, unknown>; train: Dataset }> {
  const data = { _target_: 'synthetic', kind, root: dataRoot, seed: 0 };
  const train = await createPlugin<DatasetSource>('dataset', 'synthetic', { kind, root: dataRoot, seed: 0 }).load('train');
  return { data, train };
}

/** Two epochs of the random sampler's batches, then batches of other sizes and a repeated one. */
function orderOf(length: number): number[][] {
  const sampler = createPlugin<{ bind(d: { size: number }): { batches(e: number): Iterable<number[]> } }>('sampler', 'random', { seed: 3, batch_size: 32, drop_last: true }).bind({ size: length });
  return [...sampler.batches(0), ...sampler.batches(1), [5], [length - 1, 0, 7], [5]];
}

async function readAll<B>(reader: { read(o: number[][]): { next(): Promise<B> } }, order: number[][]): Promise<B[]> {
  const stream = reader.read(order);
  const out: B[] = [];
  for (let i = 0; i < order.length; i++) out.push(await stream.next());
  return out;
}

beforeAll(() => ensureSynthetic(root, 0), T);

describe('batches come back in the order asked, equal to synchronous getBatch', () => {
  for (const depth of [0, 1, 2, 5]) {
    it(`prefetch ${depth}: Animal Kingdom-format synthetic data`, { timeout: T }, async () => {
      const { data, train } = await synthetic('animal_kingdom');
      const reader = batchReader(train, options(data, { depth }));
      try {
        expect(reader.thread).toBe(depth === 0 ? 'main' : 'worker');
        const order = orderOf(train.length);
        const got = await readAll(reader, order);
        expect(got).toEqual(order.map((idx) => train.getBatch(idx)));
        expect(reader.thread).toBe(depth === 0 ? 'main' : 'worker');
      } finally {
        await reader.close();
        train.close();
      }
    });
  }

  it('a new pass drops the batches the previous one read ahead', { timeout: T }, async () => {
    const { data, train } = await synthetic('charades');
    const reader = batchReader(train, options(data, { depth: 3 }));
    try {
      const order = orderOf(train.length);
      const first = reader.read(order.slice(2));
      expect(await first.next()).toEqual(train.getBatch(order[2]!));
      expect(await readAll(reader, order)).toEqual(order.map((idx) => train.getBatch(idx)));
    } finally {
      await reader.close();
      train.close();
    }
  });

  it('reads a lazy order (a generator) only as far as it is consumed plus the depth', { timeout: T }, async () => {
    const { data, train } = await synthetic('animal_kingdom');
    const reader = batchReader(train, options(data, { depth: 2 }));
    let drawn = 0;
    function* order(): Generator<number[]> {
      for (;;) yield [drawn++ % train.length];
    }
    try {
      const stream = reader.read(order());
      for (let i = 0; i < 4; i++) expect(await stream.next()).toEqual(train.getBatch([i]));
      expect(drawn).toBe(6);
    } finally {
      await reader.close();
      train.close();
    }
  });
});

describe('a project plugin module is loaded in the worker too', () => {
  it('third-party dataset: views into one buffer arrive as their own arrays, equal to getBatch', { timeout: T }, async () => {
    const registry = await createRegistry([], [FIXTURE], REPO);
    expect(registry.modules).toEqual([{ spec: FIXTURE, root: REPO }]);
    const mod = (await import(FIXTURE)) as { plugins: Array<{ create: new (o: unknown) => DatasetSource }> };
    const views = await new mod.plugins[0]!.create({ length: 20, dim: 4 }).load();
    const reader = batchReader(views, options({ _target_: 'test.views', length: 20, dim: 4 }, { registry }));
    try {
      const order = [[0, 1, 2], [19], [4, 5]];
      const got = await readAll(reader, order);
      expect(reader.thread).toBe('worker');
      expect(got).toEqual(order.map((idx) => views.getBatch(idx)));
      for (const b of got) expect(b.inputs.a!.data.byteLength).toBe(b.inputs.a!.data.buffer.byteLength);
    } finally {
      await reader.close();
    }
  });
});

describe('errors in the worker surface in the main thread with their class and message', () => {
  it('an index out of range: the dataset\'s VidraError', { timeout: T }, async () => {
    const { data, train } = await synthetic('animal_kingdom');
    const reader = batchReader(train, options(data));
    try {
      let expected: unknown;
      try {
        train.getBatch([0, 99_999]);
      } catch (err) {
        expected = err;
      }
      expect(expected).toBeInstanceOf(VidraError);
      const failed = reader.read([[0, 1], [0, 99_999]]);
      expect(await failed.next()).toEqual(train.getBatch([0, 1]));
      const err = await failed.next().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VidraError);
      expect((err as Error).message).toBe((expected as Error).message);
    } finally {
      await reader.close();
      train.close();
    }
  });

  it('a corrupt HDF5 chunk: the DataFormatError naming the file', { timeout: T }, async () => {
    // A copy of the synthetic data whose gzip streams are garbled: the file opens, reading rows fails.
    const bad = join(root, 'corrupt');
    const [dir] = readdirSync(root).filter((d) => d.startsWith('v'));
    cpSync(join(root, dir!), join(bad, dir!), { recursive: true });
    const file = join(bad, dir!, 'ego4d', 'features.h5');
    const bytes = readFileSync(file);
    for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === 0x78 && bytes[i + 1] === 0x5e) for (let k = 2; k < 40; k++) bytes[i + k]! ^= 0xff;
    writeFileSync(file, bytes);
    const { data, train } = await synthetic('ego4d_lta', bad);
    const reader = batchReader(train, options(data));
    try {
      const all = Array.from({ length: train.length }, (_, i) => i);
      let expected: unknown;
      try {
        train.getBatch(all);
      } catch (err) {
        expected = err;
      }
      expect(expected).toBeInstanceOf(DataFormatError);
      expect((expected as Error).message).toContain(`${file}: cannot read rows`);
      const err = await reader.read([all]).next().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataFormatError);
      expect((err as Error).message).toBe((expected as Error).message);
    } finally {
      await reader.close();
      train.close();
    }
  });

  it('a third-party error keeps its name: DataFormatError', { timeout: T }, async () => {
    const registry = await createRegistry([], [FIXTURE], REPO);
    const reader = batchReader({ length: 20, getBatch: () => ({}) as Batch }, options({ _target_: 'test.views' }, { registry }));
    try {
      const err = await reader.read([[12, 13]]).next().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataFormatError);
      expect((err as Error).message).toBe('views.bin: record 13 is corrupt');
    } finally {
      await reader.close();
    }
  });
});

describe('the worker stops on close and on abort; reading falls back to the main thread when it cannot start', () => {
  it('abort: pending and later reads fail with "interrupted"', { timeout: T }, async () => {
    const { data, train } = await synthetic('animal_kingdom');
    const abort = new AbortController();
    const reader = batchReader(train, options(data, { signal: abort.signal }));
    try {
      const order = orderOf(train.length);
      const stream = reader.read(order);
      await stream.next();
      abort.abort();
      await expect(stream.next()).rejects.toThrow(/^interrupted$/);
      await expect(reader.read(order).next()).rejects.toThrow(/^interrupted$/);
    } finally {
      await reader.close();
      train.close();
    }
  });

  it('close: later reads fail', { timeout: T }, async () => {
    const { data, train } = await synthetic('animal_kingdom');
    const reader = batchReader(train, options(data));
    await reader.close();
    await reader.close();
    await expect(reader.read([[0]]).next()).rejects.toThrow('the batch reader is closed');
    train.close();
  });

  it('a dataset plugin registered in code (no module to load in the worker): a notice, then the main thread reads', { timeout: T }, async () => {
    const { train } = await synthetic('animal_kingdom');
    const registry = new PluginRegistry();
    class Inline {}
    registry.register(definePlugin({ kind: 'dataset', name: 'inline', description: 'registered in code', schema: { type: 'object' }, create: Inline }));
    const notices: string[] = [];
    const reader = batchReader(train, options({ _target_: 'inline' }, { registry, notice: (l) => notices.push(l) }));
    try {
      const order = orderOf(train.length).slice(0, 6);
      expect(await readAll(reader, order)).toEqual(order.map((idx) => train.getBatch(idx)));
      expect(reader.thread).toBe('main');
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/^prefetch: reading 'data' batches in the main thread, not a worker thread: it could not build the dataset: .*no dataset named 'inline'/);
    } finally {
      await reader.close();
      train.close();
    }
  });

  // A worker left running would keep the process alive: these scripts must end by themselves.
  const script = (body: string) => `
    import { batchReader, builtinRegistry, compose, createPlugin } from ${JSON.stringify(join(REPO, 'dist', 'index.js'))};
    const config = compose({ configDir: ${JSON.stringify(join(REPO, 'conf'))}, overrides: ['data.root=${root}'] });
    const { _target_, ...o } = config.get('data');
    const train = await createPlugin('dataset', _target_, o).load('train');
    const order = Array.from({ length: 8 }, (_, i) => [i, i + 1]);
    ${body}
    console.log('done');`;
  let scripts = 0;
  const exits = (code: string) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const file = join(root, `script-${++scripts}.mjs`);
      writeFileSync(file, code);
      const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', (c) => resolve({ code: c, out }));
    });

  it('a process that never closes its reader still exits', { timeout: T }, async () => {
    const r = await exits(script(`
      const reader = batchReader(train, { depth: 2, config, path: 'data', split: 'train', registry: builtinRegistry() });
      const s = reader.read(order);
      for (let i = 0; i < 3; i++) await s.next();
      if (reader.thread !== 'worker') throw new Error(reader.thread);`));
    expect(r).toEqual({ code: 0, out: 'done\n' });
  });

  it('a process that closes its reader after a failed read exits normally (replies still arriving)', { timeout: T }, async () => {
    const r = await exits(script(`
      const reader = batchReader(train, { depth: 6, config, path: 'data', split: 'train', registry: builtinRegistry() });
      const s = reader.read(order.map(() => [99999]));
      console.log(await s.next().catch((e) => e.name));
      await reader.close();`));
    expect(r).toEqual({ code: 0, out: 'VidraError\ndone\n' });
  });

  it('a process aborted while the worker reads ahead exits', { timeout: T }, async () => {
    const r = await exits(script(`
      const abort = new AbortController();
      const reader = batchReader(train, { depth: 4, config, path: 'data', split: 'train', registry: builtinRegistry(), signal: abort.signal });
      const s = reader.read(order);
      await s.next();
      abort.abort();
      console.log(await s.next().catch((e) => e.message));`));
    expect(r).toEqual({ code: 0, out: 'interrupted\ndone\n' });
  });
});
