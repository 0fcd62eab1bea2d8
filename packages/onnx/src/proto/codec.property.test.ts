/** Properties of the codec on random messages: decode(encode(x)) == x and encoding is a fixed point. */
import fc from 'fast-check';
import { decodeMessage, emptyMessage, encodeMessage } from './codec.js';
import type { AttributeProto, NodeProto, TensorProto } from './types.js';

const int64 = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.maxSafeInteger(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => (Number.isSafeInteger(Number(b)) && BigInt(Number(b)) === b ? Number(b) : b)),
);
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((b) => (b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b));
const f32 = fc.float({ noNaN: true }).map((x) => Math.fround(x));
const str = fc.oneof(fc.string(), fc.string({ unit: 'grapheme', maxLength: 12 }));
const bytes = fc.uint8Array({ maxLength: 40 });
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });

const tensor: fc.Arbitrary<TensorProto> = fc
  .record({
    dims: fc.array(fc.nat({ max: 1 << 20 }), { maxLength: 4 }),
    dataType: opt(fc.integer({ min: -3, max: 30 })),
    floatData: fc.array(f32, { maxLength: 5 }),
    int32Data: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 5 }),
    stringData: fc.array(bytes, { maxLength: 3 }),
    int64Data: fc.array(int64, { maxLength: 5 }),
    name: opt(str),
    docString: opt(str),
    rawData: opt(bytes),
    externalData: fc.array(fc.record({ key: opt(str), value: opt(str) }), { maxLength: 2 }),
    dataLocation: opt(fc.integer({ min: 0, max: 1 })),
    doubleData: fc.array(fc.double({ noNaN: true }), { maxLength: 3 }),
    uint64Data: fc.array(uint64, { maxLength: 3 }),
  })
  .map((r) => Object.assign(emptyMessage<TensorProto>('TensorProto'), r));

const attribute: fc.Arbitrary<AttributeProto> = fc
  .record({
    name: opt(str),
    type: opt(fc.integer({ min: 0, max: 14 })),
    f: opt(f32),
    i: opt(int64),
    s: opt(bytes),
    t: opt(tensor),
    floats: fc.array(f32, { maxLength: 4 }),
    ints: fc.array(int64, { maxLength: 4 }),
    strings: fc.array(bytes, { maxLength: 3 }),
    tensors: fc.array(tensor, { maxLength: 2 }),
    refAttrName: opt(str),
  })
  .map((r) => Object.assign(emptyMessage<AttributeProto>('AttributeProto'), r));

const node: fc.Arbitrary<NodeProto> = fc
  .record({
    input: fc.array(str, { maxLength: 4 }),
    output: fc.array(str, { maxLength: 3 }),
    name: opt(str),
    opType: opt(str),
    domain: opt(str),
    overload: opt(str),
    attribute: fc.array(attribute, { maxLength: 3 }),
    metadataProps: fc.array(fc.record({ key: opt(str), value: opt(str) }), { maxLength: 2 }),
  })
  .map((r) => Object.assign(emptyMessage<NodeProto>('NodeProto'), r));

/** JSON-comparable form: drops undefined keys (absent fields), bytes as arrays, bigint as strings. */
const norm = (x: unknown): unknown => {
  if (x instanceof Uint8Array) return Array.from(x);
  if (typeof x === 'bigint') return `${x}n`;
  if (Array.isArray(x)) return x.map(norm);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined).map(([k, v]) => [k, norm(v)]));
  return x;
};

describe('codec properties', () => {
  it('NodeProto: decode(encode(x)) equals x and re-encoding gives the same bytes', () => {
    fc.assert(
      fc.property(node, (n) => {
        const bytes = encodeMessage('NodeProto', n);
        const back = decodeMessage<NodeProto>('NodeProto', bytes);
        expect(norm(back)).toEqual(norm(n));
        expect(Buffer.compare(Buffer.from(encodeMessage('NodeProto', back)), Buffer.from(bytes))).toBe(0);
      }),
      { numRuns: 300, seed: 42 },
    );
  });

  it('TensorProto with int64/uint64 extremes and unicode names round-trips', () => {
    fc.assert(
      fc.property(tensor, (t) => {
        const back = decodeMessage<TensorProto>('TensorProto', encodeMessage('TensorProto', t));
        expect(norm(back)).toEqual(norm(t));
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('rejects values of the wrong JS type with an SdqError naming the field', () => {
    const t = emptyMessage<TensorProto>('TensorProto');
    (t as unknown as { name: number }).name = 5;
    expect(() => encodeMessage('TensorProto', t)).toThrow(/TensorProto\.name holds number/);
    const n = emptyMessage<NodeProto>('NodeProto');
    (n as unknown as { input: string }).input = 'x';
    expect(() => encodeMessage('NodeProto', n)).toThrow(/NodeProto\.input/);
  });
});
