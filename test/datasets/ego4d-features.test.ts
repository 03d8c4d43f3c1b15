import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Ego4dFeatures, type Ego4dFeaturesOptions } from '../../plugins/datasets/ego4d_features.ts';
import { narrationWindow } from '../../plugins/datasets/feature-windows.ts';
import { isValOrTest, readEgo4dMeta } from '../../plugins/datasets/formats/ego4d-meta.ts';
import { FeatureFile, writeFeatureFile } from '../../plugins/datasets/formats/hdf5-features.ts';
import { filterShortNarrations, readNarrations, substituteTags } from '../../plugins/datasets/formats/narrations.ts';
import { readNpy, writeNpy } from '../../plugins/datasets/formats/npy.ts';
import { writeSynthetic } from '../../plugins/datasets/synthetic.ts';
import { readUserSplitFile } from '../../plugins/datasets/user-split.ts';
import { ltaEntry, tempDir, video, writeJson } from './helpers.ts';

const dir = tempDir();
let root: string;
const opts = (o: Partial<Ego4dFeaturesOptions> = {}): Ego4dFeaturesOptions => ({
  root,
  skip_missing: false,
  mode: 'narrations',
  split: 'train',
  features: 'features.h5',
  features_group: null,
  fps: 30,
  stride: 16,
  narrations: 'narration.json',
  text_embeddings: 'narration_embeddings.npy',
  metadata: 'ego4d.json',
  exclude_splits: ['val', 'test'],
  narration_width_sec: 2,
  min_words: 4,
  tag_mode: 'substitute',
  annotation_dir: 'annotations',
  usersplit_dir: 'usersplit',
  users: null,
  stream_clips: true,
  clip_seconds: 64 / 30,
  make_user_split: true,
  num_train_users: 2,
  num_test_users: 3,
  train_user_ids: null,
  test_user_ids: null,
  split_seed: 0,
  ...o,
});

beforeAll(async () => {
  await writeSynthetic(join(dir, 'syn'), { seed: 4, kind: 'ego4d' });
  root = join(dir, 'syn', 'ego4d');
});

describe('ego4d_features, narrations mode (CLEP pairs)', () => {
  it('pairs each kept narration with the mean feature window around it and its text-embedding row', async () => {
    const ds = await new Ego4dFeatures(opts()).load();
    const list = filterShortNarrations(readNarrations(join(root, 'narration.json')));
    const excluded = new Set([...readEgo4dMeta(join(root, 'ego4d.json')).values()].filter((v) => isValOrTest(v)).map((v) => v.video_uid));
    const kept = list.filter((n) => !excluded.has(n.video_uid));
    expect(excluded.size).toBeGreaterThan(0);
    expect(ds.length).toBe(kept.length);
    expect(ds.skipped).toEqual([expect.objectContaining({ reason: "video in a val/test split (ego4d.json), left out of 'train'", count: list.length - kept.length })]);
    const emb = readNpy(join(root, 'narration_embeddings.npy'));
    const f = await FeatureFile.open(join(root, 'features.h5'));
    for (const k of [0, 17, ds.length - 1]) {
      const s = ds.get(k);
      const i = s.meta.narration_index as number;
      const n = list[i]!;
      expect(s.meta).toMatchObject({ video_uid: n.video_uid, timestamp_sec: n.timestamp_sec, text: substituteTags(n.text) });
      expect(Array.from(s.inputs.text!)).toEqual(Array.from(emb.data.subarray(i * 16, (i + 1) * 16)));
      const w = narrationWindow(n.timestamp_sec, { numFeatures: f.info(n.video_uid).rows });
      const rows = f.readRows(n.video_uid, w.start, w.end);
      const mean = Array.from({ length: 32 }, (_, d) => {
        let sum = 0;
        for (let r = 0; r < w.end - w.start; r++) sum += rows[r * 32 + d]!;
        return sum / (w.end - w.start);
      });
      Array.from(s.inputs.video!).forEach((v, d) => expect(v).toBeCloseTo(mean[d]!, 5));
    }
    f.close();
    const all = await new Ego4dFeatures(opts()).load('all');
    expect(all.length).toBe(list.length);
    expect(all.skipped).toEqual([]);
  });

  it("'val' holds exactly the held-out videos' narrations: disjoint from 'train', together they are 'all'", async () => {
    const source = new Ego4dFeatures(opts());
    const [train, val, all] = [await source.load('train'), await source.load('val'), await source.load('all')];
    try {
      const meta = readEgo4dMeta(join(root, 'ego4d.json'));
      const videos = (d: typeof train) => new Set(Array.from({ length: d.length }, (_, i) => d.get(i).meta.video_uid as string));
      expect(val.length).toBeGreaterThan(0);
      expect([...videos(val)].every((v) => isValOrTest(meta.get(v)!, ['val', 'test']))).toBe(true);
      expect([...videos(train)].some((v) => videos(val).has(v))).toBe(false);
      expect(train.length + val.length).toBe(all.length);
      expect(val.skipped).toEqual([]);
    } finally {
      for (const d of [train, val, all]) d.close();
    }
    await expect(new Ego4dFeatures(opts({ metadata: null })).load('val')).rejects.toThrow("the narrations 'val' split is the videos of exclude_splits in metadata");
  });

  it('reads per-video HDF5 text embeddings the same as the .npy rows', async () => {
    const list = filterShortNarrations(readNarrations(join(root, 'narration.json')));
    const emb = readNpy(join(root, 'narration_embeddings.npy'));
    const byVideo = new Map<string, number[]>();
    list.forEach((n, i) => byVideo.set(n.video_uid, [...(byVideo.get(n.video_uid) ?? []), i]));
    await writeFeatureFile(
      join(root, 'text.h5'),
      [...byVideo].map(([key, rows]) => ({ key, rows: rows.length, dim: 16, data: Float32Array.from(rows.flatMap((i) => Array.from(emb.data.subarray(i * 16, (i + 1) * 16)))) })),
    );
    const a = await new Ego4dFeatures(opts()).load('all');
    const b = await new Ego4dFeatures(opts({ text_embeddings: 'text.h5' })).load('all');
    const idx = [0, 3, 99, a.length - 1];
    expect(b.getBatch(idx).inputs.text!.data).toEqual(a.getBatch(idx).inputs.text!.data);
  });

  it('refuses text embeddings whose rows do not match the narration list', async () => {
    writeNpy(join(root, 'short.npy'), new Float32Array(10 * 16), [10, 16]);
    const n = filterShortNarrations(readNarrations(join(root, 'narration.json'))).length;
    await expect(new Ego4dFeatures(opts({ text_embeddings: 'short.npy' })).load()).rejects.toThrow(
      `${join(root, 'short.npy')}: has 10 rows, but ${join(root, 'narration.json')} has ${n} narrations after the ≤3-word filter (row i must embed narration i of that list)`,
    );
  });
});

describe('ego4d_features, user_stream mode (EgoAdapt streams)', () => {
  it('writes the user split when missing and streams each user in chronological order', async () => {
    const ds = await new Ego4dFeatures(opts({ mode: 'user_stream', split: 'test' })).load();
    const file = readUserSplitFile(join(root, 'usersplit', 'test_usersplit.json'));
    expect(ds.users!.map((u) => u.id)).toEqual(file.map((u) => u.user));
    expect(ds.users![0]!.start).toBe(0);
    expect(ds.users!.at(-1)!.end).toBe(ds.length);
    ds.users!.forEach((u, k) => k > 0 && expect(u.start).toBe(ds.users![k - 1]!.end));
    const u0 = ds.users![0]!;
    const order = Array.from({ length: u0.end - u0.start }, (_, k) => ds.get(u0.start + k).meta);
    const entries = file[0]!.entries;
    const pos = (m: Record<string, unknown>) => entries.findIndex((e) => e.clip_uid === m.clip_uid && e.action_idx === m.action_idx);
    for (let k = 1; k < order.length; k++) expect(pos(order[k]!)).toBeGreaterThanOrEqual(pos(order[k - 1]!));
    const s = ds.get(0);
    expect(s.inputs.video!.length).toBe(32);
    const e = entries.find((x) => x.clip_uid === s.meta.clip_uid && x.action_idx === s.meta.action_idx)!;
    expect([s.targets.verb![0], s.targets.noun![0]]).toEqual([e.verb_label, e.noun_label]);
    expect(ds.numClasses).toEqual({ verb: 12, noun: 20 });
    const perAction = await new Ego4dFeatures(opts({ mode: 'user_stream', split: 'test', stream_clips: false })).load();
    expect(perAction.length).toBeLessThan(ds.length);
  });

  it('keeps only the users asked for, in that order; an unknown user is an error', async () => {
    const all = await new Ego4dFeatures(opts({ mode: 'user_stream', split: 'test' })).load();
    const ids = all.users!.map((u) => u.id);
    const two = await new Ego4dFeatures(opts({ mode: 'user_stream', split: 'test', users: [ids[2]!, Number(ids[0])] })).load();
    expect(two.users!.map((u) => u.id)).toEqual([ids[2], ids[0]]);
    await expect(new Ego4dFeatures(opts({ mode: 'user_stream', split: 'test', users: ['999'] })).load()).rejects.toThrow(
      `ego4d_features: user 999 not in ${join(root, 'usersplit', 'test_usersplit.json')} (users: ${ids.join(', ')})`,
    );
  });

  it('does not reuse a split made with other options', async () => {
    await expect(new Ego4dFeatures(opts({ mode: 'user_stream', split: 'test', num_test_users: 2 })).load()).rejects.toThrow(
      `${join(root, 'usersplit', 'usersplit_summary.json')}: the user split in ${join(root, 'usersplit')} was made with`,
    );
    const reused = await new Ego4dFeatures(opts({ mode: 'user_stream', split: 'test', num_test_users: 2, make_user_split: false })).load();
    expect(reused.users).toHaveLength(3);
  });

  it('a clip without features is an error naming the key; with skip_missing, a user whose stream has no clip with features is an error naming the user', async () => {
    const hand = join(dir, 'hand');
    cpSync(join(root, 'annotations', 'fho_lta_taxonomy.json'), join(hand, 'annotations', 'fho_lta_taxonomy.json'));
    writeJson(join(hand, 'annotations', 'fho_lta_train.json'), { clips: [ltaEntry({ video: 'va', clip: 'ca', idx: 0, start: 0, end: 3 }), ltaEntry({ video: 'vb', clip: 'cb', idx: 0, start: 0, end: 3 })] });
    writeJson(join(hand, 'annotations', 'fho_lta_val.json'), { clips: [] });
    writeJson(join(hand, 'ego4d.json'), { videos: [video('va', 1, 'oa'), video('vb', 2, 'ob')] });
    await writeFeatureFile(join(hand, 'features.h5'), [{ key: 'va', rows: 100, dim: 32, data: new Float32Array(3200) }]);
    const o = opts({ root: hand, mode: 'user_stream', split: 'train', train_user_ids: ['1', '2'], test_user_ids: [], skip_missing: true });
    await expect(new Ego4dFeatures({ ...o, skip_missing: false }).load()).rejects.toThrow(
      `${join(hand, 'features.h5')}: has no dataset 'vb' for the clip of user '2' in ${join(hand, 'usersplit', 'train_usersplit.json')} (clip_uid 'cb'); set skip_missing: true`,
    );
    await expect(new Ego4dFeatures(o).load()).rejects.toThrow(
      `${join(hand, 'usersplit', 'train_usersplit.json')}: user '2' has an empty stream: none of its 1 entries gave a clip with features (see skipped reasons: no features in ${join(hand, 'features.h5')} for its video_uid)`,
    );
    const one = await new Ego4dFeatures({ ...o, users: ['1'] }).load();
    expect(one.users).toEqual([{ id: '1', start: 0, end: 1 }]);
  });
});
