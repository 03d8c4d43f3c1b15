// The override language as users rely on it (Hydra 1.3.5 behaviour, hydra-features.md section 2).
import { describe, it, expect } from 'vitest';
import { DictNode, ListNode, ValueNode, type ConfigNode } from '../../core/config/node.ts';
import {
  formatOverrideValue,
  isSweep,
  OverrideParseError,
  parseOverride,
  parseOverrideInternal,
  type PublicOverride,
} from '../../core/overrides/parse.ts';

/** value and valueType of `k=<text>`. */
function v(text: string): { value: unknown; valueType: unknown } {
  const o = parseOverride(`k=${text}`);
  expect(o.sweep).toBeNull();
  return { value: o.value, valueType: o.valueType };
}

function sweepOf(text: string): PublicOverride['sweep'] {
  const o = parseOverride(`k=${text}`);
  expect(o.value).toBeNull();
  expect(o.valueType).toBeNull();
  return o.sweep;
}

function reasonOf(text: string): string {
  try {
    parseOverride(text);
  } catch (e) {
    expect(e).toBeInstanceOf(OverrideParseError);
    return (e as OverrideParseError).reason;
  }
  throw new Error(`'${text}' was accepted`);
}

describe('keys and prefixes', () => {
  it.each([
    ['a.b.c=1', 'change', 'a.b.c', null],
    ['model/backbone=r50', 'change', 'model/backbone', null],
    ['ab-c/d-ef=1', 'change', 'ab-c/d-ef', null],
    ['model@teacher=i3d', 'change', 'model', 'teacher'],
    ['db@=x', 'change', 'db', ''],
    ['db@_global_=x', 'change', 'db', '_global_'],
    ['hydra/launcher@x.y=z', 'change', 'hydra/launcher', 'x.y'],
    ['key@_name_=value', 'change', 'key', '_name_'],
    ['key@$pkg1=value', 'change', 'key', '$pkg1'],
    ['a-b=1', 'change', 'a-b', null],
    ['$a=1', 'change', '$a', null],
    ['$foo.bar$.x$z=1', 'change', '$foo.bar$.x$z', null],
    ['list.0=1', 'change', 'list.0', null],
    ['0.foo=1', 'change', '0.foo', null],
    ['choice=reverse', 'change', 'choice', null],
    ['+a=1', 'add', 'a', null],
    ['+db@src=mysql', 'add', 'db', 'src'],
    ['++a=1', 'force_add', 'a', null],
    ['~a=1', 'delete', 'a', null],
    ['~db@dst', 'delete', 'db', 'dst'],
  ])('%s', (text, type, key, pkg) => {
    const o = parseOverride(text);
    expect([o.type, o.key, o.package]).toEqual([type, key, pkg]);
  });

  it('~key has no value, ~key= is the empty string', () => {
    expect(parseOverride('~a')).toEqual({ type: 'delete', key: 'a', package: null, value: null, valueType: null, sweep: null });
    expect(parseOverride('~a=')).toEqual({ type: 'delete', key: 'a', package: null, value: '', valueType: 'str', sweep: null });
    expect(parseOverride('~x=10')).toMatchObject({ type: 'delete', value: 10, valueType: 'int' });
  });

  it('key= is the empty string, spaces after = are dropped', () => {
    expect(v('')).toEqual({ value: '', valueType: 'str' });
    expect(parseOverride('k=   ')).toMatchObject({ value: '', valueType: 'str' });
  });

  it.each(['-a=1', 'a[0]=1', 'a..b=1', 'a b=1', '1=2', 'db@pkg1:pkg2=x', '$foo/bar=1', 'a/b.c=1', '=1', 'foo', '+foo', '+++a=1'])(
    'rejects %s',
    (text) => {
      expect(() => parseOverride(text)).toThrow(OverrideParseError);
    },
  );

  it('keeps the text of the override', () => {
    expect(parseOverrideInternal('+db@src=mysql').text).toBe('+db@src=mysql');
    expect(parseOverrideInternal('x=choice(1, 2)').text).toBe('x=choice(1, 2)');
  });
});

describe('results', () => {
  it('are new objects on every call, even for a text parsed before', () => {
    const first = parseOverrideInternal('k=choice(a,b)');
    if (first.sweep?.kind === 'choice') first.sweep.values.pop();
    (first as { key: string }).key = 'changed';
    const again = parseOverrideInternal('k=choice(a,b)');
    expect(again.key).toBe('k');
    expect(again.sweep?.kind === 'choice' && again.sweep.values.map((n) => (n as ValueNode).value)).toEqual(['a', 'b']);
  });

  it('shuffle([..]) draws a new order on every parse, as in Hydra', () => {
    const orders = new Set(Array.from({ length: 30 }, () => JSON.stringify(parseOverride('k=shuffle([1,2,3,4,5,6,7,8])').value)));
    expect(orders.size).toBeGreaterThan(1);
  });
});

describe('primitives', () => {
  it.each([
    ['null', null, 'null'],
    ['NULL', null, 'null'],
    ['Null', null, 'null'],
    ['true', true, 'bool'],
    ['TRUE', true, 'bool'],
    ['trUe', true, 'bool'],
    ['False', false, 'bool'],
    ['faLse', false, 'bool'],
    ['yes', 'yes', 'str'],
    ['no', 'no', 'str'],
    ['on', 'on', 'str'],
    ['off', 'off', 'str'],
    ['10', 10, 'int'],
    ['0', 0, 'int'],
    ['-10', -10, 'int'],
    ['+10', 10, 'int'],
    ['1_000', 1000, 'int'],
    ['10_0', 100, 'int'],
    ['007', '007', 'str'],
    ['0x10', '0x10', 'str'],
    ['1__0', '1__0', 'str'],
    ['1___0___', '1___0___', 'str'],
    ['10abc', '10abc', 'str'],
    ['true1', 'true1', 'str'],
    ['nulls', 'nulls', 'str'],
  ])('%s', (text, value, valueType) => {
    expect(v(text)).toEqual({ value, valueType });
  });
});

describe('floats', () => {
  it.each([
    ['1.0', 1, 'float'],
    ['1.', 1, 'float'],
    ['.5', 0.5, 'float'],
    ['0.0', 0, 'float'],
    ['0.51', 0.51, 'float'],
    ['-3.14', -3.14, 'float'],
    ['+.5', 0.5, 'float'],
    ['1e-4', 0.0001, 'float'],
    ['1e-05', 1e-5, 'float'],
    ['1E4', 10000, 'float'],
    ['1e+4', 10000, 'float'],
    ['1.e5', 100000, 'float'],
    ['10e0', 10, 'float'],
    ['-10e1', -100, 'float'],
    ['1_000.5', 1000.5, 'float'],
    ['3.1_4', 3.14, 'float'],
    ['inf', Infinity, 'float'],
    ['INF', Infinity, 'float'],
    ['-inf', -Infinity, 'float'],
    ['+inf', Infinity, 'float'],
    ['nan', NaN, 'float'],
    ['NaN', NaN, 'float'],
    ['infinity', 'infinity', 'str'],
    ['Infinity', 'Infinity', 'str'],
    ['1e', '1e', 'str'],
    ['1e-', '1e-', 'str'],
    ['nan-1', 'nan-1', 'str'],
    ['-infx', '-infx', 'str'],
    ['1.5e3x', '1.5e3x', 'str'],
    ['1.2.3', '1.2.3', 'str'],
    ['00.5', '00.5', 'str'],
  ])('%s', (text, value, valueType) => {
    expect(v(text)).toEqual({ value, valueType });
  });

  it('keeps the sign of -0.0', () => {
    expect(Object.is(parseOverride('k=-0.0').value, -0)).toBe(true);
    expect(Object.is(parseOverride('k=-0').value, 0)).toBe(true);
  });
});

describe('unquoted strings', () => {
  it.each([
    ['abc', 'abc'],
    ['abc-123', 'abc-123'],
    ['value-1.0', 'value-1.0'],
    ['value-true', 'value-true'],
    ['/a/b.mp4', '/a/b.mp4'],
    ['foo:bar', 'foo:bar'],
    ['*.mp4', '*.mp4'],
    ['a|b', 'a|b'],
    ['@', '@'],
    ['%', '%'],
    ['?', '?'],
    ['$x', '$x'],
    ['.', '.'],
    [':', ':'],
    ['/-\\+.$%*@?|', '/-\\+.$%*@?|'],
    ['a b c\t-\t1 2 3', 'a b c\t-\t1 2 3'],
    ['value \t 123', 'value \t 123'],
    [' \tvalue \t', 'value'],
    ['  x y  ', 'x y'],
    ['1 2', '1 2'],
    ['a : b', 'a : b'],
  ])('%j', (text, value) => {
    expect(v(text)).toEqual({ value, valueType: 'str' });
  });
});

describe('escapes in unquoted values', () => {
  it.each([
    ['a\\,b', 'a,b'],
    ['a\\:b', 'a:b'],
    ['a\\=b', 'a=b'],
    ['\\ ab', ' ab'],
    ['ab\\\t', 'ab\t'],
    ['ab\\\\', 'ab\\'],
    ['\\,', ','],
    ['\\\\', '\\'],
    ['f\\(a\\, b\\)', 'f(a, b)'],
    ['\\[a\\, b\\]', '[a, b]'],
    ['\\{a\\: b\\}', '{a: b}'],
    ['$\\{foo.bar\\}', '${foo.bar}'],
    ['\\\\\\(\\)\\[\\]\\{\\}\\:\\=\\,\\ \\\t', '\\()[]{}:=, \t'],
  ])('%s', (text, value) => {
    expect(v(text)).toEqual({ value, valueType: 'str' });
  });

  it('keeps other backslashes literally', () => {
    expect(v('C:\\foo')).toEqual({ value: 'C:\\foo', valueType: 'str' });
    expect(v('c:\\foo\\a-b.txt')).toEqual({ value: 'c:\\foo\\a-b.txt', valueType: 'str' });
    expect(v('a\\b')).toEqual({ value: 'a\\b', valueType: 'str' });
  });
});

describe('quoted strings', () => {
  it.each([
    ["'1'", '1'],
    ['"true"', 'true'],
    ["'null'", 'null'],
    ["'3.14'", '3.14'],
    ["'inf'", 'inf'],
    ["''", ''],
    ['""', ''],
    ["'a b c'", 'a b c'],
    ["'a,b'", 'a,b'],
    ["'foo , bar'", 'foo , bar'],
    ["'  foo,bar\t'", '  foo,bar\t'],
    ["'[1,2,3]'", '[1,2,3]'],
    ['"[1,\'2\',3]"', "[1,'2',3]"],
    ["'\t []{},=+~'", '\t []{},=+~'],
    ["'שלום'", 'שלום'],
    ["'café #1 & co; ok!'", 'café #1 & co; ok!'],
    ["'foo \\'bar'", "foo 'bar"],
    ['"foo \\"bar"', 'foo "bar'],
    ["'foo \\\\\\'bar'", "foo \\'bar"],
    ['"foo \\\\\\"bar"', 'foo \\"bar'],
    ["'foo\\bar'", 'foo\\bar'],
    ["'foo\\\\bar'", 'foo\\\\bar'],
    ["'foo bar\\\\'", 'foo bar\\'],
    ["'foo \\\\\\\\\\'bar\\' \\\\\\\\\\\\'", "foo \\\\'bar' \\\\\\"],
    ['"a\\\'b"', "a\\'b"],
    ["'C:\\foo'", 'C:\\foo'],
    ["'a ${b}'", 'a ${b}'],
    ["'a \\${b}'", 'a \\${b}'],
    ["'${foo:\\'b,a,r\\'}'", "${foo:'b,a,r'}"],
  ])('%s', (text, value) => {
    expect(v(text)).toEqual({ value, valueType: 'str' });
  });

  it('allows spaces between = and the quote', () => {
    expect(v(" 'x'")).toEqual({ value: 'x', valueType: 'str' });
  });
});

describe('interpolations are kept verbatim', () => {
  it.each(['${a.b}', '${a}', '${oc.env:USER,me}', '${f.g:USER,root}', 'x_${a}', '${a}${b}', '${foo:1,2,3}', '${foo:[1,2,3]}', 'xyz_${a.b.c}'])(
    '%s',
    (text) => {
      expect(v(text)).toEqual({ value: text, valueType: 'str' });
    },
  );

  it('a complex interpolation must be quoted', () => {
    expect(v("'${f:{a:1}}'")).toEqual({ value: '${f:{a:1}}', valueType: 'str' });
    expect(() => parseOverride('k=${f:{a:1}}')).toThrow(OverrideParseError);
  });
});

describe('lists and dicts', () => {
  it.each([
    ['[]', [], []],
    ['[1]', [1], ['int']],
    ['[1 ]', [1], ['int']],
    ['[1, 2, 3]', [1, 2, 3], ['int', 'int', 'int']],
    ['[  1,\t2  ]', [1, 2], ['int', 'int']],
    ["['a b']", ['a b'], ['str']],
    ["['[a,b]']", ['[a,b]'], ['str']],
    ['[[a]]', [['a']], [['str']]],
    ['[[[a]]]', [[['a']]], [[['str']]]],
    ['[1,[a,b]]', [1, ['a', 'b']], ['int', ['str', 'str']]],
    ['[1.0,null,true,x y]', [1, null, true, 'x y'], ['float', 'null', 'bool', 'str']],
    ["['a\\\\', 'b\\\\']", ['a\\', 'b\\'], ['str', 'str']],
    ['["a\\\\", "b\\\\"]', ['a\\', 'b\\'], ['str', 'str']],
  ])('%s', (text, value, valueType) => {
    expect(v(text)).toEqual({ value, valueType });
  });

  it.each([
    ['{}', {}, {}],
    ['{a:b}', { a: 'b' }, { a: 'str' }],
    ['{a:10,b:20}', { a: 10, b: 20 }, { a: 'int', b: 'int' }],
    ['{a:[true,10]}', { a: [true, 10] }, { a: ['bool', 'int'] }],
    ['{a:10,b:{}}', { a: 10, b: {} }, { a: 'int', b: {} }],
    ['{a:10,b:{c:[1,2]}}', { a: 10, b: { c: [1, 2] } }, { a: 'int', b: { c: ['int', 'int'] } }],
    ['{ a : 1.5 , b : x }', { a: 1.5, b: 'x' }, { a: 'float', b: 'str' }],
    ["{a: 'a\\\\', b: \"b\\\\\"}", { a: 'a\\', b: 'b\\' }, { a: 'str', b: 'str' }],
    ['{a:1 b:2}', { a: '1 b:2' }, { a: 'str' }],
    ['{a:1,a:2}', { a: 2 }, { a: 'int' }],
  ])('%s', (text, value, valueType) => {
    expect(v(text)).toEqual({ value, valueType });
  });

  it('dict keys are strings holding the key as written', () => {
    expect(v('{123: 1, 0: 2, -1: 3}').value).toEqual({ 123: 1, 0: 2, '-1': 3 });
    expect(v('{3.14: 0, 1e3: 1}').value).toEqual({ '3.14': 0, '1e3': 1 });
    expect(v('{true: 1, fAlSe: 0}').value).toEqual({ true: 1, fAlSe: 0 });
    expect(v('{null: 1}').value).toEqual({ null: 1 });
    expect(v('{white spaces: 1}').value).toEqual({ 'white spaces': 1 });
    expect(v('{ white  space\t: 2}').value).toEqual({ 'white  space': 2 });
    expect(v('{123id: 0}').value).toEqual({ '123id': 0 });
    expect(v('{/-\\+.$%*@?|: 1}').value).toEqual({ '/-\\+.$%*@?|': 1 });
    expect(v('{\\\\\\(\\)\\[\\]\\{\\}\\:\\=\\ \\\t\\,: 1}').value).toEqual({ '\\()[]{}:= \t,': 1 });
    expect(v('{a_b: 1, ab 123.5 True: 2, null false: 3}').value).toEqual({ a_b: 1, 'ab 123.5 True': 2, 'null false': 3 });
  });

  it('keeps the key order of a dict node', () => {
    const node = parseOverrideInternal('k={b:1,a:2,c:3}').value as DictNode;
    expect([...node.entries.keys()]).toEqual(['b', 'a', 'c']);
  });

  it('nodes remember where they came from', () => {
    const node = parseOverrideInternal('optim.lr=[1e-4]').value as ListNode;
    expect(node.loc).toEqual({ file: "override 'optim.lr=[1e-4]'", line: 0, col: 10 });
    expect(node.items[0]!.loc).toEqual(node.loc);
  });
});

describe('choice sweeps', () => {
  const choice = (values: unknown[], valueTypes: unknown[], extra: object = {}) => ({ kind: 'choice', values, valueTypes, shuffle: false, tags: [], ...extra });

  it.each([
    ['1,2,3', [1, 2, 3], ['int', 'int', 'int']],
    ['1, 2, 3', [1, 2, 3], ['int', 'int', 'int']],
    ['1 ,  2,\t\t3', [1, 2, 3], ['int', 'int', 'int']],
    ['a , b', ['a', 'b'], ['str', 'str']],
    ['a,10,3.14', ['a', 10, 3.14], ['str', 'int', 'float']],
    ["null,'1',true", [null, '1', true], ['null', 'str', 'bool']],
    ['${a}, ${b}, ${c}', ['${a}', '${b}', '${c}'], ['str', 'str', 'str']],
    ['[a,b],[c,d]', [['a', 'b'], ['c', 'd']], [['str', 'str'], ['str', 'str']]],
    ['[1  ,\t2\t],[\t3\t   ,4  ]', [[1, 2], [3, 4]], [['int', 'int'], ['int', 'int']]],
    ['{a:1},x', [{ a: 1 }, 'x'], [{ a: 'int' }, 'str']],
    ["'a,b',c", ['a,b', 'c'], ['str', 'str']],
    ['choice(a)', ['a'], ['str']],
    ['choice(a,b)', ['a', 'b'], ['str', 'str']],
    ['choice (a,b)', ['a', 'b'], ['str', 'str']],
    ['choice( 10 , 20 )', [10, 20], ['int', 'int']],
    ['choice\t(  1\t\t )', [1], ['int']],
    ['choice(\t\t1,   2, \t 3 )', [1, 2, 3], ['int', 'int', 'int']],
    ['choice([1,2],[3,4])', [[1, 2], [3, 4]], [['int', 'int'], ['int', 'int']]],
    ['choice(str(10))', ['10'], ['str']],
    ['choice(sort(b,a))', ['a', 'b'], ['str', 'str']],
  ])('%s', (text, values, valueTypes) => {
    expect(sweepOf(text)).toEqual(choice(values, valueTypes));
  });

  it('is a sweep', () => {
    expect(isSweep(parseOverrideInternal('k=1,2'))).toBe(true);
    expect(isSweep(parseOverrideInternal('k=choice(1)'))).toBe(true);
    expect(isSweep(parseOverrideInternal('k=[1,2]'))).toBe(false);
    expect(isSweep(parseOverrideInternal("k='1,2'"))).toBe(false);
    expect(isSweep(parseOverrideInternal('k=1\\,2'))).toBe(false);
  });

  it('keeps typed nodes in the internal form', () => {
    const s = parseOverrideInternal('k=1,1.0,"1"').sweep;
    expect(s?.kind).toBe('choice');
    expect(s?.kind === 'choice' && s.values.map((n) => (n as ValueNode).type)).toEqual(['int', 'float', 'str']);
  });
});

describe('range()', () => {
  const range = (start: number, stop: number, step: number, type: 'int' | 'float', extra: object = {}) => ({
    kind: 'range',
    start,
    stop,
    step,
    type,
    reverse: false,
    shuffle: false,
    tags: [],
    ...extra,
  });

  it.each([
    ['range(10,11)', range(10, 11, 1, 'int')],
    ['range (10,11)', range(10, 11, 1, 'int')],
    ['range(1,10,2)', range(1, 10, 2, 'int')],
    ['range(start=1,stop=10,step=2)', range(1, 10, 2, 'int')],
    ['range(step=5,start=10,stop=20)', range(10, 20, 5, 'int')],
    ['range(10,step=5,stop=20)', range(10, 20, 5, 'int')],
    ['range(1,stop=4)', range(1, 4, 1, 'int')],
    ['range(1.0, 3.14)', range(1, 3.14, 1, 'float')],
    ['range(1.0, 3.14, 0.1)', range(1, 3.14, 0.1, 'float')],
    ['range(0,1,0.25)', range(0, 1, 0.25, 'float')],
    ['range(10)', range(0, 10, 1, 'int')],
    ['range(-10)', range(0, -10, 1, 'int')],
    ['range(-10, step=-1)', range(0, -10, -1, 'int')],
    ['range(5.5)', range(0, 5.5, 1, 'float')],
    ['range(5.5, step=0.5)', range(0, 5.5, 0.5, 'float')],
  ])('%s', (text, expected) => {
    expect(sweepOf(text)).toEqual(expected);
  });
});

describe('interval()', () => {
  it.each([
    ['interval(10,11)', 10, 11],
    ['interval(2.72,3.14)', 2.72, 3.14],
    ['interval(start=2.72,end=3.14)', 2.72, 3.14],
  ])('%s', (text, start, end) => {
    expect(sweepOf(text)).toEqual({ kind: 'interval', start, end, tags: [] });
  });
});

describe('glob()', () => {
  it.each([
    ['glob(*)', ['*'], []],
    ['glob(include=*)', ['*'], []],
    ['glob(include=[*])', ['*'], []],
    ['glob(include=[a*, b*], exclude=c*)', ['a*', 'b*'], ['c*']],
    ['glob(*,exclude=*_debug)', ['*'], ['*_debug']],
    ["glob('*', exclude=[x,'y*'])", ['*'], ['x', 'y*']],
  ])('%s', (text, include, exclude) => {
    expect(sweepOf(text)).toEqual({ kind: 'glob', include, exclude, tags: [] });
  });
});

describe('tag()', () => {
  it.each([
    ['tag(choice(a,b))', { kind: 'choice', values: ['a', 'b'], valueTypes: ['str', 'str'], shuffle: false, tags: [] }],
    ['tag(a,b,choice([1,2],[3,4]))', { kind: 'choice', values: [[1, 2], [3, 4]], valueTypes: [['int', 'int'], ['int', 'int']], shuffle: false, tags: ['a', 'b'] }],
    ['tag(a,b,interval(0,1))', { kind: 'interval', start: 0, end: 1, tags: ['a', 'b'] }],
    ['tag(log, interval(0.001, 1.0))', { kind: 'interval', start: 0.001, end: 1, tags: ['log'] }],
    ['tag(tag1,tag2,range(1,2))', { kind: 'range', start: 1, stop: 2, step: 1, type: 'int', reverse: false, shuffle: false, tags: ['tag1', 'tag2'] }],
    ['tag(tag1,tag2,sweep=range(1,2))', { kind: 'range', start: 1, stop: 2, step: 1, type: 'int', reverse: false, shuffle: false, tags: ['tag1', 'tag2'] }],
    ['tag(a,b,a,choice(1))', { kind: 'choice', values: [1], valueTypes: ['int'], shuffle: false, tags: ['a', 'b'] }],
  ])('%s', (text, expected) => {
    expect(sweepOf(text)).toEqual(expected);
  });
});

describe('sort() and shuffle()', () => {
  it.each([
    ['sort([2,3,1])', [1, 2, 3]],
    ['sort([2,3,1],reverse=true)', [3, 2, 1]],
    ['sort(list=[1,2,3], reverse=True)', [3, 2, 1]],
    ['sort(list=[])', []],
    ['sort([b,a,c])', ['a', 'b', 'c']],
    ['sort([1.5,1,true])', [1, true, 1.5]],
    ['sort([[2,1],[1,5],[1]])', [[1], [1, 5], [2, 1]]],
    ['sort(1)', 1],
    ['sort({a:10})', { a: 10 }],
  ])('%s', (text, value) => {
    expect(v(text).value).toEqual(value);
  });

  it.each([
    ['sort(3,2,1)', [1, 2, 3], false],
    ['sort(a,c,b,reverse=true)', ['c', 'b', 'a'], false],
    ['sort(choice(1,2,3))', [1, 2, 3], false],
    ['sort(sweep=choice(3,1,2))', [1, 2, 3], false],
    ['sort(choice(1,2,3), reverse=True)', [3, 2, 1], false],
    ['float(sort(3,2,1))', [1, 2, 3], false],
    ['sort(float(3,2,1))', [1, 2, 3], false],
    ['shuffle(1,2,3)', [1, 2, 3], true],
    ['shuffle(choice(1,2,3))', [1, 2, 3], true],
    ['shuffle(sweep=choice(1,2,3))', [1, 2, 3], true],
  ])('%s', (text, values, shuffle) => {
    const s = sweepOf(text);
    expect(s).toMatchObject({ kind: 'choice', values, shuffle, tags: [] });
  });

  it('float casts keep a sorted choice float', () => {
    expect(sweepOf('float(sort(3,2,1))')).toMatchObject({ valueTypes: ['float', 'float', 'float'] });
  });

  it('sort(tag(...)) keeps the tags', () => {
    expect(sweepOf('sort(tag(a,b,choice(1,2,3)), reverse=True)')).toMatchObject({ values: [3, 2, 1], tags: ['a', 'b'] });
  });

  it.each([
    ['sort(range(1, 10))', 1, 10, 1, false],
    ['sort(range(9,0,-1))', 9, 0, -1, true],
    ['sort(range(1,10),reverse=True)', 1, 10, 1, true],
    ['sort(sort(range(1, 10),reverse=true))', 1, 10, 1, false],
    ['sort(range(1.5,-0.5,-0.5))', 1.5, -0.5, -0.5, true],
    ['sort(range(0,2,0.5),reverse=true)', 0, 2, 0.5, true],
  ])('%s marks the range for reversal', (text, start, stop, step, reverse) => {
    expect(sweepOf(text)).toMatchObject({ kind: 'range', start, stop, step, reverse });
  });

  it('shuffle() marks ranges and keeps tags', () => {
    expect(sweepOf('shuffle(range(1,10))')).toMatchObject({ kind: 'range', start: 1, stop: 10, shuffle: true });
    expect(sweepOf('shuffle(float(range(10,1)))')).toMatchObject({ kind: 'range', start: 10, stop: 1, type: 'float', shuffle: true });
    expect(sweepOf('shuffle(tag(a,b,choice(1,2,3)))')).toMatchObject({ kind: 'choice', tags: ['a', 'b'], shuffle: true });
  });

  it('shuffle() of a list reorders the list itself', () => {
    for (const text of ['shuffle([1,2,3,4,5,6,7,8])', 'shuffle(list=[1,2,3,4,5,6,7,8])']) {
      const value = v(text).value as number[];
      expect([...value].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    }
    expect(v('shuffle(x)').value).toEqual(['x']);
  });

  it('sorting values that Python cannot compare is an error', () => {
    expect(reasonOf('k=sort(3,2,str(1))')).toBe("in 'sort(3,2,str(1))': cannot sort: '<' is not supported between str and int");
    expect(reasonOf('k=sort([{a:1},{b:2}])')).toBe("in 'sort([{a:1},{b:2}])': cannot sort: '<' is not supported between dict and dict");
  });
});

describe('casts', () => {
  // The cast table of Hydra's test_cast_conversions.
  type Row = { int: unknown; float: unknown; str: unknown; bool: unknown; json_str: unknown };
  const err = (reason: string) => ({ error: reason });
  const table: Array<[string, Row]> = [
    ['10', { int: 10, float: 10, str: '10', bool: true, json_str: '10' }],
    ['0', { int: 0, float: 0, str: '0', bool: false, json_str: '0' }],
    ['10.0', { int: 10, float: 10, str: '10.0', bool: true, json_str: '10.0' }],
    ['0.0', { int: 0, float: 0, str: '0.0', bool: false, json_str: '0.0' }],
    ['inf', { int: err("in 'int(inf)': cannot convert infinity to an integer"), float: Infinity, str: 'inf', bool: true, json_str: 'Infinity' }],
    ['nan', { int: err("in 'int(nan)': cannot convert NaN to an integer"), float: NaN, str: 'nan', bool: true, json_str: 'NaN' }],
    ['1e6', { int: 1000000, float: 1e6, str: '1000000.0', bool: true, json_str: '1000000.0' }],
    ['1e-5', { int: 0, float: 1e-5, str: '1e-05', bool: true, json_str: '1e-05' }],
    [
      "''",
      {
        int: err("in 'int('')': '' is not an integer"),
        float: err("in 'float('')': '' is not a number"),
        str: '',
        bool: err("in 'bool('')': '' is not a bool (true or false)"),
        json_str: '""',
      },
    ],
    ["'10'", { int: 10, float: 10, str: '10', bool: err("in 'bool('10')': '10' is not a bool (true or false)"), json_str: '"10"' }],
    [
      "'10.0'",
      { int: err("in 'int('10.0')': '10.0' is not an integer"), float: 10, str: '10.0', bool: err("in 'bool('10.0')': '10.0' is not a bool (true or false)"), json_str: '"10.0"' },
    ],
    ["'true'", { int: err("in 'int('true')': 'true' is not an integer"), float: err("in 'float('true')': 'true' is not a number"), str: 'true', bool: true, json_str: '"true"' }],
    ["'false'", { int: err("in 'int('false')': 'false' is not an integer"), float: err("in 'float('false')': 'false' is not a number"), str: 'false', bool: false, json_str: '"false"' }],
    ['true', { int: 1, float: 1, str: 'true', bool: true, json_str: 'true' }],
    ['false', { int: 0, float: 0, str: 'false', bool: false, json_str: 'false' }],
    ['foo', { int: err("in 'int(foo)': 'foo' is not an integer"), float: err("in 'float(foo)': 'foo' is not a number"), str: 'foo', bool: err("in 'bool(foo)': 'foo' is not a bool (true or false)"), json_str: '"foo"' }],
    ['null', { int: err("in 'int(null)': null cannot be cast to int"), float: err("in 'float(null)': null cannot be cast to float"), str: err("in 'str(null)': null cannot be cast to str"), bool: false, json_str: 'null' }],
    ['[]', { int: [], float: [], str: [], bool: [], json_str: '[]' }],
    ['[0,1,2]', { int: [0, 1, 2], float: [0, 1, 2], str: ['0', '1', '2'], bool: [false, true, true], json_str: '[0, 1, 2]' }],
    ['[1,[2]]', { int: [1, [2]], float: [1, [2]], str: ['1', ['2']], bool: [true, [true]], json_str: '[1, [2]]' }],
    [
      '[a,1]',
      {
        int: err("in 'int([a,1])': 'a' is not an integer"),
        float: err("in 'float([a,1])': 'a' is not a number"),
        str: ['a', '1'],
        bool: err("in 'bool([a,1])': 'a' is not a bool (true or false)"),
        json_str: '["a", 1]',
      },
    ],
    ['{}', { int: {}, float: {}, str: {}, bool: {}, json_str: '{}' }],
    ['{a:10}', { int: { a: 10 }, float: { a: 10 }, str: { a: '10' }, bool: { a: true }, json_str: '{"a": 10}' }],
    [
      '{a:10,b:xyz,c:{d:foo,f:[1,2,{g:0}]}}',
      {
        int: err("in 'int({a:10,b:xyz,c:{d:foo,f:[1,2,{g:0}]}})': 'xyz' is not an integer"),
        float: err("in 'float({a:10,b:xyz,c:{d:foo,f:[1,2,{g:0}]}})': 'xyz' is not a number"),
        str: { a: '10', b: 'xyz', c: { d: 'foo', f: ['1', '2', { g: '0' }] } },
        bool: err("in 'bool({a:10,b:xyz,c:{d:foo,f:[1,2,{g:0}]}})': 'xyz' is not a bool (true or false)"),
        json_str: '{"a": 10, "b": "xyz", "c": {"d": "foo", "f": [1, 2, {"g": 0}]}}',
      },
    ],
  ];

  for (const [input, row] of table) {
    for (const cast of ['int', 'float', 'str', 'bool', 'json_str'] as const) {
      const expected = row[cast];
      it(`${cast}(${input})`, () => {
        const text = `k=${cast}(${input})`;
        if (expected !== null && typeof expected === 'object' && 'error' in expected) {
          expect(reasonOf(text)).toBe(expected.error);
          return;
        }
        const o = parseOverride(text);
        expect(o.value).toEqual(expected);
        const scalar = cast === 'json_str' ? 'str' : cast;
        const typeOf = (x: unknown): unknown =>
          Array.isArray(x) ? x.map(typeOf) : x !== null && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, y]) => [k, typeOf(y)])) : scalar;
        expect(o.valueType).toEqual(cast === 'bool' && input === 'null' ? 'bool' : typeOf(expected));
      });
    }
  }

  it('casts recurse into choices and keep their form', () => {
    expect(sweepOf('int(choice(0,1))')).toMatchObject({ values: [0, 1], valueTypes: ['int', 'int'] });
    expect(sweepOf('float(2,1,0)')).toMatchObject({ values: [2, 1, 0], valueTypes: ['float', 'float', 'float'] });
    expect(sweepOf('str(2,1,0)')).toMatchObject({ values: ['2', '1', '0'] });
    expect(sweepOf('bool(2,1,0)')).toMatchObject({ values: [true, true, false] });
    expect(sweepOf("str(a,'b',1,1.0,true,[a,b],{a:10})")).toMatchObject({ values: ['a', 'b', '1', '1.0', 'true', ['a', 'b'], { a: '10' }] });
    expect(sweepOf("json_str(a,'b',1,1.0,true,[a,b],{a:10})")).toMatchObject({
      values: ['"a"', '"b"', '1', '1.0', 'true', '["a", "b"]', '{"a": 10}'],
    });
    expect(reasonOf("k=int(a,'b',1)")).toBe("in 'int(a,'b',1)': 'a' is not an integer");
    expect(reasonOf('k=bool(choice(a,b))')).toBe("in 'bool(choice(a,b))': 'a' is not a bool (true or false)");
  });

  it('casts keep tags and shuffle', () => {
    expect(sweepOf('int(tag(meta,shuffle(choice(1.5,2.5,3.5))))')).toEqual({
      kind: 'choice',
      values: [1, 2, 3],
      valueTypes: ['int', 'int', 'int'],
      shuffle: true,
      tags: ['meta'],
    });
    expect(sweepOf('float(tag(meta,shuffle(range(1,4))))')).toMatchObject({ type: 'float', shuffle: true, tags: ['meta'] });
  });

  it('casts ranges and intervals to int or float only', () => {
    expect(sweepOf('int(range(1,10))')).toMatchObject({ start: 1, stop: 10, step: 1, type: 'int' });
    expect(sweepOf('float(range(1,10))')).toMatchObject({ start: 1, stop: 10, step: 1, type: 'float' });
    expect(sweepOf('int(range(1.0,10.0))')).toMatchObject({ start: 1, stop: 10, step: 1, type: 'int' });
    expect(sweepOf('int(range(1.5,5.5))')).toMatchObject({ start: 1, stop: 5, step: 1, type: 'int' });
    expect(reasonOf('k=str(range(1,10))')).toBe("in 'str(range(1,10))': a range can only be cast to int or float");
    expect(reasonOf('k=bool(range(1,10))')).toBe("in 'bool(range(1,10))': a range can only be cast to int or float");
    expect(reasonOf('k=json_str(range(1,10))')).toBe("in 'json_str(range(1,10))': a range can only be cast to int or float");
    expect(sweepOf('int(interval(1.0, 2.0))')).toEqual({ kind: 'interval', start: 1, end: 2, tags: [] });
    expect(sweepOf('float(interval(1.0, 2.0))')).toEqual({ kind: 'interval', start: 1, end: 2, tags: [] });
    expect(reasonOf('k=str(interval(1.0, 2.0))')).toBe("in 'str(interval(1.0, 2.0))': an interval cannot be cast to str");
    expect(reasonOf('k=bool(interval(1.0, 2.0))')).toBe("in 'bool(interval(1.0, 2.0))': an interval cannot be cast to bool");
    expect(reasonOf('k=json_str(interval(1.0, 2.0))')).toBe("in 'json_str(interval(1.0, 2.0))': an interval cannot be cast to json_str");
  });

  it('takes value= instead of a positional argument', () => {
    expect(v('int(value=5)')).toEqual({ value: 5, valueType: 'int' });
    expect(v('str(1, value=null)')).toEqual({ value: '1', valueType: 'str' });
    expect(reasonOf('k=int(5,value=6)')).toBe("in 'int(5,value=6)': int() takes either positional arguments or value=, not both");
    expect(reasonOf('k=int()')).toBe("in 'int()': int() needs a value");
  });

  it('reads numbers in strings as Python does', () => {
    expect(v("int(' 1_000 ')")).toEqual({ value: 1000, valueType: 'int' });
    expect(v("int('007')")).toEqual({ value: 7, valueType: 'int' });
    expect(v("int('-5')")).toEqual({ value: -5, valueType: 'int' });
    expect(v('int(-1.9)')).toEqual({ value: -1, valueType: 'int' });
    expect(v("float('1e3')")).toEqual({ value: 1000, valueType: 'float' });
    expect(v("float(' -Infinity ')")).toEqual({ value: -Infinity, valueType: 'float' });
    expect(v("float('.5')")).toEqual({ value: 0.5, valueType: 'float' });
    expect(v("bool('TRUE')")).toEqual({ value: true, valueType: 'bool' });
    expect(v('str(1e16)')).toEqual({ value: '1e+16', valueType: 'str' });
    expect(v('str(123456789.125)')).toEqual({ value: '123456789.125', valueType: 'str' });
    expect(v('str(0.0001)')).toEqual({ value: '0.0001', valueType: 'str' });
    expect(reasonOf("k=int('0x10')")).toBe("in 'int('0x10')': '0x10' is not an integer");
    expect(reasonOf("k=float('1__0')")).toBe("in 'float('1__0')': '1__0' is not a number");
  });

  it('json_str() writes JSON as Python json.dumps', () => {
    expect(v("json_str({a:1,b:[1,2.0,true,null,'x\"y']})")).toEqual({ value: '{"a": 1, "b": [1, 2.0, true, null, "x\\"y"]}', valueType: 'str' });
    expect(v("json_str('é\t')")).toEqual({ value: '"\\u00e9\\t"', valueType: 'str' });
    expect(v('json_str(-inf)')).toEqual({ value: '-Infinity', valueType: 'str' });
    expect(sweepOf('json_str(choice(a,b))')).toMatchObject({ values: ['"a"', '"b"'] });
  });
});

describe('function calls', () => {
  it('whitespace is allowed around arguments', () => {
    expect(v('str(\t  [  1,\t2  ]\t   )')).toEqual({ value: ['1', '2'], valueType: ['str', 'str'] });
    expect(v('int( 1 )')).toEqual({ value: 1, valueType: 'int' });
  });

  it('a repeated named argument keeps the last value, as in Hydra', () => {
    expect(sweepOf('range(0,stop=3,stop=5)')).toMatchObject({ start: 0, stop: 5 });
  });

  it.each([
    ['k=foo(1)', 2, "unknown function 'foo'. Available functions: bool, choice, float, glob, int, interval, json_str, range, shuffle, sort, str, tag"],
    ['k=my-func(1)', 2, "unknown function 'my-func'. Available functions: bool, choice, float, glob, int, interval, json_str, range, shuffle, sort, str, tag"],
    ['k=range(start=1,3)', 16, "in 'range(start=1,3)': a positional argument cannot follow a named argument"],
    ['k=range(start=10,20,1)', 17, "in 'range(start=10,20,1)': a positional argument cannot follow a named argument"],
    ['k=range(1,2,3,4)', 14, "in 'range(1,2,3,4)': too many positional arguments (range() takes 3)"],
    ['k=range(1,start=2)', 10, "in 'range(1,start=2)': argument 'start' is given twice"],
    ['k=range()', 2, "in 'range()': missing the argument 'start'"],
    ['k=range(step=2)', 2, "in 'range(step=2)': missing the argument 'start'"],
    ['k=range(x)', 8, "in 'range(x)': argument 'start' of range() must be a number, not the string 'x'"],
    ['k=interval(0)', 2, "in 'interval(0)': missing the argument 'end'"],
    ['k=int(x=1)', 6, "in 'int(x=1)': int() got an unexpected argument 'x' (its named arguments: value)"],
    ['k=choice(a=1)', 9, "in 'choice(a=1)': choice() got an unexpected argument 'a' (it takes no named arguments)"],
    ['k=choice()', 2, "in 'choice()': an empty choice is not allowed"],
    ['k=choice(choice(1,2))', 2, "in 'choice(choice(1,2))': nesting choices is not supported"],
    ['k=choice(null,1)', 9, "in 'choice(null,1)': argument 1 of choice() must be a string, number, bool, list, dict or choice, not null"],
    ['k=choice(range(1,3))', 9, "in 'choice(range(1,3))': argument 1 of choice() must be a string, number, bool, list, dict or choice, not a range sweep"],
    ['k=sort(reverse=1)', 7, "in 'sort(reverse=1)': argument 'reverse' of sort() must be true or false, not an int (1)"],
    ['k=tag(1,choice(1))', 6, "in 'tag(1,choice(1))': argument 1 of tag() must be a string tag or a sweep, not an int (1)"],
    ['k=tag(log)', 2, "in 'tag(log)': the last argument of tag() must be a choice(), range() or interval()"],
    ['k=tag(sweep=choice(1))', 2, "in 'tag(sweep=choice(1))': not enough arguments to tag(): it takes tags and then a sweep"],
    ['k=tag(x,glob(*))', 8, "in 'tag(x,glob(*))': argument 2 of tag() must be a string tag or a sweep, not a glob"],
    ['k=glob(1)', 7, "in 'glob(1)': argument 'include' of glob() must be a pattern or a list of patterns, not an int (1)"],
    ['k=glob([a,1])', 2, "in 'glob([a,1])': glob() include patterns must be strings, got an int (1)"],
    ['k=int(glob(*))', 6, "in 'int(glob(*))': argument 1 of int() must be a value or a choice/range/interval sweep, not a glob"],
    ['k=shuffle()', 2, "in 'shuffle()': shuffle() needs a list, a sweep or several values"],
    ['k=sort()', 2, "in 'sort()': sort() needs a list, a sweep or several values"],
    ['k=choice(1,2),3', 2, 'a choice cannot contain a choice sweep (sweeps go at the top of the value)'],
    ['k=range(1,3),2', 2, 'a choice cannot contain a range sweep (sweeps go at the top of the value)'],
    ['k=[choice(1,2)]', 3, 'a list cannot contain a choice sweep (sweeps go at the top of the value)'],
    ['k={a:range(1,2)}', 5, 'a dict cannot contain a range sweep (sweeps go at the top of the value)'],
    ['k=int(1,choice(2))', 2, "in 'int(1,choice(2))': int() of several values cannot contain a choice sweep"],
  ])('%s', (text, column, reason) => {
    try {
      parseOverride(text);
      expect.unreachable(`'${text}' was accepted`);
    } catch (e) {
      expect(e).toBeInstanceOf(OverrideParseError);
      expect((e as OverrideParseError).reason).toBe(reason);
      expect((e as OverrideParseError).column).toBe(column);
    }
  });
});

describe('formatOverrideValue', () => {
  const str = (s: string) => new ValueNode(s, 'str');
  it.each<[ConfigNode, string]>([
    [new ValueNode(1, 'int'), '1'],
    [new ValueNode(-12, 'int'), '-12'],
    [new ValueNode(1e21, 'int'), '1000000000000000000000'],
    [new ValueNode(1, 'float'), '1.0'],
    [new ValueNode(0.0001, 'float'), '0.0001'],
    [new ValueNode(1e-5, 'float'), '1e-05'],
    [new ValueNode(1e16, 'float'), '1e+16'],
    [new ValueNode(1.5e300, 'float'), '1.5e+300'],
    [new ValueNode(123456789.125, 'float'), '123456789.125'],
    [new ValueNode(-0, 'float'), '-0.0'],
    [new ValueNode(Infinity, 'float'), 'inf'],
    [new ValueNode(-Infinity, 'float'), '-inf'],
    [new ValueNode(NaN, 'float'), 'nan'],
    [new ValueNode(true, 'bool'), 'true'],
    [new ValueNode(null, 'null'), 'null'],
    [new ValueNode('???', 'missing'), '???'],
    [str('abc'), 'abc'],
    [str('/a/b.mp4'), '/a/b.mp4'],
    [str('a:b'), 'a:b'],
    [str('007'), '007'],
    [str('1'), "'1'"],
    [str('1.5'), "'1.5'"],
    [str('inf'), "'inf'"],
    [str('true'), "'true'"],
    [str('NULL'), "'NULL'"],
    [str(''), "''"],
    [str('a b'), "'a b'"],
    [str("it's"), '"it\'s"'],
    [str('a\'b"c'), "'a\\'b\"c'"],
    [str('C:\\foo\\'), "'C:\\foo\\\\'"],
    [str('${a.b}'), "'${a.b}'"],
    [str('a,b'), "'a,b'"],
    [str('café'), "'café'"],
    [new ListNode([new ValueNode(1, 'int'), str('a b'), new ListNode([])]), "[1,'a b',[]]"],
    [new DictNode(new Map<string, ConfigNode>([['a', new ValueNode(1, 'float')], ['b c', str('x')], ['1e3', new ValueNode(null, 'null')]])), '{a:1.0,b\\ c:x,1e3:null}'],
    [new DictNode(new Map<string, ConfigNode>([["it's", str('x')]])), '{"it\'s":x}'],
  ])('%j', (node, text) => {
    expect(formatOverrideValue(node)).toBe(text);
  });
});
