import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/config/errors.ts';
import type { DictNode } from '../../core/config/node.ts';
import { loadYaml } from '../../core/config/yaml-load.ts';
import { createLoss, evaluateLoss } from '../../plugins/losses/evaluate.ts';
import { EngineError } from '../../core/engine/session.ts';
import { container } from '../../core/plugins/di.ts';
import { instantiate } from '../../core/plugins/instantiate.ts';
import { PluginRegistry, UnknownPluginError } from '../../core/plugins/registry.ts';
import { validateAll } from '../../core/plugins/validate.ts';
import { BceLoss } from '../../plugins/losses/bce.ts';
import { EqlLoss } from '../../plugins/losses/eql.ts';
import { FocalLoss } from '../../plugins/losses/focal.ts';
import { lossPlugins } from '../../plugins/losses/index.ts';
import { matrix } from './harness.ts';
import { bceGrad, expectClose, focalSigmoid } from './reference.ts';

const x = matrix(61, 2, 3);
const y = [
  [1, 0, 0],
  [0, 1, 1],
];

describe('the loss plugins: one registry entry per loss, config validated like any plugin', () => {
  it('lossPlugins holds bce, ce, focal, eql, ldam, infonce, multi_ce, all of kind loss', () => {
    expect(lossPlugins.map((d) => d.name)).toEqual(['bce', 'ce', 'focal', 'eql', 'ldam', 'infonce', 'multi_ce']);
    expect(lossPlugins.every((d) => d.kind === 'loss')).toBe(true);
  });

  it('every schema compiles under ajv strict mode, and every key has a default and a description', () => {
    const registry = new PluginRegistry();
    for (const def of lossPlugins) registry.register(def);
    const root = loadYaml(lossPlugins.map((d) => `${d.name}: {_target_: ${d.name}}`).join('\n'), 'conf/losses.yaml').node as DictNode;
    expect(() => validateAll(root, registry)).not.toThrow();
    for (const def of lossPlugins) {
      for (const [key, prop] of Object.entries(def.schema.properties as Record<string, Record<string, unknown>>)) {
        expect('default' in prop, `${def.name}.${key} default`).toBe(true);
        expect(typeof prop.description, `${def.name}.${key} description`).toBe('string');
      }
    }
  });

  it('a config node builds the same plugin class that evaluateLoss uses, defaults filled in', () => {
    const registry = new PluginRegistry();
    for (const def of lossPlugins) registry.register(def);
    const node = loadYaml('_target_: focal\ngamma: 1.0\nreduction: mean\n', 'conf/loss/focal.yaml').node as DictNode;
    const fromConfig = instantiate(node, { container, registry, kind: 'loss', path: 'loss' });
    expect(fromConfig).toBeInstanceOf(FocalLoss);
    expect(createLoss('focal')).toBeInstanceOf(FocalLoss);
    expect(createLoss('bce')).toBeInstanceOf(BceLoss);
    expect((createLoss('eql') as EqlLoss).lambda).toBe(0.00177);
    expect(createLoss('eql').needsClassCounts).toBe(true);
    expect(createLoss('ldam').needsClassCounts).toBe(true);
    expect(createLoss('infonce').targetKind).toBe('none');
  });
});

describe('evaluateLoss: loss and d loss / d logits from one ONNX graph', () => {
  it('returns plain numbers and arrays shaped like the inputs', async () => {
    const r = await evaluateLoss('bce', {}, { logits: x, targets: y });
    expect(typeof r.loss).toBe('number');
    expect(r.grad.map((row) => row.length)).toEqual([3, 3]);
    expectClose(r.grad, bceGrad(x, y));
    const none = await evaluateLoss('ce', { reduction: 'none' }, { logits: x, targets: [2, 0] });
    expect((none.loss as number[]).length).toBe(2);
  });

  it("for reduction 'none' the gradient is that of the sum of the element losses", async () => {
    const r = await evaluateLoss('focal', {}, { logits: x, targets: y });
    expectClose(r.loss, focalSigmoid(x, y));
    const sum = await evaluateLoss('focal', { reduction: 'sum' }, { logits: x, targets: y });
    expectClose(r.grad, sum.grad);
  });

  it('an unknown loss name is the registry error, with the closest names', async () => {
    const err = await evaluateLoss('focall', {}, { logits: x, targets: y }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownPluginError);
    expect((err as Error).message).toMatch(/^no loss named 'focall' in the 'loss' registry\. Closest names: focal\. Registered: bce, ce, eql, focal, infonce, ldam, multi_ce\./);
  });

  it("a bad option is the schema's validation error: every problem, and the keys the loss accepts", async () => {
    const err = await evaluateLoss('bce', { reduction: 'avg', pos_weigth: [1] }, { logits: x, targets: y }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toBe(
      "invalid config for the loss plugin 'bce' at 'loss':\n" +
        "  loss 'bce' options: 'loss.pos_weigth' is not a key of this plugin. Did you mean 'loss.pos_weight'?\n" +
        `  loss 'bce' options: 'loss.reduction' must be one of "mean", "sum", "none" (got the string 'avg')\n` +
        "  The loss plugin 'bce' accepts: reduction (string), weight (array|null), pos_weight (array|null).",
    );
    await expect(evaluateLoss('focal', { gamma: -1 }, { logits: x, targets: y })).rejects.toThrow("'loss.gamma' must be >= 0 (got int -1)");
    await expect(evaluateLoss('eql', { variant: 'lvis' }, { logits: x, targets: y })).rejects.toThrow(`'loss.variant' must be one of "original", "animal_kingdom"`);
    await expect(evaluateLoss('ce', { label_smoothing: 'a bit' }, { logits: x, targets: [0, 1] })).rejects.toThrow("'loss.label_smoothing' must be number");
    await expect(evaluateLoss('bce', { _partial_: true }, { logits: x, targets: y })).rejects.toThrow('the options of the bce loss are its config keys only, without _partial_');
  });

  it('wrong shapes: the message gives the shapes', async () => {
    await expect(evaluateLoss('bce', {}, { logits: [[1, 2], [3]], targets: y })).rejects.toThrow('bce: logits is not rectangular: row 0 has 2 values, row 1 has 1');
    await expect(evaluateLoss('bce', {}, { logits: [], targets: y })).rejects.toThrow('bce: logits must be a non-empty matrix');
    await expect(evaluateLoss('bce', {}, { logits: x, targets: [[1, 0]] })).rejects.toThrow("the bce loss's targets must be shaped like the logits [2, 3], got [1, 2]");
    await expect(evaluateLoss('bce', {}, { logits: x, targets: [0, 1] })).rejects.toThrow('the bce loss (with these options) takes multi-hot targets [2, 3], not a vector of class indices');
    await expect(evaluateLoss('bce', {}, { logits: x })).rejects.toThrow('the bce loss needs targets: a multi-hot matrix [2, 3]');
    await expect(evaluateLoss('eql', { variant: 'animal_kingdom' }, { logits: x, targets: y, classCounts: [1, 2, 3], mask: [[1, 0, 1]] })).rejects.toThrow(
      "the eql loss's mask must be shaped like the logits [2, 3], got [1, 3]",
    );
    await expect(evaluateLoss('bce', {}, { logits: x, targets: y, mask: y })).rejects.toThrow('the bce loss (with these options) takes no mask');
  });

  it('a loss needing class counts without them: an EngineError naming data.class_counts', async () => {
    const err = await evaluateLoss('ldam', { variant: 'animal_kingdom' }, { logits: x, targets: y }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as Error).message).toContain('(data.class_counts)');
  });

  it('float32 evaluation is close to float64', async () => {
    const f64 = await evaluateLoss('bce', { pos_weight: [1, 2, 3] }, { logits: x, targets: y });
    const f32 = await evaluateLoss('bce', { pos_weight: [1, 2, 3] }, { logits: x, targets: y }, { dtype: 'float32' });
    expectClose(f32.loss, f64.loss as number, { rtol: 1e-5 });
    expectClose(f32.grad, f64.grad, { rtol: 1e-5, atol: 1e-7 });
  });
});
