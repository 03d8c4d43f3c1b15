import type { JobLogger } from '../../core/run/logger.ts';

/**
 * Training progress: a bar with rate and ETA redrawn in place on a TTY; elsewhere (CI, log files) a plain
 * line every `every` steps. The bar goes to stderr so that stdout stays machine-readable.
 */
export class Progress {
  private readonly start = performance.now();
  private readonly tty = Boolean(process.stderr.isTTY);
  private lastLine = 0;

  constructor(
    private readonly total: number,
    private readonly log: JobLogger,
    private readonly every: number,
  ) {}

  tick(step: number, loss: number): void {
    const elapsed = (performance.now() - this.start) / 1000;
    const rate = step / Math.max(elapsed, 1e-9);
    const eta = (this.total - step) / Math.max(rate, 1e-9);
    if (this.tty) {
      const width = 30;
      const filled = Math.round((width * step) / this.total);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${step}/${this.total} loss ${loss.toFixed(4)} ${rate.toFixed(1)} it/s ETA ${eta.toFixed(0)}s `);
    } else if (step - this.lastLine >= this.every || step === this.total) {
      this.lastLine = step;
      this.log.info(`step ${step}/${this.total} loss ${loss.toFixed(4)} (${rate.toFixed(1)} it/s, ETA ${eta.toFixed(0)}s)`);
    }
  }

  done(): void {
    if (this.tty) process.stderr.write('\n');
  }
}
