// Ego4D-like videos for feature extraction: one short moving-shapes clip (moving-shapes.ts's lavfi graph and
// encoder) per video_uid of the synthetic Ego4D set (synthetic.ts, the uids data=synthetic_ego4d_narrations
// reads), named <video_uid>.mp4, so `task=extract_features io.generate=synthetic_ego4d` writes the features
// file the CLEP experiment reads (data.features=<that file>). The clips are far shorter than the synthetic
// durations: a narration past a video's end reads its last feature rows (feature-windows.ts clamps).
// Written in a temporary folder renamed into place, so concurrent jobs never see a partial set.

import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mulberry32 } from '../../core/random.ts';
import { readEgo4dMeta } from './formats/ego4d-meta.ts';
import { clipFilter, encodeClips, generateInPlace, MOVING_SHAPES_CLASSES } from './moving-shapes.ts';
import { defaultSyntheticRoot, ensureSynthetic } from './synthetic.ts';

/** Seed, frame side, frames and frame rate of the videos (4 s at 8 fps, 32×32). */
export const EGO4D_VIDEOS = { seed: 0, size: 32, frames: 32, fps: 8 } as const;

/** Writes `<video_uid>.mp4` for every video of the synthetic Ego4D set into `dir`, unless `dir` exists. */
export async function ensureEgo4dVideos(dir: string, syntheticRoot = defaultSyntheticRoot()): Promise<string[]> {
  const ego4d = join(await ensureSynthetic(syntheticRoot, EGO4D_VIDEOS.seed), 'ego4d');
  const uids = [...readEgo4dMeta(join(ego4d, 'ego4d.json')).keys()];
  if (existsSync(dir)) return uids;
  mkdirSync(dirname(dir), { recursive: true });
  const u = mulberry32(EGO4D_VIDEOS.seed);
  const o = { ...EGO4D_VIDEOS, perClass: { train: 0, val: 0 } };
  await generateInPlace(dir, async (tmp) => {
    mkdirSync(tmp);
    await encodeClips(uids.map((uid, k) => ({ filter: clipFilter(k % MOVING_SHAPES_CLASSES.length, o, u), out: join(tmp, `${uid}.mp4`) })), EGO4D_VIDEOS.frames);
  });
  return uids;
}
