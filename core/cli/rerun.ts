import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../config/errors.ts';
import { loadYaml } from '../config/yaml-load.ts';
import { toPlain } from '../config/node.ts';
import { makeEnvironment } from '../launch/environment.ts';
import { cliContext, launch, type BuiltinsLoader } from './run.ts';

/**
 * `vidra rerun <run dir> [overrides]`: composes again from the run's `.vidra/config.yaml` (unresolved,
 * so `${now:}` and the run directory are fresh) and its `vidra` settings, applies the extra value
 * overrides, and runs the job in a new run directory.
 */
export async function rerunCommand(argv: string[], builtins: BuiltinsLoader): Promise<number> {
  const [dirArg, ...overrides] = argv;
  if (!dirArg || dirArg.startsWith('-')) throw new UsageError('usage: vidra rerun <run dir> [overrides...]');
  const cwd = process.cwd();
  const dir = resolve(cwd, dirArg);
  const meta = join(dir, '.vidra');
  for (const f of ['config.yaml', 'vidra.yaml']) {
    if (!existsSync(join(meta, f))) throw new UsageError(`'${dirArg}' is not a run directory: ${join(meta, f)} does not exist`);
  }
  const saved = loadYaml(readFileSync(join(meta, 'vidra.yaml'), 'utf8'), join(meta, 'vidra.yaml')).node;
  const savedVidra = saved.entries.get('vidra');
  const settings = savedVidra?.kind === 'dict' ? (toPlain(savedVidra) as Record<string, unknown>) : {};
  const choices = Object.keys(((settings.runtime as Record<string, unknown> | undefined)?.choices ?? {}) as object);
  const ctx = await cliContext({ configPath: null, configName: null, configDirs: [] }, cwd);
  // Only the settings that shape where and how the job runs carry over; runtime values are recomputed.
  const vidraBase = Object.fromEntries(Object.entries(settings).filter(([k]) => ['run', 'sweep', 'output_subdir', 'verbose', 'job'].includes(k)));
  delete (vidraBase.job as Record<string, unknown> | undefined)?.num;
  delete (vidraBase.job as Record<string, unknown> | undefined)?.id;
  delete (vidraBase.job as Record<string, unknown> | undefined)?.override_dirname;
  const env = makeEnvironment({
    cwd,
    configDir: meta,
    configName: 'config',
    searchPath: [],
    plugins: ctx.plugins,
    pluginRoot: ctx.pluginRoot,
    argv: process.argv.slice(1),
    rerunOf: { dir, choices },
    vidraBase,
  });
  return launch(overrides, false, env, builtins);
}
