// The EgoAdapt per-user split of Ego4D LTA (ml-spec §2.6, §4; `facebookresearch/EgocentricUserAdaptation
// src/continual_ego4d/processing/run_split_ego4d_on_users.py`):
//
//   1. right-join the LTA train + val entries with ego4d.json on video_uid (every entry kept; an entry whose
//      video is not in ego4d.json gets no user), user = fb_participant_id;
//   2. entries without a user (null, absent, or an unknown video) form the "NaN user", which goes to pretraining;
//   3. rank users by the summed duration of their distinct clips (clip_parent_end_sec − clip_parent_start_sec),
//      longest first (ties: smaller id first);
//   4. the top num_train_users + num_test_users users are split into "train" (hyper-parameter) and "test"
//      users — by a seeded shuffle (EgoAdapt's `random` criterion; the paper's fixed lists are given as
//      explicit `train_user_ids` / `test_user_ids`) — and every other user pretrains the population model.
//
// Each user's stream is in chronological order: entries sorted by (origin_video_id, clip_parent_start_sec,
// action_idx) (EgoAdapt sorts at load time; here the files are already sorted). Written files:
//   train_usersplit.json, test_usersplit.json, pretrain_usersplit.json:
//     { "split", "user_ids": [rank order], "users": { "<id>": [entry, ...] }, "clips": [all entries] }
//     entry = the LTA fields + fb_participant_id, parent_video_scenarios, origin_video_id; the NaN user's key
//     is "null" (as Python writes a None key);
//   usersplit_summary.json: per split and per user: clips, actions, hours, distinct verbs/nouns and their
//     coverage of the taxonomy; and a printed table of the same.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { VidraError } from '../../core/config/errors.ts';
import { mulberry32 } from '../../core/random.ts';
import { writeFileAtomic } from '../../core/run/atomic.ts';
import { resolveIn } from './dataset.ts';
import { readEgo4dMeta, type Ego4dVideo } from './formats/ego4d-meta.ts';
import { fail, show } from './formats/errors.ts';
import { LTA_FILES, LTA_TAXONOMY_FILE, parseLta, readLta, readTaxonomy, type LtaEntry, type LtaTaxonomy } from './formats/lta.ts';
import { isObject, readJsonFile } from './formats/text-file.ts';

/** The key of the user of entries without fb_participant_id. */
export const NAN_USER = 'null';

export type UserSplitName = 'train' | 'test' | 'pretrain';
export const USER_SPLITS: readonly UserSplitName[] = ['train', 'test', 'pretrain'];

export interface UserEntry extends LtaEntry {
  fb_participant_id: number | string | null;
  parent_video_scenarios: string[];
  origin_video_id: string | null;
}

export interface RankedUser {
  user: string;
  /** 1-based rank by summed clip duration. */
  rank: number;
  durationSec: number;
  clips: number;
  actions: number;
}

export interface UserSplitOptions {
  numTrainUsers?: number;
  numTestUsers?: number;
  /** Explicit users (EgoAdapt's ORIG_TRAIN_USERS / ORIG_TEST_USERS); when either is given, counts are ignored. */
  trainUserIds?: readonly (string | number)[] | null;
  testUserIds?: readonly (string | number)[] | null;
  seed?: number;
  /** For coverage statistics; without it, coverage is over the verbs/nouns present in train + val. */
  taxonomy?: LtaTaxonomy;
}

export interface UserStats {
  user: string;
  split: UserSplitName;
  rank: number | null;
  clips: number;
  actions: number;
  hours: number;
  verbs: number;
  nouns: number;
  verb_coverage: number;
  noun_coverage: number;
}

export interface SplitStats {
  users: number;
  clips: number;
  actions: number;
  hours: number;
  verbs: number;
  nouns: number;
}

export interface UserSplitSummary {
  splits: Record<UserSplitName, SplitStats>;
  users: UserStats[];
  /** LTA entries whose video_uid is not in ego4d.json (they belong to the NaN user). */
  entries_without_video: number;
  /** Entries with no fb_participant_id (including those). */
  nan_user_entries: number;
  ranking: RankedUser[];
  options: UserSplitRecord;
}

/** The options a split was made with, as stored in usersplit_summary.json (to tell whether a split on disk fits a config). */
export interface UserSplitRecord {
  num_train_users: number | null;
  num_test_users: number | null;
  train_user_ids: string[] | null;
  test_user_ids: string[] | null;
  seed: number;
}

export function userSplitRecord(options: UserSplitOptions): UserSplitRecord {
  const explicit = options.trainUserIds != null || options.testUserIds != null;
  return {
    num_train_users: explicit ? null : (options.numTrainUsers ?? 10),
    num_test_users: explicit ? null : (options.numTestUsers ?? 40),
    train_user_ids: explicit ? (options.trainUserIds ?? []).map(String) : null,
    test_user_ids: explicit ? (options.testUserIds ?? []).map(String) : null,
    seed: options.seed ?? 0,
  };
}

export interface UserSplit {
  /** Per split: users in rank order (the NaN user last), each with its chronological entries. */
  splits: Record<UserSplitName, Array<{ user: string; entries: UserEntry[] }>>;
  summary: UserSplitSummary;
}

/** Step 1: LTA train + val entries (in that order) right-joined with the video metadata. */
export function joinUsers(lta: readonly LtaEntry[], videos: ReadonlyMap<string, Ego4dVideo>): { entries: UserEntry[]; withoutVideo: number } {
  let withoutVideo = 0;
  const entries = lta.map((e) => {
    const v = videos.get(e.video_uid);
    if (!v) withoutVideo++;
    const id = v?.fb_participant_id ?? null;
    return {
      ...e,
      fb_participant_id: id === null ? null : /^-?\d+$/.test(id) ? Number(id) : id,
      parent_video_scenarios: v?.scenarios ?? [],
      origin_video_id: v?.origin_video_id ?? null,
    };
  });
  return { entries, withoutVideo };
}

export function userOf(e: UserEntry): string {
  return e.fb_participant_id === null ? NAN_USER : String(e.fb_participant_id);
}

function compareIds(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Steps 2–3: users with an id, ranked by summed distinct-clip duration (desc), ties by id. */
export function rankUsers(entries: readonly UserEntry[]): RankedUser[] {
  const clips = new Map<string, { user: string; start: number; end: number }>();
  const stats = new Map<string, { durationSec: number; clips: number; actions: number }>();
  for (const e of entries) {
    const user = userOf(e);
    const c = clips.get(e.clip_uid);
    if (c) {
      if (c.user !== user) throw new VidraError(`user split: clip '${e.clip_uid}' belongs to two users ('${c.user}' and '${user}') through its video_uid`);
      if (c.start !== e.clip_parent_start_sec || c.end !== e.clip_parent_end_sec) {
        throw new VidraError(`user split: clip '${e.clip_uid}' has two parent spans ([${c.start}, ${c.end}] and [${e.clip_parent_start_sec}, ${e.clip_parent_end_sec}])`);
      }
    } else clips.set(e.clip_uid, { user, start: e.clip_parent_start_sec, end: e.clip_parent_end_sec });
    let s = stats.get(user);
    if (!s) stats.set(user, (s = { durationSec: 0, clips: 0, actions: 0 }));
    s.actions++;
    if (!c) {
      s.clips++;
      s.durationSec += e.clip_parent_end_sec - e.clip_parent_start_sec;
    }
  }
  return [...stats]
    .filter(([user]) => user !== NAN_USER)
    .sort(([ua, a], [ub, b]) => b.durationSec - a.durationSec || compareIds(ua, ub))
    .map(([user, s], i) => ({ user, rank: i + 1, ...s }));
}

/** Chronological stream order: (origin_video_id, clip_parent_start_sec, action_idx), missing origin last; stable. */
export function sortChronological<T extends Pick<UserEntry, 'origin_video_id' | 'clip_parent_start_sec' | 'action_idx'>>(entries: readonly T[]): T[] {
  return entries
    .map((e, i) => ({ e, i }))
    .sort((x, y) => {
      const a = x.e.origin_video_id;
      const b = y.e.origin_video_id;
      if (a !== b) {
        if (a === null) return 1;
        if (b === null) return -1;
        return a < b ? -1 : 1;
      }
      return x.e.clip_parent_start_sec - y.e.clip_parent_start_sec || x.e.action_idx - y.e.action_idx || x.i - y.i;
    })
    .map(({ e }) => e);
}

/** Steps 1–4 on parsed data. */
export function splitUsers(
  lta: { train: readonly LtaEntry[]; val: readonly LtaEntry[] },
  videos: ReadonlyMap<string, Ego4dVideo>,
  options: UserSplitOptions = {},
): UserSplit {
  const { entries, withoutVideo } = joinUsers([...lta.train, ...lta.val], videos);
  const ranking = rankUsers(entries);
  const known = new Set(ranking.map((r) => r.user));
  const explicit = options.trainUserIds != null || options.testUserIds != null;
  let train: string[];
  let test: string[];
  if (explicit) {
    const check = (ids: readonly (string | number)[], key: string) =>
      ids.map((raw) => {
        const id = String(raw);
        if (id === NAN_USER) throw new VidraError(`user split: ${key} lists the NaN user ('${NAN_USER}'), which always pretrains`);
        if (!known.has(id)) {
          throw new VidraError(
            `user split: user '${id}' of ${key} has no entries in ${LTA_FILES.train} + ${LTA_FILES.val} joined with ego4d.json (an empty user stream); users: ${ranking.map((r) => r.user).join(', ') || '(none)'}`,
          );
        }
        return id;
      });
    train = check(options.trainUserIds ?? [], 'train_user_ids');
    test = check(options.testUserIds ?? [], 'test_user_ids');
    const both = train.filter((u) => test.includes(u));
    if (both.length) throw new VidraError(`user split: user${both.length > 1 ? 's' : ''} ${both.map((u) => `'${u}'`).join(', ')} in both train_user_ids and test_user_ids`);
    for (const [ids, key] of [[train, 'train_user_ids'], [test, 'test_user_ids']] as const) {
      const dup = ids.find((u, i) => ids.indexOf(u) !== i);
      if (dup !== undefined) throw new VidraError(`user split: user '${dup}' appears twice in ${key}`);
    }
  } else {
    const nTrain = options.numTrainUsers ?? 10;
    const nTest = options.numTestUsers ?? 40;
    if (nTrain + nTest > ranking.length) {
      throw new VidraError(
        `user split: num_train_users (${nTrain}) + num_test_users (${nTest}) = ${nTrain + nTest} users requested, but only ${ranking.length} users have a fb_participant_id`,
      );
    }
    const top = ranking.slice(0, nTrain + nTest).map((r) => r.user);
    const random = mulberry32(options.seed ?? 0);
    const order = top.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const trainSet = new Set(order.slice(0, nTrain).map((i) => top[i]!));
    train = top.filter((u) => trainSet.has(u));
    test = top.filter((u) => !trainSet.has(u));
  }
  const rankOf = new Map(ranking.map((r) => [r.user, r.rank]));
  const byRank = (a: string, b: string) => rankOf.get(a)! - rankOf.get(b)!;
  train.sort(byRank);
  test.sort(byRank);
  const chosen = new Set([...train, ...test]);
  const pretrain = ranking.map((r) => r.user).filter((u) => !chosen.has(u));
  const byUser = new Map<string, UserEntry[]>();
  for (const e of entries) {
    const u = userOf(e);
    const list = byUser.get(u);
    if (list) list.push(e);
    else byUser.set(u, [e]);
  }
  if (byUser.has(NAN_USER)) pretrain.push(NAN_USER);
  const streams = (users: string[]) => users.map((user) => ({ user, entries: sortChronological(byUser.get(user)!) }));
  const splits = { train: streams(train), test: streams(test), pretrain: streams(pretrain) };
  return { splits, summary: summarize(splits, ranking, entries, withoutVideo, options) };
}

function summarize(
  splits: UserSplit['splits'],
  ranking: RankedUser[],
  all: readonly UserEntry[],
  withoutVideo: number,
  options: UserSplitOptions,
): UserSplitSummary {
  const nVerbs = options.taxonomy?.verbs.length ?? new Set(all.map((e) => e.verb_label)).size;
  const nNouns = options.taxonomy?.nouns.length ?? new Set(all.map((e) => e.noun_label)).size;
  const rankOf = new Map(ranking.map((r) => [r.user, r.rank]));
  const stats = (entries: readonly UserEntry[]) => {
    const clips = new Map<string, number>();
    for (const e of entries) clips.set(e.clip_uid, e.clip_parent_end_sec - e.clip_parent_start_sec);
    const verbs = new Set(entries.map((e) => e.verb_label)).size;
    const nouns = new Set(entries.map((e) => e.noun_label)).size;
    let seconds = 0;
    for (const d of clips.values()) seconds += d;
    return { clips: clips.size, actions: entries.length, hours: seconds / 3600, verbs, nouns };
  };
  const users: UserStats[] = [];
  const splitStats = {} as Record<UserSplitName, SplitStats>;
  for (const split of USER_SPLITS) {
    for (const { user, entries } of splits[split]) {
      const s = stats(entries);
      users.push({ user, split, rank: rankOf.get(user) ?? null, ...s, verb_coverage: s.verbs / nVerbs, noun_coverage: s.nouns / nNouns });
    }
    splitStats[split] = { users: splits[split].length, ...stats(splits[split].flatMap((u) => u.entries)) };
  }
  return {
    splits: splitStats,
    users,
    entries_without_video: withoutVideo,
    nan_user_entries: all.filter((e) => e.fb_participant_id === null).length,
    ranking,
    options: userSplitRecord(options),
  };
}

/** The summary as a fixed-width table (one row per user, then one per split). */
export function formatSummaryTable(summary: UserSplitSummary): string {
  const head = ['split', 'user', 'rank', 'clips', 'actions', 'hours', 'verbs', 'nouns', 'verb cov', 'noun cov'];
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const rows = summary.users.map((u) => [u.split, u.user === NAN_USER ? 'NaN' : u.user, u.rank === null ? '-' : String(u.rank), String(u.clips), String(u.actions), u.hours.toFixed(2), String(u.verbs), String(u.nouns), pct(u.verb_coverage), pct(u.noun_coverage)]);
  const totals = USER_SPLITS.map((s) => {
    const t = summary.splits[s];
    return [s, `${t.users} users`, '', String(t.clips), String(t.actions), t.hours.toFixed(2), String(t.verbs), String(t.nouns), '', ''];
  });
  const all = [head, ...rows, ...totals];
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((v, c) => (c <= 1 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(head), rule, ...rows.map(line), rule, ...totals.map(line)].join('\n');
}

/** The split file's JSON, users in rank order in the file (and in `user_ids`, which JSON parsers keep). */
export function userSplitJson(split: UserSplitName, users: ReadonlyArray<{ user: string; entries: readonly UserEntry[] }>): string {
  const body = users.map(({ user, entries }) => `${JSON.stringify(user)}:${JSON.stringify(entries)}`).join(',');
  return (
    `{"split":${JSON.stringify(split)},"user_ids":${JSON.stringify(users.map((u) => u.user))},` +
    `"users":{${body}},"clips":${JSON.stringify(users.flatMap((u) => u.entries))}}\n`
  );
}

export function userSplitFile(dir: string, split: UserSplitName): string {
  return join(dir, `${split}_usersplit.json`);
}

export const USER_SPLIT_SUMMARY = 'usersplit_summary.json';

/**
 * Fails when the split in `dir` was made with other options than `wanted` (its usersplit_summary.json says
 * so): reusing it would silently give other users than the config asks for. A split without a summary
 * (written by other tools) is taken as it is.
 */
export function checkUserSplitRecord(dir: string, wanted: UserSplitRecord): void {
  const path = join(dir, USER_SPLIT_SUMMARY);
  if (!existsSync(path)) return;
  const json = readJsonFile(path);
  const have = isObject(json) && isObject(json.options) ? json.options : null;
  const same = have !== null && (Object.keys(wanted) as Array<keyof UserSplitRecord>).every((k) => JSON.stringify(have[k] ?? null) === JSON.stringify(wanted[k]));
  if (!same) {
    fail(
      path,
      undefined,
      `the user split in ${dir} was made with ${JSON.stringify(have)}, the config asks for ${JSON.stringify(wanted)}; ` +
        'delete that directory, point usersplit_dir elsewhere, or set make_user_split: false to use it as it is',
    );
  }
}

/** Writes the three split files and usersplit_summary.json atomically, and prints the table. */
export function writeUserSplit(dir: string, result: UserSplit, log: ((line: string) => void) | null = (l) => process.stdout.write(`${l}\n`)): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const split of USER_SPLITS) {
    const path = userSplitFile(dir, split);
    writeFileAtomic(path, userSplitJson(split, result.splits[split]));
    written.push(path);
  }
  const summaryPath = join(dir, USER_SPLIT_SUMMARY);
  writeFileAtomic(summaryPath, `${JSON.stringify(result.summary, null, 2)}\n`);
  written.push(summaryPath);
  log?.(formatSummaryTable(result.summary));
  return written;
}

export interface RunUserSplitOptions extends UserSplitOptions {
  /** Directory of fho_lta_{train,val}.json and fho_lta_taxonomy.json. */
  annotationDir: string;
  /** ego4d.json. */
  metadata: string;
  outDir: string;
  log?: ((line: string) => void) | null;
}

/** Reads the annotations and ego4d.json, splits, writes. */
export function runUserSplit(options: RunUserSplitOptions): UserSplit {
  const taxPath = resolveIn(options.annotationDir, LTA_TAXONOMY_FILE);
  const taxonomy = options.taxonomy ?? (existsSync(taxPath) ? readTaxonomy(taxPath) : undefined);
  const read = (split: 'train' | 'val') => readLta(resolveIn(options.annotationDir, LTA_FILES[split]), { labelled: true, taxonomy });
  const result = splitUsers({ train: read('train'), val: read('val') }, readEgo4dMeta(options.metadata), { ...options, taxonomy });
  writeUserSplit(options.outDir, result, options.log === undefined ? undefined : options.log);
  return result;
}

/** Reads a `<split>_usersplit.json`: users in `user_ids` order (else file order), entries validated. */
export function readUserSplitFile(path: string, taxonomy?: LtaTaxonomy): Array<{ user: string; entries: UserEntry[] }> {
  const json = readJsonFile(path);
  if (!isObject(json) || !isObject(json.users)) fail(path, undefined, 'expected an object with "users" (a per-user split file)');
  const users = json.users;
  const order = Array.isArray(json.user_ids) ? json.user_ids.map(String) : Object.keys(users);
  return order.map((user) => {
    const raw = users[user];
    if (!Array.isArray(raw)) fail(path, `users['${user}']`, `expected a list of entries, got ${show(raw)}`);
    if (raw.length === 0) fail(path, `users['${user}']`, 'is an empty user stream');
    const lta = parseLta({ clips: raw }, `${path}: users['${user}']`, { labelled: true, taxonomy });
    const entries = lta.map((e, i) => {
      const r = raw[i] as Record<string, unknown>;
      const origin = r.origin_video_id;
      return {
        ...e,
        fb_participant_id: (r.fb_participant_id ?? null) as number | string | null,
        parent_video_scenarios: Array.isArray(r.parent_video_scenarios) ? (r.parent_video_scenarios as string[]) : [],
        origin_video_id: typeof origin === 'string' ? origin : null,
      };
    });
    return { user, entries };
  });
}
