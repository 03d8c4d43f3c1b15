import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseEgo4dMeta } from '../../plugins/datasets/formats/ego4d-meta.ts';
import { parseLta } from '../../plugins/datasets/formats/lta.ts';
import { writeSynthetic } from '../../plugins/datasets/synthetic.ts';
import {
  checkUserSplitRecord,
  formatSummaryTable,
  NAN_USER,
  readUserSplitFile,
  runUserSplit,
  sortChronological,
  splitUsers,
  userOf,
  userSplitRecord,
  writeUserSplit,
} from '../../plugins/datasets/user-split.ts';
import { ltaEntry, tempDir, video, writeJson } from './helpers.ts';

const dir = tempDir();
const taxonomy = { verbs: ['a', 'b', 'c', 'd'], nouns: ['x', 'y', 'z', 'w', 'v'] };

// Users and their summed distinct-clip durations: 3 → 300 s, 7 → 200 s (two videos), 5 → 180 s, 9 → 180 s (two clips).
const videos = {
  videos: [
    video('v3', 3, 'o3'),
    video('v7a', 7, 'o7_1'),
    video('v7b', 7, 'o7_0'),
    video('v5', 5, 'o5'),
    video('v9', 9, 'o9'),
    video('vnull', null, 'on'),
    video('vmissing', undefined, 'om'),
  ],
};
const E = (video: string, clip: string, idx: number, ps: number, pe: number, verb = idx % 4, noun = idx % 5) => ltaEntry({ video, clip, idx, parentStart: ps, parentEnd: pe, verb, noun });
const train = [
  E('v7a', 'c7a', 2, 0, 100),
  E('v3', 'c3', 0, 0, 300),
  E('v7a', 'c7a', 0, 0, 100),
  E('v7b', 'c7b', 1, 50, 150),
  E('v9', 'c9b', 0, 200, 260),
  E('vnull', 'cn', 0, 0, 500),
  E('ghost', 'cg', 0, 0, 40),
  E('v5', 'c5', 0, 0, 180),
];
const val = [E('v7a', 'c7a', 1, 0, 100), E('v7b', 'c7b', 0, 50, 150), E('v9', 'c9a', 0, 0, 120), E('vmissing', 'cm', 0, 0, 50), E('v3', 'c3', 1, 0, 300)];
const lta = { train: parseLta({ clips: train }, 'train', { labelled: true, taxonomy }), val: parseLta({ clips: val }, 'val', { labelled: true, taxonomy }) };
const meta = parseEgo4dMeta(videos, 'ego4d.json');

describe('ego4d.json', () => {
  it('keeps fb_participant_id as a string id, null when null or absent', () => {
    expect(meta.get('v3')!.fb_participant_id).toBe('3');
    expect(meta.get('vnull')!.fb_participant_id).toBeNull();
    expect(meta.get('vmissing')!.fb_participant_id).toBeNull();
    expect(parseEgo4dMeta({ videos: [video('x', '104.0' as unknown as number, 'o')] }, 'm').get('x')!.fb_participant_id).toBe('104');
  });

  it('rejects a repeated video_uid and a bad participant id, naming the record', () => {
    expect(() => parseEgo4dMeta({ videos: [video('x', 1, 'o'), video('x', 2, 'o')] }, 'ego4d.json')).toThrow("ego4d.json: videos[1] (video_uid 'x'): video_uid 'x' appears twice");
    expect(() => parseEgo4dMeta({ videos: [video('x', true as unknown as number, 'o')] }, 'ego4d.json')).toThrow(
      "ego4d.json: videos[0] (video_uid 'x'): 'fb_participant_id' must be a number, a string or null, got true",
    );
    expect(() => parseEgo4dMeta({ clips: [] }, 'ego4d.json')).toThrow('ego4d.json: expected an object with a "videos" list (ego4d.json format)');
  });
});

describe('the EgoAdapt per-user split', () => {
  it('ranks users by summed distinct-clip duration, longest first, ties by id', () => {
    const { summary } = splitUsers(lta, meta, { trainUserIds: ['7'], testUserIds: ['3', '9'] });
    expect(summary.ranking).toEqual([
      { user: '3', rank: 1, durationSec: 300, clips: 1, actions: 2 },
      { user: '7', rank: 2, durationSec: 200, clips: 2, actions: 5 },
      { user: '5', rank: 3, durationSec: 180, clips: 1, actions: 1 },
      { user: '9', rank: 4, durationSec: 180, clips: 2, actions: 2 },
    ]);
  });

  it('puts entries without a user (null, absent, video not in ego4d.json) in the NaN user, which pretrains', () => {
    const { splits, summary } = splitUsers(lta, meta, { trainUserIds: ['7'], testUserIds: ['3', '9'] });
    expect(splits.pretrain.map((u) => u.user)).toEqual(['5', NAN_USER]);
    expect(splits.pretrain[1]!.entries.map((e) => e.video_uid).sort()).toEqual(['ghost', 'vmissing', 'vnull']);
    expect(summary.entries_without_video).toBe(1);
    expect(summary.nan_user_entries).toBe(3);
  });

  it('explicit lists give train and test in rank order; users are disjoint across splits', () => {
    const { splits } = splitUsers(lta, meta, { trainUserIds: ['7'], testUserIds: ['9', '3'] });
    expect(splits.train.map((u) => u.user)).toEqual(['7']);
    expect(splits.test.map((u) => u.user)).toEqual(['3', '9']);
    const all = [...splits.train, ...splits.test, ...splits.pretrain].map((u) => u.user);
    expect(new Set(all).size).toBe(all.length);
    for (const s of Object.values(splits)) for (const { user, entries } of s) for (const e of entries) expect(userOf(e)).toBe(user);
    expect(Object.values(splits).flat().reduce((n, u) => n + u.entries.length, 0)).toBe(train.length + val.length);
  });

  it("orders each user's stream by (origin_video_id, clip_parent_start_sec, action_idx)", () => {
    const { splits } = splitUsers(lta, meta, { trainUserIds: ['7'], testUserIds: [] });
    expect(splits.train[0]!.entries.map((e) => [e.origin_video_id, e.clip_parent_start_sec, e.action_idx])).toEqual([
      ['o7_0', 50, 0],
      ['o7_0', 50, 1],
      ['o7_1', 0, 0],
      ['o7_1', 0, 1],
      ['o7_1', 0, 2],
    ]);
    const nine = splitUsers(lta, meta, { trainUserIds: ['9'], testUserIds: [] }).splits.train[0]!.entries;
    expect(nine.map((e) => e.clip_uid)).toEqual(['c9a', 'c9b']);
    expect(sortChronological([{ origin_video_id: null, clip_parent_start_sec: 0, action_idx: 0 }, { origin_video_id: 'b', clip_parent_start_sec: 9, action_idx: 0 }]).map((e) => e.origin_video_id)).toEqual(['b', null]);
  });

  it('with counts, splits the top num_train + num_test users by a seeded shuffle, the rest pretrain', () => {
    const a = splitUsers(lta, meta, { numTrainUsers: 1, numTestUsers: 2, seed: 0 });
    const b = splitUsers(lta, meta, { numTrainUsers: 1, numTestUsers: 2, seed: 0 });
    expect(a.splits.train.map((u) => u.user)).toEqual(b.splits.train.map((u) => u.user));
    expect([...a.splits.train, ...a.splits.test].map((u) => u.user).sort()).toEqual(['3', '5', '7']);
    expect(a.splits.pretrain.map((u) => u.user)).toEqual(['9', NAN_USER]);
    const seen = new Set<string>();
    for (let seed = 0; seed < 20; seed++) seen.add(splitUsers(lta, meta, { numTrainUsers: 1, numTestUsers: 2, seed }).splits.train[0]!.user);
    expect([...seen].sort()).toEqual(['3', '5', '7']);
  });

  it('fails clearly on an empty user stream, overlapping lists, and too few users', () => {
    expect(() => splitUsers(lta, meta, { trainUserIds: ['42'], testUserIds: ['3'] })).toThrow(
      "user split: user '42' of train_user_ids has no entries in fho_lta_train.json + fho_lta_val.json joined with ego4d.json (an empty user stream); users: 3, 7, 5, 9",
    );
    expect(() => splitUsers(lta, meta, { trainUserIds: ['3', 7], testUserIds: ['7'] })).toThrow("user split: user '7' in both train_user_ids and test_user_ids");
    expect(() => splitUsers(lta, meta, { trainUserIds: [NAN_USER] })).toThrow("user split: train_user_ids lists the NaN user ('null'), which always pretrains");
    expect(() => splitUsers(lta, meta, {})).toThrow('user split: num_train_users (10) + num_test_users (40) = 50 users requested, but only 4 users have a fb_participant_id');
  });

  it('refuses a clip shared by two users', () => {
    const bad = { train: parseLta({ clips: [E('v3', 'shared', 0, 0, 10), E('v5', 'shared', 1, 0, 10)] }, 't', { labelled: true }), val: [] };
    expect(() => splitUsers(bad, meta, { numTrainUsers: 1, numTestUsers: 0 })).toThrow("user split: clip 'shared' belongs to two users ('3' and '5') through its video_uid");
  });
});

describe('the split files, the summary and the printed table', () => {
  const out = join(dir, 'usersplit');
  let printed = '';
  let result: ReturnType<typeof splitUsers>;
  beforeAll(() => {
    result = splitUsers(lta, meta, { trainUserIds: ['7'], testUserIds: ['3', '9'], taxonomy });
    writeUserSplit(out, result, (l) => (printed += `${l}\n`));
  });

  it('writes train/test/pretrain_usersplit.json with users in rank order and a flat clips list', () => {
    const text = readFileSync(join(out, 'test_usersplit.json'), 'utf8');
    expect(text.indexOf('"3":[')).toBeLessThan(text.indexOf('"9":['));
    const json = JSON.parse(text);
    expect(json.split).toBe('test');
    expect(json.user_ids).toEqual(['3', '9']);
    expect(json.clips).toHaveLength(4);
    expect(json.users['3'][0]).toMatchObject({ video_uid: 'v3', fb_participant_id: 3, origin_video_id: 'o3', parent_video_scenarios: ['Cooking'], action_idx: 0 });
    const pre = JSON.parse(readFileSync(join(out, 'pretrain_usersplit.json'), 'utf8'));
    expect(pre.user_ids).toEqual(['5', 'null']);
    expect(pre.users.null.every((e: { fb_participant_id: unknown }) => e.fb_participant_id === null)).toBe(true);
  });

  it('reads a split file back with the same users and streams', () => {
    const back = readUserSplitFile(join(out, 'train_usersplit.json'), taxonomy);
    expect(back.map((u) => u.user)).toEqual(['7']);
    expect(back[0]!.entries).toEqual(result.splits.train[0]!.entries);
    const empty = writeJson(join(dir, 'empty_usersplit.json'), { split: 'test', user_ids: ['1'], users: { 1: [] } });
    expect(() => readUserSplitFile(empty)).toThrow(`${empty}: users['1']: is an empty user stream`);
  });

  it('summarises users, clips, actions, hours and verb/noun coverage per user and per split', () => {
    const summary = JSON.parse(readFileSync(join(out, 'usersplit_summary.json'), 'utf8'));
    expect(summary.splits.test).toEqual({ users: 2, clips: 3, actions: 4, hours: 480 / 3600, verbs: 2, nouns: 2 });
    expect(summary.users.find((u: { user: string }) => u.user === '7')).toEqual({
      user: '7',
      split: 'train',
      rank: 2,
      clips: 2,
      actions: 5,
      hours: 200 / 3600,
      verbs: 3,
      nouns: 3,
      verb_coverage: 3 / 4,
      noun_coverage: 3 / 5,
    });
    expect(summary.options).toEqual({ num_train_users: null, num_test_users: null, train_user_ids: ['7'], test_user_ids: ['3', '9'], seed: 0 });
  });

  it('prints the table', () => {
    expect(printed).toBe(`${formatSummaryTable(result.summary)}\n`);
    expect(printed).toBe(
      [
        'split     user     rank  clips  actions  hours  verbs  nouns  verb cov  noun cov',
        '--------  -------  ----  -----  -------  -----  -----  -----  --------  --------',
        'train     7           2      2        5   0.06      3      3     75.0%     60.0%',
        'test      3           1      1        2   0.08      2      2     50.0%     40.0%',
        'test      9           4      2        2   0.05      1      1     25.0%     20.0%',
        'pretrain  5           3      1        1   0.05      1      1     25.0%     20.0%',
        'pretrain  NaN         -      3        3   0.16      1      1     25.0%     20.0%',
        '--------  -------  ----  -----  -------  -----  -----  -----  --------  --------',
        'train     1 users            2        5   0.06      3      3',
        'test      2 users            3        4   0.13      2      2',
        'pretrain  2 users            4        4   0.21      1      1',
        '',
      ].join('\n'),
    );
  });

  it('tells when a split on disk was made with other options', () => {
    expect(() => checkUserSplitRecord(out, userSplitRecord({ trainUserIds: ['7'], testUserIds: ['3', '9'] }))).not.toThrow();
    expect(() => checkUserSplitRecord(out, userSplitRecord({ numTrainUsers: 1, numTestUsers: 2 }))).toThrow(
      `${join(out, 'usersplit_summary.json')}: the user split in ${out} was made with {"num_train_users":null,"num_test_users":null,"train_user_ids":["7"],"test_user_ids":["3","9"],"seed":0}, ` +
        'the config asks for {"num_train_users":1,"num_test_users":2,"train_user_ids":null,"test_user_ids":null,"seed":0}; delete that directory, point usersplit_dir elsewhere, or set make_user_split: false to use it as it is',
    );
  });
});

describe('the user split of the synthetic Ego4D data', () => {
  it('ranks the six users by duration (16 > 15 > … > 11), keeps splits disjoint and streams chronological', async () => {
    const root = join(dir, 'syn');
    await writeSynthetic(root, { seed: 0, kind: 'ego4d' });
    const r = runUserSplit({ annotationDir: join(root, 'ego4d/annotations'), metadata: join(root, 'ego4d/ego4d.json'), outDir: join(root, 'split'), numTrainUsers: 2, numTestUsers: 3, log: null });
    expect(r.summary.ranking.map((u) => u.user)).toEqual(['16', '15', '14', '13', '12', '11']);
    const users = USER_SPLITS_OF(r);
    expect(new Set(users).size).toBe(users.length);
    expect(r.splits.pretrain.map((u) => u.user)).toContain(NAN_USER);
    for (const s of Object.values(r.splits)) {
      for (const { entries } of s) {
        const keys = entries.map((e) => [e.origin_video_id ?? '\uffff', e.clip_parent_start_sec, e.action_idx] as const);
        for (let i = 1; i < keys.length; i++) {
          const [a, b] = [keys[i - 1]!, keys[i]!];
          expect(a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] <= b[2])))).toBe(true);
        }
      }
    }
  });
});

function USER_SPLITS_OF(r: ReturnType<typeof splitUsers>): string[] {
  return [...r.splits.train, ...r.splits.test, ...r.splits.pretrain].map((u) => u.user);
}
