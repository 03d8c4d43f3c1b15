// Every gradient rule in core/engine/autodiff.ts against central finite differences in float64 through
// ONNX Runtime, the composites built from them, and the ONNX export details the rules rely on.
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { gradients, RULES } from '../../core/engine/autodiff.ts';
import { Graph, ShapeError, type Value } from '../../core/engine/graph.ts';
import { toOnnxModel } from '../../core/engine/onnx-export.ts';
import { gradCheck, runGraph, seeded, type GradCheckInput } from '../helpers/engine.ts';

const { onnx } = onnxProto;
type Inputs = Record<string, Value>;

/** Op types that went through a gradient check (the last test asserts that this covers RULES). */
const checked = new Set<string>();

function check(f: (g: Graph, v: Inputs) => Value, inputs: GradCheckInput[], options?: Parameters<typeof gradCheck>[2]) {
  return gradCheck(
    (g, v) => {
      const out = f(g, v);
      for (const n of g.nodes) checked.add(n.op);
      return out;
    },
    inputs,
    options,
  );
}

let nextSeed = 1;
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
/** A differentiable float64 input with seeded values in [lo, hi). */
const t = (name: string, shape: number[], lo = -1, hi = 1): GradCheckInput => ({ name, shape, data: seeded(nextSeed++, size(shape), lo, hi) });
/** The same, moved at least `gap` away from `at` (kinks: Relu and Abs at 0). */
const away = (i: GradCheckInput, at = 0, gap = 0.1): GradCheckInput => ({ ...i, data: i.data.map((v) => (v >= at ? v + gap : v - gap)) });
const indices = (name: string, shape: number[], data: number[]): GradCheckInput => ({ name, shape, data, dtype: 'int64', differentiable: false });

function decode(g: Graph): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(toOnnxModel(g));
}

function expectClose(got: number[], want: number[], rtol = 1e-12, atol = 0): void {
  expect(got).toHaveLength(want.length);
  got.forEach((v, i) => {
    expect(Number.isFinite(v), `[${i}] = ${v}`).toBe(true);
    expect(Math.abs(v - want[i]!), `[${i}]: ${v} vs ${want[i]}`).toBeLessThanOrEqual(atol + rtol * Math.abs(want[i]!));
  });
}

describe('Add, Sub, Mul, Div: gradients reduce broadcasting back to each operand', () => {
  const shapes: Array<[number[], number[]]> = [
    [[2, 3], [2, 3]],
    [[2, 3], [3]],
    [[3], [2, 3]],
    [[2, 3], [2, 1]],
    [[2, 3], []],
    [[], [2, 3]],
    [[1, 3], [4, 1]],
    [[2, 3, 4], [3, 1]],
  ];
  const ops = ['add', 'sub', 'mul', 'div'] as const;
  for (const op of ops) {
    it.each(shapes)(`${op}: %j with %j`, async (sa, sb) => {
      // Divisors away from 0.
      await check((g, v) => g[op](v.a!, v.b!), [t('a', sa), op === 'div' ? t('b', sb, 0.5, 1.5) : t('b', sb)]);
    });
    it(`${op}: with number operands on either side`, async () => {
      await check((g, v) => g[op](g[op](v.x!, 1.5), g[op](0.75, v.x!)), [t('x', [2, 3], 0.5, 1.5)]);
    });
  }
});

describe('unary elementwise ops', () => {
  it('Neg', () => check((g, v) => g.neg(v.x!), [t('x', [2, 3])]));
  it('Exp', () => check((g, v) => g.exp(v.x!), [t('x', [2, 3])]));
  it('Log, on positive inputs', () => check((g, v) => g.log(v.x!), [t('x', [2, 3], 0.2, 2)]));
  it('Sqrt, on positive inputs', () => check((g, v) => g.sqrt(v.x!), [t('x', [2, 3], 0.2, 2)]));
  it('Abs, away from 0', () => check((g, v) => g.abs(v.x!), [away(t('x', [2, 3]))]));
  it('Sigmoid', () => check((g, v) => g.sigmoid(v.x!), [t('x', [2, 3], -4, 4)]));
  it('Tanh', () => check((g, v) => g.tanh(v.x!), [t('x', [2, 3], -2, 2)]));
  it('Relu, away from 0', () => check((g, v) => g.relu(v.x!), [away(t('x', [2, 3]))]));
  it('Identity', () => check((g, v) => g.identity(v.x!), [t('x', [2, 3])]));
});

describe('Pow with a constant exponent', () => {
  it.each([2, 3, 0.5, -1])('x ** %d on positive x', async (p) => {
    await check((g, v) => g.pow(v.x!, p), [t('x', [2, 3], 0.3, 2)]);
  });
  it('x ** 3 on negative x too', () => check((g, v) => g.pow(v.x!, 3), [t('x', [2, 3], -2, 2)]));
  it('a tensor exponent is refused by the rule', () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [2]);
    const y = g.reduceSum(g.pow(x, g.input('p', 'float64', [2])));
    expect(() => gradients(g, y, [x])).toThrow(new ShapeError('Pow: only constant exponents are differentiable here'));
  });
});

describe('Max and Min (no ties)', () => {
  for (const op of ['max', 'min'] as const) {
    it(`${op} of two tensors`, () => check((g, v) => g[op](v.a!, v.b!), [t('a', [2, 3]), t('b', [2, 3])]));
    it(`${op} broadcast [2, 3] with [3]`, () => check((g, v) => g[op](v.a!, v.b!), [t('a', [2, 3]), t('b', [3])]));
    it(`${op} with a number`, () => check((g, v) => g[op](v.x!, 0.05), [away(t('x', [2, 3]), 0.05)]));
  }
});

describe('Clip (values away from the bounds)', () => {
  const x = (): GradCheckInput => ({ name: 'x', shape: [2, 4], data: [-0.9, -0.3, 0.2, 0.7, 0.45, -0.6, 0.05, 1.2] });
  it('min and max', () => check((g, v) => g.clip(v.x!, -0.5, 0.5), [x()]));
  it('min only', () => check((g, v) => g.clip(v.x!, -0.5), [x()]));
  it('max only', () => check((g, v) => g.clip(v.x!, undefined, 0.5), [x()]));
});

describe('Where with a comparison mask', () => {
  it('both branches differentiable, broadcast against the mask', () =>
    check((g, v) => g.where(g.greater(v.x!, v.c!), g.mul(v.x!, 2), g.exp(v.z!)), [
      t('x', [2, 3]),
      { name: 'c', shape: [3], data: [0, 0.2, -0.3], differentiable: false },
      t('z', [3]),
    ]));
  it('a number in one branch', () => check((g, v) => g.where(g.less(v.x!, 0), 0.5, v.x!), [away(t('x', [2, 3]))]));
});

describe('Cast', () => {
  // float32 in the middle: finite differences need a step far above float32's resolution.
  it('float64 → float32 → float64 round trip', () =>
    check((g, v) => g.cast(g.cast(v.x!, 'float32'), 'float64'), [t('x', [2, 3])], { h: 1e-3, rtol: 1e-4 }));
  it('float64 → float64', () => check((g, v) => g.mul(g.cast(v.x!, 'float64'), v.x!), [t('x', [2, 3])]));
});

describe('MatMul', () => {
  it('2-D', () => check((g, v) => g.matmul(v.a!, v.b!), [t('a', [2, 3]), t('b', [3, 4])]));
  it('batched 3-D', () => check((g, v) => g.matmul(v.a!, v.b!), [t('a', [2, 3, 4]), t('b', [2, 4, 5])]));
  it('broadcast batch [2, 3, 4] @ [4, 5]', () => check((g, v) => g.matmul(v.a!, v.b!), [t('a', [2, 3, 4]), t('b', [4, 5])]));
  it('broadcast batch [3, 4] @ [2, 4, 5]', () => check((g, v) => g.matmul(v.a!, v.b!), [t('a', [3, 4]), t('b', [2, 4, 5])]));
  it('broadcast batch [2, 1, 3, 4] @ [3, 4, 2]', () => check((g, v) => g.matmul(v.a!, v.b!), [t('a', [2, 1, 3, 4]), t('b', [3, 4, 2])]));
});

describe('Gemm: alpha op(A) op(B) + beta C', () => {
  const cases: Array<[boolean, boolean, number[] | null]> = [];
  for (const transA of [false, true]) for (const transB of [false, true]) for (const c of [[4], [1, 4], [2, 4], null]) cases.push([transA, transB, c]);
  it.each(cases)('transA=%s transB=%s C=%j, alpha 0.7, beta 1.3', async (transA, transB, c) => {
    await check(
      (g, v) => g.gemm(v.a!, v.b!, v.c ?? null, { alpha: 0.7, beta: 1.3, transA, transB }),
      [t('a', transA ? [3, 2] : [2, 3]), t('b', transB ? [4, 3] : [3, 4]), ...(c ? [t('c', c)] : [])],
    );
  });
  it('the gradient uses the float32 alpha and beta that ONNX Runtime computes with', async () => {
    const g = new Graph();
    const a = g.input('a', 'float64', [1, 1]);
    const c = g.input('c', 'float64', [1, 1]);
    const [da, dc] = gradients(g, g.reshape(g.gemm(a, g.constant([1], 'float64', [1, 1]), c, { alpha: 0.1, beta: 0.3 }), []), [a, c]);
    g.output(da!, 'da');
    g.output(dc!, 'dc');
    const out = await runGraph(g, { a: { data: [2], shape: [1, 1] }, c: { data: [1], shape: [1, 1] } });
    expect(out).toEqual({ da: [Math.fround(0.1)], dc: [Math.fround(0.3)] });
  });
});

describe('Softmax and LogSoftmax', () => {
  for (const op of ['softmax', 'logSoftmax'] as const) {
    it.each([0, -1, 1])(`${op} on axis %d`, async (axis) => {
      await check((g, v) => g[op](v.x!, axis), [t('x', [3, 4], -2, 2)]);
    });
  }
});

describe('ReduceSum, ReduceMean, ReduceMax', () => {
  const axesCases: Array<number[] | undefined> = [[0], [1], [-1], [0, 2], [2, 0, 1], undefined];
  for (const op of ['reduceSum', 'reduceMean', 'reduceMax'] as const) {
    for (const keepdims of [false, true]) {
      // Seeded continuous values: ReduceMax has no ties.
      it.each(axesCases.map((a) => [a]))(`${op} axes=%j keepdims=${keepdims}`, async (axes) => {
        await check((g, v) => g[op](v.x!, axes, keepdims), [t('x', [2, 3, 4])]);
      });
    }
  }
  it('ReduceMax splits the gradient evenly between ties', async () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [2, 3]);
    const [dx] = gradients(g, g.reduceSum(g.reduceMax(x, [1])), [x]);
    g.output(dx!, 'dx');
    const out = await runGraph(g, { x: { data: [1, 3, 3, 2, 0, -1], shape: [2, 3] } });
    expect(out.dx).toEqual([0, 0.5, 0.5, 1, 0, 0]);
  });
  it('an empty axes list reduces nothing (numpy axis=())', () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [2, 3]);
    expect(g.reduceSum(x, [])).toBe(x);
  });
  it.each([17, 18])('gradients of ReduceMean and ReduceMax at opset %d', async (opset) => {
    const g = new Graph({ opset });
    const x = g.input('x', 'float64', [2, 3]);
    const loss = g.add(g.reduceSum(g.reduceMean(x, [1])), g.reduceSum(g.reduceMax(x, [-1], true)));
    const [dx] = gradients(g, loss, [x]);
    g.output(dx!, 'dx');
    const out = await runGraph(g, { x: { data: [1, 5, 3, 6, 0, -1], shape: [2, 3] } });
    expectClose(out.dx!, [1 / 3, 4 / 3, 1 / 3, 4 / 3, 1 / 3, 1 / 3], 1e-15);
  });
});

describe('shape ops', () => {
  it('Reshape', () => check((g, v) => g.reshape(v.x!, [4, 6]), [t('x', [2, 3, 4])]));
  it('Transpose', () => check((g, v) => g.transpose(v.x!, [2, 0, 1]), [t('x', [2, 3, 4])]));
  it('Unsqueeze (negative axis counts in the output rank)', () => check((g, v) => g.unsqueeze(v.x!, [0, -1]), [t('x', [2, 3])]));
  it('Squeeze', () => check((g, v) => g.squeeze(v.x!, [1, -1]), [t('x', [2, 1, 3, 1])]));
  it('Expand [3, 1] to [2, 3, 4]', () => check((g, v) => g.expand(v.x!, [2, 3, 4]), [t('x', [3, 1])]));
  it('Expand [3] to [2, 3]', () => check((g, v) => g.expand(v.x!, [2, 3]), [t('x', [3])]));
  it('Concat of 3 inputs', () => check((g, v) => g.concat([v.a!, v.b!, v.c!], 1), [t('a', [2, 1]), t('b', [2, 3]), t('c', [2, 2])]));
  it('Concat on a negative axis', () => check((g, v) => g.concat([v.a!, v.b!, v.a!], -2), [t('a', [1, 3]), t('b', [2, 3])]));
  it('Slice with negative starts and ends, ends past the end', () =>
    check((g, v) => g.slice(v.x!, [-3, 1], [-1, 100], [0, -1]), [t('x', [4, 5])]));
  it('Gather axis 0 with repeated indices (ScatterND add accumulates)', async () => {
    const d = await check((g, v) => g.gather(v.x!, v.i!, 0), [t('x', [3, 2]), indices('i', [4], [2, 0, 2, 2])]);
    // Row 1 is never gathered; row 2 three times (the finite differences above check the sum).
    expect(d.x!.slice(2, 4)).toEqual([0, 0]);
  });
  it('Gather axis 0 with a 2-D index tensor', () =>
    check((g, v) => g.gather(v.x!, v.i!, 0), [t('x', [3, 2]), indices('i', [2, 2], [0, 1, 1, 1])]));
});

describe('composites', () => {
  const reference = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
  const extreme = [-1000, -60, -50, -37, -20, -5, -1, -1e-9, 0, 1e-9, 1, 5, 20, 37, 50, 60, 1000];

  it('softplus: gradient check', () => check((g, v) => g.softplus(v.x!), [t('x', [2, 4], -6, 6)]));
  it('softplus(x @ w): gradient check through both', () => check((g, v) => g.softplus(g.matmul(v.x!, v.w!)), [t('x', [2, 3]), t('w', [3, 2])]));
  it('softplus: gradient check at |x| >= 50', () =>
    check((g, v) => g.softplus(v.x!), [{ name: 'x', shape: [4], data: [-80, -50, 50, 80] }]));
  it('softplus: value is max(x,0) + log1p(exp(-|x|)) to 1e-12, gradient is sigmoid(x), no NaN/Inf', async () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [extreme.length]);
    const y = g.softplus(x);
    const [dx] = gradients(g, g.reduceSum(y), [x]);
    g.output(y, 'y');
    g.output(dx!, 'dx');
    const out = await runGraph(g, { x: { data: extreme, shape: [extreme.length] } });
    expectClose(out.y!, extreme.map(reference));
    expectClose(out.dx!, extreme.map(sigmoid));
    expect(out.dx![extreme.indexOf(0)]).toBe(0.5);
  });
  it('softplus in float32: finite, and tiny values do not round to 0', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [5]);
    const [dx] = gradients(g, g.reduceSum(g.softplus(x)), [x]);
    g.output(g.softplus(x), 'y');
    g.output(dx!, 'dx');
    // e^-80 is still a (normal) float32; e^-200 would not be.
    const data = [-80, -20, 0, 20, 200];
    const out = await runGraph(g, { x: { data, shape: [5], dtype: 'float32' } });
    expectClose(out.y!, data.map(reference), 1e-6);
    expectClose(out.dx!, data.map(sigmoid), 1e-6);
  });

  it('gelu: value is the tanh approximation, and its gradient checks', async () => {
    const xs = seeded(7, 12, -4, 4);
    const g = new Graph();
    const x = g.input('x', 'float64', [12]);
    g.output(g.gelu(x), 'y');
    const out = await runGraph(g, { x: { data: xs, shape: [12] } });
    const formula = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    // 1 + tanh(·) cancels for x ≪ 0: compare to 1e-12 of |x| there.
    expectClose(out.y!, xs.map(formula), 1e-12, 1e-12 * 4);
    await check((g2, v) => g2.gelu(v.x!), [t('x', [2, 5], -3, 3)]);
  });

  describe('l2Normalize: torch.nn.functional.normalize(x, p=2, dim, eps)', () => {
    /** torch semantics: x / max(||x||_2, eps) along the last axis of [rows, n]. */
    const torchNormalize = (data: number[], n: number, eps: number) =>
      data.map((v, i) => {
        const row = data.slice(Math.floor(i / n) * n, Math.floor(i / n) * n + n);
        return v / Math.max(Math.sqrt(row.reduce((s, r) => s + r * r, 0)), eps);
      });
    const rows = [3, -4, 0.5, 1e-14, -2e-14, 1e-14, 0, 0, 0];

    it('values, including rows clamped by eps and an all-zero row', async () => {
      const g = new Graph();
      const x = g.input('x', 'float64', [3, 3]);
      g.output(g.l2Normalize(x), 'y');
      const out = await runGraph(g, { x: { data: rows, shape: [3, 3] } });
      out.y!.forEach((v, i) => expect(v).toBeCloseTo(torchNormalize(rows, 3, 1e-12)[i]!, 12));
    });
    it('gradient check: a row above eps and a row below it', () =>
      check((g, v) => g.l2Normalize(v.x!, -1, 0.5), [{ name: 'x', shape: [2, 3], data: [0.6, -0.8, 0.3, 0.1, -0.2, 0.15] }]));
    it('gradient check along axis 0', () => check((g, v) => g.l2Normalize(v.x!, 0), [t('x', [3, 2])]));
    it('an all-zero row has the finite gradient dy / eps (no NaN)', async () => {
      const g = new Graph();
      const x = g.input('x', 'float64', [2, 3]);
      const w = g.constant([1, 2, 3, 4, 5, 6], 'float64', [2, 3]);
      const [dx] = gradients(g, g.reduceSum(g.mul(w, g.l2Normalize(x, -1, 0.5))), [x]);
      g.output(dx!, 'dx');
      const out = await runGraph(g, { x: { data: [0, 0, 0, 3, 4, 0], shape: [2, 3] } });
      expect(out.dx!.slice(0, 3)).toEqual([2, 4, 6]);
      expect(out.dx!.every(Number.isFinite)).toBe(true);
    });
  });
});

describe('the gradient walk', () => {
  it('a value used twice accumulates: d/dx sum(x*x + x) = 2x + 1', async () => {
    const x = t('x', [2, 3]);
    const d = await check((g, v) => g.reduceSum(g.add(g.mul(v.x!, v.x!), v.x!)), [x]);
    d.x!.forEach((v, i) => expect(v).toBeCloseTo(2 * x.data[i]! + 1, 12));
  });
  it('an input the loss does not depend on gets zeros of its shape', async () => {
    const d = await check((g, v) => g.reduceSum(g.mul(v.w!, v.w!)), [t('x', [2, 3]), t('w', [3])]);
    expect(d.x).toEqual([0, 0, 0, 0, 0, 0]);
  });
  it('two inputs whose gradient is the very same value both get it', async () => {
    const d = await check((g, v) => g.add(v.a!, v.b!), [t('a', [2, 3]), t('b', [2, 3])]);
    expect(d.a).toEqual(d.b);
  });
  it('a seed gives the vector-Jacobian product of a non-scalar output', async () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [3]);
    const seed = g.input('s', 'float64', [3]);
    const [dx] = gradients(g, g.mul(x, x), [x], seed);
    g.output(dx!, 'dx');
    const out = await runGraph(g, { x: { data: [1, 2, 3], shape: [3] }, s: { data: [1, 10, 100], shape: [3] } });
    expect(out.dx).toEqual([2, 40, 600]);
  });
  it('a non-scalar output without a seed is an error', () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [2, 3]);
    expect(() => gradients(g, g.exp(x), [x])).toThrow(new ShapeError('gradients: the output must be a scalar (shape [2, 3]) unless a seed is given'));
  });
  it('a seed of the wrong shape is an error', () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [2, 3]);
    expect(() => gradients(g, g.exp(x), [x], g.input('s', 'float64', [3]))).toThrow(
      new ShapeError('gradients: the seed has shape [3], the output [2, 3]'),
    );
  });
  it('an op without a rule names the op and where to add one', () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [2]);
    const y = g.reduceSum(g.node('Sin', [x], [{ dtype: 'float64', shape: [2] }])[0]!);
    expect(() => gradients(g, y, [x])).toThrow(new ShapeError('no gradient rule for the ONNX op Sin; add one to RULES in core/engine/autodiff.ts'));
  });
  it('a gradient through a secondary output is an error, even when the first output is unused', () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [4]);
    const [, second] = g.node('Split', [x], [{ dtype: 'float64', shape: [2] }, { dtype: 'float64', shape: [2] }], { axis: 0, num_outputs: 2 });
    expect(() => gradients(g, g.reduceSum(second!), [x])).toThrow(new ShapeError('Split: gradients through secondary outputs are not supported'));
  });
  it('comparisons carry no gradient', async () => {
    const d = await check((g, v) => g.mul(v.x!, g.cast(g.greater(v.x!, 0), 'float64')), [away(t('x', [2, 3]))]);
    expect(d.x!.some((v) => v === 0)).toBe(true);
  });
});

describe('ONNX export', () => {
  it('an opset 18 graph loads and runs in ONNX Runtime', async () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [2, 3]);
    g.output(g.reduceSum(g.softmax(g.clip(g.mul(x, 2), -1)), [1]), 'y');
    expect(decode(g).opsetImport!.map((o) => [o.domain, Number(o.version)])).toEqual([['', 18]]);
    const out = await runGraph(g, { x: { data: [1, 2, 3, 4, 5, 6], shape: [2, 3] } });
    expectClose(out.y!, [1, 1], 1e-15);
  });

  it.each([
    [17, 'attribute'],
    [18, 'input'],
  ])('ReduceMean at opset %d takes its axes as an %s', async (opset, form) => {
    const g = new Graph({ opset });
    const x = g.input('x', 'float64', [2, 3]);
    g.output(g.reduceMean(x, [1]), 'mean');
    g.output(g.reduceMax(x, [0]), 'max');
    g.output(g.reduceSum(x, [1]), 'sum');
    const nodes = decode(g).graph!.node!;
    const mean = nodes.find((n) => n.opType === 'ReduceMean')!;
    const max = nodes.find((n) => n.opType === 'ReduceMax')!;
    const sum = nodes.find((n) => n.opType === 'ReduceSum')!;
    const hasAxesAttr = (n: typeof mean) => n.attribute!.some((a) => a.name === 'axes');
    expect(mean.input).toHaveLength(form === 'input' ? 2 : 1);
    expect(hasAxesAttr(mean)).toBe(form === 'attribute');
    expect(hasAxesAttr(max)).toBe(form === 'attribute');
    // ReduceSum's axes are an input from opset 13.
    expect(sum.input).toHaveLength(2);
    expect(hasAxesAttr(sum)).toBe(false);
    const out = await runGraph(g, { x: { data: [1, 2, 3, 4, 5, 6], shape: [2, 3] } });
    expect(out).toEqual({ mean: [2, 5], max: [4, 5, 6], sum: [6, 15] });
  });

  it("Gemm's alpha and beta are FLOAT attributes", async () => {
    const g = new Graph();
    const a = g.input('a', 'float64', [1, 2]);
    g.output(g.gemm(a, g.constant([1, 2, 3, 4], 'float64', [2, 2]), g.constant([1, 1], 'float64'), { alpha: 0.5, beta: 2, transB: true }), 'y');
    const gemm = decode(g).graph!.node!.find((n) => n.opType === 'Gemm')!;
    const attr = (name: string) => gemm.attribute!.find((x) => x.name === name)!;
    expect(attr('alpha')).toMatchObject({ type: onnx.AttributeProto.AttributeType.FLOAT, f: 0.5 });
    expect(attr('beta')).toMatchObject({ type: onnx.AttributeProto.AttributeType.FLOAT, f: 2 });
    expect(attr('transB')).toMatchObject({ type: onnx.AttributeProto.AttributeType.INT });
    const out = await runGraph(g, { a: { data: [1, 1], shape: [1, 2] } });
    expect(out.y).toEqual([0.5 * 3 + 2, 0.5 * 7 + 2]);
  });

  it('a fractional number as an INT attribute is refused where the node is written', () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [2]);
    expect(() => g.node('LeakyRelu', [x], [{ dtype: 'float64', shape: [2] }], { alpha: 0.1 })).toThrow(
      new ShapeError('LeakyRelu: attribute alpha=0.1 is not an integer; write float attributes as { float } or { floats }'),
    );
  });

  it('a named output renames its producing node: no Identity', async () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [2]);
    const h = g.exp(x);
    g.output(g.mul(h, h), 'loss');
    g.output(h, 'hidden');
    const model = decode(g).graph!;
    expect(model.node!.map((n) => n.opType)).toEqual(['Exp', 'Mul']);
    expect(model.node![0]!.output).toEqual(['hidden']);
    expect(model.node![1]!.input).toEqual(['hidden', 'hidden']);
    expect(model.node![1]!.output).toEqual(['loss']);
    expect(model.output!.map((o) => o.name)).toEqual(['loss', 'hidden']);
    const out = await runGraph(g, { x: { data: [0, 1], shape: [2] } });
    expectClose(out.hidden!, [1, Math.E]);
  });

  it('nodes no output depends on are left out (the gradient of a data input that nothing reads)', async () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [2, 3]);
    const w = g.input('w', 'float64', [4, 3]);
    const loss = g.reduceSum(g.gemm(x, w, null, { transB: true }), [0, 1], false);
    const [dw] = gradients(g, loss, [w]);
    g.output(loss, 'loss');
    g.output(dw!, 'dw');
    // The Gemm rule also writes d loss / d x (a second Gemm); only the forward one and d loss / d w remain.
    expect(g.nodes.filter((n) => n.op === 'Gemm')).toHaveLength(3);
    expect(decode(g).graph!.node!.filter((n) => n.opType === 'Gemm')).toHaveLength(2);
    const out = await runGraph(g, { x: { data: [1, 2, 3, 4, 5, 6], shape: [2, 3] }, w: { data: new Array(12).fill(1), shape: [4, 3] } });
    expect(out.dw).toEqual([5, 7, 9, 5, 7, 9, 5, 7, 9, 5, 7, 9]);
  });

  it('a Loop body keeps the outer values it reads', async () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [2]);
    const scale = g.exp(x); // read only inside the body
    g.neg(x); // read by nothing
    const body = new Graph({ name: 'body' }, g);
    body.input('iter', 'int64', []);
    const cond = body.input('cond', 'bool', []);
    const acc = body.input('acc', 'float64', [2]);
    body.output(body.identity(cond), 'cond_out');
    body.output(body.mul(acc, scale), 'acc_out');
    const [out] = g.node('Loop', [g.constant(2, 'int64'), null, x], [{ dtype: 'float64', shape: [2] }], { body: { graph: body } });
    g.output(out!, 'y');
    expect(decode(g).graph!.node!.map((n) => n.opType)).toEqual(['Exp', 'Loop']);
    const y = await runGraph(g, { x: { data: [0, 1], shape: [2] } });
    expectClose(y.y!, [0, Math.exp(1) ** 2]);
  });

  it('a graph input returned as an output needs (and gets) one Identity', async () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [2]);
    g.output(x, 'copy');
    g.output(g.neg(x), 'neg');
    const nodes = decode(g).graph!.node!;
    expect(nodes.filter((n) => n.opType === 'Identity')).toEqual([expect.objectContaining({ input: ['x'], output: ['copy'] })]);
    expect(await runGraph(g, { x: { data: [1, 2], shape: [2] } })).toEqual({ copy: [1, 2], neg: [-1, -2] });
  });

  it('one value under two names keeps the first and gets an Identity for the second', async () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [2]);
    const y = g.exp(x);
    g.output(y, 'a');
    g.output(y, 'b');
    const nodes = decode(g).graph!.node!;
    expect(nodes.map((n) => [n.opType, n.output])).toEqual([
      ['Exp', ['a']],
      ['Identity', ['b']],
    ]);
    const out = await runGraph(g, { x: { data: [0, 0], shape: [2] } });
    expect(out).toEqual({ a: [1, 1], b: [1, 1] });
  });

  describe('shape errors name the op and the shapes', () => {
    const g = new Graph();
    const a = g.input('a', 'float64', [2, 3]);
    const b = g.input('b', 'float64', [4, 5]);
    it('MatMul inner dimensions', () => expect(() => g.matmul(a, b)).toThrow(new ShapeError('MatMul: inner dimensions differ: [2, 3] @ [4, 5]')));
    it('MatMul batch dimensions', () =>
      expect(() => g.matmul(g.input('p', 'float64', [2, 2, 3]), g.input('q', 'float64', [3, 3, 4]))).toThrow(
        new ShapeError('MatMul: shapes [2] and [3] do not broadcast'),
      ));
    it('broadcasting', () => expect(() => g.add(a, g.input('c', 'float64', [4]))).toThrow(new ShapeError('Add: shapes [2, 3] and [4] do not broadcast')));
    it('Reshape size', () => expect(() => g.reshape(a, [4, 2])).toThrow(new ShapeError('Reshape: cannot reshape [2, 3] (6 values) to [4, 2]')));
    it('Gemm inner dimensions', () =>
      expect(() => g.gemm(a, b, null)).toThrow(new ShapeError('Gemm: inner dimensions differ: op(A) is [2, 3] and op(B) is [4, 5]')));
    it('Gemm C must broadcast one way to [m, n]', () =>
      expect(() => g.gemm(a, g.input('w', 'float64', [3, 5]), g.input('bias', 'float64', [2, 2, 5]))).toThrow(
        new ShapeError('Gemm: C of shape [2, 2, 5] does not broadcast to [2, 5]'),
      ));
    it('Concat outside its axis', () =>
      expect(() => g.concat([a, b], 1)).toThrow(new ShapeError('Concat: [float64[2, 3], float64[4, 5]] differ outside axis 1')));
    it('dtypes', () =>
      expect(() => g.max(a, g.input('i', 'float32', [2, 3]))).toThrow(new ShapeError('Max: dtypes float64 and float32 differ')));
  });
});

describe('coverage', () => {
  // Runs last (vitest runs a file's tests in order): every rule above went through gradCheck.
  it('every op in RULES has been gradient-checked in this file', () => {
    expect(Object.keys(RULES).filter((op) => !checked.has(op))).toEqual([]);
  });
});
