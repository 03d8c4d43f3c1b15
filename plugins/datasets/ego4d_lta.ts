// `ego4d_lta`: Ego4D long-term action anticipation (ml-spec §2.3, §4; EGO4D/forecasting
// `ptv_dataset_helper.py::clip_forecasting_dataset`).
//
// Reads <root>/<annotation_dir>/fho_lta_{train,val,test_unannotated}.json and fho_lta_taxonomy.json.
// Samples are forecasting windows: entries grouped by clip_uid and sorted by action_idx; for
// i in 0 ..= len − N − Z, the N = num_input_clips entries i..i+N−1 are observed and the next Z =
// num_future_actions (verb, noun) pairs are the targets (−1 in the unlabelled test split).
// The prediction key is `<clip_uid>_<action_idx of the last observed entry>` (meta.key).
//
// With `features` (an HDF5 file with one [N, D] dataset per video_uid, Ego4D grid 30 fps / stride 16), each
// observed entry's input is the mean of the feature rows of its time span in the parent video,
// [clip_parent_start_sec + action_clip_start_sec, clip_parent_start_sec + action_clip_end_sec]
// (`input_window: segment`), or of the clip_seconds (32×2/30 s) window at the segment's centre
// (`input_window: center`, the test-time sampler). inputs.features is [N, D] per sample. A window whose
// video has no features is an error naming the key (with `skip_missing: true`, skipped and reported).
// Without `features` the samples carry targets only.

import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { checkIndices, missingFeatures, resolveIn, SkipLog, unbatch, type Batch, type Dataset, type DatasetSource, type Sample, type SkipReport, LOADER_PROPERTIES, SKIP_MISSING_PROPERTY } from './dataset.ts';
import { featureWindow } from './feature-windows.ts';
import { DataFormatError } from './formats/errors.ts';
import { FeatureFile, type RowWindow } from './formats/hdf5-features.ts';
import { forecastWindows, LTA_FILES, LTA_TAXONOMY_FILE, readLta, readTaxonomy, type ForecastWindow, type LtaEntry, type LtaSplit, type LtaTaxonomy } from './formats/lta.ts';

export interface Ego4dLtaOptions {
  root: string;
  split: LtaSplit;
  annotation_dir: string;
  features: string | null;
  features_group: string | null;
  num_input_clips: number;
  num_future_actions: number;
  fps: number;
  stride: number;
  input_window: 'segment' | 'center';
  clip_seconds: number;
  skip_missing: boolean;
}

/** Reads one split's entries (labels checked against the taxonomy). */
export function readLtaSplit(options: Pick<Ego4dLtaOptions, 'root' | 'annotation_dir'>, split: LtaSplit, taxonomy?: LtaTaxonomy): LtaEntry[] {
  return readLta(resolveIn(resolveIn(options.root, options.annotation_dir), LTA_FILES[split]), { labelled: split !== 'test', taxonomy });
}

/** The time span (seconds in the parent video) an observed entry's features average over. */
export function entrySpan(e: LtaEntry, mode: 'segment' | 'center', clipSeconds: number): [number, number] {
  const start = e.clip_parent_start_sec + e.action_clip_start_sec;
  const end = e.clip_parent_start_sec + e.action_clip_end_sec;
  if (mode === 'segment') return [start, end];
  const mid = (start + end) / 2;
  return [Math.max(0, mid - clipSeconds / 2), Math.max(0, mid + clipSeconds / 2)];
}

class LtaForecastDataset implements Dataset {
  readonly name = 'ego4d_lta';
  readonly skipped: SkipReport[];
  private readonly windows: Array<ForecastWindow & { rows: RowWindow[] | null }> = [];

  constructor(
    readonly split: string,
    windows: readonly ForecastWindow[],
    readonly numClasses: Record<string, number>,
    readonly classCounts: Record<string, number[]>,
    private readonly features: FeatureFile | null,
    private readonly options: Ego4dLtaOptions,
  ) {
    const skips = new SkipLog();
    for (const w of windows) {
      if (!features) {
        this.windows.push({ ...w, rows: null });
        continue;
      }
      const uid = w.inputs[0]!.video_uid;
      if (w.inputs.some((e) => e.video_uid !== uid)) throw new DataFormatError(`ego4d_lta: clip '${w.clip_uid}' has entries of several video_uids`);
      if (!features.has(uid)) {
        missingFeatures(options.skip_missing, skips, features, uid, `the forecast window of clip '${w.clip_uid}'`, `no features in ${features.path} for its video_uid`);
        continue;
      }
      const n = features.info(uid).rows;
      if (n === 0) {
        skips.add(`0 feature rows in ${features.path} for its video_uid`, uid);
        continue;
      }
      const rows = w.inputs.map((e) => {
        const [t1, t2] = entrySpan(e, options.input_window, options.clip_seconds);
        return { key: uid, ...featureWindow(t1, t2, { fps: options.fps, stride: options.stride, numFeatures: n }) };
      });
      this.windows.push({ ...w, rows });
    }
    this.skipped = skips.list();
  }

  get length(): number {
    return this.windows.length;
  }

  get(i: number): Sample {
    return unbatch(this.getBatch([i]), 0);
  }

  getBatch(indices: readonly number[]): Batch {
    checkIndices(this.name, this.windows.length, indices);
    const ws = indices.map((i) => this.windows[i]!);
    const N = this.options.num_input_clips;
    const Z = this.options.num_future_actions;
    const verb = new Int32Array(ws.length * Z);
    const noun = new Int32Array(ws.length * Z);
    ws.forEach((w, b) =>
      w.forecast.forEach((e, z) => {
        verb[b * Z + z] = e.verb_label;
        noun[b * Z + z] = e.noun_label;
      }),
    );
    const inputs: Batch['inputs'] = {};
    if (this.features) {
      const data = this.features.readMeans(ws.flatMap((w) => w.rows!));
      inputs.features = { data, shape: [ws.length, N, this.features.dim ?? 0] };
    }
    return {
      size: ws.length,
      inputs,
      targets: { verb: { data: verb, shape: [ws.length, Z] }, noun: { data: noun, shape: [ws.length, Z] } },
      meta: ws.map((w) => {
        const last = w.inputs[w.inputs.length - 1]!;
        return {
          key: `${w.clip_uid}_${last.action_idx}`,
          clip_uid: w.clip_uid,
          video_uid: last.video_uid,
          observed: w.inputs.map((e) => [e.verb_label, e.noun_label]),
        };
      }),
    };
  }

  close(): void {
    this.features?.close();
  }
}

@injectable()
export class Ego4dLtaDataset implements DatasetSource {
  readonly splits = ['train', 'val', 'test'] as const;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: Ego4dLtaOptions) {}

  async load(split: string = this.options.split): Promise<Dataset> {
    if (!(this.splits as readonly string[]).includes(split)) throw new DataFormatError(`ego4d_lta: unknown split '${split}'; splits: ${this.splits.join(', ')}`);
    const o = this.options;
    const taxonomy = readTaxonomy(resolveIn(resolveIn(o.root, o.annotation_dir), LTA_TAXONOMY_FILE));
    const entries = readLtaSplit(o, split as LtaSplit, taxonomy);
    const train = split === 'train' ? entries : readLtaSplit(o, 'train', taxonomy);
    const verbCounts = new Array<number>(taxonomy.verbs.length).fill(0);
    const nounCounts = new Array<number>(taxonomy.nouns.length).fill(0);
    for (const e of train) {
      verbCounts[e.verb_label]!++;
      nounCounts[e.noun_label]!++;
    }
    const features = o.features === null ? null : await FeatureFile.open(resolveIn(o.root, o.features), { group: o.features_group });
    try {
      return new LtaForecastDataset(
        split,
        forecastWindows(entries, o.num_input_clips, o.num_future_actions),
        { verb: taxonomy.verbs.length, noun: taxonomy.nouns.length },
        { verb: verbCounts, noun: nounCounts },
        features,
        o,
      );
    } catch (err) {
      features?.close();
      throw err;
    }
  }
}

export const plugin = definePlugin({
  kind: 'dataset',
  name: 'ego4d_lta',
  description: 'Ego4D long-term action anticipation: N observed actions → the next Z (verb, noun), optional HDF5 features',
  schema: {
    type: 'object',
    properties: {
      ...LOADER_PROPERTIES,
      root: { type: 'string', description: 'Ego4D data directory' },
      split: { enum: ['train', 'val', 'test'], default: 'train' },
      annotation_dir: { type: 'string', default: 'annotations', description: 'directory of fho_lta_*.json (relative to root; Ego4D ships v1/annotations)' },
      features: { type: ['string', 'null'], default: null, description: 'HDF5 features, one [N, D] dataset per video_uid (relative to root); null: targets only' },
      features_group: { type: ['string', 'null'], default: null },
      num_input_clips: { type: 'integer', minimum: 1, default: 2, description: 'N observed actions (NUM_INPUT_CLIPS)' },
      num_future_actions: { type: 'integer', minimum: 1, default: 20, description: 'Z actions to forecast' },
      fps: { type: 'number', exclusiveMinimum: 0, default: 30, description: 'frame rate of the feature grid' },
      stride: { type: 'number', exclusiveMinimum: 0, default: 16, description: 'frames between features (30/16 = 1.875 features/s)' },
      input_window: { enum: ['segment', 'center'], default: 'segment', description: "average the action's whole span, or clip_seconds at its centre" },
      clip_seconds: { type: 'number', exclusiveMinimum: 0, default: 64 / 30, description: 'input clip length for input_window: center (32×2/30 s)' },
      ...SKIP_MISSING_PROPERTY,
    },
    required: ['root'],
    additionalProperties: false,
  },
  create: Ego4dLtaDataset,
});
