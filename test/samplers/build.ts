// Builds sampler and strategy plugins from config keys as a config node with `_target_` is built (schema defaults,
// validation, tsyringe), from a registry holding only these plugins.
import { fromPlain, type DictNode } from '../../core/config/node.ts';
import { container } from '../../core/plugins/di.ts';
import { instantiate } from '../../core/plugins/instantiate.ts';
import type { PluginKind } from '../../core/plugins/kinds.ts';
import { PluginRegistry } from '../../core/plugins/registry.ts';
import { samplerPlugins } from '../../plugins/samplers/index.ts';
import { strategyPlugins } from '../../plugins/strategies/index.ts';

const registry = new PluginRegistry();
for (const def of [...samplerPlugins, ...strategyPlugins]) registry.register(def);

export function build<T>(kind: PluginKind, name: string, options: Record<string, unknown> = {}): T {
  const node = fromPlain({ ...options, _target_: name }, { file: `${kind} '${name}'`, line: 0, col: 0 }) as DictNode;
  return instantiate<T>(node, { container, registry, kind, path: kind }) as T;
}
