// ego4d.json, the Ego4D video metadata (ego4d-data.org/docs/data/annotations-schemas; ml-spec §4):
//   { "videos": [ { video_uid, duration_sec, scenarios[], video_metadata{fps, num_frames, ...},
//                   split_em, split_av, split_fho, origin_video_id, video_source, device,
//                   physical_setting_name, fb_participant_id (may be null), is_stereo, has_imu, ... } ] }
// Only the fields Vidra uses are validated; `fb_participant_id` may be null or absent (the "NaN user").

import { fail, show } from './errors.ts';
import { isObject, readJsonFile } from './text-file.ts';

export interface Ego4dVideo {
  video_uid: string;
  duration_sec: number | null;
  scenarios: string[];
  fps: number | null;
  num_frames: number | null;
  split_em: string | null;
  split_av: string | null;
  split_fho: string | null;
  origin_video_id: string | null;
  /** As a string ("104", as EgoAdapt writes `int(float(id))`); null when null or absent. */
  fb_participant_id: string | null;
}

/** Validates ego4d.json (parsed); a repeated video_uid is an error (pandas' one_to_many merge check). */
export function parseEgo4dMeta(json: unknown, file: string): Map<string, Ego4dVideo> {
  if (!isObject(json) || !Array.isArray(json.videos)) fail(file, undefined, 'expected an object with a "videos" list (ego4d.json format)');
  const out = new Map<string, Ego4dVideo>();
  (json.videos as unknown[]).forEach((raw, i) => {
    if (!isObject(raw)) fail(file, `videos[${i}]`, `expected an object, got ${show(raw)}`);
    const uid = raw.video_uid;
    if (typeof uid !== 'string' || uid === '') fail(file, `videos[${i}]`, `'video_uid' must be a non-empty string, got ${show(uid)}`);
    const rec = `videos[${i}] (video_uid '${uid}')`;
    if (out.has(uid)) fail(file, rec, `video_uid '${uid}' appears twice`);
    const optNum = (v: unknown, k: string): number | null => {
      if (v === undefined || v === null) return null;
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(file, rec, `'${k}' must be a number, got ${show(v)}`);
      return v;
    };
    const optStr = (v: unknown, k: string): string | null => {
      if (v === undefined || v === null) return null;
      if (typeof v !== 'string') fail(file, rec, `'${k}' must be a string, got ${show(v)}`);
      return v;
    };
    const meta = isObject(raw.video_metadata) ? raw.video_metadata : {};
    const scenarios = Array.isArray(raw.scenarios) ? raw.scenarios.filter((s): s is string => typeof s === 'string') : [];
    out.set(uid, {
      video_uid: uid,
      duration_sec: optNum(raw.duration_sec, 'duration_sec'),
      scenarios,
      fps: optNum(meta.fps, 'video_metadata.fps'),
      num_frames: optNum(meta.num_frames, 'video_metadata.num_frames'),
      split_em: optStr(raw.split_em, 'split_em'),
      split_av: optStr(raw.split_av, 'split_av'),
      split_fho: optStr(raw.split_fho, 'split_fho'),
      origin_video_id: optStr(raw.origin_video_id, 'origin_video_id'),
      fb_participant_id: participant(raw.fb_participant_id, file, rec),
    });
  });
  return out;
}

function participant(v: unknown, file: string, rec: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && Number.isFinite(v)) return String(Math.trunc(v));
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? String(Math.trunc(n)) : v.trim();
  }
  fail(file, rec, `'fb_participant_id' must be a number, a string or null, got ${show(v)}`);
}

export function readEgo4dMeta(path: string): Map<string, Ego4dVideo> {
  return parseEgo4dMeta(readJsonFile(path), path);
}

/** Videos in val or test of any benchmark (CLEP's `filter_narrations` leaves them out of pretraining). */
export function isValOrTest(v: Ego4dVideo, splits: readonly string[] = ['val', 'test']): boolean {
  return [v.split_em, v.split_fho, v.split_av].some((s) => s !== null && splits.includes(s));
}
