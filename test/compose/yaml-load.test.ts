import { describe, expect, it } from 'vitest';
import { ConfigCompositionError } from '../../core/config/errors.ts';
import type { DictNode, ListNode, ValueNode } from '../../core/config/node.ts';
import { loadYaml, resolvePlainScalar } from '../../core/config/yaml-load.ts';
import { aliasBomb } from '../helpers/yaml.ts';

const value = (text: string, key = 'a') => (loadYaml(text, 'f.yaml').node.entries.get(key) as ValueNode);

describe('YAML scalars are typed as OmegaConf (PyYAML 1.1 + OmegaConf float rule) types them', () => {
  it.each([
    ['1', 1, 'int'],
    ['-10', -10, 'int'],
    ['+10', 10, 'int'],
    ['1_000', 1000, 'int'],
    ['0x10', 16, 'int'],
    ['010', 8, 'int'],
    ['0b101', 5, 'int'],
    ['1:30', 90, 'int'],
    ['1.0', 1, 'float'],
    ['1.', 1, 'float'],
    ['.5', 0.5, 'float'],
    ['1e-4', 1e-4, 'float'],
    ['1.5e-4', 1.5e-4, 'float'],
    ['1E4', 1e4, 'float'],
    ['.inf', Infinity, 'float'],
    ['-.Inf', -Infinity, 'float'],
    ['.nan', NaN, 'float'],
    ['true', true, 'bool'],
    ['yes', true, 'bool'],
    ['Off', false, 'bool'],
    ['~', null, 'null'],
    ['null', null, 'null'],
    ['', null, 'null'],
    ['???', '???', 'missing'],
    ['y', 'y', 'str'],
    ['2026-01-01', '2026-01-01', 'str'],
    ['1__0', 10, 'int'], // PyYAML's int rule allows repeated underscores (the override grammar does not)
    ['infinity', 'infinity', 'str'],
    ['hello world', 'hello world', 'str'],
  ])('%j → %j (%s)', (text, expected, type) => {
    const v = value(`a: ${text}\n`);
    expect(v.type).toBe(type);
    if (Number.isNaN(expected)) expect(Number.isNaN(v.value)).toBe(true);
    else expect(v.value).toBe(expected);
  });

  it('quoted scalars are strings, and a quoted ??? is still missing', () => {
    expect(value("a: '1'\n")).toMatchObject({ value: '1', type: 'str' });
    expect(value('a: "true"\n')).toMatchObject({ value: 'true', type: 'str' });
    expect(value("a: '???'\n")).toMatchObject({ type: 'missing' });
  });

  it('resolvePlainScalar agrees with the loader', () => {
    expect(resolvePlainScalar('1e-4')).toEqual({ value: 1e-4, type: 'float' });
    expect(resolvePlainScalar('1')).toEqual({ value: 1, type: 'int' });
  });
});

describe('structure and locations', () => {
  it('records file:line:col of every value', () => {
    const { node } = loadYaml('a: 1\nb:\n  c: [1, 2]\n  d: x\n', 'conf/x.yaml');
    const b = node.entries.get('b') as DictNode;
    expect(b.entries.get('d')!.loc).toEqual({ file: 'conf/x.yaml', line: 4, col: 6 });
    expect(node.entries.get('a')!.loc).toEqual({ file: 'conf/x.yaml', line: 1, col: 4 });
  });

  it('keeps key order, resolves anchors and merge keys', () => {
    const { node } = loadYaml('z: 1\nbase: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n', 'f.yaml');
    expect([...node.entries.keys()]).toEqual(['z', 'base', 'derived']);
    const d = node.entries.get('derived') as DictNode;
    expect([...d.entries].map(([k, v]) => [k, (v as ValueNode).value])).toEqual([
      ['x', 1],
      ['y', 3],
    ]);
  });

  it('reads the # @package header from the leading comments only', () => {
    expect(loadYaml('# @package _global_\na: 1\n', 'f').packageHeader).toBe('_global_');
    expect(loadYaml('# a comment\n#   @package  model.head\na: 1\n', 'f').packageHeader).toBe('model.head');
    expect(loadYaml('a: 1\n# @package x\n', 'f').packageHeader).toBeNull();
  });

  it('an empty file is an empty dict', () => {
    expect(loadYaml('', 'f').node.entries.size).toBe(0);
    expect(loadYaml('# only a comment\n', 'f').node.entries.size).toBe(0);
  });
});

describe('malformed YAML gives one clear error with file:line:col', () => {
  it('an unclosed flow sequence', () => {
    expect(() => loadYaml('a: 1\nb: [1, 2\nc: 3\n', 'conf/bad.yaml')).toThrow(/^conf\/bad\.yaml:\d+:\d+: invalid YAML: \S/);
  });
  it('duplicate keys', () => {
    expect(() => loadYaml('a: 1\na: 2\n', 'conf/dup.yaml')).toThrow(ConfigCompositionError);
    expect(() => loadYaml('a: 1\na: 2\n', 'conf/dup.yaml')).toThrow(/conf\/dup\.yaml:2:1: invalid YAML: Map keys must be unique/);
  });
  it('an alias bomb (nine nested anchors of nine aliases each) fails at once, naming the alias where the cap was reached', () => {
    const started = performance.now();
    expect(() => loadYaml(aliasBomb(9), 'conf/bomb.yaml')).toThrow(
      new ConfigCompositionError(
        'YAML aliases expand to more than 10000 values in this file, reached at alias *d ' +
          '(anchors nested in aliased nodes multiply): write the values out or nest fewer aliases',
        { loc: { file: 'conf/bomb.yaml', line: 5, col: 8 } },
      ),
    );
    expect(performance.now() - started).toBeLessThan(1000);
  });
  it('nested aliases under the cap are expanded in full', () => {
    const { node } = loadYaml(aliasBomb(3), 'f.yaml');
    const c = node.entries.get('c') as ListNode;
    expect(c.items).toHaveLength(9);
    expect((c.items[8] as ListNode).items.map((b) => (b as ListNode).items.length)).toEqual(Array(9).fill(9));
  });
  it('a top level that is not a mapping', () => {
    expect(() => loadYaml('- 1\n- 2\n', 'conf/list.yaml')).toThrow('conf/list.yaml:1:1: a config file must be a mapping at the top level, found a list');
  });
});
