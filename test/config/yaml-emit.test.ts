// YAML output as OmegaConf.to_yaml writes it (PyYAML's emitter with OmegaConf's dumper).
// The expected texts were produced by omegaconf 2.3.1 + PyYAML 6.0.3; round trips are checked
// with the yaml package (YAML 1.2 core schema), which is what reads Vidra's files back.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from 'yaml';
import { DictNode, Float, ListNode, ValueNode, fromPlain, type ConfigNode } from '../../core/config/node.ts';
import { toYaml } from '../../core/config/yaml-emit.ts';

const yaml = (obj: Record<string, unknown>) => toYaml(fromPlain(obj));

describe('strings: plain when safe, else quoted as PyYAML + OmegaConf quote them', () => {
  it.each([
    ["", "k: ''\n"],
    [" ", "k: ' '\n"],
    ["a b", "k: a b\n"],
    [" a", "k: ' a'\n"],
    ["a ", "k: 'a '\n"],
    ["x: y", "k: 'x: y'\n"],
    ["x:y", "k: x:y\n"],
    [":x", "k: :x\n"],
    ["-", "k: '-'\n"],
    ["- a", "k: '- a'\n"],
    ["-a", "k: -a\n"],
    ["--- a", "k: '--- a'\n"],
    ["? a", "k: '? a'\n"],
    ["?a", "k: ?a\n"],
    ["#a", "k: '#a'\n"],
    ["a#b", "k: a#b\n"],
    ["a #b", "k: 'a #b'\n"],
    ["[a]", "k: '[a]'\n"],
    ["a[0]", "k: a[0]\n"],
    ["{a}", "k: '{a}'\n"],
    ["&a", "k: '&a'\n"],
    ["*a", "k: '*a'\n"],
    ["!a", "k: '!a'\n"],
    ["|", "k: '|'\n"],
    [">", "k: '>'\n"],
    ["'a", "k: '''a'\n"],
    ["\"a", "k: '\"a'\n"],
    ["%a", "k: '%a'\n"],
    ["@a", "k: '@a'\n"],
    ["`a", "k: '`a'\n"],
    ["yes", "k: 'yes'\n"],
    ["No", "k: 'No'\n"],
    ["y", "k: 'y'\n"],
    ["on", "k: 'on'\n"],
    ["true", "k: 'true'\n"],
    ["True", "k: 'True'\n"],
    ["null", "k: 'null'\n"],
    ["~", "k: '~'\n"],
    ["1", "k: '1'\n"],
    ["-1", "k: '-1'\n"],
    ["1.5", "k: '1.5'\n"],
    ["1e5", "k: '1e5'\n"],
    ["inf", "k: 'inf'\n"],
    [".inf", "k: '.inf'\n"],
    ["nan", "k: 'nan'\n"],
    ["infinity", "k: 'infinity'\n"],
    ["1_000", "k: '1_000'\n"],
    ["0x10", "k: '0x10'\n"],
    ["0b11", "k: '0b11'\n"],
    ["007", "k: '007'\n"],
    ["1:30", "k: '1:30'\n"],
    [".5", "k: '.5'\n"],
    ["2020-01-01", "k: '2020-01-01'\n"],
    ["=", "k: '='\n"],
    ["<<", "k: '<<'\n"],
    ["${a.b}", "k: ${a.b}\n"],
    ["x_${a}", "k: x_${a}\n"],
    ["${oc.env:HOME}", "k: ${oc.env:HOME}\n"],
    ["a\nb", "k: 'a\n\n  b'\n"],
    ["a\tb", "k: \"a\\tb\"\n"],
    ["\u00e9", "k: \u00e9\n"],
    ["it's", "k: it's\n"],
    ["say \"hi\"", "k: say \"hi\"\n"],
    ["a\\b", "k: a\\b\n"],
    [" 1", "k: ' 1'\n"],
    ["a\u0000b", "k: \"a\\0b\"\n"],
    ["\ufeff", "k: \"\\uFEFF\"\n"],
  ])('%j', (s, expected) => {
    expect(yaml({ k: s })).toBe(expected);
  });

  it('quotes keys by the same rules', () => {
    expect(yaml({ '1': 'a', yes: 'b', 'x: y': 'c', n: 'd', y: 'e' })).toBe("'1': a\n'yes': b\n'x: y': c\n'n': d\n'y': e\n");
  });

  it('writes empty, multi-line and very long keys in the explicit ? form', () => {
    const node = new DictNode(new Map<string, ConfigNode>([
      ['', fromPlain(1)],
      ['a\nb', fromPlain({ x: 1 })],
      ['c', fromPlain([{ 'd\ne': [1] }])],
      ['k'.repeat(123), fromPlain(2)],
      ['k'.repeat(122), fromPlain(3)],
    ]));
    expect(toYaml(node)).toBe(`? ''\n: 1\n? 'a\n\n  b'\n: x: 1\nc:\n- ? 'd\n\n    e'\n  : - 1\n? ${'k'.repeat(123)}\n: 2\n${'k'.repeat(122)}: 3\n`);
  });

  it('folds long plain and single-quoted strings at 80 columns', () => {
    expect(
      yaml({
        cmd: 'python train.py --epochs 100 --batch-size 64 --learning-rate 0.001 --weight-decay 0.0001 --seed 1',
        q: "it's a long string with 'quotes' that goes on and on and on past the eighty column mark",
      }),
    ).toBe(
      "cmd: python train.py --epochs 100 --batch-size 64 --learning-rate 0.001 --weight-decay\n  0.0001 --seed 1\nq: it's a long string with 'quotes' that goes on and on and on past the eighty column\n  mark\n",
    );
  });
});

describe('numbers, bools, null, ???', () => {
  it('writes floats like PyYAML, ints plain, keeps the block layout of OmegaConf', () => {
    const text = yaml({
      model: {
        name: 'x3d', depth: 50, lr: new Float(1), wd: 1e-4, eps: 1e-5, big: new Float(1e16), neg: new Float(-0), inf: Infinity, ninf: -Infinity, nan: NaN,
        ok: true, none: null, need: '???',
      },
      layers: [64, [1, 2], { a: 1, b: [], c: {} }, [], {}, [[3]]],
      empty_list: [],
      empty_dict: {},
      nested: { deep: { list: [{ x: 1 }, { y: [2] }] } },
    });
    expect(text).toBe(
      "model:\n  name: x3d\n  depth: 50\n  lr: 1.0\n  wd: 0.0001\n  eps: 1.0e-05\n  big: 1.0e+16\n  neg: -0.0\n  'inf': .inf\n  ninf: -.inf\n  'nan': .nan\n  ok: true\n  none: null\n  need: ???\nlayers:\n- 64\n- - 1\n  - 2\n- a: 1\n  b: []\n  c: {}\n- []\n- {}\n- - - 3\nempty_list: []\nempty_dict: {}\nnested:\n  deep:\n    list:\n    - x: 1\n    - 'y':\n      - 2\n",
    );
  });

  it('writes an empty config as {}', () => {
    expect(toYaml(new DictNode(new Map()))).toBe('{}\n');
    expect(toYaml(new ListNode([]))).toBe('[]\n');
  });

  it('writes big ints in full', () => {
    expect(yaml({ big: 2 ** 70 })).toBe('big: 1180591620717411303424\n');
  });
});

describe('deviations from PyYAML, so that YAML 1.2 readers get the same text back', () => {
  it('quotes 0o17 (an int in YAML 1.2) and escapes NEL/LS/PS', () => {
    expect(yaml({ k: '0o17' })).toBe("k: '0o17'\n");
    expect(yaml({ k: 'a\u2028b' })).toBe('k: "a\\Lb"\n');
  });
});

// ---- round trips through the yaml package

/** The values a YAML 1.2 reader should get back: floats are numbers, ??? is the string '???'. */
function expected(node: ConfigNode): unknown {
  if (node.kind === 'list') return node.items.map(expected);
  if (node.kind === 'dict') return Object.fromEntries([...node.entries].map(([k, v]) => [k, expected(v)]));
  return node.value;
}

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: fc.constantFrom(...' \t\n:#-?,[]{}&*!|>\'"%@`~=<.+_0123456789eExyYnNoO\\$'.split('')), maxLength: 10 }),
  fc.constantFrom('', '~', 'null', 'yes', 'No', '1e3', '0o17', '0x1f', '.inf', '-.5', '1_0', '12:30', '2001-12-14', '???'),
  fc.string({ unit: fc.constantFrom('word', ' ', 'x'), minLength: 30, maxLength: 60 }),
);
const scalar: fc.Arbitrary<unknown> = fc.oneof(
  text.filter((s) => s !== '???'),
  fc.integer({ min: -1e9, max: 1e9 }),
  fc.double().map((x) => new Float(x)),
  fc.boolean(),
  fc.constant(null),
);
const tree = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('list'), tie('dict')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  dict: fc.dictionary(text.filter((k) => k !== '__proto__'), tie('value'), { maxKeys: 4 }),
})).dict;

describe('round trip through the yaml package (YAML 1.2 core schema)', () => {
  it('reads back the same values and types for any tree', () => {
    fc.assert(
      fc.property(tree, (obj) => {
        const node = fromPlain(obj as Record<string, unknown>);
        expect(parse(toYaml(node))).toEqual(expected(node));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps floats floats where the text shows it', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const out = toYaml(fromPlain({ x: new Float(x) }));
        expect(out).toMatch(/^x: -?(\d+\.\d+|\d\.\d+e[+-]\d\d+)\n$/);
        expect(Object.is(parse(out).x, x) || (x === 0 && parse(out).x === 0)).toBe(true);
      }),
    );
  });

  it('keeps a string that looks like another type a string', () => {
    for (const s of ['1', '1.0', 'true', 'null', '~', '.nan', '0o17', '0x10', '1e5', '-.inf', 'Yes', 'off', '']) {
      expect(parse(toYaml(new DictNode(new Map([['k', new ValueNode(s, 'str')]])))).k).toBe(s);
    }
  });
});
