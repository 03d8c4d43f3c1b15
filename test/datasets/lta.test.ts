import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Ego4dLtaDataset, type Ego4dLtaOptions } from '../../plugins/datasets/ego4d_lta.ts';
import { forecastWindows, groupByClip, parseLta, parseTaxonomy, readLta, readTaxonomy, type LtaEntry } from '../../plugins/datasets/formats/lta.ts';
import { writeFeatureFile } from '../../plugins/datasets/formats/hdf5-features.ts';
import { writeSynthetic } from '../../plugins/datasets/synthetic.ts';
import { ltaEntry, tempDir, write, writeJson } from './helpers.ts';

const dir = tempDir();
const taxonomy = { verbs: ['take', 'put', 'cut'], nouns: ['cup', 'knife'] };

describe('LTA annotation files (fho_lta_*.json) as the Ego4D loader reads them', () => {
  it('keeps every field of an entry', () => {
    const raw = ltaEntry({ video: 'v', clip: 'c', idx: 3, start: 4, end: 6.5, parentStart: 10, parentEnd: 310, verb: 2, noun: 1 });
    const [e] = parseLta({ clips: [raw] }, 'f.json', { labelled: true, taxonomy });
    expect(e).toEqual({ ...raw, verb: 'v2', noun: 'n1' });
  });

  it('fills −1 labels in the unannotated test split', () => {
    const [e] = parseLta({ clips: [ltaEntry({ video: 'v', clip: 'c', idx: 0, labels: false })] }, 'test.json', { labelled: false, taxonomy });
    expect([e!.verb_label, e!.noun_label, e!.verb, e!.noun]).toEqual([-1, -1, null, null]);
  });

  it('requires labels in train/val and checks them against the taxonomy', () => {
    expect(() => parseLta({ clips: [ltaEntry({ video: 'v', clip: 'c', idx: 0, labels: false })] }, 'train.json', { labelled: true })).toThrow(
      "train.json: clips[0] (clip_uid 'c', action_idx 0): 'verb_label' is missing (a labelled split needs verb_label and noun_label)",
    );
    expect(() => parseLta({ clips: [ltaEntry({ video: 'v', clip: 'c', idx: 0 }), ltaEntry({ video: 'v', clip: 'c', idx: 1, verb: 3 })] }, 'train.json', { labelled: true, taxonomy })).toThrow(
      "train.json: clips[1] (clip_uid 'c', action_idx 1): verb_label 3 is out of range (the taxonomy has 3 verbs: 0..2)",
    );
    expect(() => parseLta({ clips: [ltaEntry({ video: 'v', clip: 'c', idx: 0, noun: -1 })] }, 'train.json', { labelled: true, taxonomy })).toThrow(
      "train.json: clips[0] (clip_uid 'c', action_idx 0): noun_label -1 is out of range (the taxonomy has 2 nouns: 0..1)",
    );
  });

  it('names the record of a missing or mistyped field', () => {
    const bad = { ...ltaEntry({ video: 'v', clip: 'c', idx: 0 }), action_clip_start_sec: '1.5' };
    expect(() => parseLta({ clips: [bad] }, 'f.json', { labelled: true })).toThrow(`f.json: clips[0] (clip_uid 'c', action_idx 0): 'action_clip_start_sec' must be a number, got "1.5"`);
    const { video_uid: _, ...noVideo } = ltaEntry({ video: 'v', clip: 'c', idx: 0 });
    expect(() => parseLta({ clips: [noVideo] }, 'f.json', { labelled: true })).toThrow(`f.json: clips[0] (clip_uid 'c', action_idx 0): 'video_uid' must be a non-empty string, got undefined`);
    expect(() => parseLta({ clips: [ltaEntry({ video: 'v', clip: 'c', idx: 0, start: 5, end: 4 })] }, 'f.json', { labelled: true })).toThrow(
      "f.json: clips[0] (clip_uid 'c', action_idx 0): the action ends before it starts (action_clip_start_sec 5 > action_clip_end_sec 4)",
    );
    expect(() => parseLta({ videos: [] }, 'f.json', { labelled: true })).toThrow('f.json: expected an object with a "clips" list (Ego4D LTA format)');
  });

  it('reports a truncated or non-JSON file with its name', () => {
    const truncated = write(join(dir, 'fho_lta_train.json'), JSON.stringify({ clips: [ltaEntry({ video: 'v', clip: 'c', idx: 0 })] }).slice(0, 120));
    expect(() => readLta(truncated, { labelled: true })).toThrow(new RegExp(`^${truncated}: not valid JSON \\(line 1, column 121\\): .* — the file looks truncated$`));
    const cut = write(join(dir, 'cut.json'), '{"clips": [');
    expect(() => readLta(cut, { labelled: true })).toThrow(`${cut}: not valid JSON: Unexpected end of JSON input — the file looks truncated`);
    const html = write(join(dir, 'html.json'), '<html>403 Forbidden</html>');
    expect(() => readLta(html, { labelled: true })).toThrow(new RegExp(`^${html}: not valid JSON( \\(line 1, column 1\\))?: Unexpected token`));
    const empty = write(join(dir, 'empty.json'), '\n');
    expect(() => readLta(empty, { labelled: true })).toThrow(`${empty}: is empty (expected JSON)`);
    expect(() => readLta(join(dir, 'missing.json'), { labelled: true })).toThrow(`${join(dir, 'missing.json')}: JSON file not found`);
  });

  it('reads the taxonomy and rejects a malformed one', () => {
    expect(readTaxonomy(writeJson(join(dir, 'tax.json'), taxonomy))).toEqual(taxonomy);
    expect(() => parseTaxonomy({ verbs: ['a', 3], nouns: ['b'] }, 't.json')).toThrow('t.json: verbs[1]: expected a name (string), got 3');
    expect(() => parseTaxonomy({ verbs: [] , nouns: ['b'] }, 't.json')).toThrow('t.json: "verbs" must be a non-empty list of names');
  });
});

describe('forecasting windows: group by clip_uid, sort by action_idx, i in 0 ..= len − N − Z', () => {
  const clip = (uid: string, n: number, order: number[] = [...Array(n).keys()]) =>
    parseLta({ clips: order.map((i) => ltaEntry({ video: 'v', clip: uid, idx: i, verb: i % 3, noun: i % 2 })) }, 'f', { labelled: true });

  it('gives len − N − Z + 1 windows per clip, none for a short clip', () => {
    const entries = [...clip('a', 25), ...clip('b', 21), ...clip('c', 22)];
    const w = forecastWindows(entries, 2, 20);
    expect(w.map((x) => x.clip_uid)).toEqual(['a', 'a', 'a', 'a', 'c']);
    expect(w[3]!.inputs.map((e) => e.action_idx)).toEqual([3, 4]);
    expect(w[3]!.forecast.map((e) => e.action_idx)).toEqual([...Array(20).keys()].map((i) => i + 5));
  });

  it('sorts each clip by action_idx whatever the file order, clips in order of first appearance', () => {
    const entries: LtaEntry[] = [...clip('z', 3, [2, 0, 1]), ...clip('y', 2, [1, 0])];
    expect([...groupByClip(entries)].map(([k, es]) => [k, es.map((e) => e.action_idx)])).toEqual([
      ['z', [0, 1, 2]],
      ['y', [0, 1]],
    ]);
    expect(forecastWindows(entries, 1, 1).map((w) => `${w.clip_uid}:${w.inputs[0]!.action_idx}->${w.forecast[0]!.action_idx}`)).toEqual(['z:0->1', 'z:1->2', 'y:0->1']);
  });
});

describe('ego4d_lta dataset plugin', () => {
  const base = (root: string, o: Partial<Ego4dLtaOptions> = {}): Ego4dLtaOptions => ({
    root,
    skip_missing: false,
    split: 'train',
    annotation_dir: 'annotations',
    features: 'features.h5',
    features_group: null,
    num_input_clips: 2,
    num_future_actions: 20,
    fps: 30,
    stride: 16,
    input_window: 'segment',
    clip_seconds: 64 / 30,
    ...o,
  });
  let syn: string;
  beforeAll(async () => {
    syn = join(dir, 'syn');
    await writeSynthetic(syn, { seed: 3, kind: 'ego4d', ego4d: { videosWithoutFeatures: 1 } });
  });

  it('reads the synthetic files: windows, [N, D] inputs, Z (verb, noun) targets, keys, class counts', async () => {
    const root = join(syn, 'ego4d');
    const ds = await new Ego4dLtaDataset(base(root)).load();
    const entries = readLta(join(root, 'annotations/fho_lta_train.json'), { labelled: true });
    expect(ds.length).toBe(forecastWindows(entries, 2, 20).length);
    const s = ds.get(0);
    expect(s.inputs.features!.length).toBe(2 * 32);
    expect(s.targets.verb!).toBeInstanceOf(Int32Array);
    expect(s.targets.verb!.length).toBe(20);
    const w = forecastWindows(entries, 2, 20)[0]!;
    expect(Array.from(s.targets.noun!)).toEqual(w.forecast.map((e) => e.noun_label));
    expect(s.meta.key).toBe(`${w.clip_uid}_${w.inputs[1]!.action_idx}`);
    expect(ds.numClasses).toEqual({ verb: 12, noun: 20 });
    expect(ds.classCounts!.verb!.reduce((a, b) => a + b, 0)).toBe(entries.length);
    const b = ds.getBatch([0, 1, 2]);
    expect(b.inputs.features!.shape).toEqual([3, 2, 32]);
    expect(b.targets.verb!.shape).toEqual([3, 20]);
    expect(Array.from(b.inputs.features!.data.subarray(0, 64))).toEqual(Array.from(s.inputs.features!));
    ds.close();
  });

  it('the test split has −1 targets', async () => {
    const ds = await new Ego4dLtaDataset(base(join(syn, 'ego4d'), { split: 'test', features: null })).load();
    expect(ds.length).toBeGreaterThan(0);
    expect(new Set(ds.get(0).targets.verb)).toEqual(new Set([-1]));
    expect(ds.get(0).inputs).toEqual({});
  });

  it('a window whose video has no features is an error naming the key; skipped and reported with skip_missing', async () => {
    await expect(new Ego4dLtaDataset(base(join(syn, 'ego4d'), { split: 'test' })).load()).rejects.toThrow(
      new RegExp(`^${join(syn, 'ego4d', 'features.h5')}: has no dataset '[^']+' for the forecast window of clip '[^']+'; set skip_missing: true in the dataset's config \\(e\\.g\\. data\\.skip_missing=true\\) to skip samples without features$`),
    );
    const ds = await new Ego4dLtaDataset(base(join(syn, 'ego4d'), { split: 'test', skip_missing: true })).load();
    expect(ds.skipped).toHaveLength(1);
    expect(ds.skipped[0]!.reason).toBe(`no features in ${join(syn, 'ego4d', 'features.h5')} for its video_uid`);
    expect(ds.skipped[0]!.count).toBeGreaterThan(0);
    const all = await new Ego4dLtaDataset(base(join(syn, 'ego4d'), { split: 'test', features: null })).load();
    expect(ds.length + ds.skipped[0]!.count).toBe(all.length);
  });

  it('averages the features of the span [parent start + action start, parent start + action end]', async () => {
    const root = join(dir, 'hand');
    writeJson(join(root, 'annotations/fho_lta_taxonomy.json'), taxonomy);
    const entries = [0, 1, 2].map((i) => ltaEntry({ video: 'vid', clip: 'clip', idx: i, start: 2 * i, end: 2 * i + 1, parentStart: 4, parentEnd: 20 }));
    writeJson(join(root, 'annotations/fho_lta_train.json'), { clips: entries });
    await writeFeatureFile(join(root, 'features.h5'), [{ key: 'vid', rows: 40, dim: 1, data: Float32Array.from({ length: 40 }, (_, r) => r) }]);
    const ds = await new Ego4dLtaDataset(base(root, { num_input_clips: 2, num_future_actions: 1 })).load();
    // Entry 0: [4, 5] s → rows [7, 9] → mean 8; entry 1: [6, 7] s → rows [11, 13] → mean 12.
    expect(Array.from(ds.get(0).inputs.features!)).toEqual([8, 12]);
    const center = await new Ego4dLtaDataset(base(root, { num_input_clips: 2, num_future_actions: 1, input_window: 'center', clip_seconds: 2 })).load();
    // Entry 0 centred at 4.5 s: [3.5, 5.5] s → rows [6, 10] → mean 8.
    expect(Array.from(center.get(0).inputs.features!)).toEqual([8, 12]);
    expect(() => ds.get(1)).toThrow('ego4d_lta: sample index 1 is out of range (the dataset has 1 samples)');
  });
});
