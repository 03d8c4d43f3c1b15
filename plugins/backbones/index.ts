import type { PluginDefinition } from '../../core/plugins/registry.ts';
import { plugin as onnxBackbone } from './onnx_backbone.ts';
import { plugin as r2plus1d18 } from './r2plus1d_18.ts';

/** Video backbones (kind 'model'): frozen feature extractors, see core/engine/backbone.ts. */
export const backbonePlugins: PluginDefinition[] = [r2plus1d18, onnxBackbone];
