// Sweep expansion as Hydra's basic sweeper does it (`hydra/_internal/core_plugins/basic_sweeper.py`):
// every override is one axis keyed by its prefix, key and package; a key given twice keeps its first
// position and its last value; the jobs are the cartesian product with the last axis varying fastest.
// Float ranges step with Python's Decimal arithmetic (28 significant digits, half-even), exactly as
// Hydra 1.3's FloatRange does, so `range(0.1,0.5,0.1)` yields 0.1, 0.2, 0.30000000000000004, 0.4.

import { VidraError } from '../config/errors.ts';
import { ValueNode, type ConfigNode } from '../config/node.ts';
import { formatOverrideValue, parseOverrideInternal } from './parse.ts';
import { typedText } from './visitor.ts';
import type { GlobSweep, ParsedOverride, RangeSweep } from './types.ts';
import { mulberry32 } from '../random.ts';

export interface ExpandSweepOptions {
  /** Options of each config group, for glob(): `{ model: ['i3d', 'slowfast'] }`. */
  groupOptions?: Record<string, string[]>;
  /** Asked when `groupOptions` has no entry for the group. */
  listGroupOptions?: (group: string) => string[];
  /**
   * Seed for shuffle(). By default the seed is derived from the override texts, so the same command
   * line always gives the same order (Hydra reshuffles on every run; reruns here are reproducible).
   */
  seed?: number;
}

/** Beyond this a range is surely a typo (and would exhaust memory before any job runs). */
const MAX_RANGE_LENGTH = 10_000_000;

const PREFIX: Record<ParsedOverride['type'], string> = { change: '', add: '+', force_add: '++', delete: '~' };

/**
 * The jobs of a basic-sweeper multirun: one list of override strings per job. Overrides without a
 * sweep appear as written; each sweep element is printed `<prefix><key>[@pkg]=<value>`, the value as
 * typed (`1e30`, `'a b'`), or, for generated or cast values (range(), float(1)), in a form that parses
 * back to the same typed value. No sweep at all gives one job; an empty range gives none.
 */
export function expandSweep(overrides: string[], options: ExpandSweepOptions = {}): string[][] {
  const random = mulberry32(options.seed ?? hashSeed(overrides));
  const axes = new Map<string, string[]>();
  for (const text of overrides) {
    const o = parseOverrideInternal(text);
    const keyElement = `${PREFIX[o.type]}${o.key}${o.package === null ? '' : `@${o.package}`}`;
    // Map.set on an existing key keeps its position: Hydra's OrderedDict does the same.
    axes.set(
      keyElement,
      o.sweep === null ? [o.text] : sweepValues(o, options, random).map((v) => `${keyElement}=${typedText(v) ?? formatOverrideValue(v)}`),
    );
  }
  let jobs: string[][] = [[]];
  for (const axis of axes.values()) {
    const next: string[][] = [];
    for (const job of jobs) for (const value of axis) next.push([...job, value]);
    jobs = next;
  }
  return jobs;
}

function sweepValues(o: ParsedOverride, options: ExpandSweepOptions, random: () => number): ConfigNode[] {
  const s = o.sweep!;
  switch (s.kind) {
    case 'choice':
      return s.shuffle ? shuffled(s.values, random) : [...s.values];
    case 'range': {
      const values = rangeValues(s, o.text);
      if (s.reverse) values.reverse();
      return s.shuffle ? shuffled(values, random) : values;
    }
    case 'interval':
      throw new VidraError(
        `cannot sweep '${o.text}': interval() is a continuous range, which the basic sweeper (Vidra's only sweeper) cannot ` +
          `enumerate; list the values instead: ${o.key}=choice(a,b,c) or ${o.key}=range(start,stop,step)`,
      );
    case 'glob':
      return globMatches(s, o, options).map((name) => new ValueNode(name, 'str'));
  }
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// range()

function rangeValues(s: RangeSweep, text: string): ConfigNode[] {
  const { start, stop, step } = s;
  if (![start, stop, step].every(Number.isFinite)) {
    throw new VidraError(`cannot sweep '${text}': range() needs finite start, stop and step`);
  }
  if (step === 0) throw new VidraError(`cannot sweep '${text}': the step of range() must not be zero`);
  const tooLong = () => new VidraError(`cannot sweep '${text}': the range has more than ${MAX_RANGE_LENGTH} values`);
  const out: ConfigNode[] = [];
  if (s.type === 'int') {
    // Python's range(): start + i*step while before stop.
    const count = Math.max(0, Math.ceil((stop - start) / step));
    if (count > MAX_RANGE_LENGTH) throw tooLong();
    for (let i = 0; i < count; i++) out.push(new ValueNode(start + i * step, 'int'));
    return out;
  }
  // Hydra 1.3 FloatRange: Decimal(float) is exact; each step is a Decimal addition rounded to 28
  // significant digits; each element is float() of the running sum.
  if (Math.abs((stop - start) / step) > MAX_RANGE_LENGTH + 1) throw tooLong();
  const dStop = decimalOf(stop);
  const dStep = decimalOf(step);
  const up = step > 0;
  let current = decimalOf(start);
  for (let i = 0; up ? compare(current, dStop) < 0 : compare(current, dStop) > 0; i++) {
    if (i >= MAX_RANGE_LENGTH) throw tooLong();
    out.push(new ValueNode(i === 0 ? start : toNumber(current), 'float'));
    current = add(current, dStep);
  }
  return out;
}

/** A decimal number `c × 10^e` (the subset of Python's Decimal that FloatRange uses). */
interface Decimal {
  c: bigint;
  e: number;
}

const PRECISION = 28; // Python's default decimal context

function decimalOf(x: number): Decimal {
  if (Number.isInteger(x)) return { c: BigInt(x), e: 0 };
  // x = m × 2^k exactly with k < 0, and 2^k = 5^-k × 10^k.
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let k = -1074;
  if (biased !== 0) {
    m |= 1n << 52n;
    k = biased - 1075;
  }
  return { c: (hi >>> 31 ? -m : m) * 5n ** BigInt(-k), e: k };
}

function aligned(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const e = Math.min(a.e, b.e);
  return [a.c * 10n ** BigInt(a.e - e), b.c * 10n ** BigInt(b.e - e), e];
}

function compare(a: Decimal, b: Decimal): number {
  const [x, y] = aligned(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Exact sum, then rounded half-even to 28 significant digits. */
function add(a: Decimal, b: Decimal): Decimal {
  const [x, y, e] = aligned(a, b);
  const sum = x + y;
  const negative = sum < 0n;
  const magnitude = negative ? -sum : sum;
  const drop = magnitude.toString().length - PRECISION;
  if (drop <= 0) return { c: sum, e };
  const p = 10n ** BigInt(drop);
  let q = magnitude / p;
  const twice = (magnitude % p) * 2n;
  if (twice > p || (twice === p && (q & 1n) === 1n)) q += 1n;
  return { c: negative ? -q : q, e: e + drop };
}

/** The double nearest to the decimal (ties to even), like Python's float(Decimal). */
function toNumber(d: Decimal): number {
  if (d.e >= 0) return Number(d.c * 10n ** BigInt(d.e));
  const negative = d.c < 0n;
  const n = negative ? -d.c : d.c;
  const den = 10n ** BigInt(-d.e);
  // A quotient of at least 64 bits plus a sticky bit rounds correctly when converted to 53 bits.
  const shift = Math.max(0, 64 - (n.toString(2).length - den.toString(2).length));
  const scaled = n << BigInt(shift);
  let q = scaled / den;
  if (scaled % den !== 0n) q |= 1n;
  let x = Number(q);
  let s = shift;
  while (s > 1000) {
    x /= 2 ** 1000;
    s -= 1000;
  }
  x /= 2 ** s;
  return negative ? -x : x;
}

// ---------------------------------------------------------------------------------------------
// glob()

function globMatches(s: GlobSweep, o: ParsedOverride, options: ExpandSweepOptions): string[] {
  const names = options.groupOptions?.[o.key] ?? options.listGroupOptions?.(o.key);
  if (names === undefined) {
    throw new VidraError(`cannot sweep '${o.text}': glob() needs the options of the config group '${o.key}', and none were given`);
  }
  const include = s.include.map(fnmatchRegex);
  const exclude = s.exclude.map(fnmatchRegex);
  return [...names]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .filter((name) => include.some((r) => r.test(name)) && !exclude.some((r) => r.test(name)));
}

/** Python's fnmatch.translate: `*` any run, `?` one character, `[seq]` / `[!seq]` a class. */
function fnmatchRegex(pattern: string): RegExp {
  let re = '';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i++]!;
    if (c === '*') {
      re += '.*';
      while (pattern[i] === '*') i++;
    } else if (c === '?') {
      re += '.';
    } else if (c === '[') {
      let j = i;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j++;
      if (j >= pattern.length) {
        re += '\\[';
      } else {
        let set = pattern.slice(i, j).replace(/\\/g, '\\\\');
        i = j + 1;
        if (set.startsWith('!')) set = `^${set.slice(1)}`;
        else if (set.startsWith('^')) set = `\\${set}`;
        // A leading ']' is literal in Python; JS would read `[]` as an empty class.
        set = set.replace(/^(\^?)\]/, '$1\\]');
        re += `[${set}]`;
      }
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    }
  }
  return new RegExp(`^(?:${re})$`, 's');
}

// ---------------------------------------------------------------------------------------------
// shuffle()

/** FNV-1a over the override texts: the default shuffle seed. */
function hashSeed(overrides: readonly string[]): number {
  let h = 0x811c9dc5;
  for (const text of overrides) {
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0x0a, 0x01000193);
  }
  return h >>> 0;
}
