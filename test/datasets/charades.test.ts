import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CharadesDataset, type CharadesOptions } from '../../plugins/datasets/charades.ts';
import { parseCharadesActions, parseCharadesClasses, parseCharadesCsv, readCharadesCsv } from '../../plugins/datasets/formats/charades.ts';
import { parseCsv } from '../../plugins/datasets/formats/csv.ts';
import { parseFrameList, videoLabels } from '../../plugins/datasets/formats/frame-list.ts';
import { writeFeatureFile } from '../../plugins/datasets/formats/hdf5-features.ts';
import { writeSynthetic } from '../../plugins/datasets/synthetic.ts';
import { compose } from '../../core/compose/compose.ts';
import type { DatasetSource } from '../../plugins/datasets/dataset.ts';
import { createPlugin } from '../../plugins/create.ts';
import { REPO } from '../helpers/project.ts';
import { tempDir, write } from './helpers.ts';

const dir = tempDir();
const HEADER = 'id,subject,scene,quality,relevance,verified,script,objects,descriptions,actions,length';

describe('CSV with quoted fields (RFC 4180)', () => {
  it('keeps commas, doubled quotes and line breaks inside quotes, and the line each record starts on', () => {
    const rows = parseCsv('a,b,c\n1,"x, y","say ""hi"""\n2,"two\nlines",\r\n\n3,,\n', 'f.csv');
    expect(rows).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', 'x, y', 'say "hi"'] },
      { line: 3, fields: ['2', 'two\nlines', ''] },
      { line: 6, fields: ['3', '', ''] },
    ]);
  });

  it('reports an unterminated quote at the line where it opens', () => {
    expect(() => parseCsv('a,b\n1,"open\n2,3\n', 'f.csv')).toThrow('f.csv:2: unterminated quoted field (a \'"\' opens a field that never closes) — the file looks truncated');
  });
});

describe('Charades_v1 CSVs', () => {
  it('reads actions "c092 11.90 21.20;c147 0.00 12.60" into video-level labels', () => {
    expect(parseCharadesActions('c092 11.90 21.20;c147 0.00 12.60;c092 30.00 31.00', 'f', 2, 'V')).toEqual([
      { cls: 92, start: 11.9, end: 21.2 },
      { cls: 147, start: 0, end: 12.6 },
      { cls: 92, start: 30, end: 31 },
    ]);
    const csv = `${HEADER}\n46GP8,HR43,Kitchen,6,7,Yes,"A person cooks, then eats.","food;plate","They ""cook"", then eat.;Eating.","c092 11.90 21.20;c147 0.00 12.60;c092 30.00 31.00",24.83\nN11GT,KN21,Bedroom,6,7,Yes,"Sleeps.",bed,"Sleeps.",,17.00\n`;
    const videos = parseCharadesCsv(csv, 'Charades_v1_train.csv');
    expect(videos.map((v) => [v.id, v.labels, v.length, v.line])).toEqual([
      ['46GP8', [92, 147], 24.83, 2],
      ['N11GT', [], 17, 3],
    ]);
  });

  it('names the file, line and video of a bad row or a class out of range', () => {
    expect(() => parseCharadesCsv(`${HEADER}\nA,S,K,6,7,Yes,script with, a comma,o,d,c001 0 1,3\n`, 'Charades_v1_train.csv')).toThrow(
      'Charades_v1_train.csv:2: expected 11 fields (id,subject,scene,quality,relevance,verified,script,objects,descriptions,actions,length), found 12',
    );
    expect(() => parseCharadesCsv(`${HEADER}\nA,S,K,6,7,Yes,s,o,d,c157 0.00 1.00,3\n`, 'Charades_v1_train.csv')).toThrow(
      "Charades_v1_train.csv:2: video 'A': class c157 is out of range (157 classes: c000..c156)",
    );
    expect(() => parseCharadesCsv(`${HEADER}\nA,S,K,6,7,Yes,s,o,d,c001 0.00,3\n`, 'Charades_v1_train.csv')).toThrow(
      `Charades_v1_train.csv:2: video 'A': action "c001 0.00" is not "cNNN start end"`,
    );
    expect(() => parseCharadesCsv('id,scene\nA,K\n', 'x.csv')).toThrow('x.csv:1: the header lacks the column actions (found: id, scene)');
    expect(() => parseCharadesCsv(`${HEADER}\nA,S,K,6,7,Yes,s,o,d,,3\nA,S,K,6,7,Yes,s,o,d,,3\n`, 'x.csv')).toThrow("x.csv:3: video 'A' appears twice");
    expect(() => readCharadesCsv(join(dir, 'nope.csv'))).toThrow(`${join(dir, 'nope.csv')}: Charades CSV not found`);
  });

  it('reads the class list', () => {
    expect(parseCharadesClasses('c000 Holding some clothes\nc001 Putting clothes somewhere\n', 'c.txt')).toEqual(['Holding some clothes', 'Putting clothes somewhere']);
    expect(() => parseCharadesClasses('c000 A\nc002 B\n', 'c.txt')).toThrow('c.txt:2: expected "c001 <name>", found "c002 B"');
  });
});

describe('SlowFast frame lists (Charades frame_lists/, Animal Kingdom annotation/)', () => {
  const list = 'original_vido_id video_id frame_id path labels\nVID1 0 1 VID1/VID1-000001.jpg "3,17"\nVID1 0 2 VID1/VID1-000002.jpg ""\nVID1 0 3 VID1/VID1-000003.jpg 5\nVID2 1 1 VID2/VID2-000001.jpg ""\n';

  it('reads the real "original_vido_id" header and ORs frame labels to the video', () => {
    const rows = parseFrameList(list, 'val.csv', 157);
    expect(rows[1]).toEqual({ line: 3, original_vido_id: 'VID1', video_id: '0', frame_id: 2, path: 'VID1/VID1-000002.jpg', labels: [] });
    expect(videoLabels(rows)).toEqual([
      { video: 'VID1', labels: [3, 5, 17], frames: 3, line: 2 },
      { video: 'VID2', labels: [], frames: 1, line: 5 },
    ]);
    expect(parseFrameList(list.replace('original_vido_id', 'original_video_id'), 'val.csv', 157)).toHaveLength(4);
  });

  it('rejects another header, a short row and labels out of range', () => {
    expect(() => parseFrameList('id path labels\n', 'val.csv', 157)).toThrow('val.csv:1: expected the header "original_vido_id video_id frame_id path labels", found "id path labels"');
    expect(() => parseFrameList(`${list}VID3 2 1 VID3/a.jpg\n`, 'val.csv', 157)).toThrow('val.csv:6: expected 5 space-separated fields (original_vido_id video_id frame_id path labels), found 4');
    expect(() => parseFrameList(`${list}VID3 2 1 VID3/a.jpg 3,157\n`, 'val.csv', 157)).toThrow("val.csv:6: label 157 of video 'VID3' is out of range (157 classes: 0..156)");
    expect(() => parseFrameList(`${list}VID3 2 1 VID3/a.jpg 3,x\n`, 'val.csv', 157)).toThrow(`val.csv:6: label "x" of video 'VID3' is not an integer`);
  });
});

describe('charades dataset plugin', () => {
  const opts = (root: string, o: Partial<CharadesOptions> = {}): CharadesOptions => ({
    root,
    skip_missing: false,
    split: 'train',
    annotation_format: 'charades_v1',
    features: 'features.h5',
    features_group: null,
    num_classes: 157,
    drop_unlabelled: false,
    ...o,
  });
  let syn: string;
  beforeAll(async () => {
    syn = join(dir, 'syn');
    await writeSynthetic(syn, { seed: 1, kind: 'charades' });
  });

  it('gives [D] features and a 157-way multi-hot per video; class counts come from train, also for test', async () => {
    const root = join(syn, 'charades');
    const train = await new CharadesDataset(opts(root)).load();
    const test = await new CharadesDataset(opts(root)).load('test');
    expect([train.length, test.length]).toEqual([300, 100]);
    expect(test.classCounts).toEqual(train.classCounts);
    const videos = readCharadesCsv(join(root, 'Charades_v1_train.csv'));
    expect(train.classCounts!.labels).toEqual(Array.from({ length: 157 }, (_, c) => videos.filter((v) => v.labels.includes(c)).length));
    const s = train.get(0);
    expect(s.inputs.features!.length).toBe(32);
    expect(Array.from(s.targets.labels!).flatMap((v, c) => (v ? [c] : []))).toEqual(videos[0]!.labels);
    expect(train.skipped).toEqual([]);
    expect(train.segments).toBeUndefined();
    train.close();
    test.close();
  });

  it('keeps unlabelled videos as all-negative samples, or drops and reports them', async () => {
    const root = join(syn, 'charades');
    const keep = await new CharadesDataset(opts(root)).load();
    const drop = await new CharadesDataset(opts(root, { drop_unlabelled: true })).load();
    const empty = readCharadesCsv(join(root, 'Charades_v1_train.csv')).filter((v) => v.labels.length === 0).length;
    expect(empty).toBeGreaterThan(0);
    expect(drop.length).toBe(keep.length - empty);
    expect(drop.skipped).toMatchObject([{ reason: 'no labels (drop_unlabelled)', count: empty }]);
  });

  it('a video without features is an error naming the key, skipped and reported with skip_missing; reads the frame-list variant', async () => {
    const root = join(dir, 'hand');
    write(join(root, 'Charades_v1_train.csv'), `${HEADER}\nAAA,S,K,6,7,Yes,"a, b",o,d,"c001 0.0 1.0;c003 0.5 2.0",3\nBBB,S,K,6,7,Yes,s,o,d,,3\nCCC,S,K,6,7,Yes,s,o,d,c002 0 1,3\n`);
    write(join(root, 'frame_lists/train.csv'), 'original_vido_id video_id frame_id path labels\nAAA 0 1 AAA/1.jpg 1\nAAA 0 2 AAA/2.jpg "1,3"\nCCC 1 1 CCC/1.jpg ""\n');
    await writeFeatureFile(join(root, 'features.h5'), [
      { key: 'AAA', rows: 2, dim: 2, data: Float32Array.from([1, 2, 3, 4]) },
      { key: 'CCC', rows: 1, dim: 2, data: Float32Array.from([5, 6]) },
    ]);
    await expect(new CharadesDataset(opts(root)).load()).rejects.toThrow(
      `${join(root, 'features.h5')}: has no dataset 'BBB' for the clip annotated at ${join(root, 'Charades_v1_train.csv')}:3; set skip_missing: true`,
    );
    const ds = await new CharadesDataset(opts(root, { skip_missing: true })).load();
    expect(ds.length).toBe(2);
    expect(ds.skipped).toEqual([{ reason: `no features in ${join(root, 'features.h5')}`, count: 1, examples: ['BBB'] }]);
    expect(Array.from(ds.get(0).inputs.features!)).toEqual([2, 3]);
    expect(ds.get(0).meta).toEqual({ id: 'AAA', source: `${join(root, 'Charades_v1_train.csv')}:2` });
    const fl = await new CharadesDataset(opts(root, { annotation_format: 'frame_list' })).load();
    expect(fl.length).toBe(2);
    expect(Array.from(fl.get(0).targets.labels!).flatMap((v, c) => (v ? [c] : []))).toEqual([1, 3]);
    await expect(new CharadesDataset(opts(root, { annotation_format: 'frame_list' })).load('test')).rejects.toThrow(
      "charades: unknown split 'test' for annotation_format 'frame_list'; splits: train, val",
    );
  });

  it('data.skip_missing=true on the command line reaches the loader of conf/data/charades.yaml', async () => {
    const root = join(dir, 'skip-missing');
    write(join(root, 'Charades_v1_train.csv'), `${HEADER}\nAAA,S,K,6,7,Yes,s,o,d,c001 0 1,3\nBBB,S,K,6,7,Yes,s,o,d,c002 0 1,3\n`);
    await writeFeatureFile(join(root, 'features.h5'), [{ key: 'AAA', rows: 1, dim: 2, data: Float32Array.from([1, 2]) }]);
    const data = (overrides: string[]) => {
      const config = compose({ configDir: join(REPO, 'conf'), overrides: ['data=charades', `data.root=${root}`, ...overrides], vidra: false });
      const { _target_, ...options } = (config.toObject({ resolve: true }) as { data: Record<string, unknown> }).data;
      expect(_target_).toBe('charades');
      return createPlugin<DatasetSource>('dataset', 'charades', options).load();
    };
    await expect(data([])).rejects.toThrow(`${join(root, 'features.h5')}: has no dataset 'BBB'`);
    expect((await data(['data.skip_missing=true'])).skipped).toEqual([{ reason: `no features in ${join(root, 'features.h5')}`, count: 1, examples: ['BBB'] }]);
  });
});
