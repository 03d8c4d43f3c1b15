// R(2+1)D-18 (Tran et al., "A Closer Look at Spatiotemporal Convolutions for Action Recognition", CVPR 2018)
// exactly as torchvision's `r2plus1d_18` (torchvision/models/video/resnet.py): a VideoResNet of BasicBlocks
// whose 3-D convolutions are factored into Conv2Plus1D = Conv(1,3,3) → BN → ReLU → Conv(3,1,1).
//
//   stem     R2Plus1dStem: Conv3d(3, 45, (1,7,7), stride (1,2,2), pad (0,3,3)) BN ReLU
//                          Conv3d(45, 64, (3,1,1), pad (1,0,0)) BN ReLU
//   layer1-4 2 BasicBlocks each, planes 64, 128, 256, 512, first-block strides 1, 2, 2, 2 (on T, H and W:
//            the spatial conv strides (1,s,s), the temporal one (s,1,1)); a block's two Conv2Plus1D share
//            midplanes = (in·planes·27) // (in·9 + 3·planes), computed from the block's input width;
//            downsample = Conv3d 1×1×1 stride s + BN where the stride or the width changes
//   head     global average pool → 512 features → fc (400 Kinetics classes), optional (`output`)
//
// Parameters carry torchvision's state_dict names and shapes, so a PyTorch state dict saved as safetensors
// loads as is (`weights`). Without weights the network is initialised from the seed as torchvision does:
// kaiming normal (fan_out, ReLU gain) convolutions, BN weight 1 / bias 0 / running stats 0 and 1, fc N(0, 0.01).
// Inference folds every BN into the conv before it (exact up to float rounding; eps 1e-5 as PyTorch).

import { existsSync } from 'node:fs';
import ort from 'onnxruntime-node';
import {
  BACKBONE_KEY,
  BackboneError,
  checkClips,
  clipShape,
  inputSpecFrom,
  inputSpecSchema,
  preprocessClips,
  type ClipLayout,
  type FeatureExtractor,
  type InputSpec,
} from '../../core/engine/backbone.ts';
import { Graph, type Value } from '../../core/engine/graph.ts';
import { toOnnxModel } from '../../core/engine/onnx-export.ts';
import { readSafetensors } from '../../core/engine/safetensors.ts';
import { createSession, type Device } from '../../core/engine/session.ts';
import { batchNorm, conv, foldBatchNorm, globalAvgPool } from '../../core/engine/vision-ops.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import type { JobContext } from '../../core/plugins/interfaces.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { JOB_CONTEXT, PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { mulberry32, normal } from '../../core/random.ts';

/** The shape of a VideoResNet with R(2+1)D convolutions; R2PLUS1D_18 is torchvision's. */
export interface VideoResNetArch {
  /** R2Plus1dStem widths: the spatial conv's output (45) and the temporal conv's (64). */
  stem: readonly [number, number];
  /** Width of each layer. */
  planes: readonly number[];
  /** BasicBlocks per layer. */
  blocks: readonly number[];
  /** Stride of each layer's first block. */
  strides: readonly number[];
  /** Input channels (RGB). */
  channels: number;
  numClasses: number;
}

export const R2PLUS1D_18: VideoResNetArch = { stem: [45, 64], planes: [64, 128, 256, 512], blocks: [2, 2, 2, 2], strides: [1, 2, 2, 2], channels: 3, numClasses: 400 };

type Triple = [number, number, number];

/** A Conv3d (no bias) followed by a BatchNorm3d: the unit every VideoResNet convolution is made of. */
interface ConvBn {
  conv: string;
  bn: string;
  inC: number;
  outC: number;
  kernel: Triple;
  stride: Triple;
  pad: Triple;
  relu: boolean;
}

interface Block {
  convs: ConvBn[];
  downsample?: ConvBn;
}

interface Network {
  stem: ConvBn[];
  blocks: Block[];
  features: number;
  numClasses: number;
}

/** The conv/BN units in torchvision's module order (which is its state_dict order). */
function network(arch: VideoResNetArch): Network {
  const [mid0, stemOut] = arch.stem;
  const unit = (conv: string, bn: string, inC: number, outC: number, kernel: Triple, stride: Triple, pad: Triple, relu: boolean): ConvBn => ({ conv, bn, inC, outC, kernel, stride, pad, relu });
  const stem = [unit('stem.0', 'stem.1', arch.channels, mid0, [1, 7, 7], [1, 2, 2], [0, 3, 3], true), unit('stem.3', 'stem.4', mid0, stemOut, [3, 1, 1], [1, 1, 1], [1, 0, 0], true)];
  // Conv2Plus1D (an nn.Sequential: 0 conv, 1 BN, 2 ReLU, 3 conv) inside a block's conv1/conv2 Sequential
  // (0 Conv2Plus1D, 1 BN[, 2 ReLU]): the temporal conv `.0.3` is followed by the outer BN `.1`.
  const conv2plus1d = (p: string, inC: number, outC: number, mid: number, s: number, lastRelu: boolean) => [
    unit(`${p}.0.0`, `${p}.0.1`, inC, mid, [1, 3, 3], [1, s, s], [0, 1, 1], true),
    unit(`${p}.0.3`, `${p}.1`, mid, outC, [3, 1, 1], [s, 1, 1], [1, 0, 0], lastRelu),
  ];
  const blocks: Block[] = [];
  let inplanes = stemOut;
  arch.planes.forEach((planes, l) => {
    for (let b = 0; b < arch.blocks[l]!; b++) {
      const s = b === 0 ? arch.strides[l]! : 1;
      const p = `layer${l + 1}.${b}`;
      const mid = Math.floor((inplanes * planes * 3 * 3 * 3) / (inplanes * 3 * 3 + 3 * planes));
      const block: Block = { convs: [...conv2plus1d(`${p}.conv1`, inplanes, planes, mid, s, true), ...conv2plus1d(`${p}.conv2`, planes, planes, mid, 1, false)] };
      if (s !== 1 || inplanes !== planes) block.downsample = unit(`${p}.downsample.0`, `${p}.downsample.1`, inplanes, planes, [1, 1, 1], [s, s, s], [0, 0, 0], false);
      blocks.push(block);
      inplanes = planes;
    }
  });
  return { stem, blocks, features: inplanes, numClasses: arch.numClasses };
}

export interface TensorSpec {
  /** torchvision's state_dict key. */
  name: string;
  shape: number[];
  /** Learnable (nn.Parameter) or a buffer (BN running statistics). */
  kind: 'parameter' | 'buffer';
}

function unitsInOrder(net: Network): ConvBn[] {
  return [...net.stem, ...net.blocks.flatMap((b) => (b.downsample ? [...b.convs, b.downsample] : b.convs))];
}

/**
 * Every tensor of torchvision's state_dict, in its order, without the `num_batches_tracked` counters
 * (which inference does not use; a loaded state dict may hold them).
 */
export function videoResNetTensors(arch: VideoResNetArch = R2PLUS1D_18): TensorSpec[] {
  const net = network(arch);
  const specs: TensorSpec[] = [];
  for (const u of unitsInOrder(net)) {
    specs.push({ name: `${u.conv}.weight`, shape: [u.outC, u.inC, ...u.kernel], kind: 'parameter' });
    specs.push({ name: `${u.bn}.weight`, shape: [u.outC], kind: 'parameter' }, { name: `${u.bn}.bias`, shape: [u.outC], kind: 'parameter' });
    specs.push({ name: `${u.bn}.running_mean`, shape: [u.outC], kind: 'buffer' }, { name: `${u.bn}.running_var`, shape: [u.outC], kind: 'buffer' });
  }
  specs.push({ name: 'fc.weight', shape: [net.numClasses, net.features], kind: 'parameter' }, { name: 'fc.bias', shape: [net.numClasses], kind: 'parameter' });
  return specs;
}

export type StateDict = Map<string, Float32Array>;

/** torchvision's initialisation (VideoResNet._initialize_weights), drawn from a seeded stream in module order. */
export function randomStateDict(arch: VideoResNetArch = R2PLUS1D_18, seed = 0): StateDict {
  const gauss = normal(mulberry32(seed));
  const fill = (n: number, std: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = gauss() * std;
    return a;
  };
  const sd: StateDict = new Map();
  for (const t of videoResNetTensors(arch)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const leaf = t.name.slice(t.name.lastIndexOf('.') + 1);
    if (t.name === 'fc.weight') sd.set(t.name, fill(n, 0.01));
    else if (t.shape.length === 5) {
      // kaiming_normal_(mode='fan_out', nonlinearity='relu'): std = √2 / √(out_channels · kernel volume).
      const fanOut = t.shape[0]! * t.shape[2]! * t.shape[3]! * t.shape[4]!;
      sd.set(t.name, fill(n, Math.SQRT2 / Math.sqrt(fanOut)));
    } else sd.set(t.name, new Float32Array(n).fill(leaf === 'weight' || leaf === 'running_var' ? 1 : 0));
  }
  return sd;
}

/** The learnable parameter count (what `sum(p.numel() for p in model.parameters())` gives). */
export function parameterCount(arch: VideoResNetArch = R2PLUS1D_18): number {
  return videoResNetTensors(arch)
    .filter((t) => t.kind === 'parameter')
    .reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * Checks a state dict against the architecture: every expected tensor present with its shape, nothing else
 * (BN `num_batches_tracked` counters are accepted and ignored). The error lists each problem by name.
 */
export function checkStateDict(tensors: Map<string, { shape: readonly number[]; data: Float32Array | null }>, arch: VideoResNetArch, source: string, archName = 'r2plus1d_18'): StateDict {
  const specs = videoResNetTensors(arch);
  const expected = new Map(specs.map((s) => [s.name, s.shape]));
  const missing = specs.filter((s) => !tensors.has(s.name)).map((s) => s.name);
  const extra = [...tensors.keys()].filter((k) => !expected.has(k) && !k.endsWith('.num_batches_tracked'));
  const misShaped: string[] = [];
  const notFloat: string[] = [];
  for (const [name, t] of tensors) {
    const want = expected.get(name);
    if (!want) continue;
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) misShaped.push(`${name} is [${t.shape.join(', ')}], expected [${want.join(', ')}]`);
    else if (!t.data) notFloat.push(name);
  }
  if (missing.length || extra.length || misShaped.length || notFloat.length) {
    const list = (xs: string[]) => (xs.length > 12 ? `${xs.slice(0, 12).join(', ')} (and ${xs.length - 12} more)` : xs.join(', '));
    const problems = [
      missing.length ? `missing tensors (${missing.length}): ${list(missing)}` : '',
      extra.length ? `unexpected tensors (${extra.length}): ${list(extra)}` : '',
      misShaped.length ? `wrong shapes: ${list(misShaped)}` : '',
      notFloat.length ? `not floating point: ${list(notFloat)}` : '',
    ].filter(Boolean);
    const prefix = extra.length && missing.length ? commonPrefix(extra) : '';
    const hints = [
      misShaped.some((m) => m.startsWith('fc.')) ? `a classifier for another number of classes: set ${BACKBONE_KEY}.num_classes` : '',
      prefix ? `every unexpected name starts with '${prefix}': save the inner model's state_dict (e.g. model.module.state_dict())` : '',
    ].filter(Boolean);
    throw new BackboneError(
      `${BACKBONE_KEY}.weights: '${source}' is not a ${archName} state dict (torchvision names and shapes):\n  ${problems.join('\n  ')}` +
        (hints.length ? `\n  hint: ${hints.join('; ')}` : ''),
    );
  }
  return new Map(specs.map((s) => [s.name, tensors.get(s.name)!.data!]));
}

function commonPrefix(names: string[]): string {
  const first = names[0]!;
  const dot = first.indexOf('.');
  const prefix = dot > 0 ? first.slice(0, dot + 1) : '';
  return prefix && names.every((n) => n.startsWith(prefix)) ? prefix : '';
}

/** Reads a PyTorch state dict saved with `safetensors.torch.save_file(model.state_dict(), path)`. */
export function loadStateDict(path: string, arch: VideoResNetArch = R2PLUS1D_18): StateDict {
  if (!existsSync(path)) throw new BackboneError(`${BACKBONE_KEY}.weights: the file '${path}' does not exist; give a .safetensors state dict or weights: null for a seeded random initialisation`);
  let file;
  try {
    file = readSafetensors(path);
  } catch (err) {
    throw new BackboneError(`${BACKBONE_KEY}.weights: ${(err as Error).message}`, { cause: err });
  }
  const tensors = new Map(
    Object.entries(file.tensors).map(([k, t]) => [k, { shape: t.shape, data: t.data instanceof Float32Array ? t.data : t.data instanceof Float64Array ? Float32Array.from(t.data) : null }]),
  );
  return checkStateDict(tensors, arch, path);
}

/**
 * Writes the network into `g` on an NCTHW input: the stem, the residual layers, global average pooling, and
 * fc when `output` is logits. `foldBn` folds each BatchNorm into its conv (weights computed once per state
 * dict, through `folded`); without it BatchNormalization nodes run in inference mode.
 */
export function writeVideoResNet(
  g: Graph,
  x: Value,
  arch: VideoResNetArch,
  weights: StateDict,
  options: { output: 'features' | 'logits'; foldBn: boolean; folded?: Map<string, { weight: Float32Array; bias: Float32Array }> },
): Value {
  const net = network(arch);
  const tensor = (name: string, shape: readonly number[]) => {
    const data = weights.get(name);
    if (!data) throw new BackboneError(`internal: the state dict has no '${name}'`);
    return { data, shape };
  };
  const folded = options.folded ?? new Map<string, { weight: Float32Array; bias: Float32Array }>();
  const convBn = (h: Value, u: ConvBn): Value => {
    const wShape = [u.outC, u.inC, ...u.kernel];
    const convOptions = { strides: u.stride, pads: u.pad };
    let y: Value;
    if (options.foldBn) {
      let f = folded.get(u.conv);
      if (!f) {
        const bn = (k: string) => tensor(`${u.bn}.${k}`, [u.outC]).data;
        f = foldBatchNorm(tensor(`${u.conv}.weight`, wShape).data, null, { weight: bn('weight'), bias: bn('bias'), runningMean: bn('running_mean'), runningVar: bn('running_var') });
        folded.set(u.conv, f);
      }
      y = conv(g, h, g.initializer(`${u.conv}.weight`, 'float32', wShape, f.weight), g.initializer(`${u.conv}.bias`, 'float32', [u.outC], f.bias), convOptions);
    } else {
      const init = (k: string, shape: readonly number[]) => g.initializer(k, 'float32', shape, tensor(k, shape).data);
      const c = conv(g, h, init(`${u.conv}.weight`, wShape), null, convOptions);
      const bn = (k: string) => init(`${u.bn}.${k}`, [u.outC]);
      y = batchNorm(g, c, { weight: bn('weight'), bias: bn('bias'), runningMean: bn('running_mean'), runningVar: bn('running_var') });
    }
    return u.relu ? g.relu(y) : y;
  };
  let h = x;
  for (const u of net.stem) h = convBn(h, u);
  for (const block of net.blocks) {
    let out = h;
    for (const u of block.convs) out = convBn(out, u);
    const residual = block.downsample ? convBn(h, block.downsample) : h;
    h = g.relu(g.add(out, residual));
  }
  const features = globalAvgPool(g, h);
  if (options.output === 'features') return features;
  const fcW = g.initializer('fc.weight', 'float32', [net.numClasses, net.features], tensor('fc.weight', [net.numClasses, net.features]).data);
  const fcB = g.initializer('fc.bias', 'float32', [net.numClasses], tensor('fc.bias', [net.numClasses]).data);
  return g.gemm(features, fcW, fcB, { transB: true });
}

export interface R2Plus1dOptions {
  frames: number;
  size: number;
  layout: ClipLayout;
  mean: number[];
  std: number[];
  input_range: number;
  /** features: the 512-d pooled vector; logits: fc's num_classes scores. */
  output: 'features' | 'logits';
  num_classes: number;
  /** Checked against what `output` gives. */
  output_dim?: number;
  /** A .safetensors PyTorch state dict, or null for a seeded random initialisation. */
  weights: string | null;
  seed: number;
  fold_bn: boolean;
  device: Device;
  threads: number;
  name?: string;
  short_side?: number;
}

export type Log = (level: 'info' | 'warn', message: string) => void;

const stderrLog: Log = (_level, message) => process.stderr.write(`${message}\n`);

/**
 * A VideoResNet (R(2+1)D convolutions) as a frozen feature extractor. One ONNX graph per batch size
 * (static shapes), holding the preprocessing and the network, compiled on first use and cached.
 */
export class VideoResNetExtractor implements FeatureExtractor {
  readonly inputSpec: InputSpec;
  readonly outputDim: number;
  private weights?: StateDict;
  private readonly folded = new Map<string, { weight: Float32Array; bias: Float32Array }>();
  private readonly sessions = new Map<number, Promise<ort.InferenceSession>>();
  private usedProvider: 'cuda' | 'cpu' | undefined;

  constructor(
    readonly options: R2Plus1dOptions,
    readonly arch: VideoResNetArch = R2PLUS1D_18,
    private readonly log: Log = stderrLog,
    readonly archName = 'r2plus1d_18',
  ) {
    this.inputSpec = inputSpecFrom(options);
    if (this.inputSpec.channels !== arch.channels) {
      throw new BackboneError(`${BACKBONE_KEY}.mean and ${BACKBONE_KEY}.std have ${this.inputSpec.channels} values, but ${archName} takes ${arch.channels} channels`);
    }
    const produced = options.output === 'logits' ? options.num_classes : arch.planes.at(-1)!;
    if (options.output_dim !== undefined && options.output_dim !== produced) {
      throw new BackboneError(
        `${BACKBONE_KEY}.output_dim=${options.output_dim}, but ${archName} with output=${options.output} gives ${produced} values per clip ` +
          (options.output === 'logits' ? `(${BACKBONE_KEY}.num_classes)` : '(its pooled features)') +
          `; set ${BACKBONE_KEY}.output_dim=${produced}`,
      );
    }
    this.outputDim = produced;
    // Fail before a long run, not at its first batch.
    if (options.weights !== null && !existsSync(options.weights)) {
      throw new BackboneError(`${BACKBONE_KEY}.weights: the file '${options.weights}' does not exist; give a .safetensors state dict or weights: null for a seeded random initialisation`);
    }
  }

  get provider(): 'cuda' | 'cpu' | undefined {
    return this.usedProvider;
  }

  private get archForWeights(): VideoResNetArch {
    return { ...this.arch, numClasses: this.options.num_classes };
  }

  /** The state dict in use (loaded or initialised on first call). */
  stateDict(): StateDict {
    if (!this.weights) {
      if (this.options.weights === null) {
        this.log('warn', `${this.archName}: ${BACKBONE_KEY}.weights is null: random weights (seed ${this.options.seed}), not pretrained`);
        this.weights = randomStateDict(this.archForWeights, this.options.seed);
      } else {
        this.weights = loadStateDict(this.options.weights, this.archForWeights);
        this.log('info', `${this.archName}: loaded weights from '${this.options.weights}'`);
      }
    }
    return this.weights;
  }

  /** Replaces the weights by a state dict (checked as a loaded file would be). */
  setStateDict(tensors: Map<string, { shape: readonly number[]; data: Float32Array }>, source = 'the state dict'): void {
    this.weights = checkStateDict(tensors, this.archForWeights, source, this.archName);
    this.folded.clear();
    for (const s of this.sessions.values()) void s.then((x) => x.release()).catch(() => {});
    this.sessions.clear();
  }

  /** The whole inference graph for one batch size: clips [N, T, H, W, C] → preprocessing → network. */
  buildGraph(batch: number): Graph {
    const g = new Graph({ name: this.archName });
    const clips = g.input('clips', 'float32', clipShape(this.inputSpec, batch));
    const x = preprocessClips(g, clips, this.inputSpec);
    const y = writeVideoResNet(g, x, this.archForWeights, this.stateDict(), { output: this.options.output, foldBn: this.options.fold_bn, folded: this.folded });
    g.output(y, this.options.output);
    return g;
  }

  private session(batch: number): Promise<ort.InferenceSession> {
    let s = this.sessions.get(batch);
    if (!s) {
      s = createSession(toOnnxModel(this.buildGraph(batch)), { device: this.options.device, threads: this.options.threads }).then((r) => {
        this.usedProvider = r.provider;
        return r.session;
      });
      s.catch(() => this.sessions.delete(batch));
      this.sessions.set(batch, s);
    }
    return s;
  }

  async load(): Promise<void> {
    await this.session(1);
  }

  async extract(clips: Float32Array, batch: number): Promise<Float32Array> {
    checkClips(clips, batch, this.inputSpec);
    const session = await this.session(batch);
    const out = await session.run({ clips: new ort.Tensor('float32', clips, clipShape(this.inputSpec, batch)) });
    return out[this.options.output]!.data as Float32Array;
  }

  async dispose(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await (await s.catch(() => null))?.release();
  }
}

/** The `r2plus1d_18` plugin: torchvision's R(2+1)D-18 with its Kinetics-400 input spec. */
@injectable()
export class R2Plus1d18 extends VideoResNetExtractor {
  constructor(@inject(PLUGIN_CONFIG) options: R2Plus1dOptions, @inject(JOB_CONTEXT, { isOptional: true }) job?: JobContext) {
    super(options, R2PLUS1D_18, job ? (level, m) => job.log[level](m) : stderrLog);
  }
}

export const plugin = definePlugin({
  kind: 'model',
  name: 'r2plus1d_18',
  description: "R(2+1)D-18 video backbone (torchvision's architecture and state_dict names; seeded random init or a safetensors state dict)",
  schema: {
    type: 'object',
    properties: {
      ...inputSpecSchema({ frames: 16, size: 112, mean: [0.43216, 0.394666, 0.37645], std: [0.22803, 0.22145, 0.216989], layouts: ['NCTHW'] }),
      output: { enum: ['features', 'logits'], default: 'features', description: 'features: the 512-d pooled vector; logits: fc scores' },
      num_classes: { type: 'integer', minimum: 1, default: 400, description: 'width of fc (400: Kinetics)' },
      output_dim: { type: 'integer', minimum: 1, description: 'checked against what `output` gives (512 features or num_classes)' },
      weights: { type: ['string', 'null'], default: null, description: 'a .safetensors PyTorch state dict; null: seeded random weights' },
      seed: { type: 'integer', minimum: 0, default: 0, description: 'seed of the random initialisation' },
      fold_bn: { type: 'boolean', default: true, description: 'fold BatchNorm into the convolutions (same result, faster)' },
    },
    additionalProperties: false,
  },
  create: R2Plus1d18,
});
