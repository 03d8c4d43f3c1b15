import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The installed vidra package's root (works from sources and from the dist bundle alike). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'vidra') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot locate the vidra package root');
    dir = up;
  }
}

/** Vidra's own config groups (`vidra/launcher`, `vidra/sweeper`), last on every search path. */
export function builtinConfigDir(): string {
  return join(packageRoot(), 'core', 'conf');
}

export function packageVersion(): string {
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version as string;
}
