// task=inference through the CLI: a video, a frame folder and an image classified by a (random-weight)
// R(2+1)D-18 with its 400 Kinetics logits; the printed top-k, predictions.jsonl, num_examples/seed, and the
// errors before any run directory; then exact probabilities over every window with a probe backbone, and a
// bad input failing alone.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveBinary } from '../../core/video/index.ts';
import { loadProbe, probeOverrides } from '../extract/probe.ts';
import { experimentDir, jsonLines } from '../helpers/experiment.ts';
import { indexVideo } from '../video/fixtures.ts';

const T = 120_000;
const { dir, vidra, read } = experimentDir('inference');
const BACKBONE = ['+model=r2plus1d', 'model.backbone.output=logits', 'model.backbone.output_dim=400', 'model.backbone.frames=2', 'model.backbone.size=16', 'model.backbone.short_side=16'];
const names = Array.from({ length: 400 }, (_, i) => `kinetics_${i}`);

beforeAll(async () => {
  const inputs = join(dir, 'inputs');
  mkdirSync(join(inputs, 'b_frames'), { recursive: true });
  execFileSync(resolveBinary('ffmpeg').path, ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=32x24:rate=10:duration=1', '-pix_fmt', 'yuv420p', join(inputs, 'a_video.mp4')]);
  for (let k = 0; k < 4; k++) await sharp(Buffer.alloc(20 * 20 * 3, 60 * k), { raw: { width: 20, height: 20, channels: 3 } }).png().toFile(join(inputs, 'b_frames', `f-${k + 1}.png`));
  await sharp(Buffer.alloc(24 * 18 * 3, 200), { raw: { width: 24, height: 18, channels: 3 } }).png().toFile(join(inputs, 'c_image.png'));
  writeFileSync(join(inputs, 'notes.txt'), 'not an input');
  writeFileSync(join(dir, 'labels.txt'), `${names.join('\n')}\n`);
  writeFileSync(join(dir, 'short_labels.txt'), 'a\nb\n');
});

describe('task=inference', () => {
  it('prints the top-k classes with probabilities per example and writes predictions.jsonl; deterministic', { timeout: T }, async () => {
    const r = await vidra(['task=inference', ...BACKBONE, 'task.video_dir=inputs', 'task.top_k=3', 'task.labels=labels.txt', 'vidra.run.dir=runs/inf']);
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(read('runs/inf/predictions.jsonl')) as unknown as Array<{ input: string; top_k: Array<{ class: number; label: string; prob: number }> }>;
    // The video, the frame folder and the image, in name order; notes.txt is no input.
    expect(lines.map((l) => l.input)).toEqual(['inputs/a_video.mp4', 'inputs/b_frames', 'inputs/c_image.png']);
    for (const l of lines) {
      expect(l.top_k.length).toBe(3);
      for (const t of l.top_k) expect(t.label).toBe(names[t.class]);
      const p = l.top_k.map((t) => t.prob);
      expect([...p].sort((a, b) => b - a)).toEqual(p);
      expect(p[0]).toBeGreaterThan(0);
      expect(p.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1);
      // Printed as `<input>: <label> (<prob>), …`.
      expect(r.stdout).toContain(`${l.input}: ${l.top_k.map((t) => `${t.label} (${t.prob.toFixed(3)})`).join(', ')}\n`);
    }
    const again = await vidra(['task=inference', ...BACKBONE, 'task.video_dir=inputs', 'task.top_k=3', 'task.labels=labels.txt', 'vidra.run.dir=runs/inf2']);
    expect(again.code, again.stderr).toBe(0);
    expect(read('runs/inf2/predictions.jsonl')).toBe(read('runs/inf/predictions.jsonl'));

    // num_examples: a seeded subset, in input order; without labels, class indices.
    const sub = await vidra(['task=inference', ...BACKBONE, 'task.video_dir=inputs', 'task.num_examples=2', 'task.seed=3', 'task.top_k=1', 'vidra.run.dir=runs/sub']);
    expect(sub.code, sub.stderr).toBe(0);
    const picked = jsonLines(read('runs/sub/predictions.jsonl')) as unknown as Array<{ input: string; top_k: Array<Record<string, unknown>> }>;
    expect(picked.length).toBe(2);
    expect(picked.every((l) => lines.some((m) => m.input === l.input))).toBe(true);
    expect(Object.keys(picked[0]!.top_k[0]!)).toEqual(['class', 'prob']);
    const sub2 = await vidra(['task=inference', ...BACKBONE, 'task.video_dir=inputs', 'task.num_examples=2', 'task.seed=3', 'task.top_k=1', 'vidra.run.dir=runs/sub2']);
    expect(read('runs/sub2/predictions.jsonl')).toBe(read('runs/sub/predictions.jsonl'));
    expect(sub2.code).toBe(0);
  });

  it('bad input: exit 2 with one message, before any run directory', async () => {
    const cases: Array<[string[], string]> = [
      [['task.inputs=[inputs/c_image.png]'], 'Error: task=inference classifies with the backbone at model.backbone, and none is configured: add one, e.g. +model=r2plus1d model.backbone.output=logits model.backbone.output_dim=400\n'],
      [[...BACKBONE, 'task.inputs=[missing.mp4]'], `Error: task.inputs[0]: missing.mp4 does not exist (${join(dir, 'missing.mp4')})\n`],
      [[...BACKBONE, 'task.video_dir=nowhere'], `Error: task.video_dir: nowhere is not a directory (${join(dir, 'nowhere')})\n`],
      [[...BACKBONE, 'task.video_dir=inputs', 'task.labels=short_labels.txt'], 'Error: task.labels: short_labels.txt names 2 classes, but the backbone scores 400 (model.backbone.output_dim); give one class name a line for each\n'],
    ];
    for (const [i, [args, message]] of cases.entries()) {
      const r = await vidra(['task=inference', ...args, `vidra.run.dir=runs/bad${i}`]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
      expect(existsSync(join(dir, `runs/bad${i}`))).toBe(false);
    }
  });
});

// A probe "classifier" (test/extract/probe.ts) whose logits are each frame's channel means, on lossless
// videos whose frames encode their index: the expected probabilities follow from the windows alone.
describe('task=inference on windows (Ego4D: softmax of the mean logits of every window)', () => {
  const F = 4;
  const probe = () => [...probeOverrides(join(dir, 'probe.onnx'), F).map((o) => (o.startsWith('model/backbone=') ? `+${o}` : o)), 'task=inference', 'task.top_k=3'];
  /** Frame k's channel means: R = k, G = 255 − k, B = 128 (over 255). */
  const logitsOf = (frames: number[]) => [...frames.map((k) => k / 255), ...frames.map((k) => (255 - k) / 255), ...frames.map(() => 128 / 255)];
  /** Ego4D's windows: starts stride apart, the last moved back to end at the last frame. */
  const windowsOf = (n: number, stride: number) =>
    Array.from({ length: Math.ceil((n - F) / stride) + 1 }, (_, i) => Math.min(i * stride, n - F)).map((s) => Array.from({ length: F }, (_, k) => s + k));
  const expected = (n: number, stride: number) => {
    const rows = windowsOf(n, stride).map(logitsOf);
    const mean = rows[0]!.map((_, c) => rows.reduce((a, r) => a + r[c]!, 0) / rows.length);
    const m = Math.max(...mean);
    const z = mean.reduce((a, v) => a + Math.exp(v - m), 0);
    return { windows: rows.length, probs: mean.map((v) => Math.exp(v - m) / z) };
  };
  type Line = { input: string; windows: number; top_k: Array<{ class: number; prob: number }> };

  beforeAll(async () => {
    await loadProbe(join(dir, 'probe.onnx'), F, 16).then((p) => p.dispose());
    mkdirSync(join(dir, 'win'));
    indexVideo(join(dir, 'win'), 'a', 'mkv', 30, 22);
    indexVideo(join(dir, 'win'), 'b', 'mp4', 25, 9);
  });

  it.each([
    [null, 4],
    [3, 3],
  ])('task.stride=%s: every window classified, probabilities from their mean logits; task.prefetch 0 and 2 agree', { timeout: T }, async (stride, step) => {
    const out: string[] = [];
    for (const prefetch of [0, 2]) {
      const r = await vidra([...probe(), 'task.video_dir=win', `task.stride=${stride ?? 'null'}`, 'task.batch_size=2', `task.prefetch=${prefetch}`, `vidra.run.dir=runs/win${stride}-${prefetch}`]);
      expect(r.code, r.stderr).toBe(0);
      out.push(read(`runs/win${stride}-${prefetch}/predictions.jsonl`));
    }
    expect(out[1]).toBe(out[0]);
    const lines = jsonLines(out[0]!) as unknown as Line[];
    expect(lines.map((l) => l.input)).toEqual(['win/a.mkv', 'win/b.mp4']);
    for (const [l, n] of [[lines[0]!, 22], [lines[1]!, 9]] as const) {
      const e = expected(n, step);
      expect(l.windows).toBe(e.windows);
      const order = e.probs.map((p, c) => ({ c, p })).sort((a, b) => b.p - a.p || a.c - b.c).slice(0, 3);
      expect(l.top_k.map((t) => t.class)).toEqual(order.map((o) => o.c));
      l.top_k.forEach((t, i) => expect(t.prob).toBeCloseTo(order[i]!.p, 6));
    }
  });

  it('an input that cannot be read fails alone: the others are classified, failed_inputs.json says why, exit 1', { timeout: T }, async () => {
    mkdirSync(join(dir, 'mixed'));
    indexVideo(join(dir, 'mixed'), 'a', 'mkv', 30, 22);
    writeFileSync(join(dir, 'mixed', 'b_broken.mp4'), 'not a video');
    const r = await vidra([...probe(), 'task.video_dir=mixed', 'vidra.run.dir=runs/mixed']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('1 of 2 inputs failed (the others are in predictions.jsonl; reasons in failed_inputs.json):\n  mixed/b_broken.mp4: ');
    const failed = JSON.parse(read('runs/mixed/failed_inputs.json')) as Array<{ input: string; reason: string }>;
    expect(failed.map((f) => f.input)).toEqual(['mixed/b_broken.mp4']);
    expect(failed[0]!.reason).toContain("video 'mixed/b_broken.mp4'");
    const lines = jsonLines(read('runs/mixed/predictions.jsonl')) as unknown as Line[];
    expect(lines.map((l) => [l.input, l.windows])).toEqual([['mixed/a.mkv', 6]]);
  });

  it('task.stride=0 is a located schema error', async () => {
    const r = await vidra([...probe(), 'task.video_dir=win', 'task.stride=0', 'vidra.run.dir=runs/stride0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'task.stride' must be >= 1");
    expect(existsSync(join(dir, 'runs/stride0'))).toBe(false);
  });
});
