import { ValidationError } from '../../core/config/errors.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import {
  BATCH_DEFAULTS,
  BATCH_SCHEMA,
  batchCount,
  checkSize,
  chunk,
  randomInt,
  rngFor,
  shuffle,
  type BatchOptions,
  type IndexSampler,
  type IndexSamplerPlugin,
  type Label,
  type SamplerData,
} from './sampler.ts';

export interface ClassBalancedSamplerOptions extends BatchOptions {
  seed: number;
  /** Indices per epoch; null = the dataset size. */
  num_samples: number | null;
  /** 'cycle': reshuffled round-robin over classes and over each class's items; 'iid': independent uniform draws. */
  mode: 'cycle' | 'iid';
  /** Consecutive items drawn from each chosen class (mmdet `num_sample_class`, Decoupling `num_samples_cls`). */
  samples_per_class: number;
}

const DEFAULTS: ClassBalancedSamplerOptions = { ...BATCH_DEFAULTS, seed: 0, num_samples: null, mode: 'cycle', samples_per_class: 1 };

/** A list that is walked in a random order, reshuffled each time it is used up (Decoupling/mmdet `RandomCycleIter`). */
class RandomCycle {
  private readonly items: number[];
  private i: number;
  constructor(
    items: readonly number[],
    private readonly rng: () => number,
  ) {
    this.items = [...items];
    this.i = this.items.length;
  }
  next(): number {
    if (this.i === this.items.length) {
      shuffle(this.items, this.rng);
      this.i = 0;
    }
    return this.items[this.i++]!;
  }
}

/** Class id → the items that count for it. Multi-label: an item counts once for each of its positives. */
export function itemsPerClass(labels: readonly Label[]): Map<number, number[]> {
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const positives = typeof label === 'number' ? [label] : [...new Set(label)];
    for (const c of positives) {
      if (!Number.isInteger(c)) throw new RangeError(`class_balanced sampler: item ${i} has the label ${c}, not a class index`);
      if (c < 0) continue; // −1: unlabelled (e.g. Ego4D test entries)
      let list = byClass.get(c);
      if (!list) byClass.set(c, (list = []));
      list.push(i);
    }
  });
  return new Map([...byClass].sort((a, b) => a[0] - b[0]));
}

/**
 * Class-aware (class-balanced) sampling for long-tailed training: pick a class uniformly among the classes that
 * have items, then an item of that class — every class is drawn equally often whatever its size.
 *
 * `mode: cycle` (default) is the `ClassAwareSampler` of `facebookresearch/classifier-balancing`
 * (`data/ClassAwareSampler.py`, Kang et al. ICLR 2020) and of mmdetection (`datasets/samplers/class_aware_sampler.py`):
 * classes are visited in a random order reshuffled after each round, items of a class likewise, so over
 * k·#classes draws every class appears exactly k times. `mode: iid` draws the class and the item independently.
 * `samples_per_class` items are taken from each chosen class before the next class is drawn.
 *
 * Multi-label (a label is a list of positive class indices): an item is listed under each of its positives, as
 * mmdetection's `get_cat2imgs` does for LVIS/OpenImages — an item with positives {3, 17} can be drawn as a 3 or as a 17.
 * Negative labels (−1) and items without positives are never drawn; classes with no item are skipped.
 */
export class ClassBalancedSampler implements IndexSampler {
  readonly batch_size: number;
  readonly drop_last: boolean;
  readonly numSamples: number;
  readonly numBatches: number;
  /** Class id → its items, ascending class ids. */
  readonly classItems: ReadonlyMap<number, readonly number[]>;
  private readonly options: ClassBalancedSamplerOptions;

  constructor(labels: readonly Label[], options: Partial<ClassBalancedSamplerOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.batch_size = this.options.batch_size;
    this.drop_last = this.options.drop_last;
    this.classItems = itemsPerClass(labels);
    this.numSamples = this.options.num_samples ?? labels.length;
    if (this.numSamples > 0 && this.classItems.size === 0) throw new RangeError('the class_balanced sampler found no labelled item to draw');
    this.numBatches = batchCount(this.numSamples, this.batch_size, this.drop_last);
  }

  /** The indices of an epoch, before batching. */
  indices(epoch: number): number[] {
    const rng = rngFor(this.options.seed, epoch);
    const classes = [...this.classItems.keys()];
    const lists = classes.map((c) => this.classItems.get(c)!);
    const out: number[] = [];
    const per = this.options.samples_per_class;
    if (this.options.mode === 'iid') {
      while (out.length < this.numSamples) {
        const list = lists[randomInt(rng, lists.length)]!;
        for (let j = 0; j < per && out.length < this.numSamples; j++) out.push(list[randomInt(rng, list.length)]!);
      }
      return out;
    }
    const classCycle = new RandomCycle(
      classes.map((_, k) => k),
      rng,
    );
    const itemCycles = lists.map((l) => new RandomCycle(l, rng));
    while (out.length < this.numSamples) {
      const cycle = itemCycles[classCycle.next()]!;
      for (let j = 0; j < per && out.length < this.numSamples; j++) out.push(cycle.next());
    }
    return out;
  }

  batches(epoch: number): Iterable<number[]> {
    return chunk(this.indices(epoch), this.batch_size, this.drop_last);
  }
}

@injectable()
export class ClassBalancedSamplerPlugin implements IndexSamplerPlugin {
  readonly type = 'index' as const;
  constructor(@inject(PLUGIN_CONFIG) readonly options: ClassBalancedSamplerOptions) {}

  bind(data: SamplerData): ClassBalancedSampler {
    const n = checkSize('class_balanced', data);
    if (!data.labels || data.labels.length !== n) {
      throw new ValidationError(`the class_balanced sampler needs data.labels, one label (class index or list of positives) per item (${n} items)`);
    }
    return new ClassBalancedSampler(data.labels, this.options);
  }
}

export const plugin = definePlugin({
  kind: 'sampler',
  name: 'class_balanced',
  description: 'class-aware sampling for long-tailed data: a uniform class, then an item of it (multi-label: an item counts for each positive)',
  schema: {
    type: 'object',
    properties: {
      ...BATCH_SCHEMA,
      seed: { type: 'integer', default: 0 },
      num_samples: { type: ['integer', 'null'], minimum: 0, default: null, description: 'indices per epoch (null: the dataset size)' },
      mode: { enum: ['cycle', 'iid'], default: 'cycle', description: 'cycle: reshuffled round-robin (Decoupling / mmdet ClassAwareSampler); iid: independent draws' },
      samples_per_class: { type: 'integer', minimum: 1, default: 1, description: 'consecutive items per chosen class' },
    },
    additionalProperties: false,
  },
  create: ClassBalancedSamplerPlugin,
});
