import { describe, expect, it } from 'vitest';
import { ClassBalancedSampler } from '../../plugins/samplers/class_balanced.ts';
import { RandomSampler } from '../../plugins/samplers/random.ts';
import type { IndexSampler, IndexSamplerPlugin, Label, StreamKey } from '../../plugins/samplers/sampler.ts';
import { SequentialSampler } from '../../plugins/samplers/sequential.ts';
import { UserStreamSampler } from '../../plugins/samplers/user_stream.ts';
import { build } from './build.ts';

const all = (s: IndexSampler, epoch = 0) => [...s.batches(epoch)];
const flat = (s: IndexSampler, epoch = 0) => all(s, epoch).flat();
const counts = (xs: number[], n: number) => xs.reduce((c, x) => (c[x]++, c), new Array<number>(n).fill(0));

/** χ² upper 0.999 quantiles by degrees of freedom (scipy.stats.chi2.ppf(0.999, df)). */
const CHI2_999: Record<number, number> = { 2: 13.816, 3: 16.266 };
const chiSquare = (observed: number[], expected: number[]) => observed.reduce((s, o, i) => s + (o - expected[i]!) ** 2 / expected[i]!, 0);

describe('sequential', () => {
  it('dataset order in batches; drop_last drops the short tail; every epoch the same', () => {
    const s = new SequentialSampler(7, { batch_size: 3 });
    expect(all(s)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(all(s, 5)).toEqual(all(s, 0));
    expect(s.numBatches).toBe(3);
    const d = new SequentialSampler(7, { batch_size: 3, drop_last: true });
    expect(all(d)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(d.numBatches).toBe(2);
  });

  it('from config', () => {
    const p = build<IndexSamplerPlugin>('sampler', 'sequential', { batch_size: 4 });
    expect(all(p.bind({ size: 6 }))).toEqual([
      [0, 1, 2, 3],
      [4, 5],
    ]);
  });
});

describe('random: seeded shuffle per epoch', () => {
  const s = new RandomSampler(10, { batch_size: 4, seed: 1 });

  it('each epoch is a permutation of the dataset, batched', () => {
    const batches = all(s, 0);
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
    expect([...batches.flat()].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(s.numSamples).toBe(10);
    expect(s.numBatches).toBe(3);
  });

  it('reproducible from (seed, epoch), in any order; epochs and seeds differ', () => {
    const e3 = flat(s, 3);
    flat(s, 0);
    expect(flat(new RandomSampler(10, { batch_size: 4, seed: 1 }), 3)).toEqual(e3);
    expect(flat(s, 4)).not.toEqual(e3);
    expect(flat(new RandomSampler(10, { batch_size: 4, seed: 2 }), 3)).not.toEqual(e3);
  });

  it('num_samples > n without replacement: whole permutations then a partial one (torch order)', () => {
    const r = new RandomSampler(4, { num_samples: 10, seed: 3 });
    const xs = flat(r);
    expect(xs).toHaveLength(10);
    expect([...xs.slice(0, 4)].sort()).toEqual([0, 1, 2, 3]);
    expect([...xs.slice(4, 8)].sort()).toEqual([0, 1, 2, 3]);
    expect(new Set(xs.slice(8)).size).toBe(2);
  });

  it('replacement: num_samples i.i.d. uniform indices (χ² test)', () => {
    const r = new RandomSampler(4, { replacement: true, num_samples: 4000, batch_size: 64, seed: 9 });
    const xs = flat(r, 2);
    expect(xs).toHaveLength(4000);
    expect(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 4)).toBe(true);
    expect(chiSquare(counts(xs, 4), [1000, 1000, 1000, 1000])).toBeLessThan(CHI2_999[3]!);
    expect(flat(r, 2)).toEqual(xs);
  });

  it('from config, bound to a dataset', () => {
    const p = build<IndexSamplerPlugin>('sampler', 'random', { batch_size: 4, seed: 1 });
    expect(p.type).toBe('index');
    expect(flat(p.bind({ size: 10 }), 3)).toEqual(flat(s, 3));
    expect(() => build('sampler', 'random', { batch_size: 0 })).toThrow(/batch_size/);
  });
});

describe('class_balanced: a uniform class, then an item of it', () => {
  // 90 items of class 0, 9 of class 1, 1 of class 2.
  const labels: number[] = [...new Array(90).fill(0), ...new Array(9).fill(1), 2];
  const classOf = (i: number) => labels[i]!;

  it('cycle mode (Decoupling / mmdet ClassAwareSampler): every class exactly equally often per round', () => {
    const s = new ClassBalancedSampler(labels, { num_samples: 300, batch_size: 30, seed: 4 });
    const xs = flat(s);
    expect(counts(xs.map(classOf), 3)).toEqual([100, 100, 100]);
    // Each round of 3 draws visits every class once.
    for (let r = 0; r < 100; r++) expect(new Set(xs.slice(3 * r, 3 * r + 3).map(classOf)).size).toBe(3);
    // Items of a class are cycled: the 9 items of class 1 appear 11 or 12 times each.
    const c1 = counts(xs.filter((i) => classOf(i) === 1), 100).slice(90, 99);
    expect(Math.max(...c1) - Math.min(...c1)).toBeLessThanOrEqual(1);
  });

  it('num_samples defaults to the dataset size; epochs are reproducible and differ', () => {
    const s = new ClassBalancedSampler(labels, { batch_size: 10, seed: 4 });
    expect(s.numSamples).toBe(100);
    expect(s.numBatches).toBe(10);
    expect(flat(s, 1)).toEqual(flat(new ClassBalancedSampler(labels, { batch_size: 10, seed: 4 }), 1));
    expect(flat(s, 1)).not.toEqual(flat(s, 2));
  });

  it('iid mode: class frequencies uniform by a seeded χ² test', () => {
    const s = new ClassBalancedSampler(labels, { mode: 'iid', num_samples: 6000, seed: 11 });
    const obs = counts(flat(s).map(classOf), 3);
    expect(chiSquare(obs, [2000, 2000, 2000])).toBeLessThan(CHI2_999[2]!);
  });

  it('multi-label: an item counts for each positive (mmdet get_cat2imgs); unlabelled items are never drawn', () => {
    const ml: Label[] = [[0, 1], [1], [2], [], -1];
    const s = new ClassBalancedSampler(ml, { num_samples: 600, seed: 2 });
    expect([...s.classItems.entries()]).toEqual([
      [0, [0]],
      [1, [0, 1]],
      [2, [2]],
    ]);
    // P(item 0) = 1/3 + 1/3·1/2, P(item 1) = 1/3·1/2, P(item 2) = 1/3 — exact in cycle mode.
    expect(counts(flat(s), 5)).toEqual([300, 100, 200, 0, 0]);
  });

  it('samples_per_class takes consecutive items of the chosen class', () => {
    const s = new ClassBalancedSampler(labels, { num_samples: 60, samples_per_class: 2, seed: 8 });
    const xs = flat(s);
    for (let k = 0; k < 30; k++) expect(classOf(xs[2 * k]!)).toBe(classOf(xs[2 * k + 1]!));
    expect(counts(xs.map(classOf), 3)).toEqual([20, 20, 20]);
  });

  it('from config: needs labels', () => {
    const p = build<IndexSamplerPlugin>('sampler', 'class_balanced', { batch_size: 5 });
    expect(p.bind({ size: labels.length, labels }).numBatches).toBe(20);
    expect(() => p.bind({ size: 3 })).toThrow(/needs data.labels/);
  });
});

describe('user_stream: one user at a time, chronological, online', () => {
  // Input out of order: users interleaved, keys unsorted, an unknown user.
  const rows: Array<[string | null, StreamKey]> = [
    ['b', { origin_video_id: 'v2', clip_parent_start_sec: 0, action_idx: 1 }], // 0
    ['a', { origin_video_id: 'v9', clip_parent_start_sec: 0, action_idx: 0 }], // 1
    [null, { origin_video_id: 'v1', clip_parent_start_sec: 0, action_idx: 0 }], // 2
    ['a', { origin_video_id: 'v1', clip_parent_start_sec: 300, action_idx: 0 }], // 3
    ['b', { origin_video_id: 'v2', clip_parent_start_sec: 0, action_idx: 0, clip_start_sec: 2.1 }], // 4
    ['a', { origin_video_id: 'v1', clip_parent_start_sec: 0, action_idx: 5 }], // 5
    ['b', { origin_video_id: 'v2', clip_parent_start_sec: 0, action_idx: 0, clip_start_sec: 0 }], // 6
    ['a', { origin_video_id: 'v1', clip_parent_start_sec: 0, action_idx: 2 }], // 7
    ['a', { origin_video_id: 'V0', clip_parent_start_sec: 900, action_idx: 0 }], // 8: 'V' < 'v' (code units)
  ];
  const users = rows.map((r) => r[0]);
  const keys = rows.map((r) => r[1]);

  it('sorts each user by (origin_video_id, clip_parent_start_sec, action_idx, clip start); users ascending; unknown users left out', () => {
    const s = new UserStreamSampler(users, keys, { batch_size: 2 });
    expect(s.users).toEqual(['a', 'b']);
    expect(s.streams.map((u) => u.indices)).toEqual([
      [8, 7, 5, 3, 1],
      [6, 4, 0],
    ]);
    expect(s.numSamples).toBe(8);
  });

  it('online mini-batches never cross a user boundary; steps() marks the boundaries for predict-then-update', () => {
    const s = new UserStreamSampler(users, keys, { batch_size: 2 });
    expect(all(s)).toEqual([[8, 7], [5, 3], [1], [6, 4], [0]]);
    expect(s.numBatches).toBe(5);
    expect([...s.steps()].map((t) => [t.user, t.userIndex, t.step, t.firstOfUser, t.lastOfUser])).toEqual([
      ['a', 0, 0, true, false],
      ['a', 0, 1, false, false],
      ['a', 0, 2, false, true],
      ['b', 1, 0, true, false],
      ['b', 1, 1, false, true],
    ]);
  });

  it('never shuffles: every epoch is the same stream', () => {
    const s = new UserStreamSampler(users, keys, { batch_size: 3 });
    expect(all(s, 7)).toEqual(all(s, 0));
  });

  it('users: [...] picks and orders users; drop_last applies per user', () => {
    const s = new UserStreamSampler(users, keys, { batch_size: 2, users: ['b', 'a'], drop_last: true });
    expect(s.users).toEqual(['b', 'a']);
    expect(all(s)).toEqual([
      [6, 4],
      [8, 7],
      [5, 3],
    ]);
    expect(s.numBatches).toBe(3);
    expect(() => new UserStreamSampler(users, keys, { users: ['c'] })).toThrow(/no item belongs to the user c; users in the data: a, b/);
  });

  it('numeric user ids sort numerically', () => {
    const k: StreamKey = { origin_video_id: 'v', clip_parent_start_sec: 0, action_idx: 0 };
    const s = new UserStreamSampler([10, 9, 104], [k, k, k]);
    expect(s.users).toEqual(['9', '10', '104']);
  });

  it('from config: needs users and stream keys', () => {
    const p = build<IndexSamplerPlugin>('sampler', 'user_stream', { batch_size: 2, users: ['b'] });
    expect(all(p.bind({ size: rows.length, users, streamKeys: keys }))).toEqual([[6, 4], [0]]);
    expect(() => p.bind({ size: rows.length, users })).toThrow(/needs data.users and data.streamKeys/);
  });
});
