import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { ConfigCompositionError } from './errors.ts';
import { DictNode, ListNode, ValueNode, MISSING, type ConfigNode, type SourceLoc, type ScalarType, type Scalar } from './node.ts';

// Config files are read the way OmegaConf reads them: PyYAML's YAML 1.1 implicit types (yes/no/on/off
// are bools, 1_000 is an int) with OmegaConf's float rule (1e-4 is a float) and no timestamps.
// The yaml package parses structure and positions; plain scalars are typed here from their source text.

const NULL_RE = /^(?:~|null|Null|NULL|)$/;
const BOOL_RE = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const TRUE_RE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const INT_RE = /^(?:[-+]?0b[01_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT_RE =
  /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

export interface LoadedYaml {
  node: DictNode;
  /** The `# @package` header, if any. */
  packageHeader: string | null;
}

function sexagesimal(text: string): number {
  return text.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

function parseYamlInt(text: string): number {
  let t = text.replace(/_/g, '');
  let sign = 1;
  if (t[0] === '-' || t[0] === '+') {
    if (t[0] === '-') sign = -1;
    t = t.slice(1);
  }
  if (t.startsWith('0b')) return sign * parseInt(t.slice(2), 2);
  if (t.startsWith('0x')) return sign * parseInt(t.slice(2), 16);
  if (t.includes(':')) return sign * sexagesimal(t);
  if (t.length > 1 && t[0] === '0') return sign * parseInt(t, 8);
  return sign * Number(t);
}

function parseYamlFloat(text: string): number {
  const t = text.replace(/_/g, '');
  const lower = t.toLowerCase();
  if (lower.endsWith('.nan')) return NaN;
  if (lower.endsWith('.inf')) return lower.startsWith('-') ? -Infinity : Infinity;
  if (t.includes(':')) {
    const sign = t.startsWith('-') ? -1 : 1;
    return sign * sexagesimal(t.replace(/^[-+]/, ''));
  }
  return Number(t);
}

/** Types a plain (unquoted) scalar from its text, as PyYAML + OmegaConf's loader do. */
export function resolvePlainScalar(text: string): { value: Scalar; type: ScalarType } {
  if (NULL_RE.test(text)) return { value: null, type: 'null' };
  if (BOOL_RE.test(text)) return { value: TRUE_RE.test(text), type: 'bool' };
  if (INT_RE.test(text)) return { value: parseYamlInt(text), type: 'int' };
  if (FLOAT_RE.test(text)) return { value: parseYamlFloat(text), type: 'float' };
  if (text === MISSING) return { value: MISSING, type: 'missing' };
  return { value: text, type: 'str' };
}

function packageHeader(text: string): string | null {
  // Only leading comment lines may carry the header, as in Hydra.
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    if (!t.startsWith('#')) break;
    const m = /^#\s*@package\s+(\S*)\s*$/.exec(t);
    if (m) return m[1]!;
  }
  return null;
}

/** Parses a YAML document of any shape into nodes; null for an empty document. */
export function parseYamlNode(text: string, file: string): ConfigNode | null {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, schema: 'failsafe', merge: false, uniqueKeys: true, prettyErrors: false });
  const locAt = (offset: number): SourceLoc => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const firstLine = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigCompositionError(`invalid YAML: ${firstLine}`, { loc: locAt(err.pos[0]) });
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.type === 'PLAIN' && (root.value === '' || root.value === null))) return null;
  return convert(root, { doc, locAt, file, aliasBudget: MAX_ALIAS_NODES, expanding: null });
}

/** Parses one config file. An empty file is an empty dict; a top level that is not a mapping is an error. */
export function loadYaml(text: string, file: string): LoadedYaml {
  const node = parseYamlNode(text, file) ?? new DictNode(new Map(), { file, line: 1, col: 1 });
  if (node.kind !== 'dict') {
    throw new ConfigCompositionError(`a config file must be a mapping at the top level, found a ${node.kind === 'list' ? 'list' : 'scalar'}`, {
      loc: node.loc,
    });
  }
  return { node, packageHeader: packageHeader(text) };
}

// Nodes are copied out of the yaml Document (to keep their locations), so the yaml package's own cap on
// alias expansion (maxAliasCount, applied by toJS) does not guard this walk: nested anchors of aliases
// (a "billion laughs" file) would expand exponentially. No real config copies this many nodes by alias.
const MAX_ALIAS_NODES = 10_000;

interface ConvertContext {
  doc: Document;
  locAt: (offset: number) => SourceLoc;
  file: string;
  /** Nodes still allowed to be copied through aliases; shared by the whole document. */
  aliasBudget: number;
  /** The outermost alias being expanded, named when the budget runs out. */
  expanding: { source: string; loc: SourceLoc } | null;
}

function convert(node: YamlNode, ctx: ConvertContext): ConfigNode {
  const { doc, locAt, file } = ctx;
  const loc = node.range ? locAt(node.range[0]) : { file, line: 0, col: 0 };
  if (ctx.expanding && --ctx.aliasBudget < 0) {
    throw new ConfigCompositionError(
      `YAML aliases expand to more than ${MAX_ALIAS_NODES} values in this file, reached at alias *${ctx.expanding.source} ` +
        '(anchors nested in aliased nodes multiply): write the values out or nest fewer aliases',
      { loc: ctx.expanding.loc },
    );
  }
  if (isAlias(node)) {
    const target = node.resolve(doc);
    if (!target) throw new ConfigCompositionError(`unknown YAML alias *${node.source}`, { loc });
    if (ctx.expanding) return convert(target as YamlNode, ctx);
    ctx.expanding = { source: node.source, loc };
    try {
      return convert(target as YamlNode, ctx);
    } finally {
      ctx.expanding = null;
    }
  }
  if (isMap(node)) {
    const entries = new Map<string, ConfigNode>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YamlNode | null;
      const key = keyNode === null ? '' : isScalar(keyNode) ? String(keyNode.value ?? '') : undefined;
      const keyLoc = keyNode?.range ? locAt(keyNode.range[0]) : loc;
      if (key === undefined) throw new ConfigCompositionError('config keys must be scalars', { loc: keyLoc });
      if (key === '<<' && isScalar(keyNode) && keyNode.type === 'PLAIN') {
        // YAML merge key, as PyYAML supports it: the aliased mapping's keys, not overriding explicit ones.
        const merged = convert(pair.value as YamlNode, ctx);
        const sources = merged.kind === 'list' ? merged.items : [merged];
        for (const src of sources) {
          if (src.kind !== 'dict') throw new ConfigCompositionError('a YAML merge key (<<) needs a mapping', { loc: keyLoc });
          for (const [k, v] of src.entries) if (!entries.has(k)) entries.set(k, v);
        }
        continue;
      }
      const value = pair.value === null ? new ValueNode(null, 'null', keyLoc) : convert(pair.value as YamlNode, ctx);
      entries.set(key, value);
    }
    return new DictNode(entries, loc);
  }
  if (isSeq(node)) {
    return new ListNode(
      node.items.map((item) => (item === null ? new ValueNode(null, 'null', loc) : convert(item as YamlNode, ctx))),
      loc,
    );
  }
  if (isScalar(node)) {
    const text = String(node.value ?? '');
    switch (node.tag) {
      case 'tag:yaml.org,2002:str':
        return new ValueNode(text, 'str', loc);
      case 'tag:yaml.org,2002:int':
        return new ValueNode(parseYamlInt(text), 'int', loc);
      case 'tag:yaml.org,2002:float':
        return new ValueNode(parseYamlFloat(text), 'float', loc);
      case 'tag:yaml.org,2002:bool':
        return new ValueNode(TRUE_RE.test(text), 'bool', loc);
      case 'tag:yaml.org,2002:null':
        return new ValueNode(null, 'null', loc);
    }
    if (node.type === 'PLAIN') {
      const { value, type } = resolvePlainScalar(text);
      return new ValueNode(value, type, loc);
    }
    // Quoted strings are strings; '???' quoted is still the missing marker, as in OmegaConf.
    return new ValueNode(text, text === MISSING ? 'missing' : 'str', loc);
  }
  throw new ConfigCompositionError('unsupported YAML node', { loc });
}
