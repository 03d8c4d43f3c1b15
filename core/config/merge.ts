import { ConfigTypeError } from './errors.ts';
import { DictNode, formatLoc, isMissing, type ConfigNode } from './node.ts';

/**
 * OmegaConf merge of `src` over `dest`: dicts merge deeply (dest's key order, then new keys),
 * lists replace, `???` never replaces a value, null and scalars replace containers.
 * Merging a dict into a list or a list into a dict is an error, as in OmegaConf.
 * Nodes are immutable: the result shares every untouched subtree with its inputs.
 */
export function merge(dest: ConfigNode, src: ConfigNode, path = ''): ConfigNode {
  if (isMissing(src) && !isMissing(dest)) return dest;
  if (dest.kind === 'dict' && src.kind === 'dict') return mergeDicts(dest, src, path);
  if ((dest.kind === 'dict' && src.kind === 'list') || (dest.kind === 'list' && src.kind === 'dict')) {
    throw new ConfigTypeError(
      `cannot merge a ${src.kind} into the ${dest.kind} at '${path || '<root>'}' (defined at ${formatLoc(dest.loc)})`,
      { loc: src.loc },
    );
  }
  return src;
}

function mergeDicts(dest: DictNode, src: DictNode, path: string): DictNode {
  if (src.entries.size === 0) return dest;
  if (dest.entries.size === 0) return src;
  const entries = new Map(dest.entries);
  for (const [key, value] of src.entries) {
    const existing = entries.get(key);
    entries.set(key, existing === undefined ? value : merge(existing, value, path ? `${path}.${key}` : key));
  }
  return new DictNode(entries, dest.loc ?? src.loc);
}

/** Wraps `node` so that it sits at `pkg` (a dot path; '' is the root). */
export function atPackage(node: DictNode, pkg: string): DictNode {
  if (pkg === '') return node;
  const keys = pkg.split('.');
  let out: DictNode = node;
  for (let i = keys.length - 1; i >= 0; i--) out = new DictNode(new Map([[keys[i]!, out]]), node.loc);
  return out;
}
