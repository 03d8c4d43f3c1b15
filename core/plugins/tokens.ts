// Injection tokens. Registered with Symbol.for so that a plugin module bundled separately
// (a third-party package, a test fixture) resolves the same tokens as the CLI.

/** The plugin's own config node, validated against its schema, defaults filled, nested plugins built. */
export const PLUGIN_CONFIG = Symbol.for('vidra.plugin.config');
/** `_args_` of the config node (positional arguments), an array. */
export const PLUGIN_ARGS = Symbol.for('vidra.plugin.args');
/** The running job: its config, output directory, logger, abort signal (a JobContext). */
export const JOB_CONTEXT = Symbol.for('vidra.job.context');
/** The PluginRegistry. */
export const REGISTRY = Symbol.for('vidra.registry');
/** The whole composed Config of the job. */
export const CONFIG = Symbol.for('vidra.config');
