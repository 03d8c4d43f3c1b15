// Opening a frame source from a path (a video file or a frame folder), or again from its plain-data
// description in another thread.

import { statSync } from 'node:fs';
import { VideoError } from './errors.ts';
import { FrameFolderSource } from './frames.ts';
import { VideoSource, type FrameSource, type SourceDescription, type VideoSourceOptions } from './source.ts';

export interface OpenOptions extends VideoSourceOptions {
  /** Frame rate of a frame folder (required for folders; videos have their own). */
  fps?: number;
}

/** A video file, or a folder of frame images (then `options.fps` is its rate). */
export async function openSource(path: string, options: OpenOptions = {}): Promise<FrameSource> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new VideoError(`video '${path}' does not exist (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  if (isDir) {
    if (options.fps === undefined) throw new VideoError(`frame folder '${path}': give its frame rate (fps): a folder of images has none of its own`);
    return FrameFolderSource.open(path, { fps: options.fps });
  }
  return VideoSource.open(path, options);
}

/** The source a description (from `describe()`) stands for, without probing or listing again. */
export function sourceFrom(d: SourceDescription): FrameSource & { describe(): SourceDescription } {
  return d.kind === 'video' ? new VideoSource(d.meta, d.binaries, d.maxGap) : new FrameFolderSource(d.path, d.files, d.fps, d.width, d.height);
}
