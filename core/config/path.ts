import type { ConfigNode } from './node.ts';

/** Splits `a.b[0].c` / `a.b.0.c` into keys. An empty string is the root. */
export function parsePath(path: string): string[] {
  if (path === '') return [];
  const keys: string[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[\]]*)((?:\[[^\]]*\])*)$/.exec(part);
    if (!m) {
      keys.push(part);
      continue;
    }
    if (m[1] !== '' || !m[2]) keys.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[([^\]]*)\]/g)) keys.push(idx[1]!);
  }
  return keys;
}

export function joinPath(keys: readonly string[]): string {
  return keys.join('.');
}

/** The child of a container by key (list indices as decimal strings), without resolving anything. */
export function child(node: ConfigNode, key: string): ConfigNode | undefined {
  if (node.kind === 'dict') return node.entries.get(key);
  if (node.kind === 'list') {
    if (!/^-?\d+$/.test(key)) return undefined;
    const i = Number(key);
    return node.items[i < 0 ? node.items.length + i : i];
  }
  return undefined;
}

/** Walks raw nodes along a key path (no interpolation is followed). */
export function lookup(root: ConfigNode, keys: readonly string[]): ConfigNode | undefined {
  let node: ConfigNode | undefined = root;
  for (const k of keys) {
    if (node === undefined) return undefined;
    node = child(node, k);
  }
  return node;
}
