// `vidra plugins [kind]`: the registered plugins (Vidra's and the project's) with each config key's type,
// default and description, read from the plugins' JSON Schemas.
import { describe, expect, test } from 'vitest';
import { PLUGIN_KINDS } from '../../core/plugins/kinds.ts';
import { makeProject } from '../helpers/project.ts';

const T = 30_000;

describe.concurrent('vidra plugins [kind]', () => {
  const p = makeProject();

  test('a kind: its plugins, each key with type, default and description', { timeout: T }, async () => {
    const r = await p.run(['plugins', 'loss']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('loss:');
    expect(lines[1]).toMatch(/^ {2}bce {18}binary cross-entropy with logits/);
    expect(lines).toContain('      label_smoothing: number = 0        ε: the target distribution is (1 − ε)·one_hot + ε/C (torch label_smoothing)');
    expect(lines).toContain('      reduction: mean|sum = "mean"       each column’s CE over the batch: mean or sum (columns are always summed)');
    expect(lines).toContain('      max_tail_num: integer = 100        animal_kingdom: a class with count <= max_tail_num is a tail class');
    // Only losses: no other kind's header.
    expect(lines.filter((l) => /^\S/.test(l))).toEqual(['loss:']);
    expect(lines.filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(' ')[0])).toEqual(['bce', 'ce', 'focal', 'eql', 'ldam', 'infonce', 'multi_ce']);
  });

  test("the project's plugins (the settings' plugins list) are listed with Vidra's; a key without default is marked required", { timeout: T }, async () => {
    const r = await p.run(['plugins', 'task']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  succeed              deterministic task writing metrics.jsonl\n      steps: integer = 5\n');
    expect(r.stdout).toContain('      checkpoint: string (required)      a train or continual run directory (its checkpoints/last.safetensors is read), or a weights file such as <run dir>/checkpoints/best.safetensors\n');
  });

  test('no kind: every kind that has plugins, in the order of the kinds', { timeout: T }, async () => {
    const r = await p.run(['plugins']);
    expect(r.code).toBe(0);
    const headers = r.stdout.split('\n').filter((l) => /^\S/.test(l));
    expect(headers).toEqual(PLUGIN_KINDS.map((k) => `${k}:`).filter((h) => headers.includes(h)));
    expect(headers).toEqual(expect.arrayContaining(['dataset:', 'sampler:', 'model:', 'loss:', 'strategy:', 'metric:', 'optimizer:', 'scheduler:', 'launcher:', 'sweeper:', 'task:']));
  });

  test('an unknown kind or extra arguments: one usage error, exit 2', { timeout: T }, async () => {
    const [a, b] = await Promise.all([p.run(['plugins', 'los']), p.run(['plugins', 'loss', 'model'])]);
    expect(a).toMatchObject({ code: 2, stdout: '' });
    expect(a.stderr.split('\n')[0]).toBe(
      "Error: vidra plugins: there is no plugin kind 'los'. Did you mean 'loss'? Plugin kinds: dataset, sampler, model, loss, strategy, metric, optimizer, scheduler, launcher, sweeper, callback, task",
    );
    expect(b).toMatchObject({ code: 2, stdout: '' });
    expect(b.stderr.split('\n')[0]).toBe('Error: vidra plugins takes at most one argument, a plugin kind (got 2: loss model). usage: vidra plugins [kind]');
  });
});
