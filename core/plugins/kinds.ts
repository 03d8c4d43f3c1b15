/** The extension points of Vidra: every plugin is one of these kinds (mmengine's root registries, for video ML). */
export const PLUGIN_KINDS = [
  'dataset',
  'sampler',
  'model',
  'loss',
  'strategy',
  'metric',
  'optimizer',
  'scheduler',
  'launcher',
  'sweeper',
  'callback',
  'task',
] as const;

export type PluginKind = (typeof PLUGIN_KINDS)[number];

export function isPluginKind(s: string): s is PluginKind {
  return (PLUGIN_KINDS as readonly string[]).includes(s);
}
