// Zero-shot cross-modal retrieval between paired embeddings (CLIP/CLEP evaluation; ml-spec §2): query i's match is
// item i. Similarity is the cosine (embeddings are L2-normalised here, so a head without normalisation is scored
// the same way). rank_i = 1 + #{j : s_ij > s_ii} (ties count in the query's favour, as argsort-based code that
// breaks ties by index does for the matched item first); R@k = fraction of ranks ≤ k; MedR = median rank.

import { definePlugin } from '../../core/plugins/registry.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { checkScoreMatrix, MetricInputError } from './inputs.ts';
import type { Metric } from './metric.ts';

function normalised(rows: readonly (readonly number[])[]): Float64Array[] {
  return rows.map((r) => {
    const n = Math.sqrt(r.reduce((s, v) => s + v * v, 0)) || 1;
    return Float64Array.from(r, (v) => v / n);
  });
}

/** The rank of each query's own item among all items (1 = retrieved first). */
export function retrievalRanks(queries: readonly (readonly number[])[], items: readonly (readonly number[])[]): number[] {
  const [n, d] = checkScoreMatrix('queries', queries);
  const [m, e] = checkScoreMatrix('items', items);
  if (n !== m || d !== e) throw new MetricInputError(`retrieval pairs query i with item i: got queries [${n}, ${d}] and items [${m}, ${e}]`);
  const q = normalised(queries);
  const it = normalised(items);
  return q.map((qi, i) => {
    const sim = (j: number) => qi.reduce((s, v, k) => s + v * it[j]![k]!, 0);
    const own = sim(i);
    let rank = 1;
    for (let j = 0; j < m; j++) if (j !== i && sim(j) > own) rank++;
    return rank;
  });
}

/** R@k for each k and the median rank, from ranks. */
export function recallAtK(ranks: readonly number[], ks: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ks) out[`r${k}`] = ranks.filter((r) => r <= k).length / ranks.length;
  const sorted = [...ranks].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  out.medr = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return out;
}

/** What the `retrieval` metric is fed: the two embeddings of each pair (video and text). */
export interface RetrievalBatch {
  video: number[][];
  text: number[][];
}

/**
 * Video→text and text→video retrieval over everything fed (`retrieval`): keys v2t_r{k}, v2t_medr, t2v_r{k},
 * t2v_medr. The whole evaluation set is the gallery, as the CLIP/CLEP evaluations do.
 */
@injectable()
export class RetrievalMetric implements Metric<RetrievalBatch> {
  readonly name = 'retrieval';
  private video: number[][] = [];
  private text: number[][] = [];
  constructor(@inject(PLUGIN_CONFIG) private readonly config: { k: number[] }) {}

  update(batch: RetrievalBatch): void {
    const [n] = checkScoreMatrix(`${this.name}: video`, batch.video);
    const [m] = checkScoreMatrix(`${this.name}: text`, batch.text);
    if (n !== m) throw new MetricInputError(`${this.name}: ${n} video embeddings but ${m} text embeddings (pairs)`);
    this.video.push(...batch.video);
    this.text.push(...batch.text);
  }

  compute(): Record<string, number> {
    if (this.video.length === 0) throw new MetricInputError(`${this.name}: compute() before any update(): no pairs`);
    const out: Record<string, number> = {};
    for (const [dir, q, it] of [['v2t', this.video, this.text], ['t2v', this.text, this.video]] as const) {
      for (const [k, v] of Object.entries(recallAtK(retrievalRanks(q, it), this.config.k))) out[`${dir}_${k}`] = v;
    }
    return out;
  }

  reset(): void {
    this.video = [];
    this.text = [];
  }
}

export const plugin = definePlugin({
  kind: 'metric',
  name: 'retrieval',
  description: 'zero-shot video→text and text→video retrieval: recall@k and median rank over the evaluation pairs',
  schema: {
    type: 'object',
    properties: { k: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, default: [1, 5, 10], description: 'the k of R@k' } },
    additionalProperties: false,
  },
  create: RetrievalMetric,
});
