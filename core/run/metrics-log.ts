import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventFileWriter, type Scalar } from './event-file.ts';

/** `vidra.logger`: where a run's metrics go besides metrics.jsonl (null: nowhere else). */
export const METRICS_LOGGERS = ['tensorboard'] as const;
export type MetricsLogger = (typeof METRICS_LOGGERS)[number];

/**
 * A run's metrics: each record is a line of `metrics.jsonl`, and with `vidra.logger=tensorboard` also the
 * same numbers as TensorBoard scalars in `<run dir>/tb/`.
 */
export class MetricsLog {
  private readonly file: string;
  private readonly events?: EventFileWriter;
  private step = 0;

  constructor(outputDir: string, logger: MetricsLogger | null) {
    this.file = join(outputDir, 'metrics.jsonl');
    if (logger === 'tensorboard') this.events = new EventFileWriter(join(outputDir, 'tb'));
  }

  write(record: Record<string, unknown>): void {
    const now = new Date();
    appendFileSync(this.file, `${JSON.stringify({ ...record, time: now.toISOString() })}\n`);
    // A record without a step (a continual task's stream evaluation) belongs to the last step logged.
    if (typeof record.step === 'number') this.step = record.step;
    this.events?.addScalars(this.step, scalarsOf(record), now.getTime() / 1000);
  }
}

/** The numbers of a record as scalars: `loss`, `lr`; an evaluation's under its split (`val/map`) or phase (`pretrain/loss`). */
export function scalarsOf(record: Record<string, unknown>): Scalar[] {
  const group = [record.phase, record.split].find((v) => typeof v === 'string');
  return Object.entries(record)
    .filter(([key, value]) => typeof value === 'number' && key !== 'step' && key !== 'epoch')
    .map(([key, value]) => ({ tag: group ? `${group}/${key}` : key, value: value as number }));
}
