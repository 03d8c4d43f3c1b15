import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import {
  BATCH_DEFAULTS,
  BATCH_SCHEMA,
  batchCount,
  checkSize,
  chunk,
  type BatchOptions,
  type IndexSampler,
  type IndexSamplerPlugin,
  type SamplerData,
} from './sampler.ts';

/** torch `SequentialSampler` + `BatchSampler`: 0, 1, …, n − 1 in order, the same every epoch (evaluation). */
export class SequentialSampler implements IndexSampler {
  readonly batch_size: number;
  readonly drop_last: boolean;
  readonly numSamples: number;
  readonly numBatches: number;

  constructor(
    readonly size: number,
    options: Partial<BatchOptions> = {},
  ) {
    const o = { ...BATCH_DEFAULTS, ...options };
    this.batch_size = o.batch_size;
    this.drop_last = o.drop_last;
    this.numSamples = size;
    this.numBatches = batchCount(size, this.batch_size, this.drop_last);
  }

  *indices(): Generator<number> {
    for (let i = 0; i < this.size; i++) yield i;
  }

  batches(_epoch = 0): Iterable<number[]> {
    return chunk(this.indices(), this.batch_size, this.drop_last);
  }
}

@injectable()
export class SequentialSamplerPlugin implements IndexSamplerPlugin {
  readonly type = 'index' as const;
  constructor(@inject(PLUGIN_CONFIG) readonly options: BatchOptions) {}

  bind(data: SamplerData): SequentialSampler {
    return new SequentialSampler(checkSize('sequential', data), this.options);
  }
}

export const plugin = definePlugin({
  kind: 'sampler',
  name: 'sequential',
  description: 'dataset order, every epoch the same (torch SequentialSampler)',
  schema: { type: 'object', properties: { ...BATCH_SCHEMA }, additionalProperties: false },
  create: SequentialSamplerPlugin,
});
