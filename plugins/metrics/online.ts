// Online user-adaptation metrics of EgoAdapt (De Lange, Eghbal-zadeh, Tan, Iuzzolino, Meier, Ridgeway 2023,
// arXiv 2307.05784; facebookresearch/EgocentricUserAdaptation src/continual_ego4d/metrics/standard_metrics.py,
// adapt_metrics.py, meters.py), ml-spec §2.6. Formulas are taken from that code (the paper PDF was not checked).
//
// Each user is a stream; at step t the current model f_{t−1} first PREDICTS x_t, then updates on it.
//   online top-1 accuracy  per user: fraction of steps predicted correctly (verb, noun; an ACTION is correct iff
//                          verb and noun are both correct) — OnlineTopkAccMetric / distributed_twodistr_top1_errors
//   balanced accuracy      per user: accuracy per ground-truth class (verb, noun, or action = the (verb, noun) pair),
//                          then the unweighted mean over the classes seen (RunningBalancedTopkAccMetric over
//                          ConditionalAverageMeterDict(action_balanced=True))
//   OAG                    per user: mean_t [L_pop(x_t) − L_{f_{t−1}}(x_t)], the loss of the population (pre-trained)
//                          model minus the loss of the current model before it updates on x_t
//                          (OnlineAdaptationGainMetric; for actions L = CE_verb + CE_noun). Positive = the user
//                          model is better. HAG ("hindsight") is the same formula with the FINAL user model's losses.
// Every metric is averaged per user first, then over users (user-macro): a long stream does not outweigh a short one.

import { definePlugin } from '../../core/plugins/registry.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { checkClassIndices, checkFiniteVector, checkScoreMatrix, describe, mean, MetricInputError } from './inputs.ts';
import type { Metric } from './metric.ts';
import { topkIndices } from './topk.ts';

/** One predict-then-update step of a user stream. */
export interface OnlineStep {
  user: string;
  verbPred: number;
  nounPred: number;
  verbLabel: number;
  nounLabel: number;
}

export interface OnlineAccuracyValues {
  verb: number;
  noun: number;
  /** verb and noun both correct. */
  action: number;
  balancedVerb: number;
  balancedNoun: number;
  balancedAction: number;
}

export interface OnlineUserAccuracy extends OnlineAccuracyValues {
  /** Steps seen for this user. */
  steps: number;
}

/**
 * Balanced accuracy: the accuracy within each true class (`classes[i]` is sample i's class), then the unweighted
 * mean over the classes present. NaN for no samples.
 */
export function balancedAccuracy(correct: readonly boolean[], classes: readonly (string | number)[]): number {
  if (correct.length !== classes.length) throw new MetricInputError(`balancedAccuracy: ${correct.length} results but ${classes.length} classes`);
  const per = new Map<string | number, [number, number]>();
  correct.forEach((ok, i) => {
    const c = per.get(classes[i]!) ?? [0, 0];
    c[0] += ok ? 1 : 0;
    c[1] += 1;
    per.set(classes[i]!, c);
  });
  return mean([...per.values()].map(([hit, n]) => hit / n));
}

/** The unweighted mean over users of per-user values (user-macro). NaN when there are no users. */
export function userMacro(perUser: Readonly<Record<string, number>>): number {
  return mean(Object.values(perUser));
}

/**
 * Online adaptation gain of one user stream: mean_t (populationLosses[t] − modelLosses[t]), where modelLosses[t] is
 * the loss of the current model on x_t BEFORE it updates on x_t. With the final model's losses it is HAG.
 */
export function onlineAdaptationGain(populationLosses: readonly number[], modelLosses: readonly number[]): number {
  checkFiniteVector('populationLosses', populationLosses);
  checkFiniteVector('modelLosses', modelLosses, populationLosses.length);
  if (populationLosses.length === 0) throw new MetricInputError('onlineAdaptationGain: the stream has no steps');
  return mean(populationLosses.map((p, t) => p - modelLosses[t]!));
}

function checkStep(s: OnlineStep, i: number): void {
  if (!s || typeof s.user !== 'string') throw new MetricInputError(`step ${i}: 'user' must be a string (the user id), not ${describe(s?.user)}`);
  for (const key of ['verbPred', 'nounPred', 'verbLabel', 'nounLabel'] as const) {
    if (!Number.isInteger(s[key])) throw new MetricInputError(`step ${i}: '${key}' must be an integer class id, not ${describe(s[key])}`);
  }
}

/**
 * Online accuracy over user streams: feed each step's prediction (made before the update) and label, in stream
 * order; read per-user values, their user-macro average (`compute`), or the pooled accuracy over all steps.
 */
export class OnlineAccuracy {
  private readonly streams = new Map<string, OnlineStep[]>();

  update(steps: OnlineStep | readonly OnlineStep[]): void {
    const list = Array.isArray(steps) ? (steps as readonly OnlineStep[]) : [steps as OnlineStep];
    list.forEach(checkStep);
    for (const s of list) {
      let stream = this.streams.get(s.user);
      if (!stream) this.streams.set(s.user, (stream = []));
      stream.push({ ...s });
    }
  }

  users(): string[] {
    return [...this.streams.keys()];
  }

  /** One user's values so far (undefined before its first step): its online accuracy curve, point by point. */
  user(user: string): OnlineUserAccuracy | undefined {
    const steps = this.streams.get(user);
    return steps ? { ...accuracies(steps), steps: steps.length } : undefined;
  }

  perUser(): Record<string, OnlineUserAccuracy> {
    const out: Record<string, OnlineUserAccuracy> = {};
    for (const [user, steps] of this.streams) out[user] = { ...accuracies(steps), steps: steps.length };
    return out;
  }

  /** User-macro: each value averaged per user, then over users. */
  compute(): OnlineAccuracyValues {
    const per = Object.values(this.perUser());
    if (per.length === 0) throw new MetricInputError('OnlineAccuracy: no steps were fed');
    const avg = (key: keyof OnlineAccuracyValues) => mean(per.map((u) => u[key]));
    return {
      verb: avg('verb'),
      noun: avg('noun'),
      action: avg('action'),
      balancedVerb: avg('balancedVerb'),
      balancedNoun: avg('balancedNoun'),
      balancedAction: avg('balancedAction'),
    };
  }

  /** Pooled over all steps of all users (NOT what EgoAdapt reports; for comparison). */
  pooled(): OnlineAccuracyValues {
    const all = [...this.streams.values()].flat();
    if (all.length === 0) throw new MetricInputError('OnlineAccuracy: no steps were fed');
    return accuracies(all);
  }

  reset(): void {
    this.streams.clear();
  }
}

function accuracies(steps: readonly OnlineStep[]): OnlineAccuracyValues {
  const verbOk = steps.map((s) => s.verbPred === s.verbLabel);
  const nounOk = steps.map((s) => s.nounPred === s.nounLabel);
  const actionOk = steps.map((_, i) => verbOk[i]! && nounOk[i]!);
  const rate = (ok: boolean[]) => ok.filter(Boolean).length / ok.length;
  return {
    verb: rate(verbOk),
    noun: rate(nounOk),
    action: rate(actionOk),
    balancedVerb: balancedAccuracy(verbOk, steps.map((s) => s.verbLabel)),
    balancedNoun: balancedAccuracy(nounOk, steps.map((s) => s.nounLabel)),
    balancedAction: balancedAccuracy(actionOk, steps.map((s) => `${s.verbLabel},${s.nounLabel}`)),
  };
}

/** One step's losses for the adaptation gain: the population model's and the current model's (before its update). */
export interface AdaptationGainStep {
  user: string;
  populationLoss: number;
  loss: number;
}

/** OAG (or HAG) over user streams: per-user online adaptation gain, then the user-macro mean. */
export class UserAdaptationGain {
  private readonly streams = new Map<string, { pop: number[]; cur: number[] }>();

  update(steps: AdaptationGainStep | readonly AdaptationGainStep[]): void {
    const list = Array.isArray(steps) ? (steps as readonly AdaptationGainStep[]) : [steps as AdaptationGainStep];
    list.forEach((s, i) => {
      if (!s || typeof s.user !== 'string') throw new MetricInputError(`step ${i}: 'user' must be a string (the user id), not ${describe(s?.user)}`);
      checkFiniteVector(`step ${i}: [populationLoss, loss]`, [s.populationLoss, s.loss]);
    });
    for (const s of list) {
      let stream = this.streams.get(s.user);
      if (!stream) this.streams.set(s.user, (stream = { pop: [], cur: [] }));
      stream.pop.push(s.populationLoss);
      stream.cur.push(s.loss);
    }
  }

  perUser(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [user, s] of this.streams) out[user] = onlineAdaptationGain(s.pop, s.cur);
    return out;
  }

  compute(): number {
    if (this.streams.size === 0) throw new MetricInputError('UserAdaptationGain: no steps were fed');
    return userMacro(this.perUser());
  }

  reset(): void {
    this.streams.clear();
  }
}

/** What the `online_user` metric is fed: one batch of predict-then-update steps (scores from before the update). */
export interface OnlineUserBatch {
  /** The user of each sample, or one user for the whole batch. */
  users: string | string[];
  /** [N, V] verb scores and [N, M] noun scores of the current model before it updates. */
  verbScores: number[][];
  nounScores: number[][];
  verbLabels: number[];
  nounLabels: number[];
  /** Per-sample losses of the population model and of the current model (before the update), for OAG. */
  populationLosses?: number[];
  losses?: number[];
}

/**
 * EgoAdapt online metrics over user streams (`online_user`), user-macro: acc_verb, acc_noun, acc_action,
 * balanced_acc_verb, balanced_acc_noun, balanced_acc_action, and oag when losses are fed. Predictions are the
 * top-1 classes (ties: lower index).
 */
@injectable()
export class OnlineUserMetric implements Metric<OnlineUserBatch> {
  readonly name = 'online_user';
  private readonly accuracy = new OnlineAccuracy();
  private readonly gain = new UserAdaptationGain();
  constructor(@inject(PLUGIN_CONFIG) readonly config: Record<string, never>) {}

  update(batch: OnlineUserBatch): void {
    const [n, v] = checkScoreMatrix(`${this.name}: verbScores`, batch.verbScores);
    const [nn, m] = checkScoreMatrix(`${this.name}: nounScores`, batch.nounScores);
    if (nn !== n) throw new MetricInputError(`${this.name}: ${n} verb score rows but ${nn} noun score rows`);
    checkClassIndices(`${this.name}: verbLabels`, batch.verbLabels, n, v);
    checkClassIndices(`${this.name}: nounLabels`, batch.nounLabels, n, m);
    const users = typeof batch.users === 'string' ? new Array<string>(n).fill(batch.users) : batch.users;
    if (!Array.isArray(users) || users.length !== n) throw new MetricInputError(`${this.name}: users must be one user id or ${n} of them (got ${describe(batch.users)})`);
    this.accuracy.update(
      users.map((user, i) => ({
        user,
        verbPred: topkIndices(batch.verbScores[i]!, 1)[0]!,
        nounPred: topkIndices(batch.nounScores[i]!, 1)[0]!,
        verbLabel: batch.verbLabels[i]!,
        nounLabel: batch.nounLabels[i]!,
      })),
    );
    if (batch.populationLosses !== undefined || batch.losses !== undefined) {
      checkFiniteVector(`${this.name}: populationLosses`, batch.populationLosses, n);
      checkFiniteVector(`${this.name}: losses`, batch.losses, n);
      this.gain.update(users.map((user, i) => ({ user, populationLoss: batch.populationLosses![i]!, loss: batch.losses![i]! })));
    }
  }

  /** One user's online accuracies so far (acc_verb, acc_noun, acc_action), or {} before its first step. */
  userAccuracy(user: string): Record<string, number> {
    const a = this.accuracy.user(user);
    return a ? { acc_verb: a.verb, acc_noun: a.noun, acc_action: a.action } : {};
  }

  compute(): Record<string, number> {
    if (this.accuracy.users().length === 0) throw new MetricInputError(`${this.name}: compute() before any update(): no steps to evaluate`);
    const a = this.accuracy.compute();
    const out: Record<string, number> = {
      acc_verb: a.verb,
      acc_noun: a.noun,
      acc_action: a.action,
      balanced_acc_verb: a.balancedVerb,
      balanced_acc_noun: a.balancedNoun,
      balanced_acc_action: a.balancedAction,
    };
    if (Object.keys(this.gain.perUser()).length) out.oag = this.gain.compute();
    return out;
  }

  reset(): void {
    this.accuracy.reset();
    this.gain.reset();
  }
}

export const plugin = definePlugin({
  kind: 'metric',
  name: 'online_user',
  description: 'EgoAdapt online metrics per user stream, user-macro: top-1 verb/noun/action, balanced accuracy, OAG',
  schema: { type: 'object', properties: {}, additionalProperties: false },
  create: OnlineUserMetric,
});
