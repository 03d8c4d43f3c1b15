// Helpers for the metric tests: a seeded RNG and building metric plugins from config keys as a config node would.
import { fromPlain, type DictNode } from '../../core/config/node.ts';
import { container } from '../../core/plugins/di.ts';
import { instantiate } from '../../core/plugins/instantiate.ts';
import { PluginRegistry } from '../../core/plugins/registry.ts';
import { metricPlugins } from '../../plugins/metrics/index.ts';
import type { Metric } from '../../plugins/metrics/metric.ts';

/** mulberry32: deterministic numbers in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
