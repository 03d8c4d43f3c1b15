// The config value model. Nodes remember their type (an int stays an int, `1.0` stays a float),
// where they came from (file:line:col or the override that set them), and are immutable:
// merging builds new containers and shares untouched subtrees, which keeps compose cheap.

export interface SourceLoc {
  /** A file path, or a description such as `override 'optim.lr=1e-4'`. */
  readonly file: string;
  /** 1-based; 0 when unknown (e.g. a command-line override). */
  readonly line: number;
  /** 1-based column. */
  readonly col: number;
}

export type ScalarType = 'int' | 'float' | 'str' | 'bool' | 'null' | 'missing';
export type Scalar = number | string | boolean | null;

export class ValueNode {
  readonly kind = 'value' as const;
  constructor(
    readonly value: Scalar,
    readonly type: ScalarType,
    readonly loc?: SourceLoc,
  ) {}
}

export class ListNode {
  readonly kind = 'list' as const;
  constructor(
    readonly items: readonly ConfigNode[],
    readonly loc?: SourceLoc,
  ) {}
}

export class DictNode {
  readonly kind = 'dict' as const;
  constructor(
    readonly entries: ReadonlyMap<string, ConfigNode>,
    readonly loc?: SourceLoc,
  ) {}
}

export type ConfigNode = ValueNode | ListNode | DictNode;

export const MISSING = '???';

export function formatLoc(loc: SourceLoc | undefined): string {
  if (!loc) return '<unknown>';
  return loc.line > 0 ? `${loc.file}:${loc.line}:${loc.col}` : loc.file;
}

export const intNode = (v: number, loc?: SourceLoc) => new ValueNode(v, 'int', loc);
export const floatNode = (v: number, loc?: SourceLoc) => new ValueNode(v, 'float', loc);
export const strNode = (v: string, loc?: SourceLoc) => new ValueNode(v, 'str', loc);
export const boolNode = (v: boolean, loc?: SourceLoc) => new ValueNode(v, 'bool', loc);
export const nullNode = (loc?: SourceLoc) => new ValueNode(null, 'null', loc);
export const missingNode = (loc?: SourceLoc) => new ValueNode(MISSING, 'missing', loc);
export const emptyDict = (loc?: SourceLoc) => new DictNode(new Map(), loc);

/** A string value containing `${` is an interpolation, as in OmegaConf (quoted or not). */
export function isInterpolation(node: ConfigNode | undefined): node is ValueNode {
  return node !== undefined && node.kind === 'value' && node.type === 'str' && (node.value as string).includes('${');
}

export function isMissing(node: ConfigNode | undefined): boolean {
  return node !== undefined && node.kind === 'value' && node.type === 'missing';
}

/**
 * Plain JS → nodes. Numbers that are integers become ints; pass `floats` paths via a Float box
 * when the int/float distinction must survive (see {@link Float}).
 */
export function fromPlain(value: unknown, loc?: SourceLoc): ConfigNode {
  if (value instanceof ValueNode || value instanceof ListNode || value instanceof DictNode) return value;
  if (value === null || value === undefined) return nullNode(loc);
  if (value instanceof Float) return floatNode(value.value, loc);
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) ? intNode(value, loc) : floatNode(value, loc);
    case 'bigint':
      return intNode(Number(value), loc);
    case 'boolean':
      return boolNode(value, loc);
    case 'string':
      return value === MISSING ? missingNode(loc) : strNode(value, loc);
  }
  if (Array.isArray(value)) return new ListNode(value.map((v) => fromPlain(v, loc)), loc);
  if (typeof value === 'object') {
    const entries = new Map<string, ConfigNode>();
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) entries.set(k, fromPlain(v, loc));
    return new DictNode(entries, loc);
  }
  throw new TypeError(`cannot store a ${typeof value} in a config`);
}

/** Boxes a number that must be kept as a float when converted with {@link fromPlain}. */
export class Float {
  constructor(readonly value: number) {}
}

/** Nodes → plain JS, without resolving anything (`???` stays the string '???'). */
export function toPlain(node: ConfigNode): unknown {
  switch (node.kind) {
    case 'value':
      return node.value;
    case 'list':
      return node.items.map(toPlain);
    case 'dict': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of node.entries) out[k] = toPlain(v);
      return out;
    }
  }
}

/** The JSON-ish type name of a node, for error messages. */
export function describeType(node: ConfigNode): string {
  if (node.kind === 'dict') return 'dict';
  if (node.kind === 'list') return 'list';
  return node.type;
}
