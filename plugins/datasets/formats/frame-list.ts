// SlowFast frame lists (`slowfast/datasets/utils.py::load_image_lists`), used by Charades (frame_lists/
// train.csv, val.csv) and Animal Kingdom (annotation/train.csv, val.csv): space-separated, one row per frame,
//   original_vido_id video_id frame_id path labels
// ("vido" is the real spelling of the header), labels comma-separated class indices ("3,17") or `""`.
// SlowFast ORs the frame labels of a video into video-level labels (val/test) — `videoLabels` here.

import { fail, show } from './errors.ts';
import { splitWhitespaceLines } from './csv.ts';

export const FRAME_LIST_HEADER = ['original_vido_id', 'video_id', 'frame_id', 'path', 'labels'] as const;

export interface FrameRow {
  line: number;
  original_vido_id: string;
  video_id: string;
  frame_id: number;
  path: string;
  labels: number[];
}

/**
 * Parses a frame list. The header must be the SlowFast one (the corrected spelling `original_video_id` is
 * accepted too); each row has exactly 5 fields; labels must be integers in [0, numClasses).
 */
export function parseFrameList(text: string, file: string, numClasses: number): FrameRow[] {
  const rows = splitWhitespaceLines(text);
  if (rows.length === 0) fail(file, undefined, `is empty (expected the header "${FRAME_LIST_HEADER.join(' ')}")`);
  const header = rows[0]!.fields;
  const okHeader =
    header.length === 5 && (header[0] === 'original_vido_id' || header[0] === 'original_video_id') && header.slice(1).every((h, i) => h === FRAME_LIST_HEADER[i + 1]);
  if (!okHeader) fail(file, rows[0]!.line, `expected the header "${FRAME_LIST_HEADER.join(' ')}", found "${header.join(' ')}"`);
  return rows.slice(1).map(({ line, fields }) => {
    if (fields.length !== 5) fail(file, line, `expected 5 space-separated fields (${FRAME_LIST_HEADER.join(' ')}), found ${fields.length}`);
    const [orig, vid, frame, path, labelText] = fields as [string, string, string, string, string];
    const frameId = Number(frame);
    if (!Number.isInteger(frameId)) fail(file, line, `frame_id must be an integer, got ${show(frame)}`);
    return { line, original_vido_id: orig, video_id: vid, frame_id: frameId, path, labels: parseLabelList(labelText, file, line, numClasses, orig) };
  });
}

/** "3,17" → [3, 17]; `""` or empty → []. */
export function parseLabelList(text: string, file: string, line: number, numClasses: number, video: string): number[] {
  const t = text.replace(/"/g, '').trim();
  if (t === '') return [];
  return t.split(',').map((s) => {
    const v = Number(s.trim());
    if (s.trim() === '' || !Number.isInteger(v)) fail(file, line, `label ${show(s)} of video '${video}' is not an integer`);
    if (v < 0 || v >= numClasses) fail(file, line, `label ${v} of video '${video}' is out of range (${numClasses} classes: 0..${numClasses - 1})`);
    return v;
  });
}

export interface VideoLabels {
  video: string;
  /** Sorted distinct class indices, the OR of its frames' labels. */
  labels: number[];
  frames: number;
  /** Line of the video's first frame. */
  line: number;
}

/** Frame rows → one entry per `original_vido_id` (in order of first appearance), labels OR-ed. */
export function videoLabels(rows: readonly FrameRow[]): VideoLabels[] {
  const byVideo = new Map<string, { labels: Set<number>; frames: number; line: number }>();
  for (const r of rows) {
    let v = byVideo.get(r.original_vido_id);
    if (!v) byVideo.set(r.original_vido_id, (v = { labels: new Set(), frames: 0, line: r.line }));
    v.frames++;
    for (const l of r.labels) v.labels.add(l);
  }
  return [...byVideo].map(([video, v]) => ({ video, labels: [...v.labels].sort((a, b) => a - b), frames: v.frames, line: v.line }));
}
