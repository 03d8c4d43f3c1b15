// The fit between a task's data, model and loss, checked when the job is prepared (before any run directory or
// data is read): the data config declares what it gives (`feature_dim`, `num_classes`, `multi_label`, see
// plugins/datasets/dataset.ts LOADER_PROPERTIES); the model and loss plugins are built from their nodes (cheap:
// no parameters, no graph) and asked what they take. Each error names the keys to change and values that fit.
import type { Config } from '../../core/config/config.ts';
import { toPlain } from '../../core/config/node.ts';
import { UsageError, VidraError } from '../../core/config/errors.ts';
import type { LossModule, ModelModule, TargetKind } from '../../core/engine/modules.ts';
import type { PluginRegistry } from '../../core/plugins/registry.ts';
import { pickInput, type Dataset } from './evaluation.ts';
import { BACKBONE_PATH } from './backbone-data.ts';
import { pluginAt, pluginNamed } from './plugin-nodes.ts';

export interface FitNodes {
  data: string;
  model: string;
  loss: string;
}

/** The `check` of a task plugin whose `nodes` name its data, model and loss. */
export function checkFit({ config, params, registry }: { config: Config; params: Record<string, unknown>; registry: PluginRegistry }): void {
  const nodes = params.nodes as FitNodes;
  const task = String(config.select('task._target_')).replace(/^task:/, '');
  checkBackboneFit({ config, params, registry });
  if (![nodes.data, nodes.model, nodes.loss].every((p) => config.has(p))) return;
  const data = (config.select(nodes.data) ?? {}) as { feature_dim?: number | null; num_classes?: number | null; multi_label?: boolean | null };
  const modelNode = (config.select(nodes.model) ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  // Built once, and only when a check needs it.
  let built: ModelModule | undefined;
  const model = () => (built ??= pluginAt<ModelModule>(config, registry, task, nodes.model, 'model'));

  if (typeof data.feature_dim === 'number') {
    const input = model().inputs()[0];
    const width = input?.shape.at(-1);
    if (width !== undefined && width !== data.feature_dim) {
      const key = Object.keys(modelNode).find((k) => k.endsWith('_dim') && modelNode[k] === width);
      problems.push(
        `${key ? `${nodes.model}.${key}=${width}` : `the model at '${nodes.model}' takes ${width}-d '${input!.name}'`} does not fit the data: ` +
          `${nodes.data}.feature_dim=${data.feature_dim} (the width of its features); set ${nodes.model}.${key ?? 'in_dim'}=${data.feature_dim}, ` +
          `or \${${nodes.data}.feature_dim} in the head config to follow the data`,
      );
    }
  }
  const outDim = modelNode.out_dim;
  if (typeof data.num_classes === 'number' && typeof outDim === 'number' && outDim !== data.num_classes) {
    problems.push(
      `${nodes.model}.out_dim=${outDim} does not fit the data: ${nodes.data}.num_classes=${data.num_classes}; ` +
        `set ${nodes.model}.out_dim=${data.num_classes}, or \${${nodes.data}.num_classes} in the head config to follow the data`,
    );
  }
  if (typeof data.multi_label === 'boolean') {
    // A multi-head model scores several class-index targets (verb and noun), one per logit section.
    const sections = model().sections?.();
    const want: TargetKind = data.multi_label ? 'multi_hot' : sections ? 'index_columns' : 'index';
    const loss = pluginAt<LossModule>(config, registry, task, nodes.loss, 'loss');
    if (loss.targetKind !== 'none' && loss.targetKind !== want) {
      const target = String(config.select(`${nodes.loss}._target_`));
      problems.push(
        `${nodes.loss}: the ${target} loss reads ${describe(loss.targetKind)}, but the data gives ${describe(want)} (${nodes.data}.multi_label=${data.multi_label}); ` +
          `choose a loss for ${describe(want)}: ${lossesFor(want, registry).map((n) => `loss=${n}`).join(', ')}`,
      );
    }
  }
  if (problems.length) throw new UsageError(`the ${task} task's data, model and loss do not fit:\n${problems.map((p) => `  ${p}`).join('\n')}`);
}

/**
 * A backbone is used exactly when the data gives video clips: clips without model.backbone cannot reach a head,
 * and a backbone on a features dataset would be silently ignored. The `check` of tasks that read `nodes.data`.
 */
export function checkBackboneFit({ config, params, registry }: { config: Config; params: Record<string, unknown>; registry: PluginRegistry }): void {
  const dataPath = (params.nodes as { data?: string } | undefined)?.data ?? 'data';
  if (!config.has(dataPath)) return;
  const target = String(config.select(`${dataPath}._target_`, { default: '' })).replace(/^dataset:/, '');
  if (!target || !registry.has(target, 'dataset')) return;
  const clips = registry.get(target, 'dataset').clips === true;
  const backbone = config.has(BACKBONE_PATH) && config.has(`${BACKBONE_PATH}._target_`);
  const choices = config.vidra ? (toPlain(config.vidra) as { runtime?: { choices?: Record<string, unknown> } }).runtime?.choices : undefined;
  const choice = (group: string) => (typeof choices?.[group] === 'string' ? (choices[group] as string) : null);
  const dataName = `data=${choice('data') ?? target}`;
  // Stand-in features of a named backbone (synthetic data.backbone, as charades_finetune uses) follow the backbone.
  const standIn = config.select(`${dataPath}.backbone`, { default: null }) !== null;
  if (!clips && backbone && !standIn) {
    const model = choice('model');
    const name = String(config.select(`${BACKBONE_PATH}.name`, { default: config.select(`${BACKBONE_PATH}._target_`) }));
    throw new UsageError(
      `${BACKBONE_PATH} (${name}${model ? `, from +model=${model}` : ''}) cannot be used: ${dataName} already provides features, so the backbone would never run. ` +
        `Drop ${model ? `+model=${model}` : BACKBONE_PATH} to train on those features, or switch to a video dataset: data=moving_shapes (generated videos), ` +
        `or data=video_clips data.root=<folder with classes.txt and <split>.csv listing path,label>`,
    );
  }
  if (clips && !backbone) {
    throw new UsageError(
      `${dataName} gives video clips, which a head cannot read: set a backbone to turn them into features, e.g. +model=r2plus1d (a frozen R(2+1)D-18), or use +experiment=video_probe`,
    );
  }
}

const KINDS: Record<TargetKind, string> = {
  multi_hot: 'multi-hot labels',
  index: 'one class index per sample',
  index_columns: 'class indices for each head of a multi-head model',
  none: 'no targets',
};
const describe = (kind: TargetKind) => KINDS[kind];

/** The registered losses whose defaults read `kind` targets. */
function lossesFor(kind: TargetKind, registry: PluginRegistry): string[] {
  return registry.list('loss').flatMap((def) => {
    try {
      return pluginNamed<LossModule>(registry, 'loss', def.name, {}).targetKind === kind ? [def.name] : [];
    } catch {
      return [];
    }
  });
}

/**
 * The same fit against the data as loaded (a real features file may not be as wide as its config declares):
 * run by the task right after loading, before anything is compiled or trained.
 */
export function checkLoadedFit(train: Dataset, split: string, model: ModelModule, nodes: FitNodes, declaredWidth: unknown): void {
  if (train.length === 0) return;
  const inputs = model.inputs();
  const batch = train.getBatch([0]);
  for (const mi of inputs) {
    const got = pickInput(batch, mi.name, inputs.length);
    const have = got.shape.slice(1).reduce((p, q) => p * q, 1);
    const want = mi.shape.reduce((p, q) => p * q, 1);
    if (have === want) continue;
    const width = got.shape.at(-1)!;
    throw new VidraError(
      `the '${split}' split of ${nodes.data} gives ${got.shape.slice(1).join('×')} values per sample, but the model at '${nodes.model}' takes ${mi.shape.join('×')} for '${mi.name}'` +
        (typeof declaredWidth === 'number' && declaredWidth !== width ? `: its features are ${width}-d, not ${nodes.data}.feature_dim=${declaredWidth}; set ${nodes.data}.feature_dim=${width}` : ''),
    );
  }
}
