import type { DependencyContainer } from './di.ts';
import { VidraError } from '../config/errors.ts';
import { formatLoc, toPlain, type ConfigNode, type DictNode } from '../config/node.ts';
import type { PluginKind } from './kinds.ts';
import type { PluginRegistry } from './registry.ts';
import { PLUGIN_ARGS, PLUGIN_CONFIG } from './tokens.ts';
import { validatePluginNode } from './validate.ts';

export interface InstantiateOptions {
  container: DependencyContainer;
  registry: PluginRegistry;
  /** Restricts the lookup of `_target_` to one registry. */
  kind?: PluginKind;
  /** Dot path of the node, for messages. */
  path?: string;
  /** Call-site values that override the config's (Hydra's instantiate kwargs). */
  overrides?: Record<string, unknown>;
}

/** A `_partial_: true` node builds to a factory that takes the missing values at call time. */
export type PartialFactory<T> = (overrides?: Record<string, unknown>) => T;

/** Raised when a plugin's constructor throws; keeps the real error as the message and the cause. */
export class InstantiationError extends VidraError {}

/**
 * Builds the plugin a resolved config node names with `_target_`, through a child tsyringe container:
 * nested plugin nodes first (`_recursive_`, default true), then this one, with its validated config
 * injected as PLUGIN_CONFIG and `_args_` as PLUGIN_ARGS.
 */
export function instantiate<T = unknown>(node: DictNode, options: InstantiateOptions): T | PartialFactory<T> {
  const path = options.path ?? '';
  const target = node.entries.get('_target_');
  if (!target || target.kind !== 'value' || typeof target.value !== 'string') {
    throw new VidraError(`'${path || '<root>'}' has no _target_ naming a plugin`, { loc: node.loc });
  }
  let def;
  try {
    def = options.registry.get(target.value, options.kind);
  } catch (err) {
    throw new VidraError((err as Error).message, { loc: target.loc, cause: err });
  }
  const params = validatePluginNode({ path, node, def });
  const recursive = flag(node, '_recursive_', true);
  const partial = flag(node, '_partial_', false);
  const argsNode = node.entries.get('_args_');
  if (recursive) {
    for (const [k, v] of node.entries) {
      if (k.startsWith('_') && k.endsWith('_')) continue;
      params[k] = buildNested(v, { ...options, kind: undefined, overrides: undefined, path: path ? `${path}.${k}` : k }, params[k]);
    }
  }
  const args = argsNode?.kind === 'list' ? argsNode.items.map((n, i) => buildNested(n, { ...options, path: `${path}._args_[${i}]` }, toPlain(n))) : [];

  const build = (extra?: Record<string, unknown>): T => {
    const child = options.container.createChildContainer();
    child.register(PLUGIN_CONFIG, { useValue: { ...params, ...options.overrides, ...extra } });
    child.register(PLUGIN_ARGS, { useValue: args });
    try {
      return child.resolve(def.create) as T;
    } catch (err) {
      if (err instanceof VidraError) throw err;
      const e = err as Error;
      throw new InstantiationError(
        `building the ${def.kind} plugin '${def.name}' at '${path || '<root>'}' (${formatLoc(node.loc)}) failed: ${e.message}`,
        { cause: err },
      );
    }
  };
  return partial ? build : build();
}

function flag(node: DictNode, key: string, fallback: boolean): boolean {
  const v = node.entries.get(key);
  if (v === undefined) return fallback;
  if (v.kind === 'value' && v.type === 'bool') return v.value as boolean;
  throw new VidraError(`'${key}' must be true or false`, { loc: v.loc });
}

function buildNested(node: ConfigNode, options: InstantiateOptions, current: unknown): unknown {
  if (node.kind === 'dict' && node.entries.has('_target_')) return instantiate(node, options);
  if (node.kind === 'dict') {
    if (![...node.entries.values()].some(containsTarget)) return current;
    const out: Record<string, unknown> = { ...(current as Record<string, unknown>) };
    for (const [k, v] of node.entries) out[k] = buildNested(v, { ...options, path: `${options.path}.${k}` }, out[k]);
    return out;
  }
  if (node.kind === 'list') {
    if (!node.items.some(containsTarget)) return current;
    const arr = current as unknown[];
    return node.items.map((v, i) => buildNested(v, { ...options, path: `${options.path}[${i}]` }, arr[i]));
  }
  return current;
}

function containsTarget(node: ConfigNode): boolean {
  if (node.kind === 'dict') return node.entries.has('_target_') || [...node.entries.values()].some(containsTarget);
  if (node.kind === 'list') return node.items.some(containsTarget);
  return false;
}
