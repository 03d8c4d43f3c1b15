// Properties of the override parser that must hold for any input.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { DictNode, ListNode, ValueNode, toPlain, type ConfigNode } from '../../core/config/node.ts';
import {
  formatOverrideValue,
  OverrideParseError,
  parseOverride,
  valueTypeOf,
} from '../../core/overrides/parse.ts';
import { expandSweep } from '../../core/overrides/sweep.ts';

// Pieces of the override language, so that random texts often come close to valid ones.
const FRAGMENTS = [
  'a', 'b.c', 'x/y', '@', 'p', '~', '+', '++', '=', '$v', '0', '1', '07', '1_0', '_', '.', '5.', '.5', 'e', 'E', '-', 'inf',
  'NaN', 'null', 'True', 'yes', ':', '/', '%', '*', '?', '|', ',', ' ', '\t', '[', ']', '{', '}', '(', ')', "'", '"', '\\',
  '\\,', '\\ ', '${a}', '${', 'choice(', 'range(', 'interval(', 'glob(', 'tag(', 'sort(', 'shuffle(', 'int(', 'float(',
  'str(', 'bool(', 'json_str(', 'reverse=', 'step=', 'é', '#', '!', '😀', '\n',
];
const fragments = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 16 }).map((parts) => parts.join(''));
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fragments,
  fc.tuple(fc.constantFrom('a', '+a.b', '~x/y', 'db@p', '++k', '$k', 'a@'), fragments).map(([k, v]) => `${k}=${v}`),
);

describe('parseOverride on any text', () => {
  it('returns or throws an OverrideParseError pointing inside the text, nothing else', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        try {
          parseOverride(text);
        } catch (e) {
          expect(e).toBeInstanceOf(OverrideParseError);
          const { column, override, message } = e as OverrideParseError;
          expect(override).toBe(text);
          expect(column).toBeGreaterThanOrEqual(0);
          expect(column).toBeLessThanOrEqual(text.length);
          expect(message.split('\n')[3]).toMatch(new RegExp(`^at column ${column}: .+`));
          expect(message).not.toContain('something else'); // every failure names what was expected
        }
      }),
      { numRuns: 3000 },
    );
  });
});

// Typed values of every kind, including the ones that are easy to get wrong when printed.
const TRICKY = ['1', '-1', '1.0', '1e5', 'inf', '-nan', 'true', 'FALSE', 'null', 'yes', '', ' a ', "it's", 'a"b\'c', 'C:\\foo\\', '\\', "\\'", '${a}', '${a.b} x', 'a,b', '[1]', '{a:1}', 'f(x)', '007', '1__0', '-', ':', 'a=b', '???', '#', 'é', '\t', '\n'];
const KEY_UNIT = fc.constantFrom(...'abXZ019_-/+.$%*@?|\\()[]{}:=, \t'.split(''));

const { node } = fc.letrec<{ node: ConfigNode; leaf: ConfigNode; list: ConfigNode; dict: ConfigNode }>((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('leaf'), tie('list'), tie('dict')),
  leaf: fc.oneof(
    fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.double({ noNaN: true, noDefaultInfinity: true }).filter(Number.isInteger)).map((n) => new ValueNode(n === 0 ? 0 : n, 'int')),
    fc.oneof(fc.double(), fc.integer().map((n) => n), fc.constantFrom(0.1, 1e-5, 1e16, 123456789.125, -0)).map((x) => new ValueNode(x, 'float')),
    fc
      .oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom(...TRICKY) }), fc.constantFrom(...TRICKY))
      .map((s) => new ValueNode(s, 'str')),
    fc.boolean().map((b) => new ValueNode(b, 'bool')),
    fc.constant(new ValueNode(null, 'null')),
  ),
  list: fc.array(tie('node'), { maxLength: 4 }).map((items) => new ListNode(items)),
  dict: fc
    .uniqueArray(fc.tuple(fc.string({ unit: KEY_UNIT, minLength: 1, maxLength: 6 }), tie('node')), { selector: ([k]) => k, maxLength: 4 })
    .map((entries) => new DictNode(new Map(entries))),
}));

describe('formatOverrideValue', () => {
  it('prints any typed value so that parsing it back gives the same value and types', () => {
    fc.assert(
      fc.property(node, (n) => {
        const o = parseOverride(`k=${formatOverrideValue(n)}`);
        expect(o.sweep).toBeNull();
        expect(o.value).toEqual(toPlain(n));
        expect(o.valueType).toEqual(valueTypeOf(n));
      }),
      { numRuns: 3000 },
    );
  });

  it('prints sweep elements that expand back to the same values', () => {
    fc.assert(
      fc.property(fc.array(node, { minLength: 2, maxLength: 5 }), (nodes) => {
        const jobs = expandSweep([`k=${nodes.map(formatOverrideValue).join(',')}`]);
        expect(jobs.map(([o]) => parseOverride(o!).value)).toEqual(nodes.map(toPlain));
        expect(jobs.map(([o]) => parseOverride(o!).valueType)).toEqual(nodes.map(valueTypeOf));
      }),
      { numRuns: 1000 },
    );
  });
});
