// Vidra's public API. The CLI (`vidra`) is built on exactly these pieces.
import 'reflect-metadata';

export { compose, composeDetailed, type ComposeOptions, type Composition } from './core/compose/compose.ts';
export { Config } from './core/config/config.ts';
export { registerResolver } from './core/config/resolvers.ts';
export {
  VidraError,
  ConfigCompositionError,
  ConfigKeyError,
  ConfigTypeError,
  MissingMandatoryValueError,
  InterpolationError,
  ValidationError,
  UsageError,
} from './core/config/errors.ts';
export { parseOverride, OverrideParseError } from './core/overrides/parse.ts';
export { expandSweep } from './core/overrides/sweep.ts';
export { PluginRegistry, definePlugin, UnknownPluginError, type PluginDefinition, type JsonSchema } from './core/plugins/registry.ts';
export { PLUGIN_KINDS, type PluginKind } from './core/plugins/kinds.ts';
export { PLUGIN_CONFIG, PLUGIN_ARGS, JOB_CONTEXT, CONFIG, REGISTRY } from './core/plugins/tokens.ts';
export { instantiate, InstantiationError, type PartialFactory } from './core/plugins/instantiate.ts';
export type { Task, JobContext, Launcher, Sweeper, JobSpec, JobReturn, LaunchContext, SweepContext } from './core/plugins/interfaces.ts';
export { builtinPlugins } from './plugins/index.ts';

// The ONNX engine.
export { Graph, Value, ShapeError, type DType, type Shape } from './core/engine/graph.ts';
export { gradients, RULES, unbroadcast, type GradientRule } from './core/engine/autodiff.ts';
export { toOnnxModel } from './core/engine/onnx-export.ts';
export { createSession, EngineError, type Device, type SessionOptions, type EngineSession } from './core/engine/session.ts';
export { compileTrainStep, TrainStepRunner, NonFiniteLossError, type TrainStepSpec, type TrainBatch } from './core/engine/train-step.ts';
export type { LossModule, OptimizerModule, ScheduleModule, ModelModule, ParameterSpec } from './core/engine/modules.ts';
export { evaluateLoss, createLoss } from './plugins/losses/evaluate.ts';
export { createPlugin, builtinRegistry } from './plugins/create.ts';
export { batchReader, type BatchReader, type BatchSource, type BatchStream, type PrefetchOptions } from './plugins/datasets/prefetch.ts';

// Metrics of the workflows.
export {
  averagePrecision,
  meanAveragePrecision,
  segmentMeanAveragePrecision,
  topkAccuracy,
  levenshtein,
  ltaEditDistance,
  outputsJson,
  streamAccuracy,
  experienceForgetting,
  streamForgetting,
  backwardTransfer,
  gemBackwardTransfer,
  experienceForwardTransfer,
  forwardTransfer,
  minAcc,
  wcAcc,
  windowedForgetting,
  windowedPlasticity,
  OnlineAccuracy,
  onlineAdaptationGain,
  balancedAccuracy,
  retrievalRanks,
  recallAtK,
  type Metric,
} from './plugins/metrics/index.ts';
export { mulberry32, normal } from './core/random.ts';

// Video input: frame sources (video files through ffmpeg, frame folders through sharp), clip sampling, preprocessing.
export {
  VideoError,
  resolveBinary,
  resolveBinaries,
  binaryVersion,
  probeVideo,
  VideoSource,
  FrameFolderSource,
  openSource,
  sourceFrom,
  frameAt,
  resampleIndices,
  clipIndices,
  clipDuration,
  randomClipStart,
  uniformClipStarts,
  clipTensor,
  resizedSize,
  centerView,
  testViews,
  randomView,
  multiViewClips,
  type VideoMeta,
  type FrameSource,
  type FrameBatch,
  type SourceDescription,
  type SpatialSpec,
  type CropView,
  type Binaries,
  type ResolvedBinary,
} from './core/video/index.ts';
