// Where a video's windows are assembled (window-batches.ts): in a worker thread that runs `task.prefetch`
// batches ahead of the backbone, or in the main thread when the backbone asks (prefetch 0).
//
// onnxruntime-node's session.run blocks the main thread while it computes, so decoding (ffmpeg's own
// process) overlaps with inference, but resizing, cropping and copying frames into windows would not: in the
// worker they do. Batches come back in order, the same bytes either way. A worker that dies fails the video
// it was on and the remaining videos are assembled in the main thread.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { VidraError } from '../../../core/config/errors.ts';
import { VIDEO_WORKER_OPTIONS, type SourceDescription } from '../../../core/video/index.ts';
import { fromWire } from '../../datasets/prefetch-protocol.ts';
import { workerFile } from '../../datasets/prefetch.ts';
import type { FromWorker, ToWorker } from './extract-protocol.ts';
import { windowBatches, type Spatial, type StreamingSource, type WindowBatch, type WindowOptions } from './window-batches.ts';

/** One video's batches, in order. */
export interface BatchStream {
  /** The next batch; null after the last. */
  next(): Promise<WindowBatch | null>;
  /** Stops reading (the video's ffmpeg included) and settles once it has stopped. Safe to call twice. */
  close(): Promise<void>;
}

export interface ExtractThread {
  /** Where the next video's batches are assembled. */
  readonly thread: 'worker' | 'main';
  batches(source: StreamingSource, spatial: Spatial, window: WindowOptions, batchSize: number, signal?: AbortSignal): BatchStream;
  /** Ends the worker thread. Safe to call twice. */
  close(): Promise<void>;
}

export interface ExtractThreadOptions {
  /** Batches assembled ahead of the one the backbone is on; 0: in the main thread when asked. */
  prefetch: number;
  /** Warnings, e.g. falling back to the main thread. */
  notice?: (line: string) => void;
  /** The worker's file; default: the built extract-worker.js. */
  entry?: URL;
}

export function extractThread(options: ExtractThreadOptions): ExtractThread {
  return options.prefetch > 0 ? new WorkerThread(options) : new MainThread();
}

/** The batches assembled here, each when asked for. */
export function mainThreadBatches(source: StreamingSource, spatial: Spatial, window: WindowOptions, batchSize: number, signal?: AbortSignal): BatchStream {
  const it = windowBatches(source, spatial, window, batchSize, signal);
  return {
    next: async () => (await it.next()).value ?? null,
    close: async () => void (await it.return(undefined)),
  };
}

class MainThread implements ExtractThread {
  readonly thread = 'main';
  batches = mainThreadBatches;
  async close(): Promise<void> {}
}

type Describable = StreamingSource & { describe?: () => SourceDescription };

class WorkerThread implements ExtractThread {
  private readonly worker: Worker | null = null;
  private readonly streams = new Map<number, WorkerStream>();
  private nextId = 0;
  /** Why the worker is gone (crashed, could not start, closed); then everything runs in the main thread. */
  private gone: string | null = null;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: ExtractThreadOptions) {
    const file = options.entry ?? workerFile('extract-worker');
    if (!existsSync(fileURLToPath(file))) {
      this.fail(`${fileURLToPath(file)} does not exist (run npm run build)`);
      return;
    }
    this.worker = new Worker(file, VIDEO_WORKER_OPTIONS);
    // Referenced only while a video is read: an open thread never keeps the process alive.
    this.worker.unref();
    this.worker.on('message', (m: FromWorker) => this.streams.get(m.id)?.receive(m));
    this.worker.on('error', (err) => this.fail(`it failed: ${err.message}`));
    this.worker.on('exit', (code) => this.fail(`it exited (code ${code})`));
  }

  get thread(): 'worker' | 'main' {
    return this.gone === null ? 'worker' : 'main';
  }

  batches(source: Describable, spatial: Spatial, window: WindowOptions, batchSize: number, signal?: AbortSignal): BatchStream {
    // A source only the main thread can reopen (no description) is read here.
    if (this.gone !== null || !this.worker || !source.describe) return mainThreadBatches(source, spatial, window, batchSize, signal);
    const id = this.nextId++;
    const stream = new WorkerStream(source.path, signal, (m) => this.worker!.postMessage(m), () => {
      this.streams.delete(id);
      if (this.streams.size === 0) this.worker?.unref();
    }, id);
    this.streams.set(id, stream);
    this.worker.ref();
    this.worker.postMessage({ type: 'start', id, source: source.describe(), spatial, window, batchSize, credit: this.options.prefetch + 1 } satisfies ToWorker);
    return stream;
  }

  async close(): Promise<void> {
    this.gone ??= 'closed';
    for (const s of this.streams.values()) s.crash('the extraction thread was closed');
    this.streams.clear();
    await this.terminate();
  }

  /** The worker is unusable: the videos it was on fail, later ones are read in the main thread. */
  private fail(reason: string): void {
    if (this.gone !== null) return;
    this.gone = reason;
    this.options.notice?.(`extraction: the worker thread is gone (${reason}): later videos are prepared in the main thread`);
    for (const s of this.streams.values()) s.crash(reason);
    this.streams.clear();
    void this.terminate();
  }

  private terminate(): Promise<void> {
    if (!this.worker) return Promise.resolve();
    if (!this.stopping) {
      this.worker.removeAllListeners('exit');
      this.worker.removeAllListeners('error');
      // Referenced until it has stopped, so that an awaiting caller is kept alive.
      this.worker.ref();
      this.stopping = this.worker.terminate().then(() => {});
    }
    return this.stopping;
  }
}

class WorkerStream implements BatchStream {
  private readonly ready: WindowBatch[] = [];
  private ended = false;
  /** Set once the stream can give no more batches: its error, or an interruption. */
  private failure: Error | null = null;
  private waiting: { resolve(b: WindowBatch | null): void; reject(err: unknown): void } | null = null;
  /** The worker's word that the video is no longer read (ended, failed, stopped). */
  private settled = false;
  private onSettled: (() => void) | null = null;
  private closing: Promise<void> | undefined;
  // Rejects with what the main thread's loop throws on an abort.
  private readonly onAbort = () => this.stopWith(this.signal!.reason ?? new Error('aborted'));

  constructor(
    private readonly path: string,
    private readonly signal: AbortSignal | undefined,
    private readonly post: (m: ToWorker) => void,
    private readonly release: () => void,
    private readonly id: number,
  ) {
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (signal?.aborted) this.onAbort();
  }

  next(): Promise<WindowBatch | null> {
    if (this.waiting) return Promise.reject(new VidraError('BatchStream.next() called before the previous batch arrived'));
    const b = this.ready.shift();
    if (b) {
      this.post({ type: 'credit', id: this.id });
      return Promise.resolve(b);
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.signal?.removeEventListener('abort', this.onAbort);
      if (!this.settled) {
        const stopped = new Promise<void>((resolve) => (this.onSettled = resolve));
        this.post({ type: 'cancel', id: this.id });
        await stopped;
      }
      this.stopWith(new VidraError('the batch stream is closed'));
    })();
    return this.closing;
  }

  receive(m: FromWorker): void {
    if (m.type === 'batch') {
      if (this.failure) return;
      if (this.waiting) {
        this.post({ type: 'credit', id: this.id });
        this.take().resolve(m.batch);
      } else this.ready.push(m.batch);
      return;
    }
    if (m.type === 'end') {
      this.ended = true;
      this.waiting && this.take().resolve(null);
    } else if (m.type === 'error') this.stopWith(fromWire(m.error));
    this.settle();
  }

  /** The worker died while on this video. */
  crash(reason: string): void {
    this.stopWith(new VidraError(`video '${this.path}': the extraction worker thread stopped while preparing its windows (${reason})`));
    this.settle();
  }

  private take() {
    const w = this.waiting!;
    this.waiting = null;
    return w;
  }

  private stopWith(err: Error): void {
    this.failure ??= err;
    this.ready.length = 0;
    if (this.waiting) this.take().reject(this.failure);
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    this.release();
    this.onSettled?.();
  }
}
