// A split's user streams as the continual task feeds them to a strategy: each user's samples in chronological
// order (the dataset's user ranges), and the experiences a stream is cut into.
import { VidraError } from '../../core/config/errors.ts';
import type { Dataset } from '../datasets/dataset.ts';
import type { Experience, Sample } from '../strategies/events.ts';
import { pickInput } from './evaluation.ts';
import { targetColumns, type TargetColumns } from './targets.ts';

/** A stream sample: its features, its target columns, its dataset index and its user. */
export interface StreamSample extends Sample<Float32Array, number[]> {
  index: number;
  user: string;
}

type UserRanges = NonNullable<Dataset['users']>;

export interface UserStream {
  id: string;
  samples: StreamSample[];
}

/** Each of `users` with its samples, read once (one batch a user). */
export function readUserStreams(data: Dataset, users: UserRanges, inputName: string, layout: readonly TargetColumns[]): UserStream[] {
  return users.map((u) => {
    const idx = Array.from({ length: u.end - u.start }, (_, i) => u.start + i);
    const b = data.getBatch(idx);
    const x = pickInput(b, inputName, 1);
    const dim = x.data.length / b.size;
    const cols = targetColumns(b, layout);
    const T = cols.length / b.size;
    const samples = idx.map((index, r) => ({
      index,
      user: u.id,
      input: x.data.slice(r * dim, (r + 1) * dim),
      target: Array.from(cols.subarray(r * T, (r + 1) * T), Number),
    }));
    return { id: u.id, samples };
  });
}

/** The split's user ranges, checked: the task needs at least one user and no empty stream. */
export function userRanges(data: Dataset, split: string): UserRanges {
  const users = data.users;
  if (!users?.length) throw new VidraError(`the continual task streams users: the '${split}' split has no user streams (an ego4d_features dataset in user_stream mode has)`);
  const empty = users.find((u) => u.end <= u.start);
  if (empty) throw new VidraError(`the user ${empty.id} of the '${split}' split has an empty stream`);
  return users;
}

/**
 * What a strategy sees as experiences of user `u`'s stream: the whole stream (`user`), or each online
 * mini-batch of `batchSize` samples (`batch`, online continual learning).
 */
export function streamExperiences(stream: UserStream, u: number, experience: 'user' | 'batch', batchSize: number): Experience<StreamSample>[] {
  if (experience === 'user') return [{ id: u, user: stream.id, items: stream.samples }];
  return Array.from({ length: Math.ceil(stream.samples.length / batchSize) }, (_, k) => ({
    id: k,
    user: stream.id,
    items: stream.samples.slice(k * batchSize, (k + 1) * batchSize),
    online: true,
  }));
}
