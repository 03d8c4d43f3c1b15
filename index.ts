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
// Plugin classes are built by tsyringe: a plugin module takes its decorators from here (one tsyringe instance).
export { inject, injectable, container, type DependencyContainer } from './core/plugins/di.ts';
export { instantiate, InstantiationError, type PartialFactory } from './core/plugins/instantiate.ts';
export type { Task, JobContext, Launcher, Sweeper, JobSpec, JobReturn, LaunchContext, SweepContext } from './core/plugins/interfaces.ts';
export type { JobLogger } from './core/run/logger.ts';
export { builtinPlugins } from './plugins/index.ts';

// The ONNX engine.
export { Graph, Value, ShapeError, type DType, type Shape } from './core/engine/graph.ts';
export { gradients, RULES, unbroadcast, type GradientRule } from './core/engine/autodiff.ts';
export { toOnnxModel } from './core/engine/onnx-export.ts';
export { createSession, EngineError, type Device, type SessionOptions, type EngineSession } from './core/engine/session.ts';
export { compileTrainStep, TrainStepRunner, NonFiniteLossError, type TrainStepSpec, type TrainBatch } from './core/engine/train-step.ts';
// What optimizer plugins write their update with, and how they are checked: T steps run in ONNX Runtime.
export { asDtype, runOptimizer, type OptimizerRun, type TrajectoryPoint } from './core/engine/optimizer-step.ts';
export type {
  LossModule,
  LossContext,
  LossInputs,
  TargetKind,
  OptimizerModule,
  OptimizerContext,
  OptimizerStateSpec,
  ScheduleModule,
  ModelModule,
  ModelInputSpec,
  ForwardContext,
  ForwardOutputs,
  ParameterSpec,
} from './core/engine/modules.ts';
// Graph pieces the built-in losses and models are written with, for plugins that write their own.
export {
  sigmoid,
  bceWithLogits,
  oneMinusExpNeg,
  oneHot,
  rowDot,
  reduce,
  perClass,
  classCount,
  checkPerClass,
  requireClassCounts,
  checkedTargets,
  focalFactor,
  type Reduction,
} from './core/engine/loss-ops.ts';
export { linear, linearParameters, layerNorm, layerNormParameters, activate, dropout, type Activation } from './core/engine/layers.ts';
export { evaluateLoss, createLoss } from './plugins/losses/evaluate.ts';
export { createPlugin, builtinRegistry } from './plugins/create.ts';
export { pluginAt, pluginNamed } from './plugins/tasks/plugin-nodes.ts';
export {
  LOADER_PROPERTIES,
  SkipLog,
  multiHot,
  countClasses,
  checkIndices,
  unbatch,
  resolveIn,
  type Dataset,
  type DatasetSource,
  type Sample as DatasetSample,
  type Batch as DatasetBatch,
  type Batched,
  type TargetArray,
  type SkipReport,
} from './plugins/datasets/dataset.ts';
export {
  STRATEGY_EVENTS,
  type Strategy,
  type StrategyPlugin,
  type StrategyContext,
  type StrategyEvent,
  type Experience,
  type Sample as StrategySample,
  type Batch as StrategyBatch,
  type ExtraLoss,
  type QuadraticPenalty,
  type QuadraticTerm,
  type Params,
} from './plugins/strategies/events.ts';
export { StrategyTemplate, type TrainLoop, type EvalLoop } from './plugins/strategies/template.ts';
export { batchReader, type BatchReader, type BatchSource, type BatchStream, type PrefetchOptions } from './plugins/datasets/prefetch.ts';
export {
  CALLBACK_EVENTS,
  TASK_EVENTS,
  CallbackList,
  type Callback,
  type CallbackContext,
  type CallbackEvent,
  type TrainingState,
} from './plugins/callbacks/events.ts';
export { saveCheckpoint, loadCheckpoint, saveWeights, loadWeights, type Checkpoint } from './core/engine/safetensors.ts';

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
  MetricInputError,
  type Metric,
  type ClassificationBatch,
} from './plugins/metrics/index.ts';
export { mulberry32, normal } from './core/random.ts';
// What index-sampler plugins are written with.
export {
  BATCH_SCHEMA,
  batchCount,
  checkSize,
  chunk,
  rngFor,
  shuffle,
  type BatchOptions,
  type IndexSampler,
  type IndexSamplerPlugin,
  type SamplerData,
} from './plugins/samplers/sampler.ts';

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

// Feature extraction (task=extract_features, task=profile): video input listing, Ego4D windows, shard planning, one video's features.
export { listVideos, type VideoInput, type InputOptions } from './plugins/tasks/extract/inputs.ts';
export { windowStarts, windowFrames } from './plugins/tasks/extract/windows.ts';
export { planShards, shardPath, type CostItem, type ShardPlan } from './plugins/tasks/extract/shards.ts';
export { extractVideo, type VideoFeatures, type StageTimes } from './plugins/tasks/extract/video-features.ts';
export { extractThread, type ExtractThread } from './plugins/tasks/extract/extract-thread.ts';
export { writeVideoFeatures, mergeFeatureFiles } from './plugins/tasks/extract/writer.ts';
