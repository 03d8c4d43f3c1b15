import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy, NpyRows, readNpy, writeNpy } from '../../plugins/datasets/formats/npy.ts';
import { tempDir, write } from './helpers.ts';

const dir = tempDir();

/** A .npy file as numpy.save writes it (v1.0, header padded to 64 bytes). */
function numpyBytes(descr: string, shape: string, body: Buffer, fortran = false, major = 1): Buffer {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;
  const pre = major === 1 ? 10 : 12;
  const pad = (64 - ((pre + dict.length + 1) % 64)) % 64;
  const header = Buffer.from(`${dict}${' '.repeat(pad)}\n`, 'latin1');
  const head = Buffer.alloc(pre);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]).copy(head);
  if (major === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);
  return Buffer.concat([head, header, body]);
}

describe('.npy reader and writer (NumPy format 1.0/2.0)', () => {
  it('writes what numpy.save writes for a float32 [2, 3] array, and reads it back', () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const bytes = encodeNpy(data, [2, 3]);
    expect(bytes.equals(numpyBytes('<f4', '(2, 3)', Buffer.from(data.buffer)))).toBe(true);
    expect((bytes.indexOf(0x0a) + 1) % 64).toBe(0);
    expect(decodeNpy(bytes, 'x.npy')).toEqual({ data, shape: [2, 3], dtype: 'float32' });
  });

  it('round-trips float64 through a file, and 1-D shapes as (n,)', () => {
    const p = join(dir, 'a.npy');
    writeNpy(p, Float64Array.from([0.1, -2.5]), [2]);
    expect(readNpy(p)).toEqual({ data: Float64Array.from([0.1, -2.5]), shape: [2], dtype: 'float64' });
  });

  it('reads format 2.0, big-endian and Fortran-order files', () => {
    const le = Buffer.from(Float32Array.from([1, 2, 3, 4]).buffer);
    expect(decodeNpy(numpyBytes('<f4', '(2, 2)', le, false, 2), 'v2.npy').data).toEqual(Float32Array.from([1, 2, 3, 4]));
    const be = Buffer.from(Float64Array.from([1.5, -3]).buffer).swap64();
    expect(decodeNpy(numpyBytes('>f8', '(2,)', be), 'be.npy').data).toEqual(Float64Array.from([1.5, -3]));
    // Fortran order: column-major [[1, 2, 3], [4, 5, 6]] is stored 1 4 2 5 3 6.
    const f = Buffer.from(Float32Array.from([1, 4, 2, 5, 3, 6]).buffer);
    expect(decodeNpy(numpyBytes('<f4', '(2, 3)', f, true), 'f.npy').data).toEqual(Float32Array.from([1, 2, 3, 4, 5, 6]));
  });

  it('fails with the file named on a bad magic, another dtype, or truncated data', () => {
    expect(() => decodeNpy(Buffer.from('PK\x03\x04 this is a zip'), 'e.npy')).toThrow('e.npy: is not a NumPy .npy file (the "\\x93NUMPY" magic is missing)');
    expect(() => decodeNpy(numpyBytes('<i8', '(2,)', Buffer.alloc(16)), 'i.npy')).toThrow("i.npy: holds dtype '<i8'; Vidra reads float32 ('<f4') and float64 ('<f8') arrays");
    const full = encodeNpy(new Float32Array(160), [10, 16]);
    expect(() => decodeNpy(full.subarray(0, full.length - 320), 't.npy')).toThrow(
      't.npy: is truncated: the header says shape (10, 16) float32 = 640 bytes of data, the file has 320',
    );
    expect(() => decodeNpy(full.subarray(0, 40), 'h.npy')).toThrow('h.npy: is truncated inside the .npy header (a header of 118 bytes)');
    expect(() => readNpy(join(dir, 'none.npy'))).toThrow(`${join(dir, 'none.npy')}: .npy file not found`);
  });
});

describe('NpyRows: rows of a large 2-D .npy read on demand', () => {
  it('reads any rows in any order without loading the file', () => {
    const p = join(dir, 'rows.npy');
    writeNpy(p, Float32Array.from({ length: 50 }, (_, i) => i), [10, 5]);
    const f = NpyRows.open(p);
    expect([f.rows, f.dim]).toEqual([10, 5]);
    expect(Array.from(f.read([3, 0, 3]))).toEqual([15, 16, 17, 18, 19, 0, 1, 2, 3, 4, 15, 16, 17, 18, 19]);
    expect(() => f.read([10])).toThrow(`${p}: row 10 does not exist (the array has 10 rows)`);
    f.close();
  });

  it('refuses 1-D arrays and truncated files', () => {
    const one = join(dir, 'one.npy');
    writeNpy(one, new Float32Array(4), [4]);
    expect(() => NpyRows.open(one)).toThrow(`${one}: holds an array of shape (4), expected 2-D [rows, dim]`);
    const cut = write(join(dir, 'cut.npy'), encodeNpy(new Float32Array(8), [4, 2]).subarray(0, 128 + 8));
    expect(() => NpyRows.open(cut)).toThrow(`${cut}: is truncated: the header says shape (4, 2) float32 = 32 bytes of data, the file has 8`);
  });
});
