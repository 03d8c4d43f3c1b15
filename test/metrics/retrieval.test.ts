import { describe, expect, it } from 'vitest';
import { createPlugin } from '../../plugins/create.ts';
import { recallAtK, retrievalRanks, type RetrievalMetric } from '../../plugins/metrics/retrieval.ts';

describe('retrieval: recall@k and median rank between paired embeddings', () => {
  // Cosine similarities of video i to text j (texts are unit vectors at angles): hand-checked ranks.
  const video = [
    [1, 0],
    [0, 1],
    [1, 1],
  ];
  const text = [
    [1, 0.1], // pair 0: video 0 = [1, 0]: cos 0.995 (t0), −0.89 (t1), 0.20 (t2) → rank 1
    [-1, 0.5], // pair 1: video 1 = [0, 1]: cos 0.10 (t0), 0.45 (t1), 0.98 (t2) → rank 2
    [0.2, 1], // pair 2: video 2 = [1, 1]/√2: cos 0.77 (t0), −0.32 (t1), 0.83 (t2) → rank 1
  ];

  it('ranks each query’s own item among all items by cosine similarity', () => {
    expect(retrievalRanks(video, text)).toEqual([1, 2, 1]);
    // Scale does not matter (cosine).
    expect(retrievalRanks(video.map((r) => r.map((v) => 5 * v)), text)).toEqual([1, 2, 1]);
    // Ties count for the query: identical items all rank 1.
    expect(retrievalRanks([[1, 0], [1, 0]], [[1, 0], [1, 0]])).toEqual([1, 1]);
  });

  it('R@k is the fraction of ranks ≤ k; MedR the median rank (mean of the middle two for an even count)', () => {
    expect(recallAtK([1, 3, 1], [1, 2, 5])).toEqual({ r1: 2 / 3, r2: 2 / 3, r5: 1, medr: 1 });
    expect(recallAtK([4, 1, 2, 10], [1])).toEqual({ r1: 0.25, medr: 3 });
  });

  it('the metric plugin accumulates batches and scores both directions over the whole set', () => {
    const m = createPlugin<RetrievalMetric>('metric', 'retrieval', { k: [1, 2] });
    m.update({ video: video.slice(0, 2), text: text.slice(0, 2) });
    m.update({ video: video.slice(2), text: text.slice(2) });
    expect(m.compute()).toEqual({
      v2t_r1: 2 / 3,
      v2t_r2: 1,
      v2t_medr: 1,
      ...Object.fromEntries(Object.entries(recallAtK(retrievalRanks(text, video), [1, 2])).map(([k, v]) => [`t2v_${k}`, v])),
    });
    expect(() => m.update({ video: [[1, 0]], text: [] as number[][] })).toThrow('text must be a non-empty N×C array');
  });
});
