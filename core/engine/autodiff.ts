// Reverse-mode autodiff over the recorded ONNX nodes: one table of gradient rules keyed by op type (one
// short rule per op, as tinygrad's gradient.py), and one walk that sums gradients where a value is used
// more than once. Every rule returns gradients shaped like its inputs; `unbroadcast` undoes broadcasting.

import { ShapeError, type Graph, type GraphNode, type Shape, type Value } from './graph.ts';

export interface RuleContext {
  g: Graph;
  node: GraphNode;
  /** The node's inputs (null for omitted optional inputs). */
  x: (Value | null)[];
  /** The node's first output. */
  y: Value;
  /** d loss / d y. */
  dy: Value;
}

/** Gradients for each input of a node (null where there is none, e.g. integer or constant inputs). */
export type GradientRule = (c: RuleContext) => (Value | null)[];

/** Sums `grad` over the axes that broadcasting added or stretched, so that it has `shape`. */
export function unbroadcast(g: Graph, grad: Value, shape: Shape): Value {
  if (grad.shape.length === shape.length && grad.shape.every((d, i) => d === shape[i])) return grad;
  const lead = grad.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < grad.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && grad.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length ? g.reduceSum(grad, axes, true) : grad;
  return g.reshape(summed, shape);
}

const inp = (c: RuleContext, i: number): Value => {
  const v = c.x[i];
  if (!v) throw new ShapeError(`${c.node.op}: input ${i} is missing`);
  return v;
};

/** Axes of a reduction node (from its input or attribute); undefined means all. */
function reductionAxes(node: GraphNode, rank: number): number[] {
  const fromInput = node.inputs[1];
  if (fromInput) {
    const init = fromInput.graph.initializers.find((i) => i.value === fromInput);
    if (!init) throw new ShapeError(`${node.op}: reduction axes must be constants to differentiate`);
    return Array.from(init.data as BigInt64Array, (b) => Number(b));
  }
  const attr = node.attrs.axes as number[] | undefined;
  return attr ?? Array.from({ length: rank }, (_, i) => i);
}

/** dy of a reduction, reshaped back to keepdims form and expanded to the input's shape. */
function spread(c: RuleContext): Value {
  const x = inp(c, 0);
  const axes = reductionAxes(c.node, x.rank).map((a) => (a < 0 ? a + x.rank : a));
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return c.g.expand(c.g.reshape(c.dy, kept), x.shape);
}

function constantScalar(v: Value | null | undefined): number | undefined {
  if (!v) return undefined;
  const init = v.graph.initializers.find((i) => i.value === v);
  return init && init.data.length === 1 ? Number(init.data[0]) : undefined;
}

/** Swaps the last two axes. */
function mT(g: Graph, v: Value): Value {
  const perm = v.shape.map((_, i) => i);
  [perm[v.rank - 2], perm[v.rank - 1]] = [perm[v.rank - 1]!, perm[v.rank - 2]!];
  return g.transpose(v, perm);
}

export const RULES: Record<string, GradientRule> = {
  Identity: ({ dy }) => [dy],
  Add: ({ g, x, dy }) => [unbroadcast(g, dy, x[0]!.shape), unbroadcast(g, dy, x[1]!.shape)],
  Sub: ({ g, x, dy }) => [unbroadcast(g, dy, x[0]!.shape), unbroadcast(g, g.neg(dy), x[1]!.shape)],
  Mul: ({ g, x, dy }) => [unbroadcast(g, g.mul(dy, x[1]!), x[0]!.shape), unbroadcast(g, g.mul(dy, x[0]!), x[1]!.shape)],
  Div: ({ g, x, y, dy }) => [unbroadcast(g, g.div(dy, x[1]!), x[0]!.shape), unbroadcast(g, g.neg(g.div(g.mul(dy, y), x[1]!)), x[1]!.shape)],
  Neg: ({ g, dy }) => [g.neg(dy)],
  Exp: ({ g, y, dy }) => [g.mul(dy, y)],
  Log: ({ g, x, dy }) => [g.div(dy, x[0]!)],
  Sqrt: ({ g, y, dy }) => [g.div(dy, g.mul(2, y))],
  Abs: ({ g, x, dy }) => [g.mul(dy, g.sign(x[0]!))],
  Sigmoid: ({ g, y, dy }) => [g.mul(dy, g.mul(y, g.sub(1, y)))],
  Tanh: ({ g, y, dy }) => [g.mul(dy, g.sub(1, g.mul(y, y)))],
  Relu: ({ g, x, dy }) => [g.where(g.greater(x[0]!, 0), dy, 0)],
  // d/dx x^p = p x^(p-1); the exponent is a constant in every graph Vidra builds.
  Pow: ({ g, x, dy }) => {
    const p = constantScalar(x[1]);
    if (p === undefined) throw new ShapeError('Pow: only constant exponents are differentiable here');
    return [unbroadcast(g, g.mul(dy, g.mul(p, g.pow(x[0]!, p - 1))), x[0]!.shape), null];
  },
  // Ties send the whole gradient to the first operand (torch.maximum splits it; ties are measure-zero in training).
  Max: ({ g, x, dy }) => {
    const first = g.greaterOrEqual(x[0]!, x[1]!);
    return [unbroadcast(g, g.where(first, dy, 0), x[0]!.shape), unbroadcast(g, g.where(first, 0, dy), x[1]!.shape)];
  },
  Min: ({ g, x, dy }) => {
    const first = g.lessOrEqual(x[0]!, x[1]!);
    return [unbroadcast(g, g.where(first, dy, 0), x[0]!.shape), unbroadcast(g, g.where(first, 0, dy), x[1]!.shape)];
  },
  Clip: ({ g, node, x, dy }) => {
    let inside: Value | null = null;
    const lo = node.inputs[1];
    const hi = node.inputs[2];
    if (lo) inside = g.greaterOrEqual(x[0]!, lo);
    if (hi) inside = inside ? g.and(inside, g.lessOrEqual(x[0]!, hi)) : g.lessOrEqual(x[0]!, hi);
    return [inside ? g.where(inside, dy, 0) : dy, null, null];
  },
  Where: ({ g, x, dy }) => [null, unbroadcast(g, g.where(x[0]!, dy, 0), x[1]!.shape), unbroadcast(g, g.where(x[0]!, 0, dy), x[2]!.shape)],
  Cast: ({ g, x, dy }) => [g.cast(dy, x[0]!.dtype)],
  MatMul: ({ g, x, dy }) => [unbroadcast(g, g.matmul(dy, mT(g, x[1]!)), x[0]!.shape), unbroadcast(g, g.matmul(mT(g, x[0]!), dy), x[1]!.shape)],
  // Y = alpha op(A) op(B) + beta C; alpha and beta are FLOAT (float32) attributes, so the forward pass
  // uses fround(alpha), and so must the gradient.
  // The gradients are Gemms with transpose flags and alpha folded in: no transposed copies of the weights.
  Gemm: ({ g, node, x, dy }) => {
    const alpha = Math.fround((node.attrs.alpha as { float: number } | undefined)?.float ?? 1);
    const beta = Math.fround((node.attrs.beta as { float: number } | undefined)?.float ?? 1);
    const [a, b, c] = [x[0]!, x[1]!, x[2]];
    const tA = node.attrs.transA === 1;
    const tB = node.attrs.transB === 1;
    const mm = (p: Value, q: Value, transA: boolean, transB: boolean) => g.gemm(p, q, null, { alpha, transA, transB });
    // dA = α dY op(B)ᵀ (or its transpose when A is used transposed); dB likewise.
    const da = tA ? mm(b, dy, tB, true) : mm(dy, b, false, !tB);
    const db = tB ? mm(dy, a, true, tA) : mm(a, dy, !tA, false);
    return [da, db, c ? unbroadcast(g, beta === 1 ? dy : g.mul(beta, dy), c.shape) : null];
  },
  Softmax: ({ g, node, y, dy }) => {
    const axis = node.attrs.axis as number;
    return [g.mul(y, g.sub(dy, g.reduceSum(g.mul(dy, y), [axis], true)))];
  },
  LogSoftmax: ({ g, node, y, dy }) => {
    const axis = node.attrs.axis as number;
    return [g.sub(dy, g.mul(g.exp(y), g.reduceSum(dy, [axis], true)))];
  },
  ReduceSum: (c) => [spread(c), null],
  ReduceMean: (c) => {
    const x = inp(c, 0);
    const axes = reductionAxes(c.node, x.rank).map((a) => (a < 0 ? a + x.rank : a));
    const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
    return [c.g.div(spread(c), count), null];
  },
  // The gradient goes to every maximal element, split evenly between ties.
  ReduceMax: (c) => {
    const { g } = c;
    const x = inp(c, 0);
    const axes = reductionAxes(c.node, x.rank).map((a) => (a < 0 ? a + x.rank : a));
    const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const isMax = g.cast(g.equal(x, g.expand(g.reshape(c.y, kept), x.shape)), x.dtype);
    const ties = g.reduceSum(isMax, axes, true);
    return [g.div(g.mul(spread(c), isMax), ties), null];
  },
  Reshape: ({ g, x, dy }) => [g.reshape(dy, x[0]!.shape), null],
  Squeeze: ({ g, x, dy }) => [g.reshape(dy, x[0]!.shape), null],
  Unsqueeze: ({ g, x, dy }) => [g.reshape(dy, x[0]!.shape), null],
  Expand: ({ g, x, dy }) => [unbroadcast(g, dy, x[0]!.shape), null],
  Transpose: ({ g, node, dy }) => {
    const perm = node.attrs.perm as number[];
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [g.transpose(dy, inverse)];
  },
  Concat: ({ g, node, x, dy }) => {
    const axis = node.attrs.axis as number;
    let at = 0;
    return x.map((v) => {
      const part = g.slice(dy, [at], [at + v!.shape[axis]!], [axis]);
      at += v!.shape[axis]!;
      return part;
    });
  },
  // Step-1 slices (the only ones the builder makes): pad the gradient back with zeros.
  Slice: ({ g, node, x, dy }) => {
    const src = x[0]!;
    const read = (v: Value | null) => Array.from(v!.graph.initializers.find((i) => i.value === v)!.data as BigInt64Array, Number);
    const starts = read(node.inputs[1]!);
    const axes = read(node.inputs[3]!);
    const pads = new Array<number>(src.rank * 2).fill(0);
    axes.forEach((a, i) => {
      pads[a] = starts[i]!;
      pads[a + src.rank] = src.shape[a]! - starts[i]! - dy.shape[a]!;
    });
    return [g.pad(dy, pads), null, null, null];
  },
  // Rows gathered more than once get the sum of their gradients (ScatterND with reduction=add).
  Gather: ({ g, node, x, dy }) => {
    const axis = node.attrs.axis as number;
    if (axis !== 0) throw new ShapeError('Gather: only axis 0 is differentiable here');
    const [data, idx] = [x[0]!, x[1]!];
    const flatIdx = g.reshape(idx, [idx.size, 1]);
    const rows = g.reshape(dy, [idx.size, ...data.shape.slice(1)]);
    return [g.scatterAdd(g.zeros(data.shape, data.dtype), flatIdx, rows), null];
  },
};

/** Ops whose outputs carry no gradient (comparisons, masks, integer helpers). */
const NON_DIFFERENTIABLE = new Set(['Greater', 'GreaterOrEqual', 'Less', 'LessOrEqual', 'Equal', 'And', 'Or', 'Not', 'Sign', 'Shape', 'Size']);

/**
 * d y / d xs for a scalar (or seeded) `y`, appended to y's graph. Returns a gradient per x, or a zero
 * tensor where y does not depend on x.
 */
export function gradients(g: Graph, y: Value, xs: Value[], seed?: Value): Value[] {
  if (!seed && y.size !== 1) throw new ShapeError(`gradients: the output must be a scalar (shape [${y.shape.join(', ')}]) unless a seed is given`);
  if (seed && (seed.rank !== y.rank || seed.shape.some((d, i) => d !== y.shape[i]))) {
    throw new ShapeError(`gradients: the seed has shape [${seed.shape.join(', ')}], the output [${y.shape.join(', ')}]`);
  }
  // Nodes between xs and y, in recording order (which is topological).
  const dependsOnX = new Set<GraphNode>();
  const reaches = new Set<Value>(xs);
  for (const node of g.nodes) {
    if (node.inputs.some((v) => v && reaches.has(v))) {
      dependsOnX.add(node);
      for (const o of node.outputs) reaches.add(o);
    }
  }
  const needed = new Set<Value>([y]);
  const order: GraphNode[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const node = g.nodes[i]!;
    if (!dependsOnX.has(node) || !node.outputs.some((o) => needed.has(o))) continue;
    order.push(node);
    for (const v of node.inputs) if (v && reaches.has(v)) needed.add(v);
  }
  const grads = new Map<Value, Value>([[y, seed ?? g.expand(g.scalar(1, y.dtype), y.shape)]]);
  for (const node of order) {
    if (NON_DIFFERENTIABLE.has(node.op)) continue;
    // Checked before the `dy` test: a node whose first output is unused would otherwise drop these silently.
    if (node.outputs.length > 1 && node.outputs.slice(1).some((o) => grads.has(o))) {
      throw new ShapeError(`${node.op}: gradients through secondary outputs are not supported`);
    }
    const dy = grads.get(node.outputs[0]!);
    if (!dy) continue;
    const rule = RULES[node.op];
    if (!rule) throw new ShapeError(`no gradient rule for the ONNX op ${node.op}; add one to RULES in core/engine/autodiff.ts`);
    const dxs = rule({ g, node, x: node.inputs, y: node.outputs[0]!, dy });
    node.inputs.forEach((v, i) => {
      const dx = dxs[i];
      if (!v || !dx || !reaches.has(v)) return;
      const prev = grads.get(v);
      grads.set(v, prev ? g.add(prev, dx) : dx);
    });
  }
  return xs.map((x) => grads.get(x) ?? g.zeros(x.shape, x.dtype));
}
