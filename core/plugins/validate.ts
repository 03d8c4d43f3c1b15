import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { closest, ValidationError } from '../config/errors.ts';
import { formatLoc, toPlain, type ConfigNode, type DictNode } from '../config/node.ts';
import type { JsonSchema, PluginDefinition, PluginRegistry } from './registry.ts';

/** Keys of a plugin node that instantiate reads itself; they are not part of a plugin's schema. */
export const SPECIAL_KEYS = ['_target_', '_partial_', '_recursive_', '_args_'] as const;

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
const compiled = new WeakMap<object, ValidateFunction>();

function validatorFor(def: PluginDefinition): ValidateFunction {
  let fn = compiled.get(def.schema);
  if (!fn) {
    try {
      fn = ajv.compile(def.schema);
    } catch (err) {
      throw new ValidationError(`the ${def.kind} plugin '${def.name}' has an invalid JSON Schema: ${(err as Error).message}`);
    }
    compiled.set(def.schema, fn);
  }
  return fn;
}

export interface PluginNode {
  /** Dot path of the node in the composed config, e.g. `loss` or `vidra.launcher`. */
  path: string;
  node: DictNode;
  def: PluginDefinition;
}

/** Every dict with a `_target_` in a resolved node tree, outermost first. */
export function findPluginNodes(root: ConfigNode, registry: PluginRegistry, prefix = ''): PluginNode[] {
  const out: PluginNode[] = [];
  const walk = (node: ConfigNode, path: string) => {
    if (node.kind === 'dict') {
      const target = node.entries.get('_target_');
      if (target !== undefined) {
        if (target.kind !== 'value' || target.type !== 'str') {
          throw new ValidationError(`'${path}._target_' must be a plugin name (a string)`, { loc: target.loc });
        }
        let def: PluginDefinition;
        try {
          def = registry.get(target.value as string);
        } catch (err) {
          throw new ValidationError(`${(err as Error).message}`, { loc: target.loc, cause: err });
        }
        out.push({ path, node, def });
      }
      for (const [k, v] of node.entries) walk(v, path ? `${path}.${k}` : k);
    } else if (node.kind === 'list') {
      node.items.forEach((v, i) => walk(v, `${path}[${i}]`));
    }
  };
  walk(root, prefix);
  return out;
}

/** The config of a plugin node as plain JS, special keys removed, for its schema. */
export function pluginParams(node: DictNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of node.entries) if (!(SPECIAL_KEYS as readonly string[]).includes(k)) out[k] = toPlain(v);
  return out;
}

/**
 * Validates one plugin node against its plugin's schema. Returns the params with schema defaults filled in.
 * Errors name the file:line:col of each offending value, what was expected, and the keys the plugin accepts.
 */
export function validatePluginNode({ path, node, def }: PluginNode): Record<string, unknown> {
  const params = pluginParams(node);
  const validate = validatorFor(def);
  if (validate(params)) return params;
  const lines = (validate.errors ?? []).map((e) => describeError(e, path, node, def));
  throw new ValidationError(
    `invalid config for the ${def.kind} plugin '${def.name}' at '${path || '<root>'}':\n` +
      lines.map((l) => `  ${l}`).join('\n') +
      `\n${acceptedKeys(def)}`,
  );
}

/** A plugin node that passed its schema, with its params (schema defaults filled in). */
export type ValidatedPluginNode = PluginNode & { params: Record<string, unknown> };

/** Validates every plugin node of a resolved tree; reports all problems at once. Returns the nodes, validated. */
export function validateAll(root: ConfigNode, registry: PluginRegistry, prefix = ''): ValidatedPluginNode[] {
  const problems: string[] = [];
  const validated: ValidatedPluginNode[] = [];
  for (const p of findPluginNodes(root, registry, prefix)) {
    try {
      validated.push({ ...p, params: validatePluginNode(p) });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length) throw new ValidationError(problems.join('\n'));
  return validated;
}

/** The keys of a JSON Pointer as ajv writes them (`/a/b~1c`, `#/properties/a`): a, b/c. */
const pointerKeys = (pointer: string) => pointer.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));

function nodeAt(node: ConfigNode, instancePath: string): ConfigNode | undefined {
  let cur: ConfigNode | undefined = node;
  for (const key of pointerKeys(instancePath)) {
    if (!cur) return undefined;
    cur = cur.kind === 'dict' ? cur.entries.get(key) : cur.kind === 'list' ? cur.items[Number(key)] : undefined;
  }
  return cur;
}

function describeError(e: ErrorObject, path: string, node: DictNode, def: PluginDefinition): string {
  const keyPath = e.instancePath.split('/').slice(1).join('.');
  const full = [path, keyPath].filter(Boolean).join('.');
  const target = nodeAt(node, e.instancePath);
  const where = target?.loc ?? node.loc;
  const got = target && e.instancePath ? ` (got ${describeValue(target)})` : '';
  let what: string;
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const extraLoc = node.kind === 'dict' ? nodeAt(node, `${e.instancePath}/${extra}`)?.loc : undefined;
      const near = closest(extra, Object.keys(schemaAt(def.schema, e.schemaPath).properties ?? {})).map((k) => `'${[full, k].filter(Boolean).join('.')}'`);
      return `${formatLoc(extraLoc ?? where)}: '${[full, extra].filter(Boolean).join('.')}' is not a key of this plugin${near.length ? `. Did you mean ${near.join(' or ')}?` : ''}`;
    }
    case 'required':
      what = `is missing the required key '${(e.params as { missingProperty: string }).missingProperty}'`;
      break;
    case 'enum':
      what = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    default:
      what = e.message ?? e.keyword;
  }
  return `${formatLoc(where)}: '${full || '<root>'}' ${what}${got}`;
}

/** The (sub)schema that holds the keyword an ajv error names (`#/properties/a/additionalProperties` → the schema of `a`). */
function schemaAt(schema: JsonSchema, schemaPath: string): { properties?: Record<string, unknown> } {
  let cur: unknown = schema;
  for (const key of pointerKeys(schemaPath).slice(0, -1)) {
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
  }
  return cur !== null && typeof cur === 'object' ? (cur as { properties?: Record<string, unknown> }) : {};
}

function describeValue(n: ConfigNode): string {
  if (n.kind !== 'value') return `a ${n.kind}`;
  return n.type === 'str' ? `the string '${n.value}'` : `${n.type} ${String(n.value)}`;
}

function acceptedKeys(def: PluginDefinition): string {
  const props = (def.schema.properties ?? {}) as Record<string, { type?: unknown; description?: string }>;
  const keys = Object.entries(props).map(([k, p]) => `${k}${p.type ? ` (${Array.isArray(p.type) ? p.type.join('|') : String(p.type)})` : ''}`);
  return `  The ${def.kind} plugin '${def.name}' accepts: ${keys.length ? keys.join(', ') : 'no keys'}.`;
}
