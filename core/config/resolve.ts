// The resolution engine: evaluates `${...}` in an immutable node tree with OmegaConf 2.2's
// semantics (omegaconf/base.py `_resolve_interpolation_from_parse_tree`,
// `_resolve_node_interpolation`, `_select_impl`; omegaconf/basecontainer.py
// `_resolve_key_and_root`). Nodes have no parent pointers, so every node travels with a
// `Where`: the containers above it, which relative keys (`${..x}`) climb.
import { DictNode, Float, ListNode, ValueNode, formatLoc, isInterpolation, isMissing, nullNode, strNode, toPlain, type ConfigNode, type SourceLoc } from './node.ts';
import { InterpolationError, MissingMandatoryValueError, VidraError, didYouMean } from './errors.ts';
import { InterpolationSyntaxError, parseElement, parseInterpolation, type Element, type Interp, type KeyPart, type Piece } from './interpolation.ts';
import { ResolverError, getResolver, resolverNames, type EngineContext } from './resolvers.ts';
import { pythonStr, pythonStrNode } from './float-format.ts';
import type { Config } from './config.ts';

/** A node tree that absolute keys start from; `tag` keeps trees apart in memo keys. */
export interface Tree {
  readonly root: ConfigNode;
  readonly tag: string;
}

/** Where a node sits: its tree, the containers from the root down to its parent, and its keys. */
export interface Where {
  readonly tree: Tree;
  readonly ancestors: readonly ConfigNode[];
  readonly path: readonly string[];
  /** `path` joined, built as the walk goes down (memo keys). */
  readonly pathKey: string;
  /**
   * Inside an array or object returned by a custom resolver: its strings are final, `${`
   * and `???` included, as OmegaConf keeps such results as they are.
   */
  readonly literal?: boolean;
}

/**
 * A resolved value: a final scalar (never an interpolation; may be `???` when read directly),
 * or a container whose children still resolve where it sits.
 */
export type Resolved =
  | { readonly kind: 'scalar'; readonly node: ValueNode }
  | { readonly kind: 'container'; readonly node: ListNode | DictNode; readonly where: Where };

/** A resolver argument: a resolved value, or a list/dict written in the argument itself. */
export type Arg =
  | Resolved
  | { readonly kind: 'list'; readonly items: readonly Arg[] }
  | { readonly kind: 'dict'; readonly entries: ReadonlyArray<readonly [string, Arg]> };

/** What one Config shares across its reads: trees, the `vidra` node, and `useCache` results. */
export interface Scope {
  readonly config: Config;
  readonly tree: Tree;
  /** The `vidra` node and the tree its own interpolations resolve in (the job config plus `vidra`). */
  readonly vidra?: { readonly node: DictNode; readonly tree: Tree };
  readonly cache: Map<string, Map<string, Resolved>>;
}

/** What a selection found; `where` is the selected node's position. */
type Selection =
  | { readonly status: 'found'; readonly value: Resolved; readonly where: Where }
  | { readonly status: 'missing'; readonly where: Where }
  | { readonly status: 'absent' };

/** The interpolation being evaluated: the string node holding it, and where that node sits. */
interface Env {
  readonly node: ValueNode;
  readonly where: Where;
}

export function rootWhere(tree: Tree): Where {
  return { tree, ancestors: [], path: [], pathKey: tree.tag };
}

export function childWhere(where: Where, container: ConfigNode, key: string): Where {
  return {
    tree: where.tree,
    ancestors: [...where.ancestors, container],
    path: [...where.path, key],
    pathKey: `${where.pathKey}\u0000${key}`,
    literal: where.literal,
  };
}

/** `a.b[0].c`, OmegaConf's full-key style; `<root>` for the root. */
export function displayKey(where: Where): string {
  return displayPath(where.path, where.ancestors);
}

function displayPath(path: readonly string[], ancestors: readonly ConfigNode[]): string {
  if (path.length === 0) return '<root>';
  let out = '';
  path.forEach((k, i) => {
    out += ancestors[i]?.kind === 'list' ? `[${k}]` : i === 0 ? k : `.${k}`;
  });
  return out;
}

const splitMemo = new Map<string, readonly string[]>();

/** OmegaConf's `split_key` for a key without its leading dots: `a.b[c].d` → a, b, c, d. Memoised. */
export function splitKey(key: string): readonly string[] {
  let keys = splitMemo.get(key);
  if (!keys) {
    keys = splitKeyUncached(key);
    if (splitMemo.size > 50_000) splitMemo.clear();
    splitMemo.set(key, keys);
  }
  return keys;
}

function splitKeyUncached(key: string): string[] {
  const head = /^[^.[]*/.exec(key)![0];
  const keys = [head];
  if (head.length === key.length) return keys;
  if (key[head.length] === '[' && head === '') keys.pop();
  for (const m of key.slice(head.length).matchAll(/\.([^.[]*)|\[(.*?)\]/g)) keys.push(m[1] ?? m[2] ?? '');
  return keys;
}

/** A container's child the way interpolations select it: list indices are non-negative decimals. */
function childOf(node: ConfigNode, key: string): ConfigNode | undefined {
  if (node.kind === 'dict') return node.entries.get(key);
  if (node.kind === 'list') return /^\d+$/.test(key) ? node.items[Number(key)] : undefined;
  return undefined;
}

/** `node` as if it stood at `loc` (shallow: children keep their own locations). */
export function relocate(node: ConfigNode, loc: SourceLoc | undefined): ConfigNode {
  if (node.loc === loc || loc === undefined) return node;
  switch (node.kind) {
    case 'value':
      return new ValueNode(node.value, node.type, loc);
    case 'list':
      return new ListNode(node.items, loc);
    case 'dict':
      return new DictNode(node.entries, loc);
  }
}

const scalar = (node: ValueNode): Resolved => ({ kind: 'scalar', node });

/**
 * One top-level read (a `get`, a `toObject`): memoises what it resolves, so a key used by many
 * interpolations is resolved once, and tracks what is being resolved, to report cycles.
 */
export class Resolution {
  private readonly slots = new Map<object, Map<string, Slot>>();
  /** The interpolations being resolved, innermost last (for the `a -> b -> a` chain). */
  private readonly stack: Array<{ slot: Slot; node: ValueNode; where: Where }> = [];

  constructor(readonly scope: Scope) {}

  /**
   * The memo entry of a position, found by the identity of its owner (the containing node for a
   * value, the container itself for a whole tree) and its path, because one path can hold
   * different nodes (two resolver results placed at one interpolation) and one node can sit at
   * several paths (subtrees shared by merges). Nested maps keep keys to strings built once.
   */
  private slot(owner: object, where: Where): Slot {
    let byPath = this.slots.get(owner);
    if (!byPath) this.slots.set(owner, (byPath = new Map()));
    let slot = byPath.get(where.pathKey);
    if (!slot) byPath.set(where.pathKey, (slot = {}));
    return slot;
  }

  /** Resolves the node at `where`: interpolations are evaluated (following chains), other nodes returned as they are. */
  value(node: ConfigNode, where: Where): Resolved {
    if (node.kind !== 'value') return { kind: 'container', node, where };
    if (!isInterpolation(node) || where.literal) return scalar(node);
    const slot = this.slot(where.ancestors[where.ancestors.length - 1] ?? where.tree, where);
    if (slot.value) return slot.value;
    if (slot.active) throw this.recursion(slot, where);
    slot.active = true;
    this.stack.push({ slot, node, where });
    try {
      slot.value = this.evaluate(node, where);
    } finally {
      slot.active = false;
      this.stack.pop();
    }
    return slot.value;
  }

  /** The cycle from the re-entered key, reported at the interpolation that closes it. */
  private recursion(slot: Slot, where: Where): InterpolationError {
    const from = this.stack.findIndex((e) => e.slot === slot);
    const chain = this.stack.slice(from).map((e) => displayKey(e.where));
    chain.push(displayKey(where));
    const last = this.stack[this.stack.length - 1]!;
    return new InterpolationError(`Recursive interpolation detected: ${chain.join(' -> ')} (in '${last.node.value}' at '${displayKey(last.where)}')`, {
      loc: last.node.loc,
    });
  }

  private evaluate(node: ValueNode, where: Where): Resolved {
    const text = node.value as string;
    let t;
    try {
      t = parseInterpolation(text);
    } catch (e) {
      if (!(e instanceof InterpolationSyntaxError)) throw e;
      throw new InterpolationError(`Invalid interpolation at '${displayKey(where)}': ${e.message}`, { loc: node.loc });
    }
    const env: Env = { node, where };
    if (t.single) return this.interp(t.single, env);
    return scalar(strNode(this.concat(t.pieces, env), node.loc));
  }

  /** Text with interpolations pasted in as Python's str() would print them. */
  private concat(pieces: readonly Piece[], env: Env): string {
    let out = '';
    for (const p of pieces) out += typeof p === 'string' ? p : strOf(this.interp(p, env));
    return out;
  }

  private interp(i: Interp, env: Env): Resolved {
    return i.kind === 'node' ? this.nodeInterp(i.key, i.text, env) : this.resolverInterp(i, env);
  }

  /** Joins a key whose parts are interpolations; each must give a string (grammar_visitor.py `visitConfigKey`). */
  private keyText(key: string | readonly KeyPart[], env: Env, what: string): string {
    if (typeof key === 'string') return key;
    let out = '';
    for (const p of key) {
      if (typeof p === 'string') {
        out += p;
        continue;
      }
      const r = this.interp(p, env);
      if (r.kind !== 'scalar' || r.node.type !== 'str') {
        const shown = strOf(r);
        const type = r.kind === 'scalar' ? r.node.type : r.node.kind;
        throw this.error(`'${p.text}' is used as ${what}, so it must give a string, but gave '${shown}' of type ${type}`, env);
      }
      out += r.node.value as string;
    }
    return out;
  }

  /** An error naming the interpolation and the key holding it, located at its node. */
  private error(message: string, env: Env, hint = ''): InterpolationError {
    return new InterpolationError(`${message} (in '${env.node.value}' at '${displayKey(env.where)}')${hint && `.${hint}`}`, { loc: env.node.loc });
  }

  // ---------------------------------------------------------------- node interpolation

  private nodeInterp(keySpec: string | readonly KeyPart[], text: string, env: Env): Resolved {
    const key = this.keyText(keySpec, env, 'a key');
    const sel = this.select(key, env, true);
    if (sel.status === 'found') return sel.value;
    // `select(…, strict)` throws for the other cases.
    throw new Error(`unreachable: ${text}`);
  }

  /**
   * Selects `key` as OmegaConf's `_resolve_key_and_root` + `_select_impl` do: without leading
   * dots from the root, `.x` from the node's container, each further dot one level up;
   * interpolations met on the way are followed. `strict` (a node interpolation) throws where a
   * select (oc.select) reports `absent` or `missing`.
   */
  private select(key: string, env: Env, strict: boolean): Selection {
    const tree = env.where.tree;
    if (!key.startsWith('.')) return this.walk(key, key === '' ? [] : splitKey(key), tree.root, rootWhere(tree), env, strict);
    let dots = 0;
    while (key[dots] === '.') dots++;
    const anc = env.where.ancestors;
    const level = anc.length - dots;
    if (level < 0) {
      const above = -level;
      throw this.error(`Error resolving key '${key}': ${dots} dots go ${above} level${above === 1 ? '' : 's'} above the config root`, env);
    }
    const path = env.where.path.slice(0, level);
    const baseWhere: Where = { tree, ancestors: anc.slice(0, level), path, pathKey: tree.tag + path.map((k) => `\u0000${k}`).join('') };
    const rest = key.slice(dots);
    return this.walk(key, rest === '' ? [] : splitKey(rest), anc[level]!, baseWhere, env, strict);
  }

  private walk(key: string, keys: readonly string[], base: ConfigNode, baseWhere: Where, env: Env, strict: boolean): Selection {
    let cur: Resolved = base.kind === 'value' ? scalar(base) : { kind: 'container', node: base, where: baseWhere };
    let where = baseWhere;
    const lead = /^\.*/.exec(key)![0];
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (cur.kind !== 'container') {
        if (!strict) return { status: 'absent' };
        throw this.error(`Error trying to access ${key}: node '${lead}${keys.slice(0, i).join('.')}' is not a container and thus cannot contain '${k}'`, env);
      }
      const child = childOf(cur.node, k);
      if (child === undefined) {
        if (!strict) return { status: 'absent' };
        const prefix = lead + keys.slice(0, i).map((x) => `${x}.`).join('');
        if (cur.node.kind === 'list') {
          const n = cur.node.items.length;
          throw this.error(`Interpolation key '${key}' not found: '${lead}${keys.slice(0, i).join('.')}' is a list of ${n} item${n === 1 ? '' : 's'}, indexed 0 to ${n - 1}`, env);
        }
        const candidates = [...cur.node.entries.keys()].map((c) => prefix + c);
        throw this.error(`Interpolation key '${key}' not found`, env, didYouMean(prefix + k, candidates));
      }
      where = childWhere(cur.where, cur.node, k);
      if (isMissing(child) && !where.literal) {
        if (!strict) return i === keys.length - 1 ? { status: 'missing', where } : { status: 'absent' };
        const declared = child.loc ? `, set at ${formatLoc(child.loc)}` : '';
        throw new MissingMandatoryValueError(
          `Cannot resolve '${env.node.value}' at '${displayKey(env.where)}': interpolation to missing value '${displayKey(where)}' (???${declared})`,
          { loc: env.node.loc },
        );
      }
      cur = this.value(child, where);
    }
    // OmegaConf `_validate_not_dereferencing_to_parent`: a node cannot resolve to a container holding it.
    if (cur.kind === 'container' && env.where.ancestors.includes(cur.node)) {
      throw this.error(`Recursive interpolation detected: ${displayKey(env.where)} -> ${displayKey(cur.where)} (interpolation to a parent node)`, env);
    }
    return { status: 'found', value: cur, where: cur.kind === 'container' ? cur.where : where };
  }

  // ---------------------------------------------------------------- resolvers

  private resolverInterp(i: Extract<Interp, { kind: 'resolver' }>, env: Env): Resolved {
    const name = this.keyText(i.name, env, 'a resolver name');
    const entry = getResolver(name);
    if (!entry) {
      const names = resolverNames();
      throw this.error(`Unsupported interpolation type '${name}'. Registered resolvers: ${names.join(', ')}`, env, didYouMean(name, names));
    }
    const args = i.args.map((a) => this.arg(a, env));
    let cache: Map<string, Resolved> | undefined;
    let cacheKey = '';
    if (entry.useCache) {
      cache = this.scope.cache.get(name);
      if (!cache) this.scope.cache.set(name, (cache = new Map()));
      cacheKey = JSON.stringify(i.args.map((a) => a.text));
      const hit = cache.get(cacheKey);
      if (hit) return hit;
    }
    let r: Resolved;
    try {
      if (entry.kind === 'engine') {
        r = entry.fn(this.context(env), args);
      } else {
        const plain = args.map((a) => this.plainArg(a));
        const out = entry.passContext ? entry.fn({ config: this.scope.config, path: [...env.where.path] }, ...plain) : entry.fn(...plain);
        r = this.fromResult(out, env, name);
      }
    } catch (e) {
      if (e instanceof VidraError) throw e;
      if (e instanceof ResolverError) throw this.error(e.message, env);
      const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      throw new InterpolationError(`Resolver '${name}' failed: ${what} (in '${env.node.value}' at '${displayKey(env.where)}')`, {
        loc: env.node.loc,
        cause: e,
      });
    }
    cache?.set(cacheKey, r);
    return r;
  }

  private arg(el: Element, env: Env): Arg {
    switch (el.kind) {
      case 'const':
        return scalar(new ValueNode(el.value, el.type, env.node.loc));
      case 'interp':
        return this.interp(el.interp, env);
      case 'concat':
        return scalar(strNode(this.concat(el.pieces, env), env.node.loc));
      case 'list':
        return { kind: 'list', items: el.items.map((x) => this.arg(x, env)) };
      case 'dict':
        return { kind: 'dict', entries: el.entries.map(([k, v]) => [k, this.arg(v, env)] as const) };
    }
  }

  private plainArg(a: Arg): unknown {
    switch (a.kind) {
      case 'scalar':
        return a.node.value;
      case 'container':
        return toPlain(this.deep(a, 'keep'));
      case 'list':
        return a.items.map((x) => this.plainArg(x));
      case 'dict':
        return Object.fromEntries(a.entries.map(([k, v]) => [k, this.plainArg(v)]));
    }
  }

  /** An argument as a node; `resolved` resolves containers met in it first (to nest them in a literal container). */
  private argNode(a: Arg, loc: SourceLoc | undefined, resolved = false): ConfigNode {
    switch (a.kind) {
      case 'scalar':
        return a.node;
      case 'container':
        return resolved ? this.deep(a, 'keep') : a.node;
      case 'list':
        return new ListNode(a.items.map((x) => this.argNode(x, loc, resolved)), loc);
      case 'dict':
        return new DictNode(new Map(a.entries.map(([k, v]) => [k, this.argNode(v, loc, resolved)])), loc);
    }
  }

  /** A node put where the interpolation is: a container's relative keys then start from there (OmegaConf wraps results with `parent=` the node's parent). */
  private place(node: ConfigNode, env: Env): Resolved {
    return node.kind === 'value' ? scalar(node) : { kind: 'container', node, where: env.where };
  }

  /** A custom resolver's return value as a node. Strings are final: `${` in them is not resolved again. */
  private fromResult(out: unknown, env: Env, name: string): Resolved {
    const loc = env.node.loc;
    if (out instanceof ValueNode || out instanceof ListNode || out instanceof DictNode) return this.place(out, env);
    if (out === undefined || out === null) return scalar(nullNode(loc));
    if (out instanceof Float) return scalar(new ValueNode(out.value, 'float', loc));
    switch (typeof out) {
      case 'string':
        return scalar(strNode(out, loc));
      case 'number':
        return scalar(new ValueNode(out, Number.isInteger(out) ? 'int' : 'float', loc));
      case 'bigint':
        return scalar(new ValueNode(Number(out), 'int', loc));
      case 'boolean':
        return scalar(new ValueNode(out, 'bool', loc));
    }
    if (isPlainContainer(out)) return { kind: 'container', node: literalNode(out, loc, name) as ListNode | DictNode, where: { ...env.where, literal: true } };
    throw unsupportedResult(out, name);
  }

  private context(env: Env): EngineContext {
    const self = this;
    return {
      config: this.scope.config,
      path: env.where.path,
      get fullKey() {
        return displayKey(env.where);
      },
      loc: env.node.loc,
      select: (key) => {
        const sel = self.select(key, env, false);
        if (sel.status === 'absent') return sel;
        return sel.status === 'found' ? { status: 'found', value: sel.value, key: displayKey(sel.where) } : { status: 'missing', key: displayKey(sel.where) };
      },
      selectVidra: (key) => self.selectVidra(key, env),
      decode: (text) => self.decode(text, env),
      toNode: (arg) => self.argNode(arg, env.node.loc),
      place: (node) => self.place(node, env),
      plain: (arg) => self.plainArg(arg),
    };
  }

  private decode(text: string, env: Env): Resolved {
    let el: Element;
    try {
      el = parseElement(text);
    } catch (e) {
      if (!(e instanceof InterpolationSyntaxError)) throw e;
      throw new ResolverError(`oc.decode cannot parse '${text}': ${e.message}`);
    }
    const a = this.arg(el, env);
    if (a.kind !== 'list' && a.kind !== 'dict') return a;
    // OmegaConf hands the decoded list or dict back as a plain value: its strings are final.
    const node = this.argNode(a, env.node.loc, true) as ListNode | DictNode;
    return { kind: 'container', node, where: { ...env.where, literal: true } };
  }

  private selectVidra(key: string, env: Env): Resolved {
    const v = this.scope.vidra;
    if (!v) {
      throw new ResolverError(
        `there is no vidra node to read '${key}' from: \${vidra:...} values exist while Vidra runs a job (compose with the vidra config, or drop the interpolation)`,
      );
    }
    const keys = ['vidra', ...splitKey(key)];
    const sel = this.walk(key, keys, v.tree.root, rootWhere(v.tree), env, false);
    if (sel.status === 'found') return sel.value;
    if (sel.status === 'missing') {
      throw new MissingMandatoryValueError(
        `Cannot resolve '${env.node.value}' at '${displayKey(env.where)}': interpolation to missing value '${displayKey(sel.where)}' (???)`,
        { loc: env.node.loc },
      );
    }
    throw new ResolverError(`Key '${key}' not found in the vidra node.${didYouMean(key, leafKeys(v.node))}`);
  }

  // ---------------------------------------------------------------- whole trees

  /**
   * The fully resolved tree of a value. Interpolated nodes take the location of the
   * interpolation. `missing: 'keep'` turns an interpolation to `???` into `???` (as
   * OmegaConf.resolve does); `'throw'` raises it.
   */
  deep(r: Resolved, missing: 'keep' | 'throw'): ConfigNode {
    if (r.kind === 'scalar') return r.node;
    const slot = this.slot(r.node, r.where);
    const done = missing === 'keep' ? slot.deepKeep : slot.deepThrow;
    if (done) return done;
    if (slot.deepActive) {
      // A container reached again inside itself through interpolations (`a: {b: ${c}}, c: ${a}`).
      throw new InterpolationError(`Recursive interpolation detected: ${displayKey(r.where)} contains an interpolation that leads back to it`, {
        loc: r.node.loc,
      });
    }
    slot.deepActive = true;
    try {
      const container = r.node;
      const resolveChild = (child: ConfigNode, k: string): ConfigNode => {
        if (child.kind !== 'value') return this.deep(this.value(child, childWhere(r.where, container, k)), missing);
        if (!isInterpolation(child) || r.where.literal) return child;
        try {
          return relocate(this.deep(this.value(child, childWhere(r.where, container, k)), missing), child.loc);
        } catch (e) {
          if (missing === 'keep' && e instanceof MissingMandatoryValueError) return new ValueNode('???', 'missing', child.loc);
          throw e;
        }
      };
      let out: ConfigNode;
      if (container.kind === 'list') {
        const items = container.items.map((c, i) => resolveChild(c, String(i)));
        out = items.every((x, i) => x === container.items[i]) ? container : new ListNode(items, container.loc);
      } else {
        let same = true;
        const entries = new Map<string, ConfigNode>();
        for (const [k, c] of container.entries) {
          const x = resolveChild(c, k);
          if (x !== c) same = false;
          entries.set(k, x);
        }
        out = same ? container : new DictNode(entries, container.loc);
      }
      if (missing === 'keep') slot.deepKeep = out;
      else slot.deepThrow = out;
      return out;
    } finally {
      slot.deepActive = false;
    }
  }
}

/** Memo state of one position. */
interface Slot {
  value?: Resolved;
  active?: boolean;
  deepKeep?: ConfigNode;
  deepThrow?: ConfigNode;
  deepActive?: boolean;
}

function isPlainContainer(x: unknown): x is object {
  if (Array.isArray(x)) return true;
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function unsupportedResult(x: unknown, name: string): ResolverError {
  const kind = typeof x === 'object' && x !== null ? (x.constructor?.name ?? 'object') : typeof x;
  return new ResolverError(`resolver '${name}' returned a ${kind}, which a config cannot hold (return a string, number, boolean, null, array, plain object or config node)`);
}

/** A resolver's array or object as nodes kept literally: strings stay strings (no `???`, no `${`). */
function literalNode(x: unknown, loc: SourceLoc | undefined, name: string): ConfigNode {
  if (x instanceof ValueNode || x instanceof ListNode || x instanceof DictNode) return x;
  if (x === null || x === undefined) return nullNode(loc);
  if (x instanceof Float) return new ValueNode(x.value, 'float', loc);
  switch (typeof x) {
    case 'string':
      return strNode(x, loc);
    case 'number':
      return new ValueNode(x, Number.isInteger(x) ? 'int' : 'float', loc);
    case 'bigint':
      return new ValueNode(Number(x), 'int', loc);
    case 'boolean':
      return new ValueNode(x, 'bool', loc);
  }
  if (Array.isArray(x)) return new ListNode(x.map((v) => literalNode(v, loc, name)), loc);
  if (isPlainContainer(x)) return new DictNode(new Map(Object.entries(x).map(([k, v]) => [k, literalNode(v, loc, name)])), loc);
  throw unsupportedResult(x, name);
}

function strOf(r: Resolved): string {
  return r.kind === 'scalar' ? pythonStr(r.node.value, r.node.type) : pythonStrNode(r.node);
}


function leafKeys(node: ConfigNode, prefix = ''): string[] {
  if (node.kind !== 'dict') return [];
  const out: string[] = [];
  for (const [k, v] of node.entries) {
    const p = prefix ? `${prefix}.${k}` : k;
    out.push(p, ...leafKeys(v, p));
  }
  return out;
}

