// Replay memories with Avalanche's storage policies (`avalanche/training/storage_policy.py`; ml-spec §6).
// They store arbitrary items — in Vidra, samples of features and labels — and draw their randomness from a seeded
// `mulberry32` stream, so a run's memory is reproducible from its seed.

import { mulberry32 } from '../../core/random.ts';

/** A seed, or a uniform stream shared with other buffers. */
export type RandomSource = number | (() => number);

function uniform(source: RandomSource): () => number {
  return typeof source === 'function' ? source : mulberry32(source);
}

/** A replay memory: what a storage policy keeps, and how it reacts to new data and to a new capacity. */
export interface StorageBuffer<T> {
  readonly maxSize: number;
  /** The stored items (a snapshot). */
  readonly buffer: readonly T[];
  /** Adds the items of a (mini-)experience. */
  update(items: readonly T[]): void;
  resize(newSize: number): void;
}

/**
 * Avalanche `ReservoirSamplingBuffer(max_size)`: every new item gets a weight u ~ U(0, 1); the buffer keeps the
 * max_size largest weights among new ∪ stored. Whatever the sizes of the updates, the buffer is a uniform sample without
 * replacement of everything seen (the top-k of i.i.d. uniforms). Items are kept in descending weight order, ties
 * broken new-before-old (concatenation order, as Avalanche's `torch.cat([new, buffer])` then sort).
 * `resize` to a smaller size keeps the highest-weight items.
 */
export class ReservoirBuffer<T> implements StorageBuffer<T> {
  private items: T[] = [];
  private weightList: number[] = [];
  private readonly rng: () => number;

  constructor(
    private size: number,
    seed: RandomSource = 0,
  ) {
    checkCapacity('ReservoirBuffer', size);
    this.rng = uniform(seed);
  }

  get maxSize(): number {
    return this.size;
  }

  get buffer(): readonly T[] {
    return [...this.items];
  }

  /** The weights of the stored items, descending. */
  get weights(): readonly number[] {
    return [...this.weightList];
  }

  get length(): number {
    return this.items.length;
  }

  update(newItems: readonly T[]): void {
    const weights = newItems.map(() => this.rng());
    const catItems = [...newItems, ...this.items];
    const catWeights = [...weights, ...this.weightList];
    const order = catWeights.map((_, i) => i).sort((a, b) => catWeights[b]! - catWeights[a]! || a - b);
    const keep = order.slice(0, this.size);
    this.items = keep.map((i) => catItems[i]!);
    this.weightList = keep.map((i) => catWeights[i]!);
  }

  resize(newSize: number): void {
    checkCapacity('ReservoirBuffer', newSize);
    this.size = newSize;
    if (this.items.length <= newSize) return;
    this.items = this.items.slice(0, newSize);
    this.weightList = this.weightList.slice(0, newSize);
  }
}

/**
 * Avalanche `BalancedExemplarsBuffer.get_group_lengths`: adaptive — max_size // groups each, the remainder one more
 * for the first groups; fixed — max_size // total_num_groups for every group.
 */
export function groupLengths(maxSize: number, numGroups: number, adaptiveSize: boolean, totalNumGroups?: number | null): number[] {
  if (numGroups === 0) return [];
  if (!adaptiveSize) {
    if (!totalNumGroups || totalNumGroups < 1) throw new RangeError('a non-adaptive balanced buffer needs the total number of groups (> 0)');
    return Array.from({ length: numGroups }, () => Math.floor(maxSize / totalNumGroups));
  }
  const lengths = Array.from({ length: numGroups }, () => Math.floor(maxSize / numGroups));
  const rem = maxSize - lengths.reduce((a, b) => a + b, 0);
  for (let i = 0; i < rem; i++) lengths[i]! += 1;
  return lengths;
}

/** A single-label class for ClassBalancedBuffer: `item.target` as an integer (or a one-element list). */
export function targetClass(item: unknown): number {
  const t = (item as { target?: unknown } | null)?.target;
  const c = Array.isArray(t) && t.length === 1 ? t[0] : t;
  if (typeof c === 'number' && Number.isInteger(c)) return c;
  throw new RangeError(
    `the class-balanced buffer groups items by a single class index, but an item has the target ${JSON.stringify(t)}; ` +
      `multi-label samples need a classOf function (or use the reservoir / experience_balanced storage)`,
  );
}

export interface ClassBalancedOptions<T> {
  /** Capacity max_size // #seen_classes (remainder to the first classes); false: max_size // totalNumClasses. */
  adaptiveSize?: boolean;
  totalNumClasses?: number | null;
  seed?: RandomSource;
  /** The class of an item (default: `item.target`). */
  classOf?: (item: T) => number;
}

/**
 * Avalanche `ClassBalancedBuffer(max_size, adaptive_size=True, total_num_classes=None)`: one reservoir per class seen
 * so far. After each update every class gets max_size // #seen_classes slots, the remainder one extra for the first
 * classes (ascending class ids — what Python's set of small ints iterates), or max_size // total_num_classes when
 * not adaptive. As in Avalanche, a class already stored first takes its new items (at its current capacity),
 * then every group is resized to its new capacity.
 */
export class ClassBalancedBuffer<T> implements StorageBuffer<T> {
  readonly adaptiveSize: boolean;
  readonly totalNumClasses: number | null;
  /** Class id → its reservoir, in order of first appearance (the order of `buffer`). */
  readonly groups = new Map<number, ReservoirBuffer<T>>();
  readonly seenClasses = new Set<number>();
  private readonly rng: () => number;
  private readonly classOf: (item: T) => number;

  constructor(
    private size: number,
    options: ClassBalancedOptions<T> = {},
  ) {
    checkCapacity('ClassBalancedBuffer', size);
    this.adaptiveSize = options.adaptiveSize ?? true;
    this.totalNumClasses = options.totalNumClasses ?? null;
    if (!this.adaptiveSize && !(this.totalNumClasses && this.totalNumClasses > 0)) {
      throw new RangeError('ClassBalancedBuffer: adaptiveSize = false needs totalNumClasses > 0');
    }
    this.rng = uniform(options.seed ?? 0);
    this.classOf = options.classOf ?? targetClass;
  }

  get maxSize(): number {
    return this.size;
  }

  get buffer(): readonly T[] {
    return [...this.groups.values()].flatMap((g) => g.buffer);
  }

  /** The capacity of each seen class (ascending class ids). */
  capacities(): Map<number, number> {
    const classes = [...this.seenClasses].sort((a, b) => a - b);
    const lens = groupLengths(this.size, classes.length, this.adaptiveSize, this.totalNumClasses);
    return new Map(classes.map((c, i) => [c, lens[i]!]));
  }

  update(items: readonly T[]): void {
    const byClass = new Map<number, T[]>();
    for (const item of items) {
      const c = this.classOf(item);
      let list = byClass.get(c);
      if (!list) byClass.set(c, (list = []));
      list.push(item);
    }
    for (const c of byClass.keys()) this.seenClasses.add(c);
    if (!this.adaptiveSize && this.seenClasses.size > this.totalNumClasses!) {
      throw new RangeError(`ClassBalancedBuffer: ${this.seenClasses.size} classes seen but totalNumClasses is ${this.totalNumClasses}`);
    }
    const capacity = this.capacities();
    for (const [c, data] of byClass) {
      const existing = this.groups.get(c);
      if (existing) {
        existing.update(data);
        existing.resize(capacity.get(c)!);
      } else {
        const group = new ReservoirBuffer<T>(capacity.get(c)!, this.rng);
        group.update(data);
        this.groups.set(c, group);
      }
    }
    for (const [c, group] of this.groups) group.resize(capacity.get(c)!);
  }

  resize(newSize: number): void {
    checkCapacity('ClassBalancedBuffer', newSize);
    this.size = newSize;
    const capacity = this.capacities();
    for (const [c, group] of this.groups) group.resize(capacity.get(c)!);
  }
}

export interface ExperienceBalancedOptions {
  adaptiveSize?: boolean;
  numExperiences?: number | null;
  seed?: RandomSource;
}

/**
 * Avalanche `ExperienceBalancedBuffer(max_size, adaptive_size=True, num_experiences=None)` (ReplayPlugin's default
 * policy): one reservoir per experience, each update adds a group and rebalances max_size over the groups (the
 * remainder to the first). In an online stream every mini-experience would become a group: use ReservoirBuffer there.
 */
export class ExperienceBalancedBuffer<T> implements StorageBuffer<T> {
  readonly adaptiveSize: boolean;
  readonly numExperiences: number | null;
  readonly groups: ReservoirBuffer<T>[] = [];
  private readonly rng: () => number;

  constructor(
    private size: number,
    options: ExperienceBalancedOptions = {},
  ) {
    checkCapacity('ExperienceBalancedBuffer', size);
    this.adaptiveSize = options.adaptiveSize ?? true;
    this.numExperiences = options.numExperiences ?? null;
    if (!this.adaptiveSize && !(this.numExperiences && this.numExperiences > 0)) {
      throw new RangeError('ExperienceBalancedBuffer: adaptiveSize = false needs numExperiences > 0');
    }
    this.rng = uniform(options.seed ?? 0);
  }

  get maxSize(): number {
    return this.size;
  }

  get buffer(): readonly T[] {
    return this.groups.flatMap((g) => g.buffer);
  }

  update(items: readonly T[]): void {
    const lens = groupLengths(this.size, this.groups.length + 1, this.adaptiveSize, this.numExperiences);
    const group = new ReservoirBuffer<T>(lens[lens.length - 1]!, this.rng);
    group.update(items);
    this.groups.push(group);
    this.groups.forEach((g, i) => g.resize(lens[i]!));
  }

  resize(newSize: number): void {
    checkCapacity('ExperienceBalancedBuffer', newSize);
    this.size = newSize;
    const lens = groupLengths(newSize, this.groups.length, this.adaptiveSize, this.numExperiences);
    this.groups.forEach((g, i) => g.resize(lens[i]!));
  }
}

function checkCapacity(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what}: the size must be a non-negative integer (got ${n})`);
}
