/**
 * A tiny WebAssembly assembler: just enough of the binary format (types, functions, one memory, exports, code) and
 * of the instruction set (locals, i32 control flow, SIMD v128) to write the float kernels of this package as readable
 * instruction lists instead of opaque bytes. Spec: https://webassembly.github.io/spec/core/binary/
 */

export type Code = readonly number[];

/** Value type codes. */
export const ValType = { i32: 0x7f, f32: 0x7d, v128: 0x7b } as const;
export type ValType = (typeof ValType)[keyof typeof ValType];

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (32-bit). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  n |= 0;
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const simd = (op: number): number[] => [0xfd, ...uleb(op)];

/** Instructions used by the kernels (opcode numbers from the core and SIMD proposals). */
export const op = {
  localGet: (i: number): Code => [0x20, ...uleb(i)],
  localSet: (i: number): Code => [0x21, ...uleb(i)],
  localTee: (i: number): Code => [0x22, ...uleb(i)],
  i32Const: (v: number): Code => [0x41, ...sleb(v)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Shl: [0x74],
  i32ShrU: [0x76],
  i32Eqz: [0x45],
  i32LtU: [0x49],
  /** i32.load8_u / i32.store8 with byte alignment and a constant offset. */
  i32Load8U: (offset = 0): Code => [0x2d, 0, ...uleb(offset)],
  i32Store8: (offset = 0): Code => [0x3a, 0, ...uleb(offset)],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (depth: number): Code => [0x0c, ...uleb(depth)],
  brIf: (depth: number): Code => [0x0d, ...uleb(depth)],
  /** v128.load / v128.store with a 16-byte alignment hint and a constant offset. */
  v128Load: (offset = 0): Code => [...simd(0x00), 4, ...uleb(offset)],
  v128Store: (offset = 0): Code => [...simd(0x0b), 4, ...uleb(offset)],
  i32x4Const: (a: number, b = a, c = a, d = a): Code => {
    const bytes = new Uint8Array(new Int32Array([a, b, c, d]).buffer);
    return [...simd(0x0c), ...bytes];
  },
  f32x4Const: (v: number): Code => {
    const bytes = new Uint8Array(new Float32Array([v, v, v, v]).buffer);
    return [...simd(0x0c), ...bytes];
  },
  i32x4Splat: simd(0x11),
  f32x4Splat: simd(0x13),
  i32x4Eq: simd(0x37),
  i32x4Ne: simd(0x38),
  f32x4Eq: simd(0x41),
  f32x4Ne: simd(0x42),
  i32x4LtU: simd(0x3a),
  i32x4GtU: simd(0x3c),
  i32x4GeU: simd(0x40),
  f32x4Le: simd(0x45),
  v128And: simd(0x4e),
  v128Or: simd(0x50),
  v128Xor: simd(0x51),
  v128Bitselect: simd(0x52),
  v128AnyTrue: simd(0x53),
  i8x16NarrowI16x8S: simd(0x65),
  i8x16NarrowI16x8U: simd(0x66),
  f32x4Nearest: simd(0x6a),
  i16x8NarrowI32x4S: simd(0x85),
  i16x8NarrowI32x4U: simd(0x86),
  i32x4Bitmask: simd(0xa4),
  i32x4Shl: simd(0xab),
  i32x4ShrU: simd(0xad),
  i32x4Add: simd(0xae),
  i32x4MaxU: simd(0xb9),
  i32x4Sub: simd(0xb1),
  f32x4Abs: simd(0xe0),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
  f32x4Div: simd(0xe7),
  f32x4Min: simd(0xe8),
  f32x4Max: simd(0xe9),
  /** pmin(a, b) = b < a ? b : a (maps to minps; NaN in a passes through). */
  f32x4Pmin: simd(0xea),
  /** pmax(a, b) = a < b ? b : a (maps to maxps; NaN in a passes through). */
  f32x4Pmax: simd(0xeb),
  i32x4TruncSatF32x4S: simd(0xf8),
} as const;

export interface FuncDef {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly locals: readonly ValType[];
  readonly body: readonly Code[];
}

const vec = (items: readonly number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
const utf8 = (s: string): number[] => {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
};

/** Assemble functions (no results) plus one exported memory of `pages` 64 KiB pages into a module binary. */
export function assemble(funcs: readonly FuncDef[], pages: number): Uint8Array {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((p) => [p])), 0]);
  const typeSec = section(1, vec(types));
  const funcSec = section(3, vec(funcs.map((_, i) => uleb(i))));
  const memSec = section(5, vec([[0x00, ...uleb(pages)]]));
  const exports = [[...utf8('memory'), 0x02, 0], ...funcs.map((f, i) => [...utf8(f.name), 0x00, ...uleb(i)])];
  const exportSec = section(7, vec(exports));
  const bodies = funcs.map((f) => {
    const locals = vec(f.locals.map((t) => [1, t]));
    const code = [...locals, ...f.body.flat(), 0x0b];
    return [...uleb(code.length), ...code];
  });
  const codeSec = section(10, vec(bodies));
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...typeSec, ...funcSec, ...memSec, ...exportSec, ...codeSec]);
}
