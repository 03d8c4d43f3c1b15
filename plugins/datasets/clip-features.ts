// Multi-label recognition over precomputed clip features (Charades, Animal Kingdom): one sample per video
// (clip), input = the mean of all its feature rows, target = the multi-hot of its labels. A video without a
// feature dataset is an error (skipped with `skipMissing`); one with an empty dataset is skipped and reported.

import { checkIndices, missingFeatures, multiHot, SkipLog, unbatch, type Batch, type Dataset, type Sample, type SkipReport } from './dataset.ts';
import type { FeatureFile } from './formats/hdf5-features.ts';

export interface LabelledClip {
  id: string;
  labels: number[];
  /** Where the clip is annotated ("file:line"), for messages. */
  source: string;
}

export interface ClipFeatureDatasetOptions {
  name: string;
  split: string;
  numClasses: number;
  classCounts: number[];
  segments?: Array<'head' | 'middle' | 'tail'>;
  /** Drop clips without any label (default: keep them as all-negative samples). */
  dropUnlabelled?: boolean;
  /** Skip clips without a feature dataset (default: an error naming the key). */
  skipMissing?: boolean;
}

export class ClipFeatureDataset implements Dataset {
  readonly name: string;
  readonly split: string;
  readonly numClasses: Record<string, number>;
  readonly classCounts: Record<string, number[]>;
  readonly segments?: Array<'head' | 'middle' | 'tail'>;
  readonly skipped: SkipReport[];
  private readonly clips: Array<LabelledClip & { rows: number }> = [];

  constructor(
    clips: readonly LabelledClip[],
    private readonly features: FeatureFile,
    options: ClipFeatureDatasetOptions,
  ) {
    this.name = options.name;
    this.split = options.split;
    this.numClasses = { labels: options.numClasses };
    this.classCounts = { labels: options.classCounts };
    if (options.segments) this.segments = options.segments;
    const skips = new SkipLog();
    for (const clip of clips) {
      if (options.dropUnlabelled && clip.labels.length === 0) {
        skips.add('no labels (drop_unlabelled)', clip.id);
        continue;
      }
      if (!features.has(clip.id)) {
        missingFeatures(options.skipMissing ?? false, skips, features, clip.id, `the clip annotated at ${clip.source}`, `no features in ${features.path}`);
        continue;
      }
      const rows = features.info(clip.id).rows;
      if (rows === 0) {
        skips.add(`0 feature rows in ${features.path}`, clip.id);
        continue;
      }
      this.clips.push({ ...clip, rows });
    }
    this.skipped = skips.list();
  }

  get length(): number {
    return this.clips.length;
  }

  get dim(): number {
    return this.features.dim ?? 0;
  }

  get(i: number): Sample {
    return unbatch(this.getBatch([i]), 0);
  }

  getBatch(indices: readonly number[]): Batch {
    checkIndices(this.name, this.clips.length, indices);
    const clips = indices.map((i) => this.clips[i]!);
    const features = this.features.readMeans(clips.map((c) => ({ key: c.id, start: 0, end: c.rows })));
    const C = this.numClasses.labels!;
    return {
      size: clips.length,
      inputs: { features: { data: features, shape: [clips.length, this.dim] } },
      targets: { labels: { data: multiHot(clips.map((c) => c.labels), C), shape: [clips.length, C] } },
      meta: clips.map((c) => ({ id: c.id, source: c.source })),
    };
  }

  close(): void {
    this.features.close();
  }
}
