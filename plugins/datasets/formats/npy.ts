// NumPy .npy files (format versions 1.0, 2.0 and 3.0; numpy/lib/format.py): the magic "\x93NUMPY", major and
// minor version bytes, a little-endian header length (uint16 in v1, uint32 in v2/v3), an ASCII Python
// dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (M, D), } padded with spaces and a newline
// so the data starts on a 64-byte boundary, then the raw array. Vidra reads and writes float32/float64
// arrays (text embeddings [num_narrations, D]); big-endian and Fortran-order files are converted.

import { closeSync, fstatSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { DataFormatError, fail } from './errors.ts';

export interface NpyArray {
  data: Float32Array | Float64Array;
  shape: number[];
  dtype: 'float32' | 'float64';
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

export interface NpyHeader {
  shape: number[];
  dtype: 'float32' | 'float64';
  bigEndian: boolean;
  fortranOrder: boolean;
  /** Byte offset of the data. */
  dataStart: number;
  /** Bytes of data the header announces. */
  nbytes: number;
}

/** Parses the header at the start of `buf` (which must hold at least the whole header). */
export function parseNpyHeader(buf: Buffer, file: string): NpyHeader {
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) fail(file, undefined, 'is not a NumPy .npy file (the "\\x93NUMPY" magic is missing)');
  const major = buf[6]!;
  if (major < 1 || major > 3) fail(file, undefined, `has .npy format version ${major}.${buf[7]}, expected 1.0, 2.0 or 3.0`);
  const lenBytes = major === 1 ? 2 : 4;
  if (buf.length < 8 + lenBytes) fail(file, undefined, 'is truncated inside the .npy header');
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const dataStart = 8 + lenBytes + headerLen;
  if (buf.length < dataStart) fail(file, undefined, `is truncated inside the .npy header (a header of ${headerLen} bytes)`);
  const header = buf.subarray(8 + lenBytes, dataStart).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(file, undefined, `has a malformed .npy header: ${header.trim()}`);
  const shape = shapeText
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '')
    .map((x) => {
      const n = Number(x.replace(/L$/, ''));
      if (!Number.isInteger(n) || n < 0) fail(file, undefined, `has a malformed shape (${shapeText}) in its .npy header`);
      return n;
    });
  const m = /^([<>|=])(f)([48])$/.exec(descr);
  if (!m) fail(file, undefined, `holds dtype '${descr}'; Vidra reads float32 ('<f4') and float64 ('<f8') arrays`);
  const size = Number(m[3]);
  const count = shape.reduce((a, b) => a * b, 1);
  return { shape, dtype: size === 4 ? 'float32' : 'float64', bigEndian: m[1] === '>', fortranOrder: fortran === 'True', dataStart, nbytes: count * size };
}

function truncated(file: string, h: NpyHeader, have: number): never {
  fail(file, undefined, `is truncated: the header says shape (${h.shape.join(', ')}) ${h.dtype} = ${h.nbytes} bytes of data, the file has ${have}`);
}

function toFloats(raw: Buffer, h: NpyHeader, count: number): Float32Array | Float64Array {
  const copy = Buffer.from(raw);
  if (h.bigEndian) {
    if (h.dtype === 'float32') copy.swap32();
    else copy.swap64();
  }
  return h.dtype === 'float32' ? new Float32Array(copy.buffer, copy.byteOffset, count) : new Float64Array(copy.buffer, copy.byteOffset, count);
}

/** Decodes .npy bytes; `file` names the source in messages. */
export function decodeNpy(bytes: Uint8Array, file: string): NpyArray {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = parseNpyHeader(buf, file);
  if (buf.length - h.dataStart < h.nbytes) truncated(file, h, buf.length - h.dataStart);
  const count = h.shape.reduce((a, b) => a * b, 1);
  let data = toFloats(buf.subarray(h.dataStart, h.dataStart + h.nbytes), h, count);
  if (h.fortranOrder && h.shape.length === 2) data = transpose(data, h.shape[1]!, h.shape[0]!);
  else if (h.fortranOrder && h.shape.length > 2) fail(file, undefined, 'is a Fortran-order array of rank > 2, which Vidra does not read');
  return { data, shape: h.shape, dtype: h.dtype };
}

/**
 * Rows of a 2-D C-order .npy file read on demand (text embeddings of millions of narrations do not fit in
 * memory): the header is parsed once, rows are read at their byte offsets.
 */
export class NpyRows {
  readonly rows: number;
  readonly dim: number;
  private readonly rowBytes: number;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly header: NpyHeader,
  ) {
    this.rows = header.shape[0]!;
    this.dim = header.shape[1]!;
    this.rowBytes = this.dim * (header.dtype === 'float32' ? 4 : 8);
  }

  static open(path: string): NpyRows {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') fail(path, undefined, '.npy file not found', err);
      throw new DataFormatError(`${path}: cannot read the .npy file (${(err as Error).message})`, { cause: err });
    }
    try {
      const size = fstatSync(fd).size;
      const head = Buffer.alloc(Math.min(size, 65536 + 12));
      readSync(fd, head, 0, head.length, 0);
      const h = parseNpyHeader(head, path);
      if (h.shape.length !== 2) fail(path, undefined, `holds an array of shape (${h.shape.join(', ')}), expected 2-D [rows, dim]`);
      if (h.fortranOrder) fail(path, undefined, 'is in Fortran order; save it in C order (numpy.ascontiguousarray) to read rows on demand');
      if (size - h.dataStart < h.nbytes) truncated(path, h, size - h.dataStart);
      return new NpyRows(path, fd, h);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** The rows at `indices` as float32 [indices.length, dim]. */
  read(indices: readonly number[]): Float32Array {
    const out = new Float32Array(indices.length * this.dim);
    const buf = Buffer.alloc(this.rowBytes);
    indices.forEach((r, k) => {
      if (!Number.isInteger(r) || r < 0 || r >= this.rows) fail(this.path, undefined, `row ${r} does not exist (the array has ${this.rows} rows)`);
      readSync(this.fd, buf, 0, this.rowBytes, this.header.dataStart + r * this.rowBytes);
      out.set(toFloats(buf, this.header, this.dim), k * this.dim);
    });
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function transpose<T extends Float32Array | Float64Array>(a: T, rows: number, cols: number): T {
  const out = new (a.constructor as new (n: number) => T)(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

export function readNpy(path: string): NpyArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') fail(path, undefined, '.npy file not found', err);
    throw new DataFormatError(`${path}: cannot read the .npy file (${(err as Error).message})`, { cause: err });
  }
  return decodeNpy(bytes, path);
}

/** Encodes a C-order little-endian array; version 1.0 unless the header needs more than 65535 bytes. */
export function encodeNpy(data: Float32Array | Float64Array, shape: readonly number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new DataFormatError(`encodeNpy: ${data.length} values for shape (${shape.join(', ')})`);
  const descr = data instanceof Float32Array ? '<f4' : '<f8';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let major = 1;
  let total = 10 + dict.length + 1;
  let pad = (64 - (total % 64)) % 64;
  if (dict.length + 1 + pad > 0xffff) {
    major = 2;
    total = 12 + dict.length + 1;
    pad = (64 - (total % 64)) % 64;
  }
  const header = Buffer.from(`${dict}${' '.repeat(pad)}\n`, 'latin1');
  const pre = Buffer.alloc(major === 1 ? 10 : 12);
  MAGIC.copy(pre, 0);
  pre[6] = major;
  pre[7] = 0;
  if (major === 1) pre.writeUInt16LE(header.length, 8);
  else pre.writeUInt32LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([pre, header, isLittleEndian() ? body : swapped(body, data.BYTES_PER_ELEMENT)]);
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

function swapped(b: Buffer, size: number): Buffer {
  const c = Buffer.from(b);
  return size === 4 ? c.swap32() : c.swap64();
}

/** Writes an .npy file atomically (temporary file, then rename). */
export function writeNpy(path: string, data: Float32Array | Float64Array, shape: readonly number[]): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, encodeNpy(data, shape));
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
