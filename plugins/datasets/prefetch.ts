// Reading batches ahead of the training loop (issue 4: loading never blocks training).
//
// onnxruntime-node's session.run blocks the main thread while it computes, so reading overlaps with it only
// in another thread: a worker thread (prefetch-worker.ts) builds the same dataset plugin from its config and
// reads the index batches the main thread sends, `depth` batches ahead. Batches come back in the order
// asked, with their arrays transferred, so training is bit-identical with and without prefetch. The loaders
// read features in blocks (formats/hdf5-features.ts): with h5wasm, random 8-row reads run ~200k rows/s and
// 1,000-row blocks 4+ GB/s. The main thread keeps its own dataset for metadata (length, classes, users).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Config } from '../../core/config/config.ts';
import { VidraError } from '../../core/config/errors.ts';
import { toPlain } from '../../core/config/node.ts';
import { packageRoot } from '../../core/paths.ts';
import { VIDEO_WORKER_OPTIONS } from '../../core/video/index.ts';
import type { PluginRegistry } from '../../core/plugins/registry.ts';
import type { Batch } from './dataset.ts';
import type { ClipSpec } from './video-clips.ts';
import { fromWire, type FromWorker, type ToWorker, type WorkerSetup } from './prefetch-protocol.ts';

/** What is read: a dataset, or any view of one that returns its batches (B: their type), at once or decoded asynchronously (clips). */
export interface BatchSource<B = Batch> {
  readonly length: number;
  getBatch(indices: readonly number[]): B | Promise<B>;
}

/** One pass over an order of index batches. */
export interface BatchStream<B = Batch> {
  /** The next batch of the order. */
  next(): Promise<B>;
}

export interface BatchReader<B = Batch> {
  /** Where batches are read: 'worker', or 'main' (prefetch 0, or the worker could not build the dataset). */
  readonly thread: 'worker' | 'main';
  /** Reads `order` batch by batch (it may be lazy); batches a previous stream read ahead but never gave are dropped. */
  read(order: Iterable<readonly number[]>): BatchStream<B>;
  /** Stops the worker thread (pending reads fail). Safe to call twice. */
  close(): Promise<void>;
}

export interface PrefetchOptions {
  /** Batches in flight ahead of the one being used; 0 reads each batch in the main thread when asked. */
  depth: number;
  /** The job config and the path of the dataset node the worker builds (`task.nodes.data`). */
  config: Config;
  path: string;
  split: string;
  /** The job's registry: its plugin modules are loaded in the worker too. */
  registry: PluginRegistry;
  /** Aborting stops the worker and fails pending reads with 'interrupted'. */
  signal?: AbortSignal;
  /** Warnings, e.g. falling back to the main thread. */
  notice?: (line: string) => void;
  /** A clip dataset's batches of clips cut this way (video-clips.ts), rather than its own. */
  clips?: ClipSpec;
}

/**
 * A reader of `dataset`'s batches: in a worker thread when `depth` > 0, else in the main thread. The worker
 * builds the dataset from the config node at `options.path`, which must be the one `dataset` came from.
 */
export function batchReader<B = Batch>(dataset: BatchSource<B>, options: PrefetchOptions): BatchReader<B> {
  if (options.depth <= 0) return new MainThreadReader(dataset);
  const setup: WorkerSetup = {
    config: toPlain(options.config.resolvedNode(options.path)) as Record<string, unknown>,
    path: options.path,
    split: options.split,
    modules: options.registry.modules,
    ...(options.clips ? { clips: options.clips } : {}),
  };
  return new WorkerReader(dataset, setup, options);
}

/**
 * A built worker entry (scripts/build.mjs): beside this module's chunk in dist/. From the TypeScript sources
 * (vitest) it is dist/'s too, since Node runs no .ts worker here (the decorators need a transform); `npm
 * test` builds first.
 */
export function workerFile(entry = 'prefetch-worker'): URL {
  return import.meta.url.endsWith('.ts') ? pathToFileURL(join(packageRoot(), 'dist', `${entry}.js`)) : new URL(`./${entry}.js`, import.meta.url);
}

/** Keeps `depth` requests in flight past the batch handed out; results come back in the order's order. */
function ordered<B>(order: Iterable<readonly number[]>, depth: number, request: (indices: readonly number[]) => Promise<B>): BatchStream<B> {
  const inFlight: Array<Promise<B>> = [];
  const it = order[Symbol.iterator]();
  let done = false;
  return {
    next() {
      while (inFlight.length <= depth && !done) {
        const r = it.next();
        if (r.done) done = true;
        else {
          const p = request(r.value);
          // A batch read ahead that fails surfaces when the loop takes it, not as an unhandled rejection now.
          p.catch(() => {});
          inFlight.push(p);
        }
      }
      return inFlight.shift() ?? Promise.reject(new VidraError('read past the end of the order of batches'));
    },
  };
}

class MainThreadReader<B> implements BatchReader<B> {
  readonly thread = 'main';
  constructor(private readonly dataset: BatchSource<B>) {}

  read(order: Iterable<readonly number[]>): BatchStream<B> {
    return ordered(order, 0, async (indices) => this.dataset.getBatch(indices));
  }

  async close(): Promise<void> {}
}

interface Pending<B> {
  indices: readonly number[];
  resolve(batch: B): void;
  reject(err: unknown): void;
}

class WorkerReader<B> implements BatchReader<B> {
  private readonly worker: Worker | null = null;
  private readonly pending = new Map<number, Pending<B>>();
  private nextId = 0;
  /** Set once reads can no longer succeed (closed, interrupted, the worker died). */
  private failure: Error | null = null;
  private mainThread = false;
  /** The worker's termination, once asked for. */
  private stopping: Promise<void> | undefined;
  private readonly onAbort = () => {
    this.stop(new VidraError('interrupted'));
  };

  constructor(
    private readonly dataset: BatchSource<B>,
    private readonly setup: WorkerSetup,
    private readonly options: PrefetchOptions,
  ) {
    const file = workerFile();
    if (!existsSync(fileURLToPath(file))) {
      this.fallBack(`${fileURLToPath(file)} does not exist (run npm run build)`);
      return;
    }
    // Clip datasets decode video in the worker (VIDEO_WORKER_OPTIONS says why fd tracking is off).
    this.worker = new Worker(file, { ...VIDEO_WORKER_OPTIONS, workerData: setup });
    // Referenced only while reads wait on it: a reader left open never keeps the process alive.
    this.worker.unref();
    this.worker.on('message', (m: FromWorker) => this.receive(m));
    this.worker.on('error', (err) => this.stop(err));
    this.worker.on('exit', (code) => this.stop(new VidraError(`the data prefetch worker thread exited (code ${code})`)));
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (options.signal?.aborted) this.onAbort();
  }

  get thread(): 'worker' | 'main' {
    return this.mainThread ? 'main' : 'worker';
  }

  read(order: Iterable<readonly number[]>): BatchStream<B> {
    return ordered(order, this.options.depth, (indices) => this.request(indices));
  }

  async close(): Promise<void> {
    await this.stop(new VidraError('the batch reader is closed'));
  }

  private request(indices: readonly number[]): Promise<B> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.mainThread) return new Promise((resolve) => resolve(this.dataset.getBatch(indices)));
    const id = this.nextId++;
    const p = new Promise<B>((resolve, reject) => this.pending.set(id, { indices, resolve, reject }));
    this.worker!.ref();
    this.worker!.postMessage({ id, indices } satisfies ToWorker);
    return p;
  }

  private settle(id: number): Pending<B> | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
    return p;
  }

  private receive(m: FromWorker): void {
    // Replies still on their way when the worker was stopped: unreferencing it now would let the process
    // exit while close() waits for the thread to end.
    if (this.stopping) return;
    // The worker's dataset is built from the same config node as `dataset`: its batches are B's.
    if (m.type === 'batch') this.settle(m.id)?.resolve(m.batch as B);
    else if (m.type === 'error') this.settle(m.id)?.reject(fromWire(m.error));
    else if (m.type === 'failed') this.fallBack(`it could not build the dataset: ${m.error.message}`);
    else if (m.length !== this.dataset.length) {
      this.stop(new VidraError(`'${this.setup.path}' (split ${this.setup.split}) has ${m.length} samples in the prefetch worker thread but ${this.dataset.length} in the main thread`));
    }
  }

  /** Reads in the main thread from now on, the requests sent so far included, in order. */
  private fallBack(reason: string): void {
    this.options.notice?.(`prefetch: reading '${this.setup.path}' batches in the main thread, not a worker thread: ${reason}`);
    this.mainThread = true;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    this.detach();
    for (const p of waiting) new Promise<B>((resolve) => resolve(this.dataset.getBatch(p.indices))).then(p.resolve, p.reject);
  }

  /** Fails pending and later reads with `err` and stops the worker. */
  private stop(err: Error): Promise<void> {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
    return this.detach();
  }

  private detach(): Promise<void> {
    this.options.signal?.removeEventListener('abort', this.onAbort);
    if (!this.worker) return Promise.resolve();
    if (!this.stopping) {
      this.worker.removeAllListeners('exit');
      // Referenced until it has stopped: an unreferenced thread's termination keeps no awaiting caller alive.
      this.worker.ref();
      this.stopping = this.worker.terminate().then(() => {});
    }
    return this.stopping;
  }
}
