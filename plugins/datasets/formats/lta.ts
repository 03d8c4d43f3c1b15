// Ego4D v1 long-term action anticipation annotations (ml-spec §4; readers: EGO4D/forecasting
// `ego4d_forecasting/datasets/ptv_dataset_helper.py::clip_forecasting_dataset`, EgoAdapt
// `run_split_ego4d_on_users.py`).
//
//   fho_lta_{train,val,test_unannotated}.json = { "clips": [entry, ...], ... }
//   entry: video_uid, clip_uid, clip_id, clip_parent_{start,end}_{sec,frame}, action_idx,
//          action_clip_{start,end}_{sec,frame} (relative to <clip_uid>.mp4), interval_{start,end}_{sec,frame},
//          and in train/val: verb, verb_label, noun, noun_label.
//   fho_lta_taxonomy.json = { "verbs": [...], "nouns": [...] }   (index = label id; v1: 117 verbs, 521 nouns)
//
// Test entries have no labels: the reader fills verb_label = noun_label = −1 (as the Ego4D loader does).

import { fail, show } from './errors.ts';
import { isObject, readJsonFile } from './text-file.ts';

export type LtaSplit = 'train' | 'val' | 'test';

export const LTA_FILES: Record<LtaSplit, string> = {
  train: 'fho_lta_train.json',
  val: 'fho_lta_val.json',
  test: 'fho_lta_test_unannotated.json',
};
export const LTA_TAXONOMY_FILE = 'fho_lta_taxonomy.json';

export interface LtaEntry {
  video_uid: string;
  clip_uid: string;
  clip_id: number | string | null;
  clip_parent_start_sec: number;
  clip_parent_end_sec: number;
  clip_parent_start_frame: number | null;
  clip_parent_end_frame: number | null;
  action_idx: number;
  action_clip_start_sec: number;
  action_clip_end_sec: number;
  action_clip_start_frame: number | null;
  action_clip_end_frame: number | null;
  interval_start_sec: number | null;
  interval_end_sec: number | null;
  interval_start_frame: number | null;
  interval_end_frame: number | null;
  /** −1 in the test split. */
  verb_label: number;
  noun_label: number;
  verb: string | null;
  noun: string | null;
}

export interface LtaTaxonomy {
  verbs: string[];
  nouns: string[];
}

const REQUIRED_NUMBERS = ['clip_parent_start_sec', 'clip_parent_end_sec', 'action_clip_start_sec', 'action_clip_end_sec'] as const;
const OPTIONAL_NUMBERS = [
  'clip_parent_start_frame',
  'clip_parent_end_frame',
  'action_clip_start_frame',
  'action_clip_end_frame',
  'interval_start_sec',
  'interval_end_sec',
  'interval_start_frame',
  'interval_end_frame',
] as const;

export interface ParseLtaOptions {
  /** Labelled (train/val): verb_label/noun_label are required. Unlabelled (test): they are filled with −1 when absent. */
  labelled: boolean;
  /** When given, labels are checked against its sizes. */
  taxonomy?: LtaTaxonomy;
}

/** Validates the entries of one LTA file (already parsed JSON); `file` names it in messages. */
export function parseLta(json: unknown, file: string, options: ParseLtaOptions): LtaEntry[] {
  if (!isObject(json) || !Array.isArray(json.clips)) fail(file, undefined, 'expected an object with a "clips" list (Ego4D LTA format)');
  return (json.clips as unknown[]).map((raw, i) => parseEntry(raw, file, i, options));
}

function parseEntry(raw: unknown, file: string, i: number, options: ParseLtaOptions): LtaEntry {
  if (!isObject(raw)) fail(file, `clips[${i}]`, `expected an object, got ${show(raw)}`);
  const clipUid = raw.clip_uid;
  const rec = `clips[${i}]${typeof clipUid === 'string' ? ` (clip_uid '${clipUid}', action_idx ${show(raw.action_idx)})` : ''}`;
  const str = (k: string): string => {
    const v = raw[k];
    if (typeof v !== 'string' || v === '') fail(file, rec, `'${k}' must be a non-empty string, got ${show(v)}`);
    return v;
  };
  const num = (k: string): number => {
    const v = raw[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(file, rec, `'${k}' must be a number, got ${show(v)}`);
    return v;
  };
  const optNum = (k: string): number | null => (raw[k] === undefined || raw[k] === null ? null : num(k));
  const entry = {
    video_uid: str('video_uid'),
    clip_uid: str('clip_uid'),
    clip_id: typeof raw.clip_id === 'number' || typeof raw.clip_id === 'string' ? raw.clip_id : null,
  } as LtaEntry;
  for (const k of REQUIRED_NUMBERS) entry[k] = num(k);
  for (const k of OPTIONAL_NUMBERS) entry[k] = optNum(k);
  const actionIdx = num('action_idx');
  if (!Number.isInteger(actionIdx) || actionIdx < 0) fail(file, rec, `'action_idx' must be an integer ≥ 0, got ${show(actionIdx)}`);
  entry.action_idx = actionIdx;
  if (entry.action_clip_end_sec < entry.action_clip_start_sec) {
    fail(file, rec, `the action ends before it starts (action_clip_start_sec ${entry.action_clip_start_sec} > action_clip_end_sec ${entry.action_clip_end_sec})`);
  }
  if (entry.clip_parent_end_sec < entry.clip_parent_start_sec) {
    fail(file, rec, `the clip ends before it starts (clip_parent_start_sec ${entry.clip_parent_start_sec} > clip_parent_end_sec ${entry.clip_parent_end_sec})`);
  }
  const hasLabels = raw.verb_label !== undefined && raw.verb_label !== null;
  if (options.labelled || hasLabels) {
    entry.verb_label = label(raw, 'verb_label', file, rec, options.taxonomy?.verbs.length, 'verbs');
    entry.noun_label = label(raw, 'noun_label', file, rec, options.taxonomy?.nouns.length, 'nouns');
    entry.verb = typeof raw.verb === 'string' ? raw.verb : null;
    entry.noun = typeof raw.noun === 'string' ? raw.noun : null;
  } else {
    entry.verb_label = -1;
    entry.noun_label = -1;
    entry.verb = null;
    entry.noun = null;
  }
  return entry;
}

function label(raw: Record<string, unknown>, key: string, file: string, rec: string, size: number | undefined, what: string): number {
  const v = raw[key];
  if (v === undefined || v === null) fail(file, rec, `'${key}' is missing (a labelled split needs verb_label and noun_label)`);
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(file, rec, `'${key}' must be an integer, got ${show(v)}`);
  if (v < 0 || (size !== undefined && v >= size)) {
    fail(file, rec, `${key} ${v} is out of range (the taxonomy has ${size ?? '?'} ${what}: 0..${(size ?? 0) - 1})`);
  }
  return v;
}

export function parseTaxonomy(json: unknown, file: string): LtaTaxonomy {
  if (!isObject(json)) fail(file, undefined, 'expected an object {"verbs": [...], "nouns": [...]}');
  const list = (k: 'verbs' | 'nouns'): string[] => {
    const v = json[k];
    if (!Array.isArray(v) || v.length === 0) fail(file, undefined, `"${k}" must be a non-empty list of names`);
    v.forEach((x, i) => {
      if (typeof x !== 'string') fail(file, `${k}[${i}]`, `expected a name (string), got ${show(x)}`);
    });
    return v as string[];
  };
  return { verbs: list('verbs'), nouns: list('nouns') };
}

export function readTaxonomy(path: string): LtaTaxonomy {
  return parseTaxonomy(readJsonFile(path), path);
}

/** Reads one LTA file; test files (`fho_lta_test_unannotated.json`) are unlabelled. */
export function readLta(path: string, options: ParseLtaOptions): LtaEntry[] {
  return parseLta(readJsonFile(path), path, options);
}

/**
 * Entries grouped by clip_uid (in order of first appearance, as Python's dict), each group sorted by
 * action_idx (stable, as Python's `sorted`).
 */
export function groupByClip(entries: readonly LtaEntry[]): Map<string, LtaEntry[]> {
  const groups = new Map<string, LtaEntry[]>();
  for (const e of entries) {
    const g = groups.get(e.clip_uid);
    if (g) g.push(e);
    else groups.set(e.clip_uid, [e]);
  }
  for (const g of groups.values()) g.sort((a, b) => a.action_idx - b.action_idx);
  return groups;
}

export interface ForecastWindow {
  clip_uid: string;
  /** N observed entries. */
  inputs: LtaEntry[];
  /** Z entries to forecast. */
  forecast: LtaEntry[];
}

/**
 * The LTA sampler: per clip, for i in 0 ..= len − N − Z, inputs = entries[i : i+N], forecast =
 * entries[i+N : i+N+Z] (`range(len − Z − N + 1)` in ptv_dataset_helper.py). Clips with fewer than
 * N + Z actions give no window.
 */
export function forecastWindows(entries: readonly LtaEntry[], numInputs: number, numFuture: number): ForecastWindow[] {
  const out: ForecastWindow[] = [];
  for (const [clip_uid, group] of groupByClip(entries)) {
    for (let i = 0; i + numInputs + numFuture <= group.length; i++) {
      out.push({ clip_uid, inputs: group.slice(i, i + numInputs), forecast: group.slice(i + numInputs, i + numInputs + numFuture) });
    }
  }
  return out;
}
