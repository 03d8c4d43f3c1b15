import type { PluginDefinition } from '../../core/plugins/registry.ts';
import { plugin as constant } from './constant.ts';
import { plugin as cosineWarmup } from './cosine_warmup.ts';
import { plugin as linearWarmup } from './linear_warmup.ts';
import { plugin as step } from './step.ts';

/** The learning-rate schedule plugins that ship with Vidra. */
export const schedulerPlugins: PluginDefinition[] = [constant, step, cosineWarmup, linearWarmup];
