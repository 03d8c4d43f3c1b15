// A user's stream of input clips, as EgoAdapt builds it (`continual_action_recog_dataset.py::
// annotation_fifo_policy`, `get_preprocessed_clips`; ml-spec §4, §5):
//
//   1. entries in chronological order (see user-split.ts);
//   2. FIFO overlap policy, per 5-min clip (the last end time resets to 0 at each new clip_uid):
//        start ≥ last end             → kept whole, last end = its end;
//        end ≤ last end, or
//        end − last end < clip length → dropped (fully covered, or too short once trimmed);
//        otherwise                    → trimmed to start at the last end, last end = its end;
//   3. each kept segment cut into consecutive clips of 8 frames × rate 8 / 30 fps = 2.133 s by pytorchvideo's
//      UniformClipSampler (stride = clip, no back-padding): clip k = [k·c, (k+1)·c] from the segment start,
//      continuing while (k+2)·c − duration ≤ 1e-6 — the first clip is always taken (it may pass the end) and
//      the remainder shorter than a clip is dropped.
// Times are relative to the clip file (<clip_uid>.mp4); add clip_parent_start_sec for the parent video.

import type { UserEntry } from './user-split.ts';

export const EGOADAPT_CLIP_SECONDS = (8 * 8) / 30;
const EPS = 1e-6;

export interface StreamSegment<E = UserEntry> {
  entry: E;
  /** Seconds in the clip file. */
  start: number;
  end: number;
}

export interface StreamClip<E = UserEntry> extends StreamSegment<E> {
  /** Index of this clip inside its segment. */
  clipIndex: number;
}

type Timed = Pick<UserEntry, 'clip_uid' | 'action_clip_start_sec' | 'action_clip_end_sec'>;

/** Step 2 on entries already in stream order. */
export function fifoSegments<E extends Timed>(entries: readonly E[], clipSeconds = EGOADAPT_CLIP_SECONDS): { segments: StreamSegment<E>[]; dropped: number; trimmed: number } {
  const segments: StreamSegment<E>[] = [];
  let lastClip: string | null = null;
  let last = 0;
  let dropped = 0;
  let trimmed = 0;
  for (const entry of entries) {
    if (entry.clip_uid !== lastClip) {
      lastClip = entry.clip_uid;
      last = 0;
    }
    const start = entry.action_clip_start_sec;
    const end = entry.action_clip_end_sec;
    if (start >= last) {
      segments.push({ entry, start, end });
      last = end;
    } else if (end <= last || end - last < clipSeconds) {
      dropped++;
    } else {
      trimmed++;
      segments.push({ entry, start: last, end });
      last = end;
    }
  }
  return { segments, dropped, trimmed };
}

/** Step 3: consecutive clips of `clipSeconds` per segment. */
export function cutClips<E>(segments: readonly StreamSegment<E>[], clipSeconds = EGOADAPT_CLIP_SECONDS): StreamClip<E>[] {
  const out: StreamClip<E>[] = [];
  for (const s of segments) {
    const duration = s.end - s.start;
    for (let k = 0; ; k++) {
      out.push({ entry: s.entry, start: s.start + k * clipSeconds, end: s.start + (k + 1) * clipSeconds, clipIndex: k });
      if ((k + 2) * clipSeconds - duration > EPS) break;
    }
  }
  return out;
}
