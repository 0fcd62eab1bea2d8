import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SdqError } from '@sdq/quant';
import { decodeModel, encodeModel } from './model.js';
import { decodeMessage, encodeMessage } from './codec.js';
import type { TensorProto } from './types.js';

const FIXTURES = fileURLToPath(new URL('../../../../fixtures/models', import.meta.url));
const TESTDATA = fileURLToPath(new URL('../testdata', import.meta.url));

function onnxFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...onnxFiles(p));
    else if (name.endsWith('.onnx')) out.push(p);
  }
  return out.sort();
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

describe('byte-identical round trip of models written by ONNX C++ protobuf', () => {
  const files = [...onnxFiles(FIXTURES), ...onnxFiles(TESTDATA)].map((p) => [relative(join(FIXTURES, '../..'), p), p]);
  it('finds the fixture models', () => expect(files.length).toBeGreaterThanOrEqual(10));
  it.each(files)('%s', (_name, path) => {
    const bytes = readFileSync(path);
    const model = decodeModel(bytes);
    expect(model.graph?.node.length).toBeGreaterThan(0);
    const out = encodeModel(model);
    expect(out.byteLength).toBe(bytes.byteLength);
    expect(same(out, bytes)).toBe(true);
  });
});

describe('schema corners (python-corner-cases.onnx)', () => {
  const m = decodeModel(readFileSync(join(TESTDATA, 'python-corner-cases.onnx')));
  const init = (name: string): TensorProto => m.graph!.initializer.find((t) => t.name === name)!;

  it('keeps int64 extremes exact (bigint beyond 2^53) and negative int32', () => {
    expect(init('i64').int64Data).toEqual([-9223372036854775808n, 9223372036854775807n, -1]);
    expect(init('u64').uint64Data).toEqual([18446744073709551615n, 9007199254740993n]);
    expect(init('i32').int32Data).toEqual([-1, 2147483647, -2147483648]);
    expect(init('d').doubleData).toEqual([1e300, -2.5]);
    expect(init('f').floatData[2]).toBeCloseTo(3.4e38, -33);
    expect(Object.is(init('f').floatData[1], -0)).toBe(true);
    expect(m.modelVersion).toBe(-3);
  });

  it('decodes strings as UTF-8, bytes as views of the input', () => {
    expect(Buffer.from(init('s').stringData[0]!).toString('utf8')).toBe('héllo');
    expect(m.metadataProps.find((p) => p.key === 'emoji')?.value).toBe('🦀');
    const custom = m.graph!.node.find((n) => n.opType === 'Custom')!;
    expect(Buffer.from(custom.attribute.find((a) => a.name === 's')!.s!).toString('utf8')).toBe('näme');
    expect(custom.attribute.find((a) => a.name === 'ints')!.ints).toEqual([1, -1, 2 ** 40]);
    expect(init('raw').rawData!.buffer.byteLength).toBeGreaterThanOrEqual(1152);
  });

  it('decodes subgraphs, sparse initializers, functions, training info, symbolic dims', () => {
    const iff = m.graph!.node.find((n) => n.opType === 'If')!;
    expect(iff.attribute.map((a) => a.g?.name)).toEqual(['else', 'then']);
    expect(m.graph!.sparseInitializer[0]!.dims).toEqual([4]);
    expect(m.functions[0]!.name).toBe('Custom');
    expect(m.trainingInfo[0]!.algorithm!.name).toBe('algo');
    expect(m.graph!.input[0]!.type!.tensorType!.shape!.dim).toEqual([
      { dimParam: 'batch', dimValue: undefined, denotation: undefined },
      { dimValue: 3, dimParam: undefined, denotation: undefined },
      { dimValue: undefined, dimParam: undefined, denotation: undefined },
    ]);
  });
});

describe('wire details', () => {
  const base = readFileSync(join(TESTDATA, 'python-corner-cases.onnx'));

  it('keeps unknown fields at top level and inside nested messages', () => {
    const m = decodeModel(base);
    // field 99 (varint 5) and field 98 (length-delimited "hi") appended to the model; field 77 fixed32 on a node
    const extra = Uint8Array.from([0x98, 0x06, 0x05, 0x92, 0x06, 0x02, 0x68, 0x69]);
    const withTop = Buffer.concat([base, extra]);
    const m2 = decodeModel(withTop);
    expect(m2.unknownFields).toHaveLength(2);
    expect(same(encodeModel(m2), withTop)).toBe(true);
    m.graph!.node[0]!.unknownFields = [Uint8Array.from([0xed, 0x04, 1, 2, 3, 4])];
    const b = encodeModel(m);
    const m3 = decodeModel(b);
    expect(Array.from(m3.graph!.node[0]!.unknownFields![0]!)).toEqual([0xed, 0x04, 1, 2, 3, 4]);
    expect(same(encodeModel(m3), b)).toBe(true);
  });

  it('accepts packed encoding of a field declared unpacked, and writes it unpacked as onnx.proto says', () => {
    // TensorProto: dims packed (field 1, wire type 2: [2, 3]), data_type 1
    const packed = Uint8Array.from([0x0a, 0x02, 0x02, 0x03, 0x10, 0x01]);
    const t = decodeMessage<TensorProto>('TensorProto', packed);
    expect(t.dims).toEqual([2, 3]);
    expect(Array.from(encodeMessage('TensorProto', t))).toEqual([0x08, 0x02, 0x08, 0x03, 0x10, 0x01]);
    // and unpacked float_data (declared packed) is accepted and written packed
    const unpacked = Uint8Array.from([0x25, 0, 0, 0x80, 0x3f, 0x25, 0, 0, 0, 0x40]);
    const f = decodeMessage<TensorProto>('TensorProto', unpacked);
    expect(f.floatData).toEqual([1, 2]);
    expect(Array.from(encodeMessage('TensorProto', f))).toEqual([0x22, 0x08, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]);
  });

  it('keeps a known field with an unexpected wire type as an unknown field', () => {
    // TensorProto field 2 (data_type) as fixed32 instead of varint
    const odd = Uint8Array.from([0x15, 1, 0, 0, 0]);
    const t = decodeMessage<TensorProto>('TensorProto', odd);
    expect(t.dataType).toBeUndefined();
    expect(Array.from(encodeMessage('TensorProto', t))).toEqual(Array.from(odd));
  });

  it('rejects nesting beyond the recursion limit with an SdqError', () => {
    // TypeProto.sequence_type.elem_type nested `depth` times
    const build = (depth: number): number[] => (depth === 0 ? [] : wrap(build(depth - 1)));
    const wrap = (b: number[]): number[] => {
      const seq = [0x0a, ...varint(b.length), ...b];
      return [0x22, ...varint(seq.length), ...seq];
    };
    const varint = (n: number): number[] => {
      const out: number[] = [];
      while (n >= 0x80) {
        out.push((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      out.push(n);
      return out;
    };
    expect(() => decodeMessage('TypeProto', Uint8Array.from(build(150)))).toThrow(SdqError);
    expect(() => decodeMessage('TypeProto', Uint8Array.from(build(40)))).not.toThrow();
  });
});
