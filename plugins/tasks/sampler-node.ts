// The train task's index sampler: the node at `task.nodes.sampler` (the `sampler` config group,
// `+sampler=class_balanced`), else `random`. The task owns what the compiled step depends on: every batch
// has task.batch_size rows (drop_last), and the job's seed is the sampler's unless its node sets one.

import type { Config } from '../../core/config/config.ts';
import { VidraError } from '../../core/config/errors.ts';
import { fromPlain, toPlain, type DictNode } from '../../core/config/node.ts';
import type { PluginRegistry } from '../../core/plugins/registry.ts';
import type { Batched } from '../datasets/dataset.ts';
import type { IndexSampler, IndexSamplerPlugin, Label, SamplerData } from '../samplers/sampler.ts';
import { pluginIn, pluginNamed } from './plugin-nodes.ts';

/** What the sampler may ask of the training split; labels are read only when asked (class_balanced). */
export interface SamplerSource {
  size: number;
  labels: () => Label[];
}

export function trainSampler(config: Config, registry: PluginRegistry, path: string | null, o: { seed: number; batchSize: number }, source: SamplerSource): IndexSampler {
  if (path === null || !config.has(path) || config.select(path) === null) {
    return pluginNamed<IndexSamplerPlugin>(registry, 'sampler', 'random', { seed: o.seed, batch_size: o.batchSize, drop_last: true }).bind({ size: source.size });
  }
  const node = toPlain(config.resolvedNode(path)) as Record<string, unknown>;
  if (typeof node._target_ !== 'string') throw new VidraError(`'${path}' must name a sampler plugin with _target_ (e.g. +sampler=class_balanced), or set task.nodes.sampler=null for random batches`);
  if (node.batch_size !== undefined && node.batch_size !== o.batchSize) {
    throw new VidraError(`${path}.batch_size=${String(node.batch_size)}, but the train task's batches have task.batch_size=${o.batchSize} rows (the compiled step's shape): leave ${path}.batch_size out, or set task.batch_size`);
  }
  if (node.drop_last === false) {
    throw new VidraError(`${path}.drop_last=false: every training batch has task.batch_size=${o.batchSize} rows (one compiled step), so an epoch's last incomplete batch is always dropped; leave ${path}.drop_last out`);
  }
  const schema = registry.has(node._target_, 'sampler') ? (registry.get(node._target_, 'sampler').schema as { properties?: Record<string, unknown> }) : {};
  const seeded = schema.properties && 'seed' in schema.properties && node.seed === undefined ? { seed: o.seed } : {};
  const plugin = pluginIn<IndexSamplerPlugin | { type: string }>(fromPlain({ ...node, ...seeded, batch_size: o.batchSize, drop_last: true }) as DictNode, registry, path, 'sampler');
  if (plugin.type !== 'index') {
    throw new VidraError(`'${path}' (${node._target_}) cuts clips from videos; the train task draws dataset indices: use an index sampler (random, sequential, class_balanced)`);
  }
  let labels: Label[] | undefined;
  const data: SamplerData = {
    size: source.size,
    get labels() {
      return (labels ??= source.labels());
    },
  };
  return (plugin as IndexSamplerPlugin).bind(data);
}

/** Every sample's label of `target`: a class index, or a multi-hot row's positives (a −1 index or a row without positives is unlabelled: class_balanced never draws it). */
export function splitLabels(read: (indices: number[]) => { targets: Record<string, Batched<Float32Array | Int32Array>> }, size: number, target: string): Label[] {
  const out: Label[] = [];
  for (let s = 0; s < size; s += 1024) {
    const idx = Array.from({ length: Math.min(1024, size - s) }, (_, k) => s + k);
    const t = read(idx).targets[target];
    if (!t) throw new VidraError(`the sampler needs each sample's '${target}' (task.target), and the training split has no such target`);
    const width = t.shape.length > 1 ? t.shape[1]! : 1;
    for (let b = 0; b < idx.length; b++) {
      if (t.shape.length === 1) out.push(t.data[b]!);
      else {
        const row = t.data.subarray(b * width, (b + 1) * width);
        const positives: number[] = [];
        row.forEach((v, c) => v > 0.5 && positives.push(c));
        out.push(positives);
      }
    }
  }
  return out;
}
