import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import type { Callback, CallbackContext } from './events.ts';
import { improves, monitoredValue, type MonitorMode } from './monitor.ts';

interface EarlyStoppingOptions {
  monitor: string;
  mode: MonitorMode;
  patience: number;
  min_delta: number;
}

/**
 * Lightning's EarlyStopping: stops training when the monitored evaluation value has not improved by more than
 * `min_delta` for `patience` evaluations in a row (`mode` max: higher is better). The train task then finishes
 * the epoch (its checkpoint is the last) and says why in the log and metrics.jsonl.
 */
@injectable()
export class EarlyStopping implements Callback {
  readonly name = 'early_stopping';
  private best: number | null = null;
  private bestStep = 0;
  private waited = 0;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: EarlyStoppingOptions) {}

  after_eval(ctx: CallbackContext): void {
    const { monitor, mode, patience, min_delta } = this.options;
    const value = monitoredValue(ctx.values, monitor, 'early_stopping callback');
    if (improves(value, this.best, mode, min_delta)) {
      this.best = value;
      this.bestStep = ctx.step;
      this.waited = 0;
      return;
    }
    if (++this.waited >= patience) {
      ctx.stop(`early_stopping: ${monitor} has not improved by more than ${min_delta} for ${patience} evaluation${patience === 1 ? '' : 's'} (best ${this.best} at step ${this.bestStep})`);
    }
  }
}

export const plugin = definePlugin({
  kind: 'callback',
  name: 'early_stopping',
  description: 'stop training when a monitored evaluation value stops improving',
  schema: {
    type: 'object',
    properties: {
      monitor: { type: 'string', description: 'the evaluation value watched (a key of the evaluation lines in metrics.jsonl, e.g. map)' },
      mode: { enum: ['min', 'max'], default: 'max', description: 'max: a higher value is better' },
      patience: { type: 'integer', minimum: 1, default: 3, description: 'evaluations without improvement before stopping' },
      min_delta: { type: 'number', minimum: 0, default: 0, description: 'the smallest change that counts as an improvement' },
    },
    required: ['monitor'],
    additionalProperties: false,
  },
  create: EarlyStopping,
});
