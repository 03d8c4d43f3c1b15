import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AvaSource, type AvaOptions } from '../../plugins/datasets/ava.ts';
import { parseAvaCsv, parseExcludedTimestamps, parseLabelMap } from '../../plugins/datasets/formats/ava.ts';
import { writeFeatureFile } from '../../plugins/datasets/formats/hdf5-features.ts';
import { tempDir, write } from './helpers.ts';

const dir = tempDir();
const PBTXT = 'item {\n  name: "bend/bow (at the waist)"\n  id: 1\n}\nitem {\n  name: "crouch/kneel"\n  id: 3\n}\nitem { name: "dance" id: 4 }\n';

describe('AVA v2.2 files', () => {
  it('reads the headerless box CSV (8 fields, or 9 with a score)', () => {
    expect(parseAvaCsv('-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,80,1\n-5KQ66BBWC4,0903,0.1,0.2,0.3,0.4,12,0,0.93\n', 'ava_val_v2.2.csv')).toEqual([
      { line: 1, video_id: '-5KQ66BBWC4', timestamp: 902, box: [0.077, 0.151, 0.283, 0.811], action_id: 80, person_id: 1, score: null },
      { line: 2, video_id: '-5KQ66BBWC4', timestamp: 903, box: [0.1, 0.2, 0.3, 0.4], action_id: 12, person_id: 0, score: 0.93 },
    ]);
  });

  it('names the file and line of a bad row', () => {
    expect(() => parseAvaCsv('v,0902,0.1,0.2,0.3,0.4,81,1\n', 'a.csv')).toThrow('a.csv:1: action_id 81 is out of range (1..80, 1-based)');
    expect(() => parseAvaCsv('v,0902,0.1,0.2,0.3,0.4,0,1\n', 'a.csv')).toThrow('a.csv:1: action_id 0 is out of range (1..80, 1-based)');
    expect(() => parseAvaCsv('v,0902,0.5,0.2,0.3,0.4,1,1\n', 'a.csv')).toThrow('a.csv:1: box [0.5, 0.2, 0.3, 0.4] is not a normalised box (0 ≤ x1 ≤ x2 ≤ 1, 0 ≤ y1 ≤ y2 ≤ 1)');
    expect(() => parseAvaCsv('v,0902,0.1,0.2,0.3\n', 'a.csv')).toThrow('a.csv:1: expected 8 fields (video_id, timestamp, x1, y1, x2, y2, action_id, person_id) or 9 with a score, found 5');
    expect(() => parseAvaCsv('v,09O2,0.1,0.2,0.3,0.4,1,1\n', 'a.csv')).toThrow('a.csv:1: timestamp "09O2" is not a number');
  });

  it('reads excluded timestamps and the label map (sparse ids, file order)', () => {
    expect(parseExcludedTimestamps('vid,0902\nvid,1000\n', 'ex.csv')).toEqual(new Set(['vid,902', 'vid,1000']));
    expect(parseLabelMap(PBTXT, 'map.pbtxt')).toEqual([
      { id: 1, name: 'bend/bow (at the waist)' },
      { id: 3, name: 'crouch/kneel' },
      { id: 4, name: 'dance' },
    ]);
    expect(parseLabelMap('label {\n name: "x"\n label_id: 7\n label_type: PERSON_MOVEMENT\n}\n', 'm')).toEqual([{ id: 7, name: 'x' }]);
    expect(() => parseLabelMap('item {\n name: "x"\n}\n', 'map.pbtxt')).toThrow('map.pbtxt:1: a label map item needs name: "…" and id: N');
    expect(() => parseLabelMap('', 'map.pbtxt')).toThrow('map.pbtxt: holds no label map items (expected item { name: "…" id: N })');
  });
});

describe('ava dataset plugin (feature level)', () => {
  it('one sample per evaluated box: box, time-window features, multi-hot over the label map; skips counted', async () => {
    const root = join(dir, 'ava');
    write(join(root, 'ava_action_list_v2.2_for_activitynet_2019.pbtxt'), PBTXT);
    write(
      join(root, 'ava_train_v2.2.csv'),
      [
        'vid1,0902,0.1,0.2,0.5,0.9,1,0',
        'vid1,0902,0.1,0.2,0.5,0.9,4,0',
        'vid1,0902,0.6,0.1,0.9,0.8,2,1',
        'vid1,0903,0.1,0.2,0.5,0.9,3,0',
        'vid2,0902,0.0,0.0,1.0,1.0,3,0',
        'vid1,0904,0.2,0.2,0.4,0.4,3,2',
      ].join('\n'),
    );
    write(join(root, 'ava_train_excluded_timestamps_v2.2.csv'), 'vid1,0903\n');
    await writeFeatureFile(join(root, 'features.h5'), [{ key: 'vid1', rows: 200, dim: 1, data: Float32Array.from({ length: 200 }, (_, r) => r) }]);
    const o: AvaOptions = { root, split: 'train', label_map: 'ava_action_list_v2.2_for_activitynet_2019.pbtxt', features: 'features.h5', features_group: null, fps: 30, stride: 16, window_sec: 1, time_offset_sec: 900, skip_missing: false };
    await expect(new AvaSource(o).load()).rejects.toThrow(
      `${join(root, 'features.h5')}: has no dataset 'vid2' for the box at 902 s of video 'vid2'; set skip_missing: true in the dataset's config`,
    );
    const ds = await new AvaSource({ ...o, skip_missing: true }).load();
    expect(ds.length).toBe(2);
    expect(ds.numClasses).toEqual({ labels: 3 });
    expect(ds.classCounts).toEqual({ labels: [1, 2, 1] }); // annotated boxes, with or without features
    const s = ds.get(0);
    expect(Array.from(s.inputs.box!)).toEqual(Array.from(Float32Array.from([0.1, 0.2, 0.5, 0.9])));
    // t = 902 − 900 = 2 s: [1, 3] s → rows [1, 5] → mean 3.
    expect(Array.from(s.inputs.features!)).toEqual([3]);
    expect(Array.from(s.targets.labels!)).toEqual([1, 0, 1]);
    expect(s.meta).toEqual({ video_id: 'vid1', timestamp: 902, person_id: 0 });
    expect(ds.skipped).toEqual([
      { reason: 'row at an excluded key frame', count: 1, examples: ['vid1,903'] },
      { reason: 'box whose actions are all outside the evaluated label map', count: 1, examples: [`${join(root, 'ava_train_v2.2.csv')}:3`] },
      { reason: `no features in ${join(root, 'features.h5')} for its video`, count: 1, examples: ['vid2'] },
    ]);
    ds.close();
  });
});
