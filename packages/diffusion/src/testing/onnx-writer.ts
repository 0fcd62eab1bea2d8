/**
 * Test-only: writes tiny ONNX models (protobuf by hand, onnx.proto field numbers) so the pipeline can be tested on
 * I/O types the fixture models do not have (int64 input_ids and timestep, float16 tensors).
 */

type Bytes = number[];

function varint(value: number | bigint, out: Bytes): void {
  let v = BigInt.asUintN(64, BigInt(value));
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
}

function key(field: number, wire: number, out: Bytes): void {
  varint((field << 3) | wire, out);
}

class Message {
  readonly bytes: Bytes = [];
  int(field: number, value: number | bigint): this {
    key(field, 0, this.bytes);
    varint(value, this.bytes);
    return this;
  }
  float(field: number, value: number): this {
    key(field, 5, this.bytes);
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.bytes.push(...b);
    return this;
  }
  raw(field: number, data: Uint8Array | Bytes): this {
    key(field, 2, this.bytes);
    varint(data.length, this.bytes);
    this.bytes.push(...data);
    return this;
  }
  string(field: number, value: string): this {
    return this.raw(field, [...Buffer.from(value, 'utf8')]);
  }
  message(field: number, m: Message): this {
    return this.raw(field, m.bytes);
  }
}

export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
export const ONNX_FLOAT16 = 10;

export interface TensorSpec {
  name: string;
  type: number;
  shape: (number | string)[];
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, number>;
}

export interface InitializerSpec {
  name: string;
  type: number;
  dims: number[];
  /** little-endian bytes of the values */
  raw: Uint8Array;
}

function valueInfo(t: TensorSpec): Message {
  const shape = new Message();
  for (const d of t.shape) shape.message(1, typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d));
  const tensorType = new Message().int(1, t.type).message(2, shape);
  return new Message().string(1, t.name).message(2, new Message().message(1, tensorType));
}

/** ModelProto bytes (IR 8, default opset 17). Integer attributes only (e.g. Cast's `to`). */
export function encodeModel(graph: { inputs: TensorSpec[]; outputs: TensorSpec[]; nodes: NodeSpec[]; initializers: InitializerSpec[] }): Uint8Array {
  const g = new Message();
  graph.nodes.forEach((n, i) => {
    const node = new Message();
    for (const x of n.inputs) node.string(1, x);
    for (const y of n.outputs) node.string(2, y);
    node.string(3, `node_${i}`).string(4, n.op);
    for (const [name, value] of Object.entries(n.attributes ?? {})) node.message(5, new Message().string(1, name).int(3, value).int(20, 2));
    g.message(1, node);
  });
  g.string(2, 'test');
  for (const init of graph.initializers) {
    const t = new Message();
    for (const d of init.dims) t.int(1, d);
    t.int(2, init.type).string(8, init.name).raw(9, init.raw);
    g.message(5, t);
  }
  for (const i of graph.inputs) g.message(11, valueInfo(i));
  for (const o of graph.outputs) g.message(12, valueInfo(o));
  const model = new Message().int(1, 8).string(2, 'sdq-test').message(7, g).message(8, new Message().string(1, '').int(2, 17));
  return Uint8Array.from(model.bytes);
}

export function int64Raw(values: number[]): Uint8Array {
  return new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer);
}

export function float32Raw(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
