import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Config } from '../config/config.ts';
import { ConfigCompositionError, UsageError } from '../config/errors.ts';
import { atPackage, merge } from '../config/merge.ts';
import { DictNode, ListNode, fromPlain, nullNode, strNode, type ConfigNode } from '../config/node.ts';
import { parseOverrideInternal, isSweep } from '../overrides/parse.ts';
import type { ParsedOverride } from '../overrides/types.ts';
import { builtinConfigDir } from '../paths.ts';
import { applyValueOverride, overrideLoc } from './apply-overrides.ts';
import { buildDefaults, type DefaultsRequest, type DefaultsResult, type GroupChange, type Option } from './defaults-list.ts';
import { ConfigRepository, type SearchPathEntry } from './repository.ts';

export interface ComposeOptions {
  /** The primary config directory (Hydra's config_path); null adds none. */
  configDir?: string | null;
  /** The primary config (without `.yaml`); null composes from overrides only. Default 'config'. */
  configName?: string | null;
  overrides?: readonly string[];
  /** More search-path directories, after the primary one (`--config-dir`, project settings). */
  searchPath?: readonly SearchPathEntry[];
  /** Merge Vidra's own `vidra` node (launcher, sweeper, run dirs). Default true. */
  vidra?: boolean;
  /** Settings merged into the `vidra` node before the overrides (a rerun's saved settings). */
  vidraBase?: Record<string, unknown>;
}

export interface Composition {
  config: Config;
  repo: ConfigRepository;
  defaults: DefaultsResult;
  overrides: ParsedOverride[];
}

export function makeRepository(options: Pick<ComposeOptions, 'configDir' | 'searchPath' | 'vidra'>): ConfigRepository {
  const entries: SearchPathEntry[] = [];
  if (options.configDir != null) {
    const dir = resolve(options.configDir);
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
      throw new UsageError(`the config directory '${options.configDir}' does not exist (resolved to ${dir})`);
    }
    entries.push({ dir, provider: 'main' });
  }
  for (const e of options.searchPath ?? []) {
    if (!existsSync(e.dir)) throw new UsageError(`the config directory '${e.dir}' (added by ${e.provider}) does not exist`);
    entries.push(e);
  }
  if (options.vidra !== false) entries.push({ dir: builtinConfigDir(), provider: 'vidra' });
  return new ConfigRepository(entries);
}

/** Composes a config from a config directory, a primary config and overrides, as Hydra's compose API does. */
export function compose(options: ComposeOptions = {}): Config {
  return composeDetailed(options).config;
}

export function composeDetailed(options: ComposeOptions = {}, repo = makeRepository(options)): Composition {
  const texts = options.overrides ?? [];
  const parsed = texts.map((t) => parseOverrideInternal(t));
  parsed.forEach((o, i) => {
    if (isSweep(o)) {
      throw new UsageError(
        `Ambiguous value for argument '${o.text}'\n` +
          `1. To use it as a list, use key=[value1,value2]\n` +
          `2. To use it as string, quote the value: key=\\'value1,value2\\'\n` +
          `3. To sweep over it, add --multirun to your command line`,
        { loc: overrideLoc(o, i) },
      );
    }
  });

  const request: DefaultsRequest = {
    primary: options.configName === undefined ? 'config' : options.configName,
    prelude: options.vidra === false ? [] : ['vidra/config'],
    changes: new Map(),
    appends: [],
    deletions: new Map(),
  };
  const forceAdds: ParsedOverride[] = [];
  const valueOverrides: Array<[ParsedOverride, number]> = [];
  parsed.forEach((o, i) => {
    if (!isGroupOverride(o, repo)) return valueOverrides.push([o, i]);
    const key = o.package === null ? o.key : `${o.key}@${o.package}`;
    const source = { text: o.text, loc: overrideLoc(o, i) };
    const option = groupOption(o);
    if (o.type === 'delete') request.deletions.set(key, { option, source, used: false });
    else if (o.type === 'add') request.appends.push({ group: o.key, package: o.package, option, source });
    else {
      const change: GroupChange = { option, source, fromCommandLine: true, used: false };
      request.changes.set(key, change);
      if (o.type === 'force_add') forceAdds.push(o);
    }
  });

  let defaults: DefaultsResult;
  try {
    defaults = buildDefaults(repo, request);
  } catch (err) {
    // `++group=opt` selects the group where the defaults list has it and appends it where not.
    const missing = forceAdds.filter((o) => err instanceof ConfigCompositionError && err.message.includes(`Could not override '${o.package === null ? o.key : `${o.key}@${o.package}`}'`));
    if (missing.length === 0) throw err;
    for (const o of missing) {
      const key = o.package === null ? o.key : `${o.key}@${o.package}`;
      const change = request.changes.get(key)!;
      request.changes.delete(key);
      request.appends.push({ group: o.key, package: o.package, option: change.option, source: change.source });
    }
    defaults = buildDefaults(repo, request);
  }

  let root: ConfigNode = new DictNode(new Map());
  for (const m of defaults.merges) root = merge(root, atPackage(m.content, m.package), m.package);
  if (options.vidraBase) root = merge(root, fromPlain({ vidra: options.vidraBase }));
  let dict = root as DictNode;
  for (const [o, i] of valueOverrides) dict = applyValueOverride(dict, o, overrideLoc(o, i));

  const vidraNode = dict.entries.get('vidra');
  const job = new Map(dict.entries);
  job.delete('vidra');
  const vidra = vidraNode?.kind === 'dict' ? withRuntime(vidraNode, defaults, texts, options.vidraBase ? undefined : request.primary) : undefined;
  return { config: new Config(new DictNode(job, dict.loc), { vidra }), repo, defaults, overrides: parsed };
}

/** Overrides of Vidra's own settings (`vidra.run.dir=...`, `vidra/launcher=...`), kept apart from the task's as Hydra does. */
export function isVidraOverride(text: string): boolean {
  return /^[+~]*vidra[./@=]/.test(text);
}

function isGroupOverride(o: ParsedOverride, repo: ConfigRepository): boolean {
  if (o.package !== null) return true;
  if (o.key.includes('/')) return true;
  return repo.groupExists(o.key) && (o.value === null || o.value.kind !== 'dict');
}

function groupOption(o: ParsedOverride): Option {
  const v = o.value;
  if (v === null) return null;
  if (v.kind === 'list') {
    return v.items.map((item) => {
      if (item.kind !== 'value') throw new UsageError(`'${o.text}': a config group takes option names, not nested lists or dicts`);
      return String(item.value);
    });
  }
  if (v.kind === 'dict') throw new UsageError(`'${o.text}': a config group takes an option name, not a dict`);
  return v.type === 'null' ? null : String(v.value);
}

/** Fills `vidra.runtime.choices` (in defaults-list order) and `cwd`, `vidra.overrides.task|vidra` and `vidra.job.config_name`. */
function withRuntime(vidra: DictNode, defaults: DefaultsResult, overrides: readonly string[], configName: string | null | undefined): DictNode {
  const choices = new DictNode(new Map([...defaults.choices].map(([k, v]) => [k, v === null ? nullNode() : fromPlain(v)])));
  const patch = fromPlain({
    runtime: { choices, cwd: process.cwd() },
    overrides: {
      task: new ListNode(overrides.filter((t) => !isVidraOverride(t)).map((t) => strNode(t))),
      vidra: new ListNode(overrides.filter(isVidraOverride).map((t) => strNode(t))),
    },
    ...(configName === undefined ? {} : { job: { config_name: configName } }),
  });
  return merge(vidra, patch) as DictNode;
}
