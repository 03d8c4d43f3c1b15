import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { container } from '../plugins/di.ts';
import { Config } from '../config/config.ts';
import { UsageError, VidraError } from '../config/errors.ts';
import { merge } from '../config/merge.ts';
import { DictNode, fromPlain } from '../config/node.ts';
import { toYaml } from '../config/yaml-emit.ts';
import { instantiate } from '../plugins/instantiate.ts';
import type { JobContext, JobReturn, JobSpec, Task } from '../plugins/interfaces.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import { CONFIG, JOB_CONTEXT, REGISTRY } from '../plugins/tokens.ts';
import { preflight } from '../plugins/preflight.ts';
import { validateAll } from '../plugins/validate.ts';
import { writeFileAtomic } from '../run/atomic.ts';
import { JobLogger } from '../run/logger.ts';
import { createUniqueDir } from '../run/run-dir.ts';
import { onInterrupt } from '../run/signals.ts';
import { StatusFile } from '../run/status.ts';
import { isVidraOverride } from '../compose/compose.ts';
import { compositionFor, type RunEnvironment } from './environment.ts';

export interface JobOptions {
  env: RunEnvironment;
  registry: PluginRegistry;
  mode: 'RUN' | 'MULTIRUN';
  /** The sweep directory (MULTIRUN). */
  sweepDir?: string;
  /** Console prefix, e.g. `[job 3]`. */
  prefix?: string;
  /** Called once the run directory exists, so that a sweep interrupted mid-job can name it in summary.json. */
  onStart?: (outputDir: string) => void;
}

/** A job that is composed, resolved and validated, and knows its output directory; nothing written yet. */
export interface PreparedJob {
  config: Config;
  outputDir: string;
  task: DictNode;
}

/**
 * Reads a value of the `vidra` node, resolving its interpolations. With the job config's `root`, they
 * may read it (`run.dir: runs/${model.name}/${now:%H-%M-%S}`), as Hydra's `hydra.*` read the job config.
 */
export function vidraValue(vidra: DictNode, path: string, root?: DictNode): unknown {
  const full = new DictNode(new Map([...(root?.entries ?? []), ['vidra', vidra]]), root?.loc);
  return new Config(full, { vidra }).get(`vidra.${path}`);
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
  const rerun = env.rerunOf;
  if (rerun) {
    for (const o of comp.overrides) {
      if (rerun.choices.includes(o.key)) {
        throw new UsageError(
          `'${o.text}': '${o.key}' was a config group in the run being rerun (${rerun.dir}); rerun keeps that run's composed config, ` +
            `so change values (e.g. ${o.key}.<key>=...) or start a new run with 'vidra run'`,
        );
      }
    }
  }
  let vidra = comp.config.vidra;
  if (!vidra) throw new VidraError('the composed config has no vidra node');
  vidra = withVidra(vidra, {
    mode: options.mode,
    job: { num: job.num, id: `${process.pid}_${job.num}`, override_dirname: '' },
    runtime: { cwd: env.cwd },
  });
  vidra = withVidra(vidra, { job: { override_dirname: overrideDirname(job.overrides, vidra) } });
  const dir =
    options.mode === 'RUN'
      ? String(vidraValue(vidra, 'run.dir', comp.config.root))
      : join(options.sweepDir ?? '.', String(vidraValue(vidra, 'sweep.subdir', comp.config.root)));
  const outputDir = resolve(env.cwd, dir);
  vidra = withVidra(vidra, { runtime: { output_dir: outputDir } });
  const config = new Config(comp.config.root, { vidra });
  const resolved = config.resolvedNode();
  if (resolved.kind !== 'dict') throw new VidraError('the composed config is not a dict');
  validateAll(resolved, registry);
  const task = resolved.entries.get('task');
  if (!task || task.kind !== 'dict' || !task.entries.has('_target_')) {
    const names = registry.list('task').map((d) => d.name);
    throw new UsageError(`no task is configured: select one with task=<name> (tasks: ${names.join(', ')})`);
  }
  preflight(resolved, config, registry);
  return { config, outputDir, task };
}

/** Runs a prepared job in its own run directory, which ends `completed`, `failed` or `interrupted`. */
export async function executeJob(job: JobSpec, prepared: PreparedJob, options: JobOptions): Promise<JobReturn> {
  const { env, registry } = options;
  let { config } = prepared;
  const outputDir = createUniqueDir(prepared.outputDir);
  // status.json comes first: from here on the directory is always marked running, completed or failed.
  const status = new StatusFile(outputDir);
  if (outputDir !== prepared.outputDir) {
    config = new Config(config.root, { vidra: withVidra(config.vidra!, { runtime: { output_dir: outputDir } }) });
  }
  const meta = join(outputDir, String(vidraValue(config.vidra!, 'output_subdir', config.root)));
  const configYaml = config.toYaml({ resolve: false });
  const startedAt = status.current.started_at;
  const recorded: Record<string, unknown> = {};
  let endedAt: string | null = null;
  const writeMeta = (ended: string | null = endedAt) => {
    endedAt = ended;
    writeFileAtomic(
      join(meta, 'vidra.yaml'),
      toYaml(
        fromPlain({
          argv: env.argv,
          versions: env.versions,
          git: env.git,
          host: env.host,
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
  try {
    mkdirSync(meta, { recursive: true });
    writeFileAtomic(join(meta, 'config.yaml'), configYaml);
    // resolvedNode, not toYaml({resolve: true}): the latter throws for an interpolation to `???`, which
    // must fail the job only if the task reads it. An interpolation to `???` is recorded as `???`.
    writeFileAtomic(join(meta, 'resolved.yaml'), toYaml(config.resolvedNode()));
    writeFileAtomic(join(meta, 'overrides.yaml'), toYaml(fromPlain(job.overrides)));
    writeMeta(null);
  } catch (err) {
    status.fail(err);
    throw err;
  }
  options.onStart?.(outputDir);
  const log = new JobLogger(outputDir, { prefix: options.prefix, verbose: config.vidra ? Boolean(vidraValue(config.vidra, 'verbose', config.root)) : false });
  const abort = new AbortController();
  const dispose = onInterrupt((signal) => {
    abort.abort(signal);
    log.warn(`interrupted by ${signal}`);
    status.interrupt(signal);
    writeMeta(new Date().toISOString());
  });
  log.info(`run directory: ${outputDir}`);
  const ret: JobReturn = { num: job.num, overrides: job.overrides, status: 'running', outputDir };
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
    const result = (await task.run()) ?? undefined;
    status.complete(result);
    ret.status = 'completed';
    if (result) ret.result = result;
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    log.error(`job failed: ${e.message}`);
    if (!(err instanceof VidraError) && e.stack) log.debug(e.stack);
    status.fail(e);
    ret.status = 'failed';
    ret.error = e.message;
  } finally {
    dispose();
    writeMeta(status.current.ended_at ?? new Date().toISOString());
  }
  return ret;
}

export async function runJob(job: JobSpec, options: JobOptions): Promise<JobReturn> {
  return executeJob(job, prepareJob(job, options), options);
}
