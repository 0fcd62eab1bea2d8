/**
 * WebAssembly SIMD kernels for the two hot loops: float32 -> int8/uint8/int16/uint16 QuantizeLinear and
 * float32 -> float16 bits. Both are bit-exact with the scalar reference (see quantize.ts / float16.ts); tests compare
 * them element by element. Data is streamed through the module's own memory in L2-sized chunks: JS copies a chunk
 * in with TypedArray.set, the kernel converts it, JS copies the (smaller) result out.
 *
 * Quantize: onnxruntime divides (x / s, float32). Division is slow, so the kernel multiplies by f32(1/s) instead,
 * which is within 3 float32 ulps of f32(x / s); only when a rounding boundary (k + 0.5) lies within a relative 2^-20
 * of that product can the two round differently, and then those 16 values are recomputed with the exact division.
 * Rounding uses the float32 magic-number trick (v + 1.5 * 2^23 rounds half to even), so no float->int conversion
 * instruction is needed; quotients beyond +-2^17 are clamped first (they saturate for every 8/16-bit type anyway).
 */
import { ValType, assemble, op, type Code, type FuncDef } from './wasm-asm.js';

/** Floats per chunk (128 KiB in, at most 64 KiB out): fits L2 next to the source stream; measured best of 4K..128K. */
export const CHUNK = 32768;
const IN = 0;
const OUT = CHUNK * 4;
/** One flag byte per group of 16 values: which groups the fast pass could not finish. */
const FLAGS = CHUNK * 6;
const PAGES = Math.ceil((FLAGS + CHUNK / 16) / 65536);

const { i32, f32, v128 } = ValType;

type QuantKind = 'i8' | 'u8' | 'i16' | 'u16';

/**
 * Loop over the groups of 16 values of a chunk: p walks the input (64 bytes a group), o the output (`outStep`
 * bytes), f the flag bytes. Locals p, o, f, end are the indices given.
 */
function groupLoop(L: { n: number; p: number; o: number; f: number; end: number }, outStep: number, body: Code[]): Code[] {
  return [
    op.i32Const(IN), op.localSet(L.p),
    op.i32Const(OUT), op.localSet(L.o),
    op.i32Const(FLAGS), op.localSet(L.f),
    // end = IN + ceil(n / 16) * 64
    op.localGet(L.n), op.i32Const(15), op.i32Add, op.i32Const(4), op.i32ShrU, op.i32Const(6), op.i32Shl, op.i32Const(IN), op.i32Add, op.localSet(L.end),
    op.block, op.loop,
    op.localGet(L.p), op.localGet(L.end), op.i32LtU, op.i32Eqz, op.brIf(1),
    ...body,
    op.localGet(L.p), op.i32Const(64), op.i32Add, op.localSet(L.p),
    op.localGet(L.o), op.i32Const(outStep), op.i32Add, op.localSet(L.o),
    op.localGet(L.f), op.i32Const(1), op.i32Add, op.localSet(L.f),
    op.br(0),
    op.end, op.end,
  ];
}

// Locals of the quantize kernels: params n, scale, inv, zp (i32), eps; then p, o, f, end; then v128 locals.
const P = { n: 0, scale: 1, inv: 2, zp: 3, eps: 4, p: 5, o: 6, f: 7, end: 8, vs: 9, vi: 10, vzb: 11, ve1: 12, ve2: 13, bad: 14, lo: 15, hi: 16, magic: 17, c: 18, t: 19 };
/** 1.5 * 2^23: adding it to |v| <= 2^22 rounds v to an integer (half to even) held in the low mantissa bits. */
const MAGIC = 12582912;
const MAGIC_BITS = 0x4b400000;
/** Quotients beyond +-2^17 saturate for every 8/16-bit type; clamping keeps the magic-number rounding exact. */
const CLAMP = 131072;

/**
 * Exact path: t_k = clamp(f32(x / s)) + MAGIC, and for NaN x the bits that the final step maps to 0.
 * (pmax/pmin keep a NaN first operand and map to single maxps/minps instructions, unlike f32x4.max/min.)
 */
function divideVectors(): Code[] {
  const code: Code[] = [];
  for (let k = 0; k < 4; k++) {
    code.push(
      op.localGet(P.p), op.v128Load(k * 16), op.localTee(P.c), op.localGet(P.vs), op.f32x4Div,
      op.localGet(P.lo), op.f32x4Pmax, op.localGet(P.hi), op.f32x4Pmin, op.localGet(P.magic), op.f32x4Add,
      op.localGet(P.vzb), op.localGet(P.c), op.localGet(P.c), op.f32x4Eq, op.v128Bitselect, op.localSet(P.t + k),
    );
  }
  return code;
}

/**
 * Fast path: c = x * f32(1/s); t_k = c * (1 + eps) + MAGIC; the group's flag byte is set when c * (1 - eps) + MAGIC
 * differs in any lane (a rounding boundary within eps of the quotient, a NaN, or any |c| >= 2^20, where the two round
 * 2|c|eps >= 2 apart). +-inf pass unflagged and saturate: float bits are monotonic. No branch here: a v128 `if` in
 * the hot loop costs V8 as much as the arithmetic; flagged groups are redone by a second, scalar-branching pass.
 */
function multiplyVectors(): Code[] {
  const code: Code[] = [op.i32x4Const(0), op.localSet(P.bad)];
  for (let k = 0; k < 4; k++) {
    code.push(
      op.localGet(P.p), op.v128Load(k * 16), op.localGet(P.vi), op.f32x4Mul, op.localTee(P.c),
      op.localGet(P.ve2), op.f32x4Mul, op.localGet(P.magic), op.f32x4Add,
      op.localGet(P.c), op.localGet(P.ve1), op.f32x4Mul, op.localGet(P.magic), op.f32x4Add, op.localTee(P.t + k),
      op.f32x4Ne, op.localGet(P.bad), op.v128Or, op.localSet(P.bad),
    );
  }
  code.push(op.localGet(P.f), op.localGet(P.bad), op.i32x4Bitmask, op.i32Store8(0));
  return code;
}

/** Narrow t_0..t_3 (bits(t) - bits(MAGIC) + zp, saturating) and store the group's results at o. */
function storeQuantized(kind: QuantKind): Code[] {
  const t = (k: number): Code[] => [op.localGet(P.t + k), op.localGet(P.vzb), op.i32x4Sub];
  if (kind === 'i8' || kind === 'u8') {
    return [
      op.localGet(P.o),
      ...t(0), ...t(1), op.i16x8NarrowI32x4S,
      ...t(2), ...t(3), op.i16x8NarrowI32x4S,
      kind === 'i8' ? op.i8x16NarrowI16x8S : op.i8x16NarrowI16x8U,
      op.v128Store(0),
    ];
  }
  const narrow32 = kind === 'u16' ? op.i16x8NarrowI32x4U : op.i16x8NarrowI32x4S;
  return [op.localGet(P.o), ...t(0), ...t(1), narrow32, op.v128Store(0), op.localGet(P.o), ...t(2), ...t(3), narrow32, op.v128Store(16)];
}

function quantizeKernel(kind: QuantKind, exact: boolean): FuncDef {
  const outStep = kind === 'i8' || kind === 'u8' ? 16 : 32;
  const store = storeQuantized(kind);
  const fixup = [op.localGet(P.f), op.i32Load8U(0), op.if, ...divideVectors(), ...store, op.end];
  const body: Code[] = [
    // splat the parameters and constants
    op.localGet(P.scale), op.f32x4Splat, op.localSet(P.vs),
    op.localGet(P.inv), op.f32x4Splat, op.localSet(P.vi),
    op.i32x4Const(MAGIC_BITS), op.localGet(P.zp), op.i32x4Splat, op.i32x4Sub, op.localSet(P.vzb),
    op.f32x4Const(1), op.localGet(P.eps), op.f32x4Splat, op.f32x4Add, op.localSet(P.ve1),
    op.f32x4Const(1), op.localGet(P.eps), op.f32x4Splat, op.f32x4Sub, op.localSet(P.ve2),
    op.f32x4Const(-CLAMP), op.localSet(P.lo),
    op.f32x4Const(CLAMP), op.localSet(P.hi),
    op.f32x4Const(MAGIC), op.localSet(P.magic),
    ...(exact
      ? groupLoop(P, outStep, [...divideVectors(), ...store])
      : [...groupLoop(P, outStep, [...multiplyVectors(), ...store]), ...groupLoop(P, outStep, fixup)]),
  ];
  return {
    name: `quantize_${kind}${exact ? '_exact' : ''}`,
    params: [i32, f32, f32, i32, f32],
    locals: [i32, i32, i32, i32, ...new Array<ValType>(14).fill(v128)],
    body,
  };
}

// float32 -> float16 locals: param n; p, o, f, end; v128: w, shl1, base, nan, h0..h3, then the constants.
const H = { n: 0, p: 1, o: 2, f: 3, end: 4, w: 5, shl1: 6, base: 7, nan: 8, h: 9, k: 13 };
const HALF_CONSTANTS = [0x77800000 /* 2^112 */, 0x08800000 /* 2^-110 */, 0xff000000, 0x71000000, 0x07800000, 0x7c00, 0xfff, 0x8000];
const hk = (value: number) => op.localGet(H.k + HALF_CONSTANTS.indexOf(value));

/**
 * Four float32 -> four float16 bit patterns in i32 lanes (h_k), round to nearest even, after M. Dukhan's FP16 library
 * (fp16_ieee_from_fp32_value): scaling by 2^112 * 2^-110 lets the FPU do the rounding, including subnormals and
 * overflow to inf. `nan` collects max(bits << 1) so groups with a NaN can be flagged and fixed afterwards.
 */
function halfVector(k: number): Code[] {
  return [
    op.localGet(H.p), op.v128Load(k * 16), op.localTee(H.w), op.localGet(H.w), op.i32x4Add, op.localTee(H.shl1),
    op.localGet(H.nan), op.i32x4MaxU, op.localSet(H.nan),
    // base = (|x| * 2^112) * 2^-110
    op.localGet(H.w), op.f32x4Abs, hk(0x77800000), op.f32x4Mul, hk(0x08800000), op.f32x4Mul, op.localSet(H.base),
    // bias = max(shl1 & 0xff000000, 0x71000000); base = f32((bias >> 1) + 0x07800000) + base
    op.localGet(H.shl1), hk(0xff000000), op.v128And, hk(0x71000000), op.i32x4MaxU,
    op.i32Const(1), op.i32x4ShrU, hk(0x07800000), op.i32x4Add, op.localGet(H.base), op.f32x4Add, op.localTee(H.base),
    // ((bits >> 13) & 0x7c00) + (bits & 0xfff) | sign
    op.i32Const(13), op.i32x4ShrU, hk(0x7c00), op.v128And, op.localGet(H.base), hk(0xfff), op.v128And, op.i32x4Add,
    op.localGet(H.w), op.i32Const(16), op.i32x4ShrU, hk(0x8000), op.v128And, op.v128Or, op.localSet(H.h + k),
  ];
}

/** NaN lanes of h_k: sign | 0x7c00 | max(top payload, 1), as numpy (float16 -> float32 -> float16 is the identity). */
function halfNanFix(k: number): Code[] {
  return [
    op.localGet(H.p), op.v128Load(k * 16), op.localTee(H.w), op.i32Const(13), op.i32x4ShrU, op.i32x4Const(0x3ff), op.v128And,
    op.i32x4Const(1), op.i32x4MaxU, hk(0x7c00), op.v128Or,
    op.localGet(H.w), op.i32Const(16), op.i32x4ShrU, hk(0x8000), op.v128And, op.v128Or,
    op.localGet(H.h + k),
    op.localGet(H.w), op.localGet(H.w), op.i32x4Add, hk(0xff000000), op.i32x4GtU,
    op.v128Bitselect, op.localSet(H.h + k),
  ];
}

const storeHalves: Code[] = [
  op.localGet(H.o), op.localGet(H.h), op.localGet(H.h + 1), op.i16x8NarrowI32x4U, op.v128Store(0),
  op.localGet(H.o), op.localGet(H.h + 2), op.localGet(H.h + 3), op.i16x8NarrowI32x4U, op.v128Store(16),
];

function float16Kernel(): FuncDef {
  const convert = [op.i32x4Const(0), op.localSet(H.nan), ...halfVector(0), ...halfVector(1), ...halfVector(2), ...halfVector(3)];
  const flag = [op.localGet(H.f), op.localGet(H.nan), hk(0xff000000), op.i32x4GtU, op.i32x4Bitmask, op.i32Store8(0)];
  const fixup = [
    op.localGet(H.f), op.i32Load8U(0), op.if,
    ...convert, ...halfNanFix(0), ...halfNanFix(1), ...halfNanFix(2), ...halfNanFix(3), ...storeHalves,
    op.end,
  ];
  return {
    name: 'float32_to_float16',
    params: [i32],
    locals: [i32, i32, i32, i32, ...new Array<ValType>(8 + HALF_CONSTANTS.length).fill(v128)],
    body: [
      ...HALF_CONSTANTS.flatMap((v, i) => [op.i32x4Const(v | 0), op.localSet(H.k + i)]),
      ...groupLoop(H, 32, [...convert, ...storeHalves, ...flag]),
      ...groupLoop(H, 32, fixup),
    ],
  };
}

const KINDS: readonly QuantKind[] = ['i8', 'u8', 'i16', 'u16'];

/** The module's bytes (assembled once per call; tiny). */
export function kernelModuleBytes(): Uint8Array {
  const funcs = [...KINDS.flatMap((k) => [quantizeKernel(k, false), quantizeKernel(k, true)]), float16Kernel()];
  return assemble(funcs, PAGES);
}

type QuantizeFn = (n: number, scale: number, inv: number, zeroPoint: number, eps: number) => void;

export interface SimdKernels {
  readonly quantize: Readonly<Record<QuantKind, { fast: QuantizeFn; exact: QuantizeFn }>>;
  readonly float32ToFloat16: (n: number) => void;
  readonly input: Float32Array;
  readonly outputs: { readonly i8: Int8Array; readonly u8: Uint8Array; readonly i16: Int16Array; readonly u16: Uint16Array };
}

/** The slice of the WebAssembly JS API used here (the TS lib for ES2023 does not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

function instantiate(): SimdKernels | null {
  const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wasm) return null;
  try {
    const bytes = kernelModuleBytes();
    if (!wasm.validate(bytes)) return null;
    const ex = new wasm.Instance(new wasm.Module(bytes), {}).exports;
    const buffer = (ex.memory as { buffer: ArrayBuffer }).buffer;
    const fn = (name: string): QuantizeFn => ex[name] as QuantizeFn;
    const quantize = Object.fromEntries(KINDS.map((k) => [k, { fast: fn(`quantize_${k}`), exact: fn(`quantize_${k}_exact`) }])) as SimdKernels['quantize'];
    return {
      quantize,
      float32ToFloat16: ex.float32_to_float16 as (n: number) => void,
      input: new Float32Array(buffer, IN, CHUNK),
      outputs: {
        i8: new Int8Array(buffer, OUT, CHUNK),
        u8: new Uint8Array(buffer, OUT, CHUNK),
        i16: new Int16Array(buffer, OUT, CHUNK),
        u16: new Uint16Array(buffer, OUT, CHUNK),
      },
    };
  } catch {
    return null;
  }
}

// One instance per process: the kernels keep no state between calls (each call fills its chunk before use), and
// JS is single-threaded, so sharing the scratch memory is safe.
let kernels: SimdKernels | null | undefined;

/** The SIMD kernels, or null where WebAssembly SIMD is unavailable (callers then use the scalar loops). */
export function simdKernels(): SimdKernels | null {
  if (kernels === undefined) kernels = instantiate();
  return kernels;
}
