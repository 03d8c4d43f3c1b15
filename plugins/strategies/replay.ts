import { mulberry32 } from '../../core/random.ts';
import { ValidationError } from '../../core/config/errors.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { ClassBalancedBuffer, ExperienceBalancedBuffer, ReservoirBuffer, type StorageBuffer } from './buffers.ts';
import type { Sample, Strategy, StrategyContext, StrategyPlugin } from './events.ts';

export type StoragePolicy = 'reservoir' | 'class_balanced' | 'experience_balanced';

export interface ReplayOptions {
  mem_size: number;
  /** Memory rows appended to each training batch; null = the training batch size (the effective batch doubles). */
  batch_size_mem: number | null;
  storage_policy: StoragePolicy;
  /** Balanced policies: rebalance the capacity over the groups seen so far (else mem_size // total_num_groups). */
  adaptive_size: boolean;
  /** Balanced policies without adaptive_size: the number of classes (class_balanced) or experiences (experience_balanced). */
  total_num_groups: number | null;
  seed: number;
}

const DEFAULTS: ReplayOptions = { mem_size: 200, batch_size_mem: null, storage_policy: 'experience_balanced', adaptive_size: true, total_num_groups: null, seed: 0 };

/**
 * Experience replay with Avalanche `ReplayPlugin(mem_size=200, batch_size_mem=None, storage_policy=None)` semantics
 * (`avalanche/training/plugins/replay.py`, `benchmarks/utils/data_loader.py::ReplayDataLoader`; ml-spec §6), storing
 * samples (features + labels) rather than images:
 *
 * - before_training_exp: the memory is frozen for the experience; when it is empty (the first experience) training
 *   runs without memory.
 * - before_training_iteration: `batch_size_mem` memory rows (default: the training batch size, so the effective batch
 *   doubles) are appended to `ctx.batch` (`batch.memory` counts them). As Avalanche's memory DataLoader
 *   (`shuffle=True, drop_last=False`, restarted when exhausted, a new iterator each epoch): the memory is walked in a
 *   random order, a smaller last batch when it does not divide, then reshuffled; each epoch starts a new order.
 * - after_training_exp: the storage policy takes the experience's items.
 *
 * storage_policy: `experience_balanced` (Avalanche's default `ExperienceBalancedBuffer(mem_size, adaptive_size=True)`),
 * `class_balanced` (`ClassBalancedBuffer`, single-label targets) or `reservoir` (`ReservoirSamplingBuffer`).
 * Online continual learning (Avalanche OCL, EgoAdapt user streams: each mini-batch is a mini-experience, so
 * after_training_exp runs after every mini-batch) needs `reservoir`: the memory stays a uniform sample of the whole
 * stream, whereas experience_balanced would open one group per mini-batch and keep only the last mem_size batches'
 * worth of tiny groups — a warning says so when an online experience meets that policy.
 * Not carried over: Avalanche's task-balanced memory loader (Vidra streams have no task labels).
 */
@injectable()
export class ReplayPlugin implements StrategyPlugin, Strategy {
  readonly name = 'replay';
  readonly options: ReplayOptions;
  readonly storage: StorageBuffer<Sample>;
  private readonly rng: () => number;
  private memory: readonly Sample[] = [];
  private order: number[] = [];
  private cursor = 0;
  private warnedOnline = false;

  constructor(@inject(PLUGIN_CONFIG) options: Partial<ReplayOptions> = {}) {
    const o = (this.options = { ...DEFAULTS, ...options });
    if (!o.adaptive_size && o.storage_policy !== 'reservoir' && !(o.total_num_groups && o.total_num_groups > 0)) {
      throw new ValidationError(
        `replay: adaptive_size=false with storage_policy=${o.storage_policy} needs total_num_groups (the number of ${o.storage_policy === 'class_balanced' ? 'classes' : 'experiences'})`,
      );
    }
    const opts = { adaptiveSize: o.adaptive_size, seed: o.seed };
    this.storage =
      o.storage_policy === 'reservoir'
        ? new ReservoirBuffer<Sample>(o.mem_size, o.seed)
        : o.storage_policy === 'class_balanced'
          ? new ClassBalancedBuffer<Sample>(o.mem_size, { ...opts, totalNumClasses: o.total_num_groups })
          : new ExperienceBalancedBuffer<Sample>(o.mem_size, { ...opts, numExperiences: o.total_num_groups });
    // The loader's shuffles use their own stream, so the memory contents do not depend on how many batches were drawn.
    this.rng = mulberry32((o.seed ^ 0x5bd1e995) >>> 0);
  }

  get plugins(): readonly StrategyPlugin[] {
    return [this];
  }

  /** The memory used by the current experience (empty: no replay). */
  get activeMemory(): readonly Sample[] {
    return this.memory;
  }

  before_training_exp(ctx: StrategyContext): void {
    this.memory = this.storage.buffer;
    this.newPass();
    if (ctx.experience?.online && this.options.storage_policy === 'experience_balanced' && !this.warnedOnline) {
      this.warnedOnline = true;
      ctx.warn?.(
        'replay: storage_policy=experience_balanced on an online stream makes one memory group per mini-experience; ' +
          'use storage_policy=reservoir for online continual learning (a uniform sample of the whole stream)',
      );
    }
  }

  before_training_epoch(): void {
    this.newPass();
  }

  before_training_iteration(ctx: StrategyContext): void {
    const batch = ctx.batch;
    if (!batch || this.memory.length === 0) return;
    const size = this.options.batch_size_mem ?? ctx.trainBatchSize ?? batch.inputs.length - batch.memory;
    if (size <= 0) return;
    if (this.cursor >= this.order.length) this.newPass();
    const rows = this.order.slice(this.cursor, this.cursor + size);
    this.cursor += rows.length;
    for (const r of rows) {
      const s = this.memory[r]!;
      batch.inputs.push(s.input);
      batch.targets.push(s.target);
    }
    batch.memory += rows.length;
  }

  after_training_exp(ctx: StrategyContext): void {
    if (ctx.experience) this.storage.update(ctx.experience.items);
  }

  /** A new shuffled walk over the memory (a new DataLoader iterator). */
  private newPass(): void {
    this.order = Array.from({ length: this.memory.length }, (_, i) => i);
    for (let i = this.order.length - 1; i > 0; i--) {
      const j = Math.min(i, Math.floor(this.rng() * (i + 1)));
      [this.order[i], this.order[j]] = [this.order[j]!, this.order[i]!];
    }
    this.cursor = 0;
  }
}

export const plugin = definePlugin({
  kind: 'strategy',
  name: 'replay',
  description: 'experience replay of stored samples (Avalanche ReplayPlugin): memory rows appended to every batch',
  schema: {
    type: 'object',
    properties: {
      mem_size: { type: 'integer', minimum: 0, default: 200, description: 'samples kept in memory' },
      batch_size_mem: { type: ['integer', 'null'], minimum: 1, default: null, description: 'memory rows per batch (null: the training batch size)' },
      storage_policy: {
        enum: ['experience_balanced', 'class_balanced', 'reservoir'],
        default: 'experience_balanced',
        description: 'what to keep: per-experience reservoirs (Avalanche default), per-class reservoirs, or one reservoir (online streams)',
      },
      adaptive_size: { type: 'boolean', default: true, description: 'balanced policies: split mem_size over the groups seen so far' },
      total_num_groups: { type: ['integer', 'null'], minimum: 1, default: null, description: 'balanced policies without adaptive_size: number of classes / experiences' },
      seed: { type: 'integer', default: 0 },
    },
    additionalProperties: false,
  },
  create: ReplayPlugin,
});
