// Animal Kingdom action recognition (sutdcv/Animal-Kingdom `action_recognition/README_action_recognition.md`;
// ml-spec §2.2, §4):
//   annotation/train.csv, val.csv — SlowFast frame lists (./frame-list.ts): header
//     `original_vido_id video_id frame_id path labels`, labels comma-separated action indices 0..139,
//     OR-ed to clip level;
//   annotation/df_action.xlsx — the 140 actions with their counts and `segment` (head/middle/tail).
// xlsx needs a spreadsheet library, so Vidra reads a CSV export of that sheet, `annotation/df_action.csv`,
// with columns `action,count,segment` (one row per action, row order = action index; a leading unnamed
// index column as written by pandas `df.to_csv()` is accepted and checked). Export it with
//   python -c "import pandas as pd; pd.read_excel('df_action.xlsx').to_csv('df_action.csv')"
// The segments are read from data, never recomputed (ml-spec §2.2); `segmentsFromCounts` exists for data
// without a segment column, with both published boundary conventions.

import { parseCsvWithHeader } from './csv.ts';
import { fail, show } from './errors.ts';
import { parseFrameList, videoLabels, type VideoLabels } from './frame-list.ts';
import { readTextFile } from './text-file.ts';

export const AK_CLASSES = 140;
export type Segment = 'head' | 'middle' | 'tail';
export const SEGMENTS: readonly Segment[] = ['head', 'middle', 'tail'];

export interface AkAction {
  name: string;
  count: number | null;
  segment: Segment;
}

/** Clip-level labels of an AK frame list (train.csv / val.csv). */
export function readAkFrameList(path: string, numClasses = AK_CLASSES): VideoLabels[] {
  return videoLabels(parseFrameList(readTextFile(path, 'frame list'), path, numClasses));
}

/** Parses the CSV export of df_action.xlsx. */
export function parseDfAction(text: string, file: string, numClasses = AK_CLASSES): AkAction[] {
  const { header, records } = parseCsvWithHeader(text, file, ['action', 'segment']);
  const indexed = header[0] === '' || header[0] === 'index' || header[0] === 'Unnamed: 0';
  const actions = records.map(({ line, values }, i) => {
    if (indexed) {
      const idx = Number(values[header[0]!]);
      if (idx !== i) fail(file, line, `the index column says ${show(values[header[0]!])}, expected ${i} (rows must be in action order)`);
    }
    const name = values.action!.trim();
    if (name === '') fail(file, line, "the 'action' field is empty");
    const seg = values.segment!.trim().toLowerCase();
    if (!(SEGMENTS as readonly string[]).includes(seg)) fail(file, line, `action '${name}': segment ${show(values.segment)} is not head, middle or tail`);
    let count: number | null = null;
    if (values.count !== undefined && values.count.trim() !== '') {
      count = Number(values.count);
      if (!Number.isInteger(count) || count < 0) fail(file, line, `action '${name}': count ${show(values.count)} is not a non-negative integer`);
    }
    return { name, count, segment: seg as Segment };
  });
  if (actions.length !== numClasses) fail(file, undefined, `has ${actions.length} actions, expected ${numClasses}`);
  return actions;
}

export function readDfAction(path: string, numClasses = AK_CLASSES): AkAction[] {
  return parseDfAction(readTextFile(path, 'df_action.csv'), path, numClasses);
}

/**
 * Segments recomputed from training counts, only for data without a segment column (ml-spec §2.2):
 *   'videolt' (VideoLT `tools/utils.py::get_indices`): tail ≤ 100, middle 101–500, head > 500;
 *   'paper' (the AK paper's wording): tail < 100, middle 100–500, head > 500.
 */
export function segmentsFromCounts(counts: ArrayLike<number>, convention: 'videolt' | 'paper'): Segment[] {
  return Array.from(counts, (c) => (c > 500 ? 'head' : convention === 'videolt' ? (c <= 100 ? 'tail' : 'middle') : c < 100 ? 'tail' : 'middle'));
}
