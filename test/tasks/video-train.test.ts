// Backbones in training and evaluation, end to end through the CLI: clips of the generated moving-shapes
// videos → frozen R(2+1)D-18 → linear head; the feature cache; and the fit check that a backbone is used
// exactly when the data gives clips (exit 2 before any run directory).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { experimentDir, withoutTime } from '../helpers/experiment.ts';

const T = 180_000;
const { dir, vidra, read } = experimentDir('video-train');
const metricsOf = (run: string) => JSON.parse(read(`${run}/metrics.json`)) as Record<string, number>;
// A tiny backbone input keeps these runs to seconds: 2 frames of 16×16.
const TINY = ['model.backbone.frames=2', 'model.backbone.size=16', 'model.backbone.short_side=16'];
const PROBE = ['data=moving_shapes', '+model=r2plus1d', 'head=backbone_linear', 'loss=ce', 'scheduler=constant', 'task.metrics=[topk]', ...TINY];

describe('a backbone is used exactly when the data gives clips', () => {
  it('+model=slowfast on the default features data: exit 2 naming data=<name> and how to switch, before any run directory', async () => {
    const r = await vidra(['+model=slowfast', 'vidra.run.dir=runs/features-backbone']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'Error: model.backbone (slowfast_r50, from +model=slowfast) cannot be used: data=synthetic_animal_kingdom already provides features, so the backbone would never run. ' +
        'Drop +model=slowfast to train on those features, or switch to a video dataset: data=moving_shapes (generated videos), ' +
        'or data=video_clips data.root=<folder with classes.txt and <split>.csv listing path,label>\n',
    );
    expect(existsSync(join(dir, 'runs/features-backbone'))).toBe(false);
  });

  it('clips without a backbone: exit 2 saying how to set one', async () => {
    const r = await vidra(['data=moving_shapes', 'model.head.in_dim=8', 'vidra.run.dir=runs/clips-no-backbone']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'Error: data=moving_shapes gives video clips, which a head cannot read: set a backbone to turn them into features, e.g. +model=r2plus1d (a frozen R(2+1)D-18), or use +experiment=video_probe\n',
    );
    expect(existsSync(join(dir, 'runs/clips-no-backbone'))).toBe(false);
  });

  it('video_clips: a root that does not exist is a missing input', async () => {
    const r = await vidra(['data=video_clips', 'data.root=nowhere', 'data.num_classes=3', '+model=r2plus1d', 'head=backbone_linear', 'loss=ce', 'vidra.run.dir=runs/no-root']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `Error: missing input, checked before any run directory:\n  data.root: nowhere does not exist\n  data.root is the folder of classes.txt and <split>.csv (path,label)\n`,
    );
    expect(existsSync(join(dir, 'runs/no-root'))).toBe(false);
  });

  it('the evaluate task checks the same', async () => {
    const r = await vidra(['task=evaluate', 'task.checkpoint=runs/none', '+model=r2plus1d', 'vidra.run.dir=runs/eval-features-backbone']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Error: model.backbone (r2plus1d_18, from +model=r2plus1d) cannot be used: data=synthetic_animal_kingdom already provides features');
  });
});

describe('train and evaluate on clips: clip → frozen backbone → head', () => {
  it('trains on the generated videos, caches the features by backbone + sampling, and evaluate scores the checkpoint identically', { timeout: T }, async () => {
    const a = await vidra([...PROBE, 'model.backbone.cache=true', 'task.epochs=3', 'vidra.run.dir=runs/clips-a']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/model\.backbone: 32 'train' clips \(2×16×16\) → 512-d features in [\d.]+ s/);
    // The clips were decoded in the prefetch worker thread (a fallback to the main thread is logged).
    expect(a.stdout + a.stderr).not.toContain('prefetch:');
    // ... and Node warned of nothing (its fd tracking once warned of each video's pipe: VIDEO_WORKER_OPTIONS).
    expect(a.stderr).not.toContain('Warning');
    expect(a.stdout).toMatch(/model\.backbone: 16 'val' clips \(2×16×16\) → 512-d features in [\d.]+ s/);
    const m = metricsOf('runs/clips-a');
    expect(Object.keys(m)).toEqual(['step', 'top1', 'top5']);
    expect(m.step).toBe(12);
    // The generated dataset: 8 classes × (4 train + 2 val) H.264 clips, with classes.txt and the split lists.
    const [data] = readdirSync(join(dir, '.cache/vidra-data/moving_shapes'));
    expect(data).toBe('v2-seed0-64px-16f-4x2');
    expect(read(`.cache/vidra-data/moving_shapes/${data}/classes.txt`).trim().split('\n')).toEqual([
      'circle_left', 'circle_right', 'circle_up', 'circle_down', 'square_left', 'square_right', 'square_up', 'square_down',
    ]);
    const train = read(`.cache/vidra-data/moving_shapes/${data}/train.csv`).trim().split('\n');
    expect(train.length).toBe(1 + 32);
    expect(train.slice(0, 2)).toEqual(['path,label', 'videos/train_circle_left_0.mp4,circle_left']);
    // One cache file per split, named by the backbone and a hash of what the features depend on.
    const cached = readdirSync(join(dir, '.cache/backbone-features')).sort();
    expect(cached.map((f) => f.replace(/-[0-9a-f]{16}\.h5$/, ''))).toEqual(['r2plus1d_18-train', 'r2plus1d_18-val']);

    // A rerun reads the cache (no backbone pass) and gives the same metrics; another sampling is another file.
    const b = await vidra([...PROBE, 'model.backbone.cache=true', 'task.epochs=3', 'vidra.run.dir=runs/clips-b']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/model\.backbone\.cache: 32 'train' features from \.cache\/backbone-features\/r2plus1d_18-train-[0-9a-f]{16}\.h5/);
    expect(b.stdout).not.toContain("'train' clips");
    expect(withoutTime(read('runs/clips-b/metrics.jsonl'))).toBe(withoutTime(read('runs/clips-a/metrics.jsonl')));
    // Without the cache the features are computed again: bit-identical to the cached ones.
    const c = await vidra([...PROBE, 'task.epochs=3', 'vidra.run.dir=runs/clips-c']);
    expect(c.code, c.stderr).toBe(0);
    expect(withoutTime(read('runs/clips-c/metrics.jsonl'))).toBe(withoutTime(read('runs/clips-a/metrics.jsonl')));
    const d = await vidra([...PROBE, 'model.backbone.cache=true', 'model.backbone.frames=3', 'task.epochs=1', 'vidra.run.dir=runs/clips-d']);
    expect(d.code, d.stderr).toBe(0);
    expect(readdirSync(join(dir, '.cache/backbone-features')).length).toBe(4);

    const ev = await vidra([...PROBE, 'task=evaluate', 'task.checkpoint=runs/clips-a', 'task.metrics=[topk]', 'vidra.run.dir=runs/clips-eval']);
    expect(ev.code, ev.stderr).toBe(0);
    const { step, ...values } = m;
    expect(metricsOf('runs/clips-eval')).toEqual({ step, split: 'val', ...values });
  });
});

describe('clip data that does not fit', () => {
  it('data.num_classes other than classes.txt: the run fails at its start naming the value to set', { timeout: T }, async () => {
    const r = await vidra([...PROBE, 'data.num_classes=5', 'vidra.run.dir=runs/classes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("job failed: data.num_classes=5, but the 'train' split of moving_shapes has 8 classes (classes.txt); set data.num_classes=8\n");
    expect(JSON.parse(read('runs/classes/status.json'))).toMatchObject({ status: 'failed' });
  });
});

describe('+experiment=video_probe: r2plus1d_18 → linear head on the moving-shapes videos', () => {
  it('learns the 8 classes (shape × direction) well above chance (1/8), from random backbone weights', { timeout: 240_000 }, async () => {
    const t0 = performance.now();
    const r = await vidra(['+experiment=video_probe', 'vidra.run.dir=runs/probe']);
    const seconds = (performance.now() - t0) / 1000;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("model.backbone: 32 'train' clips (8×64×64) → 512-d features");
    const m = metricsOf('runs/probe');
    expect(m.step).toBe(1200);
    // 8 of 16 validation clips (chance: 2); every label in the top 5.
    expect(m.top1).toBeGreaterThanOrEqual(0.375);
    expect(m.top5).toBeGreaterThanOrEqual(0.875);
    console.log(`video_probe: ${seconds.toFixed(1)} s, top1=${m.top1} top5=${m.top5}`);
  });
});
