import type { PluginDefinition } from '../../core/plugins/registry.ts';
import { plugin as adam } from './adam.ts';
import { plugin as adamw } from './adamw.ts';
import { plugin as sgd } from './sgd.ts';

/** The optimizer plugins that ship with Vidra (torch 1.13 update rules). */
export const optimizerPlugins: PluginDefinition[] = [sgd, adam, adamw];
