// `synthetic`: small datasets written in exactly the real file formats, then read through the real loaders.
//
// `writeSynthetic(dir, { seed, kind })` writes (sizes with the defaults; feature dim D = 32):
//   ego4d/  annotations/fho_lta_{train,val,test_unannotated}.json + fho_lta_taxonomy.json (12 verbs, 20 nouns),
//           ego4d.json, narration.json, narration_embeddings.npy [M, 16], features.h5 (gzip, 1.875 rows/s):
//           6 users (fb_participant_id 11..16) × 3 videos × 2 clips × 26 actions, plus 2 videos of the
//           "NaN user" (one with fb_participant_id null, one without the key) and 3 test videos — 23 videos,
//           936 / 104 / 156 train / val / test entries, ~9k feature rows, ~1.6k narrations kept; each user's
//           action distribution drifts from one favourite set to another over its videos; actions sometimes
//           overlap (exercising the FIFO policy); action lengths grow with the user index, so users rank
//           16 > 15 > … > 11 by duration; narrations at action midpoints ("#C C takes the knife", some
//           ≤ 3-word texts, #O and #unsure tags), pass 2 for every other video.
//   charades/  Charades_v1_{train,test}.csv (300 / 100 videos, quoted fields with commas and quotes, ~5%
//           without actions), Charades_v1_classes.txt (157), features.h5 (uncompressed).
//   animal_kingdom/  annotation/{train,val}.csv frame lists (300 / 100 clips × 4 frames, some frames
//           unlabelled), annotation/df_action.csv (140 actions: name, train count, segment: the 17 most
//           frequent head, next 29 middle, 94 tail — the official split sizes), features.h5 (uncompressed).
// About 7.5 MB in all. Only the Ego4D features are gzip-compressed: compressing the ~800 small Charades/AK
// datasets (noise does not compress) tripled the generation time.
// Features are class-conditional: a row is the mean of the prototypes of the actions active at its time,
// plus N(0, 0.5²) noise; Charades and AK class frequencies are long-tailed, ∝ exp(−c/τ) (τ = 25 and 20).
// Everything comes from `core/random.ts` streams seeded by `seed`: the JSON/CSV/.npy bytes and the HDF5
// arrays are identical for the same seed (the HDF5 bytes are not: the library stamps object times).
// Generation of `all` takes ~0.3 s warm, ~0.7 s cold plus ~0.25 s h5wasm start-up (2-core machine, loaded).
//
// The plugin generates once into `<root>/v<version>-seed<seed>` (in a temporary directory renamed into place,
// so concurrent jobs never see a partial dataset), with the user split of ego4d/ (2 train, 3 test users) in
// ego4d/usersplit, and loads `kind` with the real plugin of that name; `loader` passes config keys to it.

import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VidraError } from '../../core/config/errors.ts';
import { fromPlain, type DictNode } from '../../core/config/node.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin, type PluginDefinition } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { validatePluginNode } from '../../core/plugins/validate.ts';
import { mulberry32, normal } from '../../core/random.ts';
import { plugin as animalKingdomPlugin } from './animal_kingdom.ts';
import { plugin as charadesPlugin } from './charades.ts';
import type { Dataset, DatasetSource } from './dataset.ts';
import { plugin as ego4dFeaturesPlugin } from './ego4d_features.ts';
import { plugin as ego4dLtaPlugin } from './ego4d_lta.ts';
import { EGO4D_GRID, featureCount } from './feature-windows.ts';
import { CHARADES_CLASSES, CHARADES_COLUMNS } from './formats/charades.ts';
import { csvField } from './formats/csv.ts';
import { writeFeatureFile } from './formats/hdf5-features.ts';
import { LTA_FILES, LTA_TAXONOMY_FILE } from './formats/lta.ts';
import { filterShortNarrations, parseNarrations } from './formats/narrations.ts';
import { writeNpy } from './formats/npy.ts';
import { runUserSplit } from './user-split.ts';
import { LOADER_PROPERTIES } from './dataset.ts';
import { ensureBackboneFeatures, type BackboneStandIn } from './backbone-features.ts';

/** Bump when the generated content changes: cached datasets of another version are not reused. */
export const SYNTHETIC_VERSION = 2;

export type SyntheticKind = 'ego4d' | 'charades' | 'animal_kingdom' | 'all';

export interface SyntheticOptions {
  seed?: number;
  kind?: SyntheticKind;
  featureDim?: number;
  ego4d?: { users?: number; videosPerUser?: number; clipsPerVideo?: number; actionsPerClip?: number; nanUserVideos?: number; testVideos?: number; textDim?: number; videosWithoutFeatures?: number };
  charades?: { trainVideos?: number; testVideos?: number; tau?: number };
  animalKingdom?: { trainClips?: number; valClips?: number; framesPerClip?: number; tau?: number };
}

export interface SyntheticManifest {
  version: number;
  seed: number;
  kind: SyntheticKind;
  files: string[];
  counts: Record<string, number>;
}

const VERBS = ['take', 'put', 'cut', 'open', 'close', 'wash', 'stir', 'pour', 'hold', 'turn', 'move', 'wipe'];
const VERBS_3SG = ['takes', 'puts', 'cuts', 'opens', 'closes', 'washes', 'stirs', 'pours', 'holds', 'turns', 'moves', 'wipes'];
const NOUNS = ['knife', 'bowl', 'cup', 'door', 'tap', 'spoon', 'pan', 'plate', 'bag', 'box', 'lid', 'towel', 'bottle', 'onion', 'dough', 'phone', 'brush', 'cloth', 'drawer', 'paper'];
const NOISE = 0.5;

type Rand = () => number;

function rng(seed: number, stream: number): { u: Rand; n: Rand } {
  const u = mulberry32((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0);
  return { u, n: normal(u) };
}

const round = (x: number, d = 3) => Number(x.toFixed(d));
const int = (u: Rand, lo: number, hi: number) => lo + Math.floor(u() * (hi - lo + 1));
const hex = (u: Rand, n: number) => Array.from({ length: n }, () => Math.floor(u() * 16).toString(16)).join('');
const uuid = (u: Rand) => `${hex(u, 8)}-${hex(u, 4)}-4${hex(u, 3)}-a${hex(u, 3)}-${hex(u, 12)}`;

function prototypes(n: Rand, count: number, dim: number, scale = 1): Float32Array[] {
  return Array.from({ length: count }, () => Float32Array.from({ length: dim }, () => n() * scale));
}

/** Samples an index from unnormalised weights. */
function pick(u: Rand, weights: readonly number[]): number {
  let total = 0;
  for (const w of weights) total += w;
  let r = u() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r < 0) return i;
  }
  return weights.length - 1;
}

/** Feature rows of a video: row i (centre time (16i + 16)/30 s) = mean prototype of the labels active then + noise. */
function featureRows(
  rows: number,
  dim: number,
  secondsPerRow: number,
  active: (t: number) => Float32Array[],
  n: Rand,
  offset = 0,
): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < rows; i++) {
    const t = offset + i * secondsPerRow;
    const protos = active(t);
    for (let d = 0; d < dim; d++) {
      let v = 0;
      for (const p of protos) v += p[d]!;
      out[i * dim + d] = (protos.length ? v / protos.length : 0) + NOISE * n();
    }
  }
  return out;
}

interface Written {
  files: string[];
  counts: Record<string, number>;
}

function writeText(path: string, text: string, out: Written): void {
  writeFileSync(path, text);
  out.files.push(path);
}

// ---------------------------------------------------------------------------------------------- Ego4D

async function writeEgo4d(dir: string, seed: number, o: SyntheticOptions, out: Written): Promise<void> {
  const e = o.ego4d ?? {};
  const U = e.users ?? 6;
  const videosPerUser = e.videosPerUser ?? 3;
  const clipsPerVideo = e.clipsPerVideo ?? 2;
  const actionsPerClip = e.actionsPerClip ?? 26;
  const nanVideos = e.nanUserVideos ?? 2;
  const testVideos = e.testVideos ?? 3;
  const textDim = e.textDim ?? 16;
  const D = o.featureDim ?? 32;
  const { u, n } = rng(seed, 1);
  const V = VERBS.length;
  const N = NOUNS.length;
  const ann = join(dir, 'annotations');
  mkdirSync(ann, { recursive: true });

  // Two favourite action sets per user; a video's distribution moves from the first to the second.
  const favourites = (): number[] => Array.from({ length: 5 }, () => int(u, 0, V * N - 1));
  const users = Array.from({ length: U }, (_, k) => ({ id: 11 + k, from: favourites(), to: favourites() }));
  const actionWeights = (from: number[], to: number[], alpha: number): number[] => {
    const w = new Array<number>(V * N).fill(0.02);
    for (const a of from) w[a]! += 1 - alpha;
    for (const a of to) w[a]! += alpha;
    return w;
  };

  type Video = { uid: string; user: number | null | 'absent'; origin: string; split: 'train' | 'val' | 'test'; weights: number[]; clipSeconds: number };
  const videos: Video[] = [];
  users.forEach((usr, k) => {
    for (let v = 0; v < videosPerUser; v++) {
      const alpha = videosPerUser > 1 ? v / (videosPerUser - 1) : 0;
      // Most videos train, one in three of the users' last videos val.
      const split = v === videosPerUser - 1 && k % 3 === 1 ? 'val' : 'train';
      videos.push({ uid: uuid(u), user: usr.id, origin: `origin_${String(usr.id)}_${String(v).padStart(2, '0')}`, split, weights: actionWeights(usr.from, usr.to, alpha), clipSeconds: 0 });
    }
  });
  for (let v = 0; v < nanVideos; v++) {
    videos.push({ uid: uuid(u), user: v % 2 === 0 ? null : 'absent', origin: `origin_nan_${v}`, split: 'train', weights: actionWeights(favourites(), favourites(), 0.5), clipSeconds: 0 });
  }
  for (let v = 0; v < testVideos; v++) {
    const usr = users[v % U]!;
    videos.push({ uid: uuid(u), user: usr.id, origin: `origin_${usr.id}_test_${v}`, split: 'test', weights: actionWeights(usr.from, usr.to, 1), clipSeconds: 0 });
  }

  type Action = { verb: number; noun: number; start: number; end: number };
  type Clip = { video: Video; uid: string; id: number; parentStart: number; parentEnd: number; actions: Action[] };
  const clips: Clip[] = [];
  let clipId = 1000;
  const durations = new Map<string, number>();
  for (const video of videos) {
    const userIndex = typeof video.user === 'number' ? video.user - 11 : 0;
    let t = 4;
    for (let c = 0; c < clipsPerVideo; c++) {
      const actions: Action[] = [];
      let cursor = 0.5;
      for (let a = 0; a < actionsPerClip; a++) {
        const action = pick(u, video.weights);
        // Slightly longer actions for higher user indices: users rank by their index.
        const len = round(1.5 + 2 * u() + 0.4 * userIndex);
        const overlap = a > 0 && u() < 0.2 ? round(0.3 + u() * Math.min(1.5, len - 0.3)) : 0;
        const start = round(Math.max(0, cursor - overlap));
        actions.push({ verb: Math.floor(action / N), noun: action % N, start, end: round(start + len) });
        cursor = start + len + round(0.2 + u() * 0.8);
      }
      const length = round(cursor + 1);
      clips.push({ video, uid: uuid(u), id: clipId++, parentStart: round(t), parentEnd: round(t + length), actions });
      t += length + 6;
    }
    durations.set(video.uid, round(t));
  }

  const entry = (clip: Clip, a: Action, idx: number, labelled: boolean) => ({
    video_uid: clip.video.uid,
    clip_id: clip.id,
    clip_uid: clip.uid,
    clip_parent_start_sec: clip.parentStart,
    clip_parent_end_sec: clip.parentEnd,
    clip_parent_start_frame: Math.round(clip.parentStart * 30),
    clip_parent_end_frame: Math.round(clip.parentEnd * 30),
    action_idx: idx,
    action_clip_start_sec: a.start,
    action_clip_end_sec: a.end,
    action_clip_start_frame: Math.round(a.start * 30),
    action_clip_end_frame: Math.round(a.end * 30),
    interval_start_sec: 0,
    interval_end_sec: round(clip.parentEnd - clip.parentStart),
    interval_start_frame: 0,
    interval_end_frame: Math.round((clip.parentEnd - clip.parentStart) * 30),
    ...(labelled ? { verb: VERBS[a.verb], verb_label: a.verb, noun: NOUNS[a.noun], noun_label: a.noun } : {}),
  });
  for (const split of ['train', 'val', 'test'] as const) {
    const list = clips.filter((c) => c.video.split === split).flatMap((c) => c.actions.map((a, i) => entry(c, a, i, split !== 'test')));
    const json = { version: 'v1', date: '220101', description: `Synthetic Vidra LTA ${split} (seed ${seed})`, split, clips: list };
    writeText(join(ann, LTA_FILES[split]), `${JSON.stringify(json)}\n`, out);
    out.counts[`ego4d.lta_${split}_entries`] = list.length;
  }
  writeText(join(ann, LTA_TAXONOMY_FILE), `${JSON.stringify({ verbs: VERBS, nouns: NOUNS })}\n`, out);

  const meta = {
    date: '220101',
    version: 'v1',
    description: 'Synthetic Vidra ego4d.json',
    videos: videos.map((v) => ({
      video_uid: v.uid,
      duration_sec: durations.get(v.uid),
      scenarios: ['Cooking'],
      video_metadata: { fps: 30, num_frames: Math.round(durations.get(v.uid)! * 30), video_codec: 'h264' },
      split_em: null,
      split_av: null,
      split_fho: v.split,
      origin_video_id: v.origin,
      video_source: 'synthetic',
      device: 'GoPro',
      physical_setting_name: null,
      ...(v.user === 'absent' ? {} : { fb_participant_id: v.user }),
      is_stereo: false,
      has_imu: false,
      has_gaze: false,
      video_components: [],
    })),
  };
  writeText(join(dir, 'ego4d.json'), `${JSON.stringify(meta)}\n`, out);
  out.counts['ego4d.videos'] = videos.length;

  // Features: one dataset per video_uid on the Ego4D grid.
  const verbProto = prototypes(n, V, D);
  const nounProto = prototypes(n, N, D);
  const actionProto = (a: Action) => Float32Array.from({ length: D }, (_, d) => verbProto[a.verb]![d]! + nounProto[a.noun]![d]!);
  const withoutFeatures = e.videosWithoutFeatures ?? 0;
  const datasets: Array<{ key: string; data: Float32Array; rows: number; dim: number }> = [];
  const secondsPerRow = EGO4D_GRID.stride / EGO4D_GRID.fps;
  videos.forEach((video, k) => {
    const mine = clips.filter((c) => c.video === video);
    const spans = mine.flatMap((c) => c.actions.map((a) => ({ s: c.parentStart + a.start, e: c.parentStart + a.end, p: actionProto(a) })));
    const rows = featureCount(Math.round(durations.get(video.uid)! * 30));
    const data = featureRows(rows, D, secondsPerRow, (t) => spans.filter((x) => x.s <= t && t < x.e).map((x) => x.p).slice(0, 1), n, (EGO4D_GRID.window / 2) / EGO4D_GRID.fps);
    if (k >= videos.length - withoutFeatures) return;
    datasets.push({ key: video.uid, data, rows, dim: D });
  });
  await writeFeatureFile(join(dir, 'features.h5'), datasets, { gzip: 4 });
  out.files.push(join(dir, 'features.h5'));
  out.counts['ego4d.feature_rows'] = datasets.reduce((s, d) => s + d.rows, 0);

  // Narrations at action midpoints (parent video time), pass 2 on every other video.
  const narration: Record<string, unknown> = {};
  const labelsOf = new Map<string, Action>();
  videos.forEach((video, k) => {
    const mine = clips.filter((c) => c.video === video);
    const pass = (p: 1 | 2) => ({
      narrations: mine.flatMap((c) =>
        c.actions.map((a, i) => {
          const ts = round(c.parentStart + (a.start + a.end) / 2 + (p === 2 ? 0.25 : 0), 4);
          const text =
            (i + p) % 7 === 0
              ? `#C C ${VERBS_3SG[a.verb]}`
              : (i + k) % 5 === 0
                ? `#O The man ${VERBS_3SG[a.verb]} the ${NOUNS[a.noun]}`
                : (i + k) % 11 === 0
                  ? `#C C ${VERBS_3SG[a.verb]} the #unsure`
                  : `#C C ${VERBS_3SG[a.verb]} the ${NOUNS[a.noun]}`;
          labelsOf.set(`${video.uid}|${p}|${ts}|${text}`, a);
          return { timestamp_sec: ts, timestamp_frame: Math.round(ts * 30), narration_text: text, annotation_uid: `${video.uid.slice(0, 8)}-${p}` };
        }),
      ),
      summaries: [{ start_sec: 0, end_sec: durations.get(video.uid), summary_text: '#Summary C cooks.' }],
    });
    narration[video.uid] = { status: 'complete', narration_pass_1: pass(1), ...(k % 2 === 0 ? { narration_pass_2: pass(2) } : {}) };
  });
  const narrationPath = join(dir, 'narration.json');
  writeText(narrationPath, `${JSON.stringify(narration)}\n`, out);

  // Text embeddings: row i embeds narration i of the ≤3-word-filtered, sorted list (see ego4d_features.ts).
  const kept = filterShortNarrations(parseNarrations(narration, narrationPath));
  const verbText = prototypes(n, V, textDim);
  const nounText = prototypes(n, N, textDim);
  const emb = new Float32Array(kept.length * textDim);
  kept.forEach((nar, i) => {
    const a = labelsOf.get(`${nar.video_uid}|${nar.pass}|${nar.timestamp_sec}|${nar.text}`)!;
    for (let d = 0; d < textDim; d++) emb[i * textDim + d] = verbText[a.verb]![d]! + nounText[a.noun]![d]! + NOISE * n();
  });
  writeNpy(join(dir, 'narration_embeddings.npy'), emb, [kept.length, textDim]);
  out.files.push(join(dir, 'narration_embeddings.npy'));
  out.counts['ego4d.narrations'] = kept.length;
}

// ------------------------------------------------------------------------------------------- Charades

const SCENES = ['Kitchen', 'Bedroom', 'Living room', 'Bathroom', 'Garage'];

async function writeCharades(dir: string, seed: number, o: SyntheticOptions, out: Written): Promise<void> {
  const c = o.charades ?? {};
  const tau = c.tau ?? 25;
  const D = o.featureDim ?? 32;
  const { u, n } = rng(seed, 2);
  mkdirSync(dir, { recursive: true });
  const C = CHARADES_CLASSES;
  const weights = Array.from({ length: C }, (_, k) => Math.exp(-k / tau));
  const protos = prototypes(n, C, D);
  writeText(join(dir, 'Charades_v1_classes.txt'), Array.from({ length: C }, (_, k) => `c${String(k).padStart(3, '0')} Synthetic action ${k}\n`).join(''), out);
  const ids = new Set<string>();
  const newId = () => {
    for (;;) {
      const id = Array.from({ length: 5 }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[int(u, 0, 35)]).join('');
      if (!ids.has(id)) {
        ids.add(id);
        return id;
      }
    }
  };
  const datasets: Array<{ key: string; data: Float32Array; rows: number; dim: number }> = [];
  for (const [split, count] of [['train', c.trainVideos ?? 300], ['test', c.testVideos ?? 100]] as const) {
    const lines = [CHARADES_COLUMNS.join(',')];
    for (let v = 0; v < count; v++) {
      const id = newId();
      const length = round(15 + 20 * u(), 2);
      const k = u() < 0.05 ? 0 : int(u, 1, 4);
      const actions = Array.from({ length: k }, () => {
        const cls = pick(u, weights);
        const s = round(u() * length * 0.7, 2);
        return { cls, s, e: round(Math.min(length, s + 2 + u() * 10), 2) };
      });
      const actionText = actions.map((a) => `c${String(a.cls).padStart(3, '0')} ${a.s.toFixed(2)} ${a.e.toFixed(2)}`).join(';');
      const scene = SCENES[int(u, 0, SCENES.length - 1)]!;
      const row = [
        id,
        `S${int(u, 10, 99)}`,
        scene,
        String(int(u, 4, 7)),
        String(int(u, 4, 7)),
        'Yes',
        `A person walks into the ${scene.toLowerCase()}, picks up a "thing", then leaves.`,
        'cup;dish;table',
        `The person holds a cup, then "pours" it;They walk away.`,
        actionText,
        length.toFixed(2),
      ];
      lines.push(row.map(csvField).join(','));
      const rows = Math.max(1, Math.ceil(length * 1.875));
      datasets.push({ key: id, rows, dim: D, data: featureRows(rows, D, 1 / 1.875, (t) => actions.filter((a) => a.s <= t && t < a.e).map((a) => protos[a.cls]!), n) });
    }
    writeText(join(dir, `Charades_v1_${split}.csv`), `${lines.join('\n')}\n`, out);
    out.counts[`charades.${split}_videos`] = count;
  }
  await writeFeatureFile(join(dir, 'features.h5'), datasets, { gzip: null });
  out.files.push(join(dir, 'features.h5'));
}

// ------------------------------------------------------------------------------------- Animal Kingdom

async function writeAnimalKingdom(dir: string, seed: number, o: SyntheticOptions, out: Written): Promise<void> {
  const a = o.animalKingdom ?? {};
  const tau = a.tau ?? 20;
  const frames = a.framesPerClip ?? 4;
  const D = o.featureDim ?? 32;
  const { u, n } = rng(seed, 3);
  const C = 140;
  const ann = join(dir, 'annotation');
  mkdirSync(ann, { recursive: true });
  const weights = Array.from({ length: C }, (_, k) => Math.exp(-k / tau));
  const protos = prototypes(n, C, D);
  const trainCounts = new Array<number>(C).fill(0);
  const datasets: Array<{ key: string; data: Float32Array; rows: number; dim: number }> = [];
  const ids = new Set<string>();
  let clipNumber = 0;
  for (const [split, count] of [['train', a.trainClips ?? 300], ['val', a.valClips ?? 100]] as const) {
    const lines = ['original_vido_id video_id frame_id path labels'];
    for (let v = 0; v < count; v++) {
      let id: string;
      do id = Array.from({ length: 8 }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[int(u, 0, 25)]).join('');
      while (ids.has(id));
      ids.add(id);
      const drawn = new Set(Array.from({ length: int(u, 1, 3) }, () => pick(u, weights)));
      // As in the real dataset, every class has at least one training clip (LDAM's margins need n_j > 0).
      if (split === 'train' && v < C) drawn.add(v);
      const labels = [...drawn].sort((x, y) => x - y);
      if (split === 'train') for (const l of labels) trainCounts[l]!++;
      clipNumber++;
      for (let f = 1; f <= frames; f++) {
        // Some frames carry no label or only part of the clip's labels: the clip label is their OR.
        const frameLabels = f === frames && u() < 0.3 ? [] : f === 1 ? labels : labels.filter(() => u() < 0.7);
        const text = frameLabels.length ? frameLabels.join(',') : '""';
        lines.push(`${id} ${clipNumber} ${f} ${id}/${id}_f${String(f).padStart(6, '0')}.jpg ${text}`);
      }
      const rows = int(u, 8, 16);
      datasets.push({ key: id, rows, dim: D, data: featureRows(rows, D, 1, () => labels.map((l) => protos[l]!), n) });
    }
    writeText(join(ann, `${split}.csv`), `${lines.join('\n')}\n`, out);
    out.counts[`animal_kingdom.${split}_clips`] = count;
  }
  // Segments by train frequency rank with the official sizes: 17 head, 29 middle, 94 tail.
  const rank = Array.from({ length: C }, (_, k) => k).sort((x, y) => trainCounts[y]! - trainCounts[x]! || x - y);
  const segment = new Array<string>(C);
  rank.forEach((cls, r) => (segment[cls] = r < 17 ? 'head' : r < 46 ? 'middle' : 'tail'));
  const rows = ['action,count,segment', ...trainCounts.map((cnt, k) => `${csvField(`Synthetic action ${k}`)},${cnt},${segment[k]}`)];
  writeText(join(ann, 'df_action.csv'), `${rows.join('\n')}\n`, out);
  await writeFeatureFile(join(dir, 'features.h5'), datasets, { gzip: null });
  out.files.push(join(dir, 'features.h5'));
}

/** Writes the synthetic datasets of `kind` under `dir` (created if needed). */
export async function writeSynthetic(dir: string, options: SyntheticOptions = {}): Promise<SyntheticManifest> {
  const seed = options.seed ?? 0;
  const kind = options.kind ?? 'all';
  const out: Written = { files: [], counts: {} };
  mkdirSync(dir, { recursive: true });
  if (kind === 'ego4d' || kind === 'all') await writeEgo4d(join(dir, 'ego4d'), seed, options, out);
  if (kind === 'charades' || kind === 'all') await writeCharades(join(dir, 'charades'), seed, options, out);
  if (kind === 'animal_kingdom' || kind === 'all') await writeAnimalKingdom(join(dir, 'animal_kingdom'), seed, options, out);
  const manifest: SyntheticManifest = { version: SYNTHETIC_VERSION, seed, kind, files: out.files.map((f) => f.slice(dir.length + 1)), counts: out.counts };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Users of the synthetic user split that the plugin writes (6 users: 2 train, 3 test, 1 + NaN pretrain). */
export const SYNTHETIC_USER_SPLIT = { num_train_users: 2, num_test_users: 3, split_seed: 0 };

/**
 * Generates into `<root>/v<version>-seed<seed>` once: a temporary sibling directory is filled and renamed
 * into place; a concurrent generator that loses the race discards its copy. Returns the directory.
 */
export async function ensureSynthetic(root: string, seed: number): Promise<string> {
  const dir = join(root, `v${SYNTHETIC_VERSION}-seed${seed}`);
  if (existsSync(join(dir, 'manifest.json'))) return dir;
  mkdirSync(root, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeSynthetic(tmp, { seed, kind: 'all' });
    runUserSplit({
      annotationDir: join(tmp, 'ego4d', 'annotations'),
      metadata: join(tmp, 'ego4d', 'ego4d.json'),
      outDir: join(tmp, 'ego4d', 'usersplit'),
      numTrainUsers: SYNTHETIC_USER_SPLIT.num_train_users,
      numTestUsers: SYNTHETIC_USER_SPLIT.num_test_users,
      seed: SYNTHETIC_USER_SPLIT.split_seed,
      log: null,
    });
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(join(dir, 'manifest.json'))) return dir;
    throw err;
  }
  return dir;
}

export interface SyntheticPluginOptions {
  kind: 'ego4d_lta' | 'ego4d_features' | 'charades' | 'animal_kingdom';
  root: string | null;
  seed: number;
  split: string | null;
  loader: Record<string, unknown>;
  /** Charades / Animal Kingdom: read stand-in features of this backbone's width (backbone-features.ts). */
  backbone?: BackboneStandIn | null;
  /** A features file to read instead of the generated one (task=extract_features' io.out_path), relative to the working directory. */
  features?: string | null;
}

/** `${oc.env:VIDRA_DATA,.cache/vidra-data}/synthetic`, the default root. */
export function defaultSyntheticRoot(): string {
  const base = process.env.VIDRA_DATA;
  return join(base !== undefined && base !== '' ? base : '.cache/vidra-data', 'synthetic');
}

const LOADERS: Record<SyntheticPluginOptions['kind'], { def: PluginDefinition; dir: string; defaults: Record<string, unknown> }> = {
  ego4d_lta: { def: ego4dLtaPlugin, dir: 'ego4d', defaults: { features: 'features.h5' } },
  ego4d_features: { def: ego4dFeaturesPlugin, dir: 'ego4d', defaults: { ...SYNTHETIC_USER_SPLIT } },
  charades: { def: charadesPlugin, dir: 'charades', defaults: {} },
  animal_kingdom: { def: animalKingdomPlugin, dir: 'animal_kingdom', defaults: {} },
};

@injectable()
export class SyntheticDataset implements DatasetSource {
  private source: DatasetSource | undefined;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: SyntheticPluginOptions) {}

  get splits(): readonly string[] {
    return this.options.kind === 'ego4d_lta' ? ['train', 'val', 'test'] : this.options.kind === 'ego4d_features' ? ['train', 'val', 'all', 'test', 'pretrain'] : this.options.kind === 'charades' ? ['train', 'test'] : ['train', 'val'];
  }

  /** The real loader over the generated files. */
  async loader(): Promise<DatasetSource> {
    if (this.source) return this.source;
    const o = this.options;
    const dir = await ensureSynthetic(o.root ?? defaultSyntheticRoot(), o.seed);
    const { def, dir: sub, defaults } = LOADERS[o.kind];
    if ('root' in o.loader) throw new VidraError(`synthetic: 'loader' must not set root (the generated directory is used)`);
    const params: Record<string, unknown> = { ...defaults, ...o.loader, root: join(dir, sub), ...(o.split !== null ? { split: o.split } : {}) };
    if (o.backbone) {
      if (o.kind !== 'charades' && o.kind !== 'animal_kingdom') throw new VidraError(`synthetic: 'backbone' stand-in features exist for kind charades and animal_kingdom, not ${o.kind}`);
      const file = `backbones/${o.backbone.name}-d${o.backbone.dim}.h5`;
      await ensureBackboneFeatures(join(dir, sub, 'features.h5'), join(dir, sub, file), o.backbone);
      params.features = file;
    }
    if (o.features) {
      if (o.backbone) throw new VidraError(`synthetic: set 'features' or 'backbone', not both`);
      params.features = resolve(o.features);
    }
    const node = fromPlain(params, { file: `synthetic ${o.kind} loader options`, line: 0, col: 0 }) as DictNode;
    const valid = validatePluginNode({ path: 'loader', node, def });
    this.source = new (def.create as new (options: unknown) => DatasetSource)(valid);
    return this.source;
  }

  async load(split?: string): Promise<Dataset> {
    return (await this.loader()).load(split);
  }
}

export const plugin = definePlugin({
  kind: 'dataset',
  name: 'synthetic',
  description: 'small seeded datasets in the real Ego4D / Charades / Animal Kingdom formats, read by the real loaders',
  schema: {
    type: 'object',
    properties: {
      ...LOADER_PROPERTIES,
      kind: { enum: ['ego4d_lta', 'ego4d_features', 'charades', 'animal_kingdom'], default: 'animal_kingdom', description: 'which real loader reads the generated files' },
      root: { type: ['string', 'null'], default: null, description: 'cache directory; null: ${oc.env:VIDRA_DATA,.cache/vidra-data}/synthetic' },
      seed: { type: 'integer', minimum: 0, default: 0 },
      split: { type: ['string', 'null'], default: null, description: "split to load (null: the loader's default)" },
      loader: { type: 'object', default: {}, description: 'extra config keys of the real loader (not root)' },
      backbone: {
        type: ['object', 'null'],
        properties: { name: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' }, dim: { type: 'integer', minimum: 1 } },
        required: ['name', 'dim'],
        additionalProperties: false,
        default: null,
        description: 'charades/animal_kingdom: stand-in features of this backbone and width (4 views per video) instead of the 32-d latent ones',
      },
      features: { type: ['string', 'null'], default: null, description: "a features file to read instead of the generated one (e.g. task=extract_features' io.out_path; relative to the working directory)" },
    },
    additionalProperties: false,
  },
  inputs: (p) => (typeof p.features === 'string' ? [{ key: 'features', path: resolve(p.features), hint: 'data.features is a file of task=extract_features (write it first, e.g. vidra run +experiment=ego4d_features)' }] : []),
  create: SyntheticDataset,
});
