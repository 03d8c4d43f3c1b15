// The messages between the main thread (extract-thread.ts) and the extraction worker thread
// (extract-worker.ts). One video at a time: the main thread starts it with the source's plain description
// (no second probe) and a credit of batches; each batch taken grants one more, so the worker stays
// task.prefetch batches ahead. Batches travel with their buffer transferred; errors as WireErrors
// (datasets/prefetch-protocol.ts), rebuilt on arrival as the same VideoError the main thread would throw.

import type { SourceDescription } from '../../../core/video/index.ts';
import type { WireError } from '../../datasets/prefetch-protocol.ts';
import type { Spatial, WindowBatch, WindowOptions } from './window-batches.ts';

export type ToWorker =
  | { type: 'start'; id: number; source: SourceDescription; spatial: Spatial; window: WindowOptions; batchSize: number; credit: number }
  | { type: 'credit'; id: number }
  /** Stop the video (its ffmpeg included); answered by 'stopped'. */
  | { type: 'cancel'; id: number };

export type FromWorker =
  | { type: 'batch'; id: number; batch: WindowBatch }
  | { type: 'end'; id: number }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'stopped'; id: number };
