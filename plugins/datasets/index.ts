import type { PluginDefinition } from '../../core/plugins/registry.ts';
import { plugin as animalKingdom } from './animal_kingdom.ts';
import { plugin as ava } from './ava.ts';
import { plugin as charades } from './charades.ts';
import { plugin as ego4dFeatures } from './ego4d_features.ts';
import { plugin as ego4dLta } from './ego4d_lta.ts';
import { plugin as synthetic } from './synthetic.ts';
import { movingShapesPlugin, plugin as videoClips } from './video-clips.ts';

/** Dataset plugins (kind 'dataset'): each `load(split)`s a Dataset (dataset.ts) from the real file formats. */
export const datasetPlugins: PluginDefinition[] = [ego4dLta, ego4dFeatures, charades, animalKingdom, ava, synthetic, videoClips, movingShapesPlugin];
