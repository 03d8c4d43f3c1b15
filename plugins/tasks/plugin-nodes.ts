// How tasks build the plugins they use: from a node of the job's config (named in `task.nodes`), or by name
// with options (a sampler, the metrics), always through the registry and its schema validation.
import type { Config } from '../../core/config/config.ts';
import { VidraError } from '../../core/config/errors.ts';
import { fromPlain, type DictNode } from '../../core/config/node.ts';
import { container } from '../../core/plugins/di.ts';
import { instantiate } from '../../core/plugins/instantiate.ts';
import type { PluginKind } from '../../core/plugins/kinds.ts';
import type { PluginRegistry } from '../../core/plugins/registry.ts';

/** The `task.nodes` key that names where a kind's node is. */
const nodesKey = (kind: PluginKind) => (kind === 'dataset' ? 'data' : kind);

/** Builds the plugin of the node at `path`; `task` names the task in the error when there is none. */
export function pluginAt<T>(config: Config, registry: PluginRegistry, task: string, path: string, kind: PluginKind): T {
  if (!config.has(path)) throw new VidraError(`the ${task} task needs a ${kind} at '${path}' (task.nodes); the config has none there`);
  const node = config.resolvedNode(path) as DictNode;
  if (node.kind !== 'dict' || !node.entries.has('_target_')) {
    throw new VidraError(`'${path}' must name a ${kind} plugin with _target_ (set task.nodes.${nodesKey(kind)} to the node that does)`);
  }
  return pluginIn<T>(node, registry, path, kind);
}

/** Builds the plugin of a resolved node (e.g. one the task completed); `path` names it in errors. */
export function pluginIn<T>(node: DictNode, registry: PluginRegistry, path: string, kind: PluginKind): T {
  return instantiate<T>(node, { container: container.createChildContainer(), registry, kind, path }) as T;
}

/** Builds a plugin by name from its config keys (validated like a config node). */
export function pluginNamed<T>(registry: PluginRegistry, kind: PluginKind, name: string, options: Record<string, unknown>): T {
  return instantiate<T>(fromPlain({ _target_: name, ...options }) as DictNode, { container, registry, kind, path: `task (${kind} ${name})` }) as T;
}
