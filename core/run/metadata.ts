// Where a run directory keeps its metadata (config.yaml, vidra.yaml, …): `.vidra`, or the folder its
// `vidra.output_subdir` named.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { toPlain } from '../config/node.ts';
import { loadYaml } from '../config/yaml-load.ts';

/** The `vidra` node a run recorded in the vidra.yaml of its metadata folder `meta`. */
export function recordedVidra(meta: string): Record<string, unknown> {
  const file = join(meta, 'vidra.yaml');
  const node = loadYaml(readFileSync(file, 'utf8'), file).node.entries.get('vidra');
  return node?.kind === 'dict' ? (toPlain(node) as Record<string, unknown>) : {};
}

const isMeta = (d: string) => existsSync(join(d, 'config.yaml')) && existsSync(join(d, 'vidra.yaml'));

/**
 * The metadata folder of the run in `dir`: `.vidra`, or the one its own `vidra.yaml` names as
 * `vidra.output_subdir` (found among the run directory's subfolders, two levels down at most); null if none.
 */
export function findMetadataDir(dir: string): string | null {
  const standard = join(dir, '.vidra');
  if (isMeta(standard)) return standard;
  const subdirs = (d: string): string[] => {
    try {
      return readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(d, e.name)).sort();
    } catch {
      return [];
    }
  };
  for (const candidate of subdirs(dir).flatMap((d) => [d, ...subdirs(d)])) {
    if (!isMeta(candidate)) continue;
    const subdir = recordedVidra(candidate).output_subdir;
    if (typeof subdir === 'string' && resolve(dir, subdir) === candidate) return candidate;
  }
  return null;
}
