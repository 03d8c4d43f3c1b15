// The Config read API: what a training script sees of its composed config.
import { describe, expect, it } from 'vitest';
import { Config } from '../../core/config/config.ts';
import { ConfigKeyError, ConfigTypeError, InterpolationError, MissingMandatoryValueError } from '../../core/config/errors.ts';
import { DictNode, Float, ValueNode, fromPlain, missingNode, strNode, type SourceLoc } from '../../core/config/node.ts';

const loc = (line: number, col = 3): SourceLoc => ({ file: 'conf/train.yaml', line, col });
const at = (line: number, value: string) => strNode(value, loc(line));
const miss = (line: number) => missingNode(loc(line));
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

/** A config whose nodes carry locations: the root at line 1, the others where given. */
function config(): Config {
  const root = fromPlain(
    {
      seed: 7,
      optim: fromPlain({ name: 'adam', lr: new Float(1e-3), wd: at(5, '${.lr}') }, loc(3, 1)),
      model: fromPlain({ name: 'x3d', depth: miss(9), layers: [64, '${...width}', miss(11)] }, loc(8, 1)),
      width: 128,
      trainer: fromPlain({ optim: at(14, '${optim}'), run: at(15, 'run_${seed}'), depth: at(16, '${model.depth}') }, loc(13, 1)),
      empty: {},
    },
    loc(1, 1),
  ) as DictNode;
  return new Config(root);
}

describe('get', () => {
  const c = config();

  it('reads scalars by dotted path and list index, resolving interpolations', () => {
    expect(c.get('seed')).toBe(7);
    expect(c.get('optim.wd')).toBe(0.001);
    expect(c.get('model.layers[1]')).toBe(128);
    expect(c.get('model.layers.0')).toBe(64);
    expect(c.get('model.layers[-2]')).toBe(128);
    expect(c.get('trainer.run')).toBe('run_7');
  });

  it('follows interpolations on the way', () => {
    expect(c.get('trainer.optim.wd')).toBe(0.001);
  });

  it('returns containers as plain JS, fully resolved', () => {
    expect(c.get('optim')).toEqual({ name: 'adam', lr: 0.001, wd: 0.001 });
    expect(c.get('trainer.optim')).toEqual({ name: 'adam', lr: 0.001, wd: 0.001 });
    expect(c.get('empty')).toEqual({});
  });

  it('throws MissingMandatoryValueError naming the key and where it is set', () => {
    const e = thrown(() => c.get('model.depth'));
    expect(e).toBeInstanceOf(MissingMandatoryValueError);
    expect(e.message).toBe('conf/train.yaml:9:3: Missing mandatory value: model.depth');
    expect(thrown(() => c.get('model')).message).toBe('conf/train.yaml:9:3: Missing mandatory value: model.depth');
    expect(thrown(() => c.get('model.layers')).message).toBe('conf/train.yaml:11:3: Missing mandatory value: model.layers[2]');
    expect(thrown(() => c.get('trainer.depth')).message).toBe(
      "conf/train.yaml:16:3: Cannot resolve '${model.depth}' at 'trainer.depth': interpolation to missing value 'model.depth' (???, set at conf/train.yaml:9:3)",
    );
  });

  it('throws ConfigKeyError for an absent key, with a suggestion from the siblings', () => {
    const e = thrown(() => c.get('optim.lrr'));
    expect(e).toBeInstanceOf(ConfigKeyError);
    expect(e.message).toBe("conf/train.yaml:3:1: Key 'lrr' not found in 'optim'. Did you mean 'lr'?");
    expect(thrown(() => c.get('sed')).message).toBe("conf/train.yaml:1:1: Key 'sed' not found in the config. Did you mean 'seed'?");
    expect(thrown(() => c.get('model.layers[3]')).message).toBe("conf/train.yaml:8:1: Index 3 is out of range for 'model.layers', a list of 3 items");
  });

  it('throws ConfigTypeError when a scalar is on the way', () => {
    const e = thrown(() => c.get('seed.x'));
    expect(e).toBeInstanceOf(ConfigTypeError);
    expect(e.message).toBe("conf/train.yaml:1:1: Cannot read 'seed.x': 'seed' is an int, not a container");
  });

  it('reads the whole config with an empty path', () => {
    expect(cfgOf({ a: '${b}', b: 1 }).get('')).toEqual({ a: 1, b: 1 });
  });
});

function cfgOf(obj: Record<string, unknown>): Config {
  return new Config(fromPlain(obj) as DictNode);
}

describe('select', () => {
  const c = config();

  it('reads like get', () => {
    expect(c.select('optim.wd')).toBe(0.001);
  });

  it('gives the default for an absent key or ???, undefined without one', () => {
    expect(c.select('optim.nope', { default: 1 })).toBe(1);
    expect(c.select('model.depth', { default: 50 })).toBe(50);
    expect(c.select('seed.x', { default: 'd' })).toBe('d');
    expect(c.select('nope.deeper')).toBeUndefined();
    expect(c.select('model.depth')).toBeUndefined();
  });

  it('still reports interpolation errors', () => {
    expect(() => c.select('trainer.depth', { default: 1 })).toThrow(MissingMandatoryValueError);
  });
});

describe('has, node, isMissing, missingKeys', () => {
  const c = config();

  it('has: the key exists, ??? included', () => {
    expect(c.has('optim.lr')).toBe(true);
    expect(c.has('model.depth')).toBe(true);
    expect(c.has('trainer.optim.lr')).toBe(true);
    expect(c.has('optim.nope')).toBe(false);
    expect(c.has('seed.x')).toBe(false);
  });

  it('node: the raw node, interpolations not followed', () => {
    expect(c.node('trainer.optim')).toEqual(at(14, '${optim}'));
    expect(c.node('trainer.optim.lr')).toBeUndefined();
    expect(c.node('model.layers[1]')).toMatchObject({ value: '${...width}' });
  });

  it('isMissing: only ??? itself', () => {
    expect(c.isMissing('model.depth')).toBe(true);
    expect(c.isMissing('trainer.depth')).toBe(false);
    expect(c.isMissing('nope')).toBe(false);
  });

  it('missingKeys: full keys in document order', () => {
    expect(c.missingKeys()).toEqual(['model.depth', 'model.layers[2]']);
  });
});

describe('resolvedNode', () => {
  const c = config();

  it('resolves every interpolation and keeps types', () => {
    const n = c.resolvedNode('optim') as DictNode;
    expect(n.entries.get('wd')).toEqual(new ValueNode(0.001, 'float', loc(5)));
    expect(c.resolvedNode('seed')).toEqual(new ValueNode(7, 'int', loc(1, 1)));
  });

  it('gives an interpolated value the location of its interpolation', () => {
    expect(c.resolvedNode('trainer.run')).toEqual(new ValueNode('run_7', 'str', loc(15)));
    const t = c.resolvedNode('trainer') as DictNode;
    const optim = t.entries.get('optim') as DictNode;
    expect(optim.loc).toEqual(loc(14));
    expect(optim.entries.get('name')!.loc).toEqual(loc(3, 1));
  });

  it('keeps ??? and turns an interpolation to ??? into ???, as OmegaConf.resolve', () => {
    const t = c.resolvedNode('trainer') as DictNode;
    expect(t.entries.get('depth')).toEqual(new ValueNode('???', 'missing', loc(16)));
    const m = c.resolvedNode('model') as DictNode;
    expect(m.entries.get('depth')).toEqual(miss(9));
  });

  it('returns the tree itself when nothing needs resolving', () => {
    const plain = fromPlain({ a: { b: 1 } }) as DictNode;
    expect(new Config(plain).resolvedNode()).toBe(plain);
  });
});

describe('toObject', () => {
  const c = config();

  it('is unresolved by default, as .vidra/config.yaml records it', () => {
    expect(c.toObject()).toMatchObject({ optim: { wd: '${.lr}' }, model: { depth: '???' }, trainer: { run: 'run_${seed}' } });
  });

  it('resolves on request, keeping ???', () => {
    const ok = cfgOf({ a: '${b}', b: 1, m: '???' });
    expect(ok.toObject({ resolve: true })).toEqual({ a: 1, b: 1, m: '???' });
  });

  it('throws on ??? with throwOnMissing', () => {
    expect(thrown(() => c.toObject({ throwOnMissing: true })).message).toBe('conf/train.yaml:9:3: Missing mandatory value: model.depth');
  });

  it('throws for an interpolation to ??? when resolving, as OmegaConf.to_container', () => {
    expect(() => c.toObject({ resolve: true })).toThrow(MissingMandatoryValueError);
  });
});

describe('toYaml', () => {
  it('writes the unresolved config by default, the resolved one on request', () => {
    const c = cfgOf({ lr: new Float(1e-5), run: 'run_${seed}', seed: 1, tags: ['a', '${seed}'] });
    expect(c.toYaml()).toBe("lr: 1.0e-05\nrun: run_${seed}\nseed: 1\ntags:\n- a\n- ${seed}\n");
    expect(c.toYaml({ resolve: true })).toBe("lr: 1.0e-05\nrun: run_1\nseed: 1\ntags:\n- a\n- 1\n");
  });
});

describe('the vidra node', () => {
  it('is optional and kept as given', () => {
    const v = fromPlain({ job: { name: 'j' } }) as DictNode;
    expect(cfgOf({}).vidra).toBeUndefined();
    expect(new Config(fromPlain({}) as DictNode, { vidra: v }).vidra).toBe(v);
  });

  it('does not appear in the job config', () => {
    const c = new Config(fromPlain({ a: '${vidra.job.name}' }) as DictNode, { vidra: fromPlain({ job: { name: 'j' } }) as DictNode });
    expect(() => c.get('a')).toThrow(InterpolationError);
    expect(c.has('vidra')).toBe(false);
  });
});
