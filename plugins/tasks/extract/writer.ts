// The extraction's HDF5 output: one float32 [num_windows, dim] dataset per uid (CLEP's layout, read by
// `data=ego4d_features` and h5py) with its window attributes. A video's features are written in one step
// after its last window (file opened, dataset and attributes created, file closed): an interruption before
// that leaves nothing of the video, and the file on disk is closed and consistent between videos.

import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { FeatureFile, loadHdf5 } from '../../datasets/formats/hdf5-features.ts';

export type AttributeValue = number | string | Float64Array | Int32Array;

/** The uids `path` already holds (none when it does not exist). */
export async function completedUids(path: string): Promise<Set<string>> {
  if (!existsSync(path)) return new Set();
  const file = await FeatureFile.open(path);
  try {
    return new Set(file.keys);
  } finally {
    file.close();
  }
}

/** Appends one video's dataset to `path` (created when missing). */
export async function writeVideoFeatures(path: string, uid: string, data: Float32Array, rows: number, dim: number, attrs: Record<string, AttributeValue>): Promise<void> {
  if (data.length !== rows * dim) throw new Error(`${path}: dataset '${uid}': ${data.length} values for shape [${rows}, ${dim}]`);
  const { h5, module } = await loadHdf5();
  mkdirSync(dirname(path), { recursive: true });
  module.activate_throwing_error_handler();
  let file: InstanceType<typeof h5.File> | undefined;
  try {
    file = new h5.File(path, existsSync(path) ? 'a' : 'w');
    const ds = file.create_dataset({ name: uid, data, shape: [rows, dim], dtype: '<f' });
    for (const [k, v] of Object.entries(attrs)) ds.create_attribute(k, v as never);
  } finally {
    file?.close();
    module.deactivate_throwing_error_handler();
  }
}

/**
 * Writes the datasets (with their attributes) of `inputs` into one file at `out`, atomically (a temporary
 * file renamed over it). A uid in two inputs is an error. Returns the number of datasets.
 */
export async function mergeFeatureFiles(inputs: readonly string[], out: string): Promise<number> {
  const { h5, module } = await loadHdf5();
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}-${Date.now()}`;
  const seen = new Map<string, string>();
  module.activate_throwing_error_handler();
  const target = new h5.File(tmp, 'w');
  let open = true;
  try {
    for (const path of inputs) {
      const src = new h5.File(path, 'r');
      try {
        for (const key of src.keys()) {
          if (seen.has(key)) throw new Error(`uid '${key}' is in both ${seen.get(key)} and ${path}`);
          seen.set(key, path);
          const ds = src.get(key) as InstanceType<typeof h5.Dataset>;
          const made = target.create_dataset({ name: key, data: ds.value as Float32Array, shape: ds.shape!, dtype: '<f' });
          for (const [name, attr] of Object.entries(ds.attrs)) made.create_attribute(name, attr.value as never);
        }
      } finally {
        src.close();
      }
    }
    target.close();
    open = false;
    renameSync(tmp, out);
  } catch (err) {
    if (open) target.close();
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    module.deactivate_throwing_error_handler();
  }
  return seen.size;
}
