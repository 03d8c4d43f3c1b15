// One ffmpeg process decoding a run of consecutive frames to raw RGB (rgb24) on its stdout. A run that does
// not start at frame 0 is reached by input seeking (-ss before -i: ffmpeg seeks to the keyframe before it and
// decodes from there, dropping frames before the position); the position is halfway between the wanted
// frame's pts and its predecessor's, so the first frame out is exactly the wanted one whatever the rounding.
// Passthrough frame timing (binaries.ts passthroughArgs) keeps every decoded frame once: the k-th frame out
// is frame start + k, the same numbering as probe.ts's timestamps.

import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { inputUrl, passthroughArgs, type ResolvedBinary } from './binaries.ts';
import { VideoError } from './errors.ts';
import type { VideoMeta } from './probe.ts';

export interface FrameSink {
  /** Where frame `index` is written (frame-sized), or null to drop it. */
  target(index: number): Uint8Array | null;
  /** Frame `index` is complete in its target. A returned promise pauses the pipe until it settles (backpressure). */
  done(index: number, frame: Uint8Array | null): void | Promise<void>;
}

export interface FrameRun {
  /** Settles when the run has been read: rejects with a VideoError naming the video and the first missing frame. */
  finished: Promise<void>;
  /** Stops ffmpeg (a reader that no longer wants the rest). */
  stop(): void;
}

const STDERR_KEEP = 4096;

export function ffmpegArgs(meta: Pick<VideoMeta, 'path' | 'timestamps'>, start: number, count: number, passthrough: string[]): string[] {
  const ts = meta.timestamps;
  const seek = start > 0 ? ['-ss', ((ts[start - 1]! + ts[start]!) / 2).toFixed(6)] : [];
  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    ...seek, '-i', inputUrl(meta.path),
    '-map', '0:v:0', '-an', '-sn', '-dn',
    ...passthrough,
    '-frames:v', String(count),
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
}

/** Decodes frames [start, start + count) of the video into `sink`, in order. */
export function readFrameRun(meta: VideoMeta, ffmpeg: ResolvedBinary, start: number, count: number, sink: FrameSink): FrameRun {
  const frameBytes = meta.width * meta.height * 3;
  const child = spawn(ffmpeg.path, ffmpegArgs(meta, start, count, passthroughArgs(ffmpeg)), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stopped = false;
  let k = 0;
  let off = 0;
  let cur: Uint8Array | null = null;
  let stderr = '';
  const stdout = child.stdout;
  const hold = (on: boolean) => {
    // The pipes are sockets (net.Socket), whose ref/unref Readable's type does not declare.
    for (const h of [child, stdout as Socket, child.stderr as Socket]) {
      if (on) h.ref();
      else h.unref();
    }
  };
  stdout.on('data', (chunk: Buffer) => {
    let pos = 0;
    while (pos < chunk.length && k < count) {
      if (off === 0) cur = sink.target(start + k);
      const n = Math.min(chunk.length - pos, frameBytes - off);
      // The one copy of each byte: from the pipe's chunk straight into its frame's place.
      if (cur) cur.set(n === chunk.length ? chunk : chunk.subarray(pos, pos + n), off);
      pos += n;
      off += n;
      if (off === frameBytes) {
        const wait = sink.done(start + k, cur);
        k++;
        off = 0;
        if (wait) {
          // Paused for a consumer that may never come back (a dropped iterator): meanwhile the process is not
          // kept alive for ffmpeg's sake; when the process exits, ffmpeg ends on its closed pipe.
          stdout.pause();
          hold(false);
          const resume = () => {
            hold(true);
            stdout.resume();
          };
          wait.then(resume, resume);
        }
      }
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-STDERR_KEEP);
  });
  const finished = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => reject(new VideoError(`video '${meta.path}': cannot run ffmpeg '${ffmpeg.path}': ${err.message}`, { cause: err })));
    child.on('close', (code, signal) => {
      if (k === count || stopped) return resolve();
      const frames = `frames ${start}–${start + count - 1}`;
      const said = stderr.trim().split('\n').slice(-3).join('; ').replaceAll(`${inputUrl(meta.path)}: `, '');
      if (code !== 0) {
        const why = /Decoder \(codec [^)]*\) not found/.test(stderr) ? `unsupported codec ${meta.codec} (${said})` : said || `exit ${code ?? signal}`;
        reject(new VideoError(`video '${meta.path}': ffmpeg failed reading ${frames} at frame ${start + k}: ${why}`));
      } else {
        reject(
          new VideoError(
            `video '${meta.path}': frame ${start + k} could not be decoded: ffmpeg ended after ${k} of ${frames}` +
              ` (probed ${meta.frameCount} frames); the file may be truncated or corrupt${said ? ` (${said})` : ''}`,
          ),
        );
      }
    });
  });
  return {
    finished,
    stop() {
      if (stopped || child.exitCode !== null) return;
      stopped = true;
      child.kill('SIGKILL');
    },
  };
}
