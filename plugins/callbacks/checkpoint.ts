import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { saveCheckpoint, saveWeights, weightsFile } from '../../core/engine/safetensors.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import type { Callback, CallbackContext } from './events.ts';
import { improves, monitoredValue, type MonitorMode } from './monitor.ts';

export interface CheckpointOptions {
  every: number;
  keep: number;
  monitor: string | null;
  mode: MonitorMode;
}

/** The periodic weights file of epoch `epoch` (0-based, as metrics.jsonl counts). */
export const epochFile = (epoch: number) => weightsFile(`epoch_${epoch}`);

/**
 * Checkpointing as Lightning's ModelCheckpoint does it, in `<run dir>/checkpoints/` (format: core/engine/safetensors.ts):
 * every `every` epochs and after the last, `last.safetensors` (weights only: the model's state dict) and
 * `last.optim.safetensors` (optimizer state, step, where to continue), which `task.resume` reads; with `keep` > 0
 * also `epoch_<N>.safetensors` (weights), the newest `keep` of them kept; with `monitor`, `best.safetensors`
 * (weights) whenever that evaluation value improves (`mode` max: higher is better).
 */
@injectable()
export class CheckpointCallback implements Callback {
  readonly name = 'checkpoint';
  private best: number | null = null;
  private readonly periodic: string[] = [];

  constructor(@inject(PLUGIN_CONFIG) private readonly options: CheckpointOptions) {}

  after_eval(ctx: CallbackContext): void {
    const { monitor, mode } = this.options;
    if (monitor === null) return;
    const value = monitoredValue(ctx.values, monitor, 'checkpoint callback (task.checkpoint)');
    if (!improves(value, this.best, mode)) return;
    this.best = value;
    saveWeights(join(ctx.outputDir, 'checkpoints', weightsFile('best')), ctx.parameters(), ctx.step);
    ctx.log.info(`checkpoint: best ${monitor}=${value} at step ${ctx.step}: checkpoints/best.safetensors`);
  }

  after_training_epoch(ctx: CallbackContext): void {
    const epoch = ctx.epoch ?? 0;
    if ((epoch + 1) % this.options.every !== 0 && !ctx.last) return;
    const dir = join(ctx.outputDir, 'checkpoints');
    const params = ctx.parameters();
    if (ctx.trainingState) saveCheckpoint(dir, { params, step: ctx.step, ...ctx.trainingState() });
    if (this.options.keep === 0) return;
    saveWeights(join(dir, epochFile(epoch)), params, ctx.step);
    this.periodic.push(epochFile(epoch));
    // Only this run's files count: a directory holds one run's checkpoints.
    for (const old of this.periodic.splice(0, Math.max(0, this.periodic.length - this.options.keep))) rmSync(join(dir, old), { force: true });
  }
}

export const CHECKPOINT_SCHEMA = {
  type: 'object',
  properties: {
    every: { type: 'integer', minimum: 1, default: 1, description: 'write last.safetensors (and epoch_<N>) every k epochs and after the last' },
    keep: { type: 'integer', minimum: 0, default: 0, description: 'periodic epoch_<N>.safetensors files kept (the newest; 0: none)' },
    monitor: { type: ['string', 'null'], default: null, description: 'the evaluation value best.safetensors tracks (e.g. map); null: no best file' },
    mode: { enum: ['min', 'max'], default: 'max', description: 'max: a higher monitored value is better' },
  },
  additionalProperties: false,
};

export const plugin = definePlugin({
  kind: 'callback',
  name: 'checkpoint',
  description: 'last/best/periodic checkpoints: weights-only safetensors state dicts, optimizer state beside last',
  schema: CHECKPOINT_SCHEMA,
  create: CheckpointCallback,
});
