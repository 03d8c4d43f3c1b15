// Charades annotations (allenai Charades README, `Charades_v1_classify.m`; ml-spec §4):
//   Charades_v1_train.csv / Charades_v1_test.csv, comma-separated with quoted fields and a header
//     id,subject,scene,quality,relevance,verified,script,objects,descriptions,actions,length
//   actions = "c092 11.90 21.20;c147 0.00 12.60" (class, start s, end s; ';'-separated), possibly empty;
//   157 classes c000–c156 (Charades_v1_classes.txt: "c000 Holding some clothes").
// The SlowFast frame-list variant (frame_lists/train.csv, val.csv) is read by ./frame-list.ts.

import { parseCsvWithHeader } from './csv.ts';
import { fail, show } from './errors.ts';
import { readTextFile } from './text-file.ts';

export const CHARADES_CLASSES = 157;
export const CHARADES_COLUMNS = ['id', 'subject', 'scene', 'quality', 'relevance', 'verified', 'script', 'objects', 'descriptions', 'actions', 'length'] as const;

export interface CharadesAction {
  /** Class index 0..156 ("c092" → 92). */
  cls: number;
  start: number;
  end: number;
}

export interface CharadesVideo {
  id: string;
  line: number;
  actions: CharadesAction[];
  /** Sorted distinct classes of `actions` (the video-level multi-hot). */
  labels: number[];
  /** Video length in seconds, when the column is present and set. */
  length: number | null;
  scene: string | null;
}

/** Parses "c092 11.90 21.20;c147 0.00 12.60". */
export function parseCharadesActions(text: string, file: string, line: number, id: string, numClasses = CHARADES_CLASSES): CharadesAction[] {
  const t = text.trim();
  if (t === '') return [];
  return t.split(';').map((part) => {
    const bits = part.trim().split(/\s+/);
    const m = /^c(\d+)$/.exec(bits[0] ?? '');
    if (bits.length !== 3 || !m) fail(file, line, `video '${id}': action ${show(part.trim())} is not "cNNN start end"`);
    const cls = Number(m[1]);
    if (cls >= numClasses) fail(file, line, `video '${id}': class ${bits[0]} is out of range (${numClasses} classes: c000..c${String(numClasses - 1).padStart(3, '0')})`);
    const start = Number(bits[1]);
    const end = Number(bits[2]);
    if (!Number.isFinite(start) || !Number.isFinite(end)) fail(file, line, `video '${id}': action ${show(part.trim())} has a non-numeric time`);
    return { cls, start, end };
  });
}

/** Parses Charades_v1_{train,test}.csv text (`file` names it in messages). Only `id` and `actions` are required. */
export function parseCharadesCsv(text: string, file: string, numClasses = CHARADES_CLASSES): CharadesVideo[] {
  const { records } = parseCsvWithHeader(text, file, ['id', 'actions']);
  const seen = new Set<string>();
  return records.map(({ line, values }) => {
    const id = values.id!.trim();
    if (id === '') fail(file, line, "the 'id' field is empty");
    if (seen.has(id)) fail(file, line, `video '${id}' appears twice`);
    seen.add(id);
    const actions = parseCharadesActions(values.actions!, file, line, id, numClasses);
    const lengthText = values.length?.trim();
    const length = lengthText ? Number(lengthText) : null;
    if (length !== null && !Number.isFinite(length)) fail(file, line, `video '${id}': length ${show(lengthText)} is not a number`);
    return { id, line, actions, labels: [...new Set(actions.map((a) => a.cls))].sort((a, b) => a - b), length, scene: values.scene ?? null };
  });
}

export function readCharadesCsv(path: string, numClasses = CHARADES_CLASSES): CharadesVideo[] {
  return parseCharadesCsv(readTextFile(path, 'Charades CSV'), path, numClasses);
}

/** Charades_v1_classes.txt: "c000 Holding some clothes" per line → names by index. */
export function parseCharadesClasses(text: string, file: string): string[] {
  const names: string[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    const t = l.trim();
    if (t === '') return;
    const m = /^c(\d+)\s+(.*)$/.exec(t);
    if (!m || Number(m[1]) !== names.length) fail(file, i + 1, `expected "c${String(names.length).padStart(3, '0')} <name>", found ${show(t)}`);
    names.push(m[2]!);
  });
  return names;
}
