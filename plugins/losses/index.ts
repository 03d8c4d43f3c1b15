import type { PluginDefinition } from '../../core/plugins/registry.ts';
import { plugin as bce } from './bce.ts';
import { plugin as ce } from './ce.ts';
import { plugin as eql } from './eql.ts';
import { plugin as focal } from './focal.ts';
import { plugin as infonce } from './infonce.ts';
import { plugin as ldam } from './ldam.ts';
import { plugin as multiCe } from './multi_ce.ts';

/** The loss plugins that ship with Vidra (the `loss` registry's built-ins). */
export const lossPlugins: PluginDefinition[] = [bce, ce, focal, eql, ldam, infonce, multiCe];
