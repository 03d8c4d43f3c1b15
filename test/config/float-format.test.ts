import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatFloat, formatInt, pythonStr, pythonStrNode, yamlFloat } from '../../core/config/float-format.ts';
import { Float, fromPlain } from '../../core/config/node.ts';

describe('formatFloat is Python repr(float)', () => {
  // Each pair was checked against CPython 3.11: repr(x).
  it.each([
    [0.1, '0.1'],
    [1.0, '1.0'],
    [1e-4, '0.0001'],
    [1e-5, '1e-05'],
    [1.5e-5, '1.5e-05'],
    [1e16, '1e+16'],
    [1e15, '1000000000000000.0'],
    [123456789012345678.0, '1.2345678901234568e+17'],
    [0.30000000000000004, '0.30000000000000004'],
    [-0.0, '-0.0'],
    [0.0, '0.0'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [NaN, 'nan'],
    [3e-4, '0.0003'],
    [2.5e-10, '2.5e-10'],
    [1e100, '1e+100'],
    [-1.5, '-1.5'],
    [100.0, '100.0'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [0.001, '0.001'],
    [12345.678, '12345.678'],
  ])('repr(%s) == %s', (x, text) => {
    expect(formatFloat(x)).toBe(text);
  });

  it('round-trips through parseFloat for any double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (x) => {
        expect(Object.is(Number(formatFloat(x).replace('inf', 'Infinity')), x)).toBe(true);
      }),
    );
  });
});

describe('yamlFloat is PyYAML represent_float', () => {
  it.each([
    [1.0, '1.0'],
    [0.0001, '0.0001'],
    [1e-5, '1.0e-05'],
    [1.5e-5, '1.5e-05'],
    [1e16, '1.0e+16'],
    [Infinity, '.inf'],
    [-Infinity, '-.inf'],
    [NaN, '.nan'],
    [-0.0, '-0.0'],
  ])('%s → %s', (x, text) => {
    expect(yamlFloat(x)).toBe(text);
  });
});

describe('pythonStr is str() of a scalar', () => {
  it('writes bools, None and floats the Python way', () => {
    expect(pythonStr(true, 'bool')).toBe('True');
    expect(pythonStr(false, 'bool')).toBe('False');
    expect(pythonStr(null, 'null')).toBe('None');
    expect(pythonStr(1e-5, 'float')).toBe('1e-05');
    expect(pythonStr(2, 'float')).toBe('2.0');
    expect(pythonStr(2, 'int')).toBe('2');
    expect(pythonStr('a b', 'str')).toBe('a b');
  });

  it('writes big ints in full', () => {
    expect(formatInt(1e21)).toBe('1000000000000000000000');
  });

  it('writes containers as the repr of their raw content, like DictConfig.__str__', () => {
    const node = fromPlain({ a: 1, b: new Float(1), c: [true, null, "it's"], d: '${x}' });
    expect(pythonStrNode(node)).toBe(`{'a': 1, 'b': 1.0, 'c': [True, None, "it's"], 'd': '\${x}'}`);
  });
});
