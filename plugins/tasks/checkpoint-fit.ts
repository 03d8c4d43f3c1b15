// Whether a checkpoint's tensors fit the model a task builds: checked before any tensor is handed to the engine,
// so a changed model width is reported by tensor and config key rather than as ONNX Runtime's size error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Config } from '../../core/config/config.ts';
import { VidraError } from '../../core/config/errors.ts';
import type { SafeTensor } from '../../core/engine/safetensors.ts';
import { findMetadataDir } from '../../core/run/metadata.ts';

export interface CheckpointFit {
  /** The config key that named the checkpoint (task.resume, task.checkpoint). */
  key: string;
  /** The file the tensors come from. */
  file: string;
  /** The run directory that wrote it (its recorded config.yaml says how its model was configured), if known. */
  runDir?: string;
  /** Where the model's node is in the config (task.nodes.model). */
  modelPath: string;
  config: Config;
}

/** Throws one error naming the first model parameter the checkpoint lacks or holds with another shape. */
export function checkCheckpointFits(tensors: Record<string, SafeTensor>, params: ReadonlyArray<{ name: string; shape: readonly number[] }>, fit: CheckpointFit): void {
  for (const p of params) {
    const t = tensors[p.name];
    if (!t) throw new VidraError(`${fit.key}: ${fit.file} has no parameter '${p.name}' for the model at '${fit.modelPath}'${differences(fit)}`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new VidraError(
        `${fit.key}: the checkpoint tensor '${p.name}' in ${fit.file} has shape [${t.shape.join(', ')}]; the model at '${fit.modelPath}' makes it [${p.shape.join(', ')}]${differences(fit)}`,
      );
    }
  }
}

/** The model keys whose value here differs from the writing run's recorded config, as a parenthesis. */
function differences(fit: CheckpointFit): string {
  let recordedFile: string;
  let recorded: unknown;
  try {
    // The hint is a courtesy: a run directory that cannot be read gives none.
    const meta = fit.runDir ? findMetadataDir(fit.runDir) : null;
    if (meta === null) return '';
    recordedFile = join(meta, 'config.yaml');
    recorded = parseYaml(readFileSync(recordedFile, 'utf8'));
  } catch {
    return '';
  }
  for (const part of fit.modelPath.split('.')) recorded = (recorded as Record<string, unknown> | undefined)?.[part];
  const here = fit.config.select(fit.modelPath, { default: undefined });
  const changed: string[] = [];
  walk(here, recorded, fit.modelPath, changed);
  if (changed.length === 0) return ` (the model's config at '${fit.modelPath}' is the one ${recordedFile} records)`;
  return ` (config keys that differ from ${recordedFile}: ${changed.join(', ')})`;
}

function walk(here: unknown, recorded: unknown, path: string, out: string[]): void {
  // A recorded interpolation (`${data.feature_dim}`) says nothing about the value it had.
  if (typeof recorded === 'string' && recorded.includes('${')) return;
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(here) && isObj(recorded)) {
    for (const k of new Set([...Object.keys(here), ...Object.keys(recorded)])) walk(here[k], recorded[k], `${path}.${k}`, out);
    return;
  }
  if (JSON.stringify(here) !== JSON.stringify(recorded)) out.push(`${path}=${JSON.stringify(here) ?? 'absent'} here, ${JSON.stringify(recorded) ?? 'absent'} there`);
}
