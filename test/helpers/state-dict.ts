// The parameter names of a run's trained head: the keys a PyTorch `load_state_dict(strict=True)` of that model
// needs, which a weights-only checkpoint must hold exactly (PyTorch itself is not available in tests).
// The head is built from the run's resolved config, so interpolated widths (data.feature_dim) are as trained.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ModelModule } from '../../core/engine/modules.ts';
import { createPlugin } from '../../plugins/create.ts';

export function headParameterNames(runDir: string, path = 'model.head'): string[] {
  let node = parseYaml(readFileSync(join(runDir, '.vidra/resolved.yaml'), 'utf8')) as Record<string, unknown>;
  for (const key of path.split('.')) node = node[key] as Record<string, unknown>;
  const { _target_: name, ...options } = node;
  const model = createPlugin<ModelModule>('model', name as string, options);
  return model.parameters(() => 0).map((p) => p.name).sort();
}
