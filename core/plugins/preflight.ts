// The checks a job passes when it is prepared, after its plugin nodes are validated and before anything is
// written: the files each plugin declares it reads exist, and the task's own fit check (data vs model vs loss).
// A sweep prepares every job before the first starts, so a missing input stops it before any job directory.
import { existsSync } from 'node:fs';
import type { Config } from '../config/config.ts';
import { UsageError } from '../config/errors.ts';
import type { PluginRegistry } from './registry.ts';
import type { ValidatedPluginNode } from './validate.ts';

/** `plugins`: the job's plugin nodes as validateAll validated them. */
export function preflight(plugins: readonly ValidatedPluginNode[], config: Config, registry: PluginRegistry): void {
  const missing: string[] = [];
  const hints: string[] = [];
  let task: (() => void) | undefined;
  for (const { path, def, params } of plugins) {
    for (const input of def.inputs?.(params) ?? []) {
      if (existsSync(input.path)) continue;
      missing.push(`${path ? `${path}.${input.key}` : input.key}: ${input.path} does not exist`);
      if (input.hint && !hints.includes(input.hint)) hints.push(input.hint);
    }
    if (path === 'task' && def.check) task = () => def.check!({ config, params, registry });
  }
  if (missing.length) {
    throw new UsageError(`missing input${missing.length > 1 ? 's' : ''}, checked before any run directory:\n${[...missing, ...hints].map((m) => `  ${m}`).join('\n')}`);
  }
  task?.();
}
