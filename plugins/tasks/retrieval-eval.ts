// Evaluation of a contrastive model: both embeddings of every evaluation pair, fed to the retrieval metric.

import type { ForwardRunner } from '../../core/engine/forward.ts';
import type { ModelModule } from '../../core/engine/modules.ts';
import { VidraError } from '../../core/config/errors.ts';
import type { RetrievalBatch } from '../metrics/retrieval.ts';
import type { Metric } from '../metrics/metric.ts';
import { evalBatches, forwardFeeds, type Dataset, type EvalReader } from './evaluation.ts';

export async function evaluatePairs(args: {
  forward: ForwardRunner;
  params: Record<string, { data: Float32Array | Float64Array }>;
  model: ModelModule;
  data: Dataset;
  metric: Metric<RetrievalBatch>;
  reader?: EvalReader;
}): Promise<Record<string, number>> {
  const { forward, params, model, data, metric } = args;
  const size = forward.batchSize;
  for await (const { idx, batch } of evalBatches(data, size, args.reader)) {
    const n = idx.length;
    const { logits, other } = await forward.run(params, forwardFeeds(batch, model, n, size));
    if (!other) throw new VidraError('retrieval needs a model with two embeddings (e.g. clip_projection)');
    const dim = logits.length / size;
    const rows = (m: Float32Array) => Array.from({ length: n }, (_, r) => Array.from(m.subarray(r * dim, (r + 1) * dim)));
    metric.update({ video: rows(logits), text: rows(other) });
  }
  return metric.compute();
}
