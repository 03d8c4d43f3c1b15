// task.nodes.sampler: the train task draws its batches with the sampler group's plugin (+sampler=<option>),
// random when there is none, and sets the sampler's batch_size and drop_last (the compiled step's shape).
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withoutTime } from '../helpers/experiment.ts';
import { makeProject, REPO, removeProjects } from '../helpers/project.ts';

// A project sampler that writes down what the train task bound it to and draws the split in order.
const RECORDING_SAMPLER = `import { writeFileSync } from 'node:fs';
import { inject, injectable } from 'tsyringe';

const PLUGIN_CONFIG = Symbol.for('vidra.plugin.config');

class Recording {
  constructor(options) {
    this.options = options;
  }
  bind(data) {
    const { batch_size, drop_last } = this.options;
    const labels = data.labels;
    writeFileSync(this.options.file, JSON.stringify({ options: this.options, size: data.size, labels }));
    const numBatches = Math.floor(data.size / batch_size);
    return {
      batch_size, drop_last, numSamples: data.size, numBatches,
      *batches() {
        for (let b = 0; b < numBatches; b++) yield Array.from({ length: batch_size }, (_, k) => b * batch_size + k);
      },
    };
  }
}
Recording.prototype.type = 'index';
inject(PLUGIN_CONFIG)(Recording, undefined, 0);
injectable()(Recording);

export const plugins = [{
  kind: 'sampler',
  name: 'recording',
  description: 'test: records its binding, draws in order',
  schema: {
    type: 'object',
    properties: { batch_size: { type: 'integer' }, drop_last: { type: 'boolean' }, seed: { type: 'integer' }, file: { type: 'string' } },
    required: ['file'],
    additionalProperties: false,
  },
  create: Recording,
}];
`;

afterAll(removeProjects);

describe('the train task samples with task.nodes.sampler', () => {
  const p = makeProject({
    'vidra.config.json': JSON.stringify({ configDir: 'conf', plugins: ['./test-plugins.mjs', './sampler-plugins.mjs'] }),
    'sampler-plugins.mjs': RECORDING_SAMPLER,
    'conf/sampler/recording.yaml': '_target_: recording\nfile: bound.json\n',
  });
  const train = (args: string[], dir: string) => p.run(['run', '-cp', join(REPO, 'conf'), '-cd', 'conf', 'task.epochs=2', ...args, `vidra.run.dir=runs/${dir}`], { killAfterMs: 120_000 });
  const metrics = (dir: string) => withoutTime(p.read(`runs/${dir}/metrics.jsonl`));

  it('none and +sampler=random train identically; sequential and class_balanced are other runs, each deterministic', { timeout: 240_000 }, async () => {
    const runs = await Promise.all([
      train([], 'none'),
      train(['+sampler=random'], 'random'),
      train(['+sampler=sequential'], 'sequential'),
      train(['+sampler=class_balanced'], 'balanced'),
      train(['+sampler=class_balanced'], 'balanced2'),
    ]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(metrics('random')).toBe(metrics('none'));
    expect(metrics('sequential')).not.toBe(metrics('none'));
    expect(metrics('balanced')).not.toBe(metrics('none'));
    expect(metrics('balanced')).not.toBe(metrics('sequential'));
    expect(metrics('balanced2')).toBe(metrics('balanced'));
    expect(p.read('runs/balanced/.vidra/resolved.yaml')).toContain('sampler:\n  _target_: class_balanced\n  mode: cycle\n  samples_per_class: 1\n  num_samples: null\n  seed: 0\n');
  });

  it("the task binds the sampler to the training split (its size and each sample's labels), with task.batch_size and drop_last, and trains in the sampler's order", { timeout: 240_000 }, async () => {
    const [recorded, sequential] = await Promise.all([train(['+sampler=recording', 'task.batch_size=16'], 'recording'), train(['+sampler=sequential', 'task.batch_size=16'], 'sequential16')]);
    expect(recorded.code, recorded.stderr).toBe(0);
    expect(sequential.code, sequential.stderr).toBe(0);
    const bound = JSON.parse(p.read('bound.json')) as { options: Record<string, unknown>; size: number; labels: number[][] };
    expect(bound.options).toEqual({ file: 'bound.json', seed: 0, batch_size: 16, drop_last: true });
    // The synthetic Animal Kingdom train split: multi-label, 140 classes, every sample with a positive.
    expect(bound.size).toBeGreaterThan(100);
    expect(bound.labels).toHaveLength(bound.size);
    expect(bound.labels.every((l) => Array.isArray(l) && l.length > 0 && l.every((c) => Number.isInteger(c) && c >= 0 && c < 140))).toBe(true);
    expect(bound.labels.some((l) => l.length > 1)).toBe(true);
    // Drawn in order, as the sequential sampler draws: the same training.
    expect(metrics('recording')).toBe(metrics('sequential16'));
  });

  it('a sampler that disagrees with the task: its batch_size or drop_last=false fail the job naming the key', { timeout: 120_000 }, async () => {
    const [size, last] = await Promise.all([train(['+sampler=class_balanced', '+sampler.batch_size=4'], 'size'), train(['+sampler=class_balanced', '+sampler.drop_last=false'], 'last')]);
    expect(size.code).toBe(1);
    expect(size.stderr + size.stdout).toContain("sampler.batch_size=4, but the train task's batches have task.batch_size=32 rows (the compiled step's shape): leave sampler.batch_size out, or set task.batch_size");
    expect(last.code).toBe(1);
    expect(last.stderr + last.stdout).toContain('sampler.drop_last=false: every training batch has task.batch_size=32 rows (one compiled step)');
  });
});
