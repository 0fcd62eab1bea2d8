/**
 * Test helper: run a model in onnxruntime-node from inside jest.
 *
 * Jest runs tests in a vm context whose typed-array constructors differ from Node's main realm, while
 * onnxruntime-node's native binding creates output arrays in the main realm; onnxruntime-common's
 * `instanceof Float32Array` checks then fail on outputs. So this module points the test context's typed-array
 * globals at the main realm's before loading onnxruntime: inputs, outputs and test code then share one set of
 * constructors. Import it before anything that captures typed-array constructors. Not part of the public API.
 */
import { runInThisContext } from 'node:vm';
import type * as OrtTypes from 'onnxruntime-node';

const mainRealm = runInThisContext('globalThis') as typeof globalThis;
const TYPED_ARRAYS = ['Float32Array', 'Float64Array', 'Uint16Array', 'Int16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array', 'Int8Array', 'Uint8Array'] as const;
// Make this test context's typed arrays the main realm's, before onnxruntime is loaded (see the module comment).
for (const name of TYPED_ARRAYS) (globalThis as Record<string, unknown>)[name] = mainRealm[name];
const ort = (await import('onnxruntime-node')) as typeof OrtTypes;

export type OrtElementType = 'float32' | 'float16' | 'int32' | 'int64' | 'int8' | 'uint8' | 'bool';

export interface HostTensor {
  type: OrtElementType;
  dims: readonly number[];
  data: Float32Array | Uint16Array | Int32Array | BigInt64Array | Int8Array | Uint8Array;
}

const CTORS = {
  float32: 'Float32Array',
  float16: 'Uint16Array',
  int32: 'Int32Array',
  int64: 'BigInt64Array',
  int8: 'Int8Array',
  uint8: 'Uint8Array',
  bool: 'Uint8Array',
} as const;

function toMainRealm(t: HostTensor): OrtTypes.Tensor {
  const Ctor = globalThis[CTORS[t.type]] as unknown as new (a: ArrayLike<number | bigint>) => HostTensor['data'];
  const copy = t.data instanceof Ctor ? t.data : new Ctor(t.data as ArrayLike<number | bigint>);
  return new ort.Tensor(t.type, copy as Float32Array, [...t.dims]);
}

/** Outputs: the typed arrays are already this context's (its typed-array globals are the main realm's). */
function toTestRealm(t: OrtTypes.Tensor): HostTensor {
  return { type: t.type as OrtElementType, dims: [...t.dims], data: t.data as HostTensor['data'] };
}

/** Create a session from model bytes (plus external data files, as onnxruntime-node takes them), 1 thread. */
export async function createSession(
  bytes: Uint8Array,
  externalData?: { path: string; data: Uint8Array }[],
): Promise<{ run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>>; inputNames: readonly string[]; outputNames: readonly string[] }> {
  const mainBytes = new Uint8Array(bytes);
  const options: OrtTypes.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 };
  if (externalData) {
    (options as { externalData?: unknown }).externalData = externalData.map((e) => ({ path: e.path, data: new Uint8Array(e.data) }));
  }
  const session = await ort.InferenceSession.create(mainBytes, options);
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      const mainFeeds: Record<string, OrtTypes.Tensor> = {};
      for (const [k, v] of Object.entries(feeds)) mainFeeds[k] = toMainRealm(v);
      const result = await session.run(mainFeeds);
      const out: Record<string, HostTensor> = {};
      for (const [k, v] of Object.entries(result)) out[k] = toTestRealm(v);
      return out;
    },
  };
}
