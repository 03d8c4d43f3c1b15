import onnxProto from 'onnx-proto';
import { ONNX_DTYPE, type AttrValue, type Graph, type GraphNode, type Initializer, type Value } from './graph.ts';

const { onnx } = onnxProto;

/** IR version 8 (ONNX 1.10, what onnx-proto describes); ONNX Runtime 1.30 reads it with any opset it implements. */
const IR_VERSION = 8;

function tensorProto(init: Initializer, name: string): onnxProto.onnx.ITensorProto {
  const { value, data } = init;
  return {
    name,
    dims: [...value.shape],
    dataType: ONNX_DTYPE[value.dtype],
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

function valueInfo(v: Value, name: string): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: ONNX_DTYPE[v.dtype], shape: { dim: v.shape.map((d) => ({ dimValue: d })) } } },
  };
}

function attribute(name: string, value: AttrValue, names: (v: Value) => string): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') return { name, type: T.INT, i: value };
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'number')) return { name, type: T.INTS, ints: value as number[] };
    return { name, type: T.STRINGS, strings: (value as string[]).map((s) => new TextEncoder().encode(s)) };
  }
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: T.FLOATS, floats: value.floats };
  return { name, type: T.GRAPH, g: graphProto(value.graph, names) };
}

const subgraph = (a: AttrValue): Graph | undefined => (typeof a === 'object' && a !== null && 'graph' in a ? a.graph : undefined);

/**
 * The nodes some output of `graph` depends on, in recording order (which is topological). Autodiff rules
 * write the gradient of every input of a node, and the walk keeps only those that reach a parameter: the
 * rest (the gradient of a Gemm with respect to a data input, a full-size matrix product) would still run
 * in ONNX Runtime, which does not remove unused nodes.
 */
function liveNodes(graph: Graph): Set<GraphNode> {
  const needed = new Set<Value>(graph.outputs);
  const live = new Set<GraphNode>();
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i]!;
    if (!node.outputs.some((o) => needed.has(o))) continue;
    live.add(node);
    for (const v of node.inputs) if (v) needed.add(v);
    // A Loop body reads values of the graphs around it: they are implicit inputs of its node.
    for (const a of Object.values(node.attrs)) {
      const body = subgraph(a);
      if (body) for (const v of outerReads(body)) needed.add(v);
    }
  }
  return live;
}

/** Values of enclosing graphs that the live nodes of `body` (or of graphs nested in it) read. */
function outerReads(body: Graph): Value[] {
  const reads: Value[] = [];
  for (const node of liveNodes(body)) {
    for (const v of node.inputs) if (v && v.graph !== body) reads.push(v);
    for (const a of Object.values(node.attrs)) {
      const inner = subgraph(a);
      if (inner) reads.push(...outerReads(inner).filter((v) => v.graph !== body));
    }
  }
  return reads;
}

/**
 * Graph → GraphProto, without the nodes no output depends on. Graph outputs named by `Graph.output(v, name)` are written as the producing node's
 * own output name (an Identity per output costs milliseconds per step in ONNX Runtime).
 */
function graphProto(graph: Graph, outerNames?: (v: Value) => string): onnxProto.onnx.IGraphProto {
  const renamed = new Map<Value, string>();
  for (const [v, name] of graph.outputNames) if (v.producer && v.graph === graph) renamed.set(v, name);
  const names = (v: Value): string => (v.graph === graph ? (renamed.get(v) ?? v.name) : outerNames ? outerNames(v) : v.name);
  const outputs: onnxProto.onnx.IValueInfoProto[] = [];
  const extraNodes: onnxProto.onnx.INodeProto[] = [];
  for (const [i, v] of graph.outputs.entries()) {
    const wanted = graph.outputLabels[i] ?? v.name;
    if (names(v) !== wanted) {
      // An input or initializer returned as is (or one value under two names) needs an Identity.
      extraNodes.push({ opType: 'Identity', input: [names(v)], output: [wanted], name: `out_${wanted}` });
    }
    outputs.push(valueInfo(v, wanted));
  }
  const live = liveNodes(graph);
  return {
    name: graph.name,
    node: [
      ...graph.nodes.flatMap((n, i) => (!live.has(n) ? [] : {
        opType: n.op,
        domain: n.domain ?? '',
        name: `${n.op}_${i}`,
        input: n.inputs.map((v) => (v ? names(v) : '')),
        output: n.outputs.map((v) => names(v)),
        attribute: Object.entries(n.attrs).map(([k, a]) => attribute(k, a, names)),
      })),
      ...extraNodes,
    ],
    input: graph.inputs.map((v) => valueInfo(v, v.name)),
    output: outputs,
    initializer: graph.initializers.map((i) => tensorProto(i, i.value.name)),
  };
}

/** Serialises a graph as an ONNX model (bytes ONNX Runtime can load). */
export function toOnnxModel(graph: Graph): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'vidra',
    opsetImport: [{ domain: '', version: graph.opset }],
    graph: graphProto(graph),
  });
  return onnx.ModelProto.encode(model).finish();
}
