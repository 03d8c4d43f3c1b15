// The parameter names of a bundled head config: the keys a PyTorch `load_state_dict(strict=True)` of that model
// needs, which a weights-only checkpoint must hold exactly (PyTorch itself is not available in tests).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ModelModule } from '../../core/engine/modules.ts';
import { createPlugin } from '../../plugins/create.ts';
import { REPO } from './project.ts';

export function headParameterNames(head: string, overrides: Record<string, unknown> = {}): string[] {
  const { _target_: name, ...options } = parseYaml(readFileSync(join(REPO, 'conf/head', `${head}.yaml`), 'utf8')) as Record<string, unknown>;
  const model = createPlugin<ModelModule>('model', name as string, { ...options, ...overrides });
  return model.parameters(() => 0).map((p) => p.name).sort();
}
