import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { SearchPathEntry } from '../compose/repository.ts';
import { composeDetailed, makeRepository, type Composition } from '../compose/compose.ts';
import { UsageError } from '../config/errors.ts';
import { packageRoot, packageVersion } from '../paths.ts';

/**
 * Everything needed to compose and run a job, as plain data: the multirun driver hands it to
 * worker processes (local_parallel) and it is recorded in each run's `.vidra/vidra.yaml`.
 */
export interface RunEnvironment {
  cwd: string;
  configDir: string | null;
  configName: string | null;
  searchPath: SearchPathEntry[];
  /** Plugin modules from the project settings, as absolute paths or package names. */
  plugins: string[];
  /** Where the plugin module names resolve from (the settings file's directory). */
  pluginRoot: string;
  argv: string[];
  versions: Record<string, string>;
  git: { commit: string | null; dirty: boolean | null };
  host: string;
  /** For `vidra rerun`: group choices of the original run, which extra overrides may not change. */
  rerunOf?: { dir: string; choices: string[] };
  /** For `vidra rerun`: the original run's `vidra` settings (run dir pattern, output_subdir, job name). */
  vidraBase?: Record<string, unknown>;
}

export function compositionFor(env: Pick<RunEnvironment, 'configDir' | 'configName' | 'searchPath' | 'vidraBase'>, overrides: readonly string[]): Composition {
  const repo = makeRepository(env);
  return composeDetailed({ configDir: env.configDir, configName: env.configName, searchPath: env.searchPath, vidraBase: env.vidraBase, overrides }, repo);
}

/** A rerun keeps the original run's composed config: its config groups can no longer be chosen. */
export function checkRerunOverrides(env: Pick<RunEnvironment, 'rerunOf'>, comp: Composition): void {
  const rerun = env.rerunOf;
  if (!rerun) return;
  for (const o of comp.overrides) {
    if (rerun.choices.includes(o.key)) {
      throw new UsageError(
        `'${o.text}': '${o.key}' was a config group in the run being rerun (${rerun.dir}); rerun keeps that run's composed config, ` +
          `so change values (e.g. ${o.key}.<key>=...) or start a new run with 'vidra run'`,
      );
    }
  }
}

function gitInfo(cwd: string): RunEnvironment['git'] {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

function onnxruntimeVersion(): string {
  try {
    const require = createRequire(join(packageRoot(), 'package.json'));
    return (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export function makeEnvironment(fields: Omit<RunEnvironment, 'versions' | 'git' | 'host'>): RunEnvironment {
  return {
    ...fields,
    versions: { vidra: packageVersion(), node: process.versions.node, onnxruntime: onnxruntimeVersion() },
    git: gitInfo(fields.cwd),
    host: hostname(),
  };
}
