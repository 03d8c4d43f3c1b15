import 'reflect-metadata';
import { container } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/config/errors.ts';
import type { DictNode } from '../../core/config/node.ts';
import { loadYaml } from '../../core/config/yaml-load.ts';
import type { OptimizerModule } from '../../core/engine/modules.ts';
import { instantiate } from '../../core/plugins/instantiate.ts';
import { PluginRegistry } from '../../core/plugins/registry.ts';
import type { Adam } from '../../plugins/optimizers/adam.ts';
import type { AdamW } from '../../plugins/optimizers/adamw.ts';
import { optimizerPlugins } from '../../plugins/optimizers/index.ts';
import type { SGD } from '../../plugins/optimizers/sgd.ts';

const registry = () => {
  const r = new PluginRegistry();
  for (const d of optimizerPlugins) r.register(d);
  return r;
};
const build = <T extends OptimizerModule>(yaml: string) =>
  instantiate<T>(loadYaml(yaml, 'conf/optim/x.yaml').node as DictNode, { container, registry: registry(), kind: 'optimizer' }) as T;

describe('optimizer plugins from config', () => {
  it('registers sgd, adam and adamw', () => {
    expect(registry().list('optimizer').map((d) => d.name)).toEqual(['sgd', 'adam', 'adamw']);
  });

  it('fills torch’s defaults from the schema (adamw weight_decay 1e-2, adam 0)', () => {
    expect(build<AdamW>('_target_: adamw\nbetas: [0.9, 0.98]\n').options).toEqual({ lr: 1e-3, betas: [0.9, 0.98], eps: 1e-8, weight_decay: 1e-2, amsgrad: false, maximize: false });
    expect(build<Adam>('_target_: adam\n').options).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false, maximize: false });
    expect(build<SGD>('_target_: sgd\nlr: 0.1\nmomentum: 0.9\n').options).toEqual({ lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weight_decay: 0, maximize: false });
  });

  it('state tensors follow the options, named as torch names them', () => {
    expect(build<AdamW>('_target_: adamw\namsgrad: true\n').state.map((s) => s.name)).toEqual(['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq']);
    expect(build<SGD>('_target_: sgd\nlr: 0.1\nmomentum: 0.9\n').state).toEqual([{ name: 'momentum_buffer', init: 0 }]);
  });

  it('the schema refuses what torch refuses', () => {
    expect(() => build('_target_: adamw\nbetas: [0.9, 1.0]\n')).toThrow(ValidationError);
    expect(() => build('_target_: adamw\nbetas: [0.9]\n')).toThrow(ValidationError);
    expect(() => build('_target_: adam\neps: -1\n')).toThrow(ValidationError);
    expect(() => build('_target_: sgd\nmomentum: 0.9\n')).toThrow(/lr/);
    expect(() => build('_target_: adamw\nweight_decya: 0.1\n')).toThrow(ValidationError);
    // Nesterov's condition spans two keys: the constructor checks it, and the error says where.
    expect(() => build('_target_: sgd\nlr: 0.1\nnesterov: true\n')).toThrow(/Nesterov momentum requires a momentum > 0/);
  });
});
