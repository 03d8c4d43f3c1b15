import type { PluginDefinition } from '../core/plugins/registry.ts';
import { backbonePlugins } from './backbones/index.ts';
import { callbackPlugins } from './callbacks/index.ts';
import { datasetPlugins } from './datasets/index.ts';
import { plugin as local } from './launchers/local.ts';
import { plugin as localParallel } from './launchers/local_parallel.ts';
import { plugin as slurm } from './launchers/slurm.ts';
import { lossPlugins } from './losses/index.ts';
import { metricPlugins } from './metrics/index.ts';
import { modelPlugins } from './models/index.ts';
import { optimizerPlugins } from './optimizers/index.ts';
import { samplerPlugins } from './samplers/index.ts';
import { schedulerPlugins } from './schedulers/index.ts';
import { strategyPlugins } from './strategies/index.ts';
import { plugin as basic } from './sweepers/basic.ts';
import { plugin as printConfig } from './tasks/print_config.ts';
import { plugin as train } from './tasks/train.ts';
import { plugin as makeUserSplits } from './tasks/make_user_splits.ts';
import { plugin as evaluate } from './tasks/evaluate.ts';
import { plugin as continual } from './tasks/continual.ts';
import { plugin as inference } from './tasks/inference.ts';
import { plugin as extractFeatures } from './tasks/extract/extract_features.ts';
import { plugin as profile } from './tasks/extract/profile.ts';

/** Every plugin that ships with Vidra, registered in each new registry. */
export const builtinPlugins: PluginDefinition[] = [local, localParallel, slurm, basic, printConfig, train, evaluate, continual, inference, makeUserSplits, extractFeatures, profile, ...modelPlugins, ...backbonePlugins, ...lossPlugins, ...optimizerPlugins, ...schedulerPlugins, ...samplerPlugins, ...strategyPlugins, ...metricPlugins, ...datasetPlugins, ...callbackPlugins];
