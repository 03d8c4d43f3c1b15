// The safetensors format (https://huggingface.co/docs/safetensors, reference writer `safetensors/src/tensor.rs`
// in huggingface/safetensors), written byte for byte as the reference does, and checkpoints on top of it that
// PyTorch reads with `safetensors.torch.load_file`:
//
//   8 bytes      N, unsigned 64-bit little-endian
//   N bytes      UTF-8 JSON, no whitespace: {"__metadata__":{…},"name":{"dtype":"F32","shape":[2,3],"data_offsets":[b,e]},…}
//                padded with spaces (0x20) so that 8 + N is a multiple of 8, and every tensor stays aligned
//   the rest     the tensors' bytes, little-endian, row-major, back to back in the header's order; offsets are
//                relative to the first byte after the header and the last end is the end of the file
//
// The reference orders tensors by dtype alignment, largest first (I64, F64, then F32), then by name (byte
// order), and writes `__metadata__` first. Its metadata map is a HashMap (any order); we sort its keys.

import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { dirname, join } from 'node:path';
import { VidraError } from '../config/errors.ts';

export type SafetensorsDtype = 'F32' | 'F64' | 'I64';

export interface SafeTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Float64Array | BigInt64Array;
}

export interface SafetensorsFile {
  /** In the file's order (by offset). */
  tensors: Record<string, SafeTensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends VidraError {}

const DTYPES: Record<SafetensorsDtype, { size: number; rank: number; array: string }> = {
  // `rank` is the position in the reference's Dtype enum (declared in increasing alignment order).
  F32: { size: 4, rank: 11, array: 'Float32Array' },
  F64: { size: 8, rank: 12, array: 'Float64Array' },
  I64: { size: 8, rank: 13, array: 'BigInt64Array' },
};

/** The reference reader refuses headers over 100 MB. */
const MAX_HEADER_SIZE = 100_000_000;
const METADATA_KEY = '__metadata__';

if (endianness() !== 'LE') throw new Error('safetensors: Vidra writes tensor bytes as they are in memory, which needs a little-endian machine');

const utf8 = new TextEncoder();
const compareBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
/** obj[key] = value as an own property, even for the key `__proto__`. */
const put = <T>(obj: Record<string, T>, key: string, value: T) => Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });

/** The header bytes (padded) and the tensors in file order, as the reference `prepare` makes them. */
export function safetensorsLayout(
  tensors: Record<string, SafeTensor>,
  metadata?: Record<string, string>,
): { header: Uint8Array; order: Array<[string, SafeTensor]>; dataBytes: number } {
  const order = Object.entries(tensors);
  for (const [name, t] of order) checkTensor(name, t);
  order.sort(([ln, lt], [rn, rt]) => DTYPES[rt.dtype].rank - DTYPES[lt.dtype].rank || compareBytes(ln, rn));
  const json: Record<string, unknown> = {};
  if (metadata) {
    const sorted: Record<string, string> = {};
    for (const k of Object.keys(metadata).sort(compareBytes)) {
      if (typeof metadata[k] !== 'string') throw new SafetensorsError(`safetensors metadata values must be strings; '${k}' is ${typeof metadata[k]}`);
      put(sorted, k, metadata[k]);
    }
    json[METADATA_KEY] = sorted;
  }
  let offset = 0;
  for (const [name, t] of order) {
    const n = t.data.byteLength;
    put(json, name, { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + n] });
    offset += n;
  }
  // JSON.stringify escapes exactly as serde_json does (", \, control characters as \n or \u00xx, nothing else).
  const text = utf8.encode(JSON.stringify(json));
  const padded = new Uint8Array(text.length + ((8 - (text.length % 8)) % 8)).fill(0x20);
  padded.set(text);
  return { header: padded, order, dataBytes: offset };
}

function checkTensor(name: string, t: SafeTensor): void {
  if (name === METADATA_KEY) throw new SafetensorsError(`'${METADATA_KEY}' is reserved for the metadata; it cannot name a tensor`);
  const info = DTYPES[t.dtype];
  if (!info) throw new SafetensorsError(`tensor '${name}': unsupported dtype '${String(t.dtype)}' (Vidra writes ${Object.keys(DTYPES).join(', ')})`);
  if (t.data?.constructor?.name !== info.array) throw new SafetensorsError(`tensor '${name}': dtype ${t.dtype} needs a ${info.array}, got ${t.data?.constructor?.name}`);
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(`tensor '${name}': the shape must be a list of non-negative integers, got ${JSON.stringify(t.shape)}`);
  }
  if (numel(t.shape) !== t.data.length) throw new SafetensorsError(`tensor '${name}': ${t.data.length} values for shape [${t.shape.join(', ')}]`);
}

/** The whole file as bytes (what `safetensors.serialize` returns). */
export function serializeSafetensors(tensors: Record<string, SafeTensor>, metadata?: Record<string, string>): Uint8Array {
  const { header, order, dataBytes } = safetensorsLayout(tensors, metadata);
  const out = new Uint8Array(8 + header.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  let at = 8 + header.length;
  for (const [, t] of order) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

let tmpCounter = 0;

/**
 * Writes a safetensors file atomically: the bytes go to a temporary file in the same directory, which is
 * flushed to disk (fsync) and renamed over `path`; a reader sees the old file or the new one, never a part.
 */
export function writeSafetensors(path: string, tensors: Record<string, SafeTensor>, metadata?: Record<string, string>): void {
  const { header, order } = safetensorsLayout(tensors, metadata);
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(header.length), true);
  const tmp = `${path}.tmp-${process.pid}-${tmpCounter++}`;
  const fd = openSync(tmp, 'w');
  try {
    try {
      writeAll(fd, length);
      writeAll(fd, header);
      for (const [, t] of order) writeAll(fd, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  syncDirectory(dirname(path));
}

/** writeSync may write less than asked (and at most 2 GiB at once). */
function writeAll(fd: number, bytes: Uint8Array): void {
  const CHUNK = 1 << 30;
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, Math.min(CHUNK, bytes.length - at));
}

/** Makes the rename itself durable; some platforms (Windows) cannot open a directory, which is fine. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Reads a safetensors file, checking it as the reference reader does; errors name the file and what is wrong. */
export function readSafetensors(path: string): SafetensorsFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new SafetensorsError(`cannot read the safetensors file '${path}': ${(err as Error).message}`, { cause: err });
  }
  return deserializeSafetensors(bytes, path);
}

/** Parses safetensors bytes; `source` names them in errors. */
export function deserializeSafetensors(bytes: Uint8Array, source = '<bytes>'): SafetensorsFile {
  const fail = (what: string): never => {
    throw new SafetensorsError(`'${source}' is not a valid safetensors file: ${what}`);
  };
  if (bytes.length < 8) fail(`it has ${bytes.length} bytes, fewer than the 8 of the header length (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_SIZE)) fail(`the header length ${n64} is over the 100 MB limit (not a safetensors file?)`);
  const n = Number(n64);
  if (8 + n > bytes.length) fail(`the header length is ${n} bytes but only ${bytes.length - 8} follow (truncated?)`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('the header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`the header does not start with '{' (it starts with ${JSON.stringify(text.slice(0, 16))})`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    return fail(`the header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('the header is not a JSON object');

  const metadata: Record<string, string> = {};
  const entries: Array<{ name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }> = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) fail(`'${METADATA_KEY}' must be an object of strings`);
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`'${METADATA_KEY}.${k}' must be a string, got ${JSON.stringify(v)}`);
        put(metadata, k, v as string);
      }
      continue;
    }
    const t = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t !== 'object' || t === null) fail(`the entry of tensor '${name}' is not an object`);
    if (typeof t.dtype !== 'string') fail(`tensor '${name}' has no dtype`);
    if (!Object.hasOwn(DTYPES, t.dtype as string)) fail(`tensor '${name}' has dtype ${t.dtype}; Vidra reads ${Object.keys(DTYPES).join(', ')}`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor '${name}' has an invalid shape ${JSON.stringify(t.shape)}`);
    const offs = t.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    entries.push({ name, dtype: t.dtype as SafetensorsDtype, shape: t.shape as number[], begin, end });
  }

  // As the reference: sorted by offset, the tensors must tile the byte buffer from 0 to the end of the file.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataStart = 8 + n;
  let expected = 0;
  for (const e of entries) {
    if (e.begin !== expected || e.end < e.begin) fail(`tensor '${e.name}' has data_offsets [${e.begin}, ${e.end}]; it should start at ${expected}, where the previous tensor ends`);
    const bytesNeeded = numel(e.shape) * DTYPES[e.dtype].size;
    if (e.end - e.begin !== bytesNeeded) fail(`tensor '${e.name}' (${e.dtype} [${e.shape.join(', ')}]) needs ${bytesNeeded} bytes, its data_offsets span ${e.end - e.begin}`);
    expected = e.end;
  }
  if (dataStart + expected !== bytes.length) {
    fail(
      dataStart + expected > bytes.length
        ? `the tensors need ${expected} bytes after the header, the file has ${bytes.length - dataStart} (truncated?)`
        : `${bytes.length - dataStart - expected} bytes follow the last tensor`,
    );
  }

  const tensors: Record<string, SafeTensor> = {};
  for (const e of entries) {
    // A copy: aligned for the typed array whatever the header's padding, and independent of `bytes`.
    const raw = bytes.slice(dataStart + e.begin, dataStart + e.end);
    const buffer = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
    const data = e.dtype === 'F32' ? new Float32Array(buffer) : e.dtype === 'F64' ? new Float64Array(buffer) : new BigInt64Array(buffer);
    put(tensors, e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

// ---------------------------------------------------------------------------------------------------------
// Checkpoints
//
// A checkpoint is two files, so that the model's file is exactly a PyTorch state dict:
//
//   <name>.safetensors         the parameters under their PyTorch names and nothing else, so that
//                              `model.load_state_dict(safetensors.torch.load_file(path), strict=True)` loads it;
//                              metadata: format "pt", step
//   <name>.optim.safetensors   the optimizer state tensors `<param>.<state>` (torch's state names: exp_avg,
//                              exp_avg_sq, momentum_buffer…); metadata: format "pt", step, optimizer (its name),
//                              extra (JSON: where training continues — epoch, batch — or what the task adds)
//
// Training runs write `last` (what `task.resume` reads), `best` and `epoch_<N>` (weights only).

/** The checkpoint a run continues from and evaluates by default. */
export const LAST_CHECKPOINT = 'last';
/** The weights file of checkpoint `name`. */
export const weightsFile = (name: string) => `${name}.safetensors`;
/** The optimizer-state file beside checkpoint `name`'s weights. */
export const optimizerFile = (name: string) => `${name}.optim.safetensors`;

/** A tensor to save; without `dtype` it is taken from the array (what TrainStepRunner.parameters() gives). */
export interface TensorLike {
  dtype?: SafetensorsDtype;
  shape: readonly number[];
  data: Float32Array | Float64Array | BigInt64Array;
}

export interface Checkpoint<T extends TensorLike = TensorLike> {
  /** Model parameters by their PyTorch names (what `model.load_state_dict` wants). */
  params: Record<string, T>;
  /** Optimizer state tensors named `<param>.<state>`. */
  optimizerState?: Record<string, T>;
  /** Optimizer steps taken. */
  step: number;
  /** The optimizer plugin's name (e.g. adamw). */
  optimizer?: string;
  /** Anything JSON-serialisable (epoch, batch: where training continues). */
  extra?: Record<string, unknown>;
}

function toSafeTensor(name: string, t: TensorLike): SafeTensor {
  const dtype = t.dtype ?? (t.data instanceof Float32Array ? 'F32' : t.data instanceof Float64Array ? 'F64' : t.data instanceof BigInt64Array ? 'I64' : undefined);
  if (!dtype) throw new SafetensorsError(`checkpoint tensor '${name}': its data is neither a Float32Array, a Float64Array nor a BigInt64Array`);
  return { dtype, shape: [...t.shape], data: t.data };
}

function checkStep(step: number): void {
  if (!Number.isSafeInteger(step) || step < 0) throw new SafetensorsError(`checkpoint step must be a non-negative integer, got ${step}`);
}

/** Writes a weights-only file atomically: exactly `params`, metadata format "pt" and the step. */
export function saveWeights(path: string, params: Record<string, TensorLike>, step: number): void {
  checkStep(step);
  const tensors: Record<string, SafeTensor> = {};
  for (const [name, t] of Object.entries(params)) put(tensors, name, toSafeTensor(name, t));
  mkdirSync(dirname(path), { recursive: true });
  writeSafetensors(path, tensors, { format: 'pt', step: String(step) });
}

/** Reads a weights file that Vidra wrote (its step is in the metadata). */
export function loadWeights(path: string): { params: Record<string, SafeTensor>; step: number } {
  const { tensors, metadata } = readSafetensors(path);
  return { params: tensors, step: stepOf(path, metadata) };
}

function stepOf(path: string, metadata: Record<string, string>): number {
  const step = Number(metadata.step);
  if (metadata.step === undefined || !/^\d+$/.test(metadata.step) || !Number.isSafeInteger(step)) {
    throw new SafetensorsError(`'${path}' is not a Vidra checkpoint: the metadata 'step' is ${JSON.stringify(metadata.step)}, not a step count`);
  }
  return step;
}

/**
 * Writes checkpoint `name` into `dir` atomically file by file: the optimizer state first, then the weights, so
 * that a reader who finds both at the same step has a whole checkpoint. Returns the weights file's path.
 */
export function saveCheckpoint(dir: string, ckpt: Checkpoint, name = LAST_CHECKPOINT): string {
  checkStep(ckpt.step);
  const state: Record<string, SafeTensor> = {};
  for (const [stateName, t] of Object.entries(ckpt.optimizerState ?? {})) {
    // State names are identifiers, so a state tensor splits back at its last dot into (parameter, state).
    const dot = stateName.lastIndexOf('.');
    if (dot <= 0 || !Object.hasOwn(ckpt.params, stateName.slice(0, dot)) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(stateName.slice(dot + 1))) {
      throw new SafetensorsError(`checkpoint: the optimizer state tensor '${stateName}' is not named <param>.<state> after one of the parameters (state names are identifiers)`);
    }
    if (Object.hasOwn(ckpt.params, stateName)) throw new SafetensorsError(`checkpoint: the optimizer state tensor '${stateName}' has the name of a parameter`);
    put(state, stateName, toSafeTensor(stateName, t));
  }
  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, optimizerFile(name)), state, {
    format: 'pt',
    step: String(ckpt.step),
    optimizer: ckpt.optimizer ?? '',
    extra: JSON.stringify(ckpt.extra ?? {}),
  });
  const path = join(dir, weightsFile(name));
  saveWeights(path, ckpt.params, ckpt.step);
  return path;
}

/** Reads checkpoint `name` of `dir`: its weights and the optimizer state beside them, which must be of the same step. */
export function loadCheckpoint(dir: string, name = LAST_CHECKPOINT): Required<Checkpoint<SafeTensor>> {
  const path = join(dir, weightsFile(name));
  const { params, step } = loadWeights(path);
  const statePath = join(dir, optimizerFile(name));
  const { tensors, metadata } = readSafetensors(statePath);
  const stateStep = stepOf(statePath, metadata);
  if (stateStep !== step) throw new SafetensorsError(`'${path}' is at step ${step} but '${statePath}' at step ${stateStep}: the checkpoint was not saved whole`);
  let extra: Record<string, unknown> = {};
  try {
    extra = JSON.parse(metadata.extra ?? '{}') as Record<string, unknown>;
  } catch {
    throw new SafetensorsError(`'${statePath}' is not a Vidra checkpoint: the metadata 'extra' is not JSON`);
  }
  return { params, optimizerState: tensors, step, optimizer: metadata.optimizer ?? '', extra };
}
