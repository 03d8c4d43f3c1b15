// `onnx_backbone`: any video model exported to ONNX (SlowFast, MViT, Omnivore, R(2+1)D, …) as a frozen
// feature extractor, described by its input spec: frames, size, layout, mean/std, and the output to read.
//
//   clips [N, T, H, W, C] in [0, input_range]
//     → preprocessing graph (scale, (x − mean)/std, permute to `layout`; SlowFast: the slow pathway is
//       T/alpha frames picked as PyTorchVideo's PackPathway, fed before the fast one)
//     → the model → output `output_name` (default: the first output); an output of rank > 2 is averaged
//       over its axes after the second ([N, C, T, H, W] feature maps → [N, C])
//
// The preprocessing is its own small ONNX graph, run by the same execution provider as the model. A model
// exported with a fixed batch size runs in chunks of that size. `output_name` may name an inner tensor of
// the model (a layer's output): it is made a graph output before the session is created.
//
// `generate_if_missing: true` writes a random-weight stand-in with the same input/output spec where `path`
// has no file (see export-random.ts), and every load of a stand-in logs "random weights".

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import {
  BACKBONE_KEY,
  BackboneError,
  checkClips,
  clipShape,
  inputSpecFrom,
  inputSpecSchema,
  modelInputShape,
  packPathways,
  preprocessClips,
  type ClipLayout,
  type FeatureExtractor,
  type InputSpec,
} from '../../core/engine/backbone.ts';
import { Graph } from '../../core/engine/graph.ts';
import { toOnnxModel } from '../../core/engine/onnx-export.ts';
import { createSession, EngineError, type Device } from '../../core/engine/session.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import type { JobContext } from '../../core/plugins/interfaces.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { JOB_CONTEXT, PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { isRandomStandIn, writeRandomStandIn } from './export-random.ts';

const { onnx } = onnxProto;

export interface OnnxBackboneOptions {
  path: string;
  /** The model input(s) to feed (SlowFast: [slow, fast]); null: the model's inputs in order. */
  input_name: string | string[] | null;
  /** The tensor to read; null: the model's first output. */
  output_name: string | null;
  frames: number;
  size: number;
  layout: ClipLayout;
  mean: number[];
  std: number[];
  input_range: number;
  /** SlowFast's speed ratio: the slow pathway gets frames/alpha frames. null: one pathway. */
  alpha: number | null;
  output_dim: number;
  generate_if_missing: boolean;
  /** Seed of a generated stand-in. */
  seed: number;
  device: Device;
  threads: number;
  name?: string;
  short_side?: number;
}

type Log = (level: 'info' | 'warn', message: string) => void;

const stderrLog: Log = (_level, message) => process.stderr.write(`${message}\n`);

interface Loaded {
  session: ort.InferenceSession;
  provider: 'cuda' | 'cpu';
  inputs: string[];
  output: string;
  /** The model's batch size when exported without a dynamic batch axis. */
  fixedBatch: number | null;
}

const shapeText = (shape: ReadonlyArray<number | string>) => `[${shape.join(', ')}]`;

/** An ONNX video model as a FeatureExtractor. */
@injectable()
export class OnnxBackbone implements FeatureExtractor {
  readonly inputSpec: InputSpec;
  readonly outputDim: number;
  private loading?: Promise<Loaded>;
  private loaded?: Loaded;
  private readonly preprocessors = new Map<number, Promise<ort.InferenceSession>>();
  private outputChecked = false;
  private readonly log: Log;

  constructor(
    @inject(PLUGIN_CONFIG) readonly options: OnnxBackboneOptions,
    @inject(JOB_CONTEXT, { isOptional: true }) job?: JobContext,
  ) {
    this.inputSpec = inputSpecFrom(options);
    this.outputDim = options.output_dim;
    this.log = job ? (level, m) => job.log[level](m) : stderrLog;
    if (options.alpha !== null && Math.floor(options.frames / options.alpha) < 1) {
      throw new BackboneError(`${BACKBONE_KEY}.alpha=${options.alpha} leaves no frame for the slow pathway out of ${BACKBONE_KEY}.frames=${options.frames}`);
    }
  }

  get provider(): 'cuda' | 'cpu' | undefined {
    return this.loaded?.provider;
  }

  /** How many inputs the preprocessing feeds: 1, or 2 for SlowFast (slow, fast). */
  private get pathways(): number {
    return this.options.alpha === null ? 1 : 2;
  }

  /** Frames of each pathway's input. */
  private get pathwayFrames(): number[] {
    const { frames, alpha } = this.options;
    return alpha === null ? [frames] : [Math.floor(frames / alpha), frames];
  }

  async load(): Promise<void> {
    this.loading ??= this.open();
    try {
      this.loaded = await this.loading;
    } catch (err) {
      this.loading = undefined;
      throw err;
    }
  }

  private async open(): Promise<Loaded> {
    const o = this.options;
    const path = o.path;
    if (!existsSync(path)) {
      if (!o.generate_if_missing) {
        throw new BackboneError(
          `${BACKBONE_KEY}.path: the ONNX model '${path}' does not exist (${resolve(path)}). Export it from PyTorch ` +
            `(conf/model/backbone/*.yaml say how), or set ${BACKBONE_KEY}.generate_if_missing=true for a random-weight stand-in`,
        );
      }
      writeRandomStandIn(path, {
        frames: o.frames,
        size: o.size,
        channels: this.inputSpec.channels,
        layout: o.layout,
        outputDim: o.output_dim,
        alpha: o.alpha,
        inputNames: o.input_name === null ? undefined : typeof o.input_name === 'string' ? [o.input_name] : o.input_name,
        outputName: o.output_name ?? undefined,
        seed: o.seed,
      });
      this.log('warn', `${BACKBONE_KEY}.path: '${path}' did not exist; wrote a stand-in with RANDOM WEIGHTS (seed ${o.seed}) and the right input/output spec (generate_if_missing)`);
    }
    let bytes: Uint8Array = readFileSync(path);
    if (isRandomStandIn(bytes)) {
      this.log('warn', `${BACKBONE_KEY}: '${path}' is a Vidra stand-in with random weights, not a pretrained model: its features mean nothing`);
    }
    let { session, provider } = await this.createModelSession(bytes);
    const output = o.output_name ?? session.outputNames[0]!;
    if (!session.outputNames.includes(output)) {
      // An inner tensor: make it a graph output (ONNX Runtime only returns graph outputs).
      bytes = exposeOutput(bytes, output, path, session.outputNames);
      await session.release();
      ({ session, provider } = await this.createModelSession(bytes));
    }
    const inputs = this.checkInputs(session);
    const fixedBatch = this.checkDeclaredShapes(session, inputs, output);
    return { session, provider, inputs, output, fixedBatch };
  }

  private async createModelSession(bytes: Uint8Array) {
    try {
      return await createSession(bytes, { device: this.options.device, threads: this.options.threads });
    } catch (err) {
      if (err instanceof EngineError && err.message.startsWith('cannot load')) {
        const reason = err.message.replace(/^cannot load the compiled graph: /, '');
        throw new BackboneError(
          `${BACKBONE_KEY}.path: '${this.options.path}' is not a valid ONNX model (${reason}). Re-export it` +
            (this.options.generate_if_missing ? ', or delete it to have a random-weight stand-in written again' : '') +
            `, or point ${BACKBONE_KEY}.path at another file`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  private checkInputs(session: ort.InferenceSession): string[] {
    const o = this.options;
    const want = this.pathways;
    const names = o.input_name === null ? session.inputNames.slice(0, want) : typeof o.input_name === 'string' ? [o.input_name] : [...o.input_name];
    const what = o.alpha === null ? 'one input (the clip)' : `two inputs (slow then fast pathway, ${BACKBONE_KEY}.alpha=${o.alpha})`;
    if (names.length !== want) {
      throw new BackboneError(
        `${o.input_name === null ? `${BACKBONE_KEY}.path: '${o.path}' has inputs [${session.inputNames.join(', ')}]` : `${BACKBONE_KEY}.input_name lists [${names.join(', ')}]`}, ` +
          `but the backbone feeds ${what}; fix ${BACKBONE_KEY}.${o.input_name === null ? 'alpha' : 'input_name'}`,
      );
    }
    for (const n of names) {
      if (!session.inputNames.includes(n)) {
        throw new BackboneError(`${BACKBONE_KEY}.input_name: '${o.path}' has no input '${n}'; its inputs are [${session.inputNames.join(', ')}]`);
      }
    }
    const unfed = session.inputNames.filter((n) => !names.includes(n));
    if (unfed.length) {
      throw new BackboneError(`${BACKBONE_KEY}.path: '${o.path}' also needs the input(s) [${unfed.join(', ')}], which a backbone cannot feed; export the model with ${what}`);
    }
    return names;
  }

  /** Compares declared input and output shapes with the spec; returns a fixed batch size if the model has one. */
  private checkDeclaredShapes(session: ort.InferenceSession, inputs: string[], output: string): number | null {
    const o = this.options;
    let fixedBatch: number | null = null;
    inputs.forEach((name, i) => {
      const meta = session.inputMetadata[session.inputNames.indexOf(name)];
      if (!meta?.isTensor) return;
      if (meta.type !== 'float32') {
        throw new BackboneError(`${BACKBONE_KEY}.path: the input '${name}' of '${o.path}' is ${meta.type}; backbones feed float32 clips`);
      }
      const declared = meta.shape;
      if (declared.length === 0) return;
      const expected = modelInputShape(this.inputSpec, 0, this.pathwayFrames[i]!);
      if (declared.length !== 5) {
        throw new BackboneError(`${BACKBONE_KEY}.path: the input '${name}' of '${o.path}' is declared ${shapeText(declared)}; a video backbone takes 5-D clips (${o.layout})`);
      }
      // The key that sets each axis: the channel axis is where the layout puts it, its size the mean/std length.
      const keys = o.layout === 'NCTHW' ? ['', 'layout', 'frames', 'size', 'size'] : ['', 'frames', 'layout', 'size', 'size'];
      for (let d = 1; d < 5; d++) {
        const dim = declared[d];
        if (typeof dim === 'number' && dim > 0 && dim !== expected[d]) {
          const key = keys[d]!;
          const hint =
            key === 'layout'
              ? ` (or give ${dim} values in ${BACKBONE_KEY}.mean and std)`
              : key === 'frames' && o.alpha !== null && i === 0
                ? ` (the slow pathway gets frames/alpha = ${expected[d]} frames: check ${BACKBONE_KEY}.alpha too)`
                : '';
          throw new BackboneError(
            `${BACKBONE_KEY}.${key}: the input '${name}' of '${o.path}' is declared ${shapeText(declared)}, but ` +
              `layout=${o.layout}, frames=${o.frames}, size=${o.size} and ${this.inputSpec.channels} channels (mean/std) give [N, ${expected.slice(1).join(', ')}]; ` +
              `set ${BACKBONE_KEY}.${key} to match the model${hint}`,
          );
        }
      }
      if (typeof declared[0] === 'number' && declared[0] > 0) fixedBatch = declared[0];
    });
    const meta = session.outputMetadata[session.outputNames.indexOf(output)];
    if (meta?.isTensor && meta.shape.length >= 2 && typeof meta.shape[1] === 'number' && meta.shape[1] > 0) {
      this.checkOutputDim(output, meta.shape[1], meta.shape, 'declared');
    }
    return fixedBatch;
  }

  private checkOutputDim(output: string, features: number, shape: ReadonlyArray<number | string>, how: 'declared' | 'computed'): void {
    if (features !== this.outputDim) {
      const o = this.options;
      throw new BackboneError(
        `${BACKBONE_KEY}.output_dim=${o.output_dim}, but the output '${output}' of '${o.path}' ${how === 'declared' ? 'is declared' : 'has shape'} ${shapeText(shape)}: ` +
          `${features} features per clip; set ${BACKBONE_KEY}.output_dim=${features}, or read another layer with ${BACKBONE_KEY}.output_name`,
      );
    }
    this.outputChecked = true;
  }

  private preprocessor(batch: number): Promise<ort.InferenceSession> {
    let s = this.preprocessors.get(batch);
    if (!s) {
      const g = new Graph({ name: 'preprocess' });
      const clips = g.input('clips', 'float32', clipShape(this.inputSpec, batch));
      const x = preprocessClips(g, clips, this.inputSpec);
      const outs = this.options.alpha === null ? [x] : packPathways(g, x, this.options.layout, this.options.alpha);
      outs.forEach((v, i) => g.output(v, `pathway${i}`));
      s = createSession(toOnnxModel(g), { device: this.options.device, threads: this.options.threads }).then((r) => r.session);
      s.catch(() => this.preprocessors.delete(batch));
      this.preprocessors.set(batch, s);
    }
    return s;
  }

  /** Model inputs for `batch` clips: what the preprocessing graph makes of them. */
  async preprocess(clips: Float32Array, batch: number): Promise<ort.Tensor[]> {
    checkClips(clips, batch, this.inputSpec);
    const pre = await this.preprocessor(batch);
    const out = await pre.run({ clips: new ort.Tensor('float32', clips, clipShape(this.inputSpec, batch)) });
    return Array.from({ length: this.pathways }, (_, i) => out[`pathway${i}`]!);
  }

  async extract(clips: Float32Array, batch: number): Promise<Float32Array> {
    checkClips(clips, batch, this.inputSpec);
    await this.load();
    const m = this.loaded!;
    const chunk = m.fixedBatch ?? batch;
    const per = clips.length / batch;
    const result = new Float32Array(batch * this.outputDim);
    for (let start = 0; start < batch; start += chunk) {
      const n = Math.min(chunk, batch - start);
      let part = clips.subarray(start * per, (start + n) * per);
      if (n < chunk) {
        const padded = new Float32Array(chunk * per);
        padded.set(part);
        part = padded;
      }
      const inputs = await this.preprocess(part, chunk);
      const out = (await m.session.run(Object.fromEntries(m.inputs.map((name, i) => [name, inputs[i]!]))))[m.output]!;
      const features = this.features(out, chunk);
      result.set(features.subarray(0, n * this.outputDim), start * this.outputDim);
    }
    return result;
  }

  /** [N, C] from the output tensor: as is for rank 2, averaged over the axes after C otherwise. */
  private features(out: ort.Tensor, batch: number): Float32Array {
    const dims = out.dims;
    if (out.type !== 'float32' || dims.length < 2 || dims[0] !== batch) {
      throw new BackboneError(
        `${BACKBONE_KEY}.output_name: the output '${this.loaded!.output}' of '${this.options.path}' is ${out.type} ${shapeText(dims)}; ` +
          `a backbone output must be float32 [N, features] or [N, C, ...] with N = ${batch}`,
      );
    }
    if (!this.outputChecked) this.checkOutputDim(this.loaded!.output, dims[1]!, dims, 'computed');
    const data = out.data as Float32Array;
    if (dims.length === 2) return data;
    const c = dims[1]!;
    const inner = dims.slice(2).reduce((a, b) => a * b, 1);
    const pooled = new Float32Array(batch * c);
    for (let k = 0; k < batch * c; k++) {
      let s = 0;
      for (let j = k * inner; j < (k + 1) * inner; j++) s += data[j]!;
      pooled[k] = s / inner;
    }
    return pooled;
  }

  async dispose(): Promise<void> {
    const pre = [...this.preprocessors.values()];
    this.preprocessors.clear();
    for (const s of pre) await (await s.catch(() => null))?.release();
    const loading = this.loading;
    this.loading = undefined;
    this.loaded = undefined;
    await (await loading?.catch(() => null))?.session.release();
  }
}

/** The model bytes with `name` (an inner tensor) added to the graph outputs. */
function exposeOutput(bytes: Uint8Array, name: string, path: string, outputs: readonly string[]): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const produced = model.graph?.node?.some((n) => n.output?.includes(name));
  if (!produced) {
    throw new BackboneError(`${BACKBONE_KEY}.output_name: '${path}' has no tensor '${name}'; its outputs are [${outputs.join(', ')}] (an inner tensor may be named too)`);
  }
  model.graph!.output!.push(onnx.ValueInfoProto.create({ name }));
  return onnx.ModelProto.encode(model).finish();
}

export const plugin = definePlugin({
  kind: 'model',
  name: 'onnx_backbone',
  description: 'any ONNX video model (SlowFast, MViT, Omnivore, R(2+1)D exports) as a frozen feature extractor, with its input spec',
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', minLength: 1, description: 'the .onnx file' },
      input_name: {
        anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 2 }, { type: 'null' }],
        default: null,
        description: "the model input(s) (SlowFast: [slow, fast]); null: the model's inputs in order",
      },
      output_name: { type: ['string', 'null'], default: null, description: "the tensor (layer) to read; null: the model's first output" },
      ...inputSpecSchema(),
      alpha: { type: ['integer', 'null'], minimum: 1, default: null, description: 'SlowFast: the slow pathway gets frames/alpha frames' },
      output_dim: { type: 'integer', minimum: 1, description: 'features per clip, checked against the model' },
      generate_if_missing: { type: 'boolean', default: false, description: 'write a seeded RANDOM-WEIGHT stand-in with the right spec where `path` has no file' },
      seed: { type: 'integer', minimum: 0, default: 0, description: 'seed of a generated stand-in' },
    },
    required: ['path', 'frames', 'size', 'mean', 'std', 'output_dim'],
    additionalProperties: false,
  },
  create: OnnxBackbone,
});
