// Head / middle / tail segment mAP of Animal Kingdom (Ng et al., CVPR 2022), ml-spec §2.2.
//
// Classes are split by their number of TRAINING samples. Two conventions disagree at exactly 100:
//   paper    head > 500, middle 100–500, tail < 100   (the thresholds as the paper states them)
//   videolt  head > 500, middle 101–500, tail ≤ 100   (VideoLT tools/utils.py::get_indices, the code AK reuses)
// so a class with 100 training samples is middle under 'paper' and tail under 'videolt'; 99 is tail and 101, 500
// middle, 501 head under both. The official release stores the assignment itself (the `segment` column of
// annotation/df_action.xlsx): pass it as `segments` and it overrides the counts — prefer it to recomputing.
//
// Segment mAP = SlowFast get_map on that segment's columns only (classes without a positive in the evaluation set
// are dropped; a segment whose classes all lack positives gets get_map's 0). A segment with NO classes at all is NaN,
// not 0: there is nothing to average. `overall` is get_map on all columns.

import { definePlugin } from '../../core/plugins/registry.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { classAveragePrecisions, MAP_MODES, reduceClassAveragePrecisions, RowAccumulator, type MapMode } from './average-precision.ts';
import { checkScoreMatrix, describe, MetricInputError } from './inputs.ts';
import type { ClassificationBatch, Metric } from './metric.ts';

export type Segment = 'head' | 'middle' | 'tail';
export type SegmentConvention = 'paper' | 'videolt';
export const SEGMENTS: readonly Segment[] = ['head', 'middle', 'tail'];
export const SEGMENT_CONVENTIONS: readonly SegmentConvention[] = ['paper', 'videolt'];

export interface SegmentMap {
  head: number;
  middle: number;
  tail: number;
  overall: number;
}

export interface SegmentMapOptions {
  /** How training counts map to segments (default 'paper'); ignored when `segments` is given. */
  convention?: SegmentConvention;
  /** The segment of each class as the dataset ships it (AK's `segment` column); overrides the counts. */
  segments?: readonly Segment[];
  /** The AP definition inside each segment (default 'slowfast', i.e. get_map). */
  mode?: MapMode;
}

/** The segment of a class with `count` training samples under a convention. */
export function segmentOf(count: number, convention: SegmentConvention = 'paper'): Segment {
  if (!Number.isInteger(count) || count < 0) throw new MetricInputError(`a training-sample count must be a non-negative integer, not ${describe(count)}`);
  if (count > 500) return 'head';
  if (convention === 'paper') return count >= 100 ? 'middle' : 'tail';
  if (convention === 'videolt') return count > 100 ? 'middle' : 'tail';
  throw new MetricInputError(`unknown segment convention ${JSON.stringify(convention)}; use ${SEGMENT_CONVENTIONS.join(' or ')}`);
}

/** The segment of every class from the training counts. */
export function classSegments(trainClassCounts: readonly number[], convention: SegmentConvention = 'paper'): Segment[] {
  return trainClassCounts.map((n, j) => {
    try {
      return segmentOf(n, convention);
    } catch (err) {
      throw new MetricInputError(`trainClassCounts[${j}]: ${(err as Error).message}`);
    }
  });
}

function resolveSegments(c: number, trainClassCounts: readonly number[] | null | undefined, options: SegmentMapOptions): Segment[] {
  if (options.segments) {
    if (options.segments.length !== c) throw new MetricInputError(`segments lists ${options.segments.length} classes but the scores have ${c}`);
    options.segments.forEach((s, j) => {
      if (!(SEGMENTS as readonly unknown[]).includes(s)) throw new MetricInputError(`segments[${j}] must be head, middle or tail, not ${describe(s)}`);
    });
    return [...options.segments];
  }
  if (!trainClassCounts) throw new MetricInputError('segment mAP needs the training-sample count of every class, or the segments themselves');
  if (trainClassCounts.length !== c) throw new MetricInputError(`trainClassCounts lists ${trainClassCounts.length} classes but the scores have ${c}`);
  return classSegments(trainClassCounts, options.convention ?? 'paper');
}

/**
 * Animal Kingdom overall / head / middle / tail mAP: get_map restricted to each segment's classes (see the module
 * comment for the conventions). A segment with no classes is NaN.
 */
export function segmentMeanAveragePrecision(
  scores: number[][],
  labels: number[][],
  trainClassCounts: readonly number[] | null | undefined,
  options: SegmentMapOptions = {},
): SegmentMap {
  const [, c] = checkScoreMatrix('scores', scores);
  const segments = resolveSegments(c, trainClassCounts, options);
  const mapOptions = { mode: options.mode ?? 'slowfast' };
  const aps = classAveragePrecisions(scores, labels, mapOptions);
  const of = (s: Segment) => reduceClassAveragePrecisions(aps.filter((_, j) => segments[j] === s), mapOptions);
  return { head: of('head'), middle: of('middle'), tail: of('tail'), overall: reduceClassAveragePrecisions(aps, mapOptions) };
}

interface SegmentMapConfig {
  convention: SegmentConvention;
  class_counts?: number[];
  segments?: Segment[];
  mode: MapMode;
}

/** Segment mAP over an evaluation epoch (`segment_map`): map_overall, map_head, map_middle, map_tail. */
@injectable()
export class SegmentMapMetric implements Metric {
  readonly name = 'segment_map';
  private readonly rows = new RowAccumulator();
  constructor(@inject(PLUGIN_CONFIG) private readonly config: SegmentMapConfig) {
    if (!config.class_counts && !config.segments) {
      throw new MetricInputError("segment_map needs 'class_counts' (training samples per class) or 'segments' (head/middle/tail per class)");
    }
  }

  update(batch: ClassificationBatch): void {
    this.rows.add(this.name, batch);
  }

  compute(): Record<string, number> {
    this.rows.require(this.name);
    const r = segmentMeanAveragePrecision(this.rows.scores, this.rows.labels, this.config.class_counts, {
      convention: this.config.convention,
      segments: this.config.segments,
      mode: this.config.mode,
    });
    return { map_overall: r.overall, map_head: r.head, map_middle: r.middle, map_tail: r.tail };
  }

  reset(): void {
    this.rows.reset();
  }
}

export const plugin = definePlugin({
  kind: 'metric',
  name: 'segment_map',
  description: 'Animal Kingdom head/middle/tail/overall mAP by training-sample counts or the dataset segment column',
  schema: {
    type: 'object',
    properties: {
      convention: {
        enum: [...SEGMENT_CONVENTIONS],
        default: 'paper',
        description: 'paper: tail < 100 ≤ middle ≤ 500 < head; videolt: tail ≤ 100 < middle ≤ 500 < head',
      },
      class_counts: { type: 'array', items: { type: 'integer', minimum: 0 }, description: 'training samples per class (data.class_counts)' },
      segments: { type: 'array', items: { enum: [...SEGMENTS] }, description: "the dataset's segment per class; overrides class_counts" },
      mode: { enum: [...MAP_MODES], default: 'slowfast', description: 'AP definition inside a segment (get_map by default)' },
    },
    additionalProperties: false,
  },
  create: SegmentMapMetric,
});
