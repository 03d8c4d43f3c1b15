// `charades`: Charades multi-label action recognition (157 classes) over precomputed video features.
//
// Annotations (ml-spec §4), by `annotation_format`:
//   charades_v1 — <root>/Charades_v1_{train,test}.csv (id, …, actions "c092 11.90 21.20;…", length);
//   frame_list  — <root>/frame_lists/{train,val}.csv, SlowFast frame lists with labels OR-ed per video.
// Features: <root>/<features>, an HDF5 file with one [N, D] dataset per video id; a sample's input is the
// mean of its video's rows (video-level classification, as SlowFast's Charades evaluation is video-level).
// Targets: `labels`, a 157-way multi-hot. `classCounts.labels` counts training videos per class.
// A video without features is an error naming its key, or with `skip_missing: true` skipped and reported in `skipped`.

import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { ClipFeatureDataset, type LabelledClip } from './clip-features.ts';
import { countClasses, resolveIn, type Dataset, type DatasetSource, FEATURES_OF_PROPERTY, LOADER_PROPERTIES, SKIP_MISSING_PROPERTY } from './dataset.ts';
import { CHARADES_CLASSES, readCharadesCsv } from './formats/charades.ts';
import { DataFormatError } from './formats/errors.ts';
import { parseFrameList, videoLabels } from './formats/frame-list.ts';
import { FeatureFile } from './formats/hdf5-features.ts';
import { readTextFile } from './formats/text-file.ts';

export interface CharadesOptions {
  root: string;
  split: string;
  annotation_format: 'charades_v1' | 'frame_list';
  features: string;
  features_group: string | null;
  num_classes: number;
  drop_unlabelled: boolean;
  skip_missing: boolean;
}

const SPLITS = { charades_v1: ['train', 'test'], frame_list: ['train', 'val'] } as const;

/** Clip labels of one split, from either annotation format. */
export function readCharadesSplit(options: Pick<CharadesOptions, 'root' | 'annotation_format' | 'num_classes'>, split: string): LabelledClip[] {
  if (options.annotation_format === 'frame_list') {
    const path = resolveIn(options.root, `frame_lists/${split}.csv`);
    return videoLabels(parseFrameList(readTextFile(path, 'frame list'), path, options.num_classes)).map((v) => ({ id: v.video, labels: v.labels, source: `${path}:${v.line}` }));
  }
  const path = resolveIn(options.root, `Charades_v1_${split}.csv`);
  return readCharadesCsv(path, options.num_classes).map((v) => ({ id: v.id, labels: v.labels, source: `${path}:${v.line}` }));
}

@injectable()
export class CharadesDataset implements DatasetSource {
  readonly splits: readonly string[];

  constructor(@inject(PLUGIN_CONFIG) private readonly options: CharadesOptions) {
    this.splits = SPLITS[options.annotation_format];
  }

  async load(split: string = this.options.split): Promise<Dataset> {
    if (!this.splits.includes(split)) {
      throw new DataFormatError(`charades: unknown split '${split}' for annotation_format '${this.options.annotation_format}'; splits: ${this.splits.join(', ')}`);
    }
    const clips = readCharadesSplit(this.options, split);
    const train = split === 'train' ? clips : readCharadesSplit(this.options, 'train');
    const features = await FeatureFile.open(resolveIn(this.options.root, this.options.features), { group: this.options.features_group });
    try {
      return new ClipFeatureDataset(clips, features, {
        name: 'charades',
        split,
        numClasses: this.options.num_classes,
        classCounts: countClasses(train.map((c) => c.labels), this.options.num_classes),
        dropUnlabelled: this.options.drop_unlabelled,
        skipMissing: this.options.skip_missing,
      });
    } catch (err) {
      features.close();
      throw err;
    }
  }
}

export const plugin = definePlugin({
  kind: 'dataset',
  name: 'charades',
  description: 'Charades multi-label recognition (157 classes) on precomputed features (HDF5)',
  schema: {
    type: 'object',
    properties: {
      ...LOADER_PROPERTIES,
      root: { type: 'string', description: 'directory with Charades_v1_{train,test}.csv (or frame_lists/) and the features file' },
      split: { type: 'string', default: 'train', description: 'train | test (charades_v1), train | val (frame_list)' },
      annotation_format: { enum: ['charades_v1', 'frame_list'], default: 'charades_v1', description: 'Charades_v1 CSVs or SlowFast frame lists' },
      features: { type: 'string', default: 'features.h5', description: 'HDF5 file, one [N, D] dataset per video id (relative to root)' },
      features_group: { type: ['string', 'null'], default: null, description: 'HDF5 group holding the datasets (null: the root)' },
      num_classes: { type: 'integer', minimum: 1, default: CHARADES_CLASSES },
      drop_unlabelled: { type: 'boolean', default: false, description: 'skip videos without any action (reported in skipped)' },
      ...SKIP_MISSING_PROPERTY,
      ...FEATURES_OF_PROPERTY,
    },
    required: ['root'],
    additionalProperties: false,
  },
  create: CharadesDataset,
  inputs: (p) => {
    const o = p as { root: string; features: string; annotation_format: string };
    const hint = 'these are the Charades release and its features: set data.root or VIDRA_DATA, or train on the generated stand-in with data=synthetic_charades';
    const annotation = o.annotation_format === 'charades_v1' ? 'Charades_v1_train.csv' : 'frame_lists/train.csv';
    return [
      { key: 'root', path: resolveIn(o.root, annotation), hint },
      { key: 'features', path: resolveIn(o.root, o.features), hint },
    ];
  },
});
