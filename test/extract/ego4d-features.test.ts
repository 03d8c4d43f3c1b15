// +experiment=ego4d_features chained into +experiment=clep through the real CLI on the repository's conf/:
// generated videos (one per video_uid of the synthetic Ego4D set) → HDF5 features on the Ego4D grid → CLEP
// training and zero-shot retrieval on that file (data.features) instead of the generated latent features.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FeatureFile } from '../../plugins/datasets/formats/hdf5-features.ts';
import { readEgo4dMeta } from '../../plugins/datasets/formats/ego4d-meta.ts';
import { SYNTHETIC_VERSION } from '../../plugins/datasets/synthetic.ts';
import { experimentDir } from '../helpers/experiment.ts';

const T = 180_000;
const { dir, vidra, read } = experimentDir('ego4d-features');
const RETRIEVAL = ['step', 'v2t_r1', 'v2t_r5', 'v2t_r10', 'v2t_medr', 't2v_r1', 't2v_r5', 't2v_r10', 't2v_medr'];
const metricsOf = (run: string) => JSON.parse(read(`${run}/metrics.json`)) as Record<string, number>;

describe('+experiment=ego4d_features && +experiment=clep data.features=<its io.out_path>', () => {
  it('extracts one [8, 32] dataset per synthetic video_uid, and CLEP trains and evaluates retrieval on it', { timeout: T }, async () => {
    const ex = await vidra(['+experiment=ego4d_features', 'vidra.run.dir=runs/extract']);
    expect(ex.code, ex.stderr).toBe(0);
    expect(metricsOf('runs/extract')).toMatchObject({ videos: 23, skipped: 0, extracted: 23, failed: 0, windows: 23 * 8 });

    // One video per uid of the synthetic Ego4D set that data=synthetic_ego4d_narrations reads.
    const uids = [...readEgo4dMeta(join(dir, `.cache/vidra-data/synthetic/v${SYNTHETIC_VERSION}-seed0/ego4d/ego4d.json`)).keys()].sort();
    expect(uids).toHaveLength(23);
    expect(readdirSync(join(dir, '.cache/vidra-data/ego4d_videos/v1-seed0-32px-32f')).sort()).toEqual(uids.map((u) => `${u}.mp4`));
    // 4 s at 8 fps counted on the 30 fps grid: 120 frames, ceil((120 − 8)/16) + 1 = 8 windows of the 32-d stand-in.
    const f = await FeatureFile.open(join(dir, 'features/ego4d_tiny.h5'));
    try {
      expect([...f.keys].sort()).toEqual(uids);
      for (const uid of uids) {
        expect(f.info(uid)).toMatchObject({ rows: 8, dim: 32 });
        expect(f.readAll(uid).every(Number.isFinite)).toBe(true);
      }
    } finally {
      f.close();
    }

    const clep = await vidra(['+experiment=clep', 'data.features=features/ego4d_tiny.h5', 'task.epochs=2', 'task.eval_every=2', 'vidra.run.dir=runs/clep']);
    expect(clep.code, clep.stderr).toBe(0);
    const m = metricsOf('runs/clep');
    expect(Object.keys(m)).toEqual(RETRIEVAL);
    for (const k of RETRIEVAL.slice(1)) expect(Number.isFinite(m[k])).toBe(true);
    // The extracted features, not the generated latent ones: the same run on those scores otherwise.
    const latent = await vidra(['+experiment=clep', 'task.epochs=2', 'task.eval_every=2', 'vidra.run.dir=runs/clep-latent']);
    expect(latent.code, latent.stderr).toBe(0);
    expect(metricsOf('runs/clep-latent')).not.toEqual(m);

    // A rerun skips the extracted uids (nothing generated or extracted again).
    const again = await vidra(['+experiment=ego4d_features', 'vidra.run.dir=runs/extract-again']);
    expect(again.code, again.stderr).toBe(0);
    expect(metricsOf('runs/extract-again')).toMatchObject({ videos: 23, skipped: 23, extracted: 0, windows: 0 });
  });

  it('bad io.generate and a missing data.features are one clear error each, before any run directory', { timeout: T }, async () => {
    const bad = await vidra(['+experiment=ego4d_features', 'io.generate=ego5d', 'vidra.run.dir=runs/bad']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('io.generate must be synthetic_ego4d (the synthetic Ego4D set\'s videos) or null, got "ego5d"');
    expect(existsSync(join(dir, 'runs/bad'))).toBe(false);
    const both = await vidra(['+experiment=ego4d_features', 'io.manifest=ego4d.json', 'vidra.run.dir=runs/both']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('io.generate writes the videos into io.video_dir: set io.video_dir, and not io.manifest');
    expect(existsSync(join(dir, 'runs/both'))).toBe(false);
    const missing = await vidra(['+experiment=clep', 'data.features=features/none.h5', 'task.epochs=1', 'vidra.run.dir=runs/missing']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      `missing input, checked before any run directory:\n  data.features: ${join(dir, 'features/none.h5')} does not exist\n  data.features is a file of task=extract_features (write it first, e.g. vidra run +experiment=ego4d_features)`,
    );
    expect(existsSync(join(dir, 'runs/missing'))).toBe(false);
  });
});
