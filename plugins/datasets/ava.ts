// `ava`: AVA v2.2 actions at the feature level (ml-spec §4): one sample per annotated person box of a key
// frame, input = the box [x1, y1, x2, y2] and the mean of its video's feature rows over
// [timestamp − time_offset_sec − window_sec, … + window_sec] (the features' own grid: fps / stride), target =
// a multi-hot over the evaluated classes of the label map (60 in ava_action_list_v2.2_for_activitynet_2019.pbtxt),
// in label-map order.
//
//   <root>/ava_{train,val}_v2.2.csv — no header: video_id, timestamp, x1, y1, x2, y2, action_id (1-based), person_id;
//       one row per (box, action): rows with the same video, timestamp, box and person are one sample;
//   <root>/ava_{train,val}_excluded_timestamps_v2.2.csv — key frames left out (optional);
//   <root>/<label_map> — the evaluated classes.
// As SlowFast's ava_helper does, rows whose action is not evaluated are ignored, so a box with only such
// actions is no sample; these and the excluded key frames are counted in `skipped`, as are boxes whose
// video has no features with `skip_missing: true` (else they are an error naming the key). There is no box-level detection here: features are per video and time.

import { existsSync } from 'node:fs';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { checkIndices, countClasses, missingFeatures, multiHot, resolveIn, SkipLog, unbatch, type Batch, type Dataset, type DatasetSource, type Sample, type SkipReport, LOADER_PROPERTIES, SKIP_MISSING_PROPERTY } from './dataset.ts';
import { featureWindow } from './feature-windows.ts';
import { frameKey, parseAvaCsv, parseExcludedTimestamps, parseLabelMap, type AvaLabel } from './formats/ava.ts';
import { DataFormatError } from './formats/errors.ts';
import { FeatureFile, type RowWindow } from './formats/hdf5-features.ts';
import { readTextFile } from './formats/text-file.ts';

export interface AvaOptions {
  root: string;
  split: 'train' | 'val';
  label_map: string;
  features: string;
  features_group: string | null;
  fps: number;
  stride: number;
  window_sec: number;
  time_offset_sec: number;
  skip_missing: boolean;
}

export interface AvaBox {
  video_id: string;
  timestamp: number;
  box: [number, number, number, number];
  person_id: number;
  /** Indices into the label map. */
  labels: number[];
  line: number;
}

/** Groups AVA rows into boxes with their evaluated labels; counts what is left out. */
export function readAvaBoxes(path: string, labelMap: readonly AvaLabel[], excluded: ReadonlySet<string>, skips: SkipLog): AvaBox[] {
  const index = new Map(labelMap.map((l, i) => [l.id, i]));
  const boxes = new Map<string, AvaBox>();
  const unevaluated = new Map<string, number>();
  for (const r of parseAvaCsv(readTextFile(path, 'AVA CSV'), path)) {
    if (excluded.has(frameKey(r.video_id, r.timestamp))) {
      skips.add('row at an excluded key frame', `${r.video_id},${r.timestamp}`);
      continue;
    }
    const key = `${r.video_id},${r.timestamp},${r.box.join(',')},${r.person_id}`;
    const cls = index.get(r.action_id);
    if (cls === undefined) {
      unevaluated.set(key, r.line);
      continue;
    }
    let b = boxes.get(key);
    if (!b) boxes.set(key, (b = { video_id: r.video_id, timestamp: r.timestamp, box: r.box, person_id: r.person_id, labels: [], line: r.line }));
    if (!b.labels.includes(cls)) b.labels.push(cls);
  }
  for (const [key, line] of unevaluated) if (!boxes.has(key)) skips.add('box whose actions are all outside the evaluated label map', `${path}:${line}`);
  return [...boxes.values()];
}

class AvaDataset implements Dataset {
  readonly name = 'ava';
  readonly skipped: SkipReport[];
  private readonly samples: Array<AvaBox & { window: RowWindow }> = [];

  constructor(
    readonly split: string,
    boxes: readonly AvaBox[],
    private readonly features: FeatureFile,
    readonly numClasses: Record<string, number>,
    readonly classCounts: Record<string, number[]>,
    skips: SkipLog,
    o: AvaOptions,
  ) {
    for (const b of boxes) {
      if (!features.has(b.video_id)) {
        missingFeatures(o.skip_missing, skips, features, b.video_id, `the box at ${b.timestamp} s of video '${b.video_id}'`, `no features in ${features.path} for its video`);
        continue;
      }
      const rows = features.info(b.video_id).rows;
      if (rows === 0) {
        skips.add(`0 feature rows in ${features.path} for its video`, b.video_id);
        continue;
      }
      const t = b.timestamp - o.time_offset_sec;
      if (t + o.window_sec < 0) throw new DataFormatError(`ava: box of '${b.video_id}' at ${b.timestamp} s is before the features start (time_offset_sec ${o.time_offset_sec})`);
      this.samples.push({ ...b, window: { key: b.video_id, ...featureWindow(t - o.window_sec, t + o.window_sec, { fps: o.fps, stride: o.stride, numFeatures: rows }) } });
    }
    this.skipped = skips.list();
  }

  get length(): number {
    return this.samples.length;
  }

  get(i: number): Sample {
    return unbatch(this.getBatch([i]), 0);
  }

  getBatch(indices: readonly number[]): Batch {
    checkIndices(this.name, this.samples.length, indices);
    const s = indices.map((i) => this.samples[i]!);
    const C = this.numClasses.labels!;
    return {
      size: s.length,
      inputs: {
        features: { data: this.features.readMeans(s.map((x) => x.window)), shape: [s.length, this.features.dim ?? 0] },
        box: { data: Float32Array.from(s.flatMap((x) => x.box)), shape: [s.length, 4] },
      },
      targets: { labels: { data: multiHot(s.map((x) => x.labels), C), shape: [s.length, C] } },
      meta: s.map((x) => ({ video_id: x.video_id, timestamp: x.timestamp, person_id: x.person_id })),
    };
  }

  close(): void {
    this.features.close();
  }
}

@injectable()
export class AvaSource implements DatasetSource {
  readonly splits = ['train', 'val'] as const;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: AvaOptions) {}

  async load(split: string = this.options.split): Promise<Dataset> {
    if (!(this.splits as readonly string[]).includes(split)) throw new DataFormatError(`ava: unknown split '${split}'; splits: ${this.splits.join(', ')}`);
    const o = this.options;
    const mapPath = resolveIn(o.root, o.label_map);
    const labelMap = parseLabelMap(readTextFile(mapPath, 'label map'), mapPath);
    const read = (s: string, skips: SkipLog) => {
      const ex = resolveIn(o.root, `ava_${s}_excluded_timestamps_v2.2.csv`);
      const excluded = existsSync(ex) ? parseExcludedTimestamps(readTextFile(ex), ex) : new Set<string>();
      return readAvaBoxes(resolveIn(o.root, `ava_${s}_v2.2.csv`), labelMap, excluded, skips);
    };
    const skips = new SkipLog();
    const boxes = read(split, skips);
    const train = split === 'train' ? boxes : read('train', new SkipLog());
    const features = await FeatureFile.open(resolveIn(o.root, o.features), { group: o.features_group });
    try {
      return new AvaDataset(split, boxes, features, { labels: labelMap.length }, { labels: countClasses(train.map((b) => b.labels), labelMap.length) }, skips, o);
    } catch (err) {
      features.close();
      throw err;
    }
  }
}

export const plugin = definePlugin({
  kind: 'dataset',
  name: 'ava',
  description: 'AVA v2.2 person-box actions at the feature level (evaluated classes of the label map, multi-label)',
  schema: {
    type: 'object',
    properties: {
      ...LOADER_PROPERTIES,
      root: { type: 'string', description: 'directory with ava_{train,val}_v2.2.csv, excluded timestamps, label map and features' },
      split: { enum: ['train', 'val'], default: 'train' },
      label_map: { type: 'string', default: 'ava_action_list_v2.2_for_activitynet_2019.pbtxt' },
      features: { type: 'string', default: 'features.h5', description: 'HDF5, one [N, D] dataset per video_id' },
      features_group: { type: ['string', 'null'], default: null },
      fps: { type: 'number', exclusiveMinimum: 0, default: 30 },
      stride: { type: 'number', exclusiveMinimum: 0, default: 16 },
      window_sec: { type: 'number', minimum: 0, default: 1, description: 'features averaged over [t − w, t + w] around the key frame' },
      time_offset_sec: { type: 'number', default: 0, description: 'time of feature row 0 in the movie (e.g. 900 for features of the 15-min segment)' },
      ...SKIP_MISSING_PROPERTY,
    },
    required: ['root'],
    additionalProperties: false,
  },
  create: AvaSource,
});
