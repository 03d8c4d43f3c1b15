import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../config/errors.ts';
import { checkRerunOverrides, compositionFor, makeEnvironment } from '../launch/environment.ts';
import { findMetadataDir, recordedVidra } from '../run/metadata.ts';
import { parseRunArgs, RUN_FLAGS } from './args.ts';
import { flagLine } from './help.ts';
import { applyConsoleFlags, cliContext, launch, show, withDetach, type BuiltinsLoader } from './run.ts';

const USAGE = 'usage: vidra rerun <run dir> [flags] [overrides...]';

/** Flags of `vidra run` that choose the primary config: a rerun's config is the run's own. */
const CONFIG_FLAGS = ['--config-name', '--config-path', '--config-dir'];

/**
 * `vidra rerun <run dir> [flags] [overrides]`: composes again from the run's saved `config.yaml`
 * (unresolved, so `${now:}` and the run directory are fresh) and its `vidra` settings, applies the extra
 * value overrides, and runs the job in a new run directory — or, with `--cfg`/`--info`, shows it.
 */
export async function rerunCommand(argv: string[], builtins: BuiltinsLoader): Promise<number> {
  const args = parseRunArgs(argv);
  applyConsoleFlags(args);
  if (args.help) {
    process.stdout.write(`${USAGE}\n\nThe flags of 'vidra run' (vidra run --help), except ${CONFIG_FLAGS.join(', ')}:\n${flagLines()}\n`);
    return 0;
  }
  const used = [args.configName !== null && '-cn/--config-name', args.configPath !== null && '-cp/--config-path', args.configDirs.length > 0 && '-cd/--config-dir'].find(Boolean);
  if (used) throw new UsageError(`rerun composes the run's own saved config, so ${used} does not apply; use 'vidra run' for another config`);
  const [dirArg, ...overrides] = args.overrides;
  if (!dirArg) throw new UsageError(USAGE);
  const cwd = process.cwd();
  const dir = resolve(cwd, dirArg);
  const meta = metadataDir(dir, dirArg);
  const settings = recordedVidra(meta);
  const choices = Object.keys(((settings.runtime as Record<string, unknown> | undefined)?.choices ?? {}) as object);
  const ctx = await cliContext({ configPath: null, configName: null, configDirs: [] }, cwd);
  // Only the settings that shape where and how the job runs carry over; runtime values are recomputed.
  const vidraBase = Object.fromEntries(Object.entries(settings).filter(([k]) => ['run', 'sweep', 'output_subdir', 'verbose', 'job', 'logger', 'report'].includes(k)));
  delete (vidraBase.job as Record<string, unknown> | undefined)?.num;
  delete (vidraBase.job as Record<string, unknown> | undefined)?.id;
  delete (vidraBase.job as Record<string, unknown> | undefined)?.override_dirname;
  const fields = {
    cwd,
    configDir: meta,
    configName: 'config',
    searchPath: [],
    plugins: ctx.plugins,
    pluginRoot: ctx.pluginRoot,
    argv: process.argv.slice(1),
    rerunOf: { dir, choices },
    vidraBase,
  };
  // Showing the config needs no run environment (git state, versions): only running does.
  if (args.cfg || args.info) {
    const comp = compositionFor(fields, overrides);
    checkRerunOverrides(fields, comp);
    return show(args, comp, fields, builtins);
  }
  return launch(withDetach(overrides, args.detach), args.multirun, makeEnvironment(fields), builtins);
}

function flagLines(): string {
  return RUN_FLAGS.filter((f) => !f.names.some((n) => CONFIG_FLAGS.includes(n)))
    .map(flagLine)
    .join('\n');
}

/** The run's metadata folder; a directory without one is a usage error saying what was looked for. */
function metadataDir(dir: string, dirArg: string): string {
  const found = findMetadataDir(dir);
  if (found) return found;
  const standard = join(dir, '.vidra');
  const missing = ['config.yaml', 'vidra.yaml'].map((f) => join(standard, f)).find((f) => !existsSync(f));
  throw new UsageError(
    `'${dirArg}' is not a run directory: ${missing} does not exist, and no subfolder holds config.yaml and vidra.yaml naming it as vidra.output_subdir`,
  );
}
