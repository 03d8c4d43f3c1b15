import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { didYouMean, UsageError } from '../config/errors.ts';
import { isPluginKind, PLUGIN_KINDS, type PluginKind } from '../plugins/kinds.ts';
import { loadSettings } from '../settings.ts';
import { pluginNames, TEMPLATES, type PluginNames } from '../tooling/plugin-templates.ts';
import type { BuiltinsLoader } from './run.ts';

const USAGE = 'usage: vidra new plugin <kind> <name> [--package]';

/** The tsconfig a scaffold needs: tsyringe's @inject is a legacy (parameter) decorator. */
const tsconfig = (include: string[]) =>
  `${JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        experimentalDecorators: true,
        allowImportingTsExtensions: true,
        skipLibCheck: true,
        noEmit: true,
      },
      include,
    },
    null,
    2,
  )}\n`;

/**
 * `vidra new plugin <kind> <name> [--package]`: scaffolds a plugin module, its config under `conf/<group>/`
 * and a test; with `--package`, the module is a separate npm package (packages/vidra-plugin-<option>) that the
 * project settings list by name. Nothing is written when any file it would write exists already.
 */
export async function newCommand(argv: string[], builtins: BuiltinsLoader): Promise<number> {
  if (argv[0] === '-h' || argv[0] === '--help' || (argv[0] === 'plugin' && (argv[1] === '-h' || argv[1] === '--help'))) {
    process.stdout.write(`${USAGE}\n\nScaffold a plugin: its module (schema, class, registration), its config under conf/<group>/, and a test\n(npx tsx --test). --package: as a separate npm package that the project settings' plugins list names.\nkinds: ${PLUGIN_KINDS.join(', ')}\n`);
    return 0;
  }
  const asPackage = argv.includes('--package');
  const [what, kind, name, ...extra] = argv.filter((a) => a !== '--package');
  if (what !== 'plugin') throw new UsageError(`vidra new: ${what === undefined ? 'say what to create' : `cannot create '${what}'`}: vidra new creates plugins. ${USAGE}`);
  if (kind === undefined || name === undefined) throw new UsageError(`vidra new plugin needs a kind and a name (e.g. vidra new plugin loss mylab.brier). ${USAGE}`);
  if (extra.length > 0) throw new UsageError(`vidra new plugin: unexpected argument '${extra[0]}'. ${USAGE}`);
  if (!isPluginKind(kind)) throw new UsageError(`vidra new plugin: there is no plugin kind '${kind}'.${didYouMean(kind, PLUGIN_KINDS)} Plugin kinds: ${PLUGIN_KINDS.join(', ')}`);
  const template = TEMPLATES[kind];
  if (!/^[A-Za-z_][\w.-]*$/.test(name) || name.endsWith('.')) {
    throw new UsageError(`vidra new plugin: invalid plugin name '${name}': use letters, digits, '_', '-' and '.' (for a scope, e.g. 'mylab.${kind === 'loss' ? 'brier' : 'hello'}')`);
  }
  if ((await builtins()).some((d) => d.kind === kind && d.name === name)) {
    throw new UsageError(`vidra new plugin: Vidra has a built-in ${kind} plugin named '${name}'; choose another name (e.g. a scoped 'mylab.${name}')`);
  }

  const cwd = process.cwd();
  const settings = await loadSettings(cwd);
  const root = settings.root;
  const names = pluginNames(name, kind);
  const files = new Map<string, string>();
  if (template.group !== null && template.config !== null) {
    files.set(join(settings.configDir, template.group, `${names.option}.yaml`), template.config(names));
    // A project without a primary config gets one that selects the new option, so that `vidra run` composes.
    const primary = join(settings.configDir, `${settings.configName}.yaml`);
    // Vidra's own groups (vidra/launcher, vidra/sweeper) have a default already: the primary config overrides it.
    const entry = template.group.startsWith('vidra/') ? `override ${template.group}` : template.group;
    if (!existsSync(primary)) files.set(primary, `defaults:\n  - ${entry}: ${names.option}\n  - _self_\n`);
  }
  let spec: string;
  if (asPackage) {
    const pkg = `vidra-plugin-${names.option.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`;
    const dir = join(root, 'packages', pkg);
    files.set(join(dir, 'package.json'), packageJson(pkg, names, kind));
    files.set(join(dir, 'tsconfig.json'), tsconfig(['index.ts', 'test']));
    files.set(join(dir, 'index.ts'), template.module(names));
    files.set(join(dir, 'test', `${names.option}.test.ts`), template.test(names, '../index.ts'));
    spec = pkg;
  } else {
    files.set(join(root, 'plugins', `${names.option}.ts`), template.module(names));
    files.set(join(root, 'test', `${names.option}.test.ts`), template.test(names, `../plugins/${names.option}.ts`));
    if (!existsSync(join(root, 'tsconfig.json'))) files.set(join(root, 'tsconfig.json'), tsconfig(['plugins', 'test']));
    spec = `./plugins/${names.option}.ts`;
  }
  const existing = [...files.keys()].filter((f) => existsSync(f));
  if (existing.length > 0) {
    throw new UsageError(`vidra new plugin: ${existing.map((f) => relative(cwd, f)).join(', ')} already exist${existing.length === 1 ? 's' : ''}; choose another name, or remove ${existing.length === 1 ? 'it' : 'them'} first (nothing was written)`);
  }
  const settingsEdit = settingsWithPlugin(settings.file, root, spec);
  const projectPackage = asPackage ? packageWithDependency(root, spec) : null;

  for (const [file, content] of files) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  const notes: string[] = [];
  if (settingsEdit.file) writeFileSync(settingsEdit.file, settingsEdit.content);
  else notes.push(`add '${spec}' to the plugins list of ${relative(cwd, settings.file!)} (vidra edits only JSON settings)`);
  if (projectPackage) writeFileSync(projectPackage.file, projectPackage.content);

  const rel = (f: string) => relative(cwd, f).split(sep).join('/');
  const out = [...files.keys()].map((f) => `  created ${rel(f)}`);
  if (settingsEdit.file) out.push(`  ${settingsEdit.created ? 'created' : 'updated'} ${rel(settingsEdit.file)} (plugins: ${spec})`);
  if (projectPackage) out.push(`  updated ${rel(projectPackage.file)} (dependencies: ${spec})`);
  const testFile = [...files.keys()].find((f) => f.endsWith('.test.ts'))!;
  out.push('', 'next:');
  // tsx compiles with the tsconfig that covers the file: the package's own, run from its folder.
  if (asPackage) out.push(`  npm install    (links packages/${spec} into node_modules)`, `  (cd ${rel(dirname(dirname(testFile)))} && npx tsx --test test/${basename(testFile)})`);
  else out.push(`  npx tsx --test ${rel(testFile)}`);
  out.push(`  ${template.runHint(names)}`);
  if (!asPackage && !files.has(join(root, 'tsconfig.json')) && !coversTests(join(root, 'tsconfig.json'))) {
    notes.push(`${rel(join(root, 'tsconfig.json'))} must set "experimentalDecorators": true and include plugins/ and test/ (tsx compiles with it)`);
  }
  for (const n of notes) out.push(`note: ${n}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

function packageJson(pkg: string, names: PluginNames, kind: PluginKind): string {
  return `${JSON.stringify(
    {
      name: pkg,
      version: '0.1.0',
      description: `the Vidra ${kind} plugin ${names.name}`,
      type: 'module',
      exports: { '.': './index.ts' },
      scripts: { test: `tsx --test test/${names.option}.test.ts` },
      peerDependencies: { vidra: '>=0.1.0' },
    },
    null,
    2,
  )}\n`;
}

/** The JSON settings file with `spec` added to its plugins list (created if the project has none); null for settings vidra cannot edit. */
function settingsWithPlugin(file: string | null, root: string, spec: string): { file: string | null; content: string; created: boolean } {
  if (file === null) return { file: join(root, 'vidra.config.json'), content: `${JSON.stringify({ plugins: [spec] }, null, 2)}\n`, created: true };
  const name = basename(file);
  if (name !== 'vidra.config.json' && name !== 'package.json' && name !== '.vidrarc.json') return { file: null, content: '', created: false };
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const holder = (name === 'package.json' ? ((json.vidra ??= {}) as Record<string, unknown>) : json) as { plugins?: string[] };
  holder.plugins = [...(holder.plugins ?? []).filter((p) => p !== spec), spec];
  return { file, content: `${JSON.stringify(json, null, 2)}\n`, created: false };
}

/** The project's package.json with the scaffolded package as a `file:` dependency, so that `npm install` links it. */
function packageWithDependency(root: string, pkg: string): { file: string; content: string } | null {
  const file = join(root, 'package.json');
  if (!existsSync(file)) return null;
  const json = JSON.parse(readFileSync(file, 'utf8')) as { dependencies?: Record<string, string> };
  json.dependencies = { ...(json.dependencies ?? {}), [pkg]: `file:packages/${pkg}` };
  return { file, content: `${JSON.stringify(json, null, 2)}\n` };
}

/** Whether a tsconfig enables decorators and includes plugins/ and test/ (a tsconfig with comments is taken on trust). */
function coversTests(file: string): boolean {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { compilerOptions?: { experimentalDecorators?: boolean }; include?: string[] };
    const include = json.include ?? ['**/*'];
    const covers = (dir: string) => include.some((p) => p === dir || p.startsWith(`${dir}/`) || p.startsWith('**') || p === '.' || p === './');
    return json.compilerOptions?.experimentalDecorators === true && covers('plugins') && covers('test');
  } catch {
    return true;
  }
}
