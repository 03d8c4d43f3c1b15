import type { PluginDefinition } from '../../core/plugins/registry.ts';
import { plugin as classBalanced } from './class_balanced.ts';
import { plugin as constantClips } from './constant_clips_per_video.ts';
import { plugin as random } from './random.ts';
import { plugin as randomClip } from './random_clip.ts';
import { plugin as recentPast } from './recent_past.ts';
import { plugin as sequential } from './sequential.ts';
import { plugin as uniform } from './uniform.ts';
import { plugin as userStream } from './user_stream.ts';

/** The sampler plugins that ship with Vidra (the `sampler` registry's built-ins): index samplers, then clip samplers. */
export const samplerPlugins: PluginDefinition[] = [random, sequential, classBalanced, userStream, uniform, randomClip, constantClips, recentPast];
