import { formatLoc, type SourceLoc } from './node.ts';

/**
 * Every error a user can cause by what they wrote (YAML, overrides, CLI flags) is a VidraError:
 * the CLI prints its message alone (no stack) and exits with code 2.
 * The message says what was wrong, where, and what would be valid.
 */
export class VidraError extends Error {
  readonly loc?: SourceLoc;
  constructor(message: string, options: { loc?: SourceLoc; cause?: unknown } = {}) {
    super(options.loc ? `${formatLoc(options.loc)}: ${message}` : message, { cause: options.cause });
    this.name = new.target.name;
    this.loc = options.loc;
  }
}

/** Composition failed: a missing config, group option, defaults-list problem, bad merge. */
export class ConfigCompositionError extends VidraError {}

/** A key that does not exist, or exists when it should not (struct mode). */
export class ConfigKeyError extends VidraError {}

/** A value of the wrong type was merged into a node, or a node of the wrong kind was accessed. */
export class ConfigTypeError extends VidraError {}

/** Reading a `???` value. */
export class MissingMandatoryValueError extends VidraError {}

/** An interpolation could not be resolved (missing key, unknown resolver, cycle, bad syntax). */
export class InterpolationError extends VidraError {}

/** A config node failed its plugin's JSON Schema. */
export class ValidationError extends VidraError {}

/** Wrong CLI usage. */
export class UsageError extends VidraError {}

/** Closest candidates by edit distance, for did-you-mean hints. */
export function closest(name: string, candidates: Iterable<string>, max = 3): string[] {
  const scored: Array<[number, string]> = [];
  for (const c of candidates) {
    const d = levenshtein(name.toLowerCase(), c.toLowerCase());
    const limit = Math.max(2, Math.floor(Math.max(name.length, c.length) / 3));
    if (d <= limit || c.toLowerCase().includes(name.toLowerCase())) scored.push([d, c]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
  return scored.slice(0, max).map(([, c]) => c);
}

export function didYouMean(name: string, candidates: Iterable<string>): string {
  const near = closest(name, candidates);
  return near.length ? ` Did you mean ${near.map((n) => `'${n}'`).join(' or ')}?` : '';
}

function levenshtein(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}
