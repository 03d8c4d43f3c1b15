import { existsSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { composeDetailed, makeRepository, type Composition } from '../compose/compose.ts';
import type { SearchPathEntry } from '../compose/repository.ts';
import { Config } from '../config/config.ts';
import { UsageError } from '../config/errors.ts';
import { DictNode } from '../config/node.ts';
import { toYaml } from '../config/yaml-emit.ts';
import { makeEnvironment, type RunEnvironment } from '../launch/environment.ts';
import type { PluginDefinition } from '../plugins/registry.ts';
import { consoleLevel, setConsoleLevel } from '../run/progress.ts';
import { loadSettings } from '../settings.ts';
import { parseRunArgs, type RunArgs } from './args.ts';
import { formatHelp } from './help.ts';
import { formatInfo } from './info.ts';

export interface CliContext {
  cwd: string;
  configDir: string;
  configName: string;
  searchPath: SearchPathEntry[];
  plugins: string[];
  pluginRoot: string;
}

/** Where configs and plugins come from: the project settings, then the command-line flags. */
export async function cliContext(args: Pick<RunArgs, 'configPath' | 'configName' | 'configDirs'>, cwd = process.cwd()): Promise<CliContext> {
  const settings = await loadSettings(cwd);
  // Check the directories given on the command line here, where the message can name the flag and
  // the path as typed (the composer only sees absolute paths).
  const checkDir = (flag: string, dir: string) => {
    const abs = resolve(cwd, dir);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new UsageError(`${flag}: the config directory '${dir}' does not exist (resolved to ${abs})`);
    return abs;
  };
  return {
    cwd,
    configDir: args.configPath !== null ? checkDir('-cp/--config-path', args.configPath) : settings.configDir,
    configName: args.configName ?? settings.configName,
    searchPath: [
      ...args.configDirs.map((d) => ({ dir: checkDir('-cd/--config-dir', d), provider: 'command-line' })),
      ...settings.searchPath.map((d) => ({ dir: d, provider: 'settings' })),
    ],
    plugins: settings.plugins,
    pluginRoot: settings.root,
  };
}

export type BuiltinsLoader = () => Promise<readonly PluginDefinition[]>;

export async function runCommand(argv: string[], builtins: BuiltinsLoader): Promise<number> {
  const args = parseRunArgs(argv);
  applyConsoleFlags(args);
  const ctx = await cliContext(args);
  if (args.help) {
    const { createRegistry } = await import('../plugins/loader.ts');
    const registry = await createRegistry(await builtins(), ctx.plugins, ctx.pluginRoot);
    process.stdout.write(formatHelp(makeRepository(ctx), registry, ctx));
    return 0;
  }
  if (args.cfg || args.info) {
    return show(args, composeDetailed({ configDir: ctx.configDir, configName: ctx.configName, searchPath: ctx.searchPath, overrides: args.overrides }), ctx, builtins);
  }
  const env = makeEnvironment({ ...ctx, argv: process.argv.slice(1) });
  return launch(withDetach(args.overrides, args.detach), args.multirun, env, builtins);
}

/** `--quiet` / `--verbose`: the console level of the jobs' loggers and progress (core/run/progress.ts). */
export function applyConsoleFlags(args: Pick<RunArgs, 'quiet' | 'verbose'>): void {
  if (args.quiet || args.verbose) setConsoleLevel(args.quiet ? 'quiet' : 'verbose');
}

/** `--detach` is `vidra.launcher.wait=false` (a launcher that runs jobs elsewhere, as slurm, then returns at once). */
export function withDetach(overrides: string[], detach: boolean): string[] {
  return detach ? [...overrides, 'vidra.launcher.wait=false'] : overrides;
}

/** `--cfg` / `--info`: prints the composed config, or how it was put together, instead of running. */
export async function show(args: RunArgs, comp: Composition, ctx: Pick<CliContext, 'plugins' | 'pluginRoot'>, builtins: BuiltinsLoader): Promise<number> {
  if (args.info) {
    const { createRegistry } = await import('../plugins/loader.ts');
    const registry = args.info === 'plugins' || args.info === 'all' ? await createRegistry(await builtins(), ctx.plugins, ctx.pluginRoot) : null;
    process.stdout.write(formatInfo(args.info, comp, registry));
    return 0;
  }
  process.stdout.write(printConfig(comp.config, args));
  return 0;
}

/** Runs a single job or a sweep; shared by `run` and `rerun`. */
export async function launch(overrides: string[], multirun: boolean, env: RunEnvironment, builtins: BuiltinsLoader): Promise<number> {
  const [{ createRegistry }, job] = await Promise.all([import('../plugins/loader.ts'), import('../launch/job.ts')]);
  const registry = await createRegistry(await builtins(), env.plugins, env.pluginRoot);
  if (multirun) {
    const { multirun: runSweep, formatSummary } = await import('../launch/multirun.ts');
    const result = await runSweep(overrides, env, registry);
    if (result.sweepDir && result.jobs.some((j) => j.status === 'pending')) {
      // Submitted and not waited for (--detach): the jobs run on, `vidra status` follows them.
      const where = relative(env.cwd, result.sweepDir) || '.';
      process.stdout.write(`submitted ${result.jobs.length} jobs; sweep directory: ${where}\nfollow them with: vidra status ${where}\n`);
      return 0;
    }
    process.stdout.write(`${formatSummary(result, env.cwd, consoleLevel() !== 'quiet')}\n`);
    return result.jobs.every((j) => j.status === 'completed') ? 0 : 1;
  }
  const options = { env, registry, mode: 'RUN' as const };
  const spec = { num: 0, overrides };
  const prepared = job.prepareJob(spec, options);
  const ret = await job.executeJob(spec, prepared, options);
  const where = relative(env.cwd, ret.outputDir ?? '') || '.';
  if (ret.status === 'completed') {
    const headline = ret.result ? Object.entries(ret.result).map(([k, v]) => `${k}=${String(v)}`).join(' ') : '';
    process.stdout.write(`job completed; run directory: ${where}${headline ? `\n${headline}` : ''}\n`);
    return 0;
  }
  // The job's logger has already printed the error; say where its run directory is.
  process.stderr.write(`job ${ret.status}; run directory: ${where}\n`);
  return 1;
}

function printConfig(config: Config, args: RunArgs): string {
  const resolveIt = args.resolve;
  const sections: string[] = [];
  const vidraView = () => {
    const v = config.vidra ?? new DictNode(new Map());
    const view = new Config(new DictNode(new Map([['vidra', v]])), { vidra: v });
    return view;
  };
  if (args.package !== null) {
    const view = args.package === 'vidra' || args.package.startsWith('vidra.') ? vidraView() : config;
    if (!view.has(args.package)) throw new UsageError(`--package: the composed config has no node '${args.package}'`);
    // As Hydra prints it: a package header, then the node's content.
    const node = resolveIt ? view.resolvedNode(args.package) : view.node(args.package)!;
    return `# @package ${args.package}\n${node.kind === 'value' ? `${toYaml(new DictNode(new Map([['value', node]]))).replace(/^value: /, '')}` : toYaml(node)}`;
  }
  if (args.cfg === 'vidra' || args.cfg === 'all') sections.push(vidraView().toYaml({ resolve: resolveIt }));
  if (args.cfg === 'job' || args.cfg === 'all') sections.push(config.toYaml({ resolve: resolveIt }));
  return sections.join('');
}
