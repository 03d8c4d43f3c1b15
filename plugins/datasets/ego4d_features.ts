// `ego4d_features`: Ego4D precomputed video features (HDF5, one [N, D] dataset per video_uid, 30/16 = 1.875
// features per second; ml-spec §4) in two modes.
//
// mode: narrations — CLEP video–text pairs (`facebookresearch/Ego4d ego4d/research/clep/`):
//   narrations from <narrations> (narration.json) pass 1 + pass 2, sorted by (video_uid, timestamp),
//   texts of ≤ 3 words dropped; split 'train' also drops videos in val/test of any benchmark (ego4d.json
//   split_em/split_av/split_fho, CLEP's filter_narrations), split 'val' is exactly those held-out videos (for
//   zero-shot retrieval evaluation), split 'all' keeps every video. A narration at ts
//   averages the rows [floor((ts−2)·1.875) .. floor((ts+2)·1.875)] (clamped) → inputs.video [D].
//   Text embeddings (inputs.text [Dt]) come from `text_embeddings`:
//     .npy  — [M, Dt], row i = narration i of the list above BEFORE the split filter (i.e. after the
//             ≤3-word filter only), so one file serves every split;
//     .h5   — one [n, Dt] dataset per video_uid, row j = that video's j-th narration in the same list.
//   meta.text is the narration with its tags handled by `tag_mode` (substitute: "#C" → "Camera wearer", …).
//
// mode: user_stream — EgoAdapt user streams (user-split.ts, user-stream.ts): <usersplit_dir>/<split>_usersplit.json
//   (split train | test | pretrain; written first from the LTA annotations + ego4d.json when missing and
//   make_user_split is true); each user's entries in chronological order, FIFO overlap policy, cut into
//   2.133 s clips (stream_clips: true) or one sample per action (false); a clip's input is the mean of the
//   rows of its span in the parent video; targets verb, noun. `users` gives each user's sample range; a
//   user whose stream ends up empty is an error.
// A record whose video has no features is an error naming the key (with `skip_missing: true`, skipped and reported).

import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { VidraError } from '../../core/config/errors.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { checkIndices, missingFeatures, resolveIn, SkipLog, unbatch, type Batch, type Dataset, type DatasetSource, type Sample, type SkipReport, LOADER_PROPERTIES, SKIP_MISSING_PROPERTY } from './dataset.ts';
import { featureWindow, narrationWindow } from './feature-windows.ts';
import { isValOrTest, readEgo4dMeta } from './formats/ego4d-meta.ts';
import { DataFormatError } from './formats/errors.ts';
import { FeatureFile, type RowWindow } from './formats/hdf5-features.ts';
import { LTA_TAXONOMY_FILE, readTaxonomy } from './formats/lta.ts';
import { applyTagMode, filterShortNarrations, readNarrations, type TagMode } from './formats/narrations.ts';
import { NpyRows } from './formats/npy.ts';
import { checkUserSplitRecord, readUserSplitFile, runUserSplit, userSplitFile, userSplitRecord, type UserSplitName } from './user-split.ts';
import { cutClips, fifoSegments } from './user-stream.ts';

export interface Ego4dFeaturesOptions {
  root: string;
  mode: 'narrations' | 'user_stream';
  split: string;
  features: string;
  features_group: string | null;
  fps: number;
  stride: number;
  // narrations
  narrations: string;
  text_embeddings: string | null;
  metadata: string | null;
  exclude_splits: string[];
  narration_width_sec: number;
  min_words: number;
  tag_mode: TagMode;
  // user streams
  annotation_dir: string;
  usersplit_dir: string;
  users: Array<string | number> | null;
  stream_clips: boolean;
  clip_seconds: number;
  make_user_split: boolean;
  num_train_users: number;
  num_test_users: number;
  train_user_ids: Array<string | number> | null;
  test_user_ids: Array<string | number> | null;
  split_seed: number;
  skip_missing: boolean;
}

interface Item {
  window: RowWindow;
  text?: { key: string; row: number };
  targets?: { verb: number; noun: number };
  meta: Record<string, unknown>;
}

/** Text embeddings by narration: rows of one .npy, or per-video HDF5 datasets. */
type TextSource = { kind: 'npy'; file: NpyRows } | { kind: 'h5'; file: FeatureFile };

class Ego4dFeatureDataset implements Dataset {
  readonly name = 'ego4d_features';

  constructor(
    readonly split: string,
    private readonly items: Item[],
    private readonly features: FeatureFile,
    private readonly text: TextSource | null,
    readonly skipped: SkipReport[],
    readonly numClasses: Record<string, number>,
    readonly users?: Array<{ id: string; start: number; end: number }>,
  ) {}

  get length(): number {
    return this.items.length;
  }

  get(i: number): Sample {
    return unbatch(this.getBatch([i]), 0);
  }

  getBatch(indices: readonly number[]): Batch {
    checkIndices(this.name, this.items.length, indices);
    const items = indices.map((i) => this.items[i]!);
    const B = items.length;
    const inputs: Batch['inputs'] = { video: { data: this.features.readMeans(items.map((it) => it.window)), shape: [B, this.features.dim ?? 0] } };
    if (this.text) {
      if (this.text.kind === 'npy') {
        inputs.text = { data: this.text.file.read(items.map((it) => it.text!.row)), shape: [B, this.text.file.dim] };
      } else {
        const data = this.text.file.readMeans(items.map((it) => ({ key: it.text!.key, start: it.text!.row, end: it.text!.row + 1 })));
        inputs.text = { data, shape: [B, this.text.file.dim ?? 0] };
      }
    }
    const targets: Batch['targets'] = {};
    if (items[0]?.targets) {
      targets.verb = { data: Int32Array.from(items, (it) => it.targets!.verb), shape: [B] };
      targets.noun = { data: Int32Array.from(items, (it) => it.targets!.noun), shape: [B] };
    }
    return { size: B, inputs, targets, meta: items.map((it) => it.meta) };
  }

  close(): void {
    this.features.close();
    this.text?.file.close();
  }
}

@injectable()
export class Ego4dFeatures implements DatasetSource {
  readonly splits: readonly string[];

  constructor(@inject(PLUGIN_CONFIG) private readonly options: Ego4dFeaturesOptions) {
    this.splits = options.mode === 'narrations' ? ['train', 'val', 'all'] : ['train', 'test', 'pretrain'];
  }

  async load(split: string = this.options.split): Promise<Dataset> {
    const o = this.options;
    if (!this.splits.includes(split)) throw new DataFormatError(`ego4d_features: unknown split '${split}' for mode '${o.mode}'; splits: ${this.splits.join(', ')}`);
    const features = await FeatureFile.open(resolveIn(o.root, o.features), { group: o.features_group });
    try {
      return o.mode === 'narrations' ? await this.narrations(split, features) : this.userStreams(split as UserSplitName, features);
    } catch (err) {
      features.close();
      throw err;
    }
  }

  private async narrations(split: string, features: FeatureFile): Promise<Dataset> {
    const o = this.options;
    const path = resolveIn(o.root, o.narrations);
    const list = filterShortNarrations(readNarrations(path), o.min_words);
    const skips = new SkipLog();
    let text: TextSource | null = null;
    if (o.text_embeddings !== null) {
      const tp = resolveIn(o.root, o.text_embeddings);
      if (extname(tp) === '.npy') {
        const file = NpyRows.open(tp);
        text = { kind: 'npy', file };
        if (file.rows !== list.length) {
          file.close();
          throw new DataFormatError(
            `${tp}: has ${file.rows} rows, but ${path} has ${list.length} narrations after the ≤${o.min_words - 1}-word filter (row i must embed narration i of that list)`,
          );
        }
      } else text = { kind: 'h5', file: await FeatureFile.open(tp) };
    }
    try {
      if (split === 'val' && (o.metadata === null || o.exclude_splits.length === 0)) {
        throw new VidraError("ego4d_features: the narrations 'val' split is the videos of exclude_splits in metadata (ego4d.json); set metadata and exclude_splits");
      }
      const excluded = new Set<string>();
      if ((split === 'train' || split === 'val') && o.metadata !== null && o.exclude_splits.length > 0) {
        for (const v of readEgo4dMeta(resolveIn(o.root, o.metadata)).values()) if (isValOrTest(v, o.exclude_splits)) excluded.add(v.video_uid);
      }
      const items: Item[] = [];
      const perVideo = new Map<string, number>();
      list.forEach((n, i) => {
        const j = perVideo.get(n.video_uid) ?? 0;
        perVideo.set(n.video_uid, j + 1);
        // 'val' is the complement of 'train': the held-out videos only (a split, not skipped records).
        if (split === 'val' && !excluded.has(n.video_uid)) return;
        if (split === 'train' && excluded.has(n.video_uid)) return skips.add(`video in a ${o.exclude_splits.join('/')} split (ego4d.json), left out of '${split}'`, n.video_uid);
        const narration = `the narration at ${n.timestamp_sec} s of video_uid '${n.video_uid}' (${path})`;
        if (!features.has(n.video_uid)) return missingFeatures(o.skip_missing, skips, features, n.video_uid, narration, `no features in ${features.path} for its video_uid`);
        const rows = features.info(n.video_uid).rows;
        if (rows === 0) return skips.add(`0 feature rows in ${features.path} for its video_uid`, n.video_uid);
        let window: RowWindow;
        try {
          window = { key: n.video_uid, ...narrationWindow(n.timestamp_sec, { fps: o.fps, stride: o.stride, numFeatures: rows, width: o.narration_width_sec }) };
        } catch (err) {
          throw new DataFormatError(`${path}: '${n.video_uid}' narration at ${n.timestamp_sec} s: ${(err as Error).message}`, { cause: err });
        }
        let textRef: Item['text'];
        if (text?.kind === 'npy') textRef = { key: '', row: i };
        else if (text?.kind === 'h5') {
          if (!text.file.has(n.video_uid)) return missingFeatures(o.skip_missing, skips, text.file, n.video_uid, narration, `no text embeddings in ${text.file.path} for its video_uid`);
          if (j >= text.file.info(n.video_uid).rows) {
            throw new DataFormatError(`${text.file.path}: dataset '${n.video_uid}' has ${text.file.info(n.video_uid).rows} rows, but ${path} has more narrations for that video after the word filter`);
          }
          textRef = { key: n.video_uid, row: j };
        }
        items.push({ window, text: textRef, meta: { video_uid: n.video_uid, timestamp_sec: n.timestamp_sec, text: applyTagMode(n.text, o.tag_mode), narration_index: i } });
      });
      return new Ego4dFeatureDataset(split, items, features, text, skips.list(), {});
    } catch (err) {
      text?.file.close();
      throw err;
    }
  }

  private userStreams(split: UserSplitName, features: FeatureFile): Dataset {
    const o = this.options;
    const dir = resolveIn(o.root, o.usersplit_dir);
    const file = userSplitFile(dir, split);
    const annotationDir = resolveIn(o.root, o.annotation_dir);
    const taxonomy = readTaxonomy(resolveIn(annotationDir, LTA_TAXONOMY_FILE));
    const splitOptions = { numTrainUsers: o.num_train_users, numTestUsers: o.num_test_users, trainUserIds: o.train_user_ids, testUserIds: o.test_user_ids, seed: o.split_seed };
    if (existsSync(file)) {
      if (o.make_user_split) checkUserSplitRecord(dir, userSplitRecord(splitOptions));
    } else {
      if (!o.make_user_split) throw new DataFormatError(`${file}: user split file not found; write it with the user split (plugins/datasets/user-split.ts) or set make_user_split: true`);
      if (o.metadata === null) throw new DataFormatError('ego4d_features: make_user_split needs metadata (ego4d.json)');
      runUserSplit({
        annotationDir,
        metadata: resolveIn(o.root, o.metadata),
        outDir: dir,
        ...splitOptions,
        taxonomy,
        log: null,
      });
    }
    let streams = readUserSplitFile(file, taxonomy);
    if (o.users !== null) {
      const wanted = o.users.map(String);
      const missing = wanted.filter((u) => !streams.some((s) => s.user === u));
      if (missing.length) throw new VidraError(`ego4d_features: user${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not in ${file} (users: ${streams.map((s) => s.user).join(', ')})`);
      streams = wanted.map((u) => streams.find((s) => s.user === u)!);
    }
    const skips = new SkipLog();
    const items: Item[] = [];
    const users: Array<{ id: string; start: number; end: number }> = [];
    for (const { user, entries } of streams) {
      const start = items.length;
      const { segments, dropped } = fifoSegments(entries, o.clip_seconds);
      for (let d = 0; d < dropped; d++) skips.add('action dropped by the FIFO overlap policy (covered by earlier actions, or shorter than a clip once trimmed)', `user ${user}`);
      const clips = o.stream_clips ? cutClips(segments, o.clip_seconds) : segments.map((s) => ({ ...s, clipIndex: 0 }));
      for (const c of clips) {
        const uid = c.entry.video_uid;
        if (!features.has(uid)) {
          missingFeatures(o.skip_missing, skips, features, uid, `the clip of user '${user}' in ${file} (clip_uid '${c.entry.clip_uid}')`, `no features in ${features.path} for its video_uid`);
          continue;
        }
        const rows = features.info(uid).rows;
        if (rows === 0) {
          skips.add(`0 feature rows in ${features.path} for its video_uid`, uid);
          continue;
        }
        const base = c.entry.clip_parent_start_sec;
        items.push({
          window: { key: uid, ...featureWindow(base + c.start, base + c.end, { fps: o.fps, stride: o.stride, numFeatures: rows }) },
          targets: { verb: c.entry.verb_label, noun: c.entry.noun_label },
          meta: { user, video_uid: uid, clip_uid: c.entry.clip_uid, action_idx: c.entry.action_idx, start_sec: c.start, end_sec: c.end, clip_index: c.clipIndex },
        });
      }
      if (items.length === start) {
        throw new DataFormatError(`${file}: user '${user}' has an empty stream: none of its ${entries.length} entries gave a clip with features (see skipped reasons: ${skips.list().map((s) => s.reason).join('; ') || 'none'})`);
      }
      users.push({ id: user, start, end: items.length });
    }
    return new Ego4dFeatureDataset(split, items, features, null, skips.list(), { verb: taxonomy.verbs.length, noun: taxonomy.nouns.length }, users);
  }
}

const idList = { type: ['array', 'null'], items: { type: ['string', 'integer'] }, default: null };

export const plugin = definePlugin({
  kind: 'dataset',
  name: 'ego4d_features',
  description: 'Ego4D precomputed features: CLEP narration/text pairs, or EgoAdapt per-user streams',
  schema: {
    type: 'object',
    properties: {
      ...LOADER_PROPERTIES,
      root: { type: 'string', description: 'Ego4D data directory' },
      mode: { enum: ['narrations', 'user_stream'], default: 'narrations' },
      split: { type: 'string', default: 'train', description: 'narrations: train | all; user_stream: train | test | pretrain' },
      features: { type: 'string', default: 'features.h5', description: 'HDF5, one [N, D] dataset per video_uid (relative to root)' },
      features_group: { type: ['string', 'null'], default: null },
      fps: { type: 'number', exclusiveMinimum: 0, default: 30 },
      stride: { type: 'number', exclusiveMinimum: 0, default: 16 },
      narrations: { type: 'string', default: 'narration.json' },
      text_embeddings: { type: ['string', 'null'], default: 'narration_embeddings.npy', description: '.npy [M, Dt] or HDF5 per video_uid; null: video features only' },
      metadata: { type: ['string', 'null'], default: 'ego4d.json', description: 'ego4d.json (val/test filter, user split)' },
      exclude_splits: { type: 'array', items: { type: 'string' }, default: ['val', 'test'], description: "benchmark splits left out of the narrations 'train' split" },
      narration_width_sec: { type: 'number', minimum: 0, default: 2, description: 'a narration at ts averages features over [ts − w, ts + w]' },
      min_words: { type: 'integer', minimum: 1, default: 4, description: 'narrations with fewer space-separated words are dropped (CLEP: > 3)' },
      tag_mode: { enum: ['substitute', 'remove', 'raw'], default: 'substitute', description: '#C/#O/#unsure tags in meta.text' },
      annotation_dir: { type: 'string', default: 'annotations', description: 'fho_lta_*.json directory (user streams)' },
      usersplit_dir: { type: 'string', default: 'usersplit', description: 'directory of <split>_usersplit.json' },
      users: { ...idList, description: 'only these users, in this order (null: all users of the split file)' },
      stream_clips: { type: 'boolean', default: true, description: 'cut actions into clip_seconds clips (EgoAdapt); false: one sample per action' },
      clip_seconds: { type: 'number', exclusiveMinimum: 0, default: 64 / 30 },
      ...SKIP_MISSING_PROPERTY,
      make_user_split: { type: 'boolean', default: true, description: 'write the split files when missing' },
      num_train_users: { type: 'integer', minimum: 0, default: 10 },
      num_test_users: { type: 'integer', minimum: 0, default: 40 },
      train_user_ids: { ...idList, description: 'explicit train users (EgoAdapt ORIG_TRAIN_USERS)' },
      test_user_ids: { ...idList, description: 'explicit test users (EgoAdapt ORIG_TEST_USERS)' },
      split_seed: { type: 'integer', default: 0, description: 'seed of the train/test user assignment' },
    },
    required: ['root'],
    additionalProperties: false,
  },
  create: Ego4dFeatures,
});
