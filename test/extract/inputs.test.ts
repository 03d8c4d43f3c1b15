import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../core/config/errors.ts';
import { listVideos } from '../../plugins/tasks/extract/inputs.ts';
import { tempDir } from '../video/fixtures.ts';

let tmp: ReturnType<typeof tempDir>;
const io = (o: Partial<Parameters<typeof listVideos>[0]>) => ({ video_dir: null, manifest: null, uid_list: null, video_limit: null, ...o });

beforeAll(() => {
  tmp = tempDir('extract-inputs');
  mkdirSync(join(tmp.dir, 'videos', 'sub'), { recursive: true });
  for (const f of ['b.mp4', 'a.mkv', 'notes.txt', 'sub/c.webm']) writeFileSync(join(tmp.dir, 'videos', f), '');
  writeFileSync(join(tmp.dir, 'list.csv'), 'uid,path,duration\nx,videos/a.mkv,12.5\ny,/abs/y.mp4,\n');
  writeFileSync(join(tmp.dir, 'ego4d.json'), JSON.stringify({ videos: [{ video_uid: 'u2', duration_sec: 30 }, { video_uid: 'u1', duration_sec: 10 }] }));
});
afterAll(() => tmp.remove());

describe('listVideos', () => {
  it('io.video_dir: every video below it, uid = file name without extension, in uid order', () => {
    const v = listVideos(io({ video_dir: join(tmp.dir, 'videos') }));
    expect(v.map((x) => [x.uid, x.path])).toEqual([
      ['a', join(tmp.dir, 'videos', 'a.mkv')],
      ['b', join(tmp.dir, 'videos', 'b.mp4')],
      ['c', join(tmp.dir, 'videos', 'sub', 'c.webm')],
    ]);
  });

  it('io.manifest: a CSV uid,path[,duration] (paths relative to it) or an ego4d.json (<video_dir>/<uid>.mp4)', () => {
    expect(listVideos(io({ manifest: join(tmp.dir, 'list.csv') }))).toEqual([
      { uid: 'x', path: join(tmp.dir, 'videos', 'a.mkv'), duration: 12.5 },
      { uid: 'y', path: '/abs/y.mp4', duration: null },
    ]);
    expect(listVideos(io({ manifest: join(tmp.dir, 'ego4d.json'), video_dir: '/data/full_scale' }))).toEqual([
      { uid: 'u1', path: '/data/full_scale/u1.mp4', duration: 10 },
      { uid: 'u2', path: '/data/full_scale/u2.mp4', duration: 30 },
    ]);
  });

  it('io.uid_list restricts; io.video_limit takes a seeded subset', () => {
    const dir = join(tmp.dir, 'videos');
    expect(listVideos(io({ video_dir: dir, uid_list: ['c', 'a'] })).map((v) => v.uid)).toEqual(['a', 'c']);
    const pick = (seed: number) => listVideos(io({ video_dir: dir, video_limit: 2 }), seed).map((v) => v.uid);
    expect(pick(0)).toEqual(pick(0));
    expect(pick(0)).toHaveLength(2);
    expect(new Set([0, 1, 2, 3, 4, 5].map((s) => pick(s).join()))).not.toEqual(new Set([pick(0).join()]));
  });

  it('says what is wrong with each bad input', () => {
    const dir = join(tmp.dir, 'videos');
    const err = (o: Parameters<typeof io>[0]) => {
      try {
        listVideos(io(o));
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(err({ video_dir: dir, uid_list: ['a', 'zz', 'qq'] })).toBe(`io.uid_list: 'zz', 'qq' are not in the input (io.video_dir=${dir}: 3 videos)`);
    expect(err({})).toBe('io: set io.video_dir (a folder of videos) or io.manifest (an ego4d.json, or a CSV with uid,path[,duration])');
    expect(err({ video_dir: join(tmp.dir, 'nope') })).toBe(`io.video_dir: ${join(tmp.dir, 'nope')} does not exist`);
    writeFileSync(join(tmp.dir, 'videos', 'sub', 'a.mp4'), '');
    expect(err({ video_dir: dir })).toBe("io.video_dir: uid 'a' names two videos, a.mkv and sub/a.mp4; uids (file names without extension) must be unique");
    writeFileSync(join(tmp.dir, 'dup.csv'), 'uid,path\nx,a.mp4\nx,b.mp4\n');
    expect(err({ manifest: join(tmp.dir, 'dup.csv') })).toBe(`io.manifest: ${join(tmp.dir, 'dup.csv')}:3: uid 'x' repeats line 2`);
    writeFileSync(join(tmp.dir, 'nopath.csv'), 'uid\nx\n');
    expect(err({ manifest: join(tmp.dir, 'nopath.csv') })).toMatch(/^io\.manifest: .*nopath\.csv.*the header lacks the column path \(found: uid\)$/);
  });
});
