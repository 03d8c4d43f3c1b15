// Callbacks: plugins on the fixed list of events the train, evaluate and continual tasks fire (Avalanche's event
// names, as strategies use; Lightning's Callback for what users do with them: early stopping, logging,
// checkpointing). A callback implements any subset of the events; one that implements an event its task never
// fires is reported in the job's log when the task builds it (style.md §5).
import { VidraError } from '../../core/config/errors.ts';
import type { TensorLike } from '../../core/engine/safetensors.ts';
import { pluginLabel, unfiredCallbacks } from '../../core/plugins/plugin-events.ts';

/** Every event, in the order a run fires them. */
export const CALLBACK_EVENTS = [
  'before_training',
  'after_training_iteration',
  'after_training_epoch',
  'after_training_exp',
  'after_eval',
  'after_training',
] as const;

export type CallbackEvent = (typeof CALLBACK_EVENTS)[number];

/** What each task fires. */
export const TASK_EVENTS: Record<'train' | 'evaluate' | 'continual', readonly CallbackEvent[]> = {
  // before_training; per optimizer step after_training_iteration; per epoch after_eval (when it evaluates), then
  // after_training_epoch; after_training once at the end.
  train: ['before_training', 'after_training_iteration', 'after_eval', 'after_training_epoch', 'after_training'],
  // One after_eval with the checkpoint's values.
  evaluate: ['after_eval'],
  // Per stream step after_training_iteration; after each user after_training_exp; every stream evaluation after_eval.
  continual: ['before_training', 'after_training_iteration', 'after_training_exp', 'after_eval', 'after_training'],
};

/** The model's parameters, by PyTorch names. */
export type Parameters = Record<string, TensorLike>;

/** What a resumable checkpoint holds besides the parameters (train: where the next epoch or batch starts). */
export interface TrainingState {
  optimizerState: Parameters;
  optimizer: string;
  extra: Record<string, unknown>;
}

/** Everything a callback sees at an event. */
export interface CallbackContext {
  readonly task: string;
  readonly event: CallbackEvent;
  /** The job's run directory. */
  readonly outputDir: string;
  /** Optimizer steps taken (continual: stream steps). */
  readonly step: number;
  /** train: the epoch (0-based, as in metrics.jsonl). */
  readonly epoch?: number;
  /** after_training_epoch: whether it is the run's last epoch (the last one planned, or a stop was asked). */
  readonly last?: boolean;
  /** after_training_iteration: the step's loss and learning rate. */
  readonly loss?: number;
  readonly lr?: number;
  /** after_eval: the evaluation's values (the metric keys of metrics.jsonl) and the split. */
  readonly values?: Readonly<Record<string, number | string | null>>;
  readonly split?: string | null;
  /** continual: the user whose stream was just trained on (after_training_exp) or is being trained on. */
  readonly experience?: string;
  /** The parameters now (copies). */
  parameters(): Parameters;
  /** train, at after_training_epoch: what resuming needs besides the parameters. */
  readonly trainingState?: () => TrainingState;
  /** Asks the train task to stop after this epoch; `reason` goes to the log and metrics.jsonl (other tasks warn). */
  stop(reason: string): void;
  readonly log: { info(line: string): void; warn(line: string): void };
}

type Handler = (ctx: CallbackContext) => void | Promise<void>;

/** A callback plugin: any subset of the events, each optional. */
export type Callback = { readonly name?: string } & { [E in CallbackEvent]?: Handler };

type ContextFields = Omit<CallbackContext, 'event' | 'task' | 'outputDir' | 'stop' | 'log'>;

/**
 * A task's callbacks, fired in list order. Each is checked against the events this run fires (`fired`: the task's
 * list, less what the run leaves out, such as after_eval for a train run that evaluates nothing); the task's own
 * callbacks (`builtIn`, fired first) are not, since they serve every configuration.
 */
export class CallbackList {
  /** Why a callback asked to stop (the first one that did), or null. */
  stopReason: string | null = null;
  readonly callbacks: readonly Callback[];

  constructor(
    configured: readonly Callback[],
    private readonly task: keyof typeof TASK_EVENTS,
    private readonly outputDir: string,
    private readonly log: CallbackContext['log'],
    { fired = TASK_EVENTS[task], builtIn = [] }: { fired?: readonly CallbackEvent[]; builtIn?: readonly Callback[] } = {},
  ) {
    const where = fired === TASK_EVENTS[task] ? `the ${task} task` : `this ${task} run`;
    for (const c of configured) {
      if (typeof c !== 'object' || c === null) throw new VidraError(`a callback of the ${task} task is ${String(c)}, not a callback object`);
      const unfired = unfiredCallbacks(c, CALLBACK_EVENTS, fired);
      if (unfired.length) log.warn(`callback ${pluginLabel(c)} implements events ${where} never fires: ${unfired.join(', ')}. They will not run. ${where[0]!.toUpperCase()}${where.slice(1)} fires: ${fired.join(', ')}.`);
    }
    this.callbacks = [...builtIn, ...configured];
  }

  async fire(event: CallbackEvent, fields: ContextFields): Promise<void> {
    const ctx: CallbackContext = {
      ...fields,
      event,
      task: this.task,
      outputDir: this.outputDir,
      log: this.log,
      stop: (reason) => {
        // Only train's epoch loop can end early; elsewhere the request is said once and changes nothing.
        if (this.task !== 'train' && this.stopReason === null) this.log.warn(`the ${this.task} task does not stop early; ignored: ${reason}`);
        this.stopReason ??= reason;
      },
    };
    for (const c of this.callbacks) {
      const handler = c[event];
      if (typeof handler === 'function') await handler.call(c, ctx);
    }
  }
}
