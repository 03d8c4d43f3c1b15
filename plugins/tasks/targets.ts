// Several class-index targets per example as the columns a multi-head model scores (verb, noun; Z future verbs
// then Z future nouns): which logit section belongs to which target, and the batch's target columns.

import { VidraError } from '../../core/config/errors.ts';
import type { DatasetBatch } from './evaluation.ts';

/** One target's place among the columns: `width` consecutive columns from `column`, each a logit section. */
export interface TargetColumns {
  name: string;
  column: number;
  width: number;
  /** Per column: [offset, classes] of its logit section. */
  sections: Array<[number, number]>;
}

/**
 * Lays the targets out over the model's sections, in order: a target whose batch data is [B] takes one column,
 * [B, Z] takes Z. Checks that the columns and the sections agree, naming both.
 */
export function targetLayout(targets: readonly string[], sample: DatasetBatch, sections: readonly number[]): TargetColumns[] {
  const layout: TargetColumns[] = [];
  let column = 0;
  let offset = 0;
  for (const name of targets) {
    const t = sample.targets[name];
    if (!t) throw new VidraError(`task.target: the dataset has no target '${name}' (targets: ${Object.keys(sample.targets).join(', ')})`);
    if (!(t.data instanceof Int32Array)) throw new VidraError(`task.target: '${name}' is a multi-hot target; several targets must each be class indices`);
    const width = t.shape.slice(1).reduce((a, b) => a * b, 1);
    const own: Array<[number, number]> = [];
    for (let k = 0; k < width; k++) {
      const classes = sections[column + k];
      if (classes === undefined) break;
      own.push([offset, classes]);
      offset += classes;
    }
    layout.push({ name, column, width, sections: own });
    column += width;
  }
  if (column !== sections.length) {
    throw new VidraError(
      `task.target [${targets.join(', ')}] gives ${column} target columns (${layout.map((l) => `${l.name}: ${l.width}`).join(', ')}), ` +
        `but the model has ${sections.length} logit sections (${sections.join(', ')}); set the model's heads/repeat to match`,
    );
  }
  return layout;
}

/** The batch's targets as [B, T] int64 columns, target by target. */
export function targetColumns(batch: DatasetBatch, layout: readonly TargetColumns[]): BigInt64Array {
  const B = batch.size;
  const T = layout.reduce((n, l) => n + l.width, 0);
  const out = new BigInt64Array(B * T);
  for (const l of layout) {
    const data = batch.targets[l.name]!.data;
    for (let b = 0; b < B; b++) for (let k = 0; k < l.width; k++) out[b * T + l.column + k] = BigInt(data[b * l.width + k]!);
  }
  return out;
}

/** Row `r`'s scores of one logit section. */
export function sectionScores(logits: Float32Array, width: number, r: number, [offset, classes]: [number, number]): number[] {
  return Array.from(logits.subarray(r * width + offset, r * width + offset + classes));
}

/** −log softmax(scores)[label], computed stably. */
export function crossEntropy(scores: readonly number[], label: number): number {
  const m = Math.max(...scores);
  let sum = 0;
  for (const s of scores) sum += Math.exp(s - m);
  return m + Math.log(sum) - scores[label]!;
}
