// How the continual task scores its model on user streams: the online_user metric (each online batch predicted
// by the model so far and by the population model, before the update) and the continual metric (every user's
// stream evaluated before training and after each user: the accuracy matrix).
import { VidraError } from '../../core/config/errors.ts';
import type { ForwardRunner } from '../../core/engine/forward.ts';
import type { PluginRegistry } from '../../core/plugins/registry.ts';
import type { ContinualMetric } from '../metrics/continual.ts';
import type { OnlineUserMetric } from '../metrics/online.ts';
import { itemBatches, type StrategyTemplate } from '../strategies/template.ts';
import { pluginNamed } from './plugin-nodes.ts';
import { crossEntropy, sectionScores, type TargetColumns } from './targets.ts';
import type { StreamSample, UserStream } from './user-streams.ts';

type Params = Record<string, { data: Float32Array | Float64Array }>;

interface Predictions {
  logits: Float32Array;
  width: number;
}

export interface StreamMetricOptions {
  metrics: readonly string[];
  /** Whether streams are evaluated for the continual metric at all (`evaluate_streams`, not `reset_per_user`). */
  evaluateStreams: boolean;
}

export class StreamScoring {
  private readonly online: OnlineUserMetric | null;
  /** One continual metric per target (its accuracy matrix). */
  private readonly continual: ContinualMetric[] | null;
  private readonly verb: TargetColumns;
  private readonly noun: TargetColumns;

  constructor(
    private readonly forward: ForwardRunner,
    private readonly inputName: string,
    private readonly layout: readonly TargetColumns[],
    /** The population model's parameters (online_user's reference for OAG). */
    private readonly population: Params,
    registry: PluginRegistry,
    o: StreamMetricOptions,
  ) {
    this.online = o.metrics.includes('online_user') ? pluginNamed<OnlineUserMetric>(registry, 'metric', 'online_user', {}) : null;
    this.continual = o.evaluateStreams && o.metrics.includes('continual') ? layout.map(() => pluginNamed<ContinualMetric>(registry, 'metric', 'continual', {})) : null;
    // online_user's targets (checkStreamMetrics made sure both exist when it is asked for).
    this.verb = layout.find((l) => l.name === 'verb')!;
    this.noun = layout.find((l) => l.name === 'noun')!;
  }

  get evaluatesStreams(): boolean {
    return this.continual !== null;
  }

  /** online_user: the user's new rows as the current model and the population model predict them. */
  async observe(user: string, rows: readonly Float32Array[], targets: readonly number[][], current: () => Params): Promise<void> {
    if (!this.online) return;
    const now = await this.predict(current(), rows);
    const pop = await this.predict(this.population, rows);
    const scoresOf = (p: Predictions, r: number, l: TargetColumns) => sectionScores(p.logits, p.width, r, l.sections[0]!);
    const lossOf = (p: Predictions, r: number) => this.layout.reduce((s, l) => s + crossEntropy(scoresOf(p, r, l), targets[r]![l.column]!), 0);
    this.online.update({
      users: user,
      verbScores: rows.map((_, r) => scoresOf(now, r, this.verb)),
      nounScores: rows.map((_, r) => scoresOf(now, r, this.noun)),
      verbLabels: rows.map((_, r) => targets[r]![this.verb.column]!),
      nounLabels: rows.map((_, r) => targets[r]![this.noun.column]!),
      populationLosses: rows.map((_, r) => lossOf(pop, r)),
      losses: rows.map((_, r) => lossOf(now, r)),
    });
  }

  /**
   * continual: every stream evaluated with `params` through the strategy template's eval loop, as the column
   * of the accuracy matrix after training on stream `trainedUser` (-1: before any). Returns the values so far.
   */
  async evaluate(template: StrategyTemplate<StreamSample>, streams: readonly UserStream[], params: Params, trainedUser: number): Promise<Record<string, number>> {
    const continual = this.continual;
    if (!continual) return {};
    await template.eval(
      streams.map((s, j) => ({ id: j, user: s.id, items: s.samples })),
      {
        batches: (exp) => itemBatches(exp.items, this.forward.batchSize),
        predict: async (ctx) => {
          const { logits, width } = await this.predict(params, ctx.batch!.inputs);
          this.layout.forEach((l, t) =>
            continual[t]!.update({
              scores: ctx.batch!.inputs.map((_, r) => sectionScores(logits, width, r, l.sections[0]!)),
              labels: ctx.batch!.targets.map((y) => y[l.column]!),
              experience: ctx.experience!.id,
              trainedExperience: trainedUser,
            }),
          );
        },
      },
    );
    return this.continualValues();
  }

  /** The user's online accuracies so far, under `online/` (for the metrics.jsonl stream rows: a curve per user). */
  userOnline(user: string): Record<string, number> {
    return Object.fromEntries(Object.entries(this.online?.userAccuracy(user) ?? {}).map(([k, v]) => [`online/${k}`, v]));
  }

  /** The latest evaluation's accuracy on each stream, per target: a row of the accuracy matrix (`continual/<target>/accuracy`). */
  accuracyRows(): Record<string, Array<number | null>> {
    const out: Record<string, Array<number | null>> = {};
    this.continual?.forEach((m, t) => (out[`continual/${this.layout[t]!.name}/accuracy`] = m.accuracies()));
    return out;
  }

  /** The final values: online_user's under `online/`, the continual metric's under `continual/<target>/`. */
  results(): Record<string, number> {
    const out: Record<string, number> = {};
    if (this.online) for (const [k, v] of Object.entries(this.online.compute())) out[`online/${k}`] = v;
    return Object.assign(out, this.continualValues());
  }

  private continualValues(): Record<string, number> {
    const out: Record<string, number> = {};
    this.continual?.forEach((m, t) => {
      for (const [k, v] of Object.entries(m.compute())) out[`continual/${this.layout[t]!.name}/${k}`] = v;
    });
    return out;
  }

  /** Logits of up to a forward batch of rows (the rest of the batch is zeros). */
  private async predict(params: Params, rows: readonly Float32Array[]): Promise<Predictions> {
    const dim = rows[0]!.length;
    const x = new Float32Array(this.forward.batchSize * dim);
    rows.forEach((r, i) => x.set(r, i * dim));
    const { logits } = await this.forward.run(params, { [this.inputName]: x });
    return { logits, width: logits.length / this.forward.batchSize };
  }
}

/** The stream metrics need their targets: online_user scores a verb and a noun (checked before any training). */
export function checkStreamMetrics(metrics: readonly string[], layout: readonly TargetColumns[]): void {
  for (const m of metrics) {
    if (m === 'online_user') {
      if (layout.length !== 2 || layout.some((l) => l.width !== 1) || !['verb', 'noun'].every((n) => layout.some((l) => l.name === n))) {
        throw new VidraError(`task.metrics: online_user scores a verb and a noun per sample: set task.target to [verb, noun] (got [${layout.map((l) => l.name).join(', ')}])`);
      }
    } else if (m !== 'continual') {
      throw new VidraError(`task.metrics: the continual task computes online_user and continual, not '${m}'`);
    }
  }
}
