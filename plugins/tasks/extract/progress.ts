import { ProgressBar } from '../../../core/run/progress.ts';
import type { JobLogger } from '../../../core/run/logger.ts';

/**
 * Extraction progress (core/run/progress.ts): videos done/total with windows/s, decode fps and ETA; on a
 * TTY the bar also moves within a video, elsewhere one plain line per video.
 */
export class ExtractProgress {
  private readonly bar: ProgressBar;
  private readonly start = performance.now();
  private videoStart = performance.now();
  private videosDone = 0;
  private windows = 0;
  private frames = 0;
  private current = '';

  constructor(
    total: number,
    private readonly log: JobLogger,
  ) {
    this.bar = new ProgressBar('videos', total, log, { unit: 'videos', everyS: Infinity });
  }

  startVideo(uid: string, _i: number): void {
    this.current = uid;
    this.videoStart = performance.now();
  }

  private detail(uid: string, videoWindows: number, videoFrames: number): string {
    const elapsed = Math.max((performance.now() - this.start) / 1000, 1e-9);
    const videoElapsed = Math.max((performance.now() - this.videoStart) / 1000, 1e-9);
    return `${uid}: ${videoWindows} windows, ${((this.windows + videoWindows) / elapsed).toFixed(1)} windows/s, decode ${(videoFrames / videoElapsed).toFixed(0)} fps`;
  }

  update(videoWindows: number, videoFrames: number): void {
    this.frames = videoFrames;
    // Not a finished item: on a TTY the bar redraws, elsewhere nothing (a line per video comes at its end).
    this.bar.update(this.videosDone, this.detail(this.current, videoWindows, videoFrames));
  }

  endVideo(uid: string, windows: number): void {
    this.windows += windows;
    this.videosDone++;
    this.bar.update(this.videosDone, this.detail(uid, windows, this.frames), true);
  }

  failVideo(uid: string, reason: string): void {
    this.videosDone++;
    this.log.warn(`[${this.videosDone}/${this.bar.total}] ${uid} failed: ${reason}`);
  }

  done(): void {
    this.bar.done();
  }
}
