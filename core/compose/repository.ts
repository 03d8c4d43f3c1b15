import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadYaml, type LoadedYaml } from '../config/yaml-load.ts';

/** One directory of the config search path; the first directory that has a config wins. */
export interface SearchPathEntry {
  dir: string;
  /** Who added it: 'main' (the primary config dir), 'command-line' (--config-dir), 'settings', 'vidra' (built in). */
  provider: string;
}

export interface LoadedConfig extends LoadedYaml {
  /** Config path without extension, e.g. `model/slowfast`. */
  path: string;
  file: string;
}

interface CacheEntry {
  mtimeMs: number;
  size: number;
  loaded: LoadedYaml;
}

// Parsed files are cached for the life of the process (validated by mtime and size), so that composing
// the 1,000 jobs of a sweep parses each YAML file once. Nodes are immutable, so sharing them is safe.
const fileCache = new Map<string, CacheEntry>();

function readCached(file: string): LoadedYaml | null {
  // throwIfNoEntry: a missing file is the common case on a search path, and exceptions are slow.
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st?.isFile()) return null;
  const hit = fileCache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.loaded;
  const loaded = loadYaml(readFileSync(file, 'utf8'), file);
  fileCache.set(file, { mtimeMs: st.mtimeMs, size: st.size, loaded });
  return loaded;
}

function isDir(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** The config groups and options visible through a search path. */
export class ConfigRepository {
  readonly searchPath: readonly SearchPathEntry[];
  private readonly groupCache = new Map<string, boolean>();
  private readonly optionCache = new Map<string, string[]>();

  constructor(searchPath: SearchPathEntry[]) {
    this.searchPath = searchPath.map((e) => ({ ...e, dir: resolve(e.dir) }));
  }

  /** Loads `path` (`group/option` or a top-level name, no extension) from the first directory that has it. */
  load(path: string): LoadedConfig | null {
    for (const { dir } of this.searchPath) {
      const file = join(dir, `${path}.yaml`);
      const loaded = readCached(file);
      if (loaded) return { ...loaded, path, file };
    }
    return null;
  }

  groupExists(group: string): boolean {
    let hit = this.groupCache.get(group);
    if (hit === undefined) {
      hit = group !== '' && this.searchPath.some(({ dir }) => isDir(join(dir, group)));
      this.groupCache.set(group, hit);
    }
    return hit;
  }

  /** Sorted option names of a group, over every directory of the search path. */
  options(group: string): string[] {
    let hit = this.optionCache.get(group);
    if (hit === undefined) {
      const names = new Set<string>();
      for (const { dir } of this.searchPath) {
        const d = join(dir, group);
        if (!isDir(d)) continue;
        for (const f of readdirSync(d)) if (f.endsWith('.yaml') && !isDir(join(d, f))) names.add(f.slice(0, -5));
      }
      hit = [...names].sort();
      this.optionCache.set(group, hit);
    }
    return hit;
  }

  /** Every config group (folders holding YAML files, recursively), sorted. */
  groups(): string[] {
    const found = new Set<string>();
    const walk = (root: string, rel: string) => {
      for (const name of readdirSync(join(root, rel))) {
        if (name.startsWith('.')) continue;
        const sub = rel ? `${rel}/${name}` : name;
        if (isDir(join(root, sub))) {
          if (readdirSync(join(root, sub)).some((f) => f.endsWith('.yaml'))) found.add(sub);
          walk(root, sub);
        }
      }
    };
    for (const { dir } of this.searchPath) if (isDir(dir)) walk(dir, '');
    return [...found].sort();
  }

  describeSearchPath(): string {
    return this.searchPath.map((e) => `  ${e.provider}: ${e.dir}`).join('\n');
  }
}
