import { ProgressBar } from '../../core/run/progress.ts';
import type { JobLogger } from '../../core/run/logger.ts';

/** Training progress (core/run/progress.ts): a bar on a TTY, else a plain line every `every` steps. */
export class Progress {
  private readonly bar: ProgressBar;
  private lastLine = 0;

  constructor(
    total: number,
    log: JobLogger,
    private readonly every: number,
  ) {
    // Lines come every `every` steps (log_every), not by the clock: everyS is effectively off.
    this.bar = new ProgressBar('step', total, log, { everyS: Infinity });
  }

  tick(step: number, loss: number): void {
    const due = step - this.lastLine >= this.every;
    if (due) this.lastLine = step;
    this.bar.update(step, `loss ${loss.toFixed(4)}`, due);
  }

  done(): void {
    this.bar.done();
  }
}
