/**
 * Vidra's one progress facility: a bar with rate and ETA redrawn in place on stderr when stderr is a
 * terminal, plain parseable lines elsewhere (not a TTY, `NO_COLOR`, `CI`), nothing on the console under
 * `--quiet`. The plain lines also go to the job log, so it mirrors what the console showed.
 *
 * The console level (`--quiet`, `--verbose`) and the style travel in the environment so that forked
 * sweep workers inherit them.
 */
export type ConsoleLevel = 'quiet' | 'normal' | 'verbose';
export type ProgressStyle = 'bar' | 'lines' | 'off';

export function consoleLevel(): ConsoleLevel {
  const v = process.env.VIDRA_CONSOLE;
  return v === 'quiet' || v === 'verbose' ? v : 'normal';
}

export function setConsoleLevel(level: ConsoleLevel): void {
  if (level === 'normal') delete process.env.VIDRA_CONSOLE;
  else process.env.VIDRA_CONSOLE = level;
}

/** How progress shows now; `VIDRA_PROGRESS=lines` forces lines (a sweep's jobs, whose console the sweep bar owns). */
export function progressStyle(): ProgressStyle {
  if (consoleLevel() === 'quiet') return 'off';
  const env = process.env;
  if (env.VIDRA_PROGRESS === 'lines' || !process.stderr.isTTY || ('NO_COLOR' in env && env.NO_COLOR !== '') || (env.CI && env.CI !== 'false')) return 'lines';
  return 'bar';
}

/** `1:02:03`, `2:03`; `?` when unknown. */
export function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const t = Math.max(0, Math.round(seconds));
  const h = Math.floor(t / 3600);
  const m = String(Math.floor((t % 3600) / 60)).padStart(h ? 2 : 1, '0');
  return `${h ? `${h}:` : ''}${m}:${String(t % 60).padStart(2, '0')}`;
}

/** Where plain lines go: the job's logger (console and job.log), or stderr when there is no job. */
export interface LineSink {
  info(msg: string): void;
  /** The job log only (the bar is on the console). */
  fileOnly?(msg: string): void;
}

let drawn = false;

/** Clears a bar drawn on the terminal so that a log line starts at column 0; the next update redraws it. */
export function clearBar(): void {
  if (!drawn) return;
  process.stderr.write('\r\x1b[K');
  drawn = false;
}

const stderrSink: LineSink = { info: (msg) => process.stderr.write(`${msg}\n`) };

export class ProgressBar {
  private readonly style: ProgressStyle;
  private readonly start = performance.now();
  private lastLine = this.start;
  private printed = false;

  /**
   * `label`: what is counted (`train`, `eval`, `sweep`); `unit`: the rate's unit (`it`, `windows`);
   * `everyS`: a plain line every this many seconds, so a short operation prints none; the last one comes
   * when an earlier one did.
   */
  constructor(
    private readonly label: string,
    readonly total: number,
    private readonly sink: LineSink = stderrSink,
    private readonly options: { unit?: string; everyS?: number; style?: ProgressStyle } = {},
  ) {
    this.style = options.style ?? progressStyle();
  }

  /** The text of one progress line: `label 3/10 detail (1.5 it/s, ETA 0:05)`. */
  line(done: number, detail = ''): string {
    const elapsed = (performance.now() - this.start) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const eta = done >= this.total ? 0 : done > 0 ? (elapsed / done) * (this.total - done) : NaN;
    return `${this.label} ${done}/${this.total}${detail ? ` ${detail}` : ''} (${rate.toFixed(1)} ${this.options.unit ?? 'it'}/s, ETA ${clock(eta)})`;
  }

  /** `done` of `total` so far; `force`: a plain line now whatever the interval (a step the user asked to see). */
  update(done: number, detail = '', force = false): void {
    const now = performance.now();
    const due = force || (done >= this.total && this.printed) || now - this.lastLine >= (this.options.everyS ?? 5) * 1000;
    if (this.style === 'off' && !due) return;
    const text = this.line(done, detail);
    if (this.style === 'off') this.sink.fileOnly?.(text);
    else if (this.style === 'bar') {
      const width = 24;
      const filled = Math.min(width, Math.round((width * done) / Math.max(this.total, 1)));
      process.stderr.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
      drawn = true;
      if (due) this.sink.fileOnly?.(text);
    } else if (due) this.sink.info(text);
    if (due) {
      this.lastLine = now;
      this.printed = true;
    }
  }

  /** Ends the bar: the terminal keeps its last state on a line of its own. */
  done(): void {
    if (this.style === 'bar' && drawn) {
      process.stderr.write('\n');
      drawn = false;
    }
  }
}
