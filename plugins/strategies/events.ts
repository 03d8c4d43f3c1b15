// Continual-learning strategies as plugins on a fixed list of events (Avalanche: `avalanche/core.py`,
// `avalanche/training/templates/base.py`, `avalanche/training/utils.py::trigger_plugins`; style.md §5).
// A training template fires the events; a strategy (replay, EWC, LwF…) is a small object implementing some of them.
// Because Vidra trains with compiled ONNX graphs, a plugin acts on data, not on a live model: iteration events see the
// batch and may change it (replay appends memory samples), and may declare penalties (`extraLoss`) that the training
// step's graph builder adds to the loss as extra inputs (EWC's quadratic penalty).

import { pluginLabel, unfiredCallbacks } from '../../core/plugins/plugin-events.ts';

/** Every event, in the order a training run then an evaluation run fire them (Avalanche's names). */
export const STRATEGY_EVENTS = [
  'before_training',
  'before_training_exp',
  'before_training_epoch',
  'before_training_iteration',
  'before_forward',
  'after_forward',
  'before_backward',
  'after_backward',
  'before_update',
  'after_update',
  'after_training_iteration',
  'after_training_epoch',
  'after_training_exp',
  'after_training',
  'before_eval',
  'before_eval_exp',
  'before_eval_iteration',
  'after_eval_iteration',
  'after_eval_exp',
  'after_eval',
] as const;

export type StrategyEvent = (typeof STRATEGY_EVENTS)[number];

/** A parameter set: name → flat values (e.g. `fc.weight` row-major). Gradients and snapshots use the same shape. */
export type Params = Readonly<Record<string, ArrayLike<number>>>;

/** A training or evaluation sample as strategies store and replay it: a feature vector and its target. */
export interface Sample<I = ArrayLike<number>, T = number | readonly number[]> {
  input: I;
  /** Class index (single-label) or positive class indices / multi-hot row (multi-label). */
  target: T;
  /** Dataset index, when the sample comes from one. */
  index?: number;
}

/** One experience of the stream: a task's data, a user's stream, or (online) one mini-batch of it. */
export interface Experience<S extends Sample = Sample> {
  /** Position in the stream (0-based). */
  id: number;
  /** The user whose data it is (continual user adaptation), if any. */
  user?: string | null;
  items: readonly S[];
  /** A mini-experience of an online stream (Avalanche OCL `split_online_stream`): boundaries are mini-batches. */
  online?: boolean;
}

/** A mini-batch, mutable by iteration events. Rows `inputs.length − memory ..` were appended from a replay memory. */
export interface Batch<S extends Sample = Sample> {
  inputs: S['input'][];
  targets: S['target'][];
  /** Dataset indices of the current-data rows, when known. */
  indices?: number[];
  /** Number of trailing rows that came from a memory (0 when none). */
  memory: number;
}

/** A named penalty added to the training loss. The graph builder dispatches on `kind`. */
export interface ExtraLoss {
  name: string;
  kind: string;
}

/**
 * Σ_t scale_t · Σ_p Σ_j importance_t[p][j] · (θ[p][j] − anchor_t[p][j])²  (EWC, L2 towards old weights, SI, MAS…).
 * Parameters absent from a term's anchor do not count (new heads). Term objects are immutable: a graph builder may
 * cache its feeds by identity.
 */
export interface QuadraticPenalty extends ExtraLoss {
  kind: 'quadratic';
  terms: readonly QuadraticTerm[];
}

export interface QuadraticTerm {
  scale: number;
  importance: Readonly<Record<string, Float64Array>>;
  anchor: Readonly<Record<string, Float64Array>>;
}

/** Everything a plugin sees at an event. One object lives through a whole train() or eval() call. */
export interface StrategyContext<S extends Sample = Sample> {
  /** The event being fired (set by `fireEvent`). */
  event?: StrategyEvent;
  mode: 'train' | 'eval';
  /** The current experience (from before_*_exp to after_*_exp). */
  experience?: Experience<S>;
  /** Training experiences completed before the current one (Avalanche `clock.train_exp_counter`). */
  trainExpCounter: number;
  epoch: number;
  /** Iteration inside the epoch (or inside the evaluated experience). */
  iteration: number;
  /** The current mini-batch (iteration events). Mutable: plugins may append rows. */
  batch?: Batch<S>;
  /** Penalties for the current training step; emptied before each before_training_iteration. */
  extraLoss: ExtraLoss[];
  /** The configured training mini-batch size (Avalanche `train_mb_size`), for defaults such as replay's batch_size_mem. */
  trainBatchSize?: number;
  /** The loss of the last step, when the engine reports it (after_forward / after_training_iteration). */
  loss?: number;
  /** Per-sample gradients of the training loss at the current parameters, one Params per item (from the engine). */
  gradients?: (items: readonly S[]) => Params[] | Promise<Params[]>;
  /** The current parameters θ (from the engine). */
  parameters?: () => Params | Promise<Params>;
  /** Warnings for the user (the job log). */
  warn?: (message: string) => void;
}

type Handler<S extends Sample> = (ctx: StrategyContext<S>) => void | Promise<void>;

/** A strategy plugin: any subset of the events; every one is optional (Avalanche's no-op BasePlugin callbacks). */
export type StrategyPlugin<S extends Sample = Sample> = { readonly name?: string } & { [E in StrategyEvent]?: Handler<S> };

/** What a `strategy` plugin builds: the plugins that make the strategy (finetune: none). */
export interface Strategy<S extends Sample = Sample> {
  readonly plugins: readonly StrategyPlugin<S>[];
}

/** Fires one event at every plugin implementing it, in list order, awaiting each (Avalanche `trigger_plugins`). */
export async function fireEvent<S extends Sample>(plugins: readonly StrategyPlugin<S>[], event: StrategyEvent, ctx: StrategyContext<S>): Promise<void> {
  ctx.event = event;
  for (const p of plugins) {
    const handler = p[event];
    if (typeof handler === 'function') await handler.call(p, ctx);
  }
}

/**
 * Avalanche `_check_plugin_compatibility`: reports (returns a warning, null when fine) a plugin implementing
 * callbacks that the template never fires — a fused-step template fires no before_backward, say, so a plugin acting
 * there would silently do nothing. Names that are no event at all are reported with the closest event names.
 */
export function checkPluginEvents(plugin: object, firedEvents: Iterable<StrategyEvent>): string | null {
  const fired = [...firedEvents];
  const parts = unfiredCallbacks(plugin, STRATEGY_EVENTS, fired);
  if (!parts.length) return null;
  return (
    `strategy plugin ${pluginLabel(plugin)} implements callbacks this training template never fires: ${parts.join(', ')}. ` +
    `They will not run. The template fires: ${fired.join(', ')}.`
  );
}
