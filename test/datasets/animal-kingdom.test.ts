import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AnimalKingdomDataset, type AnimalKingdomOptions } from '../../plugins/datasets/animal_kingdom.ts';
import { parseDfAction, readAkFrameList, segmentsFromCounts } from '../../plugins/datasets/formats/animal-kingdom.ts';
import { DataFormatError } from '../../plugins/datasets/formats/errors.ts';
import { writeFeatureFile } from '../../plugins/datasets/formats/hdf5-features.ts';
import { writeSynthetic } from '../../plugins/datasets/synthetic.ts';
import { tempDir, write } from './helpers.ts';

const dir = tempDir();
const dfRows = (n: number, seg = (i: number) => (i < 1 ? 'head' : i < 2 ? 'middle' : 'tail')) => Array.from({ length: n }, (_, i) => `Action ${i},${10 * (n - i)},${seg(i)}`);

describe('df_action.csv (CSV export of df_action.xlsx)', () => {
  it('reads name, count and segment per action, in action order', () => {
    const a = parseDfAction(['action,count,segment', ...dfRows(3)].join('\n'), 'df.csv', 3);
    expect(a).toEqual([
      { name: 'Action 0', count: 30, segment: 'head' },
      { name: 'Action 1', count: 20, segment: 'middle' },
      { name: 'Action 2', count: 10, segment: 'tail' },
    ]);
  });

  it("accepts pandas' index column, checked against the row order", () => {
    const ok = [',action,count,segment', ...dfRows(3).map((r, i) => `${i},${r}`)].join('\n');
    expect(parseDfAction(ok, 'df.csv', 3).map((x) => x.segment)).toEqual(['head', 'middle', 'tail']);
    const swapped = [',action,count,segment', '1,A,3,Head', '0,B,2,tail', '2,C,1,tail'].join('\n');
    expect(() => parseDfAction(swapped, 'df.csv', 3)).toThrow('df.csv:2: the index column says "1", expected 0 (rows must be in action order)');
  });

  it('rejects an unknown segment and a wrong number of actions', () => {
    expect(() => parseDfAction('action,count,segment\nA,3,common\n', 'df.csv', 1)).toThrow(`df.csv:2: action 'A': segment "common" is not head, middle or tail`);
    expect(() => parseDfAction(['action,count,segment', ...dfRows(3)].join('\n'), 'df.csv', 140)).toThrow('df.csv: has 3 actions, expected 140');
  });

  it('recomputes segments only on request, with both boundary conventions (ml-spec §2.2)', () => {
    const counts = [99, 100, 101, 500, 501];
    expect(segmentsFromCounts(counts, 'videolt')).toEqual(['tail', 'tail', 'middle', 'middle', 'head']);
    expect(segmentsFromCounts(counts, 'paper')).toEqual(['tail', 'middle', 'middle', 'middle', 'head']);
  });
});

describe('animal_kingdom dataset plugin', () => {
  const opts = (root: string, o: Partial<AnimalKingdomOptions> = {}): AnimalKingdomOptions => ({
    root,
    skip_missing: false,
    split: 'train',
    features: 'features.h5',
    features_group: null,
    num_classes: 140,
    df_action: 'annotation/df_action.csv',
    segments_from_counts: null,
    drop_unlabelled: false,
    ...o,
  });
  let syn: string;
  beforeAll(async () => {
    syn = join(dir, 'syn');
    await writeSynthetic(syn, { seed: 2, kind: 'animal_kingdom' });
  });

  it('reads clips, OR-ed labels, TRAIN class counts and the segments from data', async () => {
    const root = join(syn, 'animal_kingdom');
    const val = await new AnimalKingdomDataset(opts(root)).load('val');
    expect(val.length).toBe(100);
    const train = readAkFrameList(join(root, 'annotation/train.csv'));
    expect(val.classCounts!.labels).toEqual(Array.from({ length: 140 }, (_, c) => train.filter((v) => v.labels.includes(c)).length));
    expect(val.segments!.filter((s) => s === 'head')).toHaveLength(17);
    expect(val.segments!.filter((s) => s === 'middle')).toHaveLength(29);
    expect(val.segments!.filter((s) => s === 'tail')).toHaveLength(94);
    const b = val.getBatch([0, 5, 7]);
    expect(b.inputs.features!.shape).toEqual([3, 32]);
    expect(b.targets.labels!.shape).toEqual([3, 140]);
    const valClips = readAkFrameList(join(root, 'annotation/val.csv'));
    expect(Array.from(val.get(5).targets.labels!).flatMap((v, c) => (v ? [c] : []))).toEqual(valClips[5]!.labels);
  });

  it('hand-written clips: empty labels, a clip without features (an error; skipped with skip_missing), segments from counts on request', async () => {
    const root = join(dir, 'hand');
    write(join(root, 'annotation/train.csv'), 'original_vido_id video_id frame_id path labels\nAAAA 1 1 AAAA/1.jpg 0,2\nAAAA 1 2 AAAA/2.jpg ""\nBBBB 2 1 BBBB/1.jpg 1\nCCCC 3 1 CCCC/1.jpg ""\n');
    await writeFeatureFile(join(root, 'features.h5'), [
      { key: 'AAAA', rows: 2, dim: 1, data: Float32Array.from([1, 3]) },
      { key: 'CCCC', rows: 1, dim: 1, data: Float32Array.from([7]) },
    ]);
    await expect(new AnimalKingdomDataset(opts(root, { num_classes: 3, df_action: null, segments_from_counts: 'videolt' })).load()).rejects.toThrow(
      new DataFormatError(
        `${join(root, 'features.h5')}: has no dataset 'BBBB' for the clip annotated at ${join(root, 'annotation/train.csv')}:4; ` +
          "set skip_missing: true in the dataset's config (e.g. data.skip_missing=true) to skip samples without features",
      ),
    );
    const ds = await new AnimalKingdomDataset(opts(root, { num_classes: 3, df_action: null, segments_from_counts: 'videolt', skip_missing: true })).load();
    expect(ds.length).toBe(2);
    expect(ds.skipped).toEqual([{ reason: `no features in ${join(root, 'features.h5')}`, count: 1, examples: ['BBBB'] }]);
    expect(ds.classCounts).toEqual({ labels: [1, 1, 1] });
    expect(ds.segments).toEqual(['tail', 'tail', 'tail']);
    expect(Array.from(ds.get(0).inputs.features!)).toEqual([2]);
    expect(Array.from(ds.get(1).targets.labels!)).toEqual([0, 0, 0]);
    await expect(new AnimalKingdomDataset(opts(root, { num_classes: 3, df_action: null })).load()).rejects.toThrow(
      'animal_kingdom: df_action is null and segments_from_counts is null: set one (the segments are read from df_action.csv by default)',
    );
    write(join(root, 'annotation/val.csv'), 'original_vido_id video_id frame_id path labels\nDDDD 1 1 DDDD/1.jpg 3\n');
    await expect(new AnimalKingdomDataset(opts(root, { num_classes: 3, df_action: null, segments_from_counts: 'paper' })).load('val')).rejects.toThrow(
      `${join(root, 'annotation/val.csv')}:2: label 3 of video 'DDDD' is out of range (3 classes: 0..2)`,
    );
  });
});
