// The videos an extraction reads (Ego4D's InputOutputConfig): every video under `io.video_dir` (uid = file
// name without extension), or the list in `io.manifest` (ego4d.json: `<video_dir>/<video_uid>.mp4`; a CSV
// `uid,path[,duration]`, paths relative to the CSV), restricted by `io.uid_list` and cut to a seeded random
// `io.video_limit`. Self-contained (no task state), so any task over video inputs can use it.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { UsageError } from '../../../core/config/errors.ts';
import { mulberry32 } from '../../../core/random.ts';
import { parseCsvWithHeader } from '../../datasets/formats/csv.ts';
import { parseEgo4dMeta } from '../../datasets/formats/ego4d-meta.ts';

export interface VideoInput {
  uid: string;
  path: string;
  /** Seconds, when the manifest gives it. */
  duration: number | null;
}

export interface InputOptions {
  video_dir: string | null;
  manifest: string | null;
  uid_list: Array<string | number> | null;
  video_limit: number | null;
}

export const VIDEO_EXTENSIONS = ['.mp4', '.mkv', '.webm', '.avi', '.mov', '.m4v'];

const byUid = (a: VideoInput, b: VideoInput) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0);

/** The input videos in uid order; every problem is a UsageError naming the io key. */
export function listVideos(io: InputOptions, seed = 0): VideoInput[] {
  let all: VideoInput[];
  let source: string;
  if (io.manifest !== null) {
    source = `io.manifest=${io.manifest}`;
    all = readManifest(resolve(io.manifest), io.video_dir === null ? null : resolve(io.video_dir));
  } else if (io.video_dir !== null) {
    source = `io.video_dir=${io.video_dir}`;
    all = scanDir(resolve(io.video_dir));
  } else {
    throw new UsageError('io: set io.video_dir (a folder of videos) or io.manifest (an ego4d.json, or a CSV with uid,path[,duration])');
  }
  all.sort(byUid);
  let chosen = all;
  if (io.uid_list !== null) {
    const have = new Map(all.map((v) => [v.uid, v]));
    const wanted = io.uid_list.map(String);
    const missing = wanted.filter((u) => !have.has(u));
    if (missing.length) throw new UsageError(`io.uid_list: ${missing.map((u) => `'${u}'`).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not in the input (${source}: ${all.length} videos)`);
    chosen = [...new Set(wanted)].map((u) => have.get(u)!).sort(byUid);
  }
  if (io.video_limit !== null && io.video_limit < chosen.length) {
    const u = mulberry32(seed);
    const order = chosen.map((v) => ({ v, key: u() }));
    order.sort((a, b) => a.key - b.key);
    chosen = order.slice(0, io.video_limit).map((o) => o.v).sort(byUid);
  }
  return chosen;
}

function scanDir(dir: string): VideoInput[] {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new UsageError(`io.video_dir: ${dir} does not exist`);
  }
  if (!isDir) throw new UsageError(`io.video_dir: ${dir} is not a directory`);
  const found = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (VIDEO_EXTENSIONS.includes(extname(e.name).toLowerCase())) {
        const uid = basename(e.name, extname(e.name));
        const prev = found.get(uid);
        if (prev) throw new UsageError(`io.video_dir: uid '${uid}' names two videos, ${relative(dir, prev)} and ${relative(dir, p)}; uids (file names without extension) must be unique`);
        found.set(uid, p);
      }
    }
  };
  walk(dir);
  if (found.size === 0) throw new UsageError(`io.video_dir: ${dir} holds no videos (${VIDEO_EXTENSIONS.join(', ')})`);
  return [...found].map(([uid, path]) => ({ uid, path, duration: null }));
}

function readManifest(path: string, videoDir: string | null): VideoInput[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`io.manifest: ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    if (extname(path).toLowerCase() === '.json') {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new UsageError(`io.manifest: ${path} is not valid JSON (${(err as Error).message})`);
      }
      const dir = videoDir ?? dirname(path);
      return [...parseEgo4dMeta(json, path).values()].map((v) => ({ uid: v.video_uid, path: join(dir, `${v.video_uid}.mp4`), duration: v.duration_sec }));
    }
    const { records } = parseCsvWithHeader(text, path, ['uid', 'path']);
    const seen = new Map<string, number>();
    return records.map(({ line, values }) => {
      const uid = values.uid!.trim();
      if (uid === '') throw new UsageError(`io.manifest: ${path}:${line}: empty uid`);
      const prev = seen.get(uid);
      if (prev !== undefined) throw new UsageError(`io.manifest: ${path}:${line}: uid '${uid}' repeats line ${prev}`);
      seen.set(uid, line);
      let duration: number | null = null;
      if (values.duration !== undefined && values.duration.trim() !== '') {
        duration = Number(values.duration);
        if (!(Number.isFinite(duration) && duration >= 0)) throw new UsageError(`io.manifest: ${path}:${line}: duration '${values.duration}' is not a number of seconds ≥ 0`);
      }
      return { uid, path: resolve(dirname(path), values.path!.trim()), duration };
    });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`io.manifest: ${(err as Error).message}`, { cause: err });
  }
}

/** A video's duration in seconds from ffprobe's container header (0 when it cannot be read: such a video fails later, alone). */
export function probeDuration(path: string, ffprobe: string): number {
  const r = spawnSync(ffprobe, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', path], { encoding: 'utf8' });
  const d = Number(String(r.stdout ?? '').trim());
  return r.status === 0 && Number.isFinite(d) && d > 0 ? d : 0;
}
