import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import {
  BATCH_DEFAULTS,
  BATCH_SCHEMA,
  batchCount,
  checkSize,
  chunk,
  permutation,
  randomInt,
  rngFor,
  type BatchOptions,
  type IndexSampler,
  type IndexSamplerPlugin,
  type SamplerData,
} from './sampler.ts';

export interface RandomSamplerOptions extends BatchOptions {
  seed: number;
  /** Draw with replacement (i.i.d. uniform indices). */
  replacement: boolean;
  /** Indices per epoch; null = the dataset size. */
  num_samples: number | null;
}

const DEFAULTS: RandomSamplerOptions = { ...BATCH_DEFAULTS, seed: 0, replacement: false, num_samples: null };

/**
 * torch `RandomSampler(data, replacement, num_samples)` + `BatchSampler`, seeded by (seed, epoch):
 * - without replacement: a fresh permutation of 0..n−1 each epoch; when num_samples > n, torch's order —
 *   ⌊num_samples / n⌋ whole permutations, then the first num_samples mod n of one more;
 * - with replacement: num_samples i.i.d. uniform indices.
 * Every epoch differs, and epoch e is the same whenever it is replayed.
 */
export class RandomSampler implements IndexSampler {
  readonly batch_size: number;
  readonly drop_last: boolean;
  readonly numSamples: number;
  readonly numBatches: number;
  private readonly options: RandomSamplerOptions;

  constructor(
    readonly size: number,
    options: Partial<RandomSamplerOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.batch_size = this.options.batch_size;
    this.drop_last = this.options.drop_last;
    this.numSamples = this.options.num_samples ?? size;
    if (this.numSamples > 0 && size === 0) throw new RangeError('the random sampler cannot draw from an empty dataset');
    this.numBatches = batchCount(this.numSamples, this.batch_size, this.drop_last);
  }

  /** The indices of an epoch, before batching. */
  indices(epoch: number): number[] {
    const rng = rngFor(this.options.seed, epoch);
    const n = this.size;
    const out: number[] = [];
    if (this.options.replacement) {
      for (let k = 0; k < this.numSamples; k++) out.push(randomInt(rng, n));
      return out;
    }
    for (let k = 0; k < Math.floor(this.numSamples / n); k++) out.push(...permutation(n, rng));
    const rest = this.numSamples % n;
    if (rest > 0) out.push(...permutation(n, rng).slice(0, rest));
    return out;
  }

  batches(epoch: number): Iterable<number[]> {
    return chunk(this.indices(epoch), this.batch_size, this.drop_last);
  }
}

@injectable()
export class RandomSamplerPlugin implements IndexSamplerPlugin {
  readonly type = 'index' as const;
  constructor(@inject(PLUGIN_CONFIG) readonly options: RandomSamplerOptions) {}

  bind(data: SamplerData): RandomSampler {
    return new RandomSampler(checkSize('random', data), this.options);
  }
}

export const plugin = definePlugin({
  kind: 'sampler',
  name: 'random',
  description: 'seeded random order each epoch (torch RandomSampler), optionally with replacement',
  schema: {
    type: 'object',
    properties: {
      ...BATCH_SCHEMA,
      seed: { type: 'integer', default: 0, description: 'base seed; epoch e uses a stream derived from (seed, e)' },
      replacement: { type: 'boolean', default: false, description: 'draw i.i.d. indices instead of permutations' },
      num_samples: { type: ['integer', 'null'], minimum: 0, default: null, description: 'indices per epoch (null: the dataset size)' },
    },
    additionalProperties: false,
  },
  create: RandomSamplerPlugin,
});
