import { ConfigCompositionError, didYouMean } from '../config/errors.ts';
import { DictNode, formatLoc, type ConfigNode, type SourceLoc } from '../config/node.ts';
import type { ConfigRepository, LoadedConfig } from './repository.ts';

// The defaults tree, with Hydra 1.3's semantics (hydra/_internal/defaults_list.py):
// each config's defaults are walked in REVERSE order, so that `override` entries of configs listed later
// (an `+experiment=x` appended at the end) are registered before the groups they override are reached.
// The tree is then flattened depth first, each config's own content merged at its `_self_` position.

export type Option = string | string[] | null;

/** Where a group choice came from: a defaults entry in a file, or a command-line override. */
export interface ChoiceSource {
  text: string;
  loc?: SourceLoc;
}

export interface GroupChange {
  option: Option;
  source: ChoiceSource;
  fromCommandLine: boolean;
  used: boolean;
}

export interface GroupAppend {
  group: string;
  package: string | null;
  option: Option;
  source: ChoiceSource;
}

export interface GroupDeletion {
  /** Only delete when the selected option equals this (`~loss=eql`); null deletes whatever is selected. */
  option: Option;
  source: ChoiceSource;
  used: boolean;
}

export interface DefaultsRequest {
  /** The primary config (config name), or null for none. */
  primary: string | null;
  /** Configs merged before the primary, e.g. `vidra/config`. */
  prelude: string[];
  /** Command-line `group[@pkg]=option`, keyed by override key. */
  changes: Map<string, GroupChange>;
  /** Command-line `+group[@pkg]=option`, appended to the primary's defaults. */
  appends: GroupAppend[];
  /** Command-line `~group[@pkg][=option]`. */
  deletions: Map<string, GroupDeletion>;
}

export interface TreeNode {
  /** `model/slowfast`, `config`, or `_self_`. */
  config: string;
  package: string;
  file?: string;
  children: TreeNode[];
  /** The config's own content (defaults removed); only on `_self_` nodes. */
  content?: DictNode;
}

export interface DefaultsResult {
  tree: TreeNode;
  /** In merge order: each config's content and the package it merges at. */
  merges: Array<{ config: string; package: string; file: string; content: DictNode }>;
  /** `group[@pkg]` → chosen option(s), null when disabled; for `vidra.runtime.choices`. */
  choices: Map<string, Option>;
}

interface Entry {
  kind: 'self' | 'config' | 'group';
  /** Group (or config path) as written; may start with `/`. */
  name: string;
  package: string | null;
  option: Option;
  optional: boolean;
  override: boolean;
  source: ChoiceSource;
}

const joinPkg = (a: string, b: string) => (a === '' ? b : b === '' ? a : `${a}.${b}`);
const joinGroup = (dir: string, name: string) => (name.startsWith('/') ? name.slice(1) : dir === '' ? name : `${dir}/${name}`);
const dirname = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');

/**
 * How overrides name a group entry: `group` when it sits at its natural package (the group path with
 * dots), else `group@package`, as Hydra does. So `db@src: mysql` is `db@src`, and `/loss` listed in a
 * config without a `_global_` header (package `experiment.loss`) is `loss@experiment.loss`.
 */
function entryKey(group: string, finalPkg: string): string {
  return finalPkg === group.replace(/\//g, '.') ? group : `${group}@${finalPkg}`;
}

function entryPackage(e: { name: string; package: string | null }, parentPkg: string): string {
  const defaultPkg = joinPkg(parentPkg, e.name.replace(/^\//, '').replace(/\//g, '.'));
  return e.package !== null ? packageFrom(e.package, parentPkg, defaultPkg) : defaultPkg;
}

/** A package written in a defaults list or header: `_global_` makes it absolute, otherwise it is relative. */
function packageFrom(written: string, base: string, groupDefault: string): string {
  if (written === '_global_') return '';
  if (written.startsWith('_global_.')) return written.slice('_global_.'.length);
  if (written === '_group_') return groupDefault;
  if (written.startsWith('_group_.')) return joinPkg(groupDefault, written.slice('_group_.'.length));
  return joinPkg(base, written);
}

/** Where a selected config merges: the defaults-list package, else its `# @package` header, else the default. */
function optionPackage(written: string | null, parentPkg: string, defaultPkg: string, child: LoadedConfig): string {
  if (written !== null) return packageFrom(written, parentPkg, defaultPkg);
  if (child.packageHeader !== null) return packageFrom(child.packageHeader, '', defaultPkg);
  return defaultPkg;
}

/** A defaults entry as written: `/model@sub: a`, `db`. */
function entryText(e: Entry): string {
  const name = e.package === null ? e.name : `${e.name}@${e.package}`;
  return e.kind === 'group' ? `${name}: ${optionText(e.option)}` : name;
}

function optionText(option: Option): string {
  return Array.isArray(option) ? `[${option.join(',')}]` : String(option);
}

/** Splits a loaded config into its defaults entries and its own content. */
export function splitDefaults(loaded: LoadedConfig): { entries: Entry[]; content: DictNode } {
  const defaults = loaded.node.entries.get('defaults');
  if (defaults === undefined) return { entries: [], content: loaded.node };
  const content = new Map(loaded.node.entries);
  content.delete('defaults');
  if (defaults.kind !== 'list') {
    throw new ConfigCompositionError(`'defaults' must be a list in '${loaded.path}'`, { loc: defaults.loc });
  }
  const entries = defaults.items.map((item) => parseEntry(item, loaded));
  return { entries, content: new DictNode(content, loaded.node.loc) };
}

function parseEntry(item: ConfigNode, loaded: LoadedConfig): Entry {
  const loc = item.loc;
  const source = { text: `defaults list of '${loaded.path}'`, loc };
  if (item.kind === 'value' && item.type === 'str') {
    const name = item.value as string;
    if (name === '_self_') return { kind: 'self', name, package: null, option: null, optional: false, override: false, source };
    const at = name.indexOf('@');
    return {
      kind: 'config',
      name: at < 0 ? name : name.slice(0, at),
      package: at < 0 ? null : name.slice(at + 1),
      option: null,
      optional: false,
      override: false,
      source,
    };
  }
  if (item.kind === 'dict' && item.entries.size === 1) {
    const [rawKey, value] = [...item.entries][0]!;
    const words = rawKey.trim().split(/\s+/);
    const groupWord = words.pop()!;
    const keywords = new Set(words);
    for (const w of keywords) {
      if (w !== 'optional' && w !== 'override') {
        throw new ConfigCompositionError(`unknown keyword '${w}' in the defaults entry '${rawKey}'; valid keywords are 'optional' and 'override'`, {
          loc,
        });
      }
    }
    const at = groupWord.indexOf('@');
    let option: Option;
    if (value.kind === 'value' && (value.type === 'str' || value.type === 'null' || value.type === 'int' || value.type === 'float')) {
      option = value.value === null ? null : String(value.value);
    } else if (value.kind === 'list' && value.items.every((v) => v.kind === 'value' && v.type === 'str')) {
      option = value.items.map((v) => (v as { value: string }).value);
    } else {
      throw new ConfigCompositionError(
        `the option of '${rawKey}' in the defaults list must be a config name, a list of names, or null`,
        { loc: value.loc ?? loc },
      );
    }
    return {
      kind: 'group',
      name: at < 0 ? groupWord : groupWord.slice(0, at),
      package: at < 0 ? null : groupWord.slice(at + 1),
      option,
      optional: keywords.has('optional'),
      override: keywords.has('override'),
      source,
    };
  }
  throw new ConfigCompositionError(
    `invalid defaults entry in '${loaded.path}': expected '_self_', a config path, or a single 'group: option' mapping`,
    { loc },
  );
}

/** Builds the defaults tree and the merge order. */
export function buildDefaults(repo: ConfigRepository, request: DefaultsRequest): DefaultsResult {
  return new DefaultsBuilder(repo, request).build();
}

/** The configs being visited, outermost first, each with the entry that included it. */
type VisitStack = Array<{ config: LoadedConfig; via: Entry | null }>;

interface Deferred {
  slot: TreeNode;
  entry: Entry;
  group: string;
  parentPkg: string;
  pos: number[];
  /** The configs that included this entry, for the cycle check when it is visited later. */
  visiting: VisitStack;
}

class DefaultsBuilder {
  private readonly overrides = new Map<string, GroupChange>();
  private readonly seen = new Map<string, Entry>();
  private readonly choices = new Map<string, Option>();
  /** Position of each choice in the final tree (indices from the root), to list choices in defaults-list order. */
  private readonly positions = new Map<string, number[]>();
  private readonly deferred: Deferred[] = [];
  private defaultsOverrides: Array<{ key: string; change: GroupChange }> = [];
  private interpolatedDepth = 0;
  /** A defaults-list cycle would recurse for ever: it is caught by the configs on this stack. */
  private visiting: VisitStack = [];

  constructor(
    private readonly repo: ConfigRepository,
    private readonly request: DefaultsRequest,
  ) {
    for (const [key, change] of request.changes) this.overrides.set(key, change);
  }

  build(): DefaultsResult {
    const children: TreeNode[] = [];
    if (this.request.primary !== null) {
      const primary = this.repo.load(this.request.primary);
      if (!primary) {
        throw new ConfigCompositionError(
          `Cannot find primary config '${this.request.primary}'.${didYouMean(this.request.primary, this.repo.options(''))}\nSearch path:\n${this.repo.describeSearchPath()}`,
        );
      }
      const pkg = primary.packageHeader === null ? '' : packageFrom(primary.packageHeader, '', '');
      children.unshift(this.visit(primary, '', pkg, true, [this.request.prelude.length]));
    } else if (this.request.appends.length > 0) {
      const empty: LoadedConfig = { node: new DictNode(new Map()), packageHeader: null, path: '<overrides>', file: '<command line>' };
      children.unshift(this.visit(empty, '', '', true, [this.request.prelude.length]));
    }
    for (let i = this.request.prelude.length - 1; i >= 0; i--) {
      const path = this.request.prelude[i]!;
      const loaded = this.repo.load(path);
      if (!loaded) throw new ConfigCompositionError(`Cannot find the built-in config '${path}'.\nSearch path:\n${this.repo.describeSearchPath()}`);
      children.unshift(this.visit(loaded, dirname(path), packageFrom(loaded.packageHeader ?? dirname(path).replace(/\//g, '.'), '', ''), false, [i]));
    }
    this.resolveDeferred();
    this.checkUnused();
    const tree: TreeNode = { config: '<root>', package: '', children };
    const merges: DefaultsResult['merges'] = [];
    const flatten = (node: TreeNode) => {
      if (node.content) merges.push({ config: node.config, package: node.package, file: node.file ?? '', content: node.content });
      for (const c of node.children) flatten(c);
    };
    flatten(tree);
    const byPosition = (a: number[], b: number[]) => {
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
      return a.length - b.length;
    };
    const ordered = [...this.choices].sort(([a], [b]) => byPosition(this.positions.get(a) ?? [], this.positions.get(b) ?? []));
    return { tree, merges, choices: new Map(ordered) };
  }

  private visit(loaded: LoadedConfig, groupDir: string, pkg: string, isPrimary: boolean, pos: number[], via: Entry | null = null): TreeNode {
    this.checkCycle(loaded, via);
    this.visiting.push({ config: loaded, via });
    try {
      return this.visitEntries(loaded, groupDir, pkg, isPrimary, pos);
    } finally {
      this.visiting.pop();
    }
  }

  private checkCycle(loaded: LoadedConfig, via: Entry | null): void {
    const start = this.visiting.findIndex((v) => v.config.path === loaded.path);
    if (start < 0) return;
    const chain = [...this.visiting.slice(start), { config: loaded, via }]
      .map((v, i) => (i === 0 ? `  ${v.config.file}` : `  -> ${v.config.file} (${v.via ? entryText(v.via) : 'included'} at ${v.via?.source.loc ? formatLoc(v.via.source.loc) : '?'})`))
      .join('\n');
    throw new ConfigCompositionError(
      `defaults-list cycle: '${loaded.path}' includes itself:\n${chain}\nRemove one of the entries of this chain.`,
      { loc: via?.source.loc },
    );
  }

  private visitEntries(loaded: LoadedConfig, groupDir: string, pkg: string, isPrimary: boolean, pos: number[]): TreeNode {
    const { entries, content } = splitDefaults(loaded);
    if (!entries.some((e) => e.kind === 'self')) {
      entries.push({ kind: 'self', name: '_self_', package: null, option: null, optional: false, override: false, source: { text: '' } });
    }
    if (isPrimary) {
      for (const a of this.request.appends) {
        entries.push({ kind: 'group', name: `/${a.group}`, package: a.package, option: a.option, optional: false, override: false, source: a.source });
      }
    }
    for (const e of entries) {
      if (!e.override) continue;
      if (e.kind !== 'group') throw new ConfigCompositionError(`'override' applies to config groups only`, { loc: e.source.loc });
      if (this.interpolatedDepth > 0) {
        throw new ConfigCompositionError(`a config selected by an interpolated defaults entry may not contain 'override' entries`, {
          loc: e.source.loc,
        });
      }
      const key = entryKey(joinGroup(groupDir, e.name), entryPackage(e, pkg));
      if (this.overrides.has(key)) continue; // the command line (or a later config) wins
      const change: GroupChange = { option: e.option, source: e.source, fromCommandLine: false, used: false };
      this.overrides.set(key, change);
      this.defaultsOverrides.push({ key, change });
    }

    const node: TreeNode = { config: loaded.path, package: pkg, file: loaded.file, children: [] };
    const children: TreeNode[] = [];
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i]!;
      if (e.override) continue;
      if (e.kind === 'self') {
        children.push({ config: loaded.path, package: pkg, file: loaded.file, children: [], content });
      } else if (e.kind === 'config') {
        const path = joinGroup(groupDir, e.name);
        const child = this.repo.load(path);
        if (!child) throw this.notFound(path, dirname(path), e.source, loaded.path);
        const defaultPkg = joinPkg(pkg, dirname(e.name.replace(/^\//, '')).replace(/\//g, '.'));
        const childPkg = optionPackage(e.package, pkg, defaultPkg, child);
        children.push(this.visit(child, dirname(path), childPkg, false, [...pos, i], e));
      } else {
        this.visitGroup(e, groupDir, pkg, loaded.path, children, [...pos, i]);
      }
    }
    node.children = children.reverse();
    return node;
  }

  private visitGroup(e: Entry, groupDir: string, pkg: string, parentPath: string, out: TreeNode[], pos: number[]): void {
    const group = joinGroup(groupDir, e.name);
    const key = entryKey(group, entryPackage(e, pkg));
    const later = this.seen.get(key);
    if (later) {
      // Entries are walked last to first, so `later` comes after `e`: that is the one that needs `override`.
      const where = e.source.loc ? ` (first set in ${e.source.text} at ${formatLoc(e.source.loc)})` : '';
      throw new ConfigCompositionError(
        `Multiple values for ${key}${where}. To override a value use 'override ${later.name}: ${optionText(later.option)}'`,
        { loc: later.source.loc },
      );
    }
    this.seen.set(key, e);

    let option = e.option;
    const deletion = this.request.deletions.get(key);
    if (deletion) {
      if (deletion.option === null || optionText(deletion.option) === optionText(option)) {
        deletion.used = true;
        return;
      }
    }
    const change = this.overrides.get(key);
    if (change) {
      option = change.option;
      change.used = true;
    }
    this.choices.set(key, option);
    this.positions.set(key, pos);
    if (option === null) return;

    const defaultPkg = joinPkg(pkg, e.name.replace(/^\//, '').replace(/\//g, '.'));
    if (typeof option === 'string' && option.includes('${')) {
      const slot: TreeNode = { config: `${group}/${option}`, package: defaultPkg, children: [] };
      this.deferred.push({ slot, entry: { ...e, option }, group, parentPkg: pkg, pos, visiting: [...this.visiting] });
      out.push(slot);
      return;
    }
    const options = Array.isArray(option) ? option : [option];
    for (let i = options.length - 1; i >= 0; i--) {
      const child = this.loadOption(group, options[i]!, e, change, parentPath);
      if (!child) continue;
      const childPkg = optionPackage(e.package, pkg, defaultPkg, child);
      out.push(this.visit(child, group, childPkg, false, [...pos, i], e));
    }
  }

  private loadOption(group: string, option: string, e: Entry, change: GroupChange | undefined, parentPath: string): LoadedConfig | null {
    const loaded = this.repo.load(`${group}/${option}`);
    if (loaded || e.optional) return loaded;
    throw this.notFound(`${group}/${option}`, group, change?.source ?? e.source, parentPath);
  }

  private notFound(path: string, group: string, source: ChoiceSource, parentPath: string): ConfigCompositionError {
    const name = path.slice(path.lastIndexOf('/') + 1);
    const options = this.repo.options(group);
    const where = source.loc ? '' : ` (from ${source.text})`;
    return new ConfigCompositionError(
      `In '${parentPath}': Could not find '${path}'${where}.\n` +
        (options.length ? `Available options in '${group}': ${options.join(' ')}.${didYouMean(name, options)}\n` : `'${group}' has no options.\n`) +
        `Search path:\n${this.repo.describeSearchPath()}`,
      { loc: source.loc },
    );
  }

  private resolveDeferred(): void {
    // Interpolated options see the FINAL choices of the other groups, as in Hydra.
    while (this.deferred.length > 0) {
      const d = this.deferred.shift()!;
      const option = (d.entry.option as string).replace(/\$\{([^}]+)\}/g, (_, ref: string) => {
        const chosen = this.choices.get(ref.trim());
        if (typeof chosen !== 'string') {
          throw new ConfigCompositionError(
            `the defaults entry '${d.entry.name}: ${d.entry.option}' interpolates '${ref}', which is not a selected config group` +
              didYouMean(ref, [...this.choices.keys()]),
            { loc: d.entry.source.loc },
          );
        }
        return chosen;
      });
      this.choices.set(entryKey(d.group, entryPackage(d.entry, d.parentPkg)), option);
      const child = this.loadOption(d.group, option, d.entry, undefined, d.group);
      if (!child) continue;
      const defaultPkg = d.slot.package;
      const pkg = optionPackage(d.entry.package, d.parentPkg, defaultPkg, child);
      this.interpolatedDepth++;
      this.visiting = d.visiting;
      const sub = this.visit(child, d.group, pkg, false, d.pos, d.entry);
      this.visiting = [];
      this.interpolatedDepth--;
      Object.assign(d.slot, sub);
    }
  }

  private checkUnused(): void {
    for (const [key, change] of this.request.changes) {
      if (change.used) continue;
      const group = key.split('@')[0]!;
      const vidraGroup = group.replace(/^hydra\//, 'vidra/');
      if (vidraGroup !== group && this.seen.has(vidraGroup)) {
        throw new ConfigCompositionError(
          `Could not override '${key}': Vidra's own config groups are under 'vidra/', not 'hydra/'. Use ${change.source.text.replace(/^(\+*)hydra\//, '$1vidra/')}`,
          { loc: change.source.loc },
        );
      }
      const near = [...this.seen.keys()].filter((k) => k.split('@')[0] === group && k !== key).sort();
      throw new ConfigCompositionError(
        `Could not override '${key}'. No match in the defaults list.` +
          (near.length ? ` Did you mean to override ${near.join(' or ')}?` : '') +
          ` To append to your default list use +${change.source.text.replace(/^\+*/, '')}`,
        { loc: change.source.loc },
      );
    }
    for (const { key, change } of this.defaultsOverrides) {
      if (!change.used) {
        throw new ConfigCompositionError(
          `Could not override '${key}'. No match in the defaults list.${didYouMean(key, this.seen.keys())}`,
          { loc: change.source.loc },
        );
      }
    }
    for (const [key, deletion] of this.request.deletions) {
      if (!deletion.used) {
        throw new ConfigCompositionError(
          `Could not delete '${deletion.option === null ? key : `${key}=${optionText(deletion.option)}`}'. No match in the defaults list.` +
            (this.choices.has(key) ? ` '${key}' is '${optionText(this.choices.get(key)!)}'.` : ''),
          { loc: deletion.source.loc },
        );
      }
    }
  }
}
