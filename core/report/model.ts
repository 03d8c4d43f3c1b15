// The report's data model, read from what runs and sweeps leave on disk: a sweep's summary.json and
// multirun.yaml, each job's status.json, .vidra/overrides.yaml, metrics.json and metrics.jsonl. The HTML,
// Markdown and CSV writers all render this one model.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { VidraError } from '../config/errors.ts';
import { isSweep, parseOverrideInternal } from '../overrides/parse.ts';
import { findMetadataDir } from '../run/metadata.ts';

/** One metric's values over a job's life: `[x, value]` points (x: the step, or the evaluation's index). */
export interface Curve {
  /** The metric: `loss`, `lr`, `val/map`, `eval/continual/verb/stream_acc`, `stream/loss`. */
  metric: string;
  /** A part of the job the curve belongs to (the continual task's user), or '' for the whole job. */
  part: string;
  x: 'step' | 'evaluation';
  points: Array<[number, number]>;
}

/** A continual run's accuracy matrix: row i after training on the i-th stream (or before any), column j stream j. */
export interface AccuracyMatrix {
  /** The metrics.jsonl key, `continual/<target>/accuracy`. */
  name: string;
  rows: string[];
  columns: string[];
  values: Array<Array<number | null>>;
}

export interface ReportJob {
  /** The sweep (or run) directory as given on the command line. */
  source: string;
  num: number;
  dir: string | null;
  status: string;
  error: string | null;
  /** The job's own overrides, `key → value` as written (Vidra's own `vidra.*` left out). */
  overrides: Record<string, string>;
  /** The final metrics (metrics.json, else the result in status.json or summary.json). */
  final: Record<string, number>;
  curves: Curve[];
  matrices: AccuracyMatrix[];
  /** An extraction run's (task=extract_features) failed videos, from its failed_videos.json; else absent. */
  failedVideos?: Array<{ uid: string; reason: string }>;
}

export interface ReportSource {
  dir: string;
  kind: 'sweep' | 'run';
  /** The swept override keys: those a sweep expanded, and any whose value differs between the jobs. */
  params: string[];
  jobs: ReportJob[];
}

export interface ReportData {
  sources: ReportSource[];
  /** The union of every source's swept keys, in order of first appearance. */
  params: string[];
  /** Every final metric some job has, in order of first appearance. */
  metrics: string[];
}

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

function readJsonIf<T>(file: string): T | null {
  if (!existsSync(file)) return null;
  try {
    return readJson(file) as T;
  } catch (err) {
    throw new VidraError(`cannot read '${file}': ${(err as Error).message}`);
  }
}

/** `key=value` → [key, value]; Vidra's own settings say nothing about the experiment. */
function overrideMap(overrides: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of overrides) {
    const eq = o.indexOf('=');
    const key = eq < 0 ? o : o.slice(0, eq);
    if (/^\+{0,2}vidra[./]/.test(key)) continue;
    out[key] = eq < 0 ? '' : o.slice(eq + 1);
  }
  return out;
}

const numeric = (record: Record<string, unknown> | null | undefined): Record<string, number> =>
  Object.fromEntries(Object.entries(record ?? {}).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));

/** Keys that place a metrics.jsonl row rather than measure something. */
const PLACE_KEYS = new Set(['step', 'epoch', 'time', 'split', 'phase', 'user', 'after_user']);

/** metrics.jsonl's rows, in order; a cut-off last line (a job killed mid-write) is left out. */
export function readMetricsRows(file: string): Array<Record<string, unknown>> {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  let last = lines.length - 1;
  while (last > 0 && lines[last]!.trim() === '') last--;
  return lines.flatMap((line, i) => {
    if (!line.trim()) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch (err) {
      if (i === last) return [];
      throw new VidraError(`${file}:${i + 1}: not a JSON line: ${(err as Error).message}`);
    }
  });
}

/** metrics.jsonl → curves: rows group by their `split` or `phase`; a row's own `user` makes a curve per user. */
export function curvesOf(rows: ReadonlyArray<Record<string, unknown>>): Curve[] {
  const curves = new Map<string, Curve>();
  const counts = new Map<string, number>();
  for (const row of rows) {
    const group = typeof row.split === 'string' ? row.split : typeof row.phase === 'string' && row.phase !== 'train' ? row.phase : '';
    const part = typeof row.user === 'string' || typeof row.user === 'number' ? `user ${row.user}` : '';
    const index = counts.get(group) ?? 0;
    counts.set(group, index + 1);
    const hasStep = typeof row.step === 'number';
    for (const [key, value] of Object.entries(row)) {
      if (PLACE_KEYS.has(key) || typeof value !== 'number' || !Number.isFinite(value)) continue;
      const metric = group ? `${group}/${key}` : key;
      const id = `${metric}\u0000${part}`;
      let curve = curves.get(id);
      if (!curve) curves.set(id, (curve = { metric, part, x: hasStep ? 'step' : 'evaluation', points: [] }));
      curve.points.push([hasStep ? (row.step as number) : index, value]);
    }
  }
  return [...curves.values()];
}

/**
 * The continual task's accuracy matrices: each eval row's `continual/<target>/accuracy` (the accuracy on every
 * stream) is a row, labelled by the user trained last; the streams are the users in the order they trained.
 */
export function matricesOf(rows: ReadonlyArray<Record<string, unknown>>): AccuracyMatrix[] {
  const evals = rows.filter((r) => r.phase === 'eval');
  const names = [...new Set(evals.flatMap((r) => Object.keys(r).filter((k) => k.endsWith('/accuracy') && Array.isArray(r[k]))))];
  const trained = evals.map((r) => r.after_user).filter((u) => typeof u === 'string' || typeof u === 'number');
  return names.map((name) => {
    const withRow = evals.filter((r) => Array.isArray(r[name]));
    const values = withRow.map((r) => (r[name] as unknown[]).map((v) => (typeof v === 'number' ? v : null)));
    const width = Math.max(...values.map((v) => v.length));
    return {
      name,
      rows: withRow.map((r, i) => (r.after_user === null ? 'before training' : 'after_user' in r ? `after user ${r.after_user}` : `evaluation ${i}`)),
      columns: Array.from({ length: width }, (_, j) => (j < trained.length ? `user ${trained[j]}` : `stream ${j}`)),
      values,
    };
  });
}

interface StatusFile {
  status?: string;
  duration_s?: number;
  /** `{ type, message }` as status.json records a job's error (a plain string in older files). */
  error?: string | { message?: string };
  signal?: string;
  result?: Record<string, unknown>;
}

interface SummaryJob {
  num: number;
  overrides: string[];
  status: string;
  outputDir: string | null;
  error?: string;
  result?: Record<string, unknown>;
}

function errorText(status: StatusFile | null): string | null {
  const e = status?.error;
  if (typeof e === 'string') return e;
  if (e && typeof e.message === 'string') return e.message;
  return status?.signal ? `interrupted by ${status.signal}` : null;
}

function readJob(source: string, num: number, dir: string | null, overrides: string[], fallback: Partial<SummaryJob>): ReportJob {
  const status = dir ? readJsonIf<StatusFile>(join(dir, 'status.json')) : null;
  const rows = dir ? readMetricsRows(join(dir, 'metrics.jsonl')) : [];
  const final = (dir ? readJsonIf<Record<string, unknown>>(join(dir, 'metrics.json')) : null) ?? status?.result ?? fallback.result;
  const failedVideos = dir ? readJsonIf<Array<{ uid?: unknown; reason?: unknown }>>(join(dir, 'failed_videos.json')) : null;
  return {
    source,
    num,
    dir,
    status: status?.status ?? fallback.status ?? 'unknown',
    error: errorText(status) ?? fallback.error ?? null,
    overrides: overrideMap(overrides),
    final: failedVideos ? withThroughput(numeric(final), status?.duration_s) : numeric(final),
    curves: curvesOf(rows),
    matrices: matricesOf(rows),
    ...(failedVideos ? { failedVideos: failedVideos.map((f) => ({ uid: String(f.uid), reason: String(f.reason) })) } : {}),
  };
}

/** An extraction run's throughput over its whole run (model load included): windows/s and videos/s extracted. */
function withThroughput(final: Record<string, number>, seconds: number | undefined): Record<string, number> {
  if (typeof seconds !== 'number' || !(seconds > 0)) return final;
  return {
    ...final,
    ...(final.windows !== undefined ? { windows_per_s: final.windows / seconds } : {}),
    ...(final.extracted !== undefined ? { videos_per_s: final.extracted / seconds } : {}),
  };
}

function jobOverrides(dir: string): string[] {
  // The metadata folder the run used: .vidra, or the one its vidra.output_subdir named.
  const meta = findMetadataDir(dir);
  const file = meta ? join(meta, 'overrides.yaml') : null;
  if (!file || !existsSync(file)) return [];
  const list = parseYaml(readFileSync(file, 'utf8')) as unknown;
  return Array.isArray(list) ? list.map(String) : [];
}

/** The keys a sweep's command line swept (multirun.yaml records it under vidra.overrides.task). */
function sweptKeys(dir: string): string[] {
  const file = join(dir, 'multirun.yaml');
  if (!existsSync(file)) return [];
  const doc = parseYaml(readFileSync(file, 'utf8')) as { vidra?: { overrides?: { task?: unknown } } } | null;
  const task = doc?.vidra?.overrides?.task;
  if (!Array.isArray(task)) return [];
  return task.flatMap((o) => {
    try {
      return isSweep(parseOverrideInternal(String(o))) ? Object.keys(overrideMap([String(o)])) : [];
    } catch {
      return []; // the sweep ran it, so it parsed then; a grammar change since must not stop the report
    }
  });
}

/** A job's directory: where the summary says, or beside summary.json when the sweep was moved. */
function jobDir(sweepDir: string, job: SummaryJob): string | null {
  if (!job.outputDir) return null;
  if (existsSync(job.outputDir)) return job.outputDir;
  const moved = join(sweepDir, basename(job.outputDir));
  return existsSync(moved) ? moved : null;
}

function readSweep(given: string, dir: string): ReportSource {
  const summary = readJsonIf<{ jobs?: SummaryJob[] }>(join(dir, 'summary.json'));
  let jobs: ReportJob[];
  if (summary?.jobs) {
    jobs = summary.jobs.map((j) => readJob(given, j.num, jobDir(dir, j), j.overrides ?? [], j));
  } else {
    // Stopped before its summary: the job directories that have a status.json.
    jobs = readdirSync(dir)
      .filter((name) => existsSync(join(dir, name, 'status.json')))
      .sort((a, b) => Number(a) - Number(b) || a.localeCompare(b))
      .map((name, i) => readJob(given, Number.isInteger(Number(name)) ? Number(name) : i, join(dir, name), jobOverrides(join(dir, name)), {}));
  }
  return { dir: given, kind: 'sweep', params: paramsOf(jobs, sweptKeys(dir)), jobs };
}

/** Swept keys first, then any other key whose value is not the same in every job. */
function paramsOf(jobs: readonly ReportJob[], swept: readonly string[]): string[] {
  const keys = new Set(swept);
  for (const job of jobs) {
    for (const key of Object.keys(job.overrides)) {
      if (jobs.some((other) => other.overrides[key] !== job.overrides[key])) keys.add(key);
    }
  }
  return [...keys];
}

/** The model of `dirs`: each one a sweep directory (summary.json or multirun.yaml) or a run directory (status.json). */
export function loadReport(dirs: readonly string[], cwd = process.cwd()): ReportData {
  if (dirs.length === 0) throw new VidraError('vidra report: name at least one run or sweep directory (e.g. vidra report runs/multirun/2026-12-02/16-19-46)');
  const sources = dirs.map((given): ReportSource => {
    const dir = resolve(cwd, given);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new VidraError(`vidra report: '${given}' is not a directory`);
    if (existsSync(join(dir, 'summary.json')) || existsSync(join(dir, 'multirun.yaml'))) return readSweep(given, dir);
    if (existsSync(join(dir, 'status.json'))) {
      const job = readJob(given, 0, dir, jobOverrides(dir), {});
      return { dir: given, kind: 'run', params: Object.keys(job.overrides), jobs: [job] };
    }
    throw new VidraError(
      `vidra report: '${given}' is neither a sweep directory (it has no summary.json or multirun.yaml) nor a run directory (no status.json)`,
    );
  });
  const params = [...new Set(sources.flatMap((s) => s.params))];
  const metrics = [...new Set(sources.flatMap((s) => s.jobs.flatMap((j) => Object.keys(j.final))))];
  return { sources, params, metrics };
}
