import { ValidationError } from '../../core/config/errors.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { BATCH_DEFAULTS, BATCH_SCHEMA, batchCount, checkSize, chunk, type BatchOptions, type IndexSampler, type IndexSamplerPlugin, type SamplerData, type StreamKey } from './sampler.ts';

export interface UserStreamSamplerOptions extends BatchOptions {
  /** The users to stream, in this order; null = every known user, ascending ids. */
  users: (string | number)[] | null;
}

const DEFAULTS: UserStreamSamplerOptions = { ...BATCH_DEFAULTS, users: null };

/** One user's chronological stream. */
export interface UserStream {
  user: string;
  /** Dataset indices in stream order. */
  indices: number[];
  /** The online mini-batches (never crossing into another user). */
  batches: number[][];
}

/** One online step: a mini-batch and where it sits in its user's stream. */
export interface StreamStep {
  user: string;
  /** Position of the user in `streams`. */
  userIndex: number;
  /** Position of the batch in the user's stream. */
  step: number;
  batch: number[];
  /** First batch of this user: the model seen by it is the one the user starts from (reset it here for per-user adaptation). */
  firstOfUser: boolean;
  /** Last batch of this user. */
  lastOfUser: boolean;
}

/** Code-unit order, as Python/pandas compare strings (not locale order). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * EgoAdapt's stream order (ml-spec §4): origin_video_id, then clip_parent_start_sec, then action_idx, then the clip's
 * start inside its action; equal keys keep dataset order (a stable sort).
 */
export function compareStreamKeys(a: StreamKey, b: StreamKey): number {
  return (
    compareStrings(a.origin_video_id, b.origin_video_id) ||
    a.clip_parent_start_sec - b.clip_parent_start_sec ||
    a.action_idx - b.action_idx ||
    (a.clip_start_sec ?? 0) - (b.clip_start_sec ?? 0)
  );
}

function compareUsers(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb || compareStrings(a, b);
  return compareStrings(a, b);
}

/**
 * The per-user online stream of continual user adaptation (EgoAdapt, De Lange et al. 2023; ml-spec §4): one user at a
 * time, that user's items in chronological order, cut into online mini-batches of `batch_size` that never mix users.
 * Nothing is ever shuffled: every epoch is the same stream (an online learner sees it once).
 *
 * Users are the ones listed in `users` (in that order), or every user present, ascending ids (numerically when every
 * id is a number). Items whose user is null/undefined (EgoAdapt's "NaN user", which goes to pre-training) are never
 * streamed. `drop_last` applies per user.
 *
 * Predict-then-update: iterate `steps()` and, for each step, first evaluate the model on `batch` (the prediction the
 * user would have got), then train on it; `firstOfUser`/`lastOfUser` mark the user boundaries (reset the model to the
 * population model at a first step, collect per-user metrics at a last step). `streams` lists the same data per user.
 */
export class UserStreamSampler implements IndexSampler {
  readonly batch_size: number;
  readonly drop_last: boolean;
  readonly numSamples: number;
  readonly numBatches: number;
  readonly streams: readonly UserStream[];

  constructor(users: readonly (string | number | null | undefined)[], keys: readonly StreamKey[], options: Partial<UserStreamSamplerOptions> = {}) {
    const o = { ...DEFAULTS, ...options };
    this.batch_size = o.batch_size;
    this.drop_last = o.drop_last;
    if (users.length !== keys.length) throw new RangeError(`user_stream sampler: ${users.length} user ids but ${keys.length} stream keys`);
    const byUser = new Map<string, number[]>();
    users.forEach((u, i) => {
      if (u === null || u === undefined) return;
      const id = String(u);
      let list = byUser.get(id);
      if (!list) byUser.set(id, (list = []));
      list.push(i);
    });
    let order: string[];
    if (o.users === null) order = [...byUser.keys()].sort(compareUsers);
    else {
      order = o.users.map(String);
      const missing = order.filter((u) => !byUser.has(u));
      if (missing.length) {
        const known = [...byUser.keys()].sort(compareUsers);
        throw new ValidationError(
          `user_stream sampler: no item belongs to the user${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; ` +
            `users in the data: ${known.slice(0, 20).join(', ')}${known.length > 20 ? `, … (${known.length})` : ''}`,
        );
      }
      const dup = order.find((u, i) => order.indexOf(u) !== i);
      if (dup !== undefined) throw new ValidationError(`user_stream sampler: the user ${dup} is listed twice in 'users'`);
    }
    this.streams = order.map((user) => {
      const indices = [...byUser.get(user)!].sort((a, b) => compareStreamKeys(keys[a]!, keys[b]!) || a - b);
      return { user, indices, batches: [...chunk(indices, this.batch_size, this.drop_last)] };
    });
    this.numSamples = this.streams.reduce((s, u) => s + u.indices.length, 0);
    this.numBatches = this.streams.reduce((s, u) => s + batchCount(u.indices.length, this.batch_size, this.drop_last), 0);
  }

  /** The users streamed, in order. */
  get users(): string[] {
    return this.streams.map((s) => s.user);
  }

  /** Every online step with its user boundaries. */
  *steps(): Generator<StreamStep> {
    for (const [userIndex, s] of this.streams.entries()) {
      for (const [step, batch] of s.batches.entries()) {
        yield { user: s.user, userIndex, step, batch, firstOfUser: step === 0, lastOfUser: step === s.batches.length - 1 };
      }
    }
  }

  /** The same batches every epoch: user after user, chronological. */
  *batches(_epoch = 0): Generator<number[]> {
    for (const s of this.streams) yield* s.batches;
  }
}

@injectable()
export class UserStreamSamplerPlugin implements IndexSamplerPlugin {
  readonly type = 'index' as const;
  constructor(@inject(PLUGIN_CONFIG) readonly options: UserStreamSamplerOptions) {}

  bind(data: SamplerData): UserStreamSampler {
    const n = checkSize('user_stream', data);
    if (!data.users || data.users.length !== n || !data.streamKeys || data.streamKeys.length !== n) {
      throw new ValidationError(
        `the user_stream sampler needs data.users and data.streamKeys (origin_video_id, clip_parent_start_sec, action_idx), one per item (${n} items)`,
      );
    }
    return new UserStreamSampler(data.users, data.streamKeys, this.options);
  }
}

export const plugin = definePlugin({
  kind: 'sampler',
  name: 'user_stream',
  description: 'one user at a time, chronological, online mini-batches, never shuffled (EgoAdapt user streams)',
  schema: {
    type: 'object',
    properties: {
      ...BATCH_SCHEMA,
      users: {
        type: ['array', 'null'],
        items: { type: ['string', 'integer'] },
        default: null,
        description: 'user ids to stream, in this order (null: every user in the data, ascending)',
      },
    },
    additionalProperties: false,
  },
  create: UserStreamSamplerPlugin,
});
