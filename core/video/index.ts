// Vidra's video input: frame sources (video files through ffmpeg, frame folders through sharp), clip
// sampling as pure functions of time, and spatial preprocessing. Tasks and datasets use only this face.

export { VideoError } from './errors.ts';
export { resolveBinary, resolveBinaries, binaryVersion, type Tool, type ResolvedBinary, type Binaries, type BinaryOptions } from './binaries.ts';
export { probeVideo, type VideoMeta } from './probe.ts';
export { VideoSource, planRuns, checkIndices, type FrameSource, type FrameBatch, type SourceDescription, type VideoSourceOptions } from './source.ts';
export { FrameFolderSource } from './frames.ts';
export { openSource, sourceFrom, type OpenOptions } from './open.ts';
export { VIDEO_WORKER_OPTIONS } from './pipe.ts';
export { frameAt, resampleIndices, clipIndices, clipDuration, randomClipStart, uniformClipStarts } from './sampling.ts';
export { clipTensor, resizedSize, centerView, testViews, randomView, type SpatialSpec, type CropView } from './preprocess.ts';
export { multiViewClips, type TestView, type TestViewSpec } from './views.ts';
