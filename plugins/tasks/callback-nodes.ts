// The callbacks a task fires its events at: its built-in ones (train's checkpointing) and those of the config
// node named in `task.nodes.callbacks` (the `callbacks` group: `+callbacks=[early_stopping,metrics_logger]`).
import type { Config } from '../../core/config/config.ts';
import { VidraError } from '../../core/config/errors.ts';
import type { JobContext } from '../../core/plugins/interfaces.ts';
import type { PluginRegistry } from '../../core/plugins/registry.ts';
import { CallbackList, type Callback, type CallbackEvent, type TASK_EVENTS } from '../callbacks/events.ts';
import { pluginAt } from './plugin-nodes.ts';

/** Builds the callbacks of the node at `path` (a map from names to callback nodes; absent: none), after `builtIn`. */
export function taskCallbacks(
  config: Config,
  registry: PluginRegistry,
  task: keyof typeof TASK_EVENTS,
  path: string | null,
  job: JobContext,
  run: { fired?: readonly CallbackEvent[]; builtIn?: Callback[] } = {},
): CallbackList {
  const callbacks: Callback[] = [];
  if (path !== null && config.has(path)) {
    const node = config.resolvedNode(path);
    if (node.kind !== 'dict' || node.entries.has('_target_')) {
      throw new VidraError(`'${path}' must map names to callback nodes (${path}.early_stopping: {_target_: early_stopping, monitor: map}, as +callbacks=early_stopping writes it)`);
    }
    for (const [name, child] of node.entries) {
      // `callbacks.<name>: null` switches a selected callback off.
      if (child.kind === 'value' && child.value === null) continue;
      callbacks.push(pluginAt<Callback>(config, registry, task, `${path}.${name}`, 'callback'));
    }
  }
  return new CallbackList(callbacks, task, job.outputDir, job.log, run);
}
