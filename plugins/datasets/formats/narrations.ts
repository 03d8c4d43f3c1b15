// Ego4D narrations (`narration.json`; ml-spec §4, CLEP `clep/preprocess/ego4d_data.py`):
//   { "<video_uid>": { "narration_pass_1": { "narrations": [ { "timestamp_sec", "timestamp_frame",
//       "narration_text", "annotation_uid" }, ... ], "summaries": [...] }, "narration_pass_2": {...}, "status": ... } }
// CLEP takes pass 1 then pass 2, sorts by (video_uid, timestamp) (stable), drops texts of ≤ 3 words
// (`len(txt.split(" ")) <= 3`) and val/test videos, and encodes the text with its tags substituted:
// "#C" → "Camera wearer", "#O" → "Other person", "#unsure" → "something" (`sub_tagged_tokens`).
// CLEP's `remove_tags` also deletes every capital C and O of the text ("#C C Opens" → "  pens"), a bug not
// copied here: `removeTags` removes the tag tokens only ("#C C opens the door" → "C opens the door").

import { fail, show } from './errors.ts';
import { isObject, readJsonFile } from './text-file.ts';

export interface Narration {
  video_uid: string;
  timestamp_sec: number;
  /** The text as annotated, tags included. */
  text: string;
  pass: 1 | 2;
}

export type TagMode = 'substitute' | 'remove' | 'raw';

/** Every narration of pass 1 then pass 2, sorted by (video_uid, timestamp_sec), ties in that order. */
export function parseNarrations(json: unknown, file: string): Narration[] {
  if (!isObject(json)) fail(file, undefined, 'expected an object keyed by video_uid (Ego4D narration.json)');
  const out: Narration[] = [];
  for (const pass of [1, 2] as const) {
    for (const [uid, video] of Object.entries(json)) {
      if (!isObject(video)) fail(file, `'${uid}'`, `expected an object with narration passes, got ${show(video)}`);
      const p = video[`narration_pass_${pass}`];
      if (p === undefined || p === null) continue;
      const rec = `'${uid}'.narration_pass_${pass}`;
      if (!isObject(p) || !Array.isArray(p.narrations)) fail(file, rec, 'expected an object with a "narrations" list');
      p.narrations.forEach((n: unknown, i: number) => {
        const r = `${rec}.narrations[${i}]`;
        if (!isObject(n)) fail(file, r, `expected an object, got ${show(n)}`);
        if (typeof n.narration_text !== 'string') fail(file, r, `'narration_text' must be a string, got ${show(n.narration_text)}`);
        if (typeof n.timestamp_sec !== 'number' || !Number.isFinite(n.timestamp_sec)) {
          fail(file, r, `'timestamp_sec' must be a number, got ${show(n.timestamp_sec)}`);
        }
        out.push({ video_uid: uid, timestamp_sec: n.timestamp_sec, text: n.narration_text, pass });
      });
    }
  }
  // Python's sort is stable: keep pass order (and file order) for equal keys.
  return out
    .map((n, i) => ({ n, i }))
    .sort((a, b) => (a.n.video_uid < b.n.video_uid ? -1 : a.n.video_uid > b.n.video_uid ? 1 : a.n.timestamp_sec - b.n.timestamp_sec || a.i - b.i))
    .map(({ n }) => n);
}

export function readNarrations(path: string): Narration[] {
  return parseNarrations(readJsonFile(path), path);
}

/** CLEP's text filter: more than 3 space-separated words (`len(txt.split(" ")) > 3`, empty pieces counted). */
export function hasEnoughWords(text: string, minWords = 4): boolean {
  return text.split(' ').length >= minWords;
}

/** Narrations whose text passes `hasEnoughWords` (the order is kept). */
export function filterShortNarrations(narrations: readonly Narration[], minWords = 4): Narration[] {
  return narrations.filter((n) => hasEnoughWords(n.text, minWords));
}

const TAG_C = /#\s?C\b/g;
const TAG_O = /#\s?O\b/g;
const TAG_UNSURE = /#unsure\b/gi;

/** `sub_tagged_tokens`: the tags replaced by words. */
export function substituteTags(text: string): string {
  return text.replace(TAG_C, 'Camera wearer').replace(TAG_O, 'Other person').replace(TAG_UNSURE, 'something');
}

/** The tag tokens (#C, # C, #O, #unsure) removed — only the tags, not every C/O letter — and spaces collapsed. */
export function removeTags(text: string): string {
  return text.replace(TAG_C, '').replace(TAG_O, '').replace(TAG_UNSURE, '').replace(/\s+/g, ' ').trim();
}

export function applyTagMode(text: string, mode: TagMode): string {
  return mode === 'substitute' ? substituteTags(text) : mode === 'remove' ? removeTags(text) : text;
}
