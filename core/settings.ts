import { dirname, resolve } from 'node:path';
import { cosmiconfig } from 'cosmiconfig';
import { parseDocument } from 'yaml';
import { VidraError } from './config/errors.ts';

/** Project settings, discovered from the working directory up to the project root. */
export interface ProjectSettings {
  /** The settings file, or null when none was found (defaults apply). */
  file: string | null;
  /** Relative paths below resolve from here: the settings file's directory, else the cwd. */
  root: string;
  /** The primary config directory. Default `conf`. */
  configDir: string;
  /** The primary config name. Default `config`. */
  configName: string;
  /** Extra config search-path directories, after the primary one. */
  searchPath: string[];
  /** Plugin modules to load: relative paths or package names. */
  plugins: string[];
}

const KEYS = ['configDir', 'configName', 'searchPath', 'plugins'];

const SEARCH_PLACES = [
  'package.json',
  '.vidrarc',
  '.vidrarc.json',
  '.vidrarc.yaml',
  '.vidrarc.yml',
  '.vidrarc.js',
  '.vidrarc.mjs',
  '.vidrarc.ts',
  'vidra.config.json',
  'vidra.config.yaml',
  'vidra.config.js',
  'vidra.config.mjs',
  'vidra.config.ts',
];

function loadJson(file: string, content: string): unknown {
  try {
    return JSON.parse(content);
  } catch (err) {
    throw new VidraError(`${file}: invalid JSON: ${(err as Error).message}`);
  }
}

function loadYamlSettings(file: string, content: string): unknown {
  const doc = parseDocument(content);
  if (doc.errors.length) throw new VidraError(`${file}: invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  return doc.toJS();
}

export async function loadSettings(cwd: string): Promise<ProjectSettings> {
  const explorer = cosmiconfig('vidra', {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: 'project',
    // JSON and YAML through JSON.parse and the yaml package Vidra already loads, not cosmiconfig's
    // parse-json and js-yaml: two fewer libraries on every start-up.
    loaders: { '.json': loadJson, '.yaml': loadYamlSettings, '.yml': loadYamlSettings, noExt: loadYamlSettings },
  });
  let found;
  try {
    found = await explorer.search(cwd);
  } catch (err) {
    throw new VidraError(`cannot read the project settings: ${(err as Error).message}`, { cause: err });
  }
  const file = found?.filepath ?? null;
  const raw = (found?.config ?? {}) as Record<string, unknown>;
  const where = file ?? 'project settings';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new VidraError(`${where}: the settings must be an object`);
  for (const k of Object.keys(raw)) {
    if (!KEYS.includes(k)) throw new VidraError(`${where}: unknown setting '${k}'; valid settings are ${KEYS.join(', ')}`);
  }
  const str = (k: string, fallback: string): string => {
    const v = raw[k] ?? fallback;
    if (typeof v !== 'string') throw new VidraError(`${where}: '${k}' must be a string`);
    return v;
  };
  const list = (k: string): string[] => {
    const v = raw[k] ?? [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new VidraError(`${where}: '${k}' must be a list of strings`);
    return v as string[];
  };
  const root = file ? dirname(file) : cwd;
  return {
    file,
    root,
    configDir: resolve(root, str('configDir', 'conf')),
    configName: str('configName', 'config'),
    searchPath: list('searchPath').map((p) => resolve(root, p)),
    plugins: list('plugins'),
  };
}
