import type { Composition } from '../compose/compose.ts';
import type { TreeNode } from '../compose/defaults-list.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import type { InfoKind } from './args.ts';

/** `vidra run --info [kind]`: how the config was put together. */
export function formatInfo(kind: InfoKind, comp: Composition, registry: PluginRegistry | null): string {
  const parts: string[] = [];
  const want = (k: InfoKind) => kind === 'all' || kind === k;
  if (want('searchpath')) {
    parts.push('== Search path ==', comp.repo.describeSearchPath(), '');
  }
  if (want('defaults')) {
    parts.push('== Defaults list == (merge order)');
    const rows = comp.defaults.merges.map((m) => [m.config, m.package || '<root>', m.file]);
    const w0 = Math.max(11, ...rows.map((r) => r[0]!.length));
    const w1 = Math.max(7, ...rows.map((r) => r[1]!.length));
    parts.push(`${'config path'.padEnd(w0)}  ${'package'.padEnd(w1)}  file`);
    for (const r of rows) parts.push(`${r[0]!.padEnd(w0)}  ${r[1]!.padEnd(w1)}  ${r[2]}`);
    parts.push('');
  }
  if (want('defaults-tree')) {
    parts.push('== Defaults tree ==');
    const walk = (n: TreeNode, depth: number) => {
      if (n.content && n.children.length === 0 && depth > 0) {
        parts.push(`${'  '.repeat(depth)}_self_`);
        return;
      }
      parts.push(`${'  '.repeat(depth)}${n.config}${n.package ? ` (@${n.package})` : ''}`);
      for (const c of n.children) walk(c, depth + 1);
    };
    walk(comp.defaults.tree, 0);
    parts.push('');
  }
  if (want('config')) {
    parts.push('== Config ==', comp.config.toYaml({ resolve: false }));
    const choices = [...comp.defaults.choices].map(([k, v]) => `  ${k}: ${Array.isArray(v) ? `[${v.join(', ')}]` : String(v)}`);
    parts.push('== Choices ==', ...choices, '');
  }
  if (want('plugins') && registry) {
    parts.push('== Plugins ==');
    for (const d of registry.list()) parts.push(`  ${d.kind}:${d.name}${d.source ? `  (from ${d.source})` : ''}`);
    parts.push('');
  }
  return `${parts.join('\n')}\n`;
}
