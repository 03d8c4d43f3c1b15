import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkFilters, FeatureFile, loadHdf5, writeFeatureFile } from '../../plugins/datasets/formats/hdf5-features.ts';
import { tempDir, write } from './helpers.ts';

const dir = tempDir();
const rows = (n: number, dim: number, f: (r: number, d: number) => number) => Float32Array.from({ length: n * dim }, (_, i) => f(Math.floor(i / dim), i % dim));

/** h5wasm cannot write an lzf dataset; write a gzip one in the v1 object-header layout and patch its filter to lzf. */
async function writeLzfFile(path: string): Promise<void> {
  const { h5 } = await loadHdf5();
  const f = new h5.File(path, 'w', { libver: ['earliest', 'v108'] });
  f.create_dataset({ name: 'vid', data: rows(20, 3, (r, d) => r * 10 + d), shape: [20, 3], dtype: '<f4', chunks: [10, 3], compression: 'gzip' });
  f.close();
  const buf = readFileSync(path);
  const name = buf.indexOf(Buffer.from('deflate\0'));
  expect(name).toBeGreaterThan(8);
  buf.writeUInt16LE(32000, name - 8); // filter pipeline v1: id, name length, flags, #values, name
  Buffer.from('lzf\0\0\0\0\0').copy(buf, name);
  writeFileSync(path, buf);
}

describe('FeatureFile: one [N, D] dataset per video (CLEP layout), read with h5wasm', () => {
  const path = join(dir, 'features.h5');
  beforeAll(async () => {
    await writeFeatureFile(path, [
      { key: 'vidA', rows: 50, dim: 4, data: rows(50, 4, (r, d) => r + d / 10) },
      { key: 'vidB', rows: 3, dim: 4, data: rows(3, 4, (r, d) => -r - d) },
      { key: 'empty', rows: 0, dim: 4, data: new Float32Array(0) },
    ]);
  });

  it('lists the datasets and reads shapes, with gzip compression', async () => {
    const f = await FeatureFile.open(path);
    expect([...f.keys].sort()).toEqual(['empty', 'vidA', 'vidB']);
    expect(f.info('vidA')).toEqual({ rows: 50, dim: 4, dtype: 'float32' });
    expect(f.info('empty')).toEqual({ rows: 0, dim: 4, dtype: 'float32' });
    expect(f.has('nope')).toBe(false);
    f.close();
  });

  it('reads row blocks exactly', async () => {
    const f = await FeatureFile.open(path);
    expect(Array.from(f.readRows('vidA', 2, 4))).toEqual(Array.from(rows(2, 4, (r, d) => r + 2 + d / 10)));
    expect(Array.from(f.readAll('vidB'))).toEqual(Array.from(rows(3, 4, (r, d) => -r - d)));
    f.close();
  });

  it('readMeans equals the plain mean of each window, however windows are grouped into blocks', async () => {
    const f = await FeatureFile.open(path);
    const windows = [
      { key: 'vidA', start: 40, end: 50 },
      { key: 'vidB', start: 0, end: 3 },
      { key: 'vidA', start: 0, end: 1 },
      { key: 'vidA', start: 5, end: 12 },
      { key: 'vidA', start: 10, end: 11 },
    ];
    const expected = windows.flatMap((w) => {
      const block = f.readRows(w.key, w.start, w.end);
      return [0, 1, 2, 3].map((d) => {
        let s = 0;
        for (let r = 0; r < w.end - w.start; r++) s += block[r * 4 + d]!;
        return s / (w.end - w.start);
      });
    });
    for (const options of [{}, { maxBlockRows: 2, maxGapRows: 0 }, { maxBlockRows: 1000, maxGapRows: 1000 }]) {
      const got = Array.from(f.readMeans(windows, options));
      got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    }
    f.close();
  });

  it('a NaN or infinite feature is an error when read, naming the file, dataset and row (rows no window uses are not read into a mean)', async () => {
    const bad = join(dir, 'nan-rows.h5');
    await writeFeatureFile(bad, [
      { key: 'ok', rows: 4, dim: 2, data: rows(4, 2, (r) => r) },
      { key: 'vid', rows: 60, dim: 2, data: rows(60, 2, (r, d) => (r === 48 && d === 1 ? NaN : r === 50 ? -Infinity : r)) },
    ]);
    const f = await FeatureFile.open(bad, {});
    expect(() => f.readRows('vid', 40, 60)).toThrow(`${bad}: dataset 'vid': row 48 holds NaN (features must be finite numbers)`);
    expect(() => f.readRows('vid', 49, 51)).toThrow(`${bad}: dataset 'vid': row 50 holds -Infinity (features must be finite numbers)`);
    expect(() => f.readMeans([{ key: 'ok', start: 0, end: 4 }, { key: 'vid', start: 40, end: 49 }])).toThrow(`${bad}: dataset 'vid': row 48 holds NaN (features must be finite numbers)`);
    // Rows 48 and 50 lie in the gap between these windows: read in the same block, but not used.
    expect(Array.from(f.readMeans([{ key: 'vid', start: 46, end: 48 }, { key: 'vid', start: 51, end: 53 }], { maxGapRows: 10 }))).toEqual([46.5, 46.5, 51.5, 51.5]);
    expect(Array.from(f.readRows('vid', 0, 2))).toEqual([0, 0, 1, 1]);
    f.close();
  });

  it('names the file and dataset for a missing dataset or rows outside it', async () => {
    const f = await FeatureFile.open(path);
    expect(() => f.info('nope')).toThrow(`${path}: dataset 'nope': does not exist`);
    expect(() => f.readRows('vidB', 2, 5)).toThrow(`${path}: dataset 'vidB': rows [2, 5) are outside its 3 rows`);
    expect(() => f.readMeans([{ key: 'empty', start: 0, end: 0 }])).toThrow(`${path}: dataset 'empty': window rows [0, 0) are empty or outside its 0 rows`);
    f.close();
  });

  it('converts float64 datasets to float32 and reads datasets under a group', async () => {
    const p = join(dir, 'f64.h5');
    await writeFeatureFile(p, [{ key: 'v', rows: 2, dim: 2, data: Float64Array.from([0.5, 1.5, 2.5, 3.5]) }], { dtype: 'float64', gzip: null });
    const f = await FeatureFile.open(p);
    expect(f.info('v').dtype).toBe('float64');
    expect(f.readAll('v')).toEqual(Float32Array.from([0.5, 1.5, 2.5, 3.5]));
    f.close();
    const { h5 } = await loadHdf5();
    const g = join(dir, 'group.h5');
    const w = new h5.File(g, 'w');
    w.create_group('features').create_dataset({ name: 'v', data: Float32Array.from([1, 2]), shape: [1, 2], dtype: '<f4' });
    w.close();
    const fg = await FeatureFile.open(g, { group: 'features' });
    expect(fg.keys).toEqual(['v']);
    expect(fg.readAll('v')).toEqual(Float32Array.from([1, 2]));
    fg.close();
    await expect(FeatureFile.open(g, { group: 'nope' })).rejects.toThrow(`${g}: has no group 'nope'`);
  });

  it('rejects datasets that are not 2-D float', async () => {
    const { h5 } = await loadHdf5();
    const p = join(dir, 'bad-shapes.h5');
    const w = new h5.File(p, 'w');
    w.create_dataset({ name: 'flat', data: Float32Array.from([1, 2, 3]), shape: [3], dtype: '<f4' });
    w.create_dataset({ name: 'ints', data: Int32Array.from([1, 2, 3, 4]), shape: [2, 2], dtype: '<i4' });
    w.close();
    const f = await FeatureFile.open(p);
    expect(() => f.info('flat')).toThrow(`${p}: dataset 'flat': must be 2-D [frames, dim], has shape [3]`);
    expect(() => f.info('ints')).toThrow(`${p}: dataset 'ints': must hold float32 or float64 values, has "<i"`);
    f.close();
  });

  it('rejects a dataset whose dimension differs from the others', async () => {
    const p = join(dir, 'dims.h5');
    await writeFeatureFile(p, [
      { key: 'a', rows: 1, dim: 2, data: new Float32Array(2) },
      { key: 'b', rows: 1, dim: 3, data: new Float32Array(3) },
    ]);
    const f = await FeatureFile.open(p);
    f.info('a');
    expect(() => f.info('b')).toThrow(`${p}: dataset 'b': has feature dimension 3, other datasets have 2`);
    f.close();
  });
});

describe('bad HDF5 files fail with the file named, never with wrong data', () => {
  it('a missing file, an empty file, a file that is not HDF5', async () => {
    await expect(FeatureFile.open(join(dir, 'missing.h5'))).rejects.toThrow(`${join(dir, 'missing.h5')}: HDF5 file not found`);
    const empty = write(join(dir, 'empty.h5'), '');
    await expect(FeatureFile.open(empty)).rejects.toThrow(`${empty}: is empty, expected an HDF5 file`);
    const text = write(join(dir, 'text.h5'), 'video_uid,feature\nabc,1\n'.repeat(100));
    await expect(FeatureFile.open(text)).rejects.toThrow(`${text}: is not an HDF5 file (no HDF5 signature found)`);
  });

  it('a truncated file: the HDF5 library reason, with the file named', async () => {
    const full = join(dir, 'full.h5');
    await writeFeatureFile(full, [{ key: 'v', rows: 400, dim: 8, data: rows(400, 8, (r) => r) }], { gzip: null });
    const bytes = readFileSync(full);
    const cut = write(join(dir, 'truncated.h5'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    let message = '';
    try {
      const f = await FeatureFile.open(cut);
      f.readAll('v');
      f.close();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(new RegExp(`^${cut.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: cannot open the HDF5 file: HDF5 error: truncated file`));
  });

  it("rejects h5py's lzf filter (id 32000) before reading, with the fix in the message", async () => {
    const p = join(dir, 'lzf.h5');
    await writeLzfFile(p);
    const f = await FeatureFile.open(p);
    expect(() => f.readAll('vid')).toThrow(
      `${p}: dataset 'vid': is compressed with h5py's lzf filter (id 32000), which h5wasm cannot decode (it would return wrong values without an error); ` +
        're-save it with gzip (h5py: create_dataset(name, data=..., compression="gzip")), which h5wasm reads',
    );
    f.close();
  });

  it('checkFilters accepts the filters h5wasm ships and rejects any other id', () => {
    expect(() => checkFilters([{ id: 2, name: 'shuffle' }, { id: 1, name: 'deflate' }, { id: 3 }, { id: 4 }, { id: 6 }], 'f.h5', 'v')).not.toThrow();
    expect(() => checkFilters([{ id: 32001, name: 'blosc' }], 'f.h5', 'v')).toThrow(
      "f.h5: dataset 'v': uses the HDF5 filter id 32001 (blosc), which h5wasm cannot decode; supported: 1 deflate (gzip), 2 shuffle, 3 fletcher32, 4 szip, 5 nbit, 6 scaleoffset; " +
        're-save it with gzip (h5py: create_dataset(name, data=..., compression="gzip")), which h5wasm reads',
    );
    expect(() => checkFilters([{ id: 1 }, { id: 32000, name: 'lzf' }], 'f.h5', 'v')).toThrow("f.h5: dataset 'v': is compressed with h5py's lzf filter (id 32000)");
  });

  it('leaves h5wasm printing (not throwing) for other code once a call is done', async () => {
    const { module } = await loadHdf5();
    const p = join(dir, 'x.h5');
    await writeFeatureFile(p, [{ key: 'v', rows: 1, dim: 1, data: new Float32Array(1) }]);
    // After our guarded calls the default handler is back: a failing call returns without throwing.
    module.deactivate_throwing_error_handler();
    const f = await FeatureFile.open(p);
    expect(() => f.readRows('v', 0, 1)).not.toThrow();
    f.close();
  });
});
