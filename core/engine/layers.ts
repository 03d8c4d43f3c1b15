// Layers shared by the model plugins, written with the graph builder (so autodiff covers them) and with
// PyTorch's parameter names, shapes and default initialisation, so state dicts load both ways.
import type { Graph, Value } from './graph.ts';
import type { ForwardContext, ParameterSpec } from './modules.ts';

function uniform(random: () => number, n: number, bound: number): Float32Array {
  return Float32Array.from({ length: n }, () => (2 * random() - 1) * bound);
}

/**
 * nn.Linear(in, out): weight [out, in] and bias [out], both U(−1/√in, 1/√in) (kaiming_uniform with a=√5,
 * torch's default). Biases get no weight decay.
 */
export function linearParameters(prefix: string, inDim: number, outDim: number, random: () => number, bias = true): ParameterSpec[] {
  const bound = 1 / Math.sqrt(inDim);
  const specs: ParameterSpec[] = [{ name: `${prefix}.weight`, shape: [outDim, inDim], init: uniform(random, outDim * inDim, bound), decay: true }];
  if (bias) specs.push({ name: `${prefix}.bias`, shape: [outDim], init: uniform(random, outDim, bound), decay: false });
  return specs;
}

/** x W^T + b, one Gemm (ONNX Runtime's fastest path for this). */
export function linear(g: Graph, x: Value, params: Record<string, Value>, prefix: string): Value {
  return g.gemm(x, params[`${prefix}.weight`]!, params[`${prefix}.bias`] ?? null, { transB: true });
}

/** nn.LayerNorm(dim): weight ones, bias zeros, no weight decay. */
export function layerNormParameters(prefix: string, dim: number): ParameterSpec[] {
  return [
    { name: `${prefix}.weight`, shape: [dim], init: new Float32Array(dim).fill(1), decay: false },
    { name: `${prefix}.bias`, shape: [dim], init: new Float32Array(dim), decay: false },
  ];
}

/** LayerNorm over the last axis (biased variance, eps inside the sqrt, as torch), from differentiable primitives. */
export function layerNorm(g: Graph, x: Value, params: Record<string, Value>, prefix: string, eps = 1e-5): Value {
  const centered = g.sub(x, g.reduceMean(x, [-1], true));
  const variance = g.reduceMean(g.mul(centered, centered), [-1], true);
  const normed = g.div(centered, g.sqrt(g.add(variance, eps)));
  return g.add(g.mul(normed, params[`${prefix}.weight`]!), params[`${prefix}.bias`]!);
}

export type Activation = 'relu' | 'gelu' | 'tanh';

export function activate(g: Graph, x: Value, activation: Activation): Value {
  switch (activation) {
    case 'relu':
      return g.relu(x);
    case 'gelu':
      return g.gelu(x);
    case 'tanh':
      return g.tanh(x);
  }
}

/** Inverted dropout, as torch: zero with probability p, scale the rest by 1/(1−p); identity in evaluation. */
export function dropout(ctx: ForwardContext, name: string, x: Value, p: number): Value {
  if (!ctx.training || p === 0) return x;
  return ctx.g.mul(x, ctx.g.mul(ctx.bernoulli(name, x.shape, 1 - p), 1 / (1 - p)));
}
