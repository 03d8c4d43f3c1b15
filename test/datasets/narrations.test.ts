import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyTagMode, filterShortNarrations, hasEnoughWords, parseNarrations, readNarrations, removeTags, substituteTags } from '../../plugins/datasets/formats/narrations.ts';
import { tempDir, write } from './helpers.ts';

const dir = tempDir();
const n = (ts: number, text: string) => ({ timestamp_sec: ts, timestamp_frame: Math.round(ts * 30), narration_text: text, annotation_uid: 'a' });

describe('narration.json: pass 1 + pass 2, sorted by (video_uid, timestamp) as CLEP get_narrations', () => {
  const json = {
    vid_b: { narration_pass_1: { narrations: [n(5, '#C C opens the door'), n(1, '#C C takes a cup')] }, narration_pass_2: { narrations: [n(5, '#C C opens a door')] } },
    vid_a: { narration_pass_2: { narrations: [n(2, '#O a man walks in the room')] }, status: 'complete' },
    vid_c: { status: 'redacted' },
  };

  it('merges both passes, orders by video then time, keeps pass 1 first on equal times', () => {
    expect(parseNarrations(json, 'narration.json').map((x) => [x.video_uid, x.timestamp_sec, x.pass, x.text])).toEqual([
      ['vid_a', 2, 2, '#O a man walks in the room'],
      ['vid_b', 1, 1, '#C C takes a cup'],
      ['vid_b', 5, 1, '#C C opens the door'],
      ['vid_b', 5, 2, '#C C opens a door'],
    ]);
  });

  it('drops texts of ≤ 3 space-separated words (CLEP: len(txt.split(" ")) <= 3)', () => {
    expect(hasEnoughWords('#C C opens')).toBe(false);
    expect(hasEnoughWords('#C C opens door')).toBe(true);
    expect(hasEnoughWords('#C  C opens')).toBe(true); // split(" ") counts the empty piece, as Python does
    const kept = filterShortNarrations(parseNarrations({ v: { narration_pass_1: { narrations: [n(1, '#C C looks'), n(2, '#C C looks around the room')] } } }, 'x'));
    expect(kept.map((k) => k.text)).toEqual(['#C C looks around the room']);
  });

  it('names the file and record of a malformed narration', () => {
    const p = write(join(dir, 'bad.json'), JSON.stringify({ v1: { narration_pass_1: { narrations: [n(1, 'fine text here ok'), { narration_text: 'no time' }] } } }));
    expect(() => readNarrations(p)).toThrow(`${p}: 'v1'.narration_pass_1.narrations[1]: 'timestamp_sec' must be a number, got undefined`);
    const arr = write(join(dir, 'arr.json'), '[]');
    expect(() => readNarrations(arr)).toThrow(`${arr}: expected an object keyed by video_uid (Ego4D narration.json)`);
  });
});

describe('tags: only #C, #O and #unsure are touched (not every C/O, the CLEP remove_tags bug)', () => {
  it('substitutes as CLEP sub_tagged_tokens', () => {
    expect(substituteTags('#C C opens the Oven')).toBe('Camera wearer C opens the Oven');
    expect(substituteTags('#O The woman gives #C C a COOKIE')).toBe('Other person The woman gives Camera wearer C a COOKIE');
    expect(substituteTags('#C C picks up #unsure')).toBe('Camera wearer C picks up something');
  });

  it('removes the tag tokens only, keeping capital C and O letters of words', () => {
    expect(removeTags('#C C opens the Oven')).toBe('C opens the Oven');
    expect(removeTags('# C C Cuts an Onion #unsure')).toBe('C Cuts an Onion');
    expect(removeTags('#O Other person Opens #C COOKER')).toBe('Other person Opens COOKER');
  });

  it('tag_mode picks the treatment', () => {
    expect(applyTagMode('#C C sits', 'raw')).toBe('#C C sits');
    expect(applyTagMode('#C C sits', 'remove')).toBe('C sits');
    expect(applyTagMode('#C C sits', 'substitute')).toBe('Camera wearer C sits');
  });
});
