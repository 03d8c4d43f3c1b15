// Synthetic stand-ins for features extracted by a given backbone: the synthetic videos' latent features seen
// through a fixed random "backbone" of that backbone's output width, so a per-backbone experiment (Charades
// fine-tuning from SlowFast, MViT, R(2+1)D features) runs on data of the real shape. No pretrained weights can be
// downloaded here, so these are not the backbone's real features; the class structure survives the projection.
//
// Per video: `views` temporal views (SlowFast's multi-view testing) = the means of `views` equal spans of its rows,
// each mapped by tanh(P x) + noise with P [dim, D] ~ N(0, 1/D), seeded by the backbone's name: the same name and
// dim give the same file.

import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { mulberry32, normal } from '../../core/random.ts';
import { FeatureFile, writeFeatureFile } from './formats/hdf5-features.ts';

export interface BackboneStandIn {
  name: string;
  dim: number;
}

function nameSeed(name: string): number {
  let h = 0x811c9dc5;
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return h >>> 0;
}

/** Writes `out` from the latent features in `base` unless it exists (written atomically). */
export async function ensureBackboneFeatures(base: string, out: string, backbone: BackboneStandIn, views = 4): Promise<string> {
  if (existsSync(out)) return out;
  mkdirSync(dirname(out), { recursive: true });
  const latent = await FeatureFile.open(base);
  try {
    const n = normal(mulberry32(nameSeed(`${backbone.name}/${backbone.dim}`)));
    let P: Float32Array | undefined;
    const datasets = latent.keys.map((key) => {
      const rows = latent.info(key).rows;
      const D = latent.info(key).dim;
      P ??= Float32Array.from({ length: backbone.dim * D }, () => n() / Math.sqrt(D));
      const windows = Array.from({ length: views }, (_, v) => {
        const start = Math.floor((v * rows) / views);
        return { key, start, end: Math.max(start + 1, Math.floor(((v + 1) * rows) / views)) };
      });
      const means = latent.readMeans(windows);
      const data = new Float32Array(views * backbone.dim);
      for (let v = 0; v < views; v++) {
        for (let o = 0; o < backbone.dim; o++) {
          let s = 0;
          for (let d = 0; d < D; d++) s += P[o * D + d]! * means[v * D + d]!;
          data[v * backbone.dim + o] = Math.tanh(s) + 0.1 * n();
        }
      }
      return { key, data, rows: views, dim: backbone.dim };
    });
    await writeFeatureFile(out, datasets, { gzip: null });
  } finally {
    latent.close();
  }
  return out;
}
