// The bundled experiments that train multi-target and per-backbone heads, end to end through the CLI on
// synthetic data: ego4d_lta (Z = 20 forecasts, K = 5 sampled sequences, ED@20) and charades_finetune (one
// config per backbone).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { mulberry32 } from '../../core/random.ts';
import { sampleCategorical } from '../../plugins/tasks/forecast.ts';
import { experimentDir, jsonLines, withoutTime } from '../helpers/experiment.ts';

const T = 120_000;
const { dir, vidra, read } = experimentDir('experiments');
const metricsOf = (run: string) => JSON.parse(read(`${run}/metrics.json`)) as Record<string, number>;

describe('ego4d_lta: forecasting 20 future actions from clip features', () => {
  it('trains Z verb and Z noun heads, samples K = 5 sequences and scores ED@20; deterministic', { timeout: T }, async () => {
    for (const d of ['a', 'b']) {
      const r = await vidra(['+experiment=ego4d_lta', 'task.epochs=3', `vidra.run.dir=runs/lta-${d}`]);
      expect(r.code, r.stderr).toBe(0);
    }
    const m = metricsOf('runs/lta-a');
    expect(Object.keys(m)).toEqual(['step', 'ed_verb', 'aued_verb', 'ed_noun', 'aued_noun', 'ed_action', 'aued_action', 'verb/top1', 'verb/top5', 'noun/top1', 'noun/top5']);
    for (const k of ['ed_verb', 'ed_noun', 'ed_action']) expect(m[k]).toBeGreaterThan(0.3), expect(m[k]).toBeLessThanOrEqual(1);
    expect(m.ed_action).toBeGreaterThanOrEqual(Math.max(m.ed_verb!, m.ed_noun!));
    const cfg = parseYaml(read('runs/lta-a/.vidra/resolved.yaml')) as { model: { head: { repeat: number; num_inputs: number } } };
    expect(cfg.model.head).toMatchObject({ repeat: 20, num_inputs: 2 });
    expect(withoutTime(read('runs/lta-b/metrics.jsonl'))).toBe(withoutTime(read('runs/lta-a/metrics.jsonl')));

    // The evaluate task scores the checkpoint the same way: the same forecasts, the same values.
    const ev = await vidra(['data=synthetic_ego4d_lta', 'head=lta_forecast', 'task=evaluate', 'task.checkpoint=runs/lta-a', 'task.target=[verb,noun]', 'task.metrics=[lta_ed,topk]', 'task.batch_size=20', 'vidra.run.dir=runs/lta-eval']);
    expect(ev.code, ev.stderr).toBe(0);
    const { step, ...values } = m;
    expect(metricsOf('runs/lta-eval')).toEqual({ step, split: 'val', ...values });
  });

  it('learns the forecasts it is trained on: ED@20 on the train split far below uniform guessing', { timeout: T }, async () => {
    const r = await vidra(['+experiment=ego4d_lta', 'task.eval_split=train', 'task.epochs=25', 'scheduler.total_steps=275', 'task.eval_every=25', 'vidra.run.dir=runs/lta-fit']);
    expect(r.code, r.stderr).toBe(0);
    const m = metricsOf('runs/lta-fit');
    // Uniform guesses (K = 5, Z = 20) score ED@20 ≈ 0.78 on 12 verbs and ≈ 0.86 on 20 nouns.
    expect(m.ed_verb).toBeLessThan(0.65);
    expect(m.ed_noun).toBeLessThan(0.7);
    // Training loss falls from 20·ln 12 + 20·ln 20 ≈ 109.6 at chance.
    const losses = jsonLines(read('runs/lta-fit/metrics.jsonl')).filter((l) => typeof l.loss === 'number');
    expect(losses[0]!.loss as number).toBeGreaterThan(100);
    expect(losses.at(-1)!.loss as number).toBeLessThan(90);
  });

  it('sampleCategorical draws classes with the softmax probabilities', () => {
    const scores = [0, Math.log(2), Math.log(5), -50];
    const draws = sampleCategorical(scores, 80_000, mulberry32(1));
    const freq = [0, 1, 2, 3].map((c) => draws.filter((d) => d === c).length / draws.length);
    [1 / 8, 2 / 8, 5 / 8, 0].forEach((p, c) => expect(Math.abs(freq[c]! - p)).toBeLessThan(0.01));
  });
});

describe('charades_finetune: one config per backbone', () => {
  it('trains a linear head of each backbone’s width on its features and scores video-level mAP', { timeout: T }, async () => {
    const r = await vidra(['-m', '+experiment=charades_finetune', 'model/backbone=slowfast_r50,mvit_v2_s,r2plus1d_18', 'vidra.sweep.dir=runs/ch', 'vidra.sweep.subdir=${model.backbone.name}']);
    expect(r.code, r.stderr).toBe(0);
    const widths = { slowfast_r50: 2304, mvit_v2_s: 768, r2plus1d_18: 512 };
    for (const [name, dim] of Object.entries(widths)) {
      const cfg = parseYaml(read(`runs/ch/${name}/.vidra/resolved.yaml`)) as { model: { head: { in_dim: number; out_dim: number } } };
      expect(cfg.model.head).toMatchObject({ in_dim: dim, out_dim: 157 });
      const m = metricsOf(`runs/ch/${name}`);
      expect(m.step).toBe(90);
      // Random scores give the mean positive rate (~0.02 here); the head learns the classes through the stand-in.
      expect(m.map).toBeGreaterThan(0.12);
    }
    const files = readdirSync(join(dir, '.cache/vidra-data/synthetic/v2-seed0/charades/backbones')).sort();
    expect(files).toEqual(['mvit_v2_s-d768.h5', 'r2plus1d_18-d512.h5', 'slowfast_r50-d2304.h5']);
  });
});
