// One ffmpeg process decoding a run of consecutive frames to raw RGB (rgb24) on its stdout. A run that does
// not start at frame 0 is reached by input seeking (-ss before -i: ffmpeg seeks to the keyframe before it and
// decodes from there, dropping frames before the position); the position is halfway between the wanted
// frame's pts and its predecessor's, so the first frame out is exactly the wanted one whatever the rounding.
// Passthrough frame timing (binaries.ts passthroughArgs) keeps every decoded frame once: the k-th frame out
// is frame start + k, the same numbering as probe.ts's timestamps.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { inputUrl, passthroughArgs, type ResolvedBinary } from './binaries.ts';
import { VideoError } from './errors.ts';
import { openPipe, type PipeEnds } from './pipe.ts';
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
  let stopped = false;
  let child: ChildProcess | undefined;
  let socket: Socket | undefined;
  const finished = openPipe().then((pipe) => {
    if (stopped) {
      closeSync(pipe.read);
      closeSync(pipe.write);
      return;
    }
    const run = decode(meta, ffmpeg, start, count, sink, pipe);
    ({ child, socket } = run);
    return runResult(meta, ffmpeg, start, count, run, () => stopped);
  });
  return {
    finished,
    stop() {
      if (stopped) return;
      stopped = true;
      if (child && child.exitCode === null) child.kill('SIGKILL');
      socket?.destroy();
    },
  };
}

interface Progress {
  /** Frames complete. */
  k: number;
  stderr: string;
}

/** Starts ffmpeg on the pipe's write end and reads its frames from the read end into the sink. */
function decode(meta: VideoMeta, ffmpeg: ResolvedBinary, start: number, count: number, sink: FrameSink, pipe: PipeEnds): { child: ChildProcess; socket: Socket; progress: Progress } {
  const frameBytes = meta.width * meta.height * 3;
  let child: ChildProcess;
  try {
    child = spawn(ffmpeg.path, ffmpegArgs(meta, start, count, passthroughArgs(ffmpeg)), { stdio: ['ignore', pipe.write, 'pipe'] });
  } finally {
    closeSync(pipe.write);
  }
  const progress: Progress = { k: 0, stderr: '' };
  // Bytes of frames nobody wants (and anything past the last frame) are read here and dropped.
  const scratch = new Uint8Array(Math.min(frameBytes, 1 << 18));
  let off = 0;
  let cur: Uint8Array | null = null;
  const place = (): Uint8Array => {
    if (off === 0 && progress.k < count) cur = sink.target(start + progress.k);
    const left = frameBytes - off;
    return cur && progress.k < count ? cur.subarray(off) : scratch.subarray(0, Math.min(scratch.length, left));
  };
  // Node's constructor takes `onread` as connect() does (lib/net.js); @types/node declares it for connect() only.
  const options: SocketConstructorOpts & { onread: OnReadOpts } = {
    fd: pipe.read,
    readable: true,
    writable: false,
    onread: {
      buffer: place,
      callback: (n: number) => {
        if (progress.k >= count) return true;
        off += n;
        if (off < frameBytes) return true;
        const frame = cur;
        off = 0;
        cur = null;
        const wait = sink.done(start + progress.k, frame);
        progress.k++;
        if (!wait) return true;
        // Paused for a consumer that may never come back (a dropped iterator): meanwhile the process is not
        // kept alive for ffmpeg's sake; when the process exits, ffmpeg ends on its closed pipe.
        hold(false);
        const resume = () => {
          hold(true);
          socket.resume();
        };
        wait.then(resume, resume);
        return false;
      },
    },
  };
  const socket = new Socket(options);
  const hold = (on: boolean) => {
    // A stopped run's socket is gone: ref/unref on it would only queue 'connect' listeners.
    if (socket.destroyed) return;
    // The stderr pipe is a socket (net.Socket), whose ref/unref Readable's type does not declare.
    for (const h of [child, socket, child.stderr as Socket]) {
      if (on) h.ref();
      else h.unref();
    }
  };
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    progress.stderr = (progress.stderr + s).slice(-STDERR_KEEP);
  });
  return { child, socket, progress };
}

/** Settles when ffmpeg has exited and its frames are read: the error names the video and the first missing frame. */
function runResult(meta: VideoMeta, ffmpeg: ResolvedBinary, start: number, count: number, { child, socket, progress }: { child: ChildProcess; socket: Socket; progress: Progress }, stopped: () => boolean): Promise<void> {
  // Frames still in the pipe when ffmpeg exits are read before the verdict.
  const drained = new Promise<void>((resolve) => {
    socket.on('end', resolve);
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', (err) => reject(new VideoError(`video '${meta.path}': cannot run ffmpeg '${ffmpeg.path}': ${err.message}`, { cause: err })));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return Promise.all([exited, drained]).then(([{ code, signal }]) => {
    socket.destroy();
    const { k, stderr } = progress;
    if (k === count || stopped()) return;
    const frames = `frames ${start}–${start + count - 1}`;
    const said = stderr.trim().split('\n').slice(-3).join('; ').replaceAll(`${inputUrl(meta.path)}: `, '');
    if (code !== 0) {
      const why = /Decoder \(codec [^)]*\) not found/.test(stderr) ? `unsupported codec ${meta.codec} (${said})` : said || `exit ${code ?? signal}`;
      throw new VideoError(`video '${meta.path}': ffmpeg failed reading ${frames} at frame ${start + k}: ${why}`);
    }
    throw new VideoError(
      `video '${meta.path}': frame ${start + k} could not be decoded: ffmpeg ended after ${k} of ${frames}` +
        ` (probed ${meta.frameCount} frames); the file may be truncated or corrupt${said ? ` (${said})` : ''}`,
    );
  });
}
