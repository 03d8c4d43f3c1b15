// The messages between the main thread (prefetch.ts) and the prefetch worker thread (prefetch-worker.ts).
// Batches travel with their arrays in the transfer list (moved, not copied); errors travel as name and
// message, because structured clone turns every error class but the built-in ones into a plain Error.

import { VidraError } from '../../core/config/errors.ts';
import { VideoError } from '../../core/video/index.ts';
import type { Batch, Batched, TargetArray } from './dataset.ts';
import { DataFormatError } from './formats/errors.ts';
import type { ClipSpec } from './video-clips.ts';

/** What the worker builds: the dataset plugin's resolved config node, as plain JSON, and its split. */
export interface WorkerSetup {
  config: Record<string, unknown>;
  /** The node's path in the job config, for messages. */
  path: string;
  split: string;
  /** The plugin modules of the project settings (PluginRegistry.modules), for third-party datasets. */
  modules: Array<{ spec: string; root: string }>;
  /** A clip dataset: read its clips cut this way (decoded and preprocessed in the worker). */
  clips?: ClipSpec;
}

export type ToWorker = { id: number; indices: readonly number[] };

export type FromWorker =
  | { type: 'ready'; length: number }
  /** The worker could not build the dataset. */
  | { type: 'failed'; error: WireError }
  | { type: 'batch'; id: number; batch: Batch }
  | { type: 'error'; id: number; error: WireError };

export interface WireError {
  name: string;
  message: string;
  stack?: string;
  vidra: boolean;
}

export function toWire(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, message: e.message, stack: e.stack, vidra: e instanceof VidraError };
}

/** The error as the main thread throws it: a DataFormatError, VideoError or VidraError with the same message. */
export function fromWire(w: WireError): Error {
  const err =
    w.name === 'DataFormatError' ? new DataFormatError(w.message) : w.name === 'VideoError' ? new VideoError(w.message) : w.vidra ? new VidraError(w.message) : new Error(w.message);
  err.name = w.name;
  // A bug (not a VidraError) prints its stack: the worker's is the one that says where.
  if (!w.vidra && w.stack) err.stack = w.stack;
  return err;
}

/**
 * Makes every array of the batch own its whole ArrayBuffer — copying only one that is a view into a larger
 * or already listed buffer, since transferring a buffer moves all of it — and returns the buffers to transfer.
 */
export function transferList(batch: Batch): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const own = (x: Batched<Float32Array> | Batched<TargetArray>) => {
    const b = x.data.buffer;
    if (!(b instanceof ArrayBuffer) || x.data.byteOffset !== 0 || x.data.byteLength !== b.byteLength || buffers.has(b)) x.data = x.data.slice();
    buffers.add(x.data.buffer as ArrayBuffer);
  };
  for (const x of Object.values(batch.inputs)) own(x);
  for (const x of Object.values(batch.targets)) own(x);
  return [...buffers];
}
