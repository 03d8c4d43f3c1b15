// Shard planning for extraction: pure and deterministic, so every array job computes the same plan and
// picks its own shard. Costs are estimated seconds per video.

export interface CostItem {
  uid: string;
  /** Estimated seconds of work. */
  cost: number;
}

export interface ShardPlan {
  shards: CostItem[][];
  /** Estimated seconds per shard. */
  loads: number[];
}

export interface PlanOptions {
  /** A fixed number of shards: longest first to the least-loaded shard (LPT). */
  numShards?: number | null;
  /** As many shards as needed so that each fits this many seconds (first-fit decreasing, as Ego4D's slurm.py). */
  maxSeconds?: number | null;
}

export class ShardPlanError extends Error {}

/** Longest first; equal costs by uid, so the plan does not depend on the input order. */
const byCost = (items: readonly CostItem[]) => [...items].sort((a, b) => b.cost - a.cost || (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));

export function planShards(items: readonly CostItem[], options: PlanOptions): ShardPlan {
  const numShards = options.numShards ?? null;
  const max = options.maxSeconds ?? null;
  const sorted = byCost(items);
  if (max !== null) {
    const over = sorted.filter((it) => it.cost > max);
    if (over.length) {
      throw new ShardPlanError(
        `${over.map((it) => `video '${it.uid}' (estimated ${minutes(it.cost)} min)`).join(', ')} alone exceed${over.length > 1 ? '' : 's'} schedule.max_minutes_per_shard=${limit(max)}; raise the limit`,
      );
    }
  }
  let shards: CostItem[][];
  let loads: number[];
  if (numShards !== null) {
    shards = Array.from({ length: numShards }, () => []);
    loads = new Array<number>(numShards).fill(0);
    for (const it of sorted) {
      let k = 0;
      for (let j = 1; j < numShards; j++) if (loads[j]! < loads[k]!) k = j;
      shards[k]!.push(it);
      loads[k]! += it.cost;
    }
    if (max !== null) {
      const k = loads.findIndex((l) => l > max);
      if (k >= 0) throw new ShardPlanError(`shard ${k} of schedule.num_shards=${numShards} holds an estimated ${minutes(loads[k]!)} min, over schedule.max_minutes_per_shard=${limit(max)}; raise schedule.num_shards or set it to null to pack as many shards as needed`);
    }
  } else if (max !== null) {
    shards = [];
    loads = [];
    for (const it of sorted) {
      const k = loads.findIndex((l) => l + it.cost <= max);
      if (k >= 0) {
        shards[k]!.push(it);
        loads[k]! += it.cost;
      } else {
        shards.push([it]);
        loads.push(it.cost);
      }
    }
    if (shards.length === 0) shards.push([]), loads.push(0);
  } else {
    shards = [sorted];
    loads = [sorted.reduce((s, it) => s + it.cost, 0)];
  }
  // Within a shard, videos in uid order (the order they are extracted and logged).
  for (const s of shards) s.sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
  return { shards, loads };
}

const minutes = (seconds: number) => String(Math.round((seconds / 60) * 100) / 100);
/** The limit as configured (minutes), without the float noise of the seconds round trip. */
const limit = (seconds: number) => String(Math.round((seconds / 60) * 1e6) / 1e6);

/** `features.h5` → `features.shard-2-of-4.h5`: shards never write the same file. */
export function shardPath(outPath: string, shard: number, count: number): string {
  const m = /(\.[^./\\]+)$/.exec(outPath);
  const ext = m ? m[1]! : '';
  return `${outPath.slice(0, outPath.length - ext.length)}.shard-${shard}-of-${count}${ext}`;
}
