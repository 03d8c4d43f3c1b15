// Precomputed video features in HDF5, read with h5wasm (ml-spec §4: CLEP's
// `ego4d/research/dataset.py::save_ego4d_features_to_hdf5` writes one dataset per video uid, shape [N, D]).
//
// Three things h5wasm does not do for us, done here:
//   * It does not throw on HDF5 errors by default: it prints "HDF5-DIAG" to stderr and returns -1 ids or
//     wrong data. Every call goes through `guard`, which turns on h5wasm's throwing error handler for the
//     duration of the call and turns the HDF5 error stack into a message naming the file and dataset.
//   * It cannot decode h5py's `lzf` filter (id 32000) and then returns zeros/garbage without an error.
//     Each dataset's filter pipeline is checked before its first read: only the filters h5wasm ships
//     (deflate/gzip, shuffle, fletcher32, szip, nbit, scaleoffset) are accepted.
//   * Random row reads are slow (~200k rows/s for 8-row reads) while 1,000-row blocks read at 4+ GB/s:
//     `readMeans` coalesces the windows of a batch into a few block reads per video.
// h5wasm is imported lazily (its wasm start-up stays off the CLI's path).

import { closeSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import type { Dataset as H5Dataset, File as H5File, Group as H5Group } from 'h5wasm/node';
import { DataFormatError, fail } from './errors.ts';

type H5Lib = (typeof import('h5wasm/node'))['default'];
type H5Module = Awaited<H5Lib['ready']>;

let loading: Promise<{ h5: H5Lib; module: H5Module }> | undefined;

/** The h5wasm library, loaded once. */
export function loadHdf5(): Promise<{ h5: H5Lib; module: H5Module }> {
  loading ??= import('h5wasm/node').then(async (m) => {
    const h5 = m.default;
    const module = await h5.ready;
    return { h5, module };
  });
  return loading;
}

let guardDepth = 0;

/** Runs an h5wasm call with HDF5 errors thrown (not printed), rethrown as DataFormatError `<file>: <what>: <HDF5 reason>`. */
function guard<T>(module: H5Module, file: string, what: string, fn: () => T): T {
  if (guardDepth++ === 0) module.activate_throwing_error_handler();
  try {
    return fn();
  } catch (err) {
    if (err instanceof DataFormatError) throw err;
    return fail(file, undefined, `${what}: ${hdf5Reason(err)}`, err);
  } finally {
    if (--guardDepth === 0) module.deactivate_throwing_error_handler();
  }
}

/** The innermost reason of an HDF5 error stack ("file signature not found"), else the error's first line. */
export function hdf5Reason(err: unknown): string {
  const text = String(err instanceof Error ? err.message : err);
  let reason: string | undefined;
  for (const line of text.split('\n')) {
    const m = /#\d+: .* in [\w]+\(\): (.*)$/.exec(line);
    if (m) reason = m[1]!.trim();
  }
  return `HDF5 error: ${reason ?? text.split('\n')[0]!.trim()}`;
}

/** Filters h5wasm can decode (HDF5 filter ids). */
export const SUPPORTED_FILTERS: Readonly<Record<number, string>> = {
  1: 'deflate (gzip)',
  2: 'shuffle',
  3: 'fletcher32',
  4: 'szip',
  5: 'nbit',
  6: 'scaleoffset',
};
export const LZF_FILTER_ID = 32000;

/** Rejects a dataset whose filter pipeline h5wasm cannot decode (lzf, blosc, bitshuffle, zstd, …). */
export function checkFilters(filters: ReadonlyArray<{ id: number; name?: string }>, file: string, dataset: string): void {
  for (const f of filters) {
    if (SUPPORTED_FILTERS[f.id] !== undefined) continue;
    const fix = `re-save it with gzip (h5py: create_dataset(name, data=..., compression="gzip")), which h5wasm reads`;
    if (f.id === LZF_FILTER_ID) {
      fail(file, `dataset '${dataset}'`, `is compressed with h5py's lzf filter (id 32000), which h5wasm cannot decode (it would return wrong values without an error); ${fix}`);
    }
    fail(
      file,
      `dataset '${dataset}'`,
      `uses the HDF5 filter id ${f.id}${f.name ? ` (${f.name})` : ''}, which h5wasm cannot decode; supported: ${Object.entries(SUPPORTED_FILTERS).map(([id, n]) => `${id} ${n}`).join(', ')}; ${fix}`,
    );
  }
}

/** h5wasm's entity kind ('Dataset', 'Group', …); references have none. */
function typeOf(entity: object): string | undefined {
  return (entity as { type?: string }).type;
}

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** HDF5 files start with a signature at byte 0, 512, 1024, 2048, … (after a user block). */
export function checkHdf5Signature(path: string): void {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) fail(path, undefined, 'is a directory, expected an HDF5 file');
    size = st.size;
  } catch (err) {
    if (err instanceof DataFormatError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') fail(path, undefined, 'HDF5 file not found', err);
    fail(path, undefined, `cannot read the HDF5 file (${(err as Error).message})`, err);
  }
  if (size === 0) fail(path, undefined, 'is empty, expected an HDF5 file');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(8);
    for (let at = 0; at + 8 <= size; at = at === 0 ? 512 : at * 2) {
      if (readSync(fd, buf, 0, 8, at) === 8 && buf.equals(SIGNATURE)) return;
    }
  } finally {
    closeSync(fd);
  }
  fail(path, undefined, 'is not an HDF5 file (no HDF5 signature found)');
}

export interface FeatureInfo {
  rows: number;
  dim: number;
  dtype: 'float32' | 'float64';
}

/** A window of rows [start, end) of one video's features. */
export interface RowWindow {
  key: string;
  start: number;
  end: number;
}

export interface ReadMeansOptions {
  /** Largest block read at once (rows); default 16 MiB worth of rows. */
  maxBlockRows?: number;
  /**
   * Windows whose gap is at most this many rows share a block; default 256 KiB worth of rows (~85 rows of
   * 768 floats): reading that many unused rows costs about as much as one more h5wasm call.
   */
  maxGapRows?: number;
}

/**
 * One HDF5 features file: datasets named by video id (at the root or under `group`), each [rows, dim]
 * float32/float64. The file stays open until `close()`.
 */
export class FeatureFile {
  private readonly infos = new Map<string, FeatureInfo>();
  private readonly keySet: Set<string>;
  /** The feature dimension, fixed by the first dataset read. */
  dim: number | undefined;

  private constructor(
    readonly path: string,
    private readonly module: H5Module,
    private readonly file: H5File,
    private readonly root: H5Group,
    private readonly prefix: string,
    readonly keys: readonly string[],
  ) {
    this.keySet = new Set(keys);
  }

  static async open(path: string, options: { group?: string | null } = {}): Promise<FeatureFile> {
    checkHdf5Signature(path);
    const { h5, module } = await loadHdf5();
    const file = guard(module, path, 'cannot open the HDF5 file', () => new h5.File(path, 'r'));
    try {
      const group = options.group ? options.group.replace(/^\/+|\/+$/g, '') : '';
      const root = group
        ? guard(module, path, `cannot open the group '${group}'`, () => {
            const g = file.get(group);
            if (!g || typeOf(g) !== 'Group') fail(path, undefined, `has no group '${group}'`);
            return g as H5Group;
          })
        : file;
      const keys = guard(module, path, 'cannot list the datasets', () => root.keys());
      return new FeatureFile(path, module, file, root, group ? `${group}/` : '', keys);
    } catch (err) {
      file.close();
      throw err;
    }
  }

  has(key: string): boolean {
    return this.keySet.has(key);
  }

  /** The HDF5 path of a video's dataset (under `group`), as messages name it. */
  datasetPath(key: string): string {
    return this.prefix + key;
  }

  /** Shape and type of one video's features; checks its filters, rank and dtype once. */
  info(key: string): FeatureInfo {
    const cached = this.infos.get(key);
    if (cached) return cached;
    const rec = `dataset '${this.prefix}${key}'`;
    if (!this.keySet.has(key)) fail(this.path, rec, 'does not exist');
    const info = guard(this.module, this.path, `cannot read ${rec}`, () => {
      const ds = this.dataset(key);
      checkFilters(ds.filters, this.path, this.prefix + key);
      const shape = ds.shape;
      const meta = ds.metadata;
      if (!shape || shape.length !== 2) fail(this.path, rec, `must be 2-D [frames, dim], has shape [${shape?.join(', ') ?? ''}]`);
      if (meta.type !== 1 || (meta.size !== 4 && meta.size !== 8)) {
        fail(this.path, rec, `must hold float32 or float64 values, has ${JSON.stringify(ds.dtype)}`);
      }
      return { rows: shape[0]!, dim: shape[1]!, dtype: meta.size === 4 ? 'float32' : 'float64' } as FeatureInfo;
    });
    if (this.dim === undefined) this.dim = info.dim;
    else if (info.dim !== this.dim) fail(this.path, rec, `has feature dimension ${info.dim}, other datasets have ${this.dim}`);
    this.infos.set(key, info);
    return info;
  }

  private dataset(key: string): H5Dataset {
    const ds = this.root.get(key);
    if (!ds || typeOf(ds) !== 'Dataset') fail(this.path, `'${this.prefix}${key}'`, 'is not a dataset');
    return ds as H5Dataset;
  }

  /** Rows [start, end) as float32, row-major [end − start, dim]; a NaN or infinite value is an error naming its row. */
  readRows(key: string, start: number, end: number): Float32Array {
    const data = this.readBlock(key, start, end);
    const dim = this.info(key).dim;
    for (let i = 0; i < data.length; i++) if (data[i]! - data[i]! !== 0) this.notFinite(key, start + Math.floor(i / dim), data[i]!);
    return data;
  }

  /** A feature row that holds NaN or ±Inf: caught when read, so the message names the file, dataset and row. */
  private notFinite(key: string, row: number, value: number): never {
    fail(this.path, `dataset '${this.prefix}${key}'`, `row ${row} holds ${value} (features must be finite numbers)`);
  }

  /** Rows [start, end) as stored, unchecked (readMeans checks the rows its windows use). */
  private readBlock(key: string, start: number, end: number): Float32Array {
    const info = this.info(key);
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= info.rows)) {
      fail(this.path, `dataset '${this.prefix}${key}'`, `rows [${start}, ${end}) are outside its ${info.rows} rows`);
    }
    if (start === end) return new Float32Array(0);
    const data = guard(this.module, this.path, `cannot read rows [${start}, ${end}) of dataset '${this.prefix}${key}'`, () =>
      this.dataset(key).slice([[start, end]]),
    );
    if (data instanceof Float32Array) return data;
    if (data instanceof Float64Array) return Float32Array.from(data);
    fail(this.path, `dataset '${this.prefix}${key}'`, 'returned no numeric data');
  }

  readAll(key: string): Float32Array {
    return this.readRows(key, 0, this.info(key).rows);
  }

  /**
   * The mean row of each window, as float32 [windows.length, dim]. Windows of the same video are read in
   * blocks: sorted by start, merged while the gap is ≤ maxGapRows and the block ≤ maxBlockRows.
   */
  readMeans(windows: readonly RowWindow[], options: ReadMeansOptions = {}): Float32Array {
    const rowBytes = 4 * Math.max(1, this.dim ?? (windows.length ? this.info(windows[0]!.key).dim : 1));
    const maxBlock = options.maxBlockRows ?? Math.max(1, Math.floor((16 << 20) / rowBytes));
    const maxGap = options.maxGapRows ?? Math.floor((256 << 10) / rowBytes);
    const byKey = new Map<string, number[]>();
    for (let w = 0; w < windows.length; w++) {
      const win = windows[w]!;
      const info = this.info(win.key);
      if (!(Number.isInteger(win.start) && Number.isInteger(win.end) && 0 <= win.start && win.start < win.end && win.end <= info.rows)) {
        fail(this.path, `dataset '${this.prefix}${win.key}'`, `window rows [${win.start}, ${win.end}) are empty or outside its ${info.rows} rows`);
      }
      const list = byKey.get(win.key);
      if (list) list.push(w);
      else byKey.set(win.key, [w]);
    }
    const dim = this.dim ?? 0;
    const out = new Float32Array(windows.length * dim);
    const acc = new Float64Array(dim);
    for (const [key, list] of byKey) {
      list.sort((a, b) => windows[a]!.start - windows[b]!.start || windows[a]!.end - windows[b]!.end);
      let i = 0;
      while (i < list.length) {
        const blockStart = windows[list[i]!]!.start;
        let blockEnd = windows[list[i]!]!.end;
        let j = i + 1;
        while (j < list.length) {
          const w = windows[list[j]!]!;
          const end = Math.max(blockEnd, w.end);
          if (w.start - blockEnd > maxGap || end - blockStart > maxBlock) break;
          blockEnd = end;
          j++;
        }
        const block = this.readBlock(key, blockStart, blockEnd);
        for (let k = i; k < j; k++) {
          const w = windows[list[k]!]!;
          acc.fill(0);
          for (let r = w.start; r < w.end; r++) {
            const base = (r - blockStart) * dim;
            for (let d = 0; d < dim; d++) acc[d]! += block[base + d]!;
          }
          // NaN/±Inf in any row makes the sum so; only then look for the row (rows in gaps are not used).
          for (let d = 0; d < dim; d++) if (acc[d]! - acc[d]! !== 0) this.findNotFinite(key, block, blockStart, w.start, w.end, dim);
          const n = w.end - w.start;
          const o = list[k]! * dim;
          for (let d = 0; d < dim; d++) out[o + d] = acc[d]! / n;
        }
        i = j;
      }
    }
    return out;
  }

  private findNotFinite(key: string, block: Float32Array, blockStart: number, start: number, end: number, dim: number): void {
    for (let r = start; r < end; r++) {
      const base = (r - blockStart) * dim;
      for (let d = 0; d < dim; d++) if (block[base + d]! - block[base + d]! !== 0) this.notFinite(key, r, block[base + d]!);
    }
  }

  close(): void {
    this.file.close();
  }
}

export interface WriteFeaturesOptions {
  /** gzip level 1–9, or null for no compression. Default 4. */
  gzip?: number | null;
  /** Rows per chunk of compressed datasets. Default 64. */
  chunkRows?: number;
  dtype?: 'float32' | 'float64';
}

/**
 * Writes [rows, dim] float arrays as one dataset per key (CLEP layout), atomically: a temporary file in
 * the same directory, renamed over `path` once closed.
 */
export async function writeFeatureFile(
  path: string,
  datasets: Iterable<{ key: string; data: Float32Array | Float64Array; rows: number; dim: number }>,
  options: WriteFeaturesOptions = {},
): Promise<void> {
  const { h5, module } = await loadHdf5();
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const gzip = options.gzip === undefined ? 4 : options.gzip;
  // h5wasm reads dtypes as Python struct codes and ignores a size suffix: '<f8' would be float32, '<d' is float64.
  const dtype = (options.dtype ?? 'float32') === 'float32' ? '<f' : '<d';
  let file: H5File | undefined;
  try {
    file = guard(module, tmp, 'cannot create the HDF5 file', () => new h5.File(tmp, 'w'));
    for (const { key, data, rows, dim } of datasets) {
      if (data.length !== rows * dim) throw new DataFormatError(`${path}: dataset '${key}': ${data.length} values for shape [${rows}, ${dim}]`);
      const values = dtype === '<f' ? (data instanceof Float32Array ? data : Float32Array.from(data)) : data instanceof Float64Array ? data : Float64Array.from(data);
      const compress = gzip !== null && rows > 0 && dim > 0;
      const f = file;
      guard(module, tmp, `cannot write dataset '${key}'`, () =>
        f.create_dataset({
          name: key,
          data: values,
          shape: [rows, dim],
          dtype,
          ...(compress ? { chunks: [Math.min(rows, options.chunkRows ?? 64), dim], compression: 'gzip' as const, compression_opts: gzip } : {}),
        }),
      );
    }
    file.close();
    file = undefined;
    renameSync(tmp, path);
  } catch (err) {
    file?.close();
    rmSync(tmp, { force: true });
    throw err;
  }
}
