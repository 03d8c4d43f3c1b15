// A small typed expression API that records ONNX nodes. Every value has a static shape (Vidra compiles
// one graph per batch shape and caches it), which is what lets autodiff reduce broadcasting exactly and
// lets the builder check shapes as the graph is written, with errors that say which op and which shapes.

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';
export type Shape = readonly number[];
export type AttrValue = number | string | number[] | string[] | { float: number } | { floats: number[] } | { graph: Graph };

export interface GraphNode {
  op: string;
  inputs: (Value | null)[];
  outputs: Value[];
  attrs: Record<string, AttrValue>;
  /** ONNX domain; '' is the default operator set. */
  domain?: string;
}

export interface Initializer {
  value: Value;
  data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
}

export class ShapeError extends Error {}

/** A symbolic tensor: produced by a node, a graph input, or an initializer. */
export class Value {
  constructor(
    readonly graph: Graph,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Shape,
    /** The node that produces it (undefined for inputs and initializers). */
    readonly producer?: GraphNode,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

const isFloat = (d: DType) => d === 'float32' || d === 'float64';

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** numpy/ONNX multidirectional broadcasting. */
export function broadcastShapes(a: Shape, b: Shape, op = 'op'): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new ShapeError(`${op}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new ShapeError(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export interface GraphOptions {
  name?: string;
  /** ONNX opset of the default domain. */
  opset?: number;
}

/** An ONNX graph being written. Values are only valid in the graph that made them (or, for a Loop body, its outer graph). */
export class Graph {
  readonly name: string;
  readonly opset: number;
  readonly nodes: GraphNode[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly initializers: Initializer[] = [];
  /** Output names chosen by `output()`: the producing node's output is renamed at export (no Identity nodes). */
  readonly outputNames = new Map<Value, string>();
  /** The name asked for each entry of `outputs` (a value may be returned under several names; see `output()`). */
  readonly outputLabels: (string | undefined)[] = [];
  private counter = 0;
  private readonly scalars = new Map<string, Value>();

  constructor(
    options: GraphOptions = {},
    /** For a Loop body: the graph whose values the body may read. */
    readonly outer?: Graph,
  ) {
    this.name = options.name ?? 'vidra';
    this.opset = options.opset ?? outer?.opset ?? 18;
  }

  fresh(hint: string): string {
    return `${hint}_${this.outer ? `${this.name}_` : ''}${this.counter++}`;
  }

  private check(v: Value, op: string): void {
    let g: Graph | undefined = this;
    while (g && g !== v.graph) g = g.outer;
    if (!g) throw new ShapeError(`${op}: the value '${v.name}' belongs to another graph`);
  }

  input(name: string, dtype: DType, shape: Shape): Value {
    const v = new Value(this, name, dtype, shape);
    this.inputs.push(v);
    return v;
  }

  /** A constant tensor stored in the model. */
  initializer(name: string, dtype: DType, shape: Shape, data: Initializer['data']): Value {
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new ShapeError(`initializer '${name}': ${data.length} values for shape [${shape.join(', ')}]`);
    const v = new Value(this, name, dtype, shape);
    this.initializers.push({ value: v, data });
    return v;
  }

  /** A constant from plain numbers. */
  constant(values: number[] | number, dtype: DType = 'float32', shape?: Shape): Value {
    const arr = typeof values === 'number' ? [values] : values;
    const s = shape ?? (typeof values === 'number' ? [] : [arr.length]);
    return this.initializer(this.fresh('const'), dtype, s, typedArray(dtype, arr));
  }

  /** A scalar constant, shared per (value, dtype). */
  scalar(value: number, dtype: DType = 'float32'): Value {
    const key = `${dtype}:${Object.is(value, -0) ? '-0' : value}`;
    let v = this.scalars.get(key);
    if (!v) {
      v = this.constant(value, dtype);
      this.scalars.set(key, v);
    }
    return v;
  }

  /** Records a node with explicitly given output dtypes and shapes. */
  node(op: string, inputs: (Value | null)[], outputs: Array<{ dtype: DType; shape: Shape; name?: string }>, attrs: Record<string, AttrValue> = {}, domain?: string): Value[] {
    for (const v of inputs) if (v) this.check(v, op);
    for (const [k, a] of Object.entries(attrs)) {
      // Plain numbers are exported as INT(S) attributes: a fraction would be truncated silently.
      if ((typeof a === 'number' && !Number.isInteger(a)) || (Array.isArray(a) && a.some((n) => typeof n === 'number' && !Number.isInteger(n)))) {
        throw new ShapeError(`${op}: attribute ${k}=${String(a)} is not an integer; write float attributes as { float } or { floats }`);
      }
    }
    const node: GraphNode = { op, inputs, outputs: [], attrs, domain };
    node.outputs = outputs.map((o) => new Value(this, o.name ?? this.fresh(op.toLowerCase()), o.dtype, o.shape, node));
    this.nodes.push(node);
    return node.outputs;
  }

  private unary(op: string, x: Value, attrs: Record<string, AttrValue> = {}): Value {
    return this.node(op, [x], [{ dtype: x.dtype, shape: x.shape }], attrs)[0]!;
  }

  private binary(op: string, a: Value, b: Value, outDtype?: DType): Value {
    if (a.dtype !== b.dtype) throw new ShapeError(`${op}: dtypes ${a.dtype} and ${b.dtype} differ`);
    return this.node(op, [a, b], [{ dtype: outDtype ?? a.dtype, shape: broadcastShapes(a.shape, b.shape, op) }])[0]!;
  }

  /** A number becomes a scalar constant of the other operand's dtype. */
  private lift(a: Value | number, b: Value | number): [Value, Value] {
    if (typeof a === 'number' && typeof b === 'number') throw new ShapeError('an op needs at least one tensor operand');
    const dtype = typeof a === 'number' ? (b as Value).dtype : a.dtype;
    return [typeof a === 'number' ? this.scalar(a, dtype) : a, typeof b === 'number' ? this.scalar(b, dtype) : b];
  }

  add(a: Value | number, b: Value | number): Value {
    return this.binary('Add', ...this.lift(a, b));
  }
  sub(a: Value | number, b: Value | number): Value {
    return this.binary('Sub', ...this.lift(a, b));
  }
  mul(a: Value | number, b: Value | number): Value {
    return this.binary('Mul', ...this.lift(a, b));
  }
  div(a: Value | number, b: Value | number): Value {
    return this.binary('Div', ...this.lift(a, b));
  }
  /** x ** p, p a tensor or a constant exponent. */
  pow(x: Value, p: Value | number): Value {
    const e = typeof p === 'number' ? this.scalar(p, x.dtype) : p;
    return this.node('Pow', [x, e], [{ dtype: x.dtype, shape: broadcastShapes(x.shape, e.shape, 'Pow') }])[0]!;
  }
  max(a: Value | number, b: Value | number): Value {
    return this.binary('Max', ...this.lift(a, b));
  }
  min(a: Value | number, b: Value | number): Value {
    return this.binary('Min', ...this.lift(a, b));
  }
  greater(a: Value | number, b: Value | number): Value {
    return this.binary('Greater', ...this.lift(a, b), 'bool');
  }
  greaterOrEqual(a: Value | number, b: Value | number): Value {
    return this.binary('GreaterOrEqual', ...this.lift(a, b), 'bool');
  }
  less(a: Value | number, b: Value | number): Value {
    return this.binary('Less', ...this.lift(a, b), 'bool');
  }
  lessOrEqual(a: Value | number, b: Value | number): Value {
    return this.binary('LessOrEqual', ...this.lift(a, b), 'bool');
  }
  equal(a: Value | number, b: Value | number): Value {
    return this.binary('Equal', ...this.lift(a, b), 'bool');
  }
  and(a: Value, b: Value): Value {
    return this.binary('And', a, b, 'bool');
  }
  not(a: Value): Value {
    return this.unary('Not', a);
  }

  neg(x: Value): Value {
    return this.unary('Neg', x);
  }
  exp(x: Value): Value {
    return this.unary('Exp', x);
  }
  log(x: Value): Value {
    return this.unary('Log', x);
  }
  sqrt(x: Value): Value {
    return this.unary('Sqrt', x);
  }
  abs(x: Value): Value {
    return this.unary('Abs', x);
  }
  sign(x: Value): Value {
    return this.unary('Sign', x);
  }
  sigmoid(x: Value): Value {
    return this.unary('Sigmoid', x);
  }
  tanh(x: Value): Value {
    return this.unary('Tanh', x);
  }
  relu(x: Value): Value {
    return this.unary('Relu', x);
  }
  identity(x: Value): Value {
    return this.unary('Identity', x);
  }
  cast(x: Value, to: DType): Value {
    return this.node('Cast', [x], [{ dtype: to, shape: x.shape }], { to: ONNX_DTYPE[to] })[0]!;
  }
  /** Clip with constant bounds (either may be omitted). */
  clip(x: Value, min?: number, max?: number): Value {
    const lo = min === undefined ? null : this.scalar(min, x.dtype);
    const hi = max === undefined ? null : this.scalar(max, x.dtype);
    return this.node('Clip', [x, lo, hi], [{ dtype: x.dtype, shape: x.shape }])[0]!;
  }
  where(cond: Value, a: Value | number, b: Value | number): Value {
    const [x, y] = this.lift(a, b);
    if (cond.dtype !== 'bool') throw new ShapeError(`Where: the condition must be bool, not ${cond.dtype}`);
    if (x.dtype !== y.dtype) throw new ShapeError(`Where: dtypes ${x.dtype} and ${y.dtype} differ`);
    const shape = broadcastShapes(cond.shape, broadcastShapes(x.shape, y.shape, 'Where'), 'Where');
    return this.node('Where', [cond, x, y], [{ dtype: x.dtype, shape }])[0]!;
  }

  /**
   * log(1 + u) for u > -1, accurate when u is tiny (ONNX has no Log1p): log(1+u)·u / ((1+u) − 1), and u
   * itself where 1 + u rounds to 1 (Goldberg, "What every computer scientist should know about
   * floating-point arithmetic", 1991, Theorem 4). The divisor is 1 where unused so that the untaken
   * branch stays finite in the backward pass too (Where's gradient multiplies, it does not mask NaN).
   */
  log1p(u: Value): Value {
    const w = this.add(1, u);
    const d = this.sub(w, 1);
    const exact = this.equal(d, 0);
    return this.where(exact, u, this.div(this.mul(this.log(w), u), this.where(exact, 1, d)));
  }

  /**
   * Numerically stable softplus log(1 + e^x) = max(x, 0) + log1p(e^-|x|). ONNX Softplus is not used: in
   * ONNX Runtime 1.30 its float64 kernel gives Inf at x = 1000 and 0 at x = -50.
   * -|x| is written as where(x > 0, -x, x) so that at x = 0 both terms take their x ≤ 0 branch and the
   * gradient is sigmoid(0) = 1/2 (with Abs and Relu, whose gradients are 0 at 0, it would be 0).
   */
  softplus(x: Value): Value {
    const negAbs = this.where(this.greater(x, 0), this.neg(x), x);
    return this.add(this.relu(x), this.log1p(this.exp(negAbs)));
  }

  /** tanh approximation of GELU, built from primitives that have gradient rules. */
  gelu(x: Value): Value {
    const inner = this.mul(Math.sqrt(2 / Math.PI), this.add(x, this.mul(0.044715, this.pow(x, 3))));
    return this.mul(this.mul(0.5, x), this.add(1, this.tanh(inner)));
  }

  matmul(a: Value, b: Value): Value {
    if (a.dtype !== b.dtype) throw new ShapeError(`MatMul: dtypes ${a.dtype} and ${b.dtype} differ`);
    if (a.rank < 2 || b.rank < 2) throw new ShapeError(`MatMul: Vidra uses matrices and batches of matrices, got ranks ${a.rank} and ${b.rank}`);
    const [m, k] = a.shape.slice(-2) as [number, number];
    const [k2, n] = b.shape.slice(-2) as [number, number];
    if (k !== k2) throw new ShapeError(`MatMul: inner dimensions differ: [${a.shape.join(', ')}] @ [${b.shape.join(', ')}]`);
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'MatMul');
    return this.node('MatMul', [a, b], [{ dtype: a.dtype, shape: [...batch, m, n] }])[0]!;
  }

  /** alpha * op(A) @ op(B) + beta * C, 2-D (ONNX Gemm; alpha and beta are float attributes). */
  gemm(a: Value, b: Value, c: Value | null, options: { alpha?: number; beta?: number; transA?: boolean; transB?: boolean } = {}): Value {
    if (a.rank !== 2 || b.rank !== 2) throw new ShapeError('Gemm: A and B must be matrices');
    const [m, k] = options.transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
    const [k2, n] = options.transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
    if (k !== k2) throw new ShapeError(`Gemm: inner dimensions differ: op(A) is [${m}, ${k}] and op(B) is [${k2}, ${n}]`);
    // C broadcasts one way only, to [m, n] (a C of rank 3 or [2m, n] would pass a two-way check).
    if (c && !sameShape(broadcastShapes(c.shape, [m, n], 'Gemm'), [m, n])) {
      throw new ShapeError(`Gemm: C of shape [${c.shape.join(', ')}] does not broadcast to [${m}, ${n}]`);
    }
    const attrs: Record<string, AttrValue> = { alpha: { float: options.alpha ?? 1 }, beta: { float: options.beta ?? 1 } };
    if (options.transA) attrs.transA = 1;
    if (options.transB) attrs.transB = 1;
    return this.node('Gemm', c ? [a, b, c] : [a, b], [{ dtype: a.dtype, shape: [m, n] }], attrs)[0]!;
  }

  softmax(x: Value, axis = -1): Value {
    return this.unary('Softmax', x, { axis: normAxis(axis, x.rank) });
  }
  logSoftmax(x: Value, axis = -1): Value {
    return this.unary('LogSoftmax', x, { axis: normAxis(axis, x.rank) });
  }

  private reduce(op: string, x: Value, axes: number[] | undefined, keepdims: boolean): Value {
    // No axes reduces nothing (numpy's axis=()); an empty axes input would make ONNX reduce every axis.
    if (axes?.length === 0) return x;
    const all = axes === undefined;
    const ax = (axes ?? x.shape.map((_, i) => i)).map((a) => normAxis(a, x.rank));
    const shape = keepdims ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.includes(i));
    // ReduceSum (opset 13+) and, from opset 18, the other reductions take axes as an input.
    const axesAsInput = op === 'ReduceSum' || this.opset >= 18;
    const attrs: Record<string, AttrValue> = { keepdims: keepdims ? 1 : 0 };
    const inputs: Value[] = [x];
    if (!all || axesAsInput) {
      if (axesAsInput) inputs.push(this.constant(ax, 'int64'));
      else attrs.axes = ax;
    }
    return this.node(op, inputs, [{ dtype: x.dtype, shape }], attrs)[0]!;
  }
  reduceSum(x: Value, axes?: number[], keepdims = false): Value {
    return this.reduce('ReduceSum', x, axes, keepdims);
  }
  reduceMean(x: Value, axes?: number[], keepdims = false): Value {
    return this.reduce('ReduceMean', x, axes, keepdims);
  }
  reduceMax(x: Value, axes?: number[], keepdims = false): Value {
    return this.reduce('ReduceMax', x, axes, keepdims);
  }

  reshape(x: Value, shape: Shape): Value {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== x.size) throw new ShapeError(`Reshape: cannot reshape [${x.shape.join(', ')}] (${x.size} values) to [${shape.join(', ')}]`);
    if (sameShape(shape, x.shape)) return x;
    return this.node('Reshape', [x, this.constant([...shape], 'int64')], [{ dtype: x.dtype, shape }])[0]!;
  }
  transpose(x: Value, perm: number[]): Value {
    if (perm.length !== x.rank) throw new ShapeError(`Transpose: perm [${perm.join(', ')}] for rank ${x.rank}`);
    return this.node('Transpose', [x], [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }], { perm })[0]!;
  }
  unsqueeze(x: Value, axes: number[]): Value {
    const rank = x.rank + axes.length;
    const ax = axes.map((a) => normAxis(a, rank)).sort((a, b) => a - b);
    const shape: number[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) shape.push(ax.includes(i) ? 1 : x.shape[j++]!);
    return this.node('Unsqueeze', [x, this.constant(ax, 'int64')], [{ dtype: x.dtype, shape }])[0]!;
  }
  squeeze(x: Value, axes: number[]): Value {
    const ax = axes.map((a) => normAxis(a, x.rank));
    for (const a of ax) if (x.shape[a] !== 1) throw new ShapeError(`Squeeze: axis ${a} of [${x.shape.join(', ')}] is not 1`);
    return this.node('Squeeze', [x, this.constant(ax, 'int64')], [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !ax.includes(i)) }])[0]!;
  }
  expand(x: Value, shape: Shape): Value {
    const out = broadcastShapes(x.shape, shape, 'Expand');
    if (sameShape(out, x.shape)) return x;
    return this.node('Expand', [x, this.constant([...shape], 'int64')], [{ dtype: x.dtype, shape: out }])[0]!;
  }
  concat(xs: Value[], axis: number): Value {
    const a = normAxis(axis, xs[0]!.rank);
    for (const x of xs) {
      if (x.dtype !== xs[0]!.dtype || x.rank !== xs[0]!.rank || x.shape.some((d, i) => i !== a && d !== xs[0]!.shape[i])) {
        throw new ShapeError(`Concat: [${xs.map((v) => `${v.dtype}[${v.shape.join(', ')}]`).join(', ')}] differ outside axis ${a}`);
      }
    }
    const shape = [...xs[0]!.shape];
    shape[a] = xs.reduce((s, x) => s + x.shape[a]!, 0);
    return this.node('Concat', xs, [{ dtype: xs[0]!.dtype, shape }], { axis: a })[0]!;
  }
  /** Slice with step 1 along the given axes. */
  slice(x: Value, starts: number[], ends: number[], axes: number[]): Value {
    const shape = [...x.shape];
    const ax = axes.map((a) => normAxis(a, x.rank));
    const s = starts.map((v, i) => clampIndex(v, shape[ax[i]!]!));
    const e = ends.map((v, i) => clampIndex(v, shape[ax[i]!]!));
    ax.forEach((a, i) => (shape[a] = Math.max(0, e[i]! - s[i]!)));
    return this.node('Slice', [x, this.constant(s, 'int64'), this.constant(e, 'int64'), this.constant(ax, 'int64')], [{ dtype: x.dtype, shape }])[0]!;
  }
  /** Gather along `axis` with an int64 index tensor. */
  gather(x: Value, indices: Value, axis = 0): Value {
    const a = normAxis(axis, x.rank);
    const shape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
    return this.node('Gather', [x, indices], [{ dtype: x.dtype, shape }], { axis: a })[0]!;
  }
  /** Pads with zeros: pads = [begin_0, ..., begin_n, end_0, ..., end_n]. */
  pad(x: Value, pads: number[]): Value {
    const r = x.rank;
    const shape = x.shape.map((d, i) => d + pads[i]! + pads[i + r]!);
    return this.node('Pad', [x, this.constant(pads, 'int64')], [{ dtype: x.dtype, shape }])[0]!;
  }
  /** ScatterND with `reduction: add` into `data`. */
  scatterAdd(data: Value, indices: Value, updates: Value): Value {
    return this.node('ScatterND', [data, indices, updates], [{ dtype: data.dtype, shape: data.shape }], { reduction: 'add' })[0]!;
  }
  zeros(shape: Shape, dtype: DType = 'float32'): Value {
    return this.expand(this.scalar(0, dtype), shape);
  }

  /**
   * x / max(||x||_2, eps) along `axis` (torch.nn.functional.normalize), from primitives with gradient rules.
   * Written as sqrt(max(Σx², eps²)): the same value, but an all-zero row no longer sends 0/0 through
   * Sqrt's gradient (NaN); its gradient is dy / eps, as in torch.
   */
  l2Normalize(x: Value, axis = -1, eps = 1e-12): Value {
    return this.div(x, this.sqrt(this.max(this.reduceSum(this.mul(x, x), [axis], true), eps * eps)));
  }

  /**
   * Marks `v` as a graph output named `name` (the producing node's output is renamed at export). A value
   * returned under a second name (autodiff often gives two inputs the very same gradient) keeps its first
   * name and gets an Identity for the second.
   */
  output(v: Value, name?: string): Value {
    this.check(v, 'output');
    if (!isFloat(v.dtype) && v.dtype !== 'int64' && v.dtype !== 'bool' && v.dtype !== 'int32') throw new ShapeError(`output: unsupported dtype ${v.dtype}`);
    this.outputs.push(v);
    this.outputLabels.push(name);
    if (name && !this.outputNames.has(v)) this.outputNames.set(v, name);
    return v;
  }
}

function clampIndex(v: number, dim: number): number {
  const i = v < 0 ? v + dim : v;
  return Math.max(0, Math.min(dim, i));
}

/** TensorProto.DataType codes. */
export const ONNX_DTYPE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };

export function typedArray(dtype: DType, values: ArrayLike<number>): Initializer['data'] {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int64':
      return BigInt64Array.from(Array.from(values, (v) => BigInt(Math.trunc(v))));
    case 'int32':
      return Int32Array.from(values);
    case 'bool':
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
  }
}
