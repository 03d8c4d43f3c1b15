import 'reflect-metadata';
import { container, inject, injectable } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { ValidationError, VidraError } from '../../core/config/errors.ts';
import type { DictNode } from '../../core/config/node.ts';
import { loadYaml } from '../../core/config/yaml-load.ts';
import { instantiate, InstantiationError, type PartialFactory } from '../../core/plugins/instantiate.ts';
import { definePlugin, PluginRegistry, UnknownPluginError } from '../../core/plugins/registry.ts';
import { PLUGIN_ARGS, PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import type { PluginKind } from '../../core/plugins/kinds.ts';
import { createPlugin } from '../../plugins/create.ts';
import { validateAll } from '../../core/plugins/validate.ts';

@injectable()
class Focal {
  constructor(@inject(PLUGIN_CONFIG) readonly cfg: { alpha: number; gamma: number; reduction: string }) {}
}

@injectable()
class Head {
  constructor(
    @inject(PLUGIN_CONFIG) readonly cfg: { in_dim: number; loss: Focal },
    @inject(PLUGIN_ARGS) readonly args: unknown[],
  ) {}
}

@injectable()
class Exploding {
  constructor() {
    throw new RangeError('in_dim must divide the number of heads');
  }
}

const focal = definePlugin({
  kind: 'loss',
  name: 'focal',
  description: 'sigmoid focal loss',
  schema: {
    type: 'object',
    properties: {
      alpha: { type: 'number', default: 0.25 },
      gamma: { type: 'number', minimum: 0, default: 2 },
      reduction: { enum: ['none', 'mean', 'sum'], default: 'none' },
    },
    additionalProperties: false,
  },
  create: Focal,
});
const head = definePlugin({
  kind: 'model',
  name: 'linear',
  description: 'linear head',
  schema: { type: 'object', properties: { in_dim: { type: 'integer', minimum: 1 }, loss: { type: 'object' } }, required: ['in_dim'], additionalProperties: false },
  create: Head,
});
const exploding = definePlugin({ kind: 'model', name: 'exploding', description: 'throws', schema: { type: 'object' }, create: Exploding });

function registry(): PluginRegistry {
  const r = new PluginRegistry();
  for (const d of [focal, head, exploding]) r.register(d);
  return r;
}

const node = (yaml: string, file = 'conf/x.yaml') => loadYaml(yaml, file).node;

describe('the registry: one per plugin kind, names looked up, never imported', () => {
  it('finds a plugin by name, or kind:name', () => {
    const r = registry();
    expect(r.get('focal').create).toBe(Focal);
    expect(r.get('loss:focal').create).toBe(Focal);
    expect(r.get('focal', 'loss').name).toBe('focal');
  });

  it('an unknown name lists the registry searched and the closest names', () => {
    const r = registry();
    expect(() => r.get('focall', 'loss')).toThrow(UnknownPluginError);
    expect(() => r.get('focall', 'loss')).toThrow("no loss named 'focall' in the 'loss' registry. Closest names: focal. Registered: focal.");
    expect(() => r.get('my.module:Thing')).toThrow(/no plugin named 'my\.module:Thing'/);
  });

  it('a name registered twice is an error unless replaced', () => {
    const r = registry();
    expect(() => r.register({ ...focal, create: Head })).toThrow(/a loss plugin named 'focal' is already registered/);
    r.register({ ...focal, create: Head }, { replace: true });
    expect(r.get('focal').create).toBe(Head);
  });

  it('rejects bad names and kinds', () => {
    const r = registry();
    expect(() => r.register({ ...focal, name: 'a/b' })).toThrow(/invalid plugin name 'a\/b'/);
    expect(() => r.register({ ...focal, kind: 'widget' as never })).toThrow(/unknown kind 'widget'/);
  });

  it('a kind that does not exist (from untyped code, or the library API) names the kinds that do', () => {
    const reg = registry();
    const kinds = 'Plugin kinds: dataset, sampler, model, loss, strategy, metric, optimizer, scheduler, launcher, sweeper, callback, task';
    const backbone = 'backbone' as PluginKind;
    expect(() => createPlugin(backbone, 'r2plus1d_18')).toThrow(new UnknownPluginError(`there is no plugin kind 'backbone'. ${kinds}`));
    expect(() => reg.get('focal', 'losses' as PluginKind)).toThrow(new UnknownPluginError(`there is no plugin kind 'losses'. Did you mean 'loss'? ${kinds}`));
    expect(() => reg.has('focal', backbone)).toThrow(UnknownPluginError);
    expect(() => reg.list(backbone)).toThrow(UnknownPluginError);
  });

  it('the same name in two kinds must be qualified', () => {
    const r = registry();
    r.register({ ...head, kind: 'loss', name: 'linear' });
    expect(() => r.get('linear')).toThrow("the plugin name 'linear' is ambiguous: it is registered as model:linear and loss:linear; write one of these in _target_");
  });
});

describe('validation against each plugin schema, with file:line:col', () => {
  it('reports the location of the offending value and what the plugin accepts', () => {
    const root = node('loss:\n  _target_: focal\n  gamma: -1\n  alpha: high\n');
    let err: Error | undefined;
    try {
      validateAll(root, registry());
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect(err!.message).toContain("invalid config for the loss plugin 'focal' at 'loss':");
    expect(err!.message).toContain("conf/x.yaml:3:10: 'loss.gamma' must be >= 0 (got int -1)");
    expect(err!.message).toContain("conf/x.yaml:4:10: 'loss.alpha' must be number (got the string 'high')");
    expect(err!.message).toContain("The loss plugin 'focal' accepts: alpha (number), gamma (number), reduction.");
  });

  it('unknown keys, enum values and required keys', () => {
    expect(() => validateAll(node('loss:\n  _target_: focal\n  gama: 2\n'), registry())).toThrow("conf/x.yaml:3:9: 'loss.gama' is not a key of this plugin. Did you mean 'loss.gamma'?\n");
    // A nested key is matched against the keys of its own level of the schema.
    expect(() => createPlugin('dataset', 'synthetic', { backbone: { names: 'x', dim: 3 } })).toThrow(
      "'dataset.backbone.names' is not a key of this plugin. Did you mean 'dataset.backbone.name'?\n",
    );
    expect(() => validateAll(node('loss:\n  _target_: focal\n  reduction: avg\n'), registry())).toThrow(
      `conf/x.yaml:3:14: 'loss.reduction' must be one of "none", "mean", "sum" (got the string 'avg')`,
    );
    expect(() => validateAll(node('head:\n  _target_: linear\n'), registry())).toThrow("'head' is missing the required key 'in_dim'");
  });

  it('an unknown _target_ points at it', () => {
    expect(() => validateAll(node('loss:\n  _target_: focall\n'), registry())).toThrow(/^conf\/x\.yaml:2:13: no plugin named 'focall'.*Closest names: focal/);
  });

  it('plain YAML without _target_ is not validated', () => {
    expect(() => validateAll(node('loss:\n  gamma: whatever\n'), registry())).not.toThrow();
  });
});

describe('instantiate builds plugins through tsyringe', () => {
  it('injects the validated config with schema defaults', () => {
    const built = instantiate<Focal>(node('_target_: focal\ngamma: 1.5\n'), { container, registry: registry() }) as Focal;
    expect(built).toBeInstanceOf(Focal);
    expect(built.cfg).toEqual({ alpha: 0.25, gamma: 1.5, reduction: 'none' });
  });

  it('builds nested plugin nodes first (_recursive_) and passes _args_', () => {
    const built = instantiate<Head>(node('_target_: linear\n_args_: [1, two]\nin_dim: 8\nloss:\n  _target_: focal\n'), {
      container,
      registry: registry(),
    }) as Head;
    expect(built.cfg.loss).toBeInstanceOf(Focal);
    expect(built.args).toEqual([1, 'two']);
  });

  it('_recursive_: false leaves nested nodes as config', () => {
    const built = instantiate<Head>(node('_target_: linear\n_recursive_: false\nin_dim: 8\nloss:\n  _target_: focal\n'), {
      container,
      registry: registry(),
    }) as Head;
    expect(built.cfg.loss).toEqual({ _target_: 'focal' });
  });

  it('_partial_: true returns a factory taking the missing values', () => {
    const make = instantiate<Focal>(node('_target_: focal\n_partial_: true\n'), { container, registry: registry() }) as PartialFactory<Focal>;
    expect(typeof make).toBe('function');
    expect(make({ gamma: 0 }).cfg.gamma).toBe(0);
    expect(make().cfg.gamma).toBe(2);
  });

  it('a constructor error keeps its own message, with the plugin and the config location', () => {
    const run = () => instantiate(node('m:\n  _target_: exploding\n').entries.get('m') as DictNode, { container, registry: registry(), path: 'm' });
    expect(run).toThrow(InstantiationError);
    expect(run).toThrow("building the model plugin 'exploding' at 'm' (conf/x.yaml:2:3) failed: in_dim must divide the number of heads");
  });

  it('restricting the kind', () => {
    expect(() => instantiate(node('_target_: focal\n'), { container, registry: registry(), kind: 'model' })).toThrow(VidraError);
  });
});
