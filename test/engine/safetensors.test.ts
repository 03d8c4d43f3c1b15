import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  deserializeSafetensors,
  loadCheckpoint,
  loadWeights,
  readSafetensors,
  saveCheckpoint,
  serializeSafetensors,
  SafetensorsError,
  writeSafetensors,
  type SafeTensor,
} from '../../core/engine/safetensors.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'vidra-st-'));
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const u64le = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff, 0, 0, 0, 0];
const spaces = (n: number) => new Array<number>(n).fill(0x20);
const f32 = (shape: number[], values: number[]): SafeTensor => ({ dtype: 'F32', shape, data: Float32Array.from(values) });
const f64 = (shape: number[], values: number[]): SafeTensor => ({ dtype: 'F64', shape, data: Float64Array.from(values) });
const i64 = (shape: number[], values: number[]): SafeTensor => ({ dtype: 'I64', shape, data: BigInt64Array.from(values, BigInt) });

/** 0, 1, 2, 3, 4, 5 as float32 little-endian: 1.0 = 0x3f800000, 2.0 = 0x40000000, 3.0 = 0x40400000, 4.0 = 0x40800000, 5.0 = 0x40a00000. */
const ZERO_TO_FIVE_F32 = [0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64];

describe('safetensors: the bytes are the reference writer’s', () => {
  // The four cases of the reference's own tests (huggingface/safetensors, safetensors/src/tensor.rs).
  it('a 64-byte header needs no padding', () => {
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(64);
    const bytes = serializeSafetensors({ 'attn.0': f32([1, 2, 3], [0, 1, 2, 3, 4, 5]) });
    expect(Array.from(bytes)).toEqual([...u64le(64), ...ascii(header), ...ZERO_TO_FIVE_F32]);
  });

  it('a 65-byte header is padded with 7 spaces so the data starts at a multiple of 8', () => {
    const header = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(65);
    const bytes = serializeSafetensors({ attn0: f32([1, 1, 2, 3], [0, 1, 2, 3, 4, 5]) });
    expect(Array.from(bytes)).toEqual([...u64le(72), ...ascii(header), ...spaces(7), ...ZERO_TO_FIVE_F32]);
  });

  it('no tensors: {} and 6 spaces; metadata comes first under __metadata__', () => {
    expect(Array.from(serializeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect(Array.from(serializeSafetensors({}, { framework: 'pt' }))).toEqual([...u64le(40), ...ascii('{"__metadata__":{"framework":"pt"}}'), ...spaces(5)]);
  });

  it('orders tensors by alignment (I64, F64, then F32), then by name, with contiguous offsets', () => {
    const bytes = serializeSafetensors({ b: f32([2], [1, 2]), a: f32([], [3]), m: f64([1], [4]), z: i64([1], [5]) }, { step: '7', a_key: 'x' });
    const header =
      '{"__metadata__":{"a_key":"x","step":"7"},' +
      '"z":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},' +
      '"m":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},' +
      '"a":{"dtype":"F32","shape":[],"data_offsets":[16,20]},' +
      '"b":{"dtype":"F32","shape":[2],"data_offsets":[20,28]}}';
    const pad = (8 - (header.length % 8)) % 8;
    const n = header.length + pad;
    expect((8 + n) % 8).toBe(0);
    const data = [5, 0, 0, 0, 0, 0, 0, 0, /* 4.0 as f64 */ 0, 0, 0, 0, 0, 0, 16, 64, /* 3.0 */ 0, 0, 64, 64, /* 1.0 */ 0, 0, 128, 63, /* 2.0 */ 0, 0, 0, 64];
    expect(Array.from(bytes)).toEqual([...u64le(n), ...ascii(header), ...spaces(pad), ...data]);
  });

  it('every tensor starts at a file offset aligned to its element size', () => {
    const bytes = serializeSafetensors({ x: f32([3], [1, 2, 3]), y: f64([2], [1, 2]), w: i64([1], [1]), v: f32([1], [9]) });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    for (const [name, info] of Object.entries(header)) {
      const size = info.dtype === 'F32' ? 4 : 8;
      expect((8 + n + info.data_offsets[0]) % size, name).toBe(0);
    }
  });

  it('escapes names as serde_json does and sorts them by bytes', () => {
    const bytes = serializeSafetensors({ 'é"\n': f32([1], [1]), Z: f32([1], [2]) });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n)).trimEnd();
    expect(text).toBe('{"Z":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"é\\"\\n":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}');
  });
});

describe('safetensors: files round trip', () => {
  it('reads back names, dtypes, shapes, values and metadata', () => {
    const dir = tmp();
    const path = join(dir, 'm.safetensors');
    const tensors = {
      'layer.0.weight': f32([2, 3], [0.5, -1, 2, 3.25, 1e-30, -0]),
      'layer.0.bias': f64([3], [Math.PI, -Math.E, 1e300]),
      step: i64([], [-(2 ** 53) + 1]),
      empty: f32([0, 4], []),
    };
    writeSafetensors(path, tensors, { format: 'pt', note: 'ünïcode ✓' });
    const back = readSafetensors(path);
    expect(back.metadata).toEqual({ format: 'pt', note: 'ünïcode ✓' });
    expect(Object.keys(back.tensors)).toEqual(['step', 'layer.0.bias', 'empty', 'layer.0.weight']);
    for (const [name, t] of Object.entries(tensors)) {
      expect(back.tensors[name]!.dtype).toBe(t.dtype);
      expect(back.tensors[name]!.shape).toEqual(t.shape);
      expect(back.tensors[name]!.data).toEqual(t.data);
    }
    expect(Object.is(back.tensors['layer.0.weight']!.data[5], -0)).toBe(true);
  });

  it('writes atomically: no temporary file is left, an existing file is replaced whole', () => {
    const dir = tmp();
    const path = join(dir, 'a.safetensors');
    writeSafetensors(path, { x: f32([1000], new Array(1000).fill(1)) });
    writeSafetensors(path, { y: f64([1], [2]) });
    expect(readdirSync(dir)).toEqual(['a.safetensors']);
    expect(Object.keys(readSafetensors(path).tensors)).toEqual(['y']);
  });

  it('refuses tensors that do not match their dtype or shape, before touching the file', () => {
    const dir = tmp();
    const path = join(dir, 'bad.safetensors');
    expect(() => writeSafetensors(path, { x: { dtype: 'F32', shape: [2], data: Float64Array.of(1, 2) } })).toThrow("tensor 'x': dtype F32 needs a Float32Array, got Float64Array");
    expect(() => writeSafetensors(path, { x: f32([3], [1, 2]) })).toThrow("tensor 'x': 2 values for shape [3]");
    expect(() => writeSafetensors(path, { __metadata__: f32([1], [1]) })).toThrow(/reserved/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('safetensors: a broken file is an error that names the file', () => {
  const good = () => {
    const dir = tmp();
    const path = join(dir, 'model.safetensors');
    writeSafetensors(path, { w: f32([4], [1, 2, 3, 4]) });
    return path;
  };

  it('truncated in the tensor data', () => {
    const path = good();
    truncateSync(path, readFileSync(path).length - 3);
    expect(() => readSafetensors(path)).toThrow(SafetensorsError);
    expect(() => readSafetensors(path)).toThrow(`'${path}' is not a valid safetensors file: the tensors need 16 bytes after the header, the file has 13 (truncated?)`);
  });

  it('truncated in the header, or before the header length', () => {
    const path = good();
    truncateSync(path, 20);
    expect(() => readSafetensors(path)).toThrow(new RegExp(`'${path}' is not a valid safetensors file: the header length is \\d+ bytes but only 12 follow \\(truncated\\?\\)`));
    truncateSync(path, 5);
    expect(() => readSafetensors(path)).toThrow(`'${path}' is not a valid safetensors file: it has 5 bytes, fewer than the 8 of the header length (truncated?)`);
  });

  it('not a safetensors file at all, bad JSON, offsets that do not tile the data, trailing bytes', () => {
    const dir = tmp();
    const path = join(dir, 'x.safetensors');
    writeFileSync(path, 'PK\x03\x04 this is a zip file, not tensors');
    expect(() => readSafetensors(path)).toThrow(/is not a valid safetensors file: the header length \d+ is over the 100 MB limit/);
    const file = (header: string, data: number[] = []) => {
      const h = ascii(header);
      writeFileSync(path, Uint8Array.from([...u64le(h.length), ...h, ...data]));
    };
    file('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]');
    expect(() => readSafetensors(path)).toThrow(/the header is not valid JSON/);
    file('{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', [0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => readSafetensors(path)).toThrow("tensor 'w' has data_offsets [4, 8]; it should start at 0, where the previous tensor ends");
    file('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', [0, 0, 0, 0]);
    expect(() => readSafetensors(path)).toThrow("tensor 'w' (F32 [2]) needs 8 bytes, its data_offsets span 4");
    file('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0, 9]);
    expect(() => readSafetensors(path)).toThrow('1 bytes follow the last tensor');
    file('{"w":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}', [0, 0]);
    expect(() => readSafetensors(path)).toThrow("tensor 'w' has dtype BF16; Vidra reads F32, F64, I64");
    file('{"__metadata__":{"step":7}}');
    expect(() => readSafetensors(path)).toThrow("'__metadata__.step' must be a string, got 7");
  });

  it('a missing file', () => {
    expect(() => readSafetensors('/nonexistent/dir/m.safetensors')).toThrow(/cannot read the safetensors file '\/nonexistent\/dir\/m.safetensors': ENOENT/);
  });

  it('reads older files whose header is not padded', () => {
    const h = ascii('{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}');
    expect(h.length % 8).not.toBe(0);
    const back = deserializeSafetensors(Uint8Array.from([...u64le(h.length), ...h, 0, 0, 0, 0, 0, 0, 240, 63]));
    expect(Array.from(back.tensors.w!.data as Float64Array)).toEqual([1]);
  });
});

describe('checkpoints', () => {
  const ckpt = () => ({
    params: { 'head.weight': f32([2, 2], [1, 2, 3, 4]), 'head.bias': f32([2], [0.5, -0.5]), logit_scale: f32([], [2.6592]) },
    optimizerState: {
      'head.weight.exp_avg': f32([2, 2], [0.1, 0.2, 0.3, 0.4]),
      'head.weight.exp_avg_sq': f32([2, 2], [1e-3, 2e-3, 3e-3, 4e-3]),
      'head.bias.exp_avg': f32([2], [0.01, 0.02]),
      'head.bias.exp_avg_sq': f32([2], [1e-4, 2e-4]),
    },
    step: 1234,
    optimizer: 'adamw',
    extra: { epoch: 3, best_map: 0.41 },
  });

  it('round trip: a weights-only state dict, and the optimizer state with step, optimizer and extra beside it', () => {
    const dir = join(tmp(), 'ckpt', 'step_1234');
    const path = saveCheckpoint(dir, ckpt());
    expect(path).toBe(join(dir, 'last.safetensors'));
    expect(readdirSync(dir).sort()).toEqual(['last.optim.safetensors', 'last.safetensors']);
    // Exactly the parameters: what load_state_dict(strict=True) accepts.
    const weights = readSafetensors(path);
    expect(Object.keys(weights.tensors).sort()).toEqual(['head.bias', 'head.weight', 'logit_scale']);
    expect(weights.metadata).toEqual({ format: 'pt', step: '1234' });
    const state = readSafetensors(join(dir, 'last.optim.safetensors'));
    expect(Object.keys(state.tensors).sort()).toEqual(['head.bias.exp_avg', 'head.bias.exp_avg_sq', 'head.weight.exp_avg', 'head.weight.exp_avg_sq']);
    expect(state.metadata).toEqual({ format: 'pt', step: '1234', optimizer: 'adamw', extra: '{"epoch":3,"best_map":0.41}' });
    expect(loadCheckpoint(dir)).toEqual(ckpt());
    expect(loadWeights(path)).toEqual({ params: ckpt().params, step: 1234 });
  });

  it('writes a named checkpoint beside last, and refuses one whose two files are of different steps', () => {
    const dir = tmp();
    expect(saveCheckpoint(dir, ckpt(), 'epoch_3')).toBe(join(dir, 'epoch_3.safetensors'));
    expect(loadCheckpoint(dir, 'epoch_3').step).toBe(1234);
    saveCheckpoint(dir, ckpt());
    saveCheckpoint(join(dir, 'later'), { ...ckpt(), step: 1300 });
    writeFileSync(join(dir, 'last.safetensors'), readFileSync(join(dir, 'later', 'last.safetensors')));
    expect(() => loadCheckpoint(dir)).toThrow(`'${join(dir, 'last.safetensors')}' is at step 1300 but '${join(dir, 'last.optim.safetensors')}' at step 1234: the checkpoint was not saved whole`);
  });

  it('takes what TrainStepRunner gives: {shape, data} without dtype, state as <param>.<state>', () => {
    const dir = tmp();
    saveCheckpoint(dir, { params: { w: { shape: [2], data: Float64Array.of(1, 2) } }, optimizerState: { 'w.momentum_buffer': { shape: [2], data: Float64Array.of(3, 4) } }, step: 2, optimizer: 'sgd' });
    const back = loadCheckpoint(dir);
    expect(back.params).toEqual({ w: f64([2], [1, 2]) });
    expect(back.optimizerState).toEqual({ 'w.momentum_buffer': f64([2], [3, 4]) });
  });

  it('refuses state names that would collide or not split back', () => {
    const dir = tmp();
    expect(() => saveCheckpoint(dir, { params: { a: f32([1], [1]), 'a.exp_avg': f32([1], [1]) }, optimizerState: { 'a.exp_avg': f32([1], [0]) }, step: 1 })).toThrow(
      "checkpoint: the optimizer state tensor 'a.exp_avg' has the name of a parameter",
    );
    expect(() => saveCheckpoint(dir, { params: { a: f32([1], [1]) }, optimizerState: { 'a.exp-avg': f32([1], [0]) }, step: 1 })).toThrow(/is not named <param>.<state> after one of the parameters/);
    expect(() => saveCheckpoint(dir, { params: {}, optimizerState: { 'b.exp_avg': f32([1], [0]) }, step: 1 })).toThrow(/is not named <param>.<state>/);
  });

  it('a plain safetensors file is not a checkpoint', () => {
    const dir = tmp();
    writeSafetensors(join(dir, 'last.safetensors'), { w: f32([1], [1]) });
    expect(() => loadCheckpoint(dir)).toThrow(`'${join(dir, 'last.safetensors')}' is not a Vidra checkpoint: the metadata 'step' is undefined, not a step count`);
  });
});

// Python reads our files: with the safetensors package (the reference Rust reader) where it is installed,
// otherwise by the format with numpy alone. PYTHON picks the interpreter (default python3).
const python = process.env.PYTHON ?? 'python3';
const probe = (mod: string) => spawnSync(python, ['-c', `import ${mod}`], { stdio: 'ignore' }).status === 0;
const hasSafetensors = probe('safetensors.numpy');
const hasNumpy = probe('numpy');

const PY_READ = String.raw`
import json, struct, sys
import numpy as np
path, use_lib = sys.argv[1], sys.argv[2] == '1'
if use_lib:
    from safetensors import safe_open
    from safetensors.numpy import load_file
    tensors = load_file(path)
    with safe_open(path, framework='numpy') as f:
        metadata = f.metadata()
else:
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    assert (8 + n) % 8 == 0, 'header not padded to 8'
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    metadata = header.pop('__metadata__', {})
    dtypes = {'F32': '<f4', 'F64': '<f8', 'I64': '<i8'}
    tensors, end = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]['data_offsets']):
        b, e = info['data_offsets']
        assert b == end, name
        end = e
        tensors[name] = np.frombuffer(raw[8 + n + b:8 + n + e], dtype=dtypes[info['dtype']]).reshape(info['shape'])
    assert 8 + n + end == len(raw), 'trailing bytes'
out = {name: {'dtype': str(t.dtype), 'shape': list(t.shape), 'values': [float(x) for x in t.reshape(-1)]} for name, t in tensors.items()}
print(json.dumps({'tensors': out, 'metadata': metadata}))
`;

describe('Python reads the files', () => {
  it.skipIf(!hasSafetensors && !hasNumpy)(
    `${python} reads a checkpoint with ${hasSafetensors ? 'safetensors.numpy.load_file' : 'numpy and the format spec (the safetensors package is not installed)'}${!hasSafetensors && !hasNumpy ? ' — skipped: neither safetensors nor numpy is importable' : ''}`,
    () => {
      const dir = tmp();
      const path = saveCheckpoint(dir, {
        params: { 'fc.weight': f32([2, 3], [1, 2, 3, 4, 5, 6]), 'fc.bias': f64([3], [0.1, 0.2, 0.3]) },
        optimizerState: { 'fc.weight.momentum_buffer': f32([2, 3], [6, 5, 4, 3, 2, 1]) },
        step: 42,
        optimizer: 'sgd',
      });
      writeSafetensors(join(dir, 'counts.safetensors'), { counts: i64([2], [7, -3]) });
      const run = (file: string) => {
        const r = spawnSync(python, ['-c', PY_READ, file, hasSafetensors ? '1' : '0'], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        return JSON.parse(r.stdout) as { tensors: Record<string, { dtype: string; shape: number[]; values: number[] }>; metadata: Record<string, string> };
      };
      const got = run(path);
      expect(got.tensors).toEqual({
        'fc.weight': { dtype: 'float32', shape: [2, 3], values: [1, 2, 3, 4, 5, 6] },
        'fc.bias': { dtype: 'float64', shape: [3], values: [0.1, 0.2, 0.3] },
      });
      expect(got.metadata).toEqual({ format: 'pt', step: '42' });
      const state = run(join(dir, 'last.optim.safetensors'));
      expect(state.tensors).toEqual({ 'fc.weight.momentum_buffer': { dtype: 'float32', shape: [2, 3], values: [6, 5, 4, 3, 2, 1] } });
      expect(state.metadata).toMatchObject({ step: '42', optimizer: 'sgd' });
      expect(run(join(dir, 'counts.safetensors')).tensors.counts).toEqual({ dtype: 'int64', shape: [2], values: [7, -3] });
    },
  );
});
