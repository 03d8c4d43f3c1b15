// Parsing command-line overrides: the grammar (grammar.peggy) gives the structure, the visitor the
// meaning; this module is the entry point and turns every failure into an OverrideParseError whose
// message says, in words and with a caret, what was expected and what was found.

import { VidraError } from '../config/errors.ts';
import { toPlain, type ConfigNode, type SourceLoc } from '../config/node.ts';
import { parse as parseGrammar, SyntaxError as GrammarSyntaxError } from './grammar.generated.js';
import type { OverrideType, ParsedOverride } from './types.ts';
import {
  FLOAT_TOKEN,
  INT_TOKEN,
  intToString,
  KEYWORD_TOKEN,
  OverrideProblem,
  pyFloatRepr,
  toSweep,
  Visitor,
  type OverrideAst,
  type SweepVal,
} from './visitor.ts';

/** A malformed override. `column` is the 0-based index into `override` where the problem is. */
export class OverrideParseError extends VidraError {
  readonly column: number;
  readonly override: string;
  /** The last line of the message, without `at column N: `. */
  readonly reason: string;

  constructor(override: string, column: number, reason: string) {
    super(`Error parsing override '${printable(override)}'\n${caretDisplay(override, column)}\nat column ${column}: ${reason}`);
    this.override = override;
    this.column = column;
    this.reason = reason;
  }
}

function caretDisplay(text: string, column: number): string {
  // Tabs are repeated under themselves so the caret lines up; a surrogate pair is one character wide.
  let pad = '';
  for (let i = 0; i < column && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) continue;
    pad += text[i] === '\t' ? '\t' : ' ';
  }
  return `  ${printable(text)}\n  ${pad}^`;
}

/** Control characters other than tab (a newline pasted by mistake) would break the message apart. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '?');
}

// ---------------------------------------------------------------------------------------------
// Parsing

const GRAMMAR_OPTIONS = {
  fail(code: string, offset: number): never {
    if (code === 'unterminated-quote') throw new OverrideProblem(offset, 'this quoted string has no closing quote');
    throw new OverrideProblem(offset, code);
  },
};

const TYPE_OF_PREFIX: Record<string, OverrideType> = { '': 'change', '+': 'add', '++': 'force_add', '~': 'delete' };

/**
 * Parses one override into Vidra's typed form; throws OverrideParseError for any malformed text.
 * Each call returns a new object; the config nodes in it are, like all nodes, read-only.
 */
export function parseOverrideInternal(text: string): ParsedOverride {
  let ast: OverrideAst;
  try {
    ast = parseGrammar(text, GRAMMAR_OPTIONS) as OverrideAst;
  } catch (err) {
    if (err instanceof GrammarSyntaxError) {
      const { column, reason } = explainSyntaxError(text, err);
      throw new OverrideParseError(text, column, reason);
    }
    if (err instanceof OverrideProblem) throw new OverrideParseError(text, err.column, err.message);
    if (err instanceof RangeError) throw tooDeep(text, err); // the recursive parser ran out of stack
    throw err;
  }
  const { key, pkg, keyEnd, value } = ast;
  const prefix = ast.prefix ?? '';
  const type = TYPE_OF_PREFIX[prefix]!;
  if (value === null) {
    if (type !== 'delete') throw new OverrideParseError(text, keyEnd, missingEquals(text.slice(prefix.length, keyEnd), 'the end of the override'));
    return { type, key, package: pkg, value: null, sweep: null, text };
  }
  const loc: SourceLoc = { file: `override '${text}'`, line: 0, col: (value === '' ? text.length : value.at) + 1 };
  let result;
  try {
    result = new Visitor(text, loc).value(value);
  } catch (err) {
    if (err instanceof OverrideProblem) throw new OverrideParseError(text, err.column, err.message);
    if (err instanceof RangeError) throw tooDeep(text, err);
    throw err;
  }
  const isNode = result.kind === 'value' || result.kind === 'list' || result.kind === 'dict';
  return {
    type,
    key,
    package: pkg,
    value: isNode ? (result as ConfigNode) : null,
    sweep: isNode ? null : toSweep(result as SweepVal),
    text,
  };
}

function tooDeep(text: string, err: RangeError): OverrideParseError {
  const e = new OverrideParseError(text, text.indexOf('=') + 1, 'the value is nested too deeply');
  (e as { cause?: unknown }).cause = err;
  return e;
}

export function isSweep(p: ParsedOverride): boolean {
  return p.sweep !== null;
}

// ---------------------------------------------------------------------------------------------
// Public API: plain JS values plus a parallel description of their exact types.

export type ScalarValueType = 'int' | 'float' | 'str' | 'bool' | 'null';
export type ValueType = ScalarValueType | ValueType[] | { [key: string]: ValueType };

export type PublicSweep =
  | { kind: 'choice'; values: unknown[]; valueTypes: ValueType[]; shuffle: boolean; tags: string[] }
  | {
      kind: 'range';
      start: number;
      stop: number;
      step: number;
      type: 'int' | 'float';
      reverse: boolean;
      shuffle: boolean;
      tags: string[];
    }
  | { kind: 'interval'; start: number; end: number; tags: string[] }
  | { kind: 'glob'; include: string[]; exclude: string[]; tags: string[] };

export interface PublicOverride {
  type: OverrideType;
  key: string;
  package: string | null;
  /** Plain JS; null for sweeps and for `~key` without a value. */
  value: unknown;
  /** Mirrors `value`; null where value is null because of a sweep or a bare delete. */
  valueType: ValueType | null;
  sweep: PublicSweep | null;
}

/** Parses one override (`key=value`, `+key=value`, `++key=value`, `~key[=value]`). */
export function parseOverride(text: string): PublicOverride {
  const p = parseOverrideInternal(text);
  return {
    type: p.type,
    key: p.key,
    package: p.package,
    value: p.value === null ? null : toPlain(p.value),
    valueType: p.value === null ? null : valueTypeOf(p.value),
    sweep: p.sweep === null ? null : publicSweep(p.sweep),
  };
}

export function valueTypeOf(node: ConfigNode): ValueType {
  switch (node.kind) {
    case 'value':
      return node.type === 'missing' ? 'str' : node.type;
    case 'list':
      return node.items.map(valueTypeOf);
    case 'dict': {
      const out: Record<string, ValueType> = {};
      for (const [k, v] of node.entries) out[k] = valueTypeOf(v);
      return out;
    }
  }
}

function publicSweep(s: NonNullable<ParsedOverride['sweep']>): PublicSweep {
  switch (s.kind) {
    case 'choice':
      return { kind: 'choice', values: s.values.map(toPlain), valueTypes: s.values.map(valueTypeOf), shuffle: s.shuffle, tags: [...s.tags] };
    case 'range':
      return { kind: 'range', start: s.start, stop: s.stop, step: s.step, type: s.type, reverse: s.reverse, shuffle: s.shuffle, tags: [...s.tags] };
    case 'interval':
      return { kind: 'interval', start: s.start, end: s.end, tags: [...s.tags] };
    case 'glob':
      return { kind: 'glob', include: [...s.include], exclude: [...s.exclude], tags: [...s.tags] };
  }
}

// ---------------------------------------------------------------------------------------------
// Printing a typed value back in override syntax

// Strings made only of these characters can be written unquoted as they are.
const PLAIN_STRING = /^[A-Za-z0-9_\-/+.$%*@?|:]+$/;
// Characters a dict key may hold once `\()[]{}:=, <tab>` are escaped (dict keys cannot be quoted).
const KEY_CHARS = /^[A-Za-z0-9_\-/+.$%*@?|]*$/;
const KEY_ESCAPES = /[\\()[\]{}:=, \t]/g;

/**
 * A typed value in override syntax such that parsing it back gives the same typed value:
 * floats keep a `.`/exponent (`1.0`, `1e-05`, `inf`), strings that would read as something else
 * (`'1'`, `'true'`, `''`) or hold special characters are quoted, lists and dicts are `[a,b]`/`{k:v}`.
 * `???` prints as `???` (it reads back as that string). A dict key that Hydra's grammar cannot
 * express (empty, or with quotes or non-ASCII characters: keys cannot be quoted) prints quoted,
 * which keeps the text unambiguous but does not parse back.
 */
export function formatOverrideValue(node: ConfigNode): string {
  switch (node.kind) {
    case 'list':
      return `[${node.items.map(formatOverrideValue).join(',')}]`;
    case 'dict': {
      const parts: string[] = [];
      for (const [k, v] of node.entries) parts.push(`${formatDictKey(k)}:${formatOverrideValue(v)}`);
      return `{${parts.join(',')}}`;
    }
    case 'value':
      switch (node.type) {
        case 'null':
          return 'null';
        case 'bool':
          return node.value ? 'true' : 'false';
        case 'int':
          return intToString(node.value as number);
        case 'float':
          return pyFloatRepr(node.value as number);
        case 'missing':
          return '???';
        case 'str':
          return formatString(node.value as string);
      }
  }
}

function formatString(s: string): string {
  if (PLAIN_STRING.test(s) && !INT_TOKEN.test(s) && !FLOAT_TOKEN.test(s) && !KEYWORD_TOKEN.test(s)) return s;
  return quote(s);
}

/** Quotes like Hydra's QuotedString.with_quotes: backslashes before a quote or the end are doubled. */
function quote(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  const re = q === "'" ? /(\\*)('|$)/g : /(\\*)("|$)/g;
  return q + s.replace(re, (_m, bs: string, quoteChar: string) => bs + bs + (quoteChar ? `\\${quoteChar}` : '')) + q;
}

function formatDictKey(k: string): string {
  const escaped = k.replace(KEY_ESCAPES, (c) => `\\${c}`);
  if (k !== '' && KEY_CHARS.test(escaped.replace(/\\[\\()[\]{}:=, \t]/g, ''))) return escaped;
  return quote(k);
}

// ---------------------------------------------------------------------------------------------
// Syntax errors in words

const VALUE_WORDS = 'a value (a number, a string, a quoted string, a list [..] or a dict {..})';
// The order in which expectations are listed.
const EXPECTATION_ORDER = [VALUE_WORDS, 'a dict key', "':'", "','", "')'", "']'", "'}'", 'the end of the override'];
const EXPECTATION_WORDS: Record<string, string> = { "':'": "':' after the dict key" };

function describeFound(text: string, pos: number): string {
  if (pos >= text.length) return 'the end of the override';
  const c = String.fromCodePoint(text.codePointAt(pos)!);
  if (c === ' ') return 'a space';
  if (c === '\t') return 'a tab';
  if (c === "'") return `"'"`;
  if (c < ' ' || c === '\u007f') return `the control character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  return `'${c}'`;
}

function wordsList(items: string[]): string {
  if (items.length <= 1) return items[0] ?? 'something else';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

function missingEquals(key: string, found: string): string {
  const hint = found === 'the end of the override' ? ` (to set it write ${key}=VALUE, to delete it ~${key})` : '';
  return `expected '=' after the key '${key}' but found ${found}${hint}`;
}

/** Characters that can appear in an unquoted value, or end one (anything else must be quoted). */
const UNQUOTED_OK = /[A-Za-z0-9_\-/\\+.$%*@?|: \t,()[\]{}='"]/;

function explainSyntaxError(text: string, err: GrammarSyntaxError): { column: number; reason: string } {
  const pos = err.location.start.offset;
  const found = describeFound(text, pos);
  // Only named rules matter (literals and classes inside tokens would read as noise).
  const descriptions = new Set((err.expected ?? []).filter((e) => e.type === 'other').map((e) => e.description!));
  const eq = text.indexOf('=');
  const prefixLength = /^(?:~|\+\+|\+)?/.exec(text)![0].length;

  // --- the key ---------------------------------------------------------------------------
  if (eq === -1 || pos <= eq) {
    const c = text[pos];
    if (pos === prefixLength) {
      if (c === '-') {
        const flag = text.startsWith('--') ? " (command-line flags such as --multirun are not overrides; they go before them)" : '';
        return { column: pos, reason: `a key cannot start with '-'${flag}` };
      }
      if (c === '=') return { column: pos, reason: "expected a key before '='" };
      if (c !== undefined && /[0-9]/.test(c)) {
        return { column: pos, reason: `expected a key but found ${found}: a key starts with a letter, '_' or '$' (a number is allowed in a dotted path such as list.0)` };
      }
      return { column: pos, reason: `expected a key (like db, optim.lr or model/backbone) but found ${found}` };
    }
    const key = text.slice(prefixLength, pos);
    if (c === ':' && key.includes('@')) {
      const group = key.slice(0, key.indexOf('@'));
      const rest = text.slice(pos + 1);
      const pkg2 = /^[A-Za-z0-9_$.-]*/.exec(rest)![0];
      return {
        column: pos,
        reason: `the form 'group@pkg1:pkg2' (renaming a package) is no longer supported; select the package directly: ${text.slice(0, prefixLength)}${group}@${pkg2}${rest.slice(pkg2.length)}`,
      };
    }
    if (c === '.' && key.includes('/')) return { column: pos, reason: `${missingEquals(key, found)}; a config group path (model/backbone) cannot contain '.'` };
    if (c === '.') return { column: pos, reason: `a '.' in a key must be followed by a name (as in a.b.c), after '${key}'` };
    if (c === '[') return { column: pos, reason: `${missingEquals(key, found)}; index list items with a dot (${key}.0), not ${key}[0]` };
    if (c === ' ' || c === '\t') return { column: pos, reason: `${missingEquals(key, found)}; keys cannot contain spaces` };
    if (c === '/') return { column: pos, reason: `${missingEquals(key, found)}; a config group path is made of names (letters, digits, '_', '-') separated by '/'` };
    return { column: pos, reason: missingEquals(key, found) };
  }

  // --- the value -------------------------------------------------------------------------
  // Spaces before what went wrong are not what went wrong: point past them (unless nothing follows).
  const afterSpaces = pos + /^[ \t]*/.exec(text.slice(pos))![0].length;
  if (afterSpaces > pos && afterSpaces < text.length) return explainValue(text, afterSpaces, descriptions, eq);
  return explainValue(text, pos, descriptions, eq);
}

function explainValue(text: string, pos: number, descriptions: ReadonlySet<string>, eq: number): { column: number; reason: string } {
  const found = describeFound(text, pos);
  const before = text.slice(0, pos).replace(/[ \t]+$/, '');
  const prev = before[before.length - 1];
  // Right after `key=` the end is also legal (an empty string) but not worth mentioning.
  const startOfValue = before.length === eq + 1;
  const expected = EXPECTATION_ORDER.filter((d) =>
    d === VALUE_WORDS ? descriptions.has('a value') : descriptions.has(d) && !(startOfValue && d === 'the end of the override'),
  );
  const base = `expected ${wordsList(expected.map((d) => EXPECTATION_WORDS[d] ?? d))} but found ${found}`;
  const c = pos < text.length ? String.fromCodePoint(text.codePointAt(pos)!) : undefined;

  if (c !== undefined && !UNQUOTED_OK.test(c)) {
    const value = text.slice(eq + 1);
    // eslint-disable-next-line no-control-regex
    const example = /['",[\]{}()\u0000-\u001f\u007f]/.test(value) ? '' : `, e.g. ${text.slice(0, eq + 1)}'${value.trim()}'`;
    const code = c.codePointAt(0)!;
    const what = code > 0x7f ? 'non-ASCII characters' : code < 0x20 || code === 0x7f ? 'control characters' : `'${c}'`;
    return { column: pos, reason: `${base} (${what} can only appear in a quoted value: put the value in quotes${example})` };
  }
  if (text[pos - 1] === "'" || text[pos - 1] === '"') {
    // Only a closing quote can precede the failure point (an opening one starts a quoted string).
    return { column: pos, reason: `${base} (a quoted string must be a whole value: put everything in the quotes, or separate values with ',')` };
  }
  if (c === "'" || c === '"') {
    if (descriptions.has('a dict key')) return { column: pos, reason: `${base} (dict keys cannot be quoted; escape special characters with a backslash instead, as in {a\\ b: 1})` };
    return { column: pos, reason: `${base} (a quote can only start a value: quote the whole value)` };
  }
  if (descriptions.has('a value') && prev === ',' && (c === undefined || /[\])},]/.test(c))) {
    return { column: pos, reason: `expected a value after ',' but found ${found} (remove the trailing comma)` };
  }
  if (descriptions.has('a dict key') && prev === ',' && c === '}') {
    return { column: pos, reason: `expected a dict key after ',' but found ${found} (remove the trailing comma)` };
  }
  if (descriptions.has('a value') && prev === ':') return { column: pos, reason: `expected a value after ':' but found ${found}` };
  if (c === '=') return { column: pos, reason: `${base} (to use '=' inside a value, escape it as \\= or quote the value)` };
  if (c === '{' && prev === '$') return { column: pos, reason: `${base} (an interpolation \${...} needs its closing '}')` };
  if (c === '}' && before.includes('${')) {
    return { column: pos, reason: `${base} (an interpolation that contains '{' or '}' must be quoted, e.g. ${text.slice(0, eq + 1)}'${text.slice(eq + 1).trim()}')` };
  }
  return { column: pos, reason: base };
}
