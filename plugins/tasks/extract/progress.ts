import type { JobLogger } from '../../../core/run/logger.ts';

const clock = (s: number) => {
  if (!Number.isFinite(s)) return '?';
  const t = Math.round(s);
  return `${Math.floor(t / 3600)}:${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
};

/**
 * Extraction progress: videos done/total, windows/s, decode fps and ETA, redrawn in place on a TTY (stderr);
 * elsewhere one plain line per video.
 */
export class ExtractProgress {
  private readonly tty = Boolean(process.stderr.isTTY);
  private readonly start = performance.now();
  private videoStart = performance.now();
  private videosDone = 0;
  private windows = 0;
  private frames = 0;
  private current = '';

  constructor(
    private readonly total: number,
    private readonly log: JobLogger,
  ) {}

  startVideo(uid: string, _i: number): void {
    this.current = uid;
    this.videoStart = performance.now();
  }

  private rates(videoWindows: number, videoFrames: number) {
    const elapsed = (performance.now() - this.start) / 1000;
    const videoElapsed = Math.max((performance.now() - this.videoStart) / 1000, 1e-9);
    const eta = this.videosDone > 0 ? (elapsed / this.videosDone) * (this.total - this.videosDone) : NaN;
    return `${((this.windows + videoWindows) / Math.max(elapsed, 1e-9)).toFixed(1)} windows/s, decode ${(videoFrames / videoElapsed).toFixed(0)} fps, ETA ${clock(eta)}`;
  }

  update(videoWindows: number, videoFrames: number): void {
    this.frames = videoFrames;
    if (this.tty) process.stderr.write(`\r\x1b[K[${this.videosDone}/${this.total}] ${this.current}: ${videoWindows} windows, ${this.rates(videoWindows, videoFrames)}`);
  }

  endVideo(uid: string, windows: number): void {
    this.videosDone++;
    this.windows += windows;
    const line = `[${this.videosDone}/${this.total}] ${uid}: ${windows} windows, ${this.rates(0, this.frames)}`;
    if (this.tty) process.stderr.write(`\r\x1b[K${line}`);
    else this.log.info(line);
  }

  failVideo(uid: string, reason: string): void {
    this.videosDone++;
    if (this.tty) process.stderr.write('\n');
    this.log.warn(`[${this.videosDone}/${this.total}] ${uid} failed: ${reason}`);
  }

  done(): void {
    if (this.tty) process.stderr.write('\n');
  }
}
