import type { ConfigNode } from '../config/node.ts';

/** `key=v` change, `+key=v` add, `++key=v` force_add, `~key[=v]` delete. */
export type OverrideType = 'change' | 'add' | 'force_add' | 'delete';

export interface ChoiceSweep {
  kind: 'choice';
  /** Typed values, in order (after sort()/casts). */
  values: ConfigNode[];
  shuffle: boolean;
  tags: string[];
}

export interface RangeSweep {
  kind: 'range';
  start: number;
  stop: number;
  step: number;
  /** float when any of start/stop/step is a float (values then come out as floats, Decimal-exact steps). */
  type: 'int' | 'float';
  /** sort(range(...), reverse=true) reverses; shuffle(range(...)) shuffles at expansion. */
  reverse: boolean;
  shuffle: boolean;
  tags: string[];
}

export interface IntervalSweep {
  kind: 'interval';
  start: number;
  end: number;
  tags: string[];
}

export interface GlobSweep {
  kind: 'glob';
  include: string[];
  exclude: string[];
  tags: string[];
}

export type Sweep = ChoiceSweep | RangeSweep | IntervalSweep | GlobSweep;

/**
 * The parsed form used inside Vidra. `value` is a typed node (null for `~key` without a value
 * and for sweeps); `text` is the override as the user wrote it.
 */
export interface ParsedOverride {
  type: OverrideType;
  /** Dot path (`optim.lr`) or group path (`model/backbone`). */
  key: string;
  /** `group@pkg=...` → 'pkg'; `db@=x` → ''; no `@` → null. */
  package: string | null;
  value: ConfigNode | null;
  sweep: Sweep | null;
  text: string;
}
