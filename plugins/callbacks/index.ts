import type { PluginDefinition } from '../../core/plugins/registry.ts';
import { plugin as checkpoint } from './checkpoint.ts';
import { plugin as earlyStopping } from './early_stopping.ts';
import { plugin as metricsLogger } from './metrics_logger.ts';

/** The callback plugins that ship with Vidra. */
export const callbackPlugins: PluginDefinition[] = [checkpoint, earlyStopping, metricsLogger];
