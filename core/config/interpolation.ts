// Meaning of the interpolation grammar (interpolation.peggy): turns its parse tree into a small
// AST with escapes undone and unquoted values typed the way OmegaConf 2.2 types them
// (omegaconf/grammar_visitor.py). Parsing is memoised by string: a sweep resolves the same
// handful of strings for every job.
import { parse as peggyParse, SyntaxError as PeggySyntaxError } from './interpolation.generated.js';
import type { Scalar, ScalarType } from './node.ts';

/** A `${...}`: a node reference or a resolver call. `text` is its source, for messages and caching. */
export type Interp = NodeInterp | ResolverInterp;

export interface NodeInterp {
  readonly kind: 'node';
  readonly text: string;
  /**
   * The key as OmegaConf rebuilds it before selecting (`..a.b[0]`); a string when it has no
   * nested interpolation, else the parts to join once those are resolved.
   */
  readonly key: string | readonly KeyPart[];
}

/** A piece of a key with nested interpolations: literal text (dots and brackets included) or a `${...}`. */
export type KeyPart = string | Interp;

export interface ResolverInterp {
  readonly kind: 'resolver';
  readonly text: string;
  /** Dotted name (`oc.env`); parts may be interpolations (`${ns.${x}:}`). */
  readonly name: string | readonly KeyPart[];
  readonly args: readonly Element[];
}

/** Text with interpolations: what a config string, a quoted value or a mixed argument evaluates. */
export type Piece = string | Interp;

/** A resolver argument or `oc.decode` value, typed like OmegaConf's grammar visitor does. */
export type Element =
  /** A constant: `1`→int, `1.5`→float, `true`, `null`, `'1'`→str, `a b`→str. */
  | { readonly kind: 'const'; readonly type: ScalarType; readonly value: Scalar; readonly text: string }
  /** A lone `${...}`: the result keeps its type (and may be a container). */
  | { readonly kind: 'interp'; readonly interp: Interp; readonly text: string }
  /** Text around interpolations, or a quoted string with them: always a string. */
  | { readonly kind: 'concat'; readonly pieces: readonly Piece[]; readonly text: string }
  | { readonly kind: 'list'; readonly items: readonly Element[]; readonly text: string }
  | { readonly kind: 'dict'; readonly entries: ReadonlyArray<readonly [string, Element]>; readonly text: string };

/** A parsed config string. `single` is set when the whole string is one `${...}` (the result keeps its type). */
export interface Template {
  readonly pieces: readonly Piece[];
  readonly single?: Interp;
}

/** A string that is not valid interpolation syntax. The resolver adds the key and file location. */
export class InterpolationSyntaxError extends Error {
  constructor(
    message: string,
    readonly input: string,
    readonly column: number,
  ) {
    super(message);
    this.name = 'InterpolationSyntaxError';
  }
}

const MAX_MEMO = 50_000;
const templates = new Map<string, Template>();
const elements = new Map<string, Element>();

/** Parses a config string containing `${...}` (OmegaConf's `configValue` rule). Memoised. */
export function parseInterpolation(input: string): Template {
  let t = templates.get(input);
  if (t === undefined) {
    t = toTemplate(run(input, 'ConfigValue') as Raw[]);
    if (templates.size >= MAX_MEMO) templates.clear();
    templates.set(input, t);
  }
  return t;
}

/** Parses one value (OmegaConf's `singleElement` rule), as `oc.decode` does. Memoised. */
export function parseElement(input: string): Element {
  let e = elements.get(input);
  if (e === undefined) {
    e = toElement(run(input, 'SingleElement') as Raw);
    if (elements.size >= MAX_MEMO) elements.clear();
    elements.set(input, e);
  }
  return e;
}

// ---- typing of unquoted values: OmegaConfGrammarLexer.g4's INT, FLOAT, BOOL and NULL tokens.

const UINT = '(?:0|[1-9](?:_?[0-9])*)';
const DIGITS = '[0-9](?:_?[0-9])*';
const POINT = `(?:${UINT}\\.|(?:${UINT})?\\.${DIGITS})`;
const INT_RE = new RegExp(`^[+-]?${UINT}$`);
const FLOAT_RE = new RegExp(`^[+-]?(?:${POINT}|(?:${UINT}|${POINT})[eE][+-]?${DIGITS}|[iI][nN][fF]|[nN][aA][nN])$`);
const BOOL_RE = /^(?:[tT][rR][uU][eE]|[fF][aA][lL][sS][eE])$/;
const NULL_RE = /^[nN][uU][lL][lL]$/;

/**
 * The type an unquoted value gets when it is a single token of OmegaConf's grammar.
 * Anything else (`0x10`, `007`, `1e`, `a b`, `infinity`) stays a string.
 */
export function typeUnquoted(text: string): { type: ScalarType; value: Scalar } {
  if (INT_RE.test(text)) return { type: 'int', value: Number(text.replace(/_/g, '')) };
  if (FLOAT_RE.test(text)) return { type: 'float', value: parseFloatToken(text) };
  if (BOOL_RE.test(text)) return { type: 'bool', value: text.toLowerCase() === 'true' };
  if (NULL_RE.test(text)) return { type: 'null', value: null };
  return { type: 'str', value: text };
}

function parseFloatToken(text: string): number {
  const t = text.replace(/_/g, '').toLowerCase();
  const body = t.replace(/^[+-]/, '');
  const sign = t.startsWith('-') ? -1 : 1;
  if (body === 'inf') return sign * Infinity;
  if (body === 'nan') return NaN;
  return Number(t);
}

// ---- parse tree → AST

type Raw = { type: string; text: string; [k: string]: unknown };

function run(input: string, startRule: string): unknown {
  try {
    return peggyParse(input, { startRule });
  } catch (e) {
    if (e instanceof PeggySyntaxError) throw syntaxError(input, e);
    throw e;
  }
}

const WORDS: Record<string, string> = {
  '"${"': "'${'",
  '"}"': "'}' to close the interpolation",
  '":"': "':'",
  '"."': "'.'",
  '"["': "'['",
  '"]"': "']'",
  '","': "','",
};

/** "expected '}' to close the interpolation or '.', at the end" with the input and a caret. */
function syntaxError(input: string, e: InstanceType<typeof PeggySyntaxError>): InterpolationSyntaxError {
  const seen = new Set<string>();
  for (const x of e.expected ?? []) {
    if (x.type === 'class' && x.description === '[ \\t]') continue;
    if (x.type === 'other' && x.description === 'whitespace') continue;
    const d = x.type === 'end' ? 'the end of the string' : x.type === 'literal' ? `"${x.text}"` : (x.description ?? '');
    seen.add(WORDS[d] ?? d.replace(/^"(.*)"$/, "'$1'"));
  }
  const list = [...seen].sort();
  const expected = list.length > 1 ? `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}` : (list[0] ?? 'nothing');
  const found = e.found === null ? 'the end of the string' : `'${e.found}'`;
  const col = e.location.start.column;
  const message = `expected ${expected} but found ${found} at column ${col}\n    ${input}\n    ${' '.repeat(col - 1)}^`;
  return new InterpolationSyntaxError(message, input, col);
}

/** OmegaConf's un-escaping: `esc` keeps every other character (`\\`→`\`, `\,`→`,`); `\${` keeps `${` and half the backslashes. */
function unescape(p: Raw): string {
  if (p.type === 'esc') {
    let out = '';
    for (let i = 1; i < p.text.length; i += 2) out += p.text[i];
    return out;
  }
  if (p.type === 'esc_inter') return p.text.slice(p.text.length - (Math.floor(p.text.length / 2) + 1));
  return p.text;
}

function isInterpRaw(p: Raw): boolean {
  return p.type === 'node' || p.type === 'resolver';
}

/** Text pieces merged, escapes undone, interpolations converted. */
function toPieces(raw: readonly Raw[]): Piece[] {
  const out: Piece[] = [];
  for (const p of raw) {
    const piece: Piece = isInterpRaw(p) ? toInterp(p) : unescape(p);
    const last = out[out.length - 1];
    if (typeof piece === 'string' && typeof last === 'string') out[out.length - 1] = last + piece;
    else out.push(piece);
  }
  return out;
}

function toTemplate(raw: readonly Raw[]): Template {
  const pieces = toPieces(raw);
  const only = pieces.length === 1 ? pieces[0] : undefined;
  return only !== undefined && typeof only !== 'string' ? { pieces, single: only } : { pieces };
}

function toKeyParts(parts: ReadonlyArray<string | Raw>, dots: number): string | KeyPart[] {
  const out: KeyPart[] = ['.'.repeat(dots)];
  const push = (p: KeyPart) => {
    const last = out[out.length - 1];
    if (typeof p === 'string' && typeof last === 'string') out[out.length - 1] = last + p;
    else out.push(p);
  };
  parts.forEach((part, i) => {
    if (typeof part === 'object' && 'bracket' in part) {
      const inner = part.bracket as string | Raw;
      push('[');
      push(typeof inner === 'string' ? inner : toInterp(inner));
      push(']');
    } else {
      if (i > 0) push('.');
      push(typeof part === 'string' ? part : toInterp(part));
    }
  });
  return out.length === 1 && typeof out[0] === 'string' ? out[0] : out.filter((p) => p !== '');
}

function toInterp(p: Raw): Interp {
  if (p.type === 'node') {
    return { kind: 'node', text: p.text, key: toKeyParts(p.keys as Array<string | Raw>, p.dots as number) };
  }
  const nameParts = (p.name as Array<string | Raw>).flatMap((n, i): KeyPart[] => {
    const part = typeof n === 'string' ? n : toInterp(n);
    return i > 0 ? ['.', part] : [part];
  });
  const name = nameParts.every((n) => typeof n === 'string') ? nameParts.join('') : mergeStrings(nameParts);
  const args = (p.args as Array<Raw | null>).map((a) => (a === null ? EMPTY : toElement(a)));
  return { kind: 'resolver', text: p.text, name, args };
}

function mergeStrings(parts: KeyPart[]): KeyPart[] {
  const out: KeyPart[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (typeof p === 'string' && typeof last === 'string') out[out.length - 1] = last + p;
    else out.push(p);
  }
  return out;
}

/** A missing element (`${f:a,,b}`, `[1,]`) is the empty string, as in OmegaConf. */
const EMPTY: Element = { kind: 'const', type: 'str', value: '', text: '' };

function toElement(raw: Raw): Element {
  switch (raw.type) {
    case 'list':
      return { kind: 'list', items: (raw.items as Array<Raw | null>).map((i) => (i === null ? EMPTY : toElement(i))), text: raw.text };
    case 'dict':
      return {
        kind: 'dict',
        entries: (raw.pairs as Array<{ key: Raw; value: Raw }>).map(({ key, value }) => [dictKey(key), toElement(value)] as const),
        text: raw.text,
      };
    case 'quoted': {
      // A quoted value is always a string: `'${x}'` is str(x), `'1'` is "1".
      const pieces = toPieces(raw.pieces as Raw[]);
      if (pieces.every((p) => typeof p === 'string')) return { kind: 'const', type: 'str', value: pieces.join(''), text: raw.text };
      return { kind: 'concat', pieces, text: raw.text };
    }
    default:
      return primitive(raw);
  }
}

/** An unquoted value: one token is typed, several tokens concatenate into a string. */
function primitive(raw: Raw): Element {
  const parts = raw.parts as Raw[];
  if (parts.length === 1 && isInterpRaw(parts[0]!)) return { kind: 'interp', interp: toInterp(parts[0]!), text: raw.text };
  const pieces = toPieces(parts);
  if (pieces.some((p) => typeof p !== 'string')) return { kind: 'concat', pieces, text: raw.text };
  const text = pieces.join('');
  // Only text without escapes can be a single INT/FLOAT/BOOL/NULL token.
  if (parts.some((p) => p.type === 'esc')) return { kind: 'const', type: 'str', value: text, text: raw.text };
  const typed = typeUnquoted(text);
  return { kind: 'const', type: typed.type, value: typed.value, text: raw.text };
}

/**
 * Dict keys in `{a:1}`. OmegaConf types them (`{1: x}` has an int key); JS object keys are
 * strings, so Vidra keeps the key's text, unescaped.
 */
function dictKey(raw: Raw): string {
  return toPieces(raw.parts as Raw[]).join('');
}
