// The composed config users read. Values resolve on read, as with OmegaConf's DictConfig:
// `get('trainer.lr')` follows `${...}` wherever it meets one; the tree itself never changes.
import { DictNode, ValueNode, isInterpolation, isMissing, toPlain, type ConfigNode } from './node.ts';
import { ConfigKeyError, ConfigTypeError, MissingMandatoryValueError, didYouMean } from './errors.ts';
import { child, lookup, parsePath } from './path.ts';
import { Resolution, childWhere, displayKey, relocate, rootWhere, type Resolved, type Scope, type Tree, type Where } from './resolve.ts';
import { toYaml } from './yaml-emit.ts';

export interface ConfigOptions {
  /**
   * The run's `vidra` node (job name, run directory, sweep number…), which `${vidra:job.name}`
   * reads. Its own interpolations (`dir: runs/${vidra.job.name}`) resolve against the job
   * config with this node under `vidra`, the way Hydra resolves `hydra.*` inside the
   * composed config.
   */
  vidra?: DictNode;
}

type Found = { readonly node: ConfigNode; readonly where: Where };

export class Config {
  readonly root: DictNode;
  readonly vidra: DictNode | undefined;
  private readonly scope: Scope;

  constructor(root: DictNode, options: ConfigOptions = {}) {
    this.root = root;
    this.vidra = options.vidra;
    const vidra = options.vidra;
    let vidraTree: Tree | undefined;
    this.scope = {
      config: this,
      tree: { root, tag: 'cfg' },
      cache: new Map(),
      get vidra() {
        if (!vidra) return undefined;
        vidraTree ??= { root: new DictNode(new Map([...root.entries, ['vidra', vidra]]), root.loc), tag: 'vidra' };
        return { node: vidra, tree: vidraTree };
      },
    };
  }

  /**
   * The value at `path` (`a.b`, `l[0]`, `l.0`, `l[-1]`), interpolations resolved; containers
   * come back as plain objects and arrays, fully resolved. Reading `???`, here or inside a
   * returned container, throws MissingMandatoryValueError; an absent key, ConfigKeyError.
   */
  get(path: string): unknown {
    const res = new Resolution(this.scope);
    const found = this.follow(res, parsePath(path), true)!;
    if (isMissing(found.node)) throw missingError(found);
    const node = res.deep(res.value(found.node, found.where), 'throw');
    assertComplete(node, displayKey(found.where));
    return toPlain(node);
  }

  /** Like {@link get}, but an absent key or a `???` value gives `options.default` (undefined if none), as OmegaConf.select. */
  select(path: string, options: { default?: unknown } = {}): unknown {
    const res = new Resolution(this.scope);
    const found = this.follow(res, parsePath(path), false);
    if (!found || isMissing(found.node)) return options.default;
    const node = res.deep(res.value(found.node, found.where), 'throw');
    assertComplete(node, displayKey(found.where));
    return toPlain(node);
  }

  /** Whether the key exists (a `???` value counts). Interpolations on the way are followed. */
  has(path: string): boolean {
    return this.follow(new Resolution(this.scope), parsePath(path), false) !== undefined;
  }

  /** The raw node at `path`, interpolations not followed; undefined when absent. */
  node(path: string): ConfigNode | undefined {
    return lookup(this.root, parsePath(path));
  }

  /**
   * The node at `path` with every interpolation resolved and every node's SourceLoc kept
   * (an interpolated value takes the location of its interpolation). An interpolation to
   * `???` becomes `???`, as OmegaConf.resolve does.
   */
  resolvedNode(path = ''): ConfigNode {
    const res = new Resolution(this.scope);
    const found = this.follow(res, parsePath(path), true)!;
    return resolveFound(res, found);
  }

  /** Whether the value at `path` is `???` (an interpolation is not missing itself, as in OmegaConf.is_missing). */
  isMissing(path: string): boolean {
    const found = this.follow(new Resolution(this.scope), parsePath(path), false);
    return found !== undefined && isMissing(found.node);
  }

  /** Full keys of the `???` values (`model.depth`, `layers[1]`), in document order. */
  missingKeys(): string[] {
    const out: string[] = [];
    walkMissing(this.root, rootWhere(this.scope.tree), (where) => out.push(displayKey(where)));
    return out;
  }

  /**
   * Plain JS. Unresolved by default (`${...}` strings kept, as `.vidra/config.yaml` records
   * them); `???` stays the string '???' unless `throwOnMissing`. Resolving throws for an
   * interpolation to `???`, as OmegaConf.to_container(resolve=True) does.
   */
  toObject({ resolve = false, throwOnMissing = false }: { resolve?: boolean; throwOnMissing?: boolean } = {}): unknown {
    const node = resolve ? this.resolvedStrict() : this.root;
    if (throwOnMissing) assertComplete(node, '');
    return toPlain(node);
  }

  /** YAML as OmegaConf.to_yaml writes it; `resolve` writes resolved values (and throws for an interpolation to `???`). */
  toYaml({ resolve = false }: { resolve?: boolean } = {}): string {
    return toYaml(resolve ? this.resolvedStrict() : this.root);
  }

  private resolvedStrict(): ConfigNode {
    const res = new Resolution(this.scope);
    return res.deep(res.value(this.root, rootWhere(this.scope.tree)), 'throw');
  }

  /**
   * Walks raw keys from the root, resolving the containers met on the way. `strict` throws
   * for an absent key, a `???` or a scalar on the way; otherwise those give undefined.
   */
  private follow(res: Resolution, keys: readonly string[], strict: boolean): Found | undefined {
    let cur: Resolved = { kind: 'container', node: this.root, where: rootWhere(this.scope.tree) };
    let found: Found = { node: this.root, where: cur.where };
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (cur.kind !== 'container') {
        if (!strict) return undefined;
        throw new ConfigTypeError(`Cannot read '${keys.join('.')}': '${displayKey(found.where)}' is ${article(cur.node.type)}, not a container`, {
          loc: cur.node.loc,
        });
      }
      const node = child(cur.node, k);
      if (node === undefined) {
        if (!strict) return undefined;
        throw absentError(cur, k);
      }
      const key = cur.node.kind === 'list' ? String(normIndex(cur.node.items.length, k)) : k;
      found = { node, where: childWhere(cur.where, cur.node, key) };
      if (i === keys.length - 1) break;
      if (isMissing(node)) {
        if (!strict) return undefined;
        throw missingError(found);
      }
      cur = res.value(node, found.where);
    }
    return found;
  }
}

function normIndex(length: number, key: string): number {
  const i = Number(key);
  return i < 0 ? length + i : i;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function absentError(cur: Extract<Resolved, { kind: 'container' }>, key: string): ConfigKeyError {
  const where = cur.where.path.length ? `'${displayKey(cur.where)}'` : 'the config';
  if (cur.node.kind === 'list') {
    const n = cur.node.items.length;
    return /^-?\d+$/.test(key)
      ? new ConfigKeyError(`Index ${key} is out of range for ${where}, a list of ${n} item${n === 1 ? '' : 's'}`, { loc: cur.node.loc })
      : new ConfigKeyError(`Key '${key}' not found in ${where}: it is a list, index it with a number`, { loc: cur.node.loc });
  }
  return new ConfigKeyError(`Key '${key}' not found in ${where}.${didYouMean(key, cur.node.entries.keys())}`, { loc: cur.node.loc });
}

function missingError(found: Found): MissingMandatoryValueError {
  return new MissingMandatoryValueError(`Missing mandatory value: ${displayKey(found.where)}`, { loc: found.node.loc });
}

function resolveFound(res: Resolution, found: Found): ConfigNode {
  if (isMissing(found.node)) return found.node;
  const raw = found.node;
  let r: Resolved;
  try {
    r = res.value(raw, found.where);
  } catch (e) {
    // OmegaConf.resolve turns an interpolation to `???` into `???`.
    if (e instanceof MissingMandatoryValueError && isInterpolation(raw)) return new ValueNode('???', 'missing', raw.loc);
    throw e;
  }
  const node = res.deep(r, 'keep');
  return isInterpolation(raw) ? relocate(node, raw.loc) : node;
}

/** An interpolated value carries the location of its interpolation. */

/** Throws for the first `???` in a resolved tree, naming its full key. */
function assertComplete(node: ConfigNode, key: string): void {
  if (node.kind === 'value') {
    if (node.type === 'missing') throw new MissingMandatoryValueError(`Missing mandatory value: ${key || '<root>'}`, { loc: node.loc });
    return;
  }
  if (node.kind === 'list') node.items.forEach((c, i) => assertComplete(c, `${key}[${i}]`));
  else for (const [k, c] of node.entries) assertComplete(c, key ? `${key}.${k}` : k);
}

function walkMissing(node: ConfigNode, where: Where, visit: (where: Where) => void): void {
  if (node.kind === 'value') return;
  const entries: Array<[string, ConfigNode]> = node.kind === 'list' ? node.items.map((c, i) => [String(i), c]) : [...node.entries];
  for (const [k, c] of entries) {
    const w = childWhere(where, node, k);
    if (isMissing(c)) visit(w);
    else walkMissing(c, w, visit);
  }
}
