// ONNX Runtime sessions: the device choice (auto / cuda / cpu) and the errors a user sees for a missing or
// corrupt model. The first `auto` session of a process is the one that tries CUDA and prints the notice,
// so this file keeps its `auto` tests in order and creates no other `auto` session before them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Graph } from '../../core/engine/graph.ts';
import { toOnnxModel } from '../../core/engine/onnx-export.ts';
import { createSession, EngineError, type Device } from '../../core/engine/session.ts';
import { seeded } from '../helpers/engine.ts';

function model(): Uint8Array {
  const g = new Graph();
  g.output(g.mul(g.input('x', 'float32', [3]), 2), 'y');
  return toOnnxModel(g);
}

async function double(session: ort.InferenceSession): Promise<number[]> {
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [3]) });
  return Array.from(out.y!.data as Float32Array);
}

/** Rejection of a promise, for exact checks of class and message. */
async function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => expect.unreachable('expected an error'),
    (e: unknown) => e as Error,
  );
}

// The CUDA tests describe a machine without a usable GPU, which is what CI and the dev machines are.
// (A `cuda` attempt does not touch the `auto` fallback state.)
const cudaUsable = await createSession(model(), { device: 'cuda' }).then(
  () => true,
  () => false,
);

describe('device cpu', () => {
  it('runs the graph and reports the cpu provider', async () => {
    const { session, provider } = await createSession(model(), { device: 'cpu', threads: 1 });
    expect(provider).toBe('cpu');
    expect(await double(session)).toEqual([2, 4, 6]);
  });
  it('loads a model from a file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'vidra-session-')), 'model.onnx');
    writeFileSync(path, model());
    const { session, provider } = await createSession(path, { device: 'cpu' });
    expect(provider).toBe('cpu');
    expect(await double(session)).toEqual([2, 4, 6]);
  });
});

describe.skipIf(cudaUsable)('without a usable GPU', () => {
  it('auto falls back to CPU with exactly one notice line', async () => {
    const notices: string[] = [];
    const { session, provider } = await createSession(model(), { device: 'auto', notice: (l) => notices.push(l) });
    expect(provider).toBe('cpu');
    expect(await double(session)).toEqual([2, 4, 6]);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^engine\.device=auto: CUDA is not available \(.+\); running on CPU$/);
    expect(notices[0]).not.toContain('\n');
  });
  it('a second auto session says nothing more', async () => {
    const notices: string[] = [];
    const { provider } = await createSession(model(), { device: 'auto', notice: (l) => notices.push(l) });
    expect(provider).toBe('cpu');
    expect(notices).toEqual([]);
  });
  it('cuda fails with an EngineError naming engine.device=cuda and how to fix it', async () => {
    const err = await failure(createSession(model(), { device: 'cuda' }));
    expect(err).toBeInstanceOf(EngineError);
    expect(err.message).toMatch(
      /^engine\.device=cuda, but the CUDA execution provider is not usable here: .+\. Install the CUDA build of onnxruntime-node \(ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node\) on a machine with a GPU, or use engine\.device=auto\|cpu$/,
    );
  });
});

describe('model errors', () => {
  it('a missing model file', async () => {
    const path = join(tmpdir(), 'vidra-no-such-dir', 'model.onnx');
    for (const device of ['cpu', 'auto', 'cuda'] as const) {
      const err = await failure(createSession(path, { device }));
      expect(err).toBeInstanceOf(EngineError);
      expect(err.message).toBe(`the ONNX model file '${path}' does not exist`);
    }
  });

  const random = Uint8Array.from(seeded(5, 64, 0, 256), Math.floor);
  const truncated = model().slice(0, 20);
  it.each([
    ['random bytes', random],
    ['a truncated valid model', truncated],
  ])('%s: cannot load the compiled graph', async (_, bytes) => {
    for (const device of ['cpu', 'auto'] as const) {
      const err = await failure(createSession(bytes, { device, notice: () => {} }));
      expect(err).toBeInstanceOf(EngineError);
      // Ours up to the colon; after it, ONNX Runtime's first line.
      expect(err.message).toMatch(/^cannot load the compiled graph: \S.*$/);
      expect(err.cause).toBeInstanceOf(Error);
    }
  });
  it('a corrupt model file names the file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'vidra-session-')), 'corrupt.onnx');
    writeFileSync(path, random);
    const err = await failure(createSession(path, { device: 'cpu' }));
    expect(err).toBeInstanceOf(EngineError);
    expect(err.message.startsWith(`cannot load '${path}': `)).toBe(true);
  });
  it('an unknown device is refused, not silently run on CPU', async () => {
    const err = await failure(createSession(model(), { device: 'gpu' as Device }));
    expect(err).toBeInstanceOf(EngineError);
    expect(err.message).toBe('engine.device=gpu is not a device; use engine.device=auto|cuda|cpu');
  });
});
