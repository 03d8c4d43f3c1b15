import { existsSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { VidraError } from '../config/errors.ts';

export type Device = 'auto' | 'cuda' | 'cpu';
export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionOptions {
  /** `engine.device`: auto tries CUDA and falls back to CPU with a notice; cuda fails without a usable GPU. */
  device?: Device;
  /** `engine.threads`: intra-op threads (2 beat 1 on a 2-core machine). */
  threads?: number;
  /** `engine.graph_optimization`. */
  graphOptimization?: GraphOptimization;
  /** Where the one-line fallback notice goes (default: stderr). */
  notice?: (line: string) => void;
}

export interface EngineSession {
  session: ort.InferenceSession;
  /** The execution provider actually used: recorded in the run's .vidra/vidra.yaml. */
  provider: 'cuda' | 'cpu';
}

export class EngineError extends VidraError {}

// ONNX Runtime's own log goes to stderr and is read once, at the first session. Its errors reach us as
// exceptions with the same text, and a missing CUDA library is expected on CPU machines: keep it quiet.
ort.env.logLevel = 'fatal';

let cudaUnavailable: string | null = null;

/**
 * Creates an ONNX Runtime session. The same graph runs on CUDA and CPU; only the execution provider
 * differs. onnxruntime-node throws when CUDA is requested without its libraries (there is no silent
 * fallback, even for ['cuda', 'cpu']), so `auto` catches that and builds the session again on CPU.
 */
export async function createSession(model: string | Uint8Array, options: SessionOptions = {}): Promise<EngineSession> {
  const device = options.device ?? 'auto';
  // The device comes from YAML at run time: anything else would silently fall through to CPU below.
  if (!['auto', 'cuda', 'cpu'].includes(device)) {
    throw new EngineError(`engine.device=${String(device)} is not a device; use engine.device=auto|cuda|cpu`);
  }
  if (typeof model === 'string' && !existsSync(model)) {
    throw new EngineError(`the ONNX model file '${model}' does not exist`);
  }
  const base: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: options.threads ?? 2,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: options.graphOptimization ?? 'all',
  };
  const create = (provider: 'cuda' | 'cpu') => {
    const opts = { ...base, executionProviders: [provider] };
    return typeof model === 'string' ? ort.InferenceSession.create(model, opts) : ort.InferenceSession.create(model, opts);
  };
  const describe = typeof model === 'string' ? `'${model}'` : 'the compiled graph';
  if (device === 'cuda' || (device === 'auto' && cudaUnavailable === null)) {
    try {
      return { session: await create('cuda'), provider: 'cuda' };
    } catch (err) {
      const reason = (err as Error).message.split('\n')[0]!;
      if (isModelError(reason)) throw new EngineError(`cannot load ${describe}: ${reason}`, { cause: err });
      if (device === 'cuda') {
        throw new EngineError(
          `engine.device=cuda, but the CUDA execution provider is not usable here: ${reason}. ` +
            `Install the CUDA build of onnxruntime-node (ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node) on a machine with a GPU, ` +
            `or use engine.device=auto|cpu`,
          { cause: err },
        );
      }
      cudaUnavailable = reason;
      (options.notice ?? ((l) => process.stderr.write(`${l}\n`)))(`engine.device=auto: CUDA is not available (${reason}); running on CPU`);
    }
  }
  try {
    return { session: await create('cpu'), provider: 'cpu' };
  } catch (err) {
    throw new EngineError(`cannot load ${describe}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

function isModelError(message: string): boolean {
  return /protobuf parsing failed|Load model|INVALID_GRAPH|INVALID_PROTOBUF|NO_SUCHFILE|model_path/i.test(message) && !/cuda/i.test(message);
}
