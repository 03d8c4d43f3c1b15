// Plugins on a fixed list of events (strategies, callbacks; style.md §5): which `before…`/`after…` methods a
// plugin has, and which of them the firing loop never calls (Avalanche `_check_plugin_compatibility`).
import { closest } from '../config/errors.ts';

/** Names of the `before…`/`after…` methods a plugin has (own or inherited, not Object's). */
export function pluginCallbacks(plugin: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = plugin; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const k of Object.getOwnPropertyNames(o)) {
      if (!/^(before|after)/.test(k) || k === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (d && typeof d.value === 'function') names.add(k);
    }
  }
  return [...names].sort();
}

/** The plugin's `name`, else its class name. */
export function pluginLabel(plugin: object): string {
  const named = (plugin as { name?: unknown }).name;
  if (typeof named === 'string' && named) return named;
  const ctor = (plugin as { constructor?: { name?: string } }).constructor?.name;
  return ctor && ctor !== 'Object' ? ctor : 'a plugin';
}

/**
 * The plugin's callbacks that are not in `fired`, quoted; a name that is no event of `events` at all comes with
 * the closest event names. Empty when the loop fires every callback the plugin has.
 */
export function unfiredCallbacks(plugin: object, events: readonly string[], fired: Iterable<string>): string[] {
  const firedSet = new Set<string>(fired);
  return pluginCallbacks(plugin)
    .filter((k) => !firedSet.has(k))
    .map((k) => {
      if (events.includes(k)) return `'${k}'`;
      // Events the name abbreviates first (after_training_iter → after_training_iteration), then the nearest by edit distance.
      const near = [...new Set([...events.filter((e) => e.startsWith(k)), ...closest(k, events)])].slice(0, 3);
      return `'${k}' (not an event${near.length ? `; did you mean ${near.map((n) => `'${n}'`).join(' or ')}?` : ''})`;
    });
}
