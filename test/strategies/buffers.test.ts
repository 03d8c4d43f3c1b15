import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../core/random.ts';
import { ClassBalancedBuffer, ExperienceBalancedBuffer, groupLengths, ReservoirBuffer } from '../../plugins/strategies/buffers.ts';

/** scipy.stats.chi2.ppf(0.999, 49). */
const CHI2_999_DF49 = 85.351;

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
const sample = (target: number, id: number) => ({ input: [id], target, id });

describe('ReservoirBuffer (Avalanche ReservoirSamplingBuffer)', () => {
  it('never holds more than max_size; holds everything until then', () => {
    const b = new ReservoirBuffer<number>(10, 1);
    let seen = 0;
    for (const n of [3, 4, 0, 1, 25, 7]) {
      b.update(range(seen, seen + n));
      seen += n;
      expect(b.length).toBe(Math.min(10, seen));
      expect(b.buffer.length).toBe(b.length);
    }
    expect(new Set(b.buffer).size).toBe(10);
  });

  it('keeps the max_size largest weights of new ∪ stored, descending, each new item drawing u ~ U(0,1) in order', () => {
    const b = new ReservoirBuffer<number>(5, 42);
    b.update(range(0, 4));
    b.update(range(4, 12));
    const rng = mulberry32(42);
    const u = range(0, 12).map(() => rng());
    const expected = range(0, 12)
      .sort((i, j) => u[j]! - u[i]!)
      .slice(0, 5);
    expect(b.buffer).toEqual(expected);
    expect(b.weights).toEqual(expected.map((i) => u[i]));
  });

  it('is a uniform sample of the stream: 2,000 seeded trials of 50 items into 10, inclusion ≈ 0.2, χ² below the 0.999 quantile', () => {
    const trials = 2000;
    const hits = new Array<number>(50).fill(0);
    for (let t = 0; t < trials; t++) {
      const b = new ReservoirBuffer<number>(10, 1000 + t);
      const chunkRng = mulberry32(t);
      // Updates of random sizes (1 to 7 items): uniformity must not depend on how the stream is cut.
      for (let i = 0; i < 50; ) {
        const n = Math.min(50 - i, 1 + Math.floor(chunkRng() * 7));
        b.update(range(i, i + n));
        i += n;
      }
      for (const x of b.buffer) hits[x]!++;
    }
    const expected = trials * 0.2;
    for (const h of hits) expect(Math.abs(h / trials - 0.2)).toBeLessThan(0.04); // > 4 sd
    const chi2 = hits.reduce((s, h) => s + (h - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(CHI2_999_DF49);
  });

  it('resize keeps the highest-u items', () => {
    const b = new ReservoirBuffer<number>(10, 3);
    b.update(range(0, 30));
    const before = b.buffer;
    const weights = b.weights;
    b.resize(4);
    expect(b.maxSize).toBe(4);
    expect(b.buffer).toEqual(before.slice(0, 4));
    expect(b.weights).toEqual([...weights].sort((x, y) => y - x).slice(0, 4));
    b.resize(8); // growing keeps what is there
    expect(b.buffer).toEqual(before.slice(0, 4));
    b.update(range(30, 60));
    expect(b.length).toBe(8);
  });
});

describe('group capacities (Avalanche get_group_lengths)', () => {
  it('adaptive: max_size // groups, the remainder one each to the first groups', () => {
    expect(groupLengths(10, 3, true)).toEqual([4, 3, 3]);
    expect(groupLengths(10, 4, true)).toEqual([3, 3, 2, 2]);
    expect(groupLengths(10, 12, true)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    expect(groupLengths(200, 1, true)).toEqual([200]);
  });

  it('non-adaptive: max_size // total for every group, whatever has been seen', () => {
    expect(groupLengths(10, 2, false, 4)).toEqual([2, 2]);
    expect(() => groupLengths(10, 2, false)).toThrow(/total number of groups/);
  });
});

describe('ClassBalancedBuffer (Avalanche ClassBalancedBuffer)', () => {
  it('one reservoir per seen class, capacities rebalanced as classes appear (remainders to the lowest class ids)', () => {
    const b = new ClassBalancedBuffer<ReturnType<typeof sample>>(10, { seed: 5 });
    b.update([...range(0, 20).map((i) => sample(2, i)), ...range(20, 40).map((i) => sample(0, i)), ...range(40, 60).map((i) => sample(1, i))]);
    expect([...b.capacities()]).toEqual([
      [0, 4],
      [1, 3],
      [2, 3],
    ]);
    const sizes = () => new Map([...b.groups].map(([c, g]) => [c, g.length]));
    expect(sizes()).toEqual(new Map([[2, 3], [0, 4], [1, 3]]));
    b.update(range(60, 70).map((i) => sample(3, i)));
    expect([...b.capacities().values()]).toEqual([3, 3, 2, 2]);
    expect(sizes()).toEqual(new Map([[2, 2], [0, 3], [1, 3], [3, 2]]));
    expect(b.buffer.length).toBe(10);
    for (const [c, g] of b.groups) expect(g.buffer.every((s) => s.target === c)).toBe(true);
  });

  it('class balance: a rare class keeps what it has, frequent classes share the rest within their capacity', () => {
    const b = new ClassBalancedBuffer<ReturnType<typeof sample>>(9, { seed: 2 });
    b.update([...range(0, 100).map((i) => sample(0, i)), sample(1, 100), ...range(101, 150).map((i) => sample(2, i))]);
    expect(new Map([...b.groups].map(([c, g]) => [c, g.length]))).toEqual(new Map([[0, 3], [1, 1], [2, 3]]));
    expect(b.buffer.length).toBeLessThanOrEqual(b.maxSize);
  });

  it('non-adaptive: max_size // total_num_classes per class from the start', () => {
    const b = new ClassBalancedBuffer<ReturnType<typeof sample>>(10, { adaptiveSize: false, totalNumClasses: 4 });
    b.update(range(0, 30).map((i) => sample(i % 2, i)));
    expect([...b.capacities().values()]).toEqual([2, 2]);
    expect(b.buffer.length).toBe(4);
    expect(() => b.update(range(0, 3).map((i) => sample(5 + i, i)))).toThrow(/5 classes seen but totalNumClasses is 4/);
    expect(() => new ClassBalancedBuffer(10, { adaptiveSize: false })).toThrow(/totalNumClasses/);
  });

  it('resize rebalances the groups; a grown capacity is filled by later data', () => {
    const b = new ClassBalancedBuffer<ReturnType<typeof sample>>(6, { seed: 1 });
    b.update([...range(0, 10).map((i) => sample(0, i)), ...range(10, 20).map((i) => sample(1, i))]);
    expect(b.buffer.length).toBe(6);
    b.resize(12);
    expect([...b.capacities().values()]).toEqual([6, 6]);
    expect(b.buffer.length).toBe(6);
    b.update(range(20, 30).map((i) => sample(0, i)));
    expect(b.groups.get(0)!.length).toBe(6);
    expect(b.groups.get(1)!.length).toBe(3);
    b.resize(4);
    expect(new Map([...b.groups].map(([c, g]) => [c, g.length]))).toEqual(new Map([[0, 2], [1, 2]]));
  });

  it('multi-label targets need a classOf function', () => {
    const b = new ClassBalancedBuffer<{ input: number[]; target: number[] }>(4);
    expect(() => b.update([{ input: [0], target: [1, 2] }])).toThrow(/single class index/);
    const c = new ClassBalancedBuffer<{ input: number[]; target: number[] }>(4, { classOf: (s) => s.target[0]! });
    c.update([{ input: [0], target: [1, 2] }]);
    expect(c.buffer).toHaveLength(1);
  });
});

describe('ExperienceBalancedBuffer (Avalanche ReplayPlugin default policy)', () => {
  it('one group per experience, mem_size rebalanced over experiences', () => {
    const b = new ExperienceBalancedBuffer<number>(10, { seed: 9 });
    b.update(range(0, 50));
    expect(b.buffer).toHaveLength(10);
    b.update(range(50, 100));
    expect(b.groups.map((g) => g.length)).toEqual([5, 5]);
    b.update(range(100, 150));
    expect(b.groups.map((g) => g.length)).toEqual([4, 3, 3]);
    expect(b.groups[2]!.buffer.every((x) => x >= 100)).toBe(true);
  });

  it('non-adaptive: max_size // num_experiences per experience', () => {
    const b = new ExperienceBalancedBuffer<number>(10, { adaptiveSize: false, numExperiences: 5 });
    b.update(range(0, 50));
    expect(b.buffer).toHaveLength(2);
  });
});
