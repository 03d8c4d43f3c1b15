// The JSON Schemas of the config groups, for editors: the YAML language server validates and completes
// `conf/<group>/*.yaml` with them. A group whose options all name plugins of one kind gets that kind's
// plugins' schemas (chosen by `_target_`); other groups, and the primary configs, only a schema of their
// defaults list. Values may be interpolations (`${data.batch_size}`) or `???` wherever a schema asks for
// something else: they resolve only when a config is composed.
import type { ConfigRepository } from '../compose/repository.ts';
import type { PluginKind } from '../plugins/kinds.ts';
import type { JsonSchema, PluginRegistry } from '../plugins/registry.ts';

const DRAFT = 'http://json-schema.org/draft-07/schema#';

/** An interpolation or a mandatory value, which a composed config resolves before validation. */
const LATE_VALUE: JsonSchema = { type: 'string', pattern: '^(\\$\\{.*\\}|\\?\\?\\?)$', description: 'an interpolation (${...}) or ??? (a mandatory value)' };

/** Hydra's defaults list: `_self_`, `group: option` (`override /group: option`, `optional group: option`), `/path`. */
const DEFAULTS: JsonSchema = {
  type: 'array',
  description: 'the defaults list: configs composed before (or after, past _self_) this one',
  items: {
    anyOf: [
      { type: 'string' },
      {
        type: 'object',
        minProperties: 1,
        maxProperties: 1,
        additionalProperties: { anyOf: [{ type: 'string' }, { type: 'null' }, { type: 'array', items: { type: 'string' } }] },
      },
    ],
  },
};

const SPECIAL: Record<string, JsonSchema> = {
  _partial_: { type: 'boolean', description: 'build a factory that takes the remaining arguments' },
  _recursive_: { type: 'boolean', description: 'instantiate nested plugin nodes (default true)' },
  _args_: { type: 'array', description: 'positional arguments (@inject(PLUGIN_ARGS))' },
  defaults: DEFAULTS,
};

export interface GroupSchema {
  /** The config group (`loss`, `vidra/launcher`), or '' for the primary configs at the top of a config directory. */
  group: string;
  /** The plugin kind its options name, if they all name plugins of one kind. */
  kind: PluginKind | null;
  schema: JsonSchema;
}

/** One schema per config group on the repository's search path, and one for the primary configs. */
export function configSchemas(repo: ConfigRepository, registry: PluginRegistry): GroupSchema[] {
  const out: GroupSchema[] = [{ group: '', kind: null, schema: looseSchema('primary configs (config.yaml, experiments at the top of the config directory)') }];
  for (const group of repo.groups()) {
    const kind = groupKind(repo, registry, group);
    out.push({ group, kind, schema: kind ? pluginGroupSchema(group, kind, registry) : looseSchema(`config group ${group}`) });
  }
  return out;
}

/** The kind of plugin every option of `group` names in its `_target_`, or null (an option without one, kinds mixed, an unknown name). */
function groupKind(repo: ConfigRepository, registry: PluginRegistry, group: string): PluginKind | null {
  const kinds = new Set<PluginKind>();
  for (const option of repo.options(group)) {
    const entries = repo.load(`${group}/${option}`)?.node.entries;
    const target = entries?.get('_target_');
    // An option without a node of its own (`# @package _global_` with a defaults list, as task=extract_features)
    // composes elsewhere: it does not decide the group's kind.
    if (target === undefined && entries?.has('defaults')) continue;
    if (target?.kind !== 'value' || typeof target.value !== 'string') return null;
    try {
      kinds.add(registry.get(target.value).kind);
    } catch {
      return null; // an unknown or ambiguous name: validating a composed config reports it
    }
  }
  return kinds.size === 1 ? [...kinds][0]! : null;
}

function looseSchema(title: string): JsonSchema {
  return { $schema: DRAFT, title, type: 'object', properties: { defaults: DEFAULTS } };
}

function pluginGroupSchema(group: string, kind: PluginKind, registry: PluginRegistry): JsonSchema {
  const defs = registry.list(kind);
  // A name that other kinds share is written `kind:name` (`task:continual`); either form is accepted.
  const names = (name: string) => [name, `${kind}:${name}`];
  return {
    $schema: DRAFT,
    title: `config group ${group}: a${/^[aeiou]/.test(kind) ? 'n' : ''} ${kind} plugin`,
    type: 'object',
    // A plugin node, or an option that places its values elsewhere through its defaults list.
    anyOf: [
      { properties: { _target_: {} }, required: ['_target_'] },
      { properties: { defaults: {} }, required: ['defaults'] },
    ],
    properties: {
      defaults: DEFAULTS,
      _target_: { enum: defs.flatMap((d) => (isShared(registry, d.name) ? names(d.name) : [d.name])), description: `the ${kind} plugin: ${defs.map((d) => `${d.name} (${d.description})`).join('; ')}` },
    },
    allOf: defs.map((d) => ({
      if: { properties: { _target_: { enum: names(d.name) } }, required: ['_target_'] },
      then: pluginNodeSchema(names(d.name), d.description, d.schema),
    })),
  };
}

/** A plugin's schema as a config node: with `_target_` and the other keys instantiate reads, values possibly interpolations. */
const isShared = (registry: PluginRegistry, name: string) => registry.list().filter((d) => d.name === name).length > 1;

function pluginNodeSchema(names: string[], description: string, schema: JsonSchema): JsonSchema {
  const lax = allowLateValues(schema) as JsonSchema;
  const properties = (lax.properties ?? {}) as Record<string, JsonSchema>;
  return { ...lax, description, properties: { _target_: { enum: names }, ...SPECIAL, ...properties } };
}

/** Keywords whose value is a subschema, a list of them, or a map of them. */
const ONE = ['additionalProperties', 'items', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'additionalItems'];
const LIST = ['prefixItems'];
/** Keywords whose subschemas constrain the same value as their parent: the parent takes the late value. */
const ALTERNATIVES = ['anyOf', 'oneOf', 'allOf'];
const MAP = ['properties', 'patternProperties', 'definitions', '$defs'];

/** Every subschema that constrains a value also accepts an interpolation (or `???`). */
function allowLateValues(schema: unknown): unknown {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const s: JsonSchema = { ...(schema as JsonSchema) };
  for (const k of ONE) if (k in s) s[k] = Array.isArray(s[k]) ? (s[k] as unknown[]).map(lateValue) : lateValue(s[k]);
  for (const k of LIST) if (Array.isArray(s[k])) s[k] = (s[k] as unknown[]).map(lateValue);
  for (const k of ALTERNATIVES) if (Array.isArray(s[k])) s[k] = (s[k] as unknown[]).map(allowLateValues);
  for (const k of MAP) if (s[k] && typeof s[k] === 'object') s[k] = Object.fromEntries(Object.entries(s[k] as JsonSchema).map(([n, v]) => [n, lateValue(v)]));
  return s;
}

function lateValue(schema: unknown): unknown {
  const s = allowLateValues(schema);
  if (s === null || typeof s !== 'object') return s;
  const v = s as JsonSchema;
  const constrains = ['type', 'enum', 'const', ...ALTERNATIVES].some((k) => k in v);
  const anyString = v.type === 'string' && !['enum', 'const', 'pattern', 'format', 'minLength', 'maxLength'].some((k) => k in v);
  if (!constrains || anyString) return v;
  const shown = Object.fromEntries(['description', 'default'].filter((k) => k in v).map((k) => [k, v[k]]));
  return { ...shown, anyOf: [v, LATE_VALUE] };
}
