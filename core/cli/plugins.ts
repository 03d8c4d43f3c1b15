import { didYouMean, UsageError } from '../config/errors.ts';
import { isPluginKind, PLUGIN_KINDS, type PluginKind } from '../plugins/kinds.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import { loadSettings } from '../settings.ts';
import type { BuiltinsLoader } from './run.ts';

interface PropertySchema {
  type?: unknown;
  enum?: unknown[];
  default?: unknown;
  description?: string;
}

/** Each plugin of `kinds` with one line per config key: its type, its default (or that it is required) and its description, from its schema. */
export function formatPlugins(registry: PluginRegistry, kinds: readonly PluginKind[] = PLUGIN_KINDS): string[] {
  const out: string[] = [];
  for (const kind of kinds) {
    const defs = registry.list(kind);
    if (defs.length === 0) continue;
    out.push(`${kind}:`);
    for (const d of defs) {
      const required = new Set((d.schema.required ?? []) as string[]);
      out.push(`  ${d.name.padEnd(20)} ${d.description}`);
      for (const [k, p] of Object.entries((d.schema.properties ?? {}) as Record<string, PropertySchema>)) {
        const type = Array.isArray(p.type) ? p.type.join('|') : p.type ? String(p.type) : p.enum ? p.enum.map(String).join('|') : 'any';
        const dflt = p.default !== undefined ? ` = ${JSON.stringify(p.default)}` : required.has(k) ? ' (required)' : '';
        out.push(`      ${`${k}: ${type}${dflt}`.padEnd(34)} ${p.description ?? ''}`.trimEnd());
      }
    }
  }
  return out;
}

const USAGE = 'usage: vidra plugins [kind]';

/** `vidra plugins [kind]`: the registered plugins (built-in and the project's) with their config keys. */
export async function pluginsCommand(argv: string[], builtins: BuiltinsLoader): Promise<number> {
  if (argv[0] === '-h' || argv[0] === '--help') {
    process.stdout.write(`${USAGE}\n\nList the registered plugins (Vidra's and those of the project settings' plugins list) with their config keys.\nkinds: ${PLUGIN_KINDS.join(', ')}\n`);
    return 0;
  }
  if (argv.length > 1) throw new UsageError(`vidra plugins takes at most one argument, a plugin kind (got ${argv.length}: ${argv.join(' ')}). ${USAGE}`);
  const kind = argv[0];
  if (kind !== undefined && !isPluginKind(kind)) {
    throw new UsageError(`vidra plugins: there is no plugin kind '${kind}'.${didYouMean(kind, PLUGIN_KINDS)} Plugin kinds: ${PLUGIN_KINDS.join(', ')}`);
  }
  const settings = await loadSettings(process.cwd());
  const { createRegistry } = await import('../plugins/loader.ts');
  const registry = await createRegistry(await builtins(), settings.plugins, settings.root);
  const lines = formatPlugins(registry, kind ? [kind] : PLUGIN_KINDS);
  process.stdout.write(lines.length ? `${lines.join('\n')}\n` : `no ${kind} plugins are registered\n`);
  return 0;
}
