// YAML the way OmegaConf.to_yaml writes it: PyYAML's emitter (yaml/emitter.py) in block style,
// keys in composition order, sequences in mappings not indented, 80-column folding of plain and
// single-quoted strings, plus OmegaConf's rule that strings which look like bools or numbers
// are single-quoted (omegaconf/_utils.py `get_omega_conf_dumper`). Users diff
// `.vidra/config.yaml` against what Hydra wrote, so the text matters, not only the data.
import type { ConfigNode, DictNode, ListNode, ValueNode } from './node.ts';
import { formatInt, yamlFloat } from './float-format.ts';

const WIDTH = 80; // PyYAML best_width

export function toYaml(node: ConfigNode): string {
  const out: string[] = [];
  if (node.kind !== 'value' && !isEmpty(node)) {
    if (node.kind === 'dict') emitDict(node, 0, undefined, out);
    else emitList(node, 0, undefined, out);
  } else {
    out.push(scalarText(node, -1, 2));
  }
  return out.join('\n') + '\n';
}

function isEmpty(node: ListNode | DictNode): boolean {
  return node.kind === 'list' ? node.items.length === 0 : node.entries.size === 0;
}

const isBlock = (n: ConfigNode): n is ListNode | DictNode => n.kind !== 'value' && !isEmpty(n);

/** `lead` replaces the first line's indentation when the dict starts on a `- ` line. */
function emitDict(node: DictNode, indent: number, lead: string | undefined, out: string[]): void {
  let first = true;
  for (const [k, v] of node.entries) {
    const prefix = first && lead !== undefined ? lead : ' '.repeat(indent);
    first = false;
    if (!isSimpleKey(k)) {
      emitComplexEntry(k, v, prefix, indent, out);
      continue;
    }
    const key = strScalar(k, prefix.length, indent + 2, true);
    if (v.kind === 'dict' && isBlock(v)) {
      out.push(`${prefix}${key}:`);
      emitDict(v, indent + 2, undefined, out);
    } else if (v.kind === 'list' && isBlock(v)) {
      out.push(`${prefix}${key}:`);
      emitList(v, indent, undefined, out); // PyYAML: a sequence in a mapping is not indented
    } else {
      out.push(`${prefix}${key}:${scalarText(v, prefix.length + key.length + 1, indent + 2)}`);
    }
  }
}

/**
 * PyYAML `check_simple_key`: an empty or multi-line key, or one of 123+ characters (with the
 * 5 of its `!!str` tag, 128), is written in the explicit `? key` / `: value` form.
 */
function isSimpleKey(k: string): boolean {
  return k !== '' && ![...k].some(isBreak) && [...k].length + 5 < 128;
}

function emitComplexEntry(k: string, v: ConfigNode, prefix: string, indent: number, out: string[]): void {
  out.push(`${prefix}? ${strScalar(k, prefix.length + 2, indent + 2, false)}`);
  const colon = `${' '.repeat(indent)}:`;
  if (v.kind === 'dict' && isBlock(v)) emitDict(v, indent + 2, `${colon} `, out);
  else if (v.kind === 'list' && isBlock(v)) emitList(v, indent + 2, `${colon} `, out);
  else out.push(`${colon}${scalarText(v, colon.length, indent + 2)}`);
}

function emitList(node: ListNode, indent: number, lead: string | undefined, out: string[]): void {
  node.items.forEach((v, i) => {
    const prefix = `${i === 0 && lead !== undefined ? lead : ' '.repeat(indent)}-`;
    if (v.kind === 'dict' && isBlock(v)) emitDict(v, indent + 2, `${prefix} `, out);
    else if (v.kind === 'list' && isBlock(v)) emitList(v, indent + 2, `${prefix} `, out);
    else out.push(`${prefix}${scalarText(v, prefix.length, indent + 2)}`);
  });
}

/**
 * A scalar written after an indicator ending at column `col` (so with its separating space),
 * continuation lines at `indent`. col -1 is a document-level scalar (no space).
 */
function scalarText(node: ConfigNode, col: number, indent: number): string {
  const sp = col < 0 ? '' : ' ';
  if (node.kind === 'list') return `${sp}[]`;
  if (node.kind === 'dict') return `${sp}{}`;
  const v = node as ValueNode;
  switch (v.type) {
    case 'int':
      return sp + formatInt(v.value as number);
    case 'float':
      return sp + yamlFloat(v.value as number);
    case 'bool':
      return sp + (v.value ? 'true' : 'false');
    case 'null':
      return `${sp}null`;
    case 'missing':
      return `${sp}???`;
    case 'str':
      return sp + strScalar(v.value as string, col + 1, indent, false);
  }
}

// ---------------------------------------------------------------- style choice

// PyYAML's implicit resolvers (yaml/resolver.py, YAML 1.1): a plain scalar matching one of these
// would not read back as a string, so it gets quoted.
const IMPLICIT = [
  /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  /^(?:<<)$/,
  /^(?:~|null|Null|NULL|)$/,
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/,
  /^(?:=)$/,
  // Not PyYAML: YAML 1.2 reads 0o17 as an int; quoting keeps the output round-tripping there too.
  /^0o[0-7]+$/,
];

// OmegaConf quotes strings that Python's int()/float() accept, or that YAML 1.1 calls bools.
const PY_DIGITS = '[0-9](?:_?[0-9])*';
const PY_INT = new RegExp(`^[-+]?${PY_DIGITS}$`);
const PY_FLOAT = new RegExp(`^[-+]?(?:(?:${PY_DIGITS}(?:\\.(?:${PY_DIGITS})?)?|\\.${PY_DIGITS})(?:[eE][-+]?${PY_DIGITS})?|inf|infinity|nan)$`, 'i');
const YAML_BOOLS = new Set('y Y yes Yes YES n N no No NO true True TRUE false False FALSE on On ON off Off OFF'.split(' '));

function omegaconfQuotes(s: string): boolean {
  const t = s.trim();
  return YAML_BOOLS.has(s) || PY_INT.test(t) || PY_FLOAT.test(t);
}

const BREAKS = '\n\x85\u2028\u2029';
const WHITESPACE = '\0 \t\r\n\x85\u2028\u2029';

interface Analysis {
  empty: boolean;
  multiline: boolean;
  blockPlain: boolean;
  singleQuoted: boolean;
}

/** PyYAML `Emitter.analyze_scalar`, block context only. */
function analyze(s: string): Analysis {
  if (s === '') return { empty: true, multiline: false, blockPlain: true, singleQuoted: true };
  const chars = [...s];
  let block = s.startsWith('---') || s.startsWith('...');
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false, leadingBreak = false, trailingSpace = false, trailingBreak = false;
  let breakSpace = false, spaceBreak = false, prevSpace = false, prevBreak = false;
  let precededByWs = true;
  chars.forEach((ch, i) => {
    const followedByWs = i + 1 >= chars.length || WHITESPACE.includes(chars[i + 1]!);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) block = true;
      if ('?:'.includes(ch) && followedByWs) block = true;
      if (ch === '-' && followedByWs) block = true;
    } else {
      if (ch === ':' && followedByWs) block = true;
      if (ch === '#' && precededByWs) block = true;
    }
    if (BREAKS.includes(ch)) lineBreaks = true;
    const c = ch.codePointAt(0)!;
    if (!(ch === '\n' || (c >= 0x20 && c <= 0x7e))) {
      const unicode = (c === 0x85 || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c < 0x10ffff)) && c !== 0xfeff;
      if (!unicode) special = true; // OmegaConf dumps with allow_unicode=True
    }
    if (ch === ' ') {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (prevBreak) breakSpace = true;
      prevSpace = true;
      prevBreak = false;
    } else if (BREAKS.includes(ch)) {
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (prevSpace) spaceBreak = true;
      prevSpace = false;
      prevBreak = true;
    } else {
      prevSpace = prevBreak = false;
    }
    precededByWs = WHITESPACE.includes(ch);
  });
  let blockPlain = !(leadingSpace || leadingBreak || trailingSpace || trailingBreak);
  let singleQuoted = true;
  if (breakSpace) blockPlain = singleQuoted = false;
  if (spaceBreak || special) blockPlain = singleQuoted = false;
  if (lineBreaks || block) blockPlain = false;
  return { empty: false, multiline: lineBreaks, blockPlain, singleQuoted };
}

/** PyYAML `choose_scalar_style` for a string, then the writer for that style. */
function strScalar(s: string, col: number, indent: number, key: boolean): string {
  // Not PyYAML: NEL, LS and PS are line breaks in YAML 1.1 only; escaping them keeps the text
  // the same when a YAML 1.2 parser reads it back.
  if (/[\x85\u2028\u2029]/.test(s)) return writeDoubleQuoted(s);
  const a = analyze(s);
  const plainReadsAsStr = !IMPLICIT.some((re) => re.test(s));
  if (!omegaconfQuotes(s) && plainReadsAsStr && !(key && (a.empty || a.multiline)) && a.blockPlain) return writePlain(s, col, indent, !key);
  if (a.singleQuoted && !(key && a.multiline)) return writeSingleQuoted(s, col, indent, !key);
  return writeDoubleQuoted(s);
}

// ---------------------------------------------------------------- writers

function isBreak(ch: string | undefined): boolean {
  return ch !== undefined && BREAKS.includes(ch);
}

/** PyYAML `write_plain`: a single space past column 80 becomes a line break. */
function writePlain(text: string, col: number, indent: number, split: boolean): string {
  let out = '';
  let column = col;
  let spaces = false;
  let start = 0;
  for (let end = 0; end <= text.length; end++) {
    const ch = end < text.length ? text[end] : undefined;
    if (spaces) {
      if (ch !== ' ') {
        if (start + 1 === end && column > WIDTH && split) {
          out += `\n${' '.repeat(indent)}`;
          column = indent;
        } else {
          out += text.slice(start, end);
          column += end - start;
        }
        start = end;
      }
    } else if (ch === undefined || ch === ' ') {
      out += text.slice(start, end);
      column += end - start;
      start = end;
    }
    if (ch !== undefined) spaces = ch === ' ';
  }
  return out;
}

/** PyYAML `write_single_quoted`: `'` doubled, a line break written as a blank line, folding as in plain. */
function writeSingleQuoted(text: string, col: number, indent: number, split: boolean): string {
  let out = "'";
  let column = col + 1;
  let spaces = false;
  let breaks = false;
  let start = 0;
  for (let end = 0; end <= text.length; end++) {
    const ch = end < text.length ? text[end] : undefined;
    if (spaces) {
      if (ch !== ' ') {
        if (start + 1 === end && column > WIDTH && split && start !== 0 && end !== text.length) {
          out += `\n${' '.repeat(indent)}`;
          column = indent;
        } else {
          out += text.slice(start, end);
          column += end - start;
        }
        start = end;
      }
    } else if (breaks) {
      if (!isBreak(ch)) {
        if (text[start] === '\n') out += '\n';
        for (const br of text.slice(start, end)) out += br;
        out += ' '.repeat(indent);
        column = indent;
        start = end;
      }
    } else if (ch === undefined || ch === ' ' || isBreak(ch) || ch === "'") {
      if (start < end) {
        out += text.slice(start, end);
        column += end - start;
        start = end;
      }
    }
    if (ch === "'") {
      out += "''";
      column += 2;
      start = end + 1;
    }
    if (ch !== undefined) {
      spaces = ch === ' ';
      breaks = isBreak(ch);
    }
  }
  return out + "'";
}

const ESCAPES: Record<string, string> = {
  '\0': '0', '\x07': 'a', '\b': 'b', '\t': 't', '\n': 'n', '\v': 'v', '\f': 'f', '\r': 'r', '\x1b': 'e',
  '"': '"', '\\': '\\', '\x85': 'N', '\xa0': '_', '\u2028': 'L', '\u2029': 'P',
};

/** PyYAML `write_double_quoted` escapes (without its 80-column folding). */
function writeDoubleQuoted(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const printable = (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd);
    if (printable && !'"\\\x85\u2028\u2029\ufeff'.includes(ch)) out += ch;
    else if (ESCAPES[ch] !== undefined) out += `\\${ESCAPES[ch]}`;
    else if (c <= 0xff) out += `\\x${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (c <= 0xffff) out += `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += `\\U${c.toString(16).toUpperCase().padStart(8, '0')}`;
  }
  return out + '"';
}
