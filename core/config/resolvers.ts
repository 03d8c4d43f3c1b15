// The resolver registry: `${name:arg,...}` calls a function registered under `name`, as with
// OmegaConf.register_new_resolver (omegaconf/omegaconf.py) and the built-ins of
// omegaconf/resolvers/oc/ plus Hydra's `now` and `hydra` (here `vidra`).
import { parseYamlNode } from './yaml-load.ts';
import { DictNode, ListNode, ValueNode, formatLoc, nullNode, strNode, type ConfigNode, type SourceLoc } from './node.ts';
import { pythonStr, pythonStrNode } from './float-format.ts';
import type { Arg, Resolved } from './resolve.ts';
import type { Config } from './config.ts';

/** What a resolver registered with `passContext` gets first: the config being read and the key holding the interpolation. */
export interface ResolverContext {
  readonly config: Config;
  readonly path: readonly string[];
}

export interface ResolverOptions {
  /** Replace a resolver of the same name instead of throwing. */
  replace?: boolean;
  /**
   * Call once per config for each distinct argument text, as OmegaConf's `use_cache`: the key is
   * the arguments' source text, so `${f:${x}}` stays cached even if `x` changes.
   */
  useCache?: boolean;
  /** Pass a {@link ResolverContext} before the arguments. */
  passContext?: boolean;
}

/**
 * A resolver gets its arguments typed by the grammar, as plain JS: `1` and `1.5` as numbers,
 * `'1'` and unquoted text as strings, `true`, `null`, `[1,2]` as an array, `{a:1}` as an object,
 * `${x}` as x's fully resolved value. It returns a plain value, array or object (arrays and
 * objects become config nodes, so `${...}` strings inside them resolve too), a `Float` box to
 * keep an integral float a float, or a config node.
 */
export type ResolverFn = (...args: any[]) => unknown;

/** Where a selection landed; `key` is the full key (`model.layers[0]`) for messages. */
export type Selected =
  | { readonly status: 'found'; readonly value: Resolved; readonly key: string }
  | { readonly status: 'missing'; readonly key: string }
  | { readonly status: 'absent' };

/**
 * What the built-in resolvers need from the resolution engine (resolve.ts implements it),
 * bound to the interpolation being resolved. Not a public API.
 */
export interface EngineContext extends ResolverContext {
  /** Full key of the node holding the interpolation, e.g. `trainer.lr`. */
  readonly fullKey: string;
  /** Location of that node. */
  readonly loc: SourceLoc | undefined;
  /** Selects like an interpolation (`a.b` from the root, `.b` from the containing node), without throwing when absent or `???`. */
  select(key: string): Selected;
  /** Selects `key` inside the config's `vidra` node; throws when there is none, or the key is absent or `???`. */
  selectVidra(key: string): Resolved;
  /** Parses and evaluates one value as `oc.decode` does (interpolations in it resolve here). */
  decode(text: string): Resolved;
  /** The argument as a config node (scalars as they are; arrays and objects built). */
  toNode(arg: Arg): ConfigNode;
  /** A node placed where the interpolation is: containers resolve relative to that spot. */
  place(node: ConfigNode): Resolved;
  /** The argument as plain JS, fully resolved. */
  plain(arg: Arg): unknown;
}

/** A resolver's own failure: the engine adds the interpolation, key and location to the message. */
export class ResolverError extends Error {
  override name = 'ResolverError';
}

type EngineFn = (ctx: EngineContext, args: readonly Arg[]) => Resolved;

export type ResolverEntry =
  | { readonly kind: 'plain'; readonly fn: ResolverFn; readonly useCache: boolean; readonly passContext: boolean }
  | { readonly kind: 'engine'; readonly fn: EngineFn; readonly useCache: false };

const registry = new Map<string, ResolverEntry>();

// Names must be callable: `${name:...}` accepts ID ('.' ID)* with ID = [a-zA-Z_][a-zA-Z0-9_-]*.
const NAME_RE = /^[a-zA-Z_][\w-]*(?:\.[a-zA-Z_][\w-]*)*$/;

export function registerResolver(name: string, fn: ResolverFn, options: ResolverOptions = {}): void {
  if (typeof fn !== 'function') throw new TypeError(`resolver '${name}' must be a function`);
  if (!NAME_RE.test(name)) throw new Error(`'${name}' cannot be a resolver name: use letters, digits, _ and -, dot-separated (e.g. my.resolver)`);
  if (registry.has(name) && !options.replace) throw new Error(`resolver '${name}' is already registered`);
  if (options.useCache && options.passContext) {
    throw new Error(`resolver '${name}': useCache cannot be combined with passContext (a cached result cannot depend on where it is used)`);
  }
  registry.set(name, { kind: 'plain', fn, useCache: !!options.useCache, passContext: !!options.passContext });
}

export function hasResolver(name: string): boolean {
  return registry.has(name);
}

/** Removes a resolver; returns whether it existed. For tests. */
export function clearResolver(name: string): boolean {
  return registry.delete(name);
}

/** Drops custom resolvers and restores the built-ins. For tests. */
export function resetResolvers(): void {
  registry.clear();
  registerBuiltins();
}

export function getResolver(name: string): ResolverEntry | undefined {
  return registry.get(name);
}

export function resolverNames(): string[] {
  return [...registry.keys()].sort();
}

function engine(name: string, fn: EngineFn): void {
  registry.set(name, { kind: 'engine', fn, useCache: false });
}

// ---------------------------------------------------------------- helpers

const scalar = (node: ValueNode): Resolved => ({ kind: 'scalar', node });

function typeName(arg: Arg | undefined): string {
  if (arg === undefined) return 'nothing';
  if (arg.kind === 'scalar') return arg.node.type;
  if (arg.kind === 'container') return arg.node.kind;
  return arg.kind;
}

/** The argument if it is a string (e.g. a key), else a ResolverError in OmegaConf's words. */
function stringArg(resolver: string, arg: Arg | undefined, ctx: EngineContext): string {
  if (arg?.kind === 'scalar' && arg.node.type === 'str') return arg.node.value as string;
  const shown = arg === undefined ? 'nothing' : `\`${describe(arg, ctx)}\``;
  throw new ResolverError(`\`${resolver}\` requires a string as input, but obtained ${shown} of type: ${typeName(arg)}`);
}

function describe(arg: Arg, ctx: EngineContext): string {
  return pythonStrNode(ctx.toNode(arg));
}

function arity(resolver: string, args: readonly Arg[], min: number, max: number, usage: string): void {
  if (args.length < min || args.length > max) {
    throw new ResolverError(`${resolver} takes ${usage}, but got ${args.length} argument${args.length === 1 ? '' : 's'}`);
  }
}

// ---------------------------------------------------------------- oc.*

/** `${oc.env:VAR[,default]}`: the value is always a string; a null default gives null (omegaconf/resolvers/oc/__init__.py `env`). */
function ocEnv(ctx: EngineContext, args: readonly Arg[]): Resolved {
  arity('oc.env', args, 1, 2, 'a variable name and an optional default');
  const key = args[0]!.kind === 'scalar' ? pythonStr(args[0]!.node.value, args[0]!.node.type) : describe(args[0]!, ctx);
  const value = process.env[key];
  if (value !== undefined) return scalar(strNode(value));
  const dflt = args[1];
  if (dflt === undefined) throw new ResolverError(`Environment variable '${key}' not found`);
  if (dflt.kind === 'scalar' && dflt.node.type === 'null') return scalar(nullNode());
  // Like Python's str(default): `${oc.env:X,1.0}` gives '1.0', `${oc.env:X,true}` gives 'True'.
  return scalar(strNode(describe(dflt, ctx)));
}

/** `${oc.select:key[,default]}`: the default (else null) when the key is absent or `???`. */
function ocSelect(ctx: EngineContext, args: readonly Arg[]): Resolved {
  arity('oc.select', args, 1, 2, 'a key and an optional default');
  const sel = ctx.select(stringArg('oc.select', args[0], ctx));
  if (sel.status === 'found') return sel.value;
  return args.length > 1 ? ctx.place(ctx.toNode(args[1]!)) : scalar(nullNode());
}

/** `${oc.decode:str}`: parses the string as a resolver argument would be (`'[1,2]'` → a list). */
function ocDecode(ctx: EngineContext, args: readonly Arg[]): Resolved {
  arity('oc.decode', args, 1, 1, 'one string');
  const arg = args[0]!;
  if (arg.kind === 'scalar' && arg.node.type === 'null') return scalar(nullNode());
  if (arg.kind !== 'scalar' || arg.node.type !== 'str') {
    throw new ResolverError(`\`oc.decode\` can only take strings or None as input, but \`${describe(arg, ctx)}\` is of type ${typeName(arg)}`);
  }
  return ctx.decode(arg.node.value as string);
}

/** `${oc.create:x}`: a config node from a YAML string, a dict or a list, placed at the interpolation. */
function ocCreate(ctx: EngineContext, args: readonly Arg[]): Resolved {
  arity('oc.create', args, 1, 1, 'one YAML string, dict or list');
  const arg = args[0]!;
  if (arg.kind === 'scalar') {
    if (arg.node.type === 'null') return scalar(nullNode());
    if (arg.node.type !== 'str') throw new ResolverError(`Object of unsupported type: '${arg.node.type}'`);
    return ctx.place(yamlToNode(arg.node.value as string, ctx.loc));
  }
  return ctx.place(ctx.toNode(arg));
}

function selectDict(resolver: string, ctx: EngineContext, arg: Arg | undefined): { node: DictNode; key: string } {
  const key = stringArg(resolver, arg, ctx);
  const sel = ctx.select(key);
  if (sel.status === 'absent') throw new ResolverError(`Key not found: '${key}'`);
  if (sel.status === 'missing') throw new ResolverError(`Missing mandatory value: ${sel.key}`);
  const v = sel.value;
  if (v.kind !== 'container' || v.node.kind !== 'dict') {
    throw new ResolverError(`\`${resolver}\` cannot be applied to objects of type: ${v.kind === 'scalar' ? v.node.type : v.node.kind}`);
  }
  return { node: v.node, key };
}

/** `${oc.dict.keys:key}`: the keys of a dict node, as a list. */
function ocDictKeys(ctx: EngineContext, args: readonly Arg[]): Resolved {
  arity('oc.dict.keys', args, 1, 1, 'the key of a dict');
  const { node } = selectDict('oc.dict.keys', ctx, args[0]);
  return ctx.place(new ListNode([...node.entries.keys()].map((k) => strNode(k, ctx.loc)), ctx.loc));
}

/**
 * `${oc.dict.values:key}`: the values of a dict node, as a list of interpolations to them, so
 * they stay live (omegaconf/resolvers/oc/dict.py); a relative key gets one more dot because the
 * list adds a level.
 */
function ocDictValues(ctx: EngineContext, args: readonly Arg[]): Resolved {
  arity('oc.dict.values', args, 1, 1, 'the key of a dict');
  const { node, key } = selectDict('oc.dict.values', ctx, args[0]);
  const base = key.startsWith('.') ? `.${key}` : key;
  return ctx.place(new ListNode([...node.entries.keys()].map((k) => strNode(`\${${base}.${k}}`, ctx.loc)), ctx.loc));
}

/** `${oc.deprecated:new.key[,message]}`: the value at the new key, with a warning naming both keys. */
function ocDeprecated(ctx: EngineContext, args: readonly Arg[]): Resolved {
  arity('oc.deprecated', args, 1, 2, 'the new key and an optional message');
  const key = stringArg('oc.deprecated', args[0], ctx);
  const message = args.length > 1 ? stringArg('oc.deprecated', args[1], ctx) : "'$OLD_KEY' is deprecated. Change your code and config to use '$NEW_KEY'";
  const sel = ctx.select(key);
  if (sel.status === 'absent') throw new ResolverError(`In oc.deprecated resolver at '${ctx.fullKey}': Key not found: '${key}'`);
  process.emitWarning(message.replaceAll('$OLD_KEY', ctx.fullKey).replaceAll('$NEW_KEY', sel.key), 'UserWarning');
  if (sel.status === 'missing') throw new ResolverError(`Missing mandatory value: ${sel.key}`);
  return sel.value;
}

// ---------------------------------------------------------------- now, vidra

let clock: () => Date = () => new Date();
const nowCache = new Map<string, string>();

/**
 * Forgets the times `${now:...}` returned, and sets the clock (the real one when omitted).
 * For tests.
 */
export function resetNowCache(fixedClock?: () => Date): void {
  nowCache.clear();
  clock = fixedClock ?? (() => new Date());
}

/**
 * `${now:%Y-%m-%d}`: local time formatted like Python's strftime, cached per pattern for the
 * life of the process, so every job of a sweep (and every rank) sees the same time, as Hydra
 * does by sharing the resolver cache across the sweep's configs.
 */
function now(pattern: unknown): string {
  if (typeof pattern !== 'string') throw new ResolverError(`now takes a strftime pattern such as %Y-%m-%d, got ${String(pattern)}`);
  let v = nowCache.get(pattern);
  if (v === undefined) {
    v = strftime(pattern, clock());
    nowCache.set(pattern, v);
  }
  return v;
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * Python's `datetime.strftime` for the C89 directives plus `%f`, in local time. Unknown
 * directives are left as they are (glibc does the same).
 */
export function strftime(pattern: string, d: Date): string {
  return pattern.replace(/%([a-zA-Z%])/g, (whole, c: string) => {
    switch (c) {
      case 'Y': return String(d.getFullYear());
      case 'y': return pad(d.getFullYear() % 100);
      case 'm': return pad(d.getMonth() + 1);
      case 'd': return pad(d.getDate());
      case 'H': return pad(d.getHours());
      case 'I': return pad(d.getHours() % 12 || 12);
      case 'M': return pad(d.getMinutes());
      case 'S': return pad(d.getSeconds());
      // Date has milliseconds only; Python prints microseconds.
      case 'f': return pad(d.getMilliseconds() * 1000, 6);
      case 'j': return pad(dayOfYear(d), 3);
      case 'a': return DAYS[d.getDay()]!.slice(0, 3);
      case 'A': return DAYS[d.getDay()]!;
      case 'b': return MONTHS[d.getMonth()]!.slice(0, 3);
      case 'B': return MONTHS[d.getMonth()]!;
      case 'p': return d.getHours() < 12 ? 'AM' : 'PM';
      case 'w': return String(d.getDay());
      case 'u': return String(d.getDay() || 7);
      case 'z': return utcOffset(d);
      case 'Z': return zoneName(d);
      case '%': return '%';
      default: return whole;
    }
  });
}

function dayOfYear(d: Date): number {
  return Math.round((Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) - Date.UTC(d.getFullYear(), 0, 1)) / 86_400_000) + 1;
}

// Python's naive datetime.now() prints '' for %z and %Z; Vidra prints the local zone, which is what users mean.
function utcOffset(d: Date): string {
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  return `${off < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
}

function zoneName(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
  return part?.value ?? '';
}

/** `${vidra:job.name}`: a value of the run's `vidra` node (Hydra's `${hydra:...}`). */
function vidra(ctx: EngineContext, args: readonly Arg[]): Resolved {
  arity('vidra', args, 1, 1, 'a key of the vidra node, such as job.name');
  const a = args[0]!;
  const key = a.kind === 'scalar' ? pythonStr(a.node.value, a.node.type) : stringArg('vidra', a, ctx);
  return ctx.selectVidra(key);
}

// ---------------------------------------------------------------- oc.create's YAML

/** OmegaConf.create(str): a YAML document (typed as config files are); a bare string `abc` becomes `{abc: null}`, empty input `{}`. */
function yamlToNode(text: string, loc: SourceLoc | undefined): ConfigNode {
  let node: ConfigNode | null;
  try {
    node = parseYamlNode(text, `oc.create argument${loc ? ` at ${formatLoc(loc)}` : ''}`);
  } catch (err) {
    throw new ResolverError((err as Error).message);
  }
  if (node === null) return new DictNode(new Map(), loc);
  if (node.kind === 'value') {
    if (node.type === 'null') return new DictNode(new Map(), loc);
    return new DictNode(new Map([[String(node.value), nullNode(loc)]]), loc);
  }
  return node;
}

// ---------------------------------------------------------------- registration

// ---------------------------------------------------------------- train_steps

/**
 * The optimizer steps of a run: `epochs` × ⌊train_size / batch_size⌋ (the last partial batch is dropped),
 * capped by `max_steps` — transformers' `num_training_steps`. Null when `train_size` is unknown (null).
 */
export function trainSteps(epochs: number, trainSize: number | null, batchSize: number, maxSteps: number | null): number | null {
  if (trainSize === null) return null;
  const total = epochs * Math.floor(trainSize / batchSize);
  return maxSteps === null ? total : Math.min(total, maxSteps);
}

/** `${train_steps:epochs,train_size,batch_size,max_steps}` (task.total_steps of the bundled train task). */
function trainStepsResolver(...args: unknown[]): number | null {
  if (args.length !== 4) throw new ResolverError(`train_steps takes epochs, train_size, batch_size and max_steps, but got ${args.length} argument${args.length === 1 ? '' : 's'}`);
  const [epochs, trainSize, batchSize, maxSteps] = args;
  const count = (name: string, v: unknown, nullable: boolean): number | null => {
    if (v === null && nullable) return null;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 1) return v;
    throw new ResolverError(`train_steps: ${name} must be an integer >= 1${nullable ? ' or null' : ''}, got ${JSON.stringify(v)}`);
  };
  return trainSteps(count('epochs', epochs, false)!, count('train_size', trainSize, true), count('batch_size', batchSize, false)!, count('max_steps', maxSteps, true));
}

function registerBuiltins(): void {
  engine('oc.env', ocEnv);
  engine('oc.select', ocSelect);
  engine('oc.decode', ocDecode);
  engine('oc.create', ocCreate);
  engine('oc.dict.keys', ocDictKeys);
  engine('oc.dict.values', ocDictValues);
  engine('oc.deprecated', ocDeprecated);
  engine('vidra', vidra);
  registry.set('now', { kind: 'plain', fn: now, useCache: false, passContext: false });
  registry.set('train_steps', { kind: 'plain', fn: trainStepsResolver, useCache: false, passContext: false });
}

registerBuiltins();
