// What one extraction job does, from the config: its videos (io.*), the shard it is (schedule.*) and the
// file it writes. Computed the same way when the job is prepared (errors exit 2 before any run directory)
// and when it runs, so every array job agrees on the plan.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../../../core/config/config.ts';
import { UsageError } from '../../../core/config/errors.ts';
import { resolveBinaries } from '../../../core/video/index.ts';
import { listVideos, probeDuration, type InputOptions, type VideoInput } from './inputs.ts';
import { planShards, ShardPlanError, shardPath } from './shards.ts';
import { estimatedWindows } from './windows.ts';

export interface IoOptions extends InputOptions {
  /** Generate the videos into io.video_dir first (synthetic_ego4d: ego4d-videos.ts); null: they exist. */
  generate: 'synthetic_ego4d' | null;
  out_path: string;
  filter_completed: boolean;
}

export interface WindowConfig {
  frames: number;
  stride: number;
  fps: number | null;
}

export interface ScheduleOptions {
  num_shards: number | null;
  /** 'all': every shard, each its own job of a multirun (the task's sweep expansion). */
  shard: number | 'all' | null;
  max_minutes_per_shard: number | null;
  /** A profile.json (task=profile) whose seconds_per_window prices each video; null: its duration. */
  profile: string | null;
  /** Write io.out_path from the shard files instead of extracting. */
  merge: boolean;
}

export interface ExtractionPlan {
  videos: VideoInput[];
  /** The file this job writes. */
  outPath: string;
  /** Shard files of the whole plan (one: io.out_path itself when unsharded). */
  shardFiles: string[];
  /** Videos of each shard. */
  shards: string[][];
  shard: number | null;
}

const section = <T>(config: Config, key: string): T => (config.select(key, { default: {} }) ?? {}) as T;

export function readSections(config: Config): { io: IoOptions; window: WindowConfig; schedule: ScheduleOptions; seed: number } {
  const io = section<Partial<IoOptions>>(config, 'io');
  const window = section<WindowConfig>(config, 'window');
  const schedule = section<Partial<ScheduleOptions>>(config, 'schedule');
  const seed = Number(config.select('seed', { default: 0 }));
  const posInt = (v: unknown, key: string, nullable: boolean) => {
    if (nullable && (v === null || v === undefined)) return;
    if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) throw new UsageError(`${key} must be a positive integer${nullable ? ' or null' : ''}, got ${JSON.stringify(v)}`);
  };
  posInt(window.frames, 'window.frames', false);
  posInt(window.stride, 'window.stride', false);
  if (window.fps !== null && !(typeof window.fps === 'number' && window.fps > 0)) throw new UsageError(`window.fps must be a positive number or null (the video's own rate), got ${JSON.stringify(window.fps)}`);
  posInt(io.video_limit, 'io.video_limit', true);
  if (io.uid_list !== null && io.uid_list !== undefined && !Array.isArray(io.uid_list)) throw new UsageError(`io.uid_list must be a list of uids (io.uid_list=[uid1,uid2]) or null, got ${JSON.stringify(io.uid_list)}`);
  if (io.generate != null && io.generate !== 'synthetic_ego4d') throw new UsageError(`io.generate must be synthetic_ego4d (the synthetic Ego4D set's videos) or null, got ${JSON.stringify(io.generate)}`);
  if (io.generate != null && (io.video_dir == null || io.manifest != null)) throw new UsageError('io.generate writes the videos into io.video_dir: set io.video_dir, and not io.manifest');
  if (typeof io.out_path !== 'string' || io.out_path === '') throw new UsageError('io.out_path must name the HDF5 file to write');
  posInt(schedule.num_shards, 'schedule.num_shards', true);
  if (schedule.max_minutes_per_shard != null && !(typeof schedule.max_minutes_per_shard === 'number' && schedule.max_minutes_per_shard > 0)) {
    throw new UsageError(`schedule.max_minutes_per_shard must be a positive number or null, got ${JSON.stringify(schedule.max_minutes_per_shard)}`);
  }
  return {
    io: { generate: io.generate ?? null, video_dir: io.video_dir ?? null, manifest: io.manifest ?? null, uid_list: io.uid_list ?? null, video_limit: io.video_limit ?? null, filter_completed: io.filter_completed ?? true, out_path: io.out_path },
    window: { ...window, fps: window.fps ?? null },
    schedule: { num_shards: schedule.num_shards ?? null, shard: schedule.shard ?? null, max_minutes_per_shard: schedule.max_minutes_per_shard ?? null, profile: schedule.profile ?? null, merge: schedule.merge ?? false },
    seed,
  };
}

/** Seconds per window measured by task=profile. */
function profileCost(path: string): number {
  const p = resolve(path);
  if (!existsSync(p)) throw new UsageError(`schedule.profile: ${p} does not exist (run task=profile first, or set schedule.profile=null to price videos by duration)`);
  let v: unknown;
  try {
    v = (JSON.parse(readFileSync(p, 'utf8')) as { seconds_per_window?: unknown }).seconds_per_window;
  } catch (err) {
    throw new UsageError(`schedule.profile: ${p} is not valid JSON (${(err as Error).message})`);
  }
  if (!(typeof v === 'number' && v > 0)) throw new UsageError(`schedule.profile: ${p} has no positive seconds_per_window`);
  return v;
}

/** `schedule.shard=all` in a multirun: one job per shard of the plan (the sweep knows their number before submitting). */
export function shardSweep(config: Config): Record<string, string[]> | null {
  if (readSections(config).schedule.shard !== 'all') return null;
  const { shards } = planExtraction(config, { allShards: true });
  return { 'schedule.shard': shards.map((_, k) => String(k)) };
}

export function planExtraction(config: Config, options: { allShards?: boolean } = {}): ExtractionPlan {
  const { io, window, schedule, seed } = readSections(config);
  const videos = listVideos(io, seed);
  const outPath = resolve(io.out_path);
  const sharded = schedule.num_shards !== null || schedule.max_minutes_per_shard !== null;
  if (!sharded) {
    if (schedule.shard !== null) throw new UsageError(`schedule.shard=${schedule.shard} needs schedule.num_shards or schedule.max_minutes_per_shard`);
    if (schedule.merge) throw new UsageError('schedule.merge=true needs the sharding it merges: schedule.num_shards or schedule.max_minutes_per_shard');
    return { videos, outPath, shardFiles: [outPath], shards: [videos.map((v) => v.uid)], shard: null };
  }
  // Cost: windows × the profiled seconds per window, else the video's duration.
  const perWindow = schedule.profile === null ? null : profileCost(schedule.profile);
  let ffprobe: string | undefined;
  const costs = videos.map((v) => {
    const duration = v.duration ?? probeDuration(v.path, (ffprobe ??= resolveBinaries().ffprobe.path));
    const cost = perWindow === null ? duration : estimatedWindows(duration, window) * perWindow;
    return { uid: v.uid, cost };
  });
  let shards: string[][];
  try {
    shards = planShards(costs, { numShards: schedule.num_shards, maxSeconds: schedule.max_minutes_per_shard === null ? null : schedule.max_minutes_per_shard * 60 }).shards.map((s) => s.map((it) => it.uid));
  } catch (err) {
    if (err instanceof ShardPlanError) throw new UsageError(err.message);
    throw err;
  }
  const shardFiles = shards.map((_, k) => shardPath(outPath, k, shards.length));
  if (schedule.merge || options.allShards) return { videos, outPath, shardFiles, shards, shard: null };
  if (schedule.shard === null) throw new UsageError(`schedule.shard: choose one of the ${shards.length} shards (schedule.shard=0..${shards.length - 1}, or 'schedule.shard=range(0,${shards.length})' with -m), or schedule.merge=true to merge them`);
  if (schedule.shard === 'all') {
    throw new UsageError(`schedule.shard=all runs each of the ${shards.length} shards as its own job: use it with -m (vidra run -m ... schedule.shard=all), or choose one shard (schedule.shard=0..${shards.length - 1})`);
  }
  if (!(Number.isInteger(schedule.shard) && schedule.shard >= 0 && schedule.shard < shards.length)) {
    throw new UsageError(`schedule.shard=${schedule.shard} is out of range: the plan has ${shards.length} shard${shards.length > 1 ? 's' : ''} (0..${shards.length - 1})`);
  }
  const mine = new Set(shards[schedule.shard]);
  return { videos: videos.filter((v) => mine.has(v.uid)), outPath: shardFiles[schedule.shard]!, shardFiles, shards, shard: schedule.shard };
}
