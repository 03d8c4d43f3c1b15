// `task=profile` (Ego4D's profile.py): extraction on `profile.num_videos` of the inputs, timed per stage
// (probe, decode, preprocess, model, write), projected over the whole input list: compute hours, and the
// array jobs and per-job time limit that finish within `profile.target_hours`. Writes profile.json (whose
// seconds_per_window prices videos for schedule.profile) and prints the table.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../../core/config/config.ts';
import { UsageError } from '../../../core/config/errors.ts';
import type { FeatureExtractor } from '../../../core/engine/backbone.ts';
import { inject, injectable } from '../../../core/plugins/di.ts';
import type { JobContext, Task } from '../../../core/plugins/interfaces.ts';
import { definePlugin, type PluginRegistry } from '../../../core/plugins/registry.ts';
import { CONFIG, JOB_CONTEXT, PLUGIN_CONFIG, REGISTRY } from '../../../core/plugins/tokens.ts';
import { writeFileAtomic } from '../../../core/run/atomic.ts';
import { openSource, resolveBinaries } from '../../../core/video/index.ts';
import { pluginAt } from '../plugin-nodes.ts';
import { extractThread } from './extract-thread.ts';
import { BACKBONE_NODE, checkBackboneWindow, PREFETCH_SCHEMA } from './extract_features.ts';
import { listVideos, probeDuration } from './inputs.ts';
import { readSections } from './plan.ts';
import { extractVideo, spatialOf, type StageTimes } from './video-features.ts';
import { estimatedWindows } from './windows.ts';
import { writeVideoFeatures } from './writer.ts';

interface ProfileTaskOptions {
  batch_size: number;
  prefetch: number;
}

interface ProfileOptions {
  num_videos: number;
  target_hours: number;
}

export interface ProfileReport {
  videos: Array<{ uid: string; duration_sec: number; windows: number; seconds: number }>;
  stages_sec: StageTimes & { probe: number; write: number };
  windows: number;
  video_seconds: number;
  seconds: number;
  seconds_per_window: number;
  clips_per_second: number;
  realtime_factor: number;
  projection: { videos: number; video_hours: number; windows: number; compute_hours: number; target_hours: number; array_jobs: number; max_minutes_per_shard: number; time_limit_minutes: number };
}

/**
 * Array jobs to finish `computeHours` within `targetHours`: each job's share (the shard budget,
 * schedule.max_minutes_per_shard) and its time limit, the share plus a quarter as margin.
 */
export function projectJobs(computeHours: number, targetHours: number): { array_jobs: number; max_minutes_per_shard: number; time_limit_minutes: number } {
  const jobs = Math.max(1, Math.ceil(computeHours / targetHours));
  const share = (computeHours / jobs) * 60;
  return { array_jobs: jobs, max_minutes_per_shard: Math.max(1, Math.ceil(share)), time_limit_minutes: Math.max(1, Math.ceil((share * 5) / 4)) };
}

/** The overrides that run the projected extraction as one Slurm array (packed by this profile). */
export function shardSettings(r: ProfileReport, profilePath: string): string {
  return `schedule.profile=${profilePath} schedule.max_minutes_per_shard=${r.projection.max_minutes_per_shard} schedule.shard=all vidra/launcher=slurm vidra.launcher.timeout_min=${r.projection.time_limit_minutes}`;
}

@injectable()
export class ProfileTask implements Task {
  constructor(
    @inject(PLUGIN_CONFIG) private readonly options: ProfileTaskOptions,
    @inject(JOB_CONTEXT) private readonly job: JobContext,
    @inject(CONFIG) private readonly config: Config,
    @inject(REGISTRY) private readonly registry: PluginRegistry,
  ) {}

  async run(): Promise<Record<string, unknown>> {
    const { io, window, seed } = readSections(this.config);
    const p = this.config.select('profile') as ProfileOptions;
    const all = listVideos(io, seed);
    const sample = listVideos({ ...io, video_limit: Math.min(p.num_videos, all.length) }, seed);
    const backbone = pluginAt<FeatureExtractor>(this.config, this.registry, 'profile', BACKBONE_NODE, 'model');
    const node = this.config.select(BACKBONE_NODE) as Record<string, unknown>;
    const spatial = spatialOf(backbone, node);
    const times = { probe: 0, decode: 0, preprocess: 0, model: 0, write: 0 };
    const scratch = join(this.job.outputDir, 'profile-features.h5');
    const videos: ProfileReport['videos'] = [];
    const thread = extractThread({ prefetch: this.options.prefetch, notice: (line) => this.job.log.warn(line) });
    try {
      await backbone.load();
      for (const v of sample) {
        if (this.job.signal.aborted) throw new Error('interrupted');
        const t0 = performance.now();
        const source = await openSource(v.path);
        times.probe += (performance.now() - t0) / 1000;
        const f = await extractVideo(source, backbone, spatial, window, this.options.batch_size, { signal: this.job.signal, times, thread });
        const t1 = performance.now();
        await writeVideoFeatures(scratch, v.uid, f.data, f.rows, f.dim, {});
        times.write += (performance.now() - t1) / 1000;
        videos.push({ uid: v.uid, duration_sec: source.duration, windows: f.rows, seconds: (performance.now() - t0) / 1000 });
        this.job.log.info(`profiled ${v.uid}: ${f.rows} windows in ${videos.at(-1)!.seconds.toFixed(2)} s`);
      }
    } finally {
      await thread.close();
      await backbone.dispose();
      rmSync(scratch, { force: true });
    }
    const windows = videos.reduce((s, v) => s + v.windows, 0);
    const seconds = videos.reduce((s, v) => s + v.seconds, 0);
    const videoSeconds = videos.reduce((s, v) => s + v.duration_sec, 0);
    const perWindow = seconds / Math.max(windows, 1);
    // The whole list: durations from the manifest where given, else the container header.
    let ffprobe: string | undefined;
    let totalWindows = 0;
    let totalSeconds = 0;
    for (const v of all) {
      const d = v.duration ?? probeDuration(v.path, (ffprobe ??= resolveBinaries().ffprobe.path));
      totalSeconds += d;
      totalWindows += estimatedWindows(d, window);
    }
    const computeHours = (totalWindows * perWindow) / 3600;
    const report: ProfileReport = {
      videos,
      stages_sec: times,
      windows,
      video_seconds: videoSeconds,
      seconds,
      seconds_per_window: perWindow,
      clips_per_second: windows / Math.max(seconds, 1e-9),
      realtime_factor: videoSeconds / Math.max(seconds, 1e-9),
      projection: { videos: all.length, video_hours: totalSeconds / 3600, windows: totalWindows, compute_hours: computeHours, target_hours: p.target_hours, ...projectJobs(computeHours, p.target_hours) },
    };
    const profilePath = join(this.job.outputDir, 'profile.json');
    writeFileAtomic(profilePath, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${profileTable(report)}shard settings (vidra run -m task=extract_features ...):\n  ${shardSettings(report, profilePath)}\n`);
    return { clips_per_second: report.clips_per_second, realtime_factor: report.realtime_factor, compute_hours: computeHours, array_jobs: report.projection.array_jobs };
  }
}

export function profileTable(r: ProfileReport): string {
  const total = Object.values(r.stages_sec).reduce((a, b) => a + b, 0) || 1;
  const rows: Array<[string, string]> = [
    ...Object.entries(r.stages_sec).map(([k, v]): [string, string] => [`${k} (s)`, `${v.toFixed(3)}  ${((100 * v) / total).toFixed(1)}%`]),
    ['videos profiled', String(r.videos.length)],
    ['windows', String(r.windows)],
    ['clips/s', r.clips_per_second.toFixed(2)],
    ['real-time factor', `${r.realtime_factor.toFixed(2)}x`],
    ['s/window', r.seconds_per_window.toFixed(5)],
    ['input videos', String(r.projection.videos)],
    ['input hours', r.projection.video_hours.toFixed(2)],
    ['compute hours', r.projection.compute_hours.toFixed(2)],
    [`array jobs (≤ ${r.projection.target_hours} h)`, String(r.projection.array_jobs)],
    ['minutes per shard', String(r.projection.max_minutes_per_shard)],
    ['time limit per job (min)', String(r.projection.time_limit_minutes)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n`;
}

function checkProfile({ config }: { config: Config }): void {
  checkBackboneWindow(config);
  const p = config.select('profile', { default: null }) as Partial<ProfileOptions> | null;
  if (!p || !(Number.isInteger(p.num_videos) && p.num_videos! > 0)) throw new UsageError(`profile.num_videos must be a positive integer, got ${JSON.stringify(p?.num_videos)}`);
  if (!(typeof p.target_hours === 'number' && p.target_hours > 0)) throw new UsageError(`profile.target_hours must be a positive number of hours, got ${JSON.stringify(p.target_hours)}`);
  const { io, seed } = readSections(config);
  listVideos(io, seed);
}

export const plugin = definePlugin({
  kind: 'task',
  name: 'profile',
  description: 'time extraction per stage on a few videos and project the whole input list (compute hours, array jobs)',
  schema: {
    type: 'object',
    properties: { batch_size: { type: 'integer', minimum: 1, default: 8, description: 'windows per backbone call' }, prefetch: PREFETCH_SCHEMA },
    additionalProperties: false,
  },
  create: ProfileTask,
  check: checkProfile,
});
