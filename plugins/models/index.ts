import type { PluginDefinition } from '../../core/plugins/registry.ts';
import { plugin as clipProjection } from './clip_projection.ts';
import { plugin as linear } from './linear.ts';
import { plugin as mlp } from './mlp.ts';
import { plugin as multiHead } from './multi_head.ts';

export const modelPlugins: PluginDefinition[] = [linear, mlp, clipProjection, multiHead];
