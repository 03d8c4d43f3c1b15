// `animal_kingdom`: Animal Kingdom action recognition (140 classes, multi-label, long-tailed) over
// precomputed clip features (ml-spec §2.2, §4).
//
//   <root>/annotation/{train,val}.csv — frame lists `original_vido_id video_id frame_id path labels`,
//       labels OR-ed to clip level;
//   <root>/annotation/df_action.csv — CSV export of df_action.xlsx: action, count, segment (see
//       formats/animal-kingdom.ts); `segments` come from it, never recomputed, unless the config asks
//       `segments_from_counts: videolt | paper` for data without that file;
//   <root>/<features> — HDF5, one [N, D] dataset per original_vido_id; input = the mean of its rows.
// `classCounts.labels` counts TRAIN clips per class (also when loading val).

import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { ClipFeatureDataset, type LabelledClip } from './clip-features.ts';
import { countClasses, resolveIn, type Dataset, type DatasetSource, FEATURES_OF_PROPERTY, LOADER_PROPERTIES, SKIP_MISSING_PROPERTY } from './dataset.ts';
import { AK_CLASSES, readAkFrameList, readDfAction, segmentsFromCounts, type Segment } from './formats/animal-kingdom.ts';
import { DataFormatError } from './formats/errors.ts';
import { FeatureFile } from './formats/hdf5-features.ts';

export interface AnimalKingdomOptions {
  root: string;
  split: string;
  features: string;
  features_group: string | null;
  num_classes: number;
  df_action: string | null;
  segments_from_counts: 'videolt' | 'paper' | null;
  drop_unlabelled: boolean;
  skip_missing: boolean;
}

function readSplit(options: AnimalKingdomOptions, split: string): LabelledClip[] {
  const path = resolveIn(options.root, `annotation/${split}.csv`);
  return readAkFrameList(path, options.num_classes).map((v) => ({ id: v.video, labels: v.labels, source: `${path}:${v.line}` }));
}

@injectable()
export class AnimalKingdomDataset implements DatasetSource {
  readonly splits = ['train', 'val'] as const;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: AnimalKingdomOptions) {}

  async load(split: string = this.options.split): Promise<Dataset> {
    if (!(this.splits as readonly string[]).includes(split)) throw new DataFormatError(`animal_kingdom: unknown split '${split}'; splits: ${this.splits.join(', ')}`);
    const o = this.options;
    const clips = readSplit(o, split);
    const train = split === 'train' ? clips : readSplit(o, 'train');
    const counts = countClasses(train.map((c) => c.labels), o.num_classes);
    let segments: Segment[];
    if (o.df_action !== null) segments = readDfAction(resolveIn(o.root, o.df_action), o.num_classes).map((a) => a.segment);
    else if (o.segments_from_counts !== null) segments = segmentsFromCounts(counts, o.segments_from_counts);
    else throw new DataFormatError('animal_kingdom: df_action is null and segments_from_counts is null: set one (the segments are read from df_action.csv by default)');
    const features = await FeatureFile.open(resolveIn(o.root, o.features), { group: o.features_group });
    try {
      return new ClipFeatureDataset(clips, features, {
        name: 'animal_kingdom',
        split,
        numClasses: o.num_classes,
        classCounts: counts,
        segments,
        dropUnlabelled: o.drop_unlabelled,
        skipMissing: o.skip_missing,
      });
    } catch (err) {
      features.close();
      throw err;
    }
  }
}

export const plugin = definePlugin({
  kind: 'dataset',
  name: 'animal_kingdom',
  description: 'Animal Kingdom action recognition (140 classes, long-tailed, head/middle/tail segments) on precomputed features',
  schema: {
    type: 'object',
    properties: {
      ...LOADER_PROPERTIES,
      root: { type: 'string', description: 'directory with annotation/{train,val}.csv, annotation/df_action.csv and the features file' },
      split: { enum: ['train', 'val'], default: 'train' },
      features: { type: 'string', default: 'features.h5', description: 'HDF5 file, one [N, D] dataset per clip id (relative to root)' },
      features_group: { type: ['string', 'null'], default: null },
      num_classes: { type: 'integer', minimum: 1, default: AK_CLASSES },
      df_action: { type: ['string', 'null'], default: 'annotation/df_action.csv', description: 'CSV export of df_action.xlsx (action, count, segment)' },
      segments_from_counts: { enum: ['videolt', 'paper', null], default: null, description: 'recompute segments from train counts (only without df_action)' },
      drop_unlabelled: { type: 'boolean', default: false },
      ...SKIP_MISSING_PROPERTY,
      ...FEATURES_OF_PROPERTY,
    },
    required: ['root'],
    additionalProperties: false,
  },
  create: AnimalKingdomDataset,
  inputs: (p) => {
    const o = p as unknown as AnimalKingdomOptions;
    const hint = 'these are the Animal Kingdom release (annotation/*.csv) and its clip features: set data.root or VIDRA_DATA, or train on the generated stand-in with data=synthetic_animal_kingdom';
    return [
      { key: 'root', path: resolveIn(o.root, 'annotation/train.csv'), hint },
      { key: 'features', path: resolveIn(o.root, o.features), hint },
    ];
  },
});
