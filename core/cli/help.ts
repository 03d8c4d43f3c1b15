import type { ConfigRepository } from '../compose/repository.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import { RUN_FLAGS } from './args.ts';
import { formatPlugins } from './plugins.ts';

/**
 * The config groups a user can choose from. The folder `vidra` holds `vidra/config.yaml`, which every
 * composition starts from: it looks like a group with one option, but `vidra=config` is no valid override.
 */
export function selectableGroups(repo: ConfigRepository): string[] {
  return repo.groups().filter((g) => g !== 'vidra');
}

/** A flag's line in a usage text: its names, its value, what it does. */
export function flagLine(f: (typeof RUN_FLAGS)[number]): string {
  return `  ${`${f.names.join(', ')}${f.value ? ` ${f.value}` : ''}`.padEnd(34)} ${f.help}`;
}

/** `vidra run --help`: generated from the config groups on the search path and the plugin schemas. */
export function formatHelp(repo: ConfigRepository, registry: PluginRegistry, ctx: { configName: string }): string {
  const out: string[] = [];
  out.push('usage: vidra run [flags] [overrides...]', '');
  out.push('Compose the config from the config groups below, apply the overrides, and run the task.');
  out.push('Overrides: key=value (change), +key=value (add), ++key=value (add or change), ~key (delete), group=option;');
  out.push('sweeps with -m: key=a,b,c  range(0,10,2)  choice(a,b)  glob(*,exclude=x*)', '');
  out.push('== Flags ==');
  for (const f of RUN_FLAGS) out.push(flagLine(f));
  out.push('', `== Configuration groups == (primary config: ${ctx.configName})`);
  out.push('Compose your configuration from those groups (group=option)', '');
  for (const g of selectableGroups(repo)) out.push(`${g}: ${repo.options(g).join(', ')}`);
  out.push('', '== Plugins == (config nodes name them with _target_; keys from each plugin\'s JSON Schema)');
  out.push(...formatPlugins(registry));
  out.push('', 'Search path:', repo.describeSearchPath(), '');
  return `${out.join('\n')}\n`;
}
