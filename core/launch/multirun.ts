import { join, relative, resolve } from 'node:path';
import { container } from '../plugins/di.ts';
import { Config } from '../config/config.ts';
import { VidraError } from '../config/errors.ts';
import { merge } from '../config/merge.ts';
import { describeType, DictNode, fromPlain } from '../config/node.ts';
import { toYaml } from '../config/yaml-emit.ts';
import { isSweep, parseOverrideInternal } from '../overrides/parse.ts';
import { instantiate } from '../plugins/instantiate.ts';
import type { JobReturn, JobSpec, LaunchContext, Launcher, Sweeper } from '../plugins/interfaces.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import { REGISTRY } from '../plugins/tokens.ts';
import { validateAll } from '../plugins/validate.ts';
import { writeFileAtomic } from '../run/atomic.ts';
import { ProgressBar, progressStyle } from '../run/progress.ts';
import { createOutputDir } from '../run/run-dir.ts';
import { onInterrupt } from '../run/signals.ts';
import { isVidraOverride } from '../compose/compose.ts';
import { compositionFor, type RunEnvironment } from './environment.ts';
import { executeJob, prepareJob, vidraDirSetting } from './job.ts';

export interface MultirunResult {
  sweepDir: string | null;
  jobs: JobReturn[];
  /** The sweep's report (vidra.report), or null: none asked for, interrupted, or it could not be written. */
  report?: string | null;
}

/**
 * `vidra run -m`: the sweeper (vidra.sweeper) turns the overrides into jobs, checking that every job
 * composes before anything starts; the launcher (vidra.launcher) runs them. A failing job does not stop
 * the others. The sweep directory gets `multirun.yaml` first and `summary.json` last.
 */
export async function multirun(overrides: string[], env: RunEnvironment, registry: PluginRegistry): Promise<MultirunResult> {
  const fixed = overrides.filter((t) => !isSweep(parseOverrideInternal(t)));
  const base = compositionFor(env, fixed);
  // multirun.yaml records the whole command line, sweeps included (as Hydra's does): the base config was
  // composed without the sweeps, so its vidra.overrides would not say what the sweep was.
  const vidra = merge(
    base.config.vidra!,
    fromPlain({ mode: 'MULTIRUN', overrides: { task: overrides.filter((o) => !isVidraOverride(o)), vidra: overrides.filter(isVidraOverride) } }),
  ) as DictNode;
  // The vidra node resolves with the job config around it: `sweep.dir: runs/${model.name}` may read it.
  const full = new DictNode(new Map([...base.config.root.entries, ['vidra', vidra]]));
  const resolvedVidra = new Config(full, { vidra }).resolvedNode('vidra');
  validateAll(resolvedVidra, registry, 'vidra');
  if (resolvedVidra.kind !== 'dict') throw new VidraError('the vidra node is not a dict');
  const wantReport = reportSetting(resolvedVidra);
  const di = container.createChildContainer();
  di.register(REGISTRY, { useValue: registry });
  const build = <T>(key: 'sweeper' | 'launcher') =>
    instantiate<T>(resolvedVidra.entries.get(key) as DictNode, { container: di, registry, kind: key, path: `vidra.${key}` }) as T;
  const sweeper = build<Sweeper>('sweeper');
  const launcher = build<Launcher>('launcher');

  const abort = new AbortController();
  const results = new Map<number, JobReturn>();
  let sweepDir: string | null = null;
  let nextNum = 0;
  let interrupted = false;
  const writeSummary = (failure?: string) => {
    // After an interruption the summary written by the signal handler is final: what a launcher
    // reports later for the jobs it stopped says less (it may not know their directories).
    if (!sweepDir || interrupted) return;
    const jobs = [...results.values()].sort((a, b) => a.num - b.num);
    const head = failure === undefined ? { sweep_dir: sweepDir } : { sweep_dir: sweepDir, status: 'failed', error: failure };
    writeFileAtomic(join(sweepDir, 'summary.json'), `${JSON.stringify({ ...head, jobs }, null, 2)}\n`);
  };
  const dispose = onInterrupt((signal) => {
    abort.abort(signal);
    for (const r of results.values()) {
      if (r.status !== 'running') continue;
      r.status = 'interrupted';
      r.error = `interrupted by ${signal}`;
    }
    writeSummary();
    interrupted = true;
  });
  const jobOptions = (dir: string) => ({ env, registry, mode: 'MULTIRUN' as const, sweepDir: dir });
  // Jobs done/failed with an ETA; the total grows with each batch the sweeper launches. While the sweep's
  // bar owns the terminal, its jobs (and forked workers, by the environment) report in plain lines.
  let bar: ProgressBar | null = null;
  let ended = 0;
  let failed = 0;
  const counted = new Set<number>();
  const jobEnded = (ret: JobReturn) => {
    if (counted.has(ret.num)) return;
    counted.add(ret.num);
    ended++;
    if (ret.status !== 'completed') failed++;
    bar?.update(ended, `done, ${failed} failed`);
  };
  const style = progressStyle();
  const savedStyle = process.env.VIDRA_PROGRESS;
  if (style === 'bar') process.env.VIDRA_PROGRESS = 'lines';

  try {
    const jobs = await sweeper.sweep(overrides, {
      check: (jobOverrides) => {
        prepareJob({ num: 0, overrides: jobOverrides }, jobOptions('.'));
      },
      expand: (jobOverrides) => {
        const prepared = prepareJob({ num: 0, overrides: jobOverrides }, { ...jobOptions('.'), preflight: false });
        const target = prepared.task.entries.get('_target_');
        const values = target?.kind === 'value' ? registry.get(String(target.value), 'task').expand?.({ config: prepared.config }) : null;
        return values ? expandOverrides(jobOverrides, values) : [jobOverrides];
      },
      groupOptions: (group) => base.repo.options(group),
      launch: async (batch) => {
        // Interrupted while an earlier batch ran: start nothing more (the process is about to exit).
        if (abort.signal.aborted) return batch.map((o) => ({ num: nextNum++, overrides: o, status: 'not_started' as const, outputDir: null }));
        if (sweepDir === null) {
          sweepDir = createOutputDir(resolve(env.cwd, vidraDirSetting(vidra, 'sweep.dir', base.config.root)), 'sweep directory', 'vidra.sweep.dir');
          writeFileAtomic(join(sweepDir, 'multirun.yaml'), toYaml(full));
        }
        const dir = sweepDir;
        const specs: JobSpec[] = batch.map((o) => ({ num: nextNum++, overrides: o }));
        bar = new ProgressBar('jobs', nextNum, undefined, { unit: 'jobs', style });
        for (const s of specs) results.set(s.num, { num: s.num, overrides: s.overrides, status: 'not_started', outputDir: null });
        const ctx: LaunchContext = {
          sweepDir: dir,
          environment: env,
          signal: abort.signal,
          jobEnded,
          jobStarted: (num, outputDir) => {
            const entry = results.get(num);
            if (!entry) return;
            entry.status = 'running';
            if (outputDir) entry.outputDir = outputDir;
          },
          runJobHere: async (job) => {
            const entry = results.get(job.num)!;
            entry.status = 'running';
            let ret: JobReturn;
            try {
              const prepared = prepareJob(job, jobOptions(dir));
              ret = await executeJob(job, prepared, {
                ...jobOptions(dir),
                prefix: `[job ${job.num}]`,
                onStart: (outputDir) => (entry.outputDir = outputDir),
              });
            } catch (err) {
              ret = { ...entry, status: 'failed', error: (err as Error).message };
            }
            results.set(job.num, ret);
            jobEnded(ret);
            return ret;
          },
        };
        let returns: JobReturn[];
        try {
          returns = await launcher.launch(specs, ctx);
        } catch (err) {
          // The launcher could not run this batch (sbatch refused it): the sweep directory says so.
          const reason = (err as Error).message;
          for (const s of specs) if (results.get(s.num)!.status === 'not_started') results.get(s.num)!.error = reason;
          bar.done();
          writeSummary(reason);
          (err as Error).message += ` (sweep directory ${relative(env.cwd, dir) || '.'} marked failed in summary.json)`;
          throw err;
        }
        for (const r of returns) {
          results.set(r.num, r);
          if (r.status !== 'pending') jobEnded(r);
        }
        bar.done();
        writeSummary();
        return returns;
      },
    });
    writeSummary();
    // After an interruption the process is about to exit: no report then (`vidra report` writes one later).
    const report = sweepDir && wantReport && !abort.signal.aborted ? (await import('../report/write.ts')).writeSweepReport(sweepDir) : null;
    return { sweepDir, jobs, report };
  } finally {
    dispose();
    if (savedStyle === undefined) delete process.env.VIDRA_PROGRESS;
    else process.env.VIDRA_PROGRESS = savedStyle;
  }
}

/** `vidra.report`: true or false. */
function reportSetting(vidra: DictNode): boolean {
  const node = vidra.entries.get('report');
  if (node === undefined) return false;
  if (node.kind === 'value' && typeof node.value === 'boolean') return node.value;
  const got = node.kind === 'value' ? `${describeType(node)} '${String(node.value)}'` : describeType(node);
  throw new VidraError(`vidra.report must be true or false, not ${got}`, { loc: node.loc });
}

/** The end-of-sweep table: one row per job. */
export function formatSummary(result: MultirunResult, cwd: string, table = true): string {
  const rows = result.jobs.map((j) => [
    String(j.num),
    j.status,
    j.overrides.filter((o) => !isVidraOverride(o)).join(' '), // the vidra ones are the same for every job
    j.outputDir ? relative(cwd, j.outputDir) || '.' : '-',
    j.error ? j.error.split('\n')[0]! : j.result ? Object.entries(j.result).map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(6)) : String(v)}`).join(' ') : '',
  ]);
  const head = ['job', 'status', 'overrides', 'dir', 'result'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const failed = result.jobs.filter((j) => j.status !== 'completed').length;
  return [
    ...(table ? [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)] : []),
    `${result.jobs.length - failed} of ${result.jobs.length} jobs completed${result.sweepDir ? `; sweep directory: ${relative(cwd, result.sweepDir)}` : ''}`,
    ...(result.report ? [`report: ${relative(cwd, result.report)}`] : []),
  ].join('\n');
}

/** The jobs a task's `expand` values make of one job: each replaced key's override, value by value (cartesian). */
function expandOverrides(job: string[], values: Record<string, string[]>): string[][] {
  let jobs = [job];
  for (const [key, list] of Object.entries(values)) {
    jobs = jobs.flatMap((j) => list.map((v) => j.map((o) => (parseOverrideInternal(o).key === key ? `${key}=${v}` : o))));
  }
  return jobs;
}
