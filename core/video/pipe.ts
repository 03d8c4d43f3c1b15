// The pipe ffmpeg writes raw frames into, read by Node straight into the caller's frame buffers.
//
// A child's `stdio: 'pipe'` stream hands out a fresh 64 KiB buffer per read, which the reader then copies
// into its frame: at 1080p that allocation and copy cost more CPU than the decoding they wait for, and on
// two cores it is taken from ffmpeg (bench/video.mjs: 0.49 of the CLI's frame rate). A socket built with
// `onread` reads into a buffer the reader chooses — the rest of the current frame — so each byte is copied
// once, by the kernel. Node opens no anonymous pipe of its own and a child's pipe handle is private, so the
// pipe is a FIFO: made in a private temp dir, both ends opened, the name removed at once.

import { execFile } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VideoError } from './errors.ts';

/**
 * Options for a worker thread that reads video. The pipe's read end is opened with fs.openSync but closed by
 * its socket, so Node's tracking of a worker's fds would see each reused number as opened twice ('File
 * descriptor N opened in unmanaged mode twice', once per video) and close stale numbers when the worker
 * exits. The sockets close their own fds, a terminated worker's included (its handles are closed with it).
 */
export const VIDEO_WORKER_OPTIONS = { trackUnmanagedFds: false } as const;

export interface PipeEnds {
  /** Non-blocking read end, for `new net.Socket({ fd, onread })`. */
  read: number;
  /** Write end, for the child's stdout; the parent closes its copy once the child has it. */
  write: number;
}

const run = promisify(execFile);

export async function openPipe(): Promise<PipeEnds> {
  const dir = mkdtempSync(join(tmpdir(), 'vidra-pipe-'));
  try {
    const path = join(dir, 'frames');
    try {
      await run('mkfifo', ['-m', '600', path]);
    } catch (err) {
      throw new VideoError(`cannot make the pipe ffmpeg writes frames into: 'mkfifo ${path}' failed: ${(err as Error).message} (mkfifo comes with coreutils)`, { cause: err });
    }
    // The read end first, non-blocking, so that opening the write end finds a reader and does not wait.
    const read = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      return { read, write: openSync(path, constants.O_WRONLY) };
    } catch (err) {
      closeSync(read);
      throw err;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
