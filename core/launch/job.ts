import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { container } from '../plugins/di.ts';
import { Config } from '../config/config.ts';
import { UsageError, VidraError } from '../config/errors.ts';
import { merge } from '../config/merge.ts';
import { DictNode, fromPlain, type SourceLoc } from '../config/node.ts';
import { toYaml } from '../config/yaml-emit.ts';
import { instantiate } from '../plugins/instantiate.ts';
import type { JobContext, JobReturn, JobSpec, Task } from '../plugins/interfaces.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import { CONFIG, JOB_CONTEXT, REGISTRY } from '../plugins/tokens.ts';
import { preflight } from '../plugins/preflight.ts';
import { validateAll } from '../plugins/validate.ts';
import { writeFileAtomic } from '../run/atomic.ts';
import { JobLogger } from '../run/logger.ts';
import { METRICS_LOGGERS, type MetricsLogger } from '../run/metrics-log.ts';
import { fsReason, startRunDir } from '../run/run-dir.ts';
import { onInterrupt } from '../run/signals.ts';
import { isVidraOverride } from '../compose/compose.ts';
import { checkRerunOverrides, compositionFor, type RunEnvironment } from './environment.ts';

export interface JobOptions {
  env: RunEnvironment;
  registry: PluginRegistry;
  mode: 'RUN' | 'MULTIRUN';
  /** The sweep directory (MULTIRUN). */
  sweepDir?: string;
  /** Console prefix, e.g. `[job 3]`. */
  prefix?: string;
  /**
   * Called once the run directory exists (status.json `running`), so that a sweep interrupted mid-job
   * can name it in summary.json, and a launcher whose worker dies can mark it.
   */
  onStart?: (outputDir: string) => void;
  /** Run in this existing directory (a requeued or resubmitted Slurm task), not a fresh one. */
  runDir?: string;
  /** More top-level entries of `.vidra/vidra.yaml` (the slurm launcher's `slurm: {job_id, ...}`). */
  meta?: Record<string, unknown>;
  /** false: compose and validate only, without the inputs and the task's fit check (a sweep expanding a job). */
  preflight?: boolean;
}

/** A job that is composed, resolved and validated, and knows its output directory; nothing written yet. */
export interface PreparedJob {
  config: Config;
  outputDir: string;
  /** Where the job's metadata goes (`vidra.output_subdir`, relative to the run directory); null: nowhere. */
  outputSubdir: string | null;
  task: DictNode;
}

/**
 * Reads a value of the `vidra` node, resolving its interpolations. With the job config's `root`, they
 * may read it (`run.dir: runs/${model.name}/${now:%H-%M-%S}`), as Hydra's `hydra.*` read the job config.
 */
export function vidraValue(vidra: DictNode, path: string, root?: DictNode): unknown {
  return vidraConfig(vidra, root).get(`vidra.${path}`);
}

function vidraConfig(vidra: DictNode, root?: DictNode): Config {
  return new Config(new DictNode(new Map([...(root?.entries ?? []), ['vidra', vidra]]), root?.loc), { vidra });
}

/** A `vidra` setting, resolved, with where it was set (for error messages). */
function vidraSetting(vidra: DictNode, path: string, root?: DictNode): { value: unknown; loc?: SourceLoc } {
  const node = vidraConfig(vidra, root).resolvedNode(`vidra.${path}`);
  return { value: node.kind === 'value' ? node.value : undefined, loc: node.loc };
}

/**
 * A directory setting (`run.dir`, `sweep.dir`, `sweep.subdir`): an empty one would name the working
 * directory itself, and the run would land beside it (`<cwd>_1`), outside the project.
 */
export function vidraDirSetting(vidra: DictNode, path: string, root?: DictNode): string {
  const { value, loc } = vidraSetting(vidra, path, root);
  if (value === null || String(value).trim() === '') {
    throw new UsageError(`vidra.${path} is empty: it must name a directory (e.g. vidra.${path}=${{ 'run.dir': 'runs/my_run', 'sweep.dir': 'runs/my_sweep', 'sweep.subdir': "'${vidra:job.num}'" }[path]})`, { loc });
  }
  return String(value);
}

/** `vidra.output_subdir`: a folder inside the run directory, or null to save no metadata (as Hydra's `hydra.output_subdir`). */
function outputSubdir(vidra: DictNode, root?: DictNode): string | null {
  const { value, loc } = vidraSetting(vidra, 'output_subdir', root);
  if (value === null) return null;
  const sub = String(value);
  const inside = sub.trim() !== '' && !isAbsolute(sub) && normalize(sub) !== '..' && !normalize(sub).startsWith(`..${sep}`);
  if (!inside) {
    throw new UsageError(
      `vidra.output_subdir '${sub}' ${sub.trim() === '' ? 'is empty' : 'leaves the run directory'}: it must be a relative path inside the run directory (e.g. .vidra), or null to save no metadata`,
      { loc },
    );
  }
  return sub;
}

/** `vidra.logger`: null (metrics.jsonl only) or a logger that also gets the run's metrics (TensorBoard). */
export function metricsLogger(vidra: DictNode, root?: DictNode): MetricsLogger | null {
  const { value, loc } = vidraSetting(vidra, 'logger', root);
  if (value === null || value === undefined) return null;
  if (!(METRICS_LOGGERS as readonly unknown[]).includes(value)) {
    throw new UsageError(`vidra.logger '${String(value)}' is not a logger: use ${METRICS_LOGGERS.join(', ')}, or null for metrics.jsonl only`, { loc });
  }
  return value as MetricsLogger;
}

function withVidra(vidra: DictNode, patch: Record<string, unknown>): DictNode {
  return merge(vidra, fromPlain(patch)) as DictNode;
}

/** Hydra's override_dirname: the job's overrides sorted, `key=value` joined, excluded keys left out. */
export function overrideDirname(overrides: readonly string[], vidra: DictNode): string {
  const kv = String(vidraValue(vidra, 'job.config.override_dirname.kv_sep'));
  const sep = String(vidraValue(vidra, 'job.config.override_dirname.item_sep'));
  const exclude = vidraValue(vidra, 'job.config.override_dirname.exclude_keys') as string[];
  return [...overrides]
    .filter((o) => !isVidraOverride(o) && !exclude.includes(o.split('=')[0]!.replace(/^[+~]+/, '')))
    .sort()
    .map((o) => o.replace('=', kv))
    .join(sep);
}

/**
 * Composes a job and resolves everything it will need — so that bad config fails here, with exit
 * code 2, before any run directory exists.
 */
export function prepareJob(job: JobSpec, options: JobOptions): PreparedJob {
  const { env, registry } = options;
  const comp = compositionFor(env, job.overrides);
  checkRerunOverrides(env, comp);
  let vidra = comp.config.vidra;
  if (!vidra) throw new VidraError('the composed config has no vidra node');
  vidra = withVidra(vidra, {
    mode: options.mode,
    job: { num: job.num, id: `${process.pid}_${job.num}`, override_dirname: '' },
    runtime: { cwd: env.cwd },
  });
  vidra = withVidra(vidra, { job: { override_dirname: overrideDirname(job.overrides, vidra) } });
  // A sweep checks its `sweep.dir` here too, while composing each job: the job's overrides are the
  // command line's, so an error names the argument the user typed.
  if (options.mode === 'MULTIRUN') vidraDirSetting(vidra, 'sweep.dir', comp.config.root);
  const dir =
    options.mode === 'RUN'
      ? vidraDirSetting(vidra, 'run.dir', comp.config.root)
      : join(options.sweepDir ?? '.', vidraDirSetting(vidra, 'sweep.subdir', comp.config.root));
  const subdir = outputSubdir(vidra, comp.config.root);
  metricsLogger(vidra, comp.config.root);
  const outputDir = resolve(env.cwd, dir);
  vidra = withVidra(vidra, { runtime: { output_dir: outputDir } });
  const config = new Config(comp.config.root, { vidra });
  const resolved = config.resolvedNode();
  if (resolved.kind !== 'dict') throw new VidraError('the composed config is not a dict');
  const plugins = validateAll(resolved, registry);
  const task = resolved.entries.get('task');
  if (!task || task.kind !== 'dict' || !task.entries.has('_target_')) {
    const names = registry.list('task').map((d) => d.name);
    throw new UsageError(`no task is configured: select one with task=<name> (tasks: ${names.join(', ')})`);
  }
  if (options.preflight !== false) preflight(plugins, config, registry);
  return { config, outputDir, outputSubdir: subdir, task };
}

/** Runs a prepared job in its own run directory, which ends `completed`, `failed` or `interrupted`. */
export async function executeJob(job: JobSpec, prepared: PreparedJob, options: JobOptions): Promise<JobReturn> {
  const { env, registry } = options;
  let { config } = prepared;
  // status.json comes first: from here on the directory is always marked running, completed or failed.
  const setting = options.mode === 'RUN' ? 'vidra.run.dir' : 'vidra.sweep.subdir';
  const { dir: outputDir, status } = startRunDir(options.runDir ?? prepared.outputDir, setting, options.runDir !== undefined);
  options.onStart?.(outputDir);
  if (outputDir !== prepared.outputDir) {
    config = new Config(config.root, { vidra: withVidra(config.vidra!, { runtime: { output_dir: outputDir } }) });
  }
  const meta = prepared.outputSubdir === null ? null : join(outputDir, prepared.outputSubdir);
  const configYaml = config.toYaml({ resolve: false });
  const startedAt = status.current.started_at;
  const recorded: Record<string, unknown> = {};
  let endedAt: string | null = null;
  const writeMeta = (ended: string | null = endedAt) => {
    endedAt = ended;
    if (meta === null) return;
    writeFileAtomic(
      join(meta, 'vidra.yaml'),
      toYaml(
        fromPlain({
          argv: env.argv,
          versions: env.versions,
          git: env.git,
          host: env.host,
          ...options.meta,
          pid: process.pid,
          seed: config.select('seed', { default: null }) ?? null,
          config_hash: `sha256:${createHash('sha256').update(configYaml).digest('hex')}`,
          started_at: startedAt,
          ended_at: ended,
          environment: { configDir: env.configDir, configName: env.configName, searchPath: env.searchPath, plugins: env.plugins, pluginRoot: env.pluginRoot },
          recorded,
          vidra: config.vidra!,
        }),
      ),
    );
  };
  const log = new JobLogger(outputDir, { prefix: options.prefix, verbose: config.vidra ? Boolean(vidraValue(config.vidra, 'verbose', config.root)) : false });
  const ret: JobReturn = { num: job.num, overrides: job.overrides, status: 'running', outputDir };
  try {
    if (meta !== null) {
      mkdirSync(meta, { recursive: true });
      writeFileAtomic(join(meta, 'config.yaml'), configYaml);
      // resolvedNode, not toYaml({resolve: true}): the latter throws for an interpolation to `???`, which
      // must fail the job only if the task reads it. An interpolation to `???` is recorded as `???`.
      writeFileAtomic(join(meta, 'resolved.yaml'), toYaml(config.resolvedNode()));
      writeFileAtomic(join(meta, 'overrides.yaml'), toYaml(fromPlain(job.overrides)));
      writeMeta(null);
    }
  } catch (err) {
    // A full disk or a file size limit: the job fails before its task starts, its directory marked so.
    const message = `cannot write the run metadata in '${meta}' (vidra.output_subdir): ${fsReason(err as NodeJS.ErrnoException, meta!)}`;
    log.error(`job failed: ${message}`);
    status.fail(new VidraError(message, { cause: err }));
    return { ...ret, status: 'failed', error: message };
  }
  const abort = new AbortController();
  const dispose = onInterrupt((signal) => {
    abort.abort(signal);
    log.warn(`interrupted by ${signal}`);
    status.interrupt(signal);
    writeMeta(status.current.ended_at);
  });
  log.info(`run directory: ${outputDir}`);
  let result: Record<string, unknown> | undefined;
  let failure: Error | undefined;
  try {
    const record = (key: string, value: unknown) => {
      recorded[key] = value;
      writeMeta();
    };
    const ctx: JobContext = { config, outputDir, jobNum: job.num, log, signal: abort.signal, record };
    const child = container.createChildContainer();
    child.register(JOB_CONTEXT, { useValue: ctx });
    child.register(CONFIG, { useValue: config });
    child.register(REGISTRY, { useValue: registry });
    const task = instantiate<Task>(prepared.task, { container: child, registry, kind: 'task', path: 'task' }) as Task;
    result = (await task.run()) ?? undefined;
  } catch (err) {
    failure = err instanceof Error ? err : new Error(String(err));
    log.error(`job failed: ${failure.message}`);
    if (!(err instanceof VidraError) && failure.stack) log.debug(failure.stack);
  } finally {
    dispose();
  }
  // The final records, metadata first: if it cannot be written (a full disk), the job fails with that reason.
  // An interrupted job keeps the time its status.json was marked.
  const ended = status.finished ? new Date(status.current.ended_at!) : new Date();
  try {
    status.withReserve(() => writeMeta(ended.toISOString()));
  } catch (err) {
    log.error(`job failed: could not write ${join(meta!, 'vidra.yaml')}: ${(err as Error).message}`);
    failure ??= err as Error;
  }
  try {
    if (failure) status.fail(failure, ended);
    else status.complete(result, ended);
  } catch (err) {
    // Not even with the space held for it: the console and the sweep's summary carry the reason instead.
    log.error((err as Error).message);
    failure = new Error(`${failure ? `${failure.message}; ` : ''}${(err as Error).message}`);
  }
  ret.status = failure ? 'failed' : 'completed';
  if (failure) ret.error = failure.message;
  else if (result) ret.result = result;
  return ret;
}

export async function runJob(job: JobSpec, options: JobOptions): Promise<JobReturn> {
  return executeJob(job, prepareJob(job, options), options);
}
