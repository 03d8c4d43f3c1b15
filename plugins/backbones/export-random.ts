// Random-weight ONNX stand-ins for backbones whose pretrained weights cannot be had here (SlowFast, MViT, …):
// a model with the real one's inputs (names, layout, frames, size, SlowFast's two pathways) and output width,
// so configs and pipelines run end to end. Its features mean nothing. It says so: the model carries the
// marker below in its producer name and metadata, and `onnx_backbone` logs "random weights" whenever it
// loads one.
//
// The network, per pathway: a patchifying Conv3d (1,p,p) stride (1,p,p) with p = min(8, size) → ReLU →
// Conv3d (3,3,3) stride 2 pad 1 → ReLU → global average pool; the pathways' vectors are concatenated and
// projected to `outputDim`. Weights are kaiming-normal (fan_in) from a seeded stream; the batch axis is
// symbolic ('N'), like a torch.onnx.export with dynamic_axes.

import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import onnxProto from 'onnx-proto';
import { modelInputShape, type ClipLayout } from '../../core/engine/backbone.ts';
import { Graph, type Value } from '../../core/engine/graph.ts';
import { toOnnxModel } from '../../core/engine/onnx-export.ts';
import { conv, globalAvgPool } from '../../core/engine/vision-ops.ts';
import { mulberry32, normal } from '../../core/random.ts';

const { onnx } = onnxProto;

/** In the producer name and the metadata of every stand-in; searched for in the bytes of a loaded model. */
export const STAND_IN_MARKER = 'vidra-random-weights-stand-in';

export interface StandInSpec {
  /** Frames of the (fast) pathway. */
  frames: number;
  size: number;
  channels: number;
  layout: ClipLayout;
  outputDim: number;
  /** SlowFast: a second input, the slow pathway with frames/alpha frames (listed first, as PyTorchVideo). */
  alpha?: number | null;
  /** Input names (default ['video'], or ['slow', 'fast'] with alpha). */
  inputNames?: readonly string[];
  /** Output name (default 'features'). */
  outputName?: string;
  seed?: number;
  /** Channels of the first conv (the second has 4×). */
  width?: number;
}

/** The stand-in's ONNX bytes. */
export function randomStandInModel(spec: StandInSpec): Uint8Array {
  const alpha = spec.alpha ?? null;
  const names = spec.inputNames ?? (alpha ? ['slow', 'fast'] : ['video']);
  if (names.length !== (alpha ? 2 : 1)) throw new Error(`stand-in: ${alpha ? 'SlowFast (alpha) takes 2 inputs' : 'one input'}, got names [${names.join(', ')}]`);
  const frames = alpha ? [Math.max(1, Math.floor(spec.frames / alpha)), spec.frames] : [spec.frames];
  const width = spec.width ?? 16;
  const gauss = normal(mulberry32(spec.seed ?? 0));
  const g = new Graph({ name: 'random_stand_in' });
  const weight = (name: string, shape: number[], fanIn: number): Value => {
    const n = shape.reduce((a, b) => a * b, 1);
    const std = Math.sqrt(2 / fanIn);
    return g.initializer(name, 'float32', shape, Float32Array.from({ length: n }, () => gauss() * std));
  };
  const pooled = names.map((name, i) => {
    let x = g.input(name, 'float32', modelInputShape(spec, 1, frames[i]!));
    if (spec.layout === 'NTCHW') x = g.transpose(x, [0, 2, 1, 3, 4]);
    const p = Math.min(8, spec.size);
    const c = spec.channels;
    x = g.relu(conv(g, x, weight(`${name}.conv1.weight`, [width, c, 1, p, p], c * p * p), null, { strides: [1, p, p] }));
    x = g.relu(conv(g, x, weight(`${name}.conv2.weight`, [4 * width, width, 3, 3, 3], width * 27), null, { strides: [2, 2, 2], pads: [1, 1, 1] }));
    return globalAvgPool(g, x);
  });
  const h = pooled.length > 1 ? g.concat(pooled, 1) : pooled[0]!;
  const inDim = h.shape[1]!;
  const proj = g.gemm(h, weight('proj.weight', [spec.outputDim, inDim], 2 * inDim), g.initializer('proj.bias', 'float32', [spec.outputDim], new Float32Array(spec.outputDim)), { transB: true });
  g.output(proj, spec.outputName ?? 'features');

  // Graph writes static shapes; make the batch axis symbolic and label the model.
  const model = onnx.ModelProto.decode(toOnnxModel(g));
  for (const v of [...model.graph!.input!, ...model.graph!.output!]) {
    v.type!.tensorType!.shape!.dim![0] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'N' });
  }
  model.producerName = STAND_IN_MARKER;
  model.docString = 'Random-weight stand-in written by Vidra (plugins/backbones/export-random.ts): right input/output spec, features mean nothing.';
  model.metadataProps = [onnx.StringStringEntryProto.create({ key: 'vidra.stand_in', value: `${STAND_IN_MARKER}; seed ${spec.seed ?? 0}` })];
  return onnx.ModelProto.encode(model).finish();
}

/** Writes a stand-in to `path` (directories made, written to a temporary file and renamed: parallel jobs see a whole file). */
export function writeRandomStandIn(path: string, spec: StandInSpec): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    writeFileSync(tmp, randomStandInModel(spec));
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Whether ONNX bytes are a Vidra stand-in (the marker is in the model's producer name). */
export function isRandomStandIn(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(STAND_IN_MARKER);
}
