// The metrics of the researchers' workflows (ml-spec §2): plain functions over number arrays, and one metric
// plugin (kind 'metric') per family that accumulates an evaluation epoch for a task.

import type { PluginDefinition } from '../../core/plugins/registry.ts';
import { plugin as map } from './average-precision.ts';
import { plugin as continual } from './continual.ts';
import { plugin as ltaEd } from './lta.ts';
import { plugin as onlineUser } from './online.ts';
import { plugin as retrieval } from './retrieval.ts';
import { plugin as segmentMap } from './segment-map.ts';
import { plugin as topk } from './topk.ts';

export { MetricInputError } from './inputs.ts';
export type { ClassificationBatch, Metric } from './metric.ts';
export {
  averagePrecision,
  rankAveragePrecision,
  classAveragePrecisions,
  reduceClassAveragePrecisions,
  meanAveragePrecision,
  MAP_MODES,
  MapMetric,
  type MapMode,
  type MapOptions,
} from './average-precision.ts';
export {
  segmentMeanAveragePrecision,
  segmentOf,
  classSegments,
  SEGMENTS,
  SEGMENT_CONVENTIONS,
  SegmentMapMetric,
  type Segment,
  type SegmentConvention,
  type SegmentMap,
  type SegmentMapOptions,
} from './segment-map.ts';
export { retrievalRanks, recallAtK, RetrievalMetric, type RetrievalBatch } from './retrieval.ts';
export { topkAccuracy, topkCorrect, topkIndices, TopkMetric } from './topk.ts';
export {
  levenshtein,
  editDistance,
  ltaEditDistance,
  actionIds,
  outputsJson,
  EGO4D_NUM_NOUNS,
  LtaEditDistanceMetric,
  type EditDistanceResult,
  type LtaInput,
  type LtaResult,
  type LtaForecast,
} from './lta.ts';
export {
  streamAccuracy,
  experienceForgetting,
  streamForgetting,
  backwardTransfer,
  gemBackwardTransfer,
  experienceForwardTransfer,
  forwardTransfer,
  ContinualMetric,
  type AccuracyMatrix,
  type ContinualBatch,
} from './continual.ts';
export { minAcc, wcAcc, windowedForgetting, windowedPlasticity } from './stability-gap.ts';
export {
  OnlineAccuracy,
  UserAdaptationGain,
  onlineAdaptationGain,
  balancedAccuracy,
  userMacro,
  OnlineUserMetric,
  type OnlineStep,
  type OnlineAccuracyValues,
  type OnlineUserAccuracy,
  type AdaptationGainStep,
  type OnlineUserBatch,
} from './online.ts';

/** The metric plugins that ship with Vidra (the `metric` registry's built-ins). */
export const metricPlugins: PluginDefinition[] = [map, segmentMap, topk, ltaEd, continual, onlineUser, retrieval];
