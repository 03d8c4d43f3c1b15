import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Creates a fresh directory at `path`, or at `path_1`, `path_2`, … when it exists: mkdir of the last
 * component is atomic, so two runs started in the same second never share a directory.
 */
export function createUniqueDir(path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? path : `${path}_${i}`;
    try {
      mkdirSync(candidate);
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
