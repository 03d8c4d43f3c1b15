// `task=extract_features` (Ego4D's feature extraction): the backbone at `model.backbone` over windows of
// every input video, one HDF5 dataset per uid at `io.out_path` (or this shard's file). See plan.ts for the
// inputs and sharding, video-features.ts for one video, writer.ts for the file.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../../../core/config/config.ts';
import { UsageError, VidraError } from '../../../core/config/errors.ts';
import type { FeatureExtractor } from '../../../core/engine/backbone.ts';
import { packageVersion } from '../../../core/paths.ts';
import { inject, injectable } from '../../../core/plugins/di.ts';
import type { JobContext, Task } from '../../../core/plugins/interfaces.ts';
import { definePlugin, type PluginRegistry } from '../../../core/plugins/registry.ts';
import { CONFIG, JOB_CONTEXT, PLUGIN_CONFIG, REGISTRY } from '../../../core/plugins/tokens.ts';
import { writeFileAtomic } from '../../../core/run/atomic.ts';
import { openSource } from '../../../core/video/index.ts';
import { ensureEgo4dVideos } from '../../datasets/ego4d-videos.ts';
import { pluginAt } from '../plugin-nodes.ts';
import { planExtraction, readSections, shardSweep } from './plan.ts';
import { extractThread } from './extract-thread.ts';
import { ExtractProgress } from './progress.ts';
import { extractVideo, spatialOf } from './video-features.ts';
import { completedUids, mergeFeatureFiles, writeVideoFeatures } from './writer.ts';

export const BACKBONE_NODE = 'model.backbone';

interface ExtractOptions {
  batch_size: number;
  prefetch: number;
}

/** task.prefetch, shared by task=profile (which composes this task's config). */
export const PREFETCH_SCHEMA = {
  type: 'integer',
  minimum: 0,
  default: 2,
  description: 'batches of windows assembled ahead in a worker thread while the backbone runs (0: in the main thread when needed)',
} as const;

export interface FailedVideo {
  uid: string;
  path: string;
  reason: string;
}

/** What identifies the backbone's weights: the ONNX file it runs, else its weights file, else its config (seeded init). */
export function backboneHash(node: Record<string, unknown>): string {
  const file = typeof node.path === 'string' ? node.path : typeof node.weights === 'string' ? node.weights : null;
  const h = createHash('sha256');
  if (file !== null && existsSync(resolve(file))) h.update(readFileSync(resolve(file)));
  else {
    const { device: _d, threads: _t, ...rest } = node;
    h.update(JSON.stringify(rest, Object.keys(rest).sort()));
  }
  return `sha256:${h.digest('hex')}`;
}

@injectable()
export class ExtractFeaturesTask implements Task {
  constructor(
    @inject(PLUGIN_CONFIG) private readonly options: ExtractOptions,
    @inject(JOB_CONTEXT) private readonly job: JobContext,
    @inject(CONFIG) private readonly config: Config,
    @inject(REGISTRY) private readonly registry: PluginRegistry,
  ) {}

  async run(): Promise<Record<string, unknown>> {
    const log = this.job.log;
    const { io, window } = readSections(this.config);
    if (io.generate !== null) log.info(`io.generate=${io.generate}: ${(await ensureEgo4dVideos(resolve(io.video_dir!))).length} videos in ${io.video_dir}`);
    const plan = planExtraction(this.config);
    if (plan.shard === null && plan.shardFiles.length > 1) {
      const present = plan.shardFiles.filter((f, k) => plan.shards[k]!.length > 0 || existsSync(f));
      const missing = present.filter((f) => !existsSync(f));
      if (missing.length) throw new UsageError(`schedule.merge: shard file${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing (run every shard first)`);
      const n = await mergeFeatureFiles(present, plan.outPath);
      log.info(`merged ${present.length} shard files (${n} videos) into ${plan.outPath}`);
      return { merged: n };
    }
    const outPath = plan.outPath;
    if (!io.filter_completed && existsSync(outPath)) {
      log.warn(`io.filter_completed=false: starting ${outPath} afresh`);
      rmSync(outPath);
    }
    const done = io.filter_completed ? await completedUids(outPath) : new Set<string>();
    const todo = plan.videos.filter((v) => !done.has(v.uid));
    const shardText = plan.shard === null ? '' : ` (shard ${plan.shard} of ${plan.shardFiles.length})`;
    log.info(`extract_features${shardText}: ${plan.videos.length} videos, ${plan.videos.length - todo.length} already in ${outPath}, ${todo.length} to do`);

    const backbone = pluginAt<FeatureExtractor>(this.config, this.registry, 'extract_features', BACKBONE_NODE, 'model');
    const node = this.config.select(BACKBONE_NODE) as Record<string, unknown>;
    const failed: FailedVideo[] = [];
    let windows = 0;
    const thread = extractThread({ prefetch: this.options.prefetch, notice: (line) => log.warn(line) });
    try {
      await backbone.load();
      const attrsBase = {
        backbone: String(node.name ?? node._target_),
        backbone_hash: backboneHash(node),
        vidra_version: packageVersion(),
        frames: window.frames,
        stride: window.stride,
      };
      const spatial = spatialOf(backbone, node);
      const progress = new ExtractProgress(todo.length, log);
      for (const [i, v] of todo.entries()) {
        // Between videos: the file holds whole videos only; a rerun continues from here.
        if (this.job.signal.aborted) throw new VidraError('interrupted');
        let result;
        try {
          const source = await openSource(v.path);
          progress.startVideo(v.uid, i);
          result = await extractVideo(source, backbone, spatial, window, this.options.batch_size, {
            signal: this.job.signal,
            progress: (w, frames) => progress.update(w, frames),
            thread,
          });
        } catch (err) {
          if (this.job.signal.aborted) throw err;
          const reason = String((err as Error).message ?? err).trim();
          failed.push({ uid: v.uid, path: v.path, reason });
          progress.failVideo(v.uid, reason);
          continue;
        }
        await writeVideoFeatures(outPath, v.uid, result.data, result.rows, result.dim, {
          ...attrsBase,
          fps: result.fps,
          num_frames: result.decodedFrames,
          window_start_sec: result.start,
          window_end_sec: result.end,
        });
        windows += result.rows;
        progress.endVideo(v.uid, result.rows);
      }
      progress.done();
    } finally {
      await thread.close();
      await backbone.dispose();
    }
    writeFileAtomic(join(this.job.outputDir, 'failed_videos.json'), `${JSON.stringify(failed, null, 2)}\n`);
    const result = { videos: plan.videos.length, skipped: plan.videos.length - todo.length, extracted: todo.length - failed.length, failed: failed.length, windows };
    writeFileAtomic(join(this.job.outputDir, 'metrics.json'), `${JSON.stringify(result, null, 2)}\n`);
    if (failed.length) {
      throw new Error(`${failed.length} of ${todo.length} videos failed (${failed.length < todo.length ? `the others are in ${outPath}; ` : ''}reasons in failed_videos.json):\n${failed.map((f) => `  ${f.uid}: ${f.reason}`).join('\n')}`);
    }
    log.info(`features of ${todo.length} videos (${windows} windows) written to ${outPath}`);
    return result;
  }
}

/** A backbone is configured and takes the window's frames. */
export function checkBackboneWindow(config: Config): void {
  if (!config.has(BACKBONE_NODE) || config.select(BACKBONE_NODE) === null) {
    throw new UsageError(`task=extract_features needs a backbone at ${BACKBONE_NODE} (e.g. model=r2plus1d, or model/backbone=mvit_v2_s)`);
  }
  const { window } = readSections(config);
  const frames = (config.select(BACKBONE_NODE) as { frames?: unknown }).frames;
  if (typeof frames === 'number' && frames !== window.frames) {
    throw new UsageError(`window.frames=${window.frames} but ${BACKBONE_NODE}.frames=${frames}: the backbone takes clips of ${frames} frames (leave window.frames at \${model.backbone.frames})`);
  }
}

/** Prepared-job check: inputs, uid_list, window vs backbone and the shard plan, before any run directory. */
function checkExtraction({ config }: { config: Config }): void {
  checkBackboneWindow(config);
  // Generated videos do not exist before the job: their listing is checked when it runs.
  if (readSections(config).io.generate === null) planExtraction(config);
}

export const plugin = definePlugin({
  kind: 'task',
  name: 'extract_features',
  description: 'extract backbone features of videos into one HDF5 file (Ego4D layout; resumable, shardable)',
  schema: {
    type: 'object',
    properties: {
      batch_size: { type: 'integer', minimum: 1, default: 8, description: 'windows per backbone call' },
      prefetch: PREFETCH_SCHEMA,
    },
    additionalProperties: false,
  },
  create: ExtractFeaturesTask,
  check: checkExtraction,
  expand: ({ config }) => shardSweep(config),
});
