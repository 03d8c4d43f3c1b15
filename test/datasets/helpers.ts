// Shared fixtures for the dataset tests: temporary directories, hand-written LTA entries and ego4d.json videos.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll } from 'vitest';

/** A fresh temporary directory, removed after the file's tests. */
export function tempDir(prefix = 'vidra-data-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function write(path: string, content: string | Uint8Array): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

export function writeJson(path: string, value: unknown): string {
  return write(path, JSON.stringify(value));
}

/** An LTA entry with every field the Ego4D v1 files have; `labels: false` leaves verb/noun out (test split). */
export function ltaEntry(o: {
  video: string;
  clip: string;
  idx: number;
  start?: number;
  end?: number;
  parentStart?: number;
  parentEnd?: number;
  verb?: number;
  noun?: number;
  labels?: boolean;
}): Record<string, unknown> {
  const start = o.start ?? o.idx * 3;
  const end = o.end ?? start + 2.5;
  const ps = o.parentStart ?? 0;
  const pe = o.parentEnd ?? ps + 300;
  return {
    video_uid: o.video,
    clip_id: 1,
    clip_uid: o.clip,
    clip_parent_start_sec: ps,
    clip_parent_end_sec: pe,
    clip_parent_start_frame: Math.round(ps * 30),
    clip_parent_end_frame: Math.round(pe * 30),
    action_idx: o.idx,
    action_clip_start_sec: start,
    action_clip_end_sec: end,
    action_clip_start_frame: Math.round(start * 30),
    action_clip_end_frame: Math.round(end * 30),
    interval_start_sec: 0,
    interval_end_sec: pe - ps,
    interval_start_frame: 0,
    interval_end_frame: Math.round((pe - ps) * 30),
    ...(o.labels === false ? {} : { verb: `v${o.verb ?? 0}`, verb_label: o.verb ?? 0, noun: `n${o.noun ?? 0}`, noun_label: o.noun ?? 0 }),
  };
}

/** An ego4d.json video; `user: undefined` leaves fb_participant_id out entirely. */
export function video(uid: string, user: number | null | undefined, origin: string, split = 'train'): Record<string, unknown> {
  return {
    video_uid: uid,
    duration_sec: 1000,
    scenarios: ['Cooking'],
    video_metadata: { fps: 30, num_frames: 30000 },
    split_em: null,
    split_av: null,
    split_fho: split,
    origin_video_id: origin,
    ...(user === undefined ? {} : { fb_participant_id: user }),
  };
}
