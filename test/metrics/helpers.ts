// Helpers for the metric tests: a seeded RNG and building metric plugins from config keys as a config node would.
import { fromPlain, type DictNode } from '../../core/config/node.ts';
import { mulberry32 } from '../../core/random.ts';
import { container } from '../../core/plugins/di.ts';
import { instantiate } from '../../core/plugins/instantiate.ts';
import { PluginRegistry } from '../../core/plugins/registry.ts';
import { metricPlugins } from '../../plugins/metrics/index.ts';
import type { Metric } from '../../plugins/metrics/metric.ts';

/** Deterministic numbers in [0, 1) (the project's seeded generator). */
export const rng = mulberry32;

let registry: PluginRegistry | undefined;

export function metricRegistry(): PluginRegistry {
  if (!registry) {
    registry = new PluginRegistry();
    for (const def of metricPlugins) registry.register(def);
  }
  return registry;
}

/** Builds the metric plugin `name` from its config keys: validated against its schema, defaults filled, through tsyringe. */
export function createMetric<B = unknown>(name: string, options: Record<string, unknown> = {}): Metric<B> {
  const node = fromPlain({ ...options, _target_: name }, { file: `metric '${name}' options`, line: 0, col: 0 }) as DictNode;
  return instantiate<Metric<B>>(node, { container, registry: metricRegistry(), kind: 'metric', path: 'metric' }) as Metric<B>;
}
