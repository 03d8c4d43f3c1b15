import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/config/errors.ts';
import { meanAveragePrecision } from '../../plugins/metrics/average-precision.ts';
import type { ContinualBatch, ContinualMetric } from '../../plugins/metrics/continual.ts';
import { metricPlugins } from '../../plugins/metrics/index.ts';
import type { LtaInput } from '../../plugins/metrics/lta.ts';
import type { OnlineUserBatch, OnlineUserMetric } from '../../plugins/metrics/online.ts';
import { createMetric, metricRegistry, rng } from './helpers.ts';

describe('the metric plugins are registered under kind "metric"', () => {
  it('one per family', () => {
    expect(metricPlugins.map((p) => p.name)).toEqual(['map', 'segment_map', 'topk', 'lta_ed', 'continual', 'online_user', 'retrieval']);
    for (const p of metricPlugins) expect(p.kind).toBe('metric');
    expect(metricRegistry().get('metric:map').name).toBe('map');
  });

  it('config keys are validated against the schema', () => {
    expect(() => createMetric('map', { mode: 'macro' })).toThrow(ValidationError);
    expect(() => createMetric('topk', { k: [0] })).toThrow(ValidationError);
    expect(() => createMetric('lta_ed', { horizon: 20 })).toThrow(/not a key of this plugin/);
    expect(() => createMetric('segment_map', {})).toThrow(/needs 'class_counts'/);
  });
});

describe('map: accumulating batches equals the function over the whole epoch', () => {
  const r = rng(21);
  const scores = Array.from({ length: 30 }, () => Array.from({ length: 5 }, () => Math.floor(r() * 6) / 5));
  const labels = Array.from({ length: 30 }, () => Array.from({ length: 5 }, () => (r() < 0.25 ? 1 : 0)));

  for (const mode of ['slowfast', 'sklearn', 'rank'] as const) {
    it(`mode ${mode}: two batches (12 + 18 rows) give the mAP of all 30 rows, not the mean of batch mAPs`, () => {
      const m = createMetric('map', { mode });
      m.update({ scores: scores.slice(0, 12), labels: labels.slice(0, 12) });
      m.update({ scores: scores.slice(12), labels: labels.slice(12) });
      expect(m.compute().map).toBeCloseTo(meanAveragePrecision(scores, labels, { mode }), 12);
      m.reset();
      expect(() => m.compute()).toThrow(/before any update/);
    });
  }

  it('defaults to slowfast; a batch with another number of classes is an error', () => {
    const m = createMetric('map');
    m.update({ scores: scores, labels: labels });
    expect(m.compute().map).toBeCloseTo(meanAveragePrecision(scores, labels), 12);
    expect(() => m.update({ scores: [[0.1]], labels: [[1]] })).toThrow(/this batch has 1 classes, earlier batches had 5/);
  });
});

describe('segment_map, topk', () => {
  it('segment_map reports map_overall / map_head / map_middle / map_tail with the configured convention', () => {
    const scores = [
      [0.9, 0.1, 0.9],
      [0.8, 0.2, 0.5],
      [0.7, 0.3, 0.5],
      [0.6, 0.4, 0.1],
    ];
    const labels = [
      [1, 0, 0],
      [0, 0, 1],
      [1, 0, 0],
      [0, 1, 1],
    ];
    const paper = createMetric('segment_map', { class_counts: [100, 501, 50] });
    paper.update({ scores, labels });
    expect(paper.compute()).toEqual({ map_overall: expect.closeTo(0.75, 12), map_head: 1, map_middle: expect.closeTo(5 / 6, 12), map_tail: expect.closeTo(5 / 12, 12) });
    const videolt = createMetric('segment_map', { class_counts: [100, 501, 50], convention: 'videolt' });
    videolt.update({ scores, labels });
    expect(videolt.compute().map_middle).toBeNaN();
  });

  it('topk defaults to k = [1, 5] and pools over batches', () => {
    const m = createMetric('topk');
    const row = [0.6, 0.5, 0.4, 0.3, 0.2, 0.1];
    m.update({ scores: [row, row], labels: [0, 5] }); // top-1 ✓ ✗, top-5 ✓ ✗
    m.update({ scores: [row], labels: [4] }); // top-1 ✗, top-5 ✓
    expect(m.compute()).toEqual({ top1: expect.closeTo(1 / 3, 12), top5: expect.closeTo(2 / 3, 12) });
  });
});

describe('lta_ed: over samples (the challenge) or the mean of batch values (Ego4D validation logs)', () => {
  const z = 2;
  const batch = (verbPreds: number[][][], verbLabels: number[][]): LtaInput => ({
    verbPreds,
    nounPreds: verbPreds.map((cands) => cands.map((s) => s.map(() => 0))),
    verbLabels,
    nounLabels: verbLabels.map((s) => s.map(() => 0)),
  });
  // Batch A: one sample with ED@2 = 1 (both wrong). Batch B: two samples with ED@2 = 0.
  const a = batch([[[9, 9]]], [[1, 2]]);
  const b = batch([[[1, 2]], [[3, 4]]], [[1, 2], [3, 4]]);

  it('samples: (1 + 0 + 0)/3 = 1/3; batches: (1 + 0)/2 = 1/2', () => {
    const samples = createMetric<LtaInput>('lta_ed', { z });
    samples.update(a);
    samples.update(b);
    expect(samples.compute().ed_verb).toBeCloseTo(1 / 3, 12);
    expect(samples.compute().ed_noun).toBe(0);
    const batches = createMetric<LtaInput>('lta_ed', { z, reduce: 'batches' });
    batches.update(a);
    batches.update(b);
    expect(batches.compute().ed_verb).toBeCloseTo(1 / 2, 12);
  });

  it('the forecasts must have the configured Z (default 20)', () => {
    expect(() => createMetric<LtaInput>('lta_ed').update(a)).toThrow(/Z = 2 future actions but the metric is configured with z = 20/);
  });
});

describe('continual: Avalanche metrics from end-of-experience evaluations, stability-gap metrics from all of them', () => {
  /** n samples of experience j, a fraction `acc` of them classified right (2 classes, label 0). */
  const evaluation = (acc: number, n: number, experience: number, trainedExperience: number, iteration?: number): ContinualBatch => {
    const right = Math.round(acc * n);
    return {
      scores: Array.from({ length: n }, (_, i) => (i < right ? [1, 0] : [0, 1])),
      labels: new Array<number>(n).fill(0),
      experience,
      trainedExperience,
      iteration,
    };
  };
  const sizes = [40, 20, 20];
  const b = [0.1, 0.2, 0.25];
  const R = [
    [0.9, 0.1, 0.2],
    [0.95, 0.8, 0.3],
    [0.5, 0.7, 0.9],
  ];

  it('reproduces the accuracy-matrix values', () => {
    const m = createMetric<ContinualBatch>('continual');
    b.forEach((acc, j) => m.update(evaluation(acc, sizes[j]!, j, -1)));
    R.forEach((row, i) => row.forEach((acc, j) => m.update(evaluation(acc, sizes[j]!, j, i))));
    const out = m.compute();
    expect(out.stream_acc).toBeCloseTo((40 * 0.5 + 20 * 0.7 + 20 * 0.9) / 80, 12); // 0.65, pattern-weighted
    expect(out.forgetting).toBeCloseTo(((0.9 - 0.5) + (0.8 - 0.7)) / 2, 12); // 0.25
    expect(out.bwt).toBeCloseTo(-0.25, 12);
    expect(out.fwt).toBeCloseTo(((0.1 - 0.2) + (0.3 - 0.25)) / 2, 12); // −0.025
    // min-ACC: task 0 after its training: min(0.95, 0.5) = 0.5; task 1: 0.7 → mean 0.6.
    expect(out.min_acc).toBeCloseTo(0.6, 12);
    // WC-ACC: mean(current task 0.9, 0.5, 0.7) = 0.7.
    expect(out.wc_acc).toBeCloseTo(0.7, 12);
    // WF¹⁰ per task over all evaluations: task 0 [0.1, 0.9, 0.95, 0.5] → 0.45; task 1 [0.2, 0.1, 0.8, 0.7] → 0.1;
    // task 2 [0.25, 0.2, 0.3, 0.9] → 0.05; mean 0.2.
    expect(out.wf10).toBeCloseTo(0.2, 12);
    // The latest evaluation as a row of the matrix (what the continual task logs for the report's heat map).
    expect((m as ContinualMetric).accuracies()).toEqual(R[2]);
  });

  it('per-iteration evaluations reveal the stability gap that end-of-experience values hide', () => {
    const m = createMetric<ContinualBatch>('continual', { window: 2 });
    m.update(evaluation(0.9, 20, 0, 0)); // end of experience 0
    // While experience 1 trains: task 0 drops to 0.4 then recovers to 0.85.
    m.update(evaluation(0.4, 20, 0, 1, 1));
    m.update(evaluation(0.5, 20, 1, 1, 1));
    m.update(evaluation(0.85, 20, 0, 1, 2));
    m.update(evaluation(0.8, 20, 1, 1, 2));
    const out = m.compute();
    expect(out.forgetting).toBeCloseTo(0.9 - 0.85, 12); // end values only
    expect(out.min_acc).toBeCloseTo(0.4, 12); // the gap
    expect(out.wc_acc).toBeCloseTo((0.8 + 0.4) / 2, 12);
    expect(out.wf2).toBeCloseTo(((0.9 - 0.4) + 0) / 2, 12); // task 0: 0.5, task 1: 0
    expect(out.fwt).toBeUndefined(); // no evaluation before training was fed
  });

  it('evaluations must come in time order', () => {
    const m = createMetric<ContinualBatch>('continual');
    m.update(evaluation(0.5, 2, 0, 1));
    expect(() => m.update(evaluation(0.5, 2, 0, 0))).toThrow(/time order/);
  });
});

describe('online_user: EgoAdapt user-macro metrics from scores', () => {
  it('predictions are the top-1 classes; values are averaged per user, then over users', () => {
    const m = createMetric<OnlineUserBatch>('online_user');
    const one = (v: number, size = 3) => Array.from({ length: size }, (_, j) => (j === v ? 1 : 0));
    // u1: verb right, noun right → action ✓; verb right, noun wrong → ✗. u2: both wrong.
    m.update({ users: 'u1', verbScores: [one(1), one(1)], nounScores: [one(2), one(0)], verbLabels: [1, 1], nounLabels: [2, 2], populationLosses: [2, 2], losses: [1, 2] });
    m.update({ users: ['u2'], verbScores: [one(0)], nounScores: [one(0)], verbLabels: [2], nounLabels: [1], populationLosses: [1], losses: [3] });
    const out = m.compute();
    expect(out.acc_action).toBeCloseTo((0.5 + 0) / 2, 12);
    expect(out.acc_verb).toBeCloseTo((1 + 0) / 2, 12);
    expect(out.oag).toBeCloseTo((0.5 + -2) / 2, 12); // u1: (1 + 0)/2, u2: −2
    // One user's values so far (the continual task's per-user online accuracy curves); none before its first step.
    expect((m as OnlineUserMetric).userAccuracy('u1')).toEqual({ acc_verb: 1, acc_noun: 0.5, acc_action: 0.5 });
    expect((m as OnlineUserMetric).userAccuracy('u3')).toEqual({});
  });
});
