import type { PluginDefinition } from '../../core/plugins/registry.ts';
import { plugin as ewc } from './ewc.ts';
import { plugin as finetune } from './finetune.ts';
import { plugin as replay } from './replay.ts';

/** The strategy plugins that ship with Vidra (the `strategy` registry's built-ins). */
export const strategyPlugins: PluginDefinition[] = [finetune, replay, ewc];
