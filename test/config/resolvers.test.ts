// Resolvers: the registry (OmegaConf.register_new_resolver) and the built-ins
// (omegaconf/resolvers/oc, Hydra's now and hydra → vidra). Expected values were checked
// against omegaconf 2.3.1.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Config } from '../../core/config/config.ts';
import { InterpolationError, MissingMandatoryValueError } from '../../core/config/errors.ts';
import { DictNode, Float, ValueNode, fromPlain, strNode, type SourceLoc } from '../../core/config/node.ts';
import {
  clearResolver,
  hasResolver,
  registerResolver,
  resetNowCache,
  resetResolvers,
  strftime,
  type ResolverContext,
} from '../../core/config/resolvers.ts';

const loc = (line: number, col = 3): SourceLoc => ({ file: 'conf/config.yaml', line, col });
const at = (line: number, value: string) => strNode(value, loc(line));
const dict = (obj: Record<string, unknown>) => fromPlain(obj, loc(1, 1)) as DictNode;
const cfg = (obj: Record<string, unknown>, vidra?: Record<string, unknown>) => new Config(dict(obj), { vidra: vidra ? dict(vidra) : undefined });
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

afterEach(() => {
  resetResolvers();
  resetNowCache();
});

describe('custom resolvers get typed arguments', () => {
  it('passes ints, floats, quoted strings, bools, null, lists and dicts as plain JS', () => {
    const seen: unknown[][] = [];
    registerResolver('t.args', (...a: unknown[]) => {
      seen.push(a);
      return 'ok';
    });
    cfg({ v: "${t.args:1, 1.5, '1', abc, true, null, [1, '2', [3]], {a: 1, b: x y}}" }).get('v');
    expect(seen).toEqual([[1, 1.5, '1', 'abc', true, null, [1, '2', [3]], { a: 1, b: 'x y' }]]);
  });

  it('passes ${x} with its type, and containers fully resolved', () => {
    const seen: unknown[][] = [];
    registerResolver('t.args', (...a: unknown[]) => (seen.push(a), 0));
    cfg({ i: 2, f: new Float(0.5), s: '3', m: { a: '${i}', b: [true] }, v: "${t.args:${i},${f},${s},${m},x_${i},'${i}'}" }).get('v');
    expect(seen).toEqual([[2, 0.5, '3', { a: 2, b: [true] }, 'x_2', '2']]);
  });

  it('keeps the type of the result: ints, floats (Float for integral ones), strings, bools, null', () => {
    registerResolver('t.add', (a: number, b: number) => a + b);
    registerResolver('t.half', (a: number) => a / 2);
    registerResolver('t.flt', (a: number) => new Float(a));
    registerResolver('t.none', () => undefined);
    const c = cfg({ a: '${t.add:1,2}', b: '${t.half:3}', c: '${t.flt:2}', d: '${t.none:}', e: 'n=${t.flt:2}' });
    expect(c.resolvedNode('a')).toMatchObject({ value: 3, type: 'int' });
    expect(c.resolvedNode('b')).toMatchObject({ value: 1.5, type: 'float' });
    expect(c.resolvedNode('c')).toMatchObject({ value: 2, type: 'float' });
    expect(c.resolvedNode('d')).toMatchObject({ value: null, type: 'null' });
    expect(c.get('e')).toBe('n=2.0');
  });

  it('keeps returned strings, arrays and objects as they are: ${ and ??? in them are text', () => {
    registerResolver('t.lit', () => ({ s: '${x}', m: '???', l: ['${x}'] }));
    registerResolver('t.str', () => '${x}');
    const c = cfg({ x: 1, a: '${t.lit:}', b: '${t.str:}', c: '${a.s}' });
    expect(c.get('a')).toEqual({ s: '${x}', m: '???', l: ['${x}'] });
    expect(c.get('b')).toBe('${x}');
    expect(c.get('c')).toBe('${x}');
  });

  it('resolves a returned config node where the interpolation is', () => {
    registerResolver('t.node', () => fromPlain({ near: '${..x}', far: '${x}' }));
    const c = cfg({ x: 0, n: { x: 1, made: '${t.node:}' } });
    expect(c.get('n.made')).toEqual({ near: 1, far: 0 });
  });

  it('passes { config, path } first when registered with passContext', () => {
    let ctx: ResolverContext | undefined;
    registerResolver('t.ctx', (c: ResolverContext, name: string) => ((ctx = c), `${c.path.join('/')}:${name}`), { passContext: true });
    const c = cfg({ a: { b: '${t.ctx:hi}' } });
    expect(c.get('a.b')).toBe('a/b:hi');
    expect(ctx!.config).toBe(c);
  });

  it('reports an exception with the resolver, the interpolation, the key and the location', () => {
    registerResolver('t.boom', () => {
      throw new TypeError('bad input');
    });
    const c = new Config(dict({ a: at(4, '${t.boom:1}') }));
    const e = thrown(() => c.get('a'));
    expect(e).toBeInstanceOf(InterpolationError);
    expect(e.message).toBe("conf/config.yaml:4:3: Resolver 't.boom' failed: TypeError: bad input (in '${t.boom:1}' at 'a')");
    expect(e.cause).toBeInstanceOf(TypeError);
  });

  it('rejects an unknown resolver, listing the registered ones with a suggestion', () => {
    const c = new Config(dict({ a: at(2, '${oc.enx:HOME}') }));
    expect(thrown(() => c.get('a')).message).toBe(
      "conf/config.yaml:2:3: Unsupported interpolation type 'oc.enx'. Registered resolvers: now, oc.create, oc.decode, oc.deprecated, oc.dict.keys, oc.dict.values, oc.env, oc.select, train_steps, vidra (in '${oc.enx:HOME}' at 'a'). Did you mean 'oc.env'?",
    );
  });

  it('resolves interpolated resolver names', () => {
    registerResolver('ns.f', () => 'called');
    expect(cfg({ which: 'f', v: '${ns.${which}:}' }).get('v')).toBe('called');
  });
});

describe('registration', () => {
  it('refuses a second resolver of the same name unless replace is set', () => {
    registerResolver('t.once', () => 1);
    expect(() => registerResolver('t.once', () => 2)).toThrow("resolver 't.once' is already registered");
    registerResolver('t.once', () => 2, { replace: true });
    expect(cfg({ v: '${t.once:}' }).get('v')).toBe(2);
  });

  it('refuses built-in names too, and names that cannot be called', () => {
    expect(() => registerResolver('oc.env', () => 1)).toThrow("resolver 'oc.env' is already registered");
    expect(() => registerResolver('a b', () => 1)).toThrow("'a b' cannot be a resolver name");
    expect(() => registerResolver('', () => 1)).toThrow("'' cannot be a resolver name");
  });

  it('refuses useCache with passContext', () => {
    expect(() => registerResolver('t.x', (() => 1) as never, { useCache: true, passContext: true })).toThrow(
      "resolver 't.x': useCache cannot be combined with passContext",
    );
  });

  it('has, clear and reset', () => {
    registerResolver('t.tmp', () => 1);
    expect(hasResolver('t.tmp')).toBe(true);
    expect(clearResolver('t.tmp')).toBe(true);
    expect(hasResolver('t.tmp')).toBe(false);
    clearResolver('oc.env');
    resetResolvers();
    expect(hasResolver('oc.env')).toBe(true);
  });
});

describe('useCache', () => {
  it('calls once per config for each argument text, like OmegaConf', () => {
    let calls = 0;
    registerResolver('t.count', () => ++calls, { useCache: true });
    const c = cfg({ a: '${t.count:}', b: '${t.count:}', c: '${t.count:x}', d: '${t.count: x }' });
    expect([c.get('a'), c.get('b'), c.get('c'), c.get('d')]).toEqual([1, 1, 2, 2]);
    expect(c.get('a')).toBe(1); // a later read of the same config
    expect(cfg({ a: '${t.count:}' }).get('a')).toBe(3); // another config has its own cache
  });

  it('keys on the argument text, not its value: ${f:${x}} stays cached', () => {
    registerResolver('t.id', (x: unknown) => x, { useCache: true });
    const c = cfg({ x: 1, y: 2, a: '${t.id:${x}}', b: '${t.id:${y}}' });
    expect([c.get('a'), c.get('b')]).toEqual([1, 2]);
  });

  it('without it, calls on every read', () => {
    let calls = 0;
    registerResolver('t.count', () => ++calls);
    const c = cfg({ a: '${t.count:}' });
    expect([c.get('a'), c.get('a')]).toEqual([1, 2]);
  });
});

describe('oc.env', () => {
  beforeEach(() => {
    vi.stubEnv('VIDRA_T_SET', '1');
    vi.stubEnv('VIDRA_T_EMPTY', '');
    delete process.env.VIDRA_T_UNSET;
  });
  afterEach(() => vi.unstubAllEnvs());

  it('gives the variable as a string', () => {
    const c = cfg({ a: '${oc.env:VIDRA_T_SET}', b: '${oc.env:VIDRA_T_EMPTY,x}', c: '${oc.env:VIDRA_T_SET,2}' });
    expect(c.resolvedNode('a')).toMatchObject({ value: '1', type: 'str' });
    expect(c.get('b')).toBe('');
    expect(c.get('c')).toBe('1');
  });

  it('falls back to the default, turned into a string as Python str() does', () => {
    const c = cfg({
      a: '${oc.env:VIDRA_T_UNSET,/tmp}', b: '${oc.env:VIDRA_T_UNSET,1.0}', c: '${oc.env:VIDRA_T_UNSET,true}',
      d: '${oc.env:VIDRA_T_UNSET,[1,2]}', e: "${oc.env:VIDRA_T_UNSET,''}",
    });
    expect([c.get('a'), c.get('b'), c.get('c'), c.get('d'), c.get('e')]).toEqual(['/tmp', '1.0', 'True', '[1, 2]', '']);
  });

  it('gives null for a null default', () => {
    expect(cfg({ a: '${oc.env:VIDRA_T_UNSET,null}' }).get('a')).toBeNull();
  });

  it('fails without a default, naming the variable', () => {
    const c = new Config(dict({ data: { root: at(6, '${oc.env:VIDRA_T_UNSET}') } }));
    const e = thrown(() => c.get('data.root'));
    expect(e).toBeInstanceOf(InterpolationError);
    expect(e.message).toBe("conf/config.yaml:6:3: Environment variable 'VIDRA_T_UNSET' not found (in '${oc.env:VIDRA_T_UNSET}' at 'data.root')");
  });
});

describe('oc.select', () => {
  const c = cfg({ x: 0, m: '???', d: { b: '${x}', x: 1 }, n: {
    found: '${oc.select:d.b}', dflt: '${oc.select:nope,7}', none: '${oc.select:nope}', miss: '${oc.select:m,5}',
    missnone: '${oc.select:m}', rel: '${oc.select:.x,9}', x: 2, deep: '${oc.select:x.y,3}', list: "${oc.select:nope,[1,'a']}",
  } });

  it('selects like an interpolation', () => {
    expect(c.get('n.found')).toBe(0);
    expect(c.get('n.rel')).toBe(2);
  });

  it('gives the default when the key is absent or ???, else null', () => {
    expect(c.get('n.dflt')).toBe(7);
    expect(c.get('n.miss')).toBe(5);
    expect(c.get('n.none')).toBeNull();
    expect(c.get('n.missnone')).toBeNull();
    expect(c.get('n.deep')).toBe(3);
    expect(c.get('n.list')).toEqual([1, 'a']);
  });
});

describe('oc.decode', () => {
  it('parses a string as a typed value', () => {
    const c = cfg({
      i: "${oc.decode:'1'}", f: "${oc.decode:'1.5'}", l: "${oc.decode:'[1, 2.5, x]'}", d: "${oc.decode:'{a: 1, b: [true]}'}",
      s: "${oc.decode:'abc'}", q: `\${oc.decode:"'1'"}`, n: '${oc.decode:null}', sp: "${oc.decode:' 1'}", x: 4, inner: "${oc.decode:'[${x}, \\${x}]'}",
    });
    expect(c.resolvedNode('i')).toMatchObject({ value: 1, type: 'int' });
    expect(c.resolvedNode('f')).toMatchObject({ value: 1.5, type: 'float' });
    expect(c.get('l')).toEqual([1, 2.5, 'x']);
    expect(c.get('d')).toEqual({ a: 1, b: [true] });
    expect(c.get('s')).toBe('abc');
    expect(c.resolvedNode('q')).toMatchObject({ value: '1', type: 'str' });
    expect(c.get('n')).toBeNull();
    expect(c.get('sp')).toBe(' 1');
    expect(c.get('inner')).toEqual([4, 4]);
  });

  it('decodes an environment variable', () => {
    vi.stubEnv('VIDRA_T_LIST', '[1, 2]');
    expect(cfg({ a: '${oc.decode:${oc.env:VIDRA_T_LIST}}' }).get('a')).toEqual([1, 2]);
    vi.unstubAllEnvs();
  });

  it('rejects non-strings and bad syntax', () => {
    expect(thrown(() => cfg({ a: '${oc.decode:1}' }).get('a')).message).toBe(
      "conf/config.yaml:1:1: `oc.decode` can only take strings or None as input, but `1` is of type int (in '${oc.decode:1}' at 'a')",
    );
    expect(thrown(() => cfg({ a: "${oc.decode:'[1'}" }).get('a')).message).toContain("oc.decode cannot parse '[1': expected");
  });
});

describe('oc.create', () => {
  it('builds a node from YAML, typed as OmegaConf loads it, resolving relative to where it is', () => {
    const c = cfg({
      x: 0,
      n: { x: 1, made: `\${oc.create:'{a: "\\\${..x}", b: "\\\${.a}", f: 1.0, y: yes, e: 1e-3, q: "1"}'}`, lst: `\${oc.create:'[1, "\\\${..x}"]'}` },
    });
    expect(c.get('n.made')).toEqual({ a: 1, b: 1, f: 1, y: true, e: 0.001, q: '1' });
    expect((c.resolvedNode('n.made') as DictNode).entries.get('f')).toMatchObject({ value: 1, type: 'float' });
    expect(c.get('n.lst')).toEqual([1, 1]);
  });

  it('copies a dict or list, and turns a bare word into {word: null} like OmegaConf.create', () => {
    const c = cfg({ d: { a: 1, b: '${x}' }, x: 0, copy: '${oc.create:${d}}', inline: '${oc.create:{k: [1, 2]}}', word: "${oc.create:'abc'}", empty: "${oc.create:''}" });
    expect(c.get('copy')).toEqual({ a: 1, b: 0 });
    expect(c.get('inline')).toEqual({ k: [1, 2] });
    expect(c.get('word')).toEqual({ abc: null });
    expect(c.get('empty')).toEqual({});
  });
});

describe('oc.dict.keys and oc.dict.values', () => {
  const c = cfg({ x: 0, d: { a: 1, b: '${x}' }, keys: '${oc.dict.keys:d}', vals: '${oc.dict.values:d}', n: { rel: '${oc.dict.values:..d}' }, bad: '${oc.dict.keys:x}', none: '${oc.dict.keys:nope}' });

  it('lists the keys, and the values (resolved)', () => {
    expect(c.get('keys')).toEqual(['a', 'b']);
    expect(c.get('vals')).toEqual([1, 0]);
    expect(c.get('n.rel')).toEqual([1, 0]);
    expect(c.node('vals')).toMatchObject({ value: '${oc.dict.values:d}' });
  });

  it('rejects what is not a dict', () => {
    expect(thrown(() => c.get('bad')).message).toBe("conf/config.yaml:1:1: `oc.dict.keys` cannot be applied to objects of type: int (in '${oc.dict.keys:x}' at 'bad')");
    expect(thrown(() => c.get('none')).message).toBe("conf/config.yaml:1:1: Key not found: 'nope' (in '${oc.dict.keys:nope}' at 'none')");
  });
});

describe('oc.deprecated', () => {
  it('gives the new key and warns with both keys', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const c = cfg({ model: { depth: 50 }, old_depth: '${oc.deprecated:model.depth}' });
    expect(c.get('old_depth')).toBe(50);
    expect(warn).toHaveBeenCalledWith("'old_depth' is deprecated. Change your code and config to use 'model.depth'", 'UserWarning');
    warn.mockRestore();
  });
});

describe('now', () => {
  const fixed = new Date(2024, 2, 5, 7, 8, 9, 123); // local time, Tuesday 5 March 2024

  it('formats the time with strftime directives', () => {
    expect(strftime('%Y-%m-%d %H:%M:%S.%f %j %a %A %b %B %p %y %I %w %u %% %Q', fixed)).toBe(
      '2024-03-05 07:08:09.123000 065 Tue Tuesday Mar March AM 24 07 2 2 % %Q',
    );
    expect(strftime('%z', fixed)).toMatch(/^[+-]\d{4}$/);
    expect(strftime('%Z', fixed)).not.toBe('');
  });

  it('is cached per pattern for the whole process, so every job of a sweep sees one time', () => {
    let t = fixed.getTime();
    resetNowCache(() => new Date((t += 1000)));
    const a = cfg({ dir: 'outputs/${now:%Y-%m-%d}/${now:%H-%M-%S}' });
    const b = cfg({ dir: 'outputs/${now:%Y-%m-%d}/${now:%H-%M-%S}', other: '${now:%S}' });
    expect(a.get('dir')).toBe('outputs/2024-03-05/07-08-11');
    expect(b.get('dir')).toBe('outputs/2024-03-05/07-08-11');
    expect(b.get('other')).toBe('12'); // a new pattern reads the clock again
    resetNowCache(() => fixed);
    expect(cfg({ s: '${now:%S}' }).get('s')).toBe('09');
  });
});

describe('vidra', () => {
  const vidra = { job: { name: 'train', num: 3, id: '${vidra.job.name}_${vidra.job.num}' }, run: { dir: 'runs/${vidra:job.id}/${model}' }, miss: '???' };

  it('selects from the vidra node, resolving its values against the job config plus vidra', () => {
    const c = cfg({ model: 'x3d', name: '${vidra:job.name}', dir: '${vidra:run.dir}', job: '${vidra:job}' }, vidra);
    expect(c.get('name')).toBe('train');
    expect(c.get('dir')).toBe('runs/train_3/x3d');
    expect(c.get('job')).toEqual({ name: 'train', num: 3, id: 'train_3' });
    expect(c.resolvedNode('name')).toMatchObject({ value: 'train', type: 'str' });
  });

  it('fails clearly without a vidra node, on an absent key, and on ???', () => {
    expect(thrown(() => cfg({ n: '${vidra:job.name}' }).get('n')).message).toBe(
      "conf/config.yaml:1:1: there is no vidra node to read 'job.name' from: ${vidra:...} values exist while Vidra runs a job (compose with the vidra config, or drop the interpolation) (in '${vidra:job.name}' at 'n')",
    );
    expect(thrown(() => cfg({ n: '${vidra:job.nam}' }, vidra).get('n')).message).toBe(
      "conf/config.yaml:1:1: Key 'job.nam' not found in the vidra node. Did you mean 'job.name' or 'job.num'? (in '${vidra:job.nam}' at 'n')",
    );
    const e = thrown(() => cfg({ n: '${vidra:miss}' }, vidra).get('n'));
    expect(e).toBeInstanceOf(MissingMandatoryValueError);
    expect(e.message).toBe("conf/config.yaml:1:1: Cannot resolve '${vidra:miss}' at 'n': interpolation to missing value 'vidra.miss' (???)");
  });
});

it('a resolver may return a ValueNode as is', () => {
  registerResolver('t.vn', () => new ValueNode(2, 'float'));
  expect(cfg({ a: '${t.vn:}' }).resolvedNode('a')).toMatchObject({ value: 2, type: 'float', loc: loc(1, 1) });
});
