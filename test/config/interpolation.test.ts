// The interpolation language and node interpolation, as OmegaConf 2.2/2.3 behave
// (expected values were checked against omegaconf 2.3.1 running on CPython 3.11).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Config } from '../../core/config/config.ts';
import { InterpolationError, MissingMandatoryValueError } from '../../core/config/errors.ts';
import { InterpolationSyntaxError, parseElement, parseInterpolation, typeUnquoted, type Element } from '../../core/config/interpolation.ts';
import { DictNode, Float, fromPlain, strNode, type SourceLoc } from '../../core/config/node.ts';
import { clearResolver, registerResolver } from '../../core/config/resolvers.ts';

const loc = (line: number, col = 3): SourceLoc => ({ file: 'conf/config.yaml', line, col });
const at = (line: number, value: string) => strNode(value, loc(line));
const cfg = (obj: Record<string, unknown>) => new Config(fromPlain(obj, loc(1, 1)) as DictNode);
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

/** The value and type of each argument of `${f:...}`, as the grammar types them. */
function args(text: string): Array<[unknown, string]> {
  const t = parseInterpolation(text);
  const r = t.single;
  if (!r || r.kind !== 'resolver') throw new Error('not a resolver call');
  return r.args.map((a: Element) => (a.kind === 'const' ? [a.value, a.type] : [a.text, a.kind]));
}

describe('grammar: text, escapes and interpolations', () => {
  it('splits a string into text and interpolations', () => {
    const t = parseInterpolation('run_${model.name}_${seed}');
    expect(t.single).toBeUndefined();
    expect(t.pieces).toEqual(['run_', { kind: 'node', text: '${model.name}', key: 'model.name' }, '_', { kind: 'node', text: '${seed}', key: 'seed' }]);
  });

  it('marks a lone interpolation, so its result keeps its type', () => {
    expect(parseInterpolation('${a.b}').single).toEqual({ kind: 'node', text: '${a.b}', key: 'a.b' });
    expect(parseInterpolation(' ${a}').single).toBeUndefined();
  });

  it('keeps relative dots and both list access forms in the key', () => {
    expect(parseInterpolation('${..x}').single).toMatchObject({ key: '..x' });
    expect(parseInterpolation('${.b}').single).toMatchObject({ key: '.b' });
    expect(parseInterpolation('${l.1}').single).toMatchObject({ key: 'l.1' });
    expect(parseInterpolation('${l[1]}').single).toMatchObject({ key: 'l[1]' });
    expect(parseInterpolation('${ a }').single).toMatchObject({ key: 'a' });
  });

  it('parses nested interpolations in keys and resolver names', () => {
    expect(parseInterpolation('${a.${k}}').single).toEqual({
      kind: 'node',
      text: '${a.${k}}',
      key: ['a.', { kind: 'node', text: '${k}', key: 'k' }],
    });
    expect(parseInterpolation('${oc.env:HOME}').single).toMatchObject({ kind: 'resolver', name: 'oc.env' });
  });

  it('reads \\${ as a literal ${ and \\\\${ as a backslash before an interpolation', () => {
    expect(parseInterpolation('\\${a}').pieces).toEqual(['${a}']);
    expect(parseInterpolation('\\\\${a}').pieces).toEqual(['\\', { kind: 'node', text: '${a}', key: 'a' }]);
    expect(parseInterpolation('\\\\\\${a}').pieces).toEqual(['\\${a}']);
    // Backslashes elsewhere are text.
    expect(parseInterpolation('C:\\dir\\${x}').pieces).toEqual(['C:\\dir${x}']);
    expect(parseInterpolation('a\\\\b ${x}').pieces[0]).toBe('a\\\\b ');
  });

  it('memoises: the same string gives the same parse', () => {
    expect(parseInterpolation('x_${memo.test}')).toBe(parseInterpolation('x_${memo.test}'));
  });

  it('reports bad syntax with what was expected and a caret under the column', () => {
    const e = thrown(() => parseInterpolation('${a')) as InterpolationSyntaxError;
    expect(e).toBeInstanceOf(InterpolationSyntaxError);
    expect(e.column).toBe(4);
    expect(e.message).toBe("expected '.', ':', '[' or '}' to close the interpolation but found the end of the string at column 4\n    ${a\n       ^");
    const bad = thrown(() => parseInterpolation('${f:a=b}')) as InterpolationSyntaxError;
    expect(bad.message).toContain("but found '=' at column 6");
    expect(bad.message.endsWith('${f:a=b}\n         ^')).toBe(true);
    for (const s of ['${f:é}', '${f:#}', '${a b}', '${}', '${foo${bar}}', "${f:'a'b}", '${f:[1,2}']) expect(() => parseInterpolation(s)).toThrow(InterpolationSyntaxError);
  });
});

describe('grammar: resolver arguments are typed like OmegaConf', () => {
  it('types numbers, bools and null the way the OmegaConf lexer does', () => {
    expect(args('${f:1,-1,+1,1_000,007,0x10,1.,.5,1e5,1E+05,1_0.5,infinity,1e,true,TRUE,yes,null,NULL,nullx}')).toEqual([
      [1, 'int'], [-1, 'int'], [1, 'int'], [1000, 'int'], ['007', 'str'], ['0x10', 'str'], [1, 'float'], [0.5, 'float'],
      [100000, 'float'], [100000, 'float'], [10.5, 'float'], ['infinity', 'str'], ['1e', 'str'], [true, 'bool'], [true, 'bool'],
      ['yes', 'str'], [null, 'null'], [null, 'null'], ['nullx', 'str'],
    ]);
    const [inf, minf, nan] = args('${f:inf,-inf,+NaN}');
    expect(inf).toEqual([Infinity, 'float']);
    expect(minf).toEqual([-Infinity, 'float']);
    expect(Number.isNaN(nan![0])).toBe(true);
  });

  it('strips unquoted arguments, keeps inner spaces, joins several tokens into a string', () => {
    expect(args('${f:  a  b  , a:b,a : b,1 2,1.5.3,0_1}')).toEqual([
      ['a  b', 'str'], ['a:b', 'str'], ['a : b', 'str'], ['1 2', 'str'], ['1.5.3', 'str'], ['0_1', 'str'],
    ]);
  });

  it('accepts paths and the other unquoted characters', () => {
    expect(args('${f:/a/b.mp4,*.mp4,a|b,@,%,?,$x,a-b,-}').map(([v]) => v)).toEqual(['/a/b.mp4', '*.mp4', 'a|b', '@', '%', '?', '$x', 'a-b', '-']);
  });

  it('unescapes \\, \\  \\\\ and friends, which makes the value a string', () => {
    expect(args('${f:\\,,\\ ,a\\,b,\\\\,\\(,a\\b,\\1}')).toEqual([
      [',', 'str'], [' ', 'str'], ['a,b', 'str'], ['\\', 'str'], ['(', 'str'], ['a\\b', 'str'], ['\\1', 'str'],
    ]);
  });

  it('keeps quoted values strings, with quotes escaped inside', () => {
    expect(args(`\${f:'1',"a'b",'a\\'b','',"",'true','a\\\\'}`)).toEqual([
      ['1', 'str'], ["a'b", 'str'], ["a'b", 'str'], ['', 'str'], ['', 'str'], ['true', 'str'], ['a\\', 'str'],
    ]);
  });

  it('gives empty arguments as empty strings, and no argument for ${f:}', () => {
    expect(args('${f:a,,b}')).toEqual([['a', 'str'], ['', 'str'], ['b', 'str']]);
    expect(args('${f:,}')).toEqual([['', 'str'], ['', 'str']]);
    expect(args('${f:}')).toEqual([]);
    expect(args('${f: }')).toEqual([]);
  });

  it('parses lists and dicts, with empty list items as empty strings', () => {
    const t = parseInterpolation('${f:[],[1,],{a:1,b:{c:[1,2]}}}').single!;
    expect(t.kind === 'resolver' && t.args.map((a) => a.kind)).toEqual(['list', 'list', 'dict']);
    const [empty, one, nested] = (t as { args: readonly Element[] }).args;
    expect(empty).toEqual({ kind: 'list', items: [], text: '[]' });
    expect(one).toMatchObject({ items: [{ value: 1, type: 'int' }, { value: '', type: 'str' }] });
    expect(nested).toMatchObject({ entries: [['a', { value: 1 }], ['b', { kind: 'dict', entries: [['c', { kind: 'list' }]] }]] });
  });

  it('types an unquoted word on its own', () => {
    expect(typeUnquoted('1e-4')).toEqual({ type: 'float', value: 0.0001 });
    expect(typeUnquoted('FALSE')).toEqual({ type: 'bool', value: false });
    expect(typeUnquoted('Null')).toEqual({ type: 'null', value: null });
    expect(typeUnquoted('1__0')).toEqual({ type: 'str', value: '1__0' });
  });
});

describe('grammar: oc.decode values (singleElement)', () => {
  it('reads lists, dicts, quoted strings and typed words', () => {
    expect(parseElement('[1, 2]')).toMatchObject({ kind: 'list', items: [{ value: 1 }, { value: 2 }] });
    expect(parseElement('{a: 1}')).toMatchObject({ kind: 'dict', entries: [['a', { value: 1, type: 'int' }]] });
    expect(parseElement("'1'")).toMatchObject({ kind: 'const', value: '1', type: 'str' });
    expect(parseElement('1.5')).toMatchObject({ kind: 'const', value: 1.5, type: 'float' });
  });

  it('keeps surrounding whitespace of a word, which makes it a string', () => {
    expect(parseElement(' 1')).toMatchObject({ kind: 'const', value: ' 1', type: 'str' });
    expect(parseElement('1 ')).toMatchObject({ kind: 'const', value: '1 ', type: 'str' });
    expect(() => parseElement(' [1]')).toThrow(InterpolationSyntaxError);
  });
});

describe('absolute node interpolation ${a.b}', () => {
  it('keeps the type of the target', () => {
    const c = cfg({ a: { b: 1, f: new Float(1), s: '1', t: true, n: null }, i: '${a.b}', fl: '${a.f}', s: '${a.s}', t: '${a.t}', n: '${a.n}' });
    expect(c.resolvedNode('i')).toMatchObject({ value: 1, type: 'int' });
    expect(c.resolvedNode('fl')).toMatchObject({ value: 1, type: 'float' });
    expect(c.resolvedNode('s')).toMatchObject({ value: '1', type: 'str' });
    expect(c.get('t')).toBe(true);
    expect(c.get('n')).toBeNull();
  });

  it('may point to a container, which resolves where it is', () => {
    const c = cfg({ optim: { lr: 0.1, wd: '${.lr}' }, trainer: { optim: '${optim}' } });
    expect(c.get('trainer.optim')).toEqual({ lr: 0.1, wd: 0.1 });
    expect(c.get('trainer.optim.wd')).toBe(0.1);
  });

  it('follows chains of interpolations', () => {
    const c = cfg({ a: '${b}', b: '${c.d}', c: { d: '${e}' }, e: 42 });
    expect(c.get('a')).toBe(42);
  });
});

describe('relative node interpolation ${.b} ${..x}', () => {
  const c = cfg({
    x: 0,
    n: { x: 1, s: '${.x}', p: '${..x}', deep: { q: '${..x}', r: '${...x}', bad: at(9, '${....x}') } },
    l: [5, '${.0}', '${..x}'],
  });

  it('starts from the containing node, each extra dot one level up', () => {
    expect(c.get('n.s')).toBe(1);
    expect(c.get('n.p')).toBe(0);
    expect(c.get('n.deep.q')).toBe(1);
    expect(c.get('n.deep.r')).toBe(0);
  });

  it('works inside lists', () => {
    expect(c.get('l')).toEqual([5, 5, 0]);
  });

  it('rejects more dots than levels', () => {
    const e = thrown(() => c.get('n.deep.bad'));
    expect(e).toBeInstanceOf(InterpolationError);
    expect(e.message).toBe("conf/config.yaml:9:3: Error resolving key '....x': 4 dots go 1 level above the config root (in '${....x}' at 'n.deep.bad')");
  });
});

describe('list access ${l.1} and ${l[1]}', () => {
  const c = cfg({ l: [10, 20, { v: 30 }], a: '${l.1}', b: '${l[1]}', c: '${l[2].v}', d: '${l.2.v}', neg: '${l[-1]}', out: '${l.5}', word: '${l.x}' });

  it('reads an item both ways', () => {
    expect([c.get('a'), c.get('b'), c.get('c'), c.get('d')]).toEqual([20, 20, 30, 30]);
  });

  it('rejects negative and out-of-range indices, as OmegaConf does', () => {
    expect(thrown(() => c.get('neg')).message).toBe(
      "conf/config.yaml:1:1: Interpolation key 'l[-1]' not found: 'l' is a list of 3 items, indexed 0 to 2 (in '${l[-1]}' at 'neg')",
    );
    expect(thrown(() => c.get('out')).message).toBe(
      "conf/config.yaml:1:1: Interpolation key 'l.5' not found: 'l' is a list of 3 items, indexed 0 to 2 (in '${l.5}' at 'out')",
    );
    expect(thrown(() => c.get('word')).message).toContain("Interpolation key 'l.x' not found: 'l' is a list of 3 items");
  });
});

describe('string interpolation', () => {
  const c = cfg({
    t: true, n: null, f: new Float(1e-5), one: new Float(1), i: 3, s: 'x', m: { a: 1, b: '${s}' }, l: [1, 'a'],
    a: 'run_${i}', b: '${t}${n}', c: ' ${f}', d: '${one}/${i}', e: 'cfg=${m}', g: 'l=${l}',
  });

  it('always gives a string, printed like Python str()', () => {
    expect(c.resolvedNode('a')).toMatchObject({ value: 'run_3', type: 'str' });
    expect(c.get('b')).toBe('TrueNone');
    expect(c.get('c')).toBe(' 1e-05');
    expect(c.get('d')).toBe('1.0/3');
  });

  it('pastes containers as the repr of their unresolved content', () => {
    expect(c.get('e')).toBe("cfg={'a': 1, 'b': '${s}'}");
    expect(c.get('g')).toBe("l=[1, 'a']");
  });
});

describe('nested keys ${a.${k}}', () => {
  it('resolves the inner interpolation first, and may reach several levels at once', () => {
    const c = cfg({ a: { b: { c: 7 }, x: 1 }, k: 'b', kk: 'b.c', one: '${a.${k}.c}', two: '${a.${kk}}', three: '${a[${k}].c}' });
    expect([c.get('one'), c.get('two'), c.get('three')]).toEqual([7, 7, 7]);
  });

  it('requires the inner value to be a string', () => {
    const c = cfg({ a: { b: 1 }, x: 0, bad: '${a.${x}}' });
    expect(thrown(() => c.get('bad')).message).toBe(
      "conf/config.yaml:1:1: '${x}' is used as a key, so it must give a string, but gave '0' of type int (in '${a.${x}}' at 'bad')",
    );
  });
});

describe('escaping', () => {
  it('\\${a} is the text ${a}; \\\\${a} is a backslash and the value', () => {
    const c = cfg({ a: 1, lit: '\\${a}', bs: '\\\\${a}', three: '\\\\\\${a}', path: 'C:\\x\\${a}' });
    expect(c.get('lit')).toBe('${a}');
    expect(c.get('bs')).toBe('\\1');
    expect(c.get('three')).toBe('\\${a}');
    expect(c.get('path')).toBe('C:\\x${a}');
  });
});

describe('errors', () => {
  it('a missing key names the interpolation, the key holding it and its file:line:col, with a suggestion', () => {
    const c = cfg({ optim: { lr: 0.1 }, trainer: { lr: at(7, '${optim.lrr}') } });
    const e = thrown(() => c.get('trainer.lr'));
    expect(e).toBeInstanceOf(InterpolationError);
    expect(e.message).toBe("conf/config.yaml:7:3: Interpolation key 'optim.lrr' not found (in '${optim.lrr}' at 'trainer.lr'). Did you mean 'optim.lr'?");
    expect((e as InterpolationError).loc).toEqual(loc(7));
  });

  it('an interpolation to ??? raises MissingMandatoryValueError', () => {
    const c = new Config(fromPlain({ m: fromPlain('???', loc(2)), a: at(4, '${m}'), b: at(5, 'x_${m}') }) as DictNode);
    const e = thrown(() => c.get('a'));
    expect(e).toBeInstanceOf(MissingMandatoryValueError);
    expect(e.message).toBe("conf/config.yaml:4:3: Cannot resolve '${m}' at 'a': interpolation to missing value 'm' (???, set at conf/config.yaml:2:3)");
    expect(thrown(() => c.get('b')).message).toContain("Cannot resolve 'x_${m}' at 'b': interpolation to missing value 'm'");
  });

  it('detects self references and cycles, through string interpolation too', () => {
    const c = cfg({ s: '${s}', a: '${b}', b: '${a}', x: 'x_${y}', y: '${x}' });
    expect(thrown(() => c.get('s')).message).toBe("conf/config.yaml:1:1: Recursive interpolation detected: s -> s (in '${s}' at 's')");
    expect(thrown(() => c.get('a')).message).toBe("conf/config.yaml:1:1: Recursive interpolation detected: a -> b -> a (in '${a}' at 'b')");
    expect(thrown(() => c.get('x')).message).toBe("conf/config.yaml:1:1: Recursive interpolation detected: x -> y -> x (in '${x}' at 'y')");
    expect(thrown(() => c.get('s'))).toBeInstanceOf(InterpolationError);
  });

  it('rejects an interpolation to a node that contains it', () => {
    const c = cfg({ p: { q: '${p}' }, r: { s: '${t}' }, t: '${r}' });
    expect(thrown(() => c.get('p.q')).message).toBe("conf/config.yaml:1:1: Recursive interpolation detected: p.q -> p (interpolation to a parent node) (in '${p}' at 'p.q')");
    expect(thrown(() => c.get('r')).message).toContain('Recursive interpolation detected: r.s -> r');
  });

  it('a scalar on the way is not a container', () => {
    const c = cfg({ x: 1, bad: '${x.y}' });
    expect(thrown(() => c.get('bad')).message).toBe(
      "conf/config.yaml:1:1: Error trying to access x.y: node 'x' is not a container and thus cannot contain 'y' (in '${x.y}' at 'bad')",
    );
  });

  it('bad syntax is an InterpolationError located at the value', () => {
    const c = new Config(fromPlain({ a: at(3, 'x ${oops') }) as DictNode);
    const e = thrown(() => c.get('a'));
    expect(e).toBeInstanceOf(InterpolationError);
    expect(e.message).toBe(
      "conf/config.yaml:3:3: Invalid interpolation at 'a': expected '.', ':', '[' or '}' to close the interpolation but found the end of the string at column 9\n    x ${oops\n            ^",
    );
  });
});

describe('speed', () => {
  beforeAll(() => registerResolver('test.speed', (x: unknown) => x));
  afterAll(() => clearResolver('test.speed'));

  it('resolves a 1,000-job sweep of 100-key configs in well under a second', () => {
    const trees = Array.from({ length: 1000 }, (_, i) => {
      const o: Record<string, unknown> = { seed: i, name: 'exp', lr: new Float(0.001 * ((i % 7) + 1)) };
      for (let g = 0; g < 10; g++) {
        const sub: Record<string, unknown> = { rel: '${.k1}' };
        for (let j = 0; j < 9; j++) sub[`k${j}`] = j % 3 === 0 ? '${seed}' : j % 3 === 1 ? 'run_${name}_${lr}' : '${test.speed:1.5}';
        o[`g${g}`] = sub;
      }
      return fromPlain(o) as DictNode;
    });
    const sweep = () => {
      const t0 = performance.now();
      for (const t of trees) new Config(t).toObject({ resolve: true });
      return performance.now() - t0;
    };
    sweep(); // warm the JIT, as a long sweep would be
    const ms = sweep();
    expect(new Config(trees[3]!).get('g0')).toMatchObject({ k0: 3, k1: 'run_exp_0.004', k2: 1.5, rel: 'run_exp_0.004' });
    expect(ms).toBeLessThan(1000);
  });
});
