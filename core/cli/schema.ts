import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { makeRepository } from '../compose/compose.ts';
import { UsageError } from '../config/errors.ts';
import { loadSettings } from '../settings.ts';
import { configSchemas } from '../tooling/config-schemas.ts';
import type { BuiltinsLoader } from './run.ts';

const USAGE = 'usage: vidra schema --out <dir> [--vscode]';

/** The file a group's schema is written to: `loss.schema.json`, `vidra/launcher.schema.json`; the primary configs' is `config.schema.json`. */
export const schemaFile = (group: string): string => `${group || 'config'}.schema.json`;

/**
 * `vidra schema --out <dir>`: writes the JSON Schema of every config group on the search path, and prints
 * the `yaml.schemas` setting that maps them onto the project's config files (for the YAML language server).
 */
export async function schemaCommand(argv: string[], builtins: BuiltinsLoader): Promise<number> {
  if (argv[0] === '-h' || argv[0] === '--help') {
    process.stdout.write(
      `${USAGE}\n\nWrite the JSON Schemas of the config groups to <dir> and print the "yaml.schemas" editor setting that applies them\n(--vscode: also set it in .vscode/settings.json, keeping the other settings).\n`,
    );
    return 0;
  }
  const vscode = argv.includes('--vscode');
  const args = argv.filter((a) => a !== '--vscode');
  const at = args.indexOf('--out');
  const out = at >= 0 ? args[at + 1] : undefined;
  const extra = args.filter((_, i) => i !== at && i !== at + 1);
  if (out === undefined || out.startsWith('-') || extra.length > 0) {
    throw new UsageError(`${out === undefined || out.startsWith('-') ? 'vidra schema needs --out <dir>, the folder to write the schemas to' : `vidra schema: unexpected argument '${extra[0]}'`}. ${USAGE}`);
  }
  const cwd = process.cwd();
  if (existsSync(resolve(cwd, out)) && !isDir(resolve(cwd, out))) throw new UsageError(`vidra schema --out: '${out}' is a file; give a folder to write the schemas to`);
  const settings = await loadSettings(cwd);
  const repo = makeRepository({ configDir: settings.configDir, searchPath: settings.searchPath.map((dir) => ({ dir, provider: 'settings' })) });
  const { createRegistry } = await import('../plugins/loader.ts');
  const registry = await createRegistry(await builtins(), settings.plugins, settings.root);
  const outDir = resolve(cwd, out);
  const schemas = configSchemas(repo, registry);
  const mapping: Record<string, string[]> = {};
  // The config directories the project edits: those inside it, not installed packages.
  const editable = repo.searchPath.map((e) => relative(cwd, e.dir)).filter((r) => !r.startsWith('..') && !isAbsolute(r) && !r.split(sep).includes('node_modules'));
  for (const { group, schema } of schemas) {
    const file = join(outDir, schemaFile(group));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
    mapping[`./${posix(relative(cwd, file))}`] = editable.filter((dir) => (group ? isDir(join(cwd, dir, group)) : dir === editable[0])).map((dir) => posix(join(dir, group, '*.yaml')));
  }
  process.stdout.write(`wrote ${schemas.length} schemas to ${posix(relative(cwd, outDir)) || '.'}/; the YAML language server applies them with this setting (.vscode/settings.json):\n`);
  process.stdout.write(`${JSON.stringify({ 'yaml.schemas': mapping }, null, 2)}\n`);
  if (vscode) {
    const file = join(cwd, '.vscode', 'settings.json');
    let current: Record<string, unknown> = {};
    try {
      current = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
    } catch (err) {
      throw new UsageError(`vidra schema --vscode: ${file} is not plain JSON (${(err as Error).message}); set "yaml.schemas" in it by hand`);
    }
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify({ ...current, 'yaml.schemas': mapping }, null, 2)}\n`);
    process.stdout.write(`set yaml.schemas in .vscode/settings.json\n`);
  }
  return 0;
}

const posix = (p: string) => p.split(sep).join('/');
const isDir = (p: string) => statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
