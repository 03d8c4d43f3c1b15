import { closest, didYouMean, VidraError } from '../config/errors.ts';
import type { Config } from '../config/config.ts';
import { PLUGIN_KINDS, isPluginKind, type PluginKind } from './kinds.ts';

/** A JSON Schema (draft 2020-12 subset that ajv understands) describing a plugin's config keys. */
export type JsonSchema = Record<string, unknown>;

export type Constructor<T> = new (...args: any[]) => T;

/**
 * A plugin: one module holding its schema, its class and this definition.
 * The class is built by tsyringe; it receives its validated config through `@inject(PLUGIN_CONFIG)`.
 */
export interface PluginDefinition<T = unknown> {
  kind: PluginKind;
  name: string;
  /** One line for `vidra run --help`. */
  description: string;
  /** JSON Schema of the config node, without the `_target_`/`_partial_`/`_recursive_`/`_args_` keys. */
  schema: JsonSchema;
  create: Constructor<T>;
  /**
   * Files the plugin reads, from its validated config (e.g. a dataset's annotation files). Checked when the
   * job is prepared — before any run directory, and for every job of a sweep before the first starts.
   */
  inputs?: (params: Record<string, unknown>) => PluginInput[];
  /**
   * A task's fit check across the plugin nodes it will build (data vs model vs loss), run when the job is
   * prepared; it throws a UsageError naming the keys to change and the values that would fit.
   */
  check?: (job: { config: Config; params: Record<string, unknown>; registry: PluginRegistry }) => void;
  /**
   * A task's sweep values computed from its own config, when a multirun is expanded: the override keys it
   * replaces and their values, each a job (extract_features' `schedule.shard=all` → one job per shard of
   * its plan). null: the job stays as it is.
   */
  expand?: (job: { config: Config }) => Record<string, string[]> | null;
  /** A dataset whose samples are video clips, not features: a task runs them through model.backbone. */
  clips?: boolean;
  /** Where it was registered from (a module path), for error messages. */
  source?: string;
}

/** A file a plugin needs: `key` is the config key (under the plugin's node) that says where it is. */
export interface PluginInput {
  key: string;
  path: string;
  /** What the file is and how to get it, for the error. */
  hint?: string;
}

export class UnknownPluginError extends VidraError {}

export function definePlugin<T>(def: PluginDefinition<T>): PluginDefinition<T> {
  return def;
}

/** One registry per plugin kind (mmengine style); names are looked up, never imported. */
export class PluginRegistry {
  /**
   * The plugin modules loaded into it (project settings): each as listed, with the directory it resolves
   * from. Another thread (the data prefetch worker) loads them again to build the same plugins.
   */
  readonly modules: Array<{ spec: string; root: string }> = [];
  private readonly kinds = new Map<PluginKind, Map<string, PluginDefinition>>(PLUGIN_KINDS.map((k) => [k, new Map()]));

  register(def: PluginDefinition, options: { replace?: boolean } = {}): void {
    if (!isPluginKind(def.kind)) {
      throw new VidraError(`plugin '${def.name}' has the unknown kind '${def.kind}'; kinds are: ${PLUGIN_KINDS.join(', ')}`);
    }
    if (!/^[A-Za-z_][\w.-]*$/.test(def.name)) {
      throw new VidraError(`invalid plugin name '${def.name}': use letters, digits, '_', '-' and '.' (for a scope, e.g. 'mylab.focal')`);
    }
    const registry = this.kinds.get(def.kind)!;
    const existing = registry.get(def.name);
    if (existing && !options.replace && existing.create !== def.create) {
      throw new VidraError(
        `a ${def.kind} plugin named '${def.name}' is already registered${existing.source ? ` (from ${existing.source})` : ''}; ` +
          `choose another name (e.g. a scoped 'mylab.${def.name}') or register with { replace: true }`,
      );
    }
    registry.set(def.name, def);
  }

  /** Looks a name up in one kind, or in every kind when `kind` is omitted (`kind:name` qualifies it). */
  get(name: string, kind?: PluginKind): PluginDefinition {
    const colon = name.indexOf(':');
    if (colon > 0 && isPluginKind(name.slice(0, colon))) return this.get(name.slice(colon + 1), name.slice(0, colon) as PluginKind);
    const searched = kind ? [kind] : PLUGIN_KINDS;
    const found = searched.map((k) => this.ofKind(k).get(name)).filter((d): d is PluginDefinition => d !== undefined);
    if (found.length === 1) return found[0]!;
    if (found.length > 1) {
      throw new UnknownPluginError(
        `the plugin name '${name}' is ambiguous: it is registered as ${found.map((d) => `${d.kind}:${name}`).join(' and ')}; write one of these in _target_`,
      );
    }
    const names = searched.flatMap((k) => [...this.ofKind(k).keys()]);
    const near = closest(name, names);
    throw new UnknownPluginError(
      `no ${kind ?? 'plugin'} named '${name}' in the ${kind ? `'${kind}'` : 'plugin'} registr${kind ? 'y' : 'ies'}` +
        (near.length ? `. Closest names: ${near.join(', ')}` : '') +
        `. Registered: ${names.length ? [...names].sort().join(', ') : '(none)'}. ` +
        `Third-party plugins are loaded from the 'plugins' list of the project settings (vidra.config.*, .vidrarc, package.json "vidra").`,
    );
  }

  has(name: string, kind?: PluginKind): boolean {
    return kind ? this.ofKind(kind).has(name) : PLUGIN_KINDS.some((k) => this.ofKind(k).has(name));
  }

  list(kind?: PluginKind): PluginDefinition[] {
    return (kind ? [kind] : PLUGIN_KINDS).flatMap((k) => [...this.ofKind(k).values()]);
  }

  /** One kind's plugins; a kind that does not exist is an error that lists those that do (callers from JS are not type-checked). */
  private ofKind(kind: PluginKind): Map<string, PluginDefinition> {
    const plugins = this.kinds.get(kind);
    if (plugins) return plugins;
    throw new UnknownPluginError(`there is no plugin kind '${String(kind)}'.${didYouMean(String(kind), PLUGIN_KINDS)} Plugin kinds: ${PLUGIN_KINDS.join(', ')}`);
  }
}
