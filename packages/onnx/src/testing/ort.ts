/**
 * Test helper: run a model in onnxruntime-node from inside jest.
 *
 * Jest's vm context shares Node's typed-array constructors with onnxruntime-node (the workspace's
 * jest.environment.cjs), so inputs, outputs and test code agree on `instanceof`. Not part of the public API.
 */
import type * as OrtTypes from 'onnxruntime-node';

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
  sessionOptions: OrtTypes.InferenceSession.SessionOptions = {},
): Promise<{ run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>>; inputNames: readonly string[]; outputNames: readonly string[] }> {
  const mainBytes = new Uint8Array(bytes);
  const options: OrtTypes.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3, ...sessionOptions };
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
