import { closest, ConfigKeyError, ConfigCompositionError } from '../config/errors.ts';
import { merge } from '../config/merge.ts';
import { DictNode, ListNode, MISSING, ValueNode, type ConfigNode, type SourceLoc } from '../config/node.ts';
import { parsePath } from '../config/path.ts';
import { formatOverrideValue } from '../overrides/parse.ts';
import type { ParsedOverride } from '../overrides/types.ts';

/**
 * Re-stamps every node of an override's value with the override as its source, for error messages.
 * A `???` string becomes the missing marker, as assigning '???' does in OmegaConf (`seed=???`).
 */
export function stampLoc(node: ConfigNode, loc: SourceLoc): ConfigNode {
  switch (node.kind) {
    case 'value':
      return new ValueNode(node.value, node.type === 'str' && node.value === MISSING ? 'missing' : node.type, loc);
    case 'list':
      return new ListNode(node.items.map((n) => stampLoc(n, loc)), loc);
    case 'dict':
      return new DictNode(new Map([...node.entries].map(([k, v]) => [k, stampLoc(v, loc)])), loc);
  }
}

export function overrideLoc(o: ParsedOverride, index?: number): SourceLoc {
  return { file: `override '${o.text}'${index === undefined ? '' : ` (argument ${index + 1})`}`, line: 0, col: 0 };
}

/** Returns a copy of `root` with `fn` applied at `keys` (fn gets undefined where nothing is). */
function updateIn(
  root: ConfigNode,
  keys: readonly string[],
  fn: (existing: ConfigNode | undefined) => ConfigNode | undefined,
  createMissing: boolean,
  text: string,
): ConfigNode | undefined {
  if (keys.length === 0) return fn(root);
  const [key, ...rest] = keys as [string, ...string[]];
  if (root.kind === 'dict') {
    const existing = root.entries.get(key);
    let childBase = existing;
    if (childBase === undefined && rest.length > 0) {
      if (!createMissing) return undefined;
      childBase = new DictNode(new Map());
    }
    const updated = childBase === undefined ? fn(undefined) : updateIn(childBase, rest, fn, createMissing, text);
    const entries = new Map(root.entries);
    if (updated === undefined) entries.delete(key);
    else entries.set(key, updated);
    return new DictNode(entries, root.loc);
  }
  if (root.kind === 'list') {
    const i = /^-?\d+$/.test(key) ? Number(key) : NaN;
    const idx = i < 0 ? root.items.length + i : i;
    if (!(idx >= 0 && idx < root.items.length)) {
      throw new ConfigKeyError(`Could not apply '${text}': index ${key} is out of range for a list of length ${root.items.length}`);
    }
    const updated = updateIn(root.items[idx]!, rest, fn, createMissing, text);
    const items = [...root.items];
    if (updated === undefined) items.splice(idx, 1);
    else items[idx] = updated;
    return new ListNode(items, root.loc);
  }
  throw new ConfigKeyError(`Could not apply '${text}': '${keys.join('.')}' is below a ${root.type} value, not a dict or list`);
}

function exists(root: ConfigNode, keys: readonly string[]): ConfigNode | undefined {
  let node: ConfigNode | undefined = root;
  for (const k of keys) {
    if (!node) return undefined;
    if (node.kind === 'dict') node = node.entries.get(k);
    else if (node.kind === 'list') node = /^-?\d+$/.test(k) ? node.items[Number(k) < 0 ? node.items.length + Number(k) : Number(k)] : undefined;
    else return undefined;
  }
  return node;
}

/**
 * Applies one value override (not a config-group override) with Hydra's rules:
 * `key=v` needs the key to exist, `+key=v` needs it absent, `++key=v` either way; dict values merge
 * into an existing dict, everything else replaces. `~key` deletes, `~key=v` only if the value matches.
 */
export function applyValueOverride(root: DictNode, o: ParsedOverride, loc: SourceLoc): DictNode {
  const keys = parsePath(o.key);
  const current = exists(root, keys);
  const value = o.value === null ? null : stampLoc(o.value, loc);
  const set = (mergeDict: boolean) => (existing: ConfigNode | undefined) =>
    existing !== undefined && mergeDict && existing.kind === 'dict' && value!.kind === 'dict' ? merge(existing, value!, o.key) : value!;
  let out: ConfigNode | undefined;
  switch (o.type) {
    case 'change': {
      // The composed config is in struct mode, as in Hydra: a dict value may only change keys that exist.
      const added = current === undefined ? null : value !== null ? firstNewKey(current, value) : null;
      if (current === undefined && keys[0] === 'hydra' && !root.entries.has('hydra')) throw hydraOverride(root, keys, o, loc);
      if (current === undefined || added !== null) {
        const near = current === undefined ? nearKeys(root, keys) : nearKeys(root, [...keys, ...added!]);
        throw new ConfigKeyError(`Could not override '${o.key}'. To append to your config use +${o.text}` + near, { loc });
      }
      out = updateIn(root, keys, set(true), false, o.text);
      break;
    }
    case 'add':
      // Hydra 1.3 merges a dict or list added at an existing key (`+optim={nesterov:true}`) rather than refusing it.
      if (current !== undefined && value !== null && value.kind !== 'value') {
        out = updateIn(root, keys, set(true), false, o.text);
        break;
      }
      if (current !== undefined) {
        throw new ConfigKeyError(
          `Could not append to config. An item is already at '${o.key}'. Either remove + prefix: '${o.text.replace(/^\+/, '')}' ` +
            `Or add a second + to add or override '${o.key}': '+${o.text}'`,
          { loc },
        );
      }
      out = updateIn(root, keys, set(false), true, o.text);
      break;
    case 'force_add':
      out = updateIn(root, keys, set(true), true, o.text);
      break;
    case 'delete':
      if (current === undefined) throw new ConfigKeyError(`Could not delete from config. '${o.key}' does not exist.`, { loc });
      if (value !== null && !sameValue(current, value)) {
        throw new ConfigKeyError(
          `Could not delete from config. The value of '${o.key}' is ${describe(current)} and not ${describe(value)}.`,
          { loc },
        );
      }
      out = updateIn(root, keys, () => undefined, false, o.text);
      break;
  }
  if (out === undefined || out.kind !== 'dict') throw new ConfigCompositionError(`the override '${o.text}' would replace the whole config`, { loc });
  return out;
}

/** Hydra's own settings are Vidra's under `vidra` (`hydra.run.dir` is `vidra.run.dir`): say so, rather than suggest `+hydra...`. */
function hydraOverride(root: DictNode, keys: readonly string[], o: ParsedOverride, loc: SourceLoc): ConfigKeyError {
  const vidraKeys = ['vidra', ...keys.slice(1)];
  const vidraText = o.text.replace(/^hydra/, 'vidra');
  const fix = exists(root, vidraKeys)
    ? `Use ${vidraText}`
    : `'${vidraKeys.join('.')}' does not exist either (vidra run --cfg vidra lists them)${nearKeys(root, vidraKeys)}`;
  return new ConfigKeyError(`Could not override '${o.key}': Vidra's own settings are under 'vidra', not 'hydra'. ${fix}`, { loc });
}

/** The path (below the override's key) of the first key that a dict value would add to `current`, or null. */
function firstNewKey(current: ConfigNode, value: ConfigNode): string[] | null {
  if (current.kind !== 'dict' || value.kind !== 'dict') return null;
  for (const [k, v] of value.entries) {
    const existing = current.entries.get(k);
    if (existing === undefined) return [k];
    const below = firstNewKey(existing, v);
    if (below !== null) return [k, ...below];
  }
  return null;
}

function nearKeys(root: DictNode, keys: readonly string[]): string {
  const parent = exists(root, keys.slice(0, -1));
  if (!parent || parent.kind !== 'dict') return '';
  const prefix = keys.slice(0, -1).join('.');
  const near = closest(keys[keys.length - 1]!, parent.entries.keys());
  return near.length ? `\nDid you mean ${near.map((n) => `'${prefix ? `${prefix}.` : ''}${n}'`).join(' or ')}?` : '';
}

function sameValue(a: ConfigNode, b: ConfigNode): boolean {
  return formatOverrideValue(a) === formatOverrideValue(b);
}

function describe(node: ConfigNode): string {
  return formatOverrideValue(node);
}
