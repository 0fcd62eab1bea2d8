/**
 * A protobuf wire codec for the ONNX schema, written by hand instead of protobufjs because ONNX files must round-trip
 * byte for byte: unknown fields are kept as raw bytes and re-emitted after the known ones (where the C++ serializer
 * puts them), fields are written in field-number order, proto2 presence is kept (a scalar is written when defined,
 * even if it equals the default), repeated scalars are written packed only where onnx.proto says so, and `bytes`
 * fields are zero-copy views of the input buffer.
 */
import { SdqError } from '@sdq/quant';
import type { Int64 } from './types.js';
import { SCHEMA, type FieldKind, type MessageSpec } from './schema.js';

/** Protobuf's default recursion limit; deeper nesting is rejected instead of overflowing the JS stack. */
const MAX_DEPTH = 100;
const TWO_32 = 4294967296;

const KIND: Record<FieldKind, number> = { int64n: 0, int64: 1, uint64: 2, int32: 3, float: 4, double: 5, string: 6, bytes: 7, message: 8 };
const K_INT64N = 0;
const K_INT64 = 1;
const K_UINT64 = 2;
const K_INT32 = 3;
const K_FLOAT = 4;
const K_DOUBLE = 5;
const K_STRING = 6;
const K_BYTES = 7;
const K_MESSAGE = 8;

interface CField {
  no: number;
  name: string;
  kind: number;
  repeated: boolean;
  packed: boolean;
  wireType: number;
  /** Size in bytes of the varint tag (for the unpacked wire type; same length for the packed one). */
  tagSize: number;
  tag: number;
  packedTag: number;
  msg: CMessage | undefined;
}

interface CMessage {
  name: string;
  fields: CField[];
  byNo: (CField | undefined)[];
  repeatedNames: string[];
  scalarNames: string[];
}

type Msg = Record<string, unknown> & { unknownFields?: Uint8Array[] };

function compile(schema: ReadonlyMap<string, MessageSpec>): Map<string, CMessage> {
  const out = new Map<string, CMessage>();
  for (const spec of schema.values()) {
    out.set(spec.name, { name: spec.name, fields: [], byNo: [], repeatedNames: [], scalarNames: [] });
  }
  for (const spec of schema.values()) {
    const cm = out.get(spec.name)!;
    for (const fs of spec.fields) {
      const tag = fs.no * 8 + fs.wireType;
      const cf: CField = {
        no: fs.no,
        name: fs.name,
        kind: KIND[fs.kind],
        repeated: fs.repeated,
        packed: fs.packed,
        wireType: fs.wireType,
        tag,
        packedTag: fs.no * 8 + 2,
        tagSize: varintSize32(tag),
        msg: fs.type === undefined ? undefined : out.get(fs.type),
      };
      cm.fields.push(cf);
      cm.byNo[fs.no] = cf;
      (fs.repeated ? cm.repeatedNames : cm.scalarNames).push(fs.name);
    }
  }
  return out;
}

const COMPILED = compile(SCHEMA);

function compiled(name: string): CMessage {
  const cm = COMPILED.get(name);
  if (!cm) throw new SdqError('INVALID_ARGUMENT', `unknown ONNX message type ${name}`);
  return cm;
}

/** A new empty message of the given type: repeated fields as [], optional scalars undefined. */
export function createMessage(cm: CMessage): Msg {
  const o: Msg = {};
  for (const f of cm.fields) o[f.name] = f.repeated ? [] : undefined;
  return o;
}

function varintSize32(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

/**
 * Generated source that decodes UTF-8 `text[pos, stop)`: Buffer's native `utf8Slice` where Node has it, which skips
 * `toString`'s argument handling (three more JS frames per string in a cold process), else `toString`.
 */
const UTF8_SLICE =
  typeof (Buffer.prototype as Buffer & { utf8Slice?: unknown }).utf8Slice === 'function' ? 'text.utf8Slice(pos, stop)' : "text.toString('utf8', pos, stop)";

class Reader {
  readonly buf: Uint8Array;
  readonly view: DataView;
  readonly text: Buffer;
  pos = 0;
  lo = 0;
  hi = 0;
  readonly what: string;
  constructor(buf: Uint8Array, what: string) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.what = what;
  }

  truncated(): SdqError {
    return new SdqError('BAD_FORMAT', `${this.what} is truncated or not an ONNX protobuf: data ends inside a field at byte ${this.pos} of ${this.buf.byteLength}; re-export or re-download the file`);
  }

  malformed(why: string): SdqError {
    return new SdqError('BAD_FORMAT', `${this.what} is not a valid ONNX protobuf: ${why} at byte ${this.pos}; check that the file is an .onnx model and not corrupted`);
  }

  /** Reads a varint into lo/hi (two uint32 halves). */
  varint(end: number): void {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= end) throw this.truncated();
    let byte = buf[pos++]!;
    if (byte < 0x80) {
      this.lo = byte;
      this.hi = 0;
      this.pos = pos;
      return;
    }
    let lo = byte & 0x7f;
    let hi = 0;
    for (let i = 1; ; i++) {
      if (pos >= end) {
        this.pos = pos;
        throw this.truncated();
      }
      byte = buf[pos++]!;
      const bits = byte & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= bits << 28;
        hi = bits >> 4;
      } else hi |= bits << (7 * i - 32);
      if (byte < 0x80) break;
      if (i === 9) {
        this.pos = pos;
        throw this.malformed('varint longer than 10 bytes');
      }
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    this.pos = pos;
  }

  /** Reads a varint that must fit a non-negative 32-bit length or tag. */
  uint32(end: number): number {
    const pos = this.pos;
    if (pos < end) {
      const b = this.buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    this.varint(end);
    if (this.hi !== 0) throw this.malformed('length or tag does not fit in 32 bits');
    return this.lo;
  }

  int64(): Int64 {
    const { lo, hi } = this;
    if (hi === 0) return lo;
    if (hi < 0x200000) return hi * TWO_32 + lo;
    if (hi >= 0x80000000) {
      const mag = (~hi >>> 0) * TWO_32 + (~lo >>> 0) + 1;
      if (mag <= Number.MAX_SAFE_INTEGER) return -mag;
    }
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  }

  uint64(): Int64 {
    const { lo, hi } = this;
    if (hi < 0x200000) return hi * TWO_32 + lo;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  int64n(field: string): number {
    const v = this.int64();
    if (typeof v === 'bigint') throw this.malformed(`${field} = ${v} is not a safe integer`);
    return v;
  }

  int32v(end: number): number {
    const pos = this.pos;
    if (pos < end) {
      const b = this.buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    this.varint(end);
    return this.lo | 0;
  }

  int64nv(end: number, field: string): number {
    const pos = this.pos;
    if (pos < end) {
      const b = this.buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    this.varint(end);
    return this.int64n(field);
  }

  float(end: number): number {
    if (this.pos + 4 > end) throw this.truncated();
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(end: number): number {
    if (this.pos + 8 > end) throw this.truncated();
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
}

function skipField(r: Reader, wireType: number, end: number, depth: number): void {
  switch (wireType) {
    case 0:
      r.varint(end);
      return;
    case 1:
      if (r.pos + 8 > end) throw r.truncated();
      r.pos += 8;
      return;
    case 2: {
      const len = r.uint32(end);
      if (r.pos + len > end) throw r.truncated();
      r.pos += len;
      return;
    }
    case 3: {
      // deprecated group: skip fields until the matching end-group tag
      if (depth >= MAX_DEPTH) throw r.malformed('groups nested too deeply');
      for (;;) {
        const tag = r.uint32(end);
        const wt = tag & 7;
        if (wt === 4) return;
        if (tag >>> 3 === 0) throw r.malformed('field number 0');
        skipField(r, wt, end, depth + 1);
      }
    }
    case 5:
      if (r.pos + 4 > end) throw r.truncated();
      r.pos += 4;
      return;
    default:
      throw r.malformed(`invalid wire type ${wireType}`);
  }
}

/** Appends the values of a packed repeated scalar field (`r.pos` .. `stop`) to `into`; out of line, it is rare in graphs. */
function readPacked(r: Reader, stop: number, kind: number, into: unknown[], field: string): void {
  switch (kind) {
    case K_FLOAT:
      while (r.pos < stop) into.push(r.float(stop));
      return;
    case K_DOUBLE:
      while (r.pos < stop) into.push(r.double(stop));
      return;
    case K_INT32:
      while (r.pos < stop) into.push(r.int32v(stop));
      return;
    case K_INT64N:
      while (r.pos < stop) into.push(r.int64nv(stop, field));
      return;
    case K_INT64:
      while (r.pos < stop) into.push((r.varint(stop), r.int64()));
      return;
    case K_UINT64:
      while (r.pos < stop) into.push((r.varint(stop), r.uint64()));
      return;
    default:
      throw r.malformed(`field ${field} cannot be packed`);
  }
}

type DecodeFn = (r: Reader, end: number, target: Msg | undefined, depth: number) => Msg;

/**
 * Generated-source snippets. The read position lives in the local `pos` (a register in the interpreter, where a cold
 * process runs its first parse) and only goes through `r.pos` around the rare slow paths (multi-byte varints, errors,
 * nested messages); one-byte varints and lengths, strings, bytes and fixed-width values are read inline.
 */
const SYNC = (end: string): string => `if (pos >= ${end}) { r.pos = pos; throw r.truncated(); }`;
/** Reads a length prefix into `len` and checks that `len` bytes follow; sets `stop` to where they end. */
const LENGTH = (end: string): string =>
  `let len = pos < ${end} ? buf[pos] : 128; if (len < 128) pos++; else { r.pos = pos; len = r.uint32(${end}); pos = r.pos; } ` +
  `const stop = pos + len; if (stop > ${end}) { r.pos = pos; throw r.truncated(); }`;

/** Source of an expression-statement that reads one value of `f` (unpacked) ending at `end` and hands it to `store`. */
function readValue(f: CField, end: string, store: (v: string) => string): string {
  switch (f.kind) {
    case K_STRING:
      return `{ ${LENGTH(end)} const v = len === 0 ? '' : ${UTF8_SLICE}; pos = stop; ${store('v')}; }`;
    case K_BYTES:
      return `{ ${LENGTH(end)} const v = buf.subarray(pos, stop); pos = stop; ${store('v')}; }`;
    case K_FLOAT:
      return `{ if (pos + 4 > ${end}) { r.pos = pos; throw r.truncated(); } const v = view.getFloat32(pos, true); pos += 4; ${store('v')}; }`;
    case K_DOUBLE:
      return `{ if (pos + 8 > ${end}) { r.pos = pos; throw r.truncated(); } const v = view.getFloat64(pos, true); pos += 8; ${store('v')}; }`;
    case K_INT32:
      return `{ ${SYNC(end)} let v = buf[pos]; if (v < 128) pos++; else { r.pos = pos; v = r.int32v(${end}); pos = r.pos; } ${store('v')}; }`;
    case K_INT64N:
      return `{ ${SYNC(end)} let v = buf[pos]; if (v < 128) pos++; else { r.pos = pos; v = r.int64nv(${end}, ${JSON.stringify(f.name)}); pos = r.pos; } ${store('v')}; }`;
    case K_INT64:
    case K_UINT64:
      return `{ ${SYNC(end)} let v = buf[pos]; if (v < 128) pos++; else { r.pos = pos; r.varint(${end}); v = r.${f.kind === K_INT64 ? 'int64' : 'uint64'}(); pos = r.pos; } ${store('v')}; }`;
    default:
      throw new Error(`no reader for field kind ${f.kind}`);
  }
}

/**
 * Generates one decoder function per message type (as protobufjs does): a switch over field numbers (dense, so V8
 * compiles it to a jump table even in the interpreter) with monomorphic property stores and object literals of a
 * fixed shape. The generated source only contains names and numbers from the schema table above.
 */
function generateDecoders(messages: Map<string, CMessage>): Map<string, DecodeFn> {
  const fn = (name: string): string => `d_${name}`;
  const lines: string[] = [];
  for (const cm of messages.values()) {
    // A shallow literal (all undefined) is cloned by a fast builtin; one with nested [] goes through the runtime's
    // allocation-site deep copy, which cost more than the rest of a cold decode's object creation.
    const literal = cm.fields.map((f) => `${f.name}: undefined`).join(', ');
    const arrays = cm.fields.filter((f) => f.repeated).map((f) => ` o.${f.name} = [];`).join('');
    lines.push(`function ${fn(cm.name)}(r, E, o, depth) {`);
    lines.push(`  if (depth > MAX_DEPTH) throw r.malformed('messages nested deeper than ' + MAX_DEPTH + ' levels');`);
    lines.push(`  if (o === undefined) { o = { ${literal} };${arrays} }`);
    lines.push(`  const buf = r.buf;`);
    if (cm.fields.some((f) => f.kind === K_STRING)) lines.push(`  const text = r.text;`);
    if (cm.fields.some((f) => f.kind === K_FLOAT || f.kind === K_DOUBLE)) lines.push(`  const view = r.view;`);
    lines.push(`  let pos = r.pos;`);
    lines.push(`  while (pos < E) {`);
    lines.push(`    const start = pos;`);
    lines.push(`    let tag = buf[pos];`);
    lines.push(`    if (tag < 128) pos++; else { r.pos = pos; tag = r.uint32(E); pos = r.pos; }`);
    lines.push(`    switch (tag >>> 3) {`);
    for (const f of cm.fields) {
      const store = (v: string): string => (f.repeated ? `o.${f.name}.push(${v})` : `o.${f.name} = ${v}`);
      lines.push(`      case ${f.no}:`);
      if (f.kind === K_MESSAGE) {
        const existing = f.repeated ? 'undefined' : `o.${f.name}`;
        lines.push(`        if (tag === ${f.tag}) { ${LENGTH('E')} r.pos = pos; ${store(`${fn(f.msg!.name)}(r, stop, ${existing}, depth + 1)`)}; pos = r.pos; continue; }`);
      } else {
        lines.push(`        if (tag === ${f.tag}) { ${readValue(f, 'E', store)} continue; }`);
        if (f.repeated && f.wireType !== 2) {
          // packed form, accepted whether or not onnx.proto declares the field packed
          lines.push(`        if (tag === ${f.packedTag}) { ${LENGTH('E')} r.pos = pos; readPacked(r, stop, ${f.kind}, o.${f.name}, ${JSON.stringify(f.name)}); pos = stop; continue; }`);
        }
      }
      lines.push(`        break;`);
    }
    lines.push(`    }`);
    lines.push(`    r.pos = pos;`);
    lines.push(`    if ((tag >>> 3) === 0) throw r.malformed('field number 0');`);
    lines.push(`    skipField(r, tag & 7, E, depth);`);
    lines.push(`    pos = r.pos;`);
    lines.push(`    const raw = buf.subarray(start, pos);`);
    lines.push(`    if (o.unknownFields === undefined) o.unknownFields = [raw]; else o.unknownFields.push(raw);`);
    lines.push(`  }`);
    lines.push(`  r.pos = pos;`);
    lines.push(`  return o;`);
    lines.push(`}`);
  }
  lines.push(`return { ${[...messages.keys()].map((n) => `${n}: ${fn(n)}`).join(', ')} };`);
  // code generation from the static schema table only; no input data reaches the generated source
  const factory = new Function('MAX_DEPTH', 'skipField', 'readPacked', lines.join('\n')) as (
    max: number,
    skip: typeof skipField,
    packed: typeof readPacked,
  ) => Record<string, DecodeFn>;
  return new Map(Object.entries(factory(MAX_DEPTH, skipField, readPacked)));
}

const DECODERS = generateDecoders(COMPILED);

/** Decodes one message of `type` (e.g. 'ModelProto', 'TensorProto') from protobuf bytes. */
export function decodeMessage<T>(type: string, bytes: Uint8Array, what = `${type} bytes`): T {
  const cm = compiled(type);
  const r = new Reader(bytes, what);
  try {
    return DECODERS.get(cm.name)!(r, bytes.byteLength, undefined, 0) as T;
  } catch (e) {
    if (e instanceof SdqError) throw e;
    if (e instanceof RangeError) throw new SdqError('BAD_FORMAT', `${what} could not be decoded: ${e.message}`, { cause: e });
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding: pass 1 computes every nested length (pre-order, into `sizes`), pass 2 writes into one exact buffer.

function utf8Length(s: string): number {
  const n = s.length;
  let len = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) len += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      len += 2; // 4 bytes for the pair of 2 UTF-16 units
      i++;
    } else len += 2;
  }
  return len;
}

/** Splits an int64/uint64 value into two uint32 halves (two's complement for negatives). */
function split64(v: Int64, out: { lo: number; hi: number }): void {
  if (typeof v === 'number') {
    if (v >= 0 && v < TWO_32) {
      out.lo = v >>> 0;
      out.hi = 0;
      return;
    }
    if (!Number.isSafeInteger(v)) throw new SdqError('INVALID_ARGUMENT', `int64 field value ${v} is not an integer (use a bigint for values beyond 2^53)`);
    if (v >= 0) {
      out.lo = v % TWO_32 >>> 0;
      out.hi = Math.floor(v / TWO_32) >>> 0;
      return;
    }
    const mag = -v;
    let lo = mag % TWO_32 >>> 0;
    let hi = Math.floor(mag / TWO_32) >>> 0;
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    out.lo = lo;
    out.hi = hi;
    return;
  }
  const u = BigInt.asUintN(64, v);
  out.lo = Number(u & 0xffffffffn);
  out.hi = Number(u >> 32n);
}

/** Output pair of split64 (saves an allocation per int64; only used within one synchronous call). */
const scratch = { lo: 0, hi: 0 };

function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return varintSize32(lo);
  // bits above 32: 5 bytes hold 35 bits
  if (hi < 0x8) return 5;
  if (hi < 0x400) return 6;
  if (hi < 0x20000) return 7;
  if (hi < 0x1000000) return 8;
  if (hi < 0x80000000) return 9;
  return 10;
}

function badValue(type: string, field: string, v: unknown): SdqError {
  const t = typeof v;
  return new SdqError('INVALID_ARGUMENT', `${type}.${field} holds ${t === 'object' ? Object.prototype.toString.call(v) : `${t} ${String(v)}`}, which does not fit the ONNX schema; fix the model object before encoding`);
}

/** Per-kind size helpers used by the generated size functions; each checks the value's JS type. */
const sizeHelpers = {
  str(v: unknown, type: string, field: string, S: number[]): number {
    if (typeof v !== 'string') throw badValue(type, field, v);
    const len = utf8Length(v);
    S.push(len);
    return varintSize32(len) + len;
  },
  bytes(v: unknown, type: string, field: string): number {
    if (!(v instanceof Uint8Array)) throw badValue(type, field, v);
    return varintSize32(v.byteLength) + v.byteLength;
  },
  int32(v: unknown, type: string, field: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw badValue(type, field, v);
    return v >= 0 ? varintSize32(v) : 10;
  },
  int64(v: unknown, type: string, field: string): number {
    if (typeof v === 'number') {
      if (v >= 0 && v < 0x10000000) return varintSize32(v);
    } else if (typeof v !== 'bigint') throw badValue(type, field, v);
    split64(v as Int64, scratch);
    return varint64Size(scratch.lo, scratch.hi);
  },
  num(v: unknown, type: string, field: string): void {
    if (typeof v !== 'number') throw badValue(type, field, v);
  },
  arr(v: unknown, type: string, field: string): void {
    if (!Array.isArray(v)) throw badValue(type, field, v);
  },
  obj(v: unknown, type: string, field: string): void {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) throw badValue(type, field, v);
  },
  deep(type: string): SdqError {
    return new SdqError('INVALID_ARGUMENT', `${type} nested deeper than ${MAX_DEPTH} levels (a cycle in the model object?)`);
  },
  raw(v: unknown, type: string): number {
    if (!(v instanceof Uint8Array)) throw badValue(type, 'unknownFields', v);
    return v.byteLength;
  },
  vsize: varintSize32,
};

class Writer {
  readonly buf: Buffer;
  readonly view: DataView;
  pos = 0;
  /** Cursor into the sizes recorded by the size pass (nested lengths, packed payloads, string byte lengths). */
  si = 0;
  readonly S: number[];
  constructor(buf: Buffer, sizes: number[]) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.S = sizes;
  }

  uint32(v: number): void {
    const buf = this.buf;
    let pos = this.pos;
    while (v >= 0x80) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** Length prefix recorded by the size pass. */
  len(): void {
    this.uint32(this.S[this.si++]!);
  }

  varint64(lo: number, hi: number): void {
    if (hi === 0) {
      this.uint32(lo);
      return;
    }
    const buf = this.buf;
    let pos = this.pos;
    // low 28 bits
    for (let i = 0; i < 4; i++) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    // 4 bits of lo + 3 bits of hi
    let b = (lo & 0x0f) | ((hi & 0x07) << 4);
    hi >>>= 3;
    while (hi !== 0) {
      buf[pos++] = b | 0x80;
      b = hi & 0x7f;
      hi >>>= 7;
    }
    buf[pos++] = b;
    this.pos = pos;
  }

  int32(v: number): void {
    if (v >= 0) this.uint32(v);
    else this.varint64(v >>> 0, 0xffffffff);
  }

  int64(v: Int64): void {
    if (typeof v === 'number' && v >= 0 && v < TWO_32) {
      this.uint32(v);
      return;
    }
    split64(v, scratch);
    this.varint64(scratch.lo, scratch.hi);
  }

  float(v: number): void {
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  double(v: number): void {
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  str(s: string): void {
    const len = this.S[this.si++]!;
    this.uint32(len);
    const buf = this.buf;
    const n = s.length;
    if (len === n && n < 64) {
      let pos = this.pos;
      for (let i = 0; i < n; i++) buf[pos++] = s.charCodeAt(i);
      this.pos = pos;
    } else {
      this.pos += buf.write(s, this.pos, len, len === n ? 'latin1' : 'utf8');
    }
  }

  bytes(b: Uint8Array): void {
    this.uint32(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }

  raw(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }
}

type SizeFn = (o: Msg, S: number[], depth: number) => number;
type WriteFn = (w: Writer, o: Msg) => void;

/**
 * Generates, per message type, a size function (pass 1: total size, pushing nested lengths, packed payload sizes and
 * string byte lengths in write order) and a write function (pass 2) with the fields in field-number order.
 */
function generateEncoders(messages: Map<string, CMessage>): { size: Map<string, SizeFn>; write: Map<string, WriteFn> } {
  const lines: string[] = [];
  const q = JSON.stringify;
  const sizeExpr = (f: CField, v: string, type: string): string => {
    switch (f.kind) {
      case K_STRING:
        return `H.str(${v}, ${q(type)}, ${q(f.name)}, S)`;
      case K_BYTES:
        return `H.bytes(${v}, ${q(type)}, ${q(f.name)})`;
      case K_INT32:
        return `H.int32(${v}, ${q(type)}, ${q(f.name)})`;
      case K_FLOAT:
        return `(H.num(${v}, ${q(type)}, ${q(f.name)}), 4)`;
      case K_DOUBLE:
        return `(H.num(${v}, ${q(type)}, ${q(f.name)}), 8)`;
      default:
        return `H.int64(${v}, ${q(type)}, ${q(f.name)})`;
    }
  };
  const writeStmt = (f: CField, v: string): string => {
    switch (f.kind) {
      case K_STRING:
        return `w.str(${v});`;
      case K_BYTES:
        return `w.bytes(${v});`;
      case K_INT32:
        return `w.int32(${v});`;
      case K_FLOAT:
        return `w.float(${v});`;
      case K_DOUBLE:
        return `w.double(${v});`;
      case K_MESSAGE:
        return `w.len(); w_${f.msg!.name}(w, ${v});`;
      default:
        return `w.int64(${v});`;
    }
  };
  for (const cm of messages.values()) {
    const T = cm.name;
    // size pass
    lines.push(`function s_${T}(o, S, depth) {`);
    lines.push(`  if (depth > MAX_DEPTH) throw H.deep(${q(T)});`);
    lines.push(`  let n = 0; let v;`);
    for (const f of cm.fields) {
      lines.push(`  v = o.${f.name};`);
      lines.push(`  if (v !== undefined && v !== null) {`);
      if (f.repeated) {
        lines.push(`    H.arr(v, ${q(T)}, ${q(f.name)});`);
        if (f.packed) {
          lines.push(`    if (v.length > 0) {`);
          if (f.kind === K_FLOAT || f.kind === K_DOUBLE) {
            lines.push(`      for (let i = 0; i < v.length; i++) H.num(v[i], ${q(T)}, ${q(f.name)});`);
            lines.push(`      const p = v.length * ${f.kind === K_FLOAT ? 4 : 8};`);
          } else {
            lines.push(`      let p = 0; for (let i = 0; i < v.length; i++) p += ${sizeExpr(f, 'v[i]', T)};`);
          }
          lines.push(`      S.push(p); n += ${f.tagSize} + H.vsize(p) + p;`);
          lines.push(`    }`);
        } else if (f.kind === K_MESSAGE) {
          lines.push(`    for (let i = 0; i < v.length; i++) { const x = v[i]; H.obj(x, ${q(T)}, ${q(f.name)}); const k = S.length; S.push(0); const len = s_${f.msg!.name}(x, S, depth + 1); S[k] = len; n += ${f.tagSize} + H.vsize(len) + len; }`);
        } else {
          lines.push(`    for (let i = 0; i < v.length; i++) n += ${f.tagSize} + ${sizeExpr(f, 'v[i]', T)};`);
        }
      } else if (f.kind === K_MESSAGE) {
        lines.push(`    H.obj(v, ${q(T)}, ${q(f.name)}); const k = S.length; S.push(0); const len = s_${f.msg!.name}(v, S, depth + 1); S[k] = len; n += ${f.tagSize} + H.vsize(len) + len;`);
      } else {
        lines.push(`    n += ${f.tagSize} + ${sizeExpr(f, 'v', T)};`);
      }
      lines.push(`  }`);
    }
    lines.push(`  v = o.unknownFields;`);
    lines.push(`  if (v !== undefined && v !== null) { H.arr(v, ${q(T)}, 'unknownFields'); for (let i = 0; i < v.length; i++) n += H.raw(v[i], ${q(T)}); }`);
    lines.push(`  return n;`);
    lines.push(`}`);
    // write pass
    lines.push(`function w_${T}(w, o) {`);
    lines.push(`  let v;`);
    for (const f of cm.fields) {
      lines.push(`  v = o.${f.name};`);
      if (f.repeated) {
        if (f.packed) {
          lines.push(`  if (v !== undefined && v !== null && v.length > 0) { w.uint32(${f.packedTag}); w.len(); for (let i = 0; i < v.length; i++) ${writeStmt(f, 'v[i]')} }`);
        } else {
          lines.push(`  if (v !== undefined && v !== null) for (let i = 0; i < v.length; i++) { w.uint32(${f.tag}); ${writeStmt(f, 'v[i]')} }`);
        }
      } else {
        lines.push(`  if (v !== undefined && v !== null) { w.uint32(${f.tag}); ${writeStmt(f, 'v')} }`);
      }
    }
    lines.push(`  v = o.unknownFields;`);
    lines.push(`  if (v !== undefined && v !== null) for (let i = 0; i < v.length; i++) w.raw(v[i]);`);
    lines.push(`}`);
  }
  const names = [...messages.keys()];
  lines.push(`return { size: { ${names.map((n) => `${n}: s_${n}`).join(', ')} }, write: { ${names.map((n) => `${n}: w_${n}`).join(', ')} } };`);
  // code generation from the static schema table only; no input data reaches the generated source
  const factory = new Function('MAX_DEPTH', 'H', lines.join('\n')) as (max: number, h: typeof sizeHelpers) => { size: Record<string, SizeFn>; write: Record<string, WriteFn> };
  const made = factory(MAX_DEPTH, sizeHelpers);
  return { size: new Map(Object.entries(made.size)), write: new Map(Object.entries(made.write)) };
}

const ENCODERS = generateEncoders(COMPILED);

/** Largest message protobuf implementations accept (2 GiB - 1). */
export const MAX_PROTOBUF_BYTES = 0x7fffffff;

/** Byte size `encodeMessage` would produce. */
export function encodedSize(type: string, msg: object): number {
  return ENCODERS.size.get(compiled(type).name)!(msg as Msg, [], 0);
}

/** Encodes one message of `type` into a new buffer of exactly its size. */
export function encodeMessage(type: string, msg: object, what = type): Uint8Array {
  const cm = compiled(type);
  const sizes: number[] = [];
  const size = ENCODERS.size.get(cm.name)!(msg as Msg, sizes, 0);
  if (size > MAX_PROTOBUF_BYTES) {
    throw new SdqError('INVALID_ARGUMENT', `${what} would be ${size} bytes, over protobuf's 2 GiB limit; write it with external data (writeModel(..., { externalData: true }))`);
  }
  const buf = Buffer.allocUnsafeSlow(size);
  const w = new Writer(buf, sizes);
  ENCODERS.write.get(cm.name)!(w, msg as Msg);
  if (w.pos !== size) throw new SdqError('RUNTIME_ERROR', `internal: encoded ${w.pos} bytes for ${what}, expected ${size}`);
  return buf;
}

/** A new empty message object of `type` (repeated fields [], scalars undefined). */
export function emptyMessage<T>(type: string): T {
  return createMessage(compiled(type)) as T;
}
