// Meaning of the override grammar: turns the tagged objects built by `grammar.peggy` into typed config
// nodes and sweeps, exactly as Hydra 1.3's `overrides_visitor.py` + `grammar_functions.py` do
// (ints vs floats vs strings, escapes, quoted strings, functions and their argument binding, casts).
// Errors are thrown as OverrideProblem (a column and a sentence); parse.ts turns them into
// OverrideParseError with the caret display.

import { DictNode, ListNode, ValueNode, type ConfigNode, type SourceLoc } from '../config/node.ts';
import type { ChoiceSweep, GlobSweep, IntervalSweep, RangeSweep } from './types.ts';

/** A problem at a column of the override text; parse.ts wraps it into an OverrideParseError. */
export class OverrideProblem extends Error {
  constructor(
    readonly column: number,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// What the grammar returns (see grammar.peggy).

/** Unquoted tokens are their source text; `tokenKind` tells which token it was. */
export type Token = string;
export type Ast = (
  | { t: 'tokens'; toks: Token[]; at: number }
  | { t: 'quoted'; q: "'" | '"'; body: string; at: number }
  | { t: 'list'; items: Ast[]; at: number }
  | { t: 'dict'; pairs: Array<{ key: { toks: Token[]; at: number }; value: Ast; at: number }>; at: number }
  | { t: 'call'; name: string; args: Array<{ name: string | null; value: Ast; at: number }>; at: number; end: number }
  | { t: 'choice'; items: Ast[]; at: number }
  | { t: 'empty'; at: number }
) & { /** The source text of an element (a value, a list, a dict, a call). */ src?: string };

// The source text of each value node that an override's element evaluated to, as typed (`1e30`, `'a'`):
// a sweep echoes its elements this way rather than as formatted from the value (`1e+30`). A cast of a
// sweep (`float(1,2)`) makes new element nodes, which have no text and are formatted (`1.0`).
const typedTexts = new WeakMap<ConfigNode, string>();

/** The text a value node was typed as in an override, if it came from one unchanged. */
export function typedText(node: ConfigNode): string | undefined {
  return typedTexts.get(node);
}

export interface OverrideAst {
  prefix: '~' | '++' | '+' | null;
  key: string;
  /** null without '@'; '' for `key@=...`. */
  pkg: string | null;
  keyEnd: number;
  /** null without '='; '' for `key=` (the empty string). */
  value: Ast | '' | null;
}

type TokenKind = 'num' | 'word' | 'esc' | 'ws' | 'str';

/**
 * Which token a text is (the grammar returns texts): spaces (`ws`, but ` : ` is the COLON token),
 * an escape run, a number (INT/FLOAT, incl. `-inf`), a word (ID or keyword), or another string.
 */
function tokenKind(s: string): TokenKind {
  const c = s.charCodeAt(0);
  if (c === 32 || c === 9) return s.includes(':') ? 'str' : 'ws';
  if (c === 92) return s.length > 1 ? 'esc' : 'str'; // `\`
  if (c >= 48 && c <= 57) return 'num';
  if (c === 43 || c === 45 || c === 46) return s.length > 1 ? 'num' : 'str'; // + - . alone are CHARs
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95) return 'word';
  return 'str';
}

// ---------------------------------------------------------------------------------------------
// Sweeps while evaluating: mutable copies of the types.ts shapes plus Hydra's `simple_form` flag
// (`a,b` vs `choice(a,b)`: `choice()` of a simple choice unwraps it, of an explicit one is an error).

export class ChoiceVal {
  readonly kind = 'choice' as const;
  constructor(
    public values: ConfigNode[],
    public simple: boolean,
    public shuffle = false,
    public tags: string[] = [],
  ) {}
}

export class RangeVal {
  readonly kind = 'range' as const;
  public reverse = false;
  public shuffle = false;
  public tags: string[] = [];
  constructor(
    public start: number,
    public stop: number,
    public step: number,
    /** Python uses `range()` when start, stop and step are all ints, else a Decimal-based float range. */
    public isInt: boolean,
  ) {}
}

export class IntervalVal {
  readonly kind = 'interval' as const;
  constructor(
    public start: number,
    public end: number,
    public tags: string[] = [],
  ) {}
}

export class GlobVal {
  readonly kind = 'glob' as const;
  constructor(
    public include: string[],
    public exclude: string[],
  ) {}
}

export type SweepVal = ChoiceVal | RangeVal | IntervalVal | GlobVal;
export type Val = ConfigNode | SweepVal;

const isSweepVal = (v: Val): v is SweepVal =>
  v instanceof ChoiceVal || v instanceof RangeVal || v instanceof IntervalVal || v instanceof GlobVal;

export function toSweep(v: SweepVal): ChoiceSweep | RangeSweep | IntervalSweep | GlobSweep {
  switch (v.kind) {
    case 'choice':
      return { kind: 'choice', values: v.values, shuffle: v.shuffle, tags: v.tags };
    case 'range':
      return {
        kind: 'range',
        start: v.start,
        stop: v.stop,
        step: v.step,
        type: v.isInt ? 'int' : 'float',
        reverse: v.reverse,
        shuffle: v.shuffle,
        tags: v.tags,
        // int()/float() casts rewrite start/stop/step as Hydra does; str()/bool() of a range are errors.
      };
    case 'interval':
      return { kind: 'interval', start: v.start, end: v.end, tags: v.tags };
    case 'glob':
      return { kind: 'glob', include: v.include, exclude: v.exclude, tags: [] };
  }
}

// ---------------------------------------------------------------------------------------------
// Python-compatible number formatting and parsing (Hydra's results are Python's str()/int()/float()).

/** Python's repr(float): shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // String() gives the shortest digits that round-trip (closest when several), like Python's repr.
  const js = String(Math.abs(x));
  let digits: string;
  let exp: number; // decimal exponent of the first digit
  const e = js.indexOf('e');
  if (e >= 0) {
    const mant = js.slice(0, e);
    exp = Number(js.slice(e + 1));
    digits = mant.replace('.', '');
  } else {
    const dot = js.indexOf('.');
    const intPart = dot < 0 ? js : js.slice(0, dot);
    const frac = dot < 0 ? '' : js.slice(dot + 1);
    if (intPart !== '0') {
      exp = intPart.length - 1;
      digits = intPart + frac;
    } else {
      const nz = frac.search(/[1-9]/);
      exp = -(nz + 1);
      digits = frac.slice(nz);
    }
  }
  digits = digits.replace(/0+$/, '') || '0';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const a = Math.abs(exp);
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${a < 10 ? '0' : ''}${a}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** Python str() of an int that JS holds as a number (exact digits, no exponent). */
export function intToString(n: number): string {
  if (Object.is(n, -0)) return '0';
  return Number.isSafeInteger(n) || !Number.isInteger(n) ? String(n) : BigInt(n).toString();
}

const PY_INT = /^[+-]?[0-9]+(?:_[0-9]+)*$/;
/** A `num` token without '.', exponent, inf or nan is an INT. */
const INT_TEXT = /^[+-]?[0-9_]+$/;
const PY_FLOAT = /^[+-]?(?:(?:[0-9]+(?:_[0-9]+)*)?\.[0-9]+(?:_[0-9]+)*|[0-9]+(?:_[0-9]+)*\.?)(?:[eE][+-]?[0-9]+(?:_[0-9]+)*)?$/;
const PY_FLOAT_SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;

/** The float a FLOAT token denotes (`1_000.5`, `.5`, `1.`, `-inf`, `NaN`). */
function floatOfToken(s: string): number {
  const last = s.charCodeAt(s.length - 1) | 0x20; // inf / nan end in a letter (any case)
  if (last === 0x66 /* f */) return s.charCodeAt(0) === 45 /* - */ ? -Infinity : Infinity;
  if (last === 0x6e /* n */) return NaN;
  return Number(s.includes('_') ? s.replace(/_/g, '') : s);
}

/** The float of Python float(str) (also `infinity`, surrounding spaces removed by the caller). */
function parseFloatText(s: string): number | undefined {
  const special = PY_FLOAT_SPECIAL.exec(s);
  if (special) return special[2]!.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
  return PY_FLOAT.test(s) ? Number(s.replace(/_/g, '')) : undefined;
}

// Whole-text forms of the single tokens that give a value its own type (see grammar.peggy).
const UINT = '(?:0|[1-9](?:_?[0-9])*)';
const DIGITS = '[0-9](?:_?[0-9])*';
const POINT = `(?:${UINT}?\\.${DIGITS}|${UINT}\\.)`;
export const INT_TOKEN = new RegExp(`^[+-]?${UINT}$`);
export const FLOAT_TOKEN = new RegExp(`^[+-]?(?:(?:${POINT}|${UINT})[eE][+-]?${DIGITS}|${POINT}|inf|nan)$`, 'i');
export const KEYWORD_TOKEN = /^(?:true|false|null)$/i;

/**
 * The value of an unquoted text made only of letters, digits and `_-/+.$%*@?|:` (no spaces,
 * escapes, quotes or brackets): typed when the whole text is one INT/FLOAT/BOOL/NULL token,
 * else the text itself. This is what the grammar and the visitor give for such a text.
 */
export function plainValue(s: string, loc: SourceLoc): ValueNode {
  if (INT_TOKEN.test(s)) return new ValueNode(Number(s.replace(/_/g, '')) || 0, 'int', loc);
  if (FLOAT_TOKEN.test(s)) return new ValueNode(floatOfToken(s), 'float', loc);
  if (KEYWORD_TOKEN.test(s)) {
    const lower = s.toLowerCase();
    return lower === 'null' ? new ValueNode(null, 'null', loc) : new ValueNode(lower === 'true', 'bool', loc);
  }
  return new ValueNode(s, 'str', loc);
}

// ---------------------------------------------------------------------------------------------
// Values

const TYPE_WORD: Record<string, string> = {
  int: 'an int',
  float: 'a float',
  str: 'a string',
  bool: 'a bool',
  null: 'null',
  missing: "'???'",
  list: 'a list',
  dict: 'a dict',
  choice: 'a choice sweep',
  range: 'a range sweep',
  interval: 'an interval sweep',
  glob: 'a glob',
};

function kindOf(v: Val): string {
  if (isSweepVal(v)) return v.kind;
  return v.kind === 'value' ? v.type : v.kind;
}

function describeValue(v: Val): string {
  if (v instanceof ValueNode) {
    if (v.type === 'str') return `the string '${v.value as string}'`;
    if (v.type === 'null') return 'null';
    return `${TYPE_WORD[v.type]} (${show(v)})`;
  }
  return TYPE_WORD[kindOf(v)]!;
}

/** A scalar as Python's str() shows it, for messages. */
function show(v: ValueNode): string {
  switch (v.type) {
    case 'float':
      return pyFloatRepr(v.value as number);
    case 'int':
      return intToString(v.value as number);
    case 'str':
      return `'${v.value as string}'`;
    default:
      return String(v.value);
  }
}

const isNull = (v: Val | undefined): boolean => v instanceof ValueNode && v.type === 'null';

/** A function result: a value, or an error with its message (the caller adds the call's column). */
class CallError extends Error {}

// ---------------------------------------------------------------------------------------------
// Functions: name → Python-like signature and implementation.

type ParamKind = 'pos' | 'var' | 'kw';
interface Param {
  name: string;
  kind: ParamKind;
  /** Kinds accepted (Hydra's `is_type_matching`: a bool is an int inside a Union). */
  accepts: ReadonlySet<string>;
  required?: boolean;
  /** Words for the accepted types, for the error message. */
  words: string;
}

type Bound = Map<string, Val | Val[]>;

interface FunctionDef {
  params: Param[];
  call(b: Bound): Val;
}

const kinds = (...names: string[]): ReadonlySet<string> => new Set(names);
const NUMBER = kinds('int', 'float', 'bool');
const ELEMENT = kinds('str', 'int', 'float', 'bool', 'list', 'dict');
const CASTABLE = kinds('str', 'int', 'float', 'bool', 'null', 'list', 'dict', 'choice', 'range', 'interval');

function castDef(kind: CastKind): FunctionDef {
  return {
    params: [
      { name: 'args', kind: 'var', accepts: CASTABLE, words: 'a value or a choice/range/interval sweep' },
      { name: 'value', kind: 'kw', accepts: CASTABLE, words: 'a value or a choice/range/interval sweep' },
    ],
    call(b) {
      return cast(kind, castInput(kind, b));
    },
  };
}

const FUNCTIONS: Record<string, FunctionDef> = {
  bool: castDef('bool'),
  float: castDef('float'),
  int: castDef('int'),
  str: castDef('str'),
  json_str: castDef('json_str'),

  choice: {
    params: [
      {
        name: 'args',
        kind: 'var',
        accepts: kinds('str', 'int', 'float', 'bool', 'list', 'dict', 'choice'),
        words: 'a string, number, bool, list, dict or choice',
      },
    ],
    call(b) {
      const args = b.get('args') as Val[];
      if (args.length === 0) throw new CallError('an empty choice is not allowed');
      if (args.length === 1 && args[0] instanceof ChoiceVal) {
        const first = args[0];
        // choice(sort(b,a)) makes the simple choice explicit; choice(choice(...)) is nesting.
        if (!first.simple) throw new CallError('nesting choices is not supported');
        return new ChoiceVal(first.values, false, first.shuffle, first.tags);
      }
      return new ChoiceVal(args.map((a) => elementOf(a, 'choice()')), false);
    },
  },

  range: {
    params: [
      { name: 'start', kind: 'pos', accepts: NUMBER, required: true, words: 'a number' },
      { name: 'stop', kind: 'pos', accepts: kinds('int', 'float', 'bool', 'null'), words: 'a number' },
      { name: 'step', kind: 'pos', accepts: NUMBER, words: 'a number' },
    ],
    call(b) {
      let start = b.get('start') as ValueNode;
      let stop = b.get('stop') as ValueNode | undefined;
      const step = (b.get('step') as ValueNode | undefined) ?? new ValueNode(1, 'int');
      // range(stop): start at 0, like Python.
      if (stop === undefined || stop.type === 'null') {
        stop = start;
        start = new ValueNode(0, 'int');
      }
      const isInt = start.type !== 'float' && stop.type !== 'float' && step.type !== 'float';
      return new RangeVal(num(start), num(stop), num(step), isInt);
    },
  },

  interval: {
    params: [
      { name: 'start', kind: 'pos', accepts: NUMBER, required: true, words: 'a number' },
      { name: 'end', kind: 'pos', accepts: NUMBER, required: true, words: 'a number' },
    ],
    call(b) {
      return new IntervalVal(num(b.get('start') as ValueNode), num(b.get('end') as ValueNode));
    },
  },

  tag: {
    params: [
      { name: 'args', kind: 'var', accepts: kinds('str', 'choice', 'range', 'interval'), words: 'a string tag or a sweep' },
      { name: 'sweep', kind: 'kw', accepts: kinds('choice', 'range', 'interval', 'null'), words: 'a choice, range or interval' },
    ],
    call(b) {
      let args = b.get('args') as Val[];
      if (args.length < 1) throw new CallError('not enough arguments to tag(): it takes tags and then a sweep');
      const sweep = b.get('sweep') as Val | undefined;
      if (sweep !== undefined && !isNull(sweep)) args = [...args, sweep];
      const last = args[args.length - 1]!;
      if (!(last instanceof ChoiceVal || last instanceof RangeVal || last instanceof IntervalVal)) {
        throw new CallError('the last argument of tag() must be a choice(), range() or interval()');
      }
      const tags: string[] = [];
      for (const t of args.slice(0, -1)) {
        if (!(t instanceof ValueNode) || t.type !== 'str') throw new CallError(`tags must be strings, got ${describeValue(t)}`);
        // Hydra keeps tags in a set: no duplicates (we keep the order they were written in).
        if (!tags.includes(t.value as string)) tags.push(t.value as string);
      }
      const copy = copySweep(last);
      copy.tags = tags;
      return copy;
    },
  },

  shuffle: {
    params: [
      { name: 'args', kind: 'var', accepts: kinds(...ELEMENT, 'choice', 'range'), words: 'a value, a choice or a range' },
      { name: 'sweep', kind: 'kw', accepts: kinds('choice', 'range', 'null'), words: 'a choice or a range' },
      { name: 'list', kind: 'kw', accepts: kinds('list', 'null'), words: 'a list' },
    ],
    call(b) {
      const list = b.get('list') as Val | undefined;
      if (list !== undefined && !isNull(list)) return shuffleList(list as ListNode);
      const sweep = b.get('sweep') as Val | undefined;
      if (sweep !== undefined && !isNull(sweep)) return markShuffled(sweep as ChoiceVal | RangeVal);
      const args = b.get('args') as Val[];
      if (args.length === 1) {
        const a = args[0]!;
        if (a instanceof ChoiceVal || a instanceof RangeVal) return markShuffled(a);
        if (a instanceof ListNode) return shuffleList(a);
        return new ListNode([a as ConfigNode], (a as ConfigNode).loc);
      }
      // Hydra returns an empty choice for shuffle(); a sweep of nothing is never what was meant.
      if (args.length === 0) throw new CallError('shuffle() needs a list, a sweep or several values');
      return new ChoiceVal(args.map((a) => elementOf(a, 'shuffle()')), true, true);
    },
  },

  sort: {
    params: [
      { name: 'args', kind: 'var', accepts: kinds(...ELEMENT, 'choice', 'range'), words: 'a value, a choice or a range' },
      { name: 'sweep', kind: 'kw', accepts: kinds('choice', 'range', 'null'), words: 'a choice or a range' },
      { name: 'list', kind: 'kw', accepts: kinds('list', 'null'), words: 'a list' },
      { name: 'reverse', kind: 'kw', accepts: kinds('bool'), words: 'true or false' },
    ],
    call(b) {
      const reverse = ((b.get('reverse') as ValueNode | undefined)?.value as boolean | undefined) ?? false;
      const list = b.get('list') as Val | undefined;
      if (list !== undefined && !isNull(list)) return sortList(list as ListNode, reverse);
      const sweep = b.get('sweep') as Val | undefined;
      if (sweep !== undefined && !isNull(sweep)) return sortSweep(sweep as ChoiceVal | RangeVal, reverse);
      const args = b.get('args') as Val[];
      if (args.length === 1) {
        const a = args[0]!;
        if (a instanceof ChoiceVal || a instanceof RangeVal) return sortSweep(a, reverse);
        if (a instanceof ListNode) return sortList(a, reverse);
        return a; // sort(x) of a single value is x
      }
      if (args.length === 0) throw new CallError('sort() needs a list, a sweep or several values');
      for (const a of args) {
        if (!(a instanceof ValueNode)) throw new CallError(`sort() of several values takes only strings, numbers and bools, got ${describeValue(a)}`);
      }
      return sortSweep(new ChoiceVal(args as ConfigNode[], true), reverse);
    },
  },

  glob: {
    params: [
      { name: 'include', kind: 'pos', accepts: kinds('str', 'list'), required: true, words: 'a pattern or a list of patterns' },
      { name: 'exclude', kind: 'pos', accepts: kinds('str', 'list', 'null'), words: 'a pattern or a list of patterns' },
    ],
    call(b) {
      const patterns = (v: Val | undefined, what: string): string[] => {
        if (v === undefined || isNull(v)) return [];
        const items = v instanceof ListNode ? v.items : [v as ConfigNode];
        return items.map((p) => {
          if (!(p instanceof ValueNode) || p.type !== 'str') throw new CallError(`glob() ${what} patterns must be strings, got ${describeValue(p)}`);
          return p.value as string;
        });
      };
      return new GlobVal(patterns(b.get('include') as Val, 'include'), patterns(b.get('exclude') as Val | undefined, 'exclude'));
    },
  },
};

export const FUNCTION_NAMES: readonly string[] = Object.keys(FUNCTIONS).sort();

function num(v: ValueNode): number {
  return v.type === 'bool' ? (v.value ? 1 : 0) : (v.value as number);
}

/** Elements of a choice must be values: a sweep inside a sweep cannot be enumerated. */
function elementOf(v: Val, where: string): ConfigNode {
  if (isSweepVal(v)) throw new CallError(`${where} cannot contain ${TYPE_WORD[v.kind]}`);
  return v;
}

function copySweep<T extends SweepVal>(s: T): T {
  return Object.assign(Object.create(Object.getPrototypeOf(s) as object) as T, s);
}

function markShuffled(s: ChoiceVal | RangeVal): ChoiceVal | RangeVal {
  const copy = copySweep(s);
  copy.shuffle = true;
  return copy;
}

/** shuffle([..]) reorders the list itself, at parse time, as Hydra's random.shuffle does. */
function shuffleList(list: ListNode): ListNode {
  const items = [...list.items];
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return new ListNode(items, list.loc);
}

function sortList(list: ListNode, reverse: boolean): ListNode {
  return new ListNode(pySorted(list.items, reverse), list.loc);
}

function sortSweep(s: ChoiceVal | RangeVal, reverse: boolean): ChoiceVal | RangeVal {
  const copy = copySweep(s);
  if (copy instanceof ChoiceVal) {
    copy.values = pySorted(copy.values, reverse);
  } else {
    // The elements are computed at expansion; here only the direction flips when needed
    // (Hydra main's _reverse_range_sweep materialises the same sorted order).
    const ascending = copy.step > 0 !== copy.reverse;
    if (ascending === reverse) copy.reverse = !copy.reverse;
  }
  return copy;
}

/** Python's sorted(): stable; ints, floats and bools compare as numbers, strings by code point, lists lexicographically. */
function pySorted(items: readonly ConfigNode[], reverse: boolean): ConfigNode[] {
  const cmp = (a: ConfigNode, b: ConfigNode): number => (pyLess(a, b) ? -1 : pyLess(b, a) ? 1 : 0);
  return [...items].sort(reverse ? (a, b) => cmp(b, a) : cmp);
}

function pyLess(a: ConfigNode, b: ConfigNode): boolean {
  const ka = a.kind === 'value' ? a.type : a.kind;
  const kb = b.kind === 'value' ? b.type : b.kind;
  const numeric = (k: string) => k === 'int' || k === 'float' || k === 'bool';
  if (numeric(ka) && numeric(kb)) return num(a as ValueNode) < num(b as ValueNode);
  if (ka === 'str' && kb === 'str') return codePointLess((a as ValueNode).value as string, (b as ValueNode).value as string);
  if (a instanceof ListNode && b instanceof ListNode) {
    const n = Math.min(a.items.length, b.items.length);
    for (let i = 0; i < n; i++) {
      const x = a.items[i]!;
      const y = b.items[i]!;
      if (pyLess(x, y)) return true;
      if (pyLess(y, x)) return false;
    }
    return a.items.length < b.items.length;
  }
  const py = (k: string) => ({ int: 'int', float: 'float', bool: 'bool', str: 'str', null: 'NoneType', list: 'list', dict: 'dict' })[k] ?? k;
  throw new CallError(`cannot sort: '<' is not supported between ${py(ka)} and ${py(kb)}`);
}

function codePointLess(a: string, b: string): boolean {
  // Python compares code points; JS `<` compares UTF-16 units (differs above U+FFFF only).
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y;
    if (x > 0xffff) i++;
  }
  return a.length < b.length;
}

// ---------------------------------------------------------------------------------------------
// Casts (grammar_functions.py cast_int/cast_float/cast_str/cast_bool/cast_json_str)

type CastKind = 'int' | 'float' | 'str' | 'bool' | 'json_str';

function castInput(kind: CastKind, b: Bound): Val {
  const args = b.get('args') as Val[];
  const value = b.get('value') as Val | undefined;
  const hasValue = value !== undefined && !isNull(value); // Python: `value is not None`
  if (args.length > 0 && hasValue) throw new CallError(`${kind}() takes either positional arguments or value=, not both`);
  if (hasValue) return value;
  if (args.length === 0) throw new CallError(`${kind}() needs a value`);
  if (args.length === 1) return args[0]!;
  // int(1,2,3) is int(choice): a simple choice of the arguments.
  return new ChoiceVal(args.map((a) => elementOf(a, `${kind}() of several values`)), true);
}

function cast(kind: CastKind, v: Val): Val {
  if (v instanceof ChoiceVal) {
    // Hydra main keeps tags and shuffle through casts (1.3.5 dropped them).
    return new ChoiceVal(v.values.map((x) => castNode(kind, x)), v.simple, v.shuffle, [...v.tags]);
  }
  if (v instanceof RangeVal) {
    if (kind !== 'int' && kind !== 'float') throw new CallError('a range can only be cast to int or float');
    const r = new RangeVal(castNumber(kind, v.start), castNumber(kind, v.stop), castNumber(kind, v.step), kind === 'int');
    r.reverse = v.reverse;
    r.shuffle = v.shuffle;
    r.tags = [...v.tags];
    return r;
  }
  if (v instanceof IntervalVal) {
    if (kind !== 'int' && kind !== 'float') throw new CallError(`an interval cannot be cast to ${kind}`);
    return new IntervalVal(castNumber(kind, v.start), castNumber(kind, v.end), [...v.tags]);
  }
  if (v instanceof GlobVal) throw new CallError(`a glob cannot be cast to ${kind}`);
  return castNode(kind, v);
}

function castNode(kind: CastKind, v: ConfigNode): ConfigNode {
  if (kind === 'json_str') return new ValueNode(pyJsonDumps(v), 'str', v.loc);
  if (v instanceof ListNode) return new ListNode(v.items.map((x) => castNode(kind, x)), v.loc);
  if (v instanceof DictNode) {
    const entries = new Map<string, ConfigNode>();
    for (const [k, x] of v.entries) entries.set(k, castNode(kind, x));
    return new DictNode(entries, v.loc);
  }
  return castScalar(kind, v);
}

function castNumber(kind: 'int' | 'float', n: number): number {
  return kind === 'float' ? n : floatToInt(n);
}

function floatToInt(n: number): number {
  if (Number.isNaN(n)) throw new CallError('cannot convert NaN to an integer');
  if (!Number.isFinite(n)) throw new CallError('cannot convert infinity to an integer');
  return Math.trunc(n) || 0; // no -0 for ints
}

function castScalar(kind: Exclude<CastKind, 'json_str'>, v: ValueNode): ValueNode {
  const { type, loc } = v;
  if (type === 'null' && kind !== 'bool') throw new CallError(`null cannot be cast to ${kind}`);
  switch (kind) {
    case 'int': {
      if (type === 'int') return v;
      if (type === 'bool') return new ValueNode(v.value ? 1 : 0, 'int', loc);
      if (type === 'float') return new ValueNode(floatToInt(v.value as number), 'int', loc);
      const s = (v.value as string).trim();
      if (!PY_INT.test(s)) throw new CallError(`'${v.value as string}' is not an integer`);
      return new ValueNode(Number(s.replace(/_/g, '')) || 0, 'int', loc);
    }
    case 'float': {
      if (type === 'float') return v;
      if (type === 'int') return new ValueNode(v.value as number, 'float', loc);
      if (type === 'bool') return new ValueNode(v.value ? 1 : 0, 'float', loc);
      const f = parseFloatText((v.value as string).trim());
      if (f === undefined) throw new CallError(`'${v.value as string}' is not a number`);
      return new ValueNode(f, 'float', loc);
    }
    case 'str':
      if (type === 'str') return v;
      return new ValueNode(type === 'bool' ? String(v.value) : show(v), 'str', loc);
    case 'bool': {
      if (type === 'bool') return v;
      if (type === 'null') return new ValueNode(false, 'bool', loc); // Python bool(None)
      if (type === 'str') {
        const s = (v.value as string).toLowerCase();
        if (s === 'true' || s === 'false') return new ValueNode(s === 'true', 'bool', loc);
        throw new CallError(`'${v.value as string}' is not a bool (true or false)`);
      }
      return new ValueNode(v.value !== 0, 'bool', loc); // NaN is true, as in Python
    }
  }
}

/** Python's json.dumps() with its defaults (", " and ": " separators, ASCII only, NaN/Infinity). */
function pyJsonDumps(v: ConfigNode): string {
  if (v instanceof ListNode) return `[${v.items.map(pyJsonDumps).join(', ')}]`;
  if (v instanceof DictNode) {
    const parts: string[] = [];
    for (const [k, x] of v.entries) parts.push(`${jsonString(k)}: ${pyJsonDumps(x)}`);
    return `{${parts.join(', ')}}`;
  }
  switch (v.type) {
    case 'null':
      return 'null';
    case 'bool':
      return String(v.value);
    case 'int':
      return intToString(v.value as number);
    case 'float': {
      const f = v.value as number;
      return Number.isNaN(f) ? 'NaN' : f === Infinity ? 'Infinity' : f === -Infinity ? '-Infinity' : pyFloatRepr(f);
    }
    default:
      return jsonString(v.value as string);
  }
}

function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c >= 0x20 && c <= 0x7e) out += ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else out += `\\u${c.toString(16).padStart(4, '0')}`; // UTF-16 units: surrogate pairs as two escapes
  }
  return `${out}"`;
}

// ---------------------------------------------------------------------------------------------
// The visitor

/** ESC tokens hold backslash pairs: keep every second character (`\,` → `,`, `\\` → `\`). */
function unescapeEsc(s: string): string {
  let out = '';
  for (let i = 1; i < s.length; i += 2) out += s[i];
  return out;
}

/**
 * Quoted strings: a backslash run before a quote of the same kind (or before the closing quote)
 * is halved, an odd run escaping the quote itself; every other backslash stays (`'C:\foo'`).
 */
function unquote(body: string, q: "'" | '"'): string {
  if (!body.includes('\\')) return body;
  const re = q === "'" ? /(\\+)('|$)/g : /(\\+)("|$)/g;
  return body.replace(re, (_m, bs: string, quote: string) => '\\'.repeat(bs.length >> 1) + quote);
}

/** The text of a run of tokens: outer spaces dropped, escapes resolved (Hydra's _createPrimitive). */
function tokensText(toks: Token[], first: number, last: number): string {
  let out = '';
  for (let i = first; i <= last; i++) {
    const t = toks[i]!;
    out += t.charCodeAt(0) === 92 && t.length > 1 ? unescapeEsc(t) : t;
  }
  return out;
}

/** Index of the first and last token that are not spaces (Hydra drops spaces at both ends). */
function trimmed(toks: Token[]): [number, number] {
  let first = 0;
  let last = toks.length - 1;
  if (tokenKind(toks[first]!) === 'ws') first++;
  if (last >= first && tokenKind(toks[last]!) === 'ws') last--;
  return [first, last];
}

export class Visitor {
  constructor(
    /** The whole override, for error messages that quote a function call. */
    private readonly text: string,
    private readonly loc: SourceLoc,
  ) {}

  value(ast: Ast | ''): Val {
    if (ast === '') return new ValueNode('', 'str', this.loc);
    switch (ast.t) {
      case 'empty':
        return new ValueNode('', 'str', this.loc);
      case 'choice':
        return new ChoiceVal(
          ast.items.map((item) => this.element(item, 'a choice')),
          true,
        );
      default:
        return this.eval(ast);
    }
  }

  /** An element that must be a value (inside a list, a dict or a simple choice). */
  private element(ast: Ast, where: string): ConfigNode {
    const v = this.eval(ast);
    if (isSweepVal(v)) throw new OverrideProblem(ast.at, `${where} cannot contain ${TYPE_WORD[v.kind]} (sweeps go at the top of the value)`);
    return v;
  }

  private eval(ast: Ast): Val {
    const v = this.evalAst(ast);
    // The innermost text wins: `sort(1e30)` is the node typed `1e30`.
    if (ast.src !== undefined && !isSweepVal(v) && !typedTexts.has(v)) typedTexts.set(v, ast.src.trim());
    return v;
  }

  private evalAst(ast: Ast): Val {
    switch (ast.t) {
      case 'tokens':
        return this.primitive(ast.toks, ast.at);
      case 'quoted':
        return new ValueNode(unquote(ast.body, ast.q), 'str', this.loc);
      case 'list':
        return new ListNode(
          ast.items.map((item) => this.element(item, 'a list')),
          this.loc,
        );
      case 'dict': {
        const entries = new Map<string, ConfigNode>();
        for (const p of ast.pairs) entries.set(this.dictKey(p.key.toks, p.key.at), this.element(p.value, 'a dict'));
        return new DictNode(entries, this.loc);
      }
      case 'call':
        return this.call(ast);
      case 'choice':
      case 'empty':
        return this.value(ast);
    }
  }

  private primitive(toks: Token[], at: number): ConfigNode {
    const [first, last] = trimmed(toks);
    if (last < first) throw new OverrideProblem(at, 'a value cannot be only spaces');
    if (first !== last) return new ValueNode(tokensText(toks, first, last), 'str', this.loc);
    const s = toks[first]!;
    switch (tokenKind(s)) {
      case 'num':
        return INT_TEXT.test(s)
          ? new ValueNode(Number(s.replace(/_/g, '')) || 0, 'int', this.loc)
          : new ValueNode(floatOfToken(s), 'float', this.loc);
      case 'word':
        if (s.length >= 3 && s.length <= 5) {
          // The keyword tokens win over ID only when the whole word is the keyword.
          switch (s.toLowerCase()) {
            case 'true':
              return new ValueNode(true, 'bool', this.loc);
            case 'false':
              return new ValueNode(false, 'bool', this.loc);
            case 'null':
              return new ValueNode(null, 'null', this.loc);
            case 'inf':
              return new ValueNode(Infinity, 'float', this.loc);
            case 'nan':
              return new ValueNode(NaN, 'float', this.loc);
          }
        }
        return new ValueNode(s, 'str', this.loc);
      case 'esc':
        return new ValueNode(unescapeEsc(s), 'str', this.loc);
      default:
        return new ValueNode(s, 'str', this.loc);
    }
  }

  /**
   * Dict keys are strings in Vidra's node model: the key is its text as written (escapes resolved,
   * outer spaces dropped). Hydra types them (`{1:a}` has the int key 1); the text is what a YAML
   * mapping key would be, and it reads back unchanged.
   */
  private dictKey(toks: Token[], at: number): string {
    const [first, last] = trimmed(toks);
    if (last < first) throw new OverrideProblem(at, 'a dict key cannot be only spaces');
    return tokensText(toks, first, last);
  }

  private call(ast: Extract<Ast, { t: 'call' }>): Val {
    const def = FUNCTIONS[ast.name];
    const callText = this.text.slice(ast.at, ast.end);
    if (def === undefined) {
      throw new OverrideProblem(ast.at, `unknown function '${ast.name}'. Available functions: ${FUNCTION_NAMES.join(', ')}`);
    }
    // Bind like Python's inspect.Signature.bind (Hydra's Functions.eval).
    const bound: Bound = new Map();
    const positional = def.params.filter((p) => p.kind === 'pos');
    const varParam = def.params.find((p) => p.kind === 'var');
    const rest: Val[] = [];
    if (varParam) bound.set(varParam.name, rest);
    const byPosition = new Set<string>();
    let sawNamed = false;
    let nextPos = 0;
    for (const arg of ast.args) {
      if (arg.name === null) {
        if (sawNamed) {
          throw new OverrideProblem(arg.at, `in '${callText}': a positional argument cannot follow a named argument`);
        }
        const value = this.eval(arg.value);
        const p = positional[nextPos++];
        if (p) {
          this.check(ast.name, p, value, callText, arg.at);
          bound.set(p.name, value);
          byPosition.add(p.name);
        } else if (varParam) {
          this.check(ast.name, varParam, value, callText, arg.at, rest.length);
          rest.push(value);
        } else {
          throw new OverrideProblem(arg.at, `in '${callText}': too many positional arguments (${ast.name}() takes ${positional.length})`);
        }
        continue;
      }
      sawNamed = true;
      const p = def.params.find((q) => q.name === arg.name && q.kind !== 'var');
      if (!p) {
        const names = def.params.filter((q) => q.kind !== 'var').map((q) => q.name);
        throw new OverrideProblem(
          arg.at,
          `in '${callText}': ${ast.name}() got an unexpected argument '${arg.name}'` +
            (names.length ? ` (its named arguments: ${names.join(', ')})` : ' (it takes no named arguments)'),
        );
      }
      if (byPosition.has(p.name)) throw new OverrideProblem(arg.at, `in '${callText}': argument '${p.name}' is given twice`);
      const value = this.eval(arg.value);
      this.check(ast.name, p, value, callText, arg.at);
      bound.set(p.name, value); // a repeated named argument: the last one wins, as in Hydra's kwargs dict
    }
    const missing = def.params.find((p) => p.required && !bound.has(p.name));
    if (missing) throw new OverrideProblem(ast.at, `in '${callText}': missing the argument '${missing.name}'`);
    try {
      return def.call(bound);
    } catch (err) {
      if (err instanceof CallError) throw new OverrideProblem(ast.at, `in '${callText}': ${err.message}`);
      throw err;
    }
  }

  private check(name: string, p: Param, v: Val, callText: string, at: number, index?: number): void {
    if (p.accepts.has(kindOf(v))) return;
    const which = index === undefined ? `argument '${p.name}'` : `argument ${index + 1}`;
    throw new OverrideProblem(at, `in '${callText}': ${which} of ${name}() must be ${p.words}, not ${describeValue(v)}`);
  }
}
