import { describe, expect, it } from 'vitest';
import type { Batch, Experience, Sample, Strategy } from '../../plugins/strategies/events.ts';
import { ReplayPlugin } from '../../plugins/strategies/replay.ts';
import { itemBatches, StrategyTemplate, type TemplateOptions } from '../../plugins/strategies/template.ts';
import { build } from '../samplers/build.ts';

const samples = (from: number, to: number, classes = 3): Sample[] =>
  Array.from({ length: to - from }, (_, i) => ({ input: [from + i, -(from + i)], target: (from + i) % classes, index: from + i }));
const idOf = (input: unknown) => (input as number[])[0]!;

/** Trains experiences through a template and records every batch the step sees (after the plugins changed it). */
async function run(replay: ReplayPlugin, experiences: Experience[], batchSize: number, opts: { epochs?: number; context?: TemplateOptions['context'] } = {}) {
  const seen: Array<{ exp: number; epoch: number; current: number[]; memory: number[]; targets: Batch['targets'] }> = [];
  const template = new StrategyTemplate(replay.plugins, { context: opts.context });
  expect(template.warnings).toEqual([]);
  await template.train(experiences, {
    epochs: opts.epochs,
    batches: (exp) => itemBatches(exp.items, batchSize),
    step: (ctx) => {
      const b = ctx.batch!;
      const ids = b.inputs.map(idOf);
      seen.push({ exp: ctx.experience!.id, epoch: ctx.epoch, current: ids.slice(0, ids.length - b.memory), memory: ids.slice(ids.length - b.memory), targets: b.targets });
    },
  });
  return seen;
}

describe('replay: Avalanche ReplayPlugin semantics (ml-spec §6)', () => {
  it('the first experience trains without memory; later batches get batch_size_mem = the training batch size (doubling it)', async () => {
    const replay = new ReplayPlugin({ mem_size: 4, storage_policy: 'reservoir', seed: 3 });
    const seen = await run(replay, [
      { id: 0, items: samples(0, 6) },
      { id: 1, items: samples(6, 10) },
    ], 2, { context: { trainBatchSize: 2 } });
    expect(seen.filter((s) => s.exp === 0).map((s) => [s.current.length, s.memory.length])).toEqual([
      [2, 0],
      [2, 0],
      [2, 0],
    ]);
    const exp1 = seen.filter((s) => s.exp === 1);
    expect(exp1.map((s) => [s.current.length, s.memory.length])).toEqual([
      [2, 2],
      [2, 2],
    ]);
    // Memory rows are stored samples of experience 0 (inputs and targets together), all distinct within a pass.
    const mem = exp1.flatMap((s) => s.memory);
    expect(mem.every((id) => id < 6)).toBe(true);
    expect(new Set(mem).size).toBe(4);
    for (const s of exp1) s.memory.forEach((id, k) => expect(s.targets[s.current.length + k]).toBe(id % 3));
  });

  it('the buffer is updated after each experience, not during it', async () => {
    const replay = new ReplayPlugin({ mem_size: 3, storage_policy: 'reservoir' });
    const stored: number[][] = [];
    const spy = { after_training_exp: () => void stored.push(replay.storage.buffer.map((s) => idOf(s.input))) };
    const template = new StrategyTemplate([replay, spy]);
    const during: number[][] = [];
    await template.train(
      [
        { id: 0, items: samples(0, 3) },
        { id: 1, items: samples(3, 6) },
      ],
      { batches: (exp) => itemBatches(exp.items, 3), step: () => void during.push(replay.storage.buffer.map((s) => idOf(s.input))) },
    );
    expect(during[0]).toEqual([]);
    expect([...during[1]!].sort()).toEqual([0, 1, 2]);
    expect([...stored[0]!].sort()).toEqual([0, 1, 2]);
    expect(stored[1]).toHaveLength(3);
  });

  it('memory batches walk a shuffled memory: a smaller last batch, then a reshuffle; each epoch starts a new walk', async () => {
    const replay = new ReplayPlugin({ mem_size: 5, batch_size_mem: 2, storage_policy: 'reservoir', seed: 1 });
    const seen = await run(replay, [
      { id: 0, items: samples(0, 20) },
      { id: 1, items: samples(20, 28) },
    ], 1);
    const exp1 = seen.filter((s) => s.exp === 1).map((s) => s.memory);
    expect(exp1.map((m) => m.length)).toEqual([2, 2, 1, 2, 2, 1, 2, 2]);
    const memory = replay.activeMemory.map((s) => idOf(s.input)).sort((a, b) => a - b);
    expect([...exp1.slice(0, 3).flat()].sort((a, b) => a - b)).toEqual(memory);
    expect([...exp1.slice(3, 6).flat()].sort((a, b) => a - b)).toEqual(memory);

    const perEpoch = new ReplayPlugin({ mem_size: 5, batch_size_mem: 2, storage_policy: 'reservoir', seed: 1 });
    const seen2 = await run(perEpoch, [
      { id: 0, items: samples(0, 20) },
      { id: 1, items: samples(20, 22) },
    ], 1, { epochs: 2 });
    const e = seen2.filter((s) => s.exp === 1);
    expect(e.map((s) => [s.epoch, s.memory.length])).toEqual([
      [0, 2],
      [0, 2],
      [1, 2],
      [1, 2],
    ]);
    expect(new Set(e.filter((s) => s.epoch === 1).flatMap((s) => s.memory)).size).toBe(4);
  });

  it('without trainBatchSize, batch_size_mem defaults to the current batch length', async () => {
    const replay = new ReplayPlugin({ mem_size: 10, storage_policy: 'reservoir' });
    const seen = await run(replay, [
      { id: 0, items: samples(0, 10) },
      { id: 1, items: samples(10, 13) },
    ], 3);
    expect(seen.filter((s) => s.exp === 1).map((s) => s.memory.length)).toEqual([3]);
  });

  it('is reproducible from its seed', async () => {
    const exps = () => [
      { id: 0, items: samples(0, 50) },
      { id: 1, items: samples(50, 60) },
    ];
    const a = await run(new ReplayPlugin({ mem_size: 8, storage_policy: 'reservoir', seed: 5 }), exps(), 2);
    const b = await run(new ReplayPlugin({ mem_size: 8, storage_policy: 'reservoir', seed: 5 }), exps(), 2);
    const c = await run(new ReplayPlugin({ mem_size: 8, storage_policy: 'reservoir', seed: 6 }), exps(), 2);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('storage policies: experience_balanced (default) splits mem_size over experiences, class_balanced over classes', async () => {
    const eb = new ReplayPlugin({ mem_size: 6 });
    await run(eb, [
      { id: 0, items: samples(0, 10) },
      { id: 1, items: samples(10, 20) },
      { id: 2, items: samples(20, 30) },
    ], 5);
    const ids = eb.storage.buffer.map((s) => idOf(s.input));
    expect([ids.filter((i) => i < 10).length, ids.filter((i) => i >= 10 && i < 20).length, ids.filter((i) => i >= 20).length]).toEqual([2, 2, 2]);

    const cb = new ReplayPlugin({ mem_size: 6, storage_policy: 'class_balanced' });
    await run(cb, [{ id: 0, items: samples(0, 30) }], 5);
    const targets = cb.storage.buffer.map((s) => s.target as number);
    expect([0, 1, 2].map((c) => targets.filter((t) => t === c).length)).toEqual([2, 2, 2]);
  });

  it('warns once when an online stream meets the experience_balanced policy (use reservoir)', async () => {
    const warnings: string[] = [];
    const replay = new ReplayPlugin({ mem_size: 4 });
    await run(replay, [0, 1, 2].map((id) => ({ id, items: samples(id * 2, id * 2 + 2), online: true })), 2, { context: { warn: (m) => warnings.push(m) } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/use storage_policy=reservoir/);
    const quiet: string[] = [];
    await run(new ReplayPlugin({ mem_size: 4, storage_policy: 'reservoir' }), [{ id: 0, items: samples(0, 2), online: true }], 2, { context: { warn: (m) => quiet.push(m) } });
    expect(quiet).toEqual([]);
  });

  it('online: after_training_exp per mini-experience keeps a uniform reservoir of the whole stream', async () => {
    const replay = new ReplayPlugin({ mem_size: 10, storage_policy: 'reservoir', seed: 2 });
    const stream = Array.from({ length: 50 }, (_, id) => ({ id, items: samples(id * 2, id * 2 + 2), online: true }));
    await run(replay, stream, 2);
    const ids = replay.storage.buffer.map((s) => idOf(s.input));
    expect(ids).toHaveLength(10);
    expect(Math.max(...ids)).toBeGreaterThan(0);
  });
});

describe('strategies from config', () => {
  it('replay defaults: mem_size 200, batch_size_mem null, experience_balanced; finetune has no plugin', () => {
    const r = build<ReplayPlugin>('strategy', 'replay');
    expect(r.options).toEqual({ mem_size: 200, batch_size_mem: null, storage_policy: 'experience_balanced', adaptive_size: true, total_num_groups: null, seed: 0 });
    expect(r.plugins).toEqual([r]);
    expect(r.storage.maxSize).toBe(200);
    expect(build<Strategy>('strategy', 'finetune').plugins).toEqual([]);
  });

  it('validates', () => {
    expect(() => build('strategy', 'replay', { storage_policy: 'fifo' })).toThrow(/storage_policy/);
    expect(() => build('strategy', 'replay', { adaptive_size: false, storage_policy: 'class_balanced' })).toThrow(/needs total_num_groups \(the number of classes\)/);
    expect(() => build('strategy', 'finetune', { mem_size: 3 })).toThrow(/not a key/);
  });
});
