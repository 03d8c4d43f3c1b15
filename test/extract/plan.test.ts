import { describe, expect, it } from 'vitest';
import { resampleIndices } from '../../core/video/index.ts';
import { planShards, shardPath, ShardPlanError, type CostItem } from '../../plugins/tasks/extract/shards.ts';
import { estimatedWindows, windowFrames, windowStarts } from '../../plugins/tasks/extract/windows.ts';

describe('windows (Ego4D semantics)', () => {
  it('counts ceil((F − frames)/stride) + 1 and back-pads the last window to end at the last frame', () => {
    expect(windowStarts(40, 4, 4)).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36]);
    expect(windowStarts(42, 4, 4)).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 38]);
    expect(windowStarts(100, 32, 16)).toEqual([0, 16, 32, 48, 64, 68]);
    expect(windowStarts(100, 32, 16).length).toBe(Math.ceil((100 - 32) / 16) + 1);
    expect(windowStarts(32, 32, 16)).toEqual([0]);
    // stride > frames leaves gaps; the last window still ends at the last frame.
    expect(windowStarts(20, 4, 8)).toEqual([0, 8, 16]);
    expect(windowStarts(21, 4, 8)).toEqual([0, 8, 16, 17]);
  });

  it('gives a video shorter than one window one window, padded by repeating its last frame', () => {
    expect(windowStarts(3, 8, 4)).toEqual([0]);
    expect(windowFrames([0, 1, 2], 8, 4)).toEqual([[0, 1, 2, 2, 2, 2, 2, 2]]);
  });

  it('maps windows through resampling: 25 → 30 repeats frames, 60 → 30 drops every other', () => {
    const at = (fps: number, n: number) => Array.from({ length: n }, (_, i) => i / fps);
    const up = resampleIndices(at(25, 50), 2, 30);
    expect(up.length).toBe(60);
    expect(windowFrames(up, 6, 6)[0]).toEqual([0, 0, 1, 2, 3, 4]);
    const down = resampleIndices(at(60, 120), 2, 30);
    expect(windowFrames(down, 4, 4).slice(0, 2)).toEqual([[0, 2, 4, 6], [8, 10, 12, 14]]);
  });

  it('estimates the windows of a video from its duration (at window.fps, else 30)', () => {
    expect(estimatedWindows(10, { frames: 32, stride: 16, fps: 30 })).toBe(Math.ceil((300 - 32) / 16) + 1);
    expect(estimatedWindows(2, { frames: 4, stride: 4, fps: null })).toBe(15);
    expect(estimatedWindows(0, { frames: 4, stride: 4, fps: 30 })).toBe(0);
  });

  it('rejects windows that are not positive integers', () => {
    expect(() => windowStarts(0, 4, 4)).toThrow('a video needs at least one frame, got 0');
    expect(() => windowStarts(10, 4, 0)).toThrow('window.frames and window.stride must be positive integers, got 4 and 0');
  });
});

describe('shard planning', () => {
  const items = (costs: number[]): CostItem[] => costs.map((cost, i) => ({ uid: `v${String(i).padStart(3, '0')}`, cost }));
  const uids = (shards: CostItem[][]) => shards.flat().map((s) => s.uid).sort();

  it('num_shards: every video once, longest first to the least-loaded shard, balanced within the largest item', () => {
    // Adversarial: a few huge videos among many tiny ones, and costs in decreasing/increasing runs.
    const sets = [
      [1000, 999, 998, ...Array.from({ length: 60 }, (_, i) => 1 + (i % 7))],
      Array.from({ length: 41 }, (_, i) => 2 ** (i % 12)),
      [5, 5, 4, 4, 3, 3, 3],
      Array.from({ length: 100 }, (_, i) => ((i * 7919) % 101) + 1),
    ];
    for (const costs of sets) {
      for (const n of [2, 3, 4, 7]) {
        const list = items(costs);
        const plan = planShards(list, { numShards: n });
        expect(plan.shards.length).toBe(n);
        expect(uids(plan.shards)).toEqual(list.map((i) => i.uid).sort());
        expect(Math.max(...plan.loads) - Math.min(...plan.loads)).toBeLessThanOrEqual(Math.max(...costs));
        // Deterministic, whatever the input order.
        expect(planShards([...list].reverse(), { numShards: n })).toEqual(plan);
      }
    }
  });

  it('max_minutes_per_shard: as many shards as needed, each within the limit (first-fit decreasing)', () => {
    const list = items([50, 40, 30, 30, 20, 10, 10, 5]);
    const plan = planShards(list, { maxSeconds: 60 });
    expect(plan.loads.every((l) => l <= 60)).toBe(true);
    expect(plan.shards.map((s) => s.map((i) => i.cost))).toEqual([[50, 10], [40, 20], [30, 30], [10, 5]]);
    expect(uids(plan.shards)).toEqual(list.map((i) => i.uid).sort());
    expect(planShards([...list].reverse(), { maxSeconds: 60 })).toEqual(plan);
  });

  it('names a video whose estimate alone exceeds the limit, and a fixed shard over it', () => {
    expect(() => planShards(items([30, 190, 20]), { maxSeconds: 120 })).toThrow(new ShardPlanError("video 'v001' (estimated 3.17 min) alone exceeds schedule.max_minutes_per_shard=2; raise the limit"));
    expect(() => planShards(items([100, 100, 100]), { numShards: 2, maxSeconds: 120 })).toThrow(
      'shard 0 of schedule.num_shards=2 holds an estimated 3.33 min, over schedule.max_minutes_per_shard=2; raise schedule.num_shards or set it to null to pack as many shards as needed',
    );
  });

  it('shard files never collide', () => {
    expect(shardPath('/x/features.h5', 2, 4)).toBe('/x/features.shard-2-of-4.h5');
    expect(shardPath('out', 0, 2)).toBe('out.shard-0-of-2');
  });
});
