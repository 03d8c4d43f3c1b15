import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { VidraError } from '../config/errors.ts';
import { PluginRegistry, type PluginDefinition } from './registry.ts';

/**
 * A plugin module (JavaScript, or TypeScript compiled on load) exports `plugins` (an array of definitions), a
 * default export of the same, or `register(registry)`. Modules come only from the project settings' `plugins` list: never from a
 * config value or the command line (Hydra's import-path `_target_` became a security advisory).
 */
export async function loadPluginModule(registry: PluginRegistry, spec: string, root: string): Promise<void> {
  const file = spec.startsWith('.') || isAbsolute(spec) ? resolve(root, spec) : resolvePackage(spec, root);
  let mod: Record<string, unknown>;
  try {
    mod = TYPESCRIPT.test(file) ? await importTypeScript(file) : ((await import(pathToFileURL(file).href)) as Record<string, unknown>);
  } catch (err) {
    throw new VidraError(`cannot load the plugin module '${spec}' (listed in the project settings, resolved to ${file}): ${(err as Error).message}${decoratorHint(err, file)}`, {
      cause: err,
    });
  }
  const defs = (mod.plugins ?? mod.default) as PluginDefinition[] | undefined;
  if (typeof mod.register === 'function') {
    await (mod.register as (r: PluginRegistry) => unknown)(registry);
  } else if (Array.isArray(defs)) {
    for (const def of defs) registry.register({ ...def, source: def.source ?? spec });
  } else {
    throw new VidraError(`the plugin module '${spec}' exports neither 'plugins' (an array of plugin definitions) nor 'register(registry)'`);
  }
  registry.modules.push({ spec, root });
}

const TYPESCRIPT = /\.m?ts$/;

/**
 * Node cannot import TypeScript: tsx compiles the module and everything it imports on load (esbuild, through
 * Node's module hooks, so `vidra` and tsyringe resolve to the very instances the CLI uses), with the
 * tsconfig.json nearest the module — its `experimentalDecorators` is what makes `@inject(token)` compile.
 */
async function importTypeScript(file: string): Promise<Record<string, unknown>> {
  const { tsImport } = await import('tsx/esm/api');
  return (await tsImport(pathToFileURL(file).href, { parentURL: import.meta.url, tsconfig: nearestTsconfig(file) ?? false })) as Record<string, unknown>;
}

function nearestTsconfig(file: string): string | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'tsconfig.json'))) return join(dir, 'tsconfig.json');
    if (dirname(dir) === dir) return undefined;
  }
}

/** esbuild rejects parameter decorators unless the module's tsconfig enables TypeScript's legacy decorators. */
function decoratorHint(err: unknown, file: string): string {
  if (!TYPESCRIPT.test(file) || !/experimental decorators/i.test(String((err as Error)?.message))) return '';
  const tsconfig = nearestTsconfig(file);
  return (
    `. tsyringe's @inject(token) needs TypeScript's legacy decorators: set "experimentalDecorators": true in the compilerOptions of ` +
    (tsconfig ? `${tsconfig} (and let its "include" cover the module)` : `a tsconfig.json beside the module or in a folder above it (there is none)`)
  );
}

function resolvePackage(spec: string, root: string): string {
  try {
    return createRequire(join(root, 'package.json')).resolve(spec);
  } catch (err) {
    throw new VidraError(`cannot find the plugin package '${spec}' from ${root}: ${(err as Error).message}`, { cause: err });
  }
}

/** A registry holding the built-in plugins and those of the listed modules. */
export async function createRegistry(builtins: readonly PluginDefinition[], modules: readonly string[], root: string): Promise<PluginRegistry> {
  const registry = new PluginRegistry();
  for (const def of builtins) registry.register(def);
  for (const spec of modules) await loadPluginModule(registry, spec, root);
  return registry;
}
