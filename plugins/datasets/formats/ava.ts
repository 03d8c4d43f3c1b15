// AVA v2.2 (research.google.com/ava; SlowFast `slowfast/datasets/ava_helper.py`; ActivityNet
// `ActivityNet/Evaluation/get_ava_performance.py` / `calc_mAP.py::read_csv`, `read_labelmap`; ml-spec §4):
//   ava_{train,val}_v2.2.csv, no header: video_id, middle_frame_timestamp (s, 902–1798), x1, y1, x2, y2
//     (normalised to [0, 1]), action_id (1-based, 1..80), person_id [, score in detection files];
//     one row per (box, action): a box with three actions is three rows.
//   ava_{train,val}_excluded_timestamps_v2.2.csv: video_id, timestamp — key frames left out of evaluation.
//   ava_action_list_v2.2_for_activitynet_2019.pbtxt — the 60 evaluated classes (sparse ids):
//     item { name: "bend/bow (at the waist)" id: 1 }   (`label_id:` is accepted as well)

import { parseCsv } from './csv.ts';
import { fail, show } from './errors.ts';

export const AVA_NUM_ACTIONS = 80;

export interface AvaRow {
  line: number;
  video_id: string;
  timestamp: number;
  box: [number, number, number, number];
  action_id: number;
  person_id: number;
  score: number | null;
}

export function parseAvaCsv(text: string, file: string): AvaRow[] {
  return parseCsv(text, file).map(({ line, fields }) => {
    if (fields.length !== 8 && fields.length !== 9) {
      fail(file, line, `expected 8 fields (video_id, timestamp, x1, y1, x2, y2, action_id, person_id) or 9 with a score, found ${fields.length}`);
    }
    const num = (k: number, name: string): number => {
      const s = fields[k]!.trim();
      const v = Number(s);
      if (s === '' || !Number.isFinite(v)) fail(file, line, `${name} ${show(fields[k])} is not a number`);
      return v;
    };
    const video_id = fields[0]!.trim();
    if (video_id === '') fail(file, line, 'video_id is empty');
    const box = [num(2, 'x1'), num(3, 'y1'), num(4, 'x2'), num(5, 'y2')] as [number, number, number, number];
    if (box.some((v) => v < 0 || v > 1) || box[0] > box[2] || box[1] > box[3]) {
      fail(file, line, `box [${box.join(', ')}] is not a normalised box (0 ≤ x1 ≤ x2 ≤ 1, 0 ≤ y1 ≤ y2 ≤ 1)`);
    }
    const action_id = num(6, 'action_id');
    if (!Number.isInteger(action_id) || action_id < 1 || action_id > AVA_NUM_ACTIONS) {
      fail(file, line, `action_id ${fields[6]!.trim()} is out of range (1..${AVA_NUM_ACTIONS}, 1-based)`);
    }
    const timestamp = num(1, 'timestamp');
    const person_id = num(7, 'person_id');
    return { line, video_id, timestamp, box, action_id, person_id, score: fields.length === 9 ? num(8, 'score') : null };
  });
}

/** Excluded key frames as "video_id,timestamp" keys (timestamps as integers: "0902" and "902" agree). */
export function parseExcludedTimestamps(text: string, file: string): Set<string> {
  const out = new Set<string>();
  for (const { line, fields } of parseCsv(text, file)) {
    if (fields.length !== 2) fail(file, line, `expected 2 fields (video_id, timestamp), found ${fields.length}`);
    const ts = Number(fields[1]);
    if (!Number.isFinite(ts)) fail(file, line, `timestamp ${show(fields[1])} is not a number`);
    out.add(frameKey(fields[0]!.trim(), ts));
  }
  return out;
}

export function frameKey(video: string, timestamp: number): string {
  return `${video},${timestamp}`;
}

export interface AvaLabel {
  id: number;
  name: string;
}

/** The label map pbtxt: `item { name: "…" id: N }` (or `label_id: N`), in file order. */
export function parseLabelMap(text: string, file: string): AvaLabel[] {
  const out: AvaLabel[] = [];
  const item = /(?:item|label)\s*\{([^}]*)\}/g;
  let m: RegExpExecArray | null;
  while ((m = item.exec(text))) {
    const body = m[1]!;
    const line = text.slice(0, m.index).split('\n').length;
    const name = /name:\s*"((?:[^"\\]|\\.)*)"/.exec(body)?.[1] ?? /name:\s*'([^']*)'/.exec(body)?.[1];
    const id = /\b(?:label_)?id:\s*(\d+)/.exec(body)?.[1];
    if (name === undefined || id === undefined) fail(file, line, 'a label map item needs name: "…" and id: N');
    if (out.some((l) => l.id === Number(id))) fail(file, line, `label id ${id} appears twice`);
    out.push({ id: Number(id), name });
  }
  if (out.length === 0) fail(file, undefined, 'holds no label map items (expected item { name: "…" id: N })');
  return out;
}
