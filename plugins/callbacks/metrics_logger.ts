import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { writeFileAtomic } from '../../core/run/atomic.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import type { Callback, CallbackContext } from './events.ts';

interface MetricsLoggerOptions {
  format: 'csv' | 'jsonl';
  log_every: number;
  path: string | null;
}

type Row = Record<string, number | string | null>;

/**
 * Lightning's CSVLogger, or one JSON object a line: a row every `log_every` training steps (step, epoch or
 * experience, loss, lr) and one per evaluation (step, epoch, split, its values), written as they come to `path`
 * (relative to the run directory; default `metrics_log.<format>`). No timestamps: the same config and seed give the
 * same bytes. A CSV's columns are every key seen so far; when a new one appears the file is rewritten with it.
 */
@injectable()
export class MetricsLogger implements Callback {
  readonly name = 'metrics_logger';
  private readonly rows: Row[] = [];
  private readonly columns: string[] = [];
  /** The file, resolved (and its folder made) at the first row. */
  private file: string | undefined;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: MetricsLoggerOptions) {}

  after_training_iteration(ctx: CallbackContext): void {
    if (ctx.step % this.options.log_every !== 0) return;
    this.write(ctx, { step: ctx.step, ...position(ctx), loss: ctx.loss ?? null, lr: ctx.lr ?? null });
  }

  after_eval(ctx: CallbackContext): void {
    this.write(ctx, { step: ctx.step, ...position(ctx), split: ctx.split ?? null, ...ctx.values });
  }

  private write(ctx: CallbackContext, row: Row): void {
    const path = (this.file ??= this.open(ctx.outputDir));
    if (this.options.format === 'jsonl') return appendFileSync(path, `${JSON.stringify(row)}\n`);
    this.rows.push(row);
    const added = Object.keys(row).filter((k) => !this.columns.includes(k));
    this.columns.push(...added);
    if (added.length > 0) writeFileAtomic(path, [csvLine(this.columns, null), ...this.rows.map((r) => csvLine(this.columns, r))].join(''));
    else appendFileSync(path, csvLine(this.columns, row));
  }

  private open(outputDir: string): string {
    const path = resolve(outputDir, this.options.path ?? `metrics_log.${this.options.format}`);
    mkdirSync(dirname(path), { recursive: true });
    return path;
  }
}

function position(ctx: CallbackContext): Row {
  return ctx.experience !== undefined ? { experience: ctx.experience } : ctx.epoch !== undefined ? { epoch: ctx.epoch } : {};
}

/** One CSV record (RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled); null: the header. */
function csvLine(columns: readonly string[], row: Row | null): string {
  const field = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${(row ? columns.map((c) => row[c]) : columns).map(field).join(',')}\n`;
}

export const plugin = definePlugin({
  kind: 'callback',
  name: 'metrics_logger',
  description: 'log training steps and evaluations to a CSV or JSONL file',
  schema: {
    type: 'object',
    properties: {
      format: { enum: ['csv', 'jsonl'], default: 'csv' },
      log_every: { type: 'integer', minimum: 1, default: 10, description: 'a row every k training steps' },
      path: { type: ['string', 'null'], default: null, description: 'the file, relative to the run directory (default metrics_log.<format>)' },
    },
    additionalProperties: false,
  },
  create: MetricsLogger,
});
