import { VidraError } from '../core/config/errors.ts';
import { fromPlain, type DictNode } from '../core/config/node.ts';
import { container } from '../core/plugins/di.ts';
import { instantiate } from '../core/plugins/instantiate.ts';
import type { PluginKind } from '../core/plugins/kinds.ts';
import { PluginRegistry } from '../core/plugins/registry.ts';
import { builtinPlugins } from './index.ts';

let registry: PluginRegistry | undefined;

/** The built-in plugins' registry, for building plugins from code (tests, notebooks, benchmarks). */
export function builtinRegistry(): PluginRegistry {
  if (!registry) {
    registry = new PluginRegistry();
    for (const def of builtinPlugins) registry.register(def);
  }
  return registry;
}

/**
 * Builds a built-in plugin from its config keys exactly as a config node with `_target_` is built:
 * validated against the plugin's schema (defaults filled in), then instantiated through tsyringe.
 */
export function createPlugin<T>(kind: PluginKind, name: string, options: Record<string, unknown> = {}): T {
  const reg = builtinRegistry();
  const def = reg.get(name, kind);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new VidraError(`the options of the ${def.name} ${kind} must be an object of its config keys`);
  }
  const special = Object.keys(options).filter((k) => k.startsWith('_') && k.endsWith('_'));
  if (special.length) throw new VidraError(`the options of the ${def.name} ${kind} are its config keys only, without ${special.join(', ')}`);
  const loc = { file: `${kind} '${def.name}' options`, line: 0, col: 0 };
  const node = fromPlain({ ...options, _target_: def.name }, loc) as DictNode;
  return instantiate<T>(node, { container, registry: reg, kind, path: kind }) as T;
}
