// The features file of task=extract_features read by the HDF5 reference library's own tool (h5dump from
// Debian's hdf5-tools, the libhdf5 that h5py wraps), not by h5wasm which wrote it: the datasets' type and
// shape, their float32 bytes, and the window attributes, as another program sees them.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureFile } from '../../plugins/datasets/formats/hdf5-features.ts';
import { ensureAptBinary } from '../helpers/apt.ts';
import { BIN, REPO } from '../helpers/project.ts';
import { indexVideo, tempDir } from '../video/fixtures.ts';
import { probeOverrides, rowFrames, writeProbeModel } from './probe.ts';

const H5DUMP = '/usr/bin/h5dump';
let tmp: ReturnType<typeof tempDir>;
let missing: string | null = null;

const h5dump = (...args: string[]) => {
  const r = spawnSync(H5DUMP, args, { cwd: tmp.dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`h5dump ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
};

beforeAll(() => {
  missing = ensureAptBinary(H5DUMP, 'hdf5-tools');
  if (missing) console.warn(`h5dump tests skipped: ${missing}`);
  tmp = tempDir('extract-h5dump');
  writeProbeModel(join(tmp.dir, 'probe.onnx'), 4, 16);
  mkdirSync(join(tmp.dir, 'videos'));
  indexVideo(join(tmp.dir, 'videos'), 'a', 'mp4', 30, 40);
  indexVideo(join(tmp.dir, 'videos'), 'b', 'mkv', 25, 50);
}, 600_000);
afterAll(() => tmp?.remove());

describe('the features file, read by libhdf5 (h5dump)', () => {
  it('holds one float32 [windows, dim] dataset per uid with the window attributes, byte-equal to what Vidra reads', async (ctx) => {
    if (missing) return ctx.skip(missing);
    const args = [BIN, 'run', '-cp', join(REPO, 'conf'), ...probeOverrides(join(tmp.dir, 'probe.onnx'), 4), 'task=extract_features', 'io.video_dir=videos', 'window.stride=4', 'io.out_path=f.h5'];
    const run = spawnSync(process.execPath, args, { cwd: tmp.dir, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);

    const header = h5dump('-H', 'f.h5');
    // window.fps=30 (the default): a has 40 frames → 10 windows of 4; b 2 s at 25 fps → 60 → 15.
    for (const [uid, rows] of [['a', 10], ['b', 15]] as const) {
      const block = header.slice(header.indexOf(`DATASET "${uid}"`));
      expect(block).toMatch(new RegExp(`^DATASET "${uid}" \\{\\s+DATATYPE\\s+H5T_IEEE_F32LE\\s+DATASPACE\\s+SIMPLE \\{ \\( ${rows}, 12 \\) / \\( ${rows}, 12 \\) \\}`));
    }
    const attrs = [...header.slice(header.indexOf('DATASET "a"'), header.indexOf('DATASET "b"')).matchAll(/ATTRIBUTE "([^"]+)"/g)].map((m) => m[1]).sort();
    expect(attrs).toEqual(['backbone', 'backbone_hash', 'fps', 'frames', 'num_frames', 'stride', 'vidra_version', 'window_end_sec', 'window_start_sec']);

    const f = await FeatureFile.open(join(tmp.dir, 'f.h5'));
    try {
      // Window 1 holds positions 4–7 at 30 fps: a's own frames; b's 25 fps frames, resampled (repeats).
      for (const [uid, frames] of [['a', [4, 5, 6, 7]], ['b', [3, 4, 5, 5]]] as const) {
        h5dump('-d', `/${uid}`, '-b', 'LE', '-o', `${uid}.bin`, 'f.h5');
        const raw = readFileSync(join(tmp.dir, `${uid}.bin`));
        const libhdf5 = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
        expect(Buffer.from(libhdf5.buffer, libhdf5.byteOffset, libhdf5.byteLength).equals(Buffer.from(f.readAll(uid).buffer))).toBe(true);
        expect(rowFrames(libhdf5.subarray(12, 24), 4)).toEqual(frames);
      }
    } finally {
      f.close();
    }

    const starts = h5dump('-y', '-w', '0', '-a', '/a/window_start_sec', 'f.h5');
    expect(starts).toMatch(/DATATYPE\s+H5T_IEEE_F64LE/);
    const data = starts.slice(starts.indexOf('DATA {') + 6);
    const values = data.slice(0, data.indexOf('}')).split(/[\s,]+/).filter(Boolean).map(Number);
    expect(values.map((v) => Math.round(v * 30))).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36]);
    expect(h5dump('-a', '/a/backbone', 'f.h5')).toContain('"probe"');
    expect(h5dump('-y', '-a', '/b/stride', 'f.h5')).toMatch(/DATA \{\s+4\s+\}/);
  }, 120_000);
});
