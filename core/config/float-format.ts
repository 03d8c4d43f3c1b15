// Python's text forms of config values. Users compare Vidra's output with what OmegaConf printed
// (`lr: 1.0e-05` in `.hydra/config.yaml`, `run_${lr}` → `run_1e-05`), so floats and scalars are
// written the way CPython and PyYAML write them, not the way JavaScript does (`1e-5`, `1`, `true`).
import type { ConfigNode, Scalar, ScalarType } from './node.ts';

/**
 * `repr(float)` of CPython ≥ 3.1: the shortest digits that round-trip (JS computes the same
 * digits, `toExponential()` without an argument), fixed notation for decimal exponents
 * -4…15 with at least one fractional digit, otherwise `d.ddde±XX` with a two-digit minimum
 * exponent (Python/pystrtod.c `format_float_short`, mode 'r').
 */
export function formatFloat(x: number): string {
  // Sweeps print the same few floats into thousands of strings; toExponential is slow.
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0'; // a Map cannot tell 0 from -0
  let text = reprMemo.get(x);
  if (text === undefined) {
    text = repr(x);
    if (reprMemo.size >= 10_000) reprMemo.clear();
    reprMemo.set(x, text);
  }
  return text;
}

const reprMemo = new Map<number, string>();

function repr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  const sign = x < 0 ? '-' : '';
  const [mantissa, expText] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = String(Math.abs(exp)).padStart(2, '0');
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${whole}.${frac || '0'}`;
}

/**
 * PyYAML's `represent_float`: `.inf`, `-.inf`, `.nan`, else `repr` lower-cased with `.0` put
 * before the `e` when the mantissa has no dot, because YAML 1.1's float regex needs the dot
 * (`1e-05` → `1.0e-05`).
 */
export function yamlFloat(x: number): string {
  if (Number.isNaN(x)) return '.nan';
  if (x === Infinity) return '.inf';
  if (x === -Infinity) return '-.inf';
  const r = formatFloat(x);
  return !r.includes('.') && r.includes('e') ? r.replace('e', '.0e') : r;
}

/** An int's decimal digits, also past 1e21 where `String(x)` switches to exponent form. */
export function formatInt(x: number): string {
  return Number.isSafeInteger(x) || !Number.isFinite(x) ? String(x) : BigInt(x).toString();
}

/** Python `str()` of a scalar, as string interpolation (`"x_${a}"`) and `oc.env` defaults use it. */
export function pythonStr(value: Scalar, type: ScalarType): string {
  switch (type) {
    case 'bool':
      return value ? 'True' : 'False';
    case 'null':
      return 'None';
    case 'float':
      return formatFloat(value as number);
    case 'int':
      return formatInt(value as number);
    default:
      return String(value);
  }
}

/**
 * Python `repr()` of a string: single quotes unless the text holds a `'` and no `"`,
 * backslash escapes for the quote, `\\`, `\n`, `\r`, `\t` and other non-printables.
 */
export function pythonReprStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0x80 && c < 0xa0) out += `\\x${c.toString(16)}`;
    else out += ch;
  }
  return out + quote;
}

/**
 * Python `str()` of a node as OmegaConf gives it when a container is pasted into a string
 * (`"cfg=${model}"`): scalars as {@link pythonStr}, containers as the repr of their raw,
 * unresolved content (`{'depth': 50, 'lr': '${optim.lr}'}`), like `DictConfig.__str__`.
 */
export function pythonStrNode(node: ConfigNode): string {
  return node.kind === 'value' ? pythonStr(node.value, node.type) : pythonRepr(node);
}

function pythonRepr(node: ConfigNode): string {
  switch (node.kind) {
    case 'value':
      return node.type === 'str' || node.type === 'missing'
        ? pythonReprStr(node.value as string)
        : pythonStr(node.value, node.type);
    case 'list':
      return `[${node.items.map(pythonRepr).join(', ')}]`;
    case 'dict':
      return `{${[...node.entries].map(([k, v]) => `${pythonReprStr(k)}: ${pythonRepr(v)}`).join(', ')}}`;
  }
}
