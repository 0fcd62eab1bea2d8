/**
 * Test-only: make jest's typed-array constructors the main realm's before onnxruntime-node loads.
 * Jest runs tests in a vm context; onnxruntime-node's native binding creates output arrays in Node's main realm and
 * onnxruntime-common checks them with `instanceof` against the constructors it captured at load time. Import this
 * module first in any test that runs a session (ES modules evaluate imports in order).
 */
import { runInThisContext } from 'node:vm';

const mainRealm = runInThisContext('globalThis') as typeof globalThis;
const TYPED_ARRAYS = ['Float32Array', 'Float64Array', 'Uint16Array', 'Int16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array', 'Int8Array', 'Uint8Array'] as const;
for (const name of TYPED_ARRAYS) (globalThis as Record<string, unknown>)[name] = mainRealm[name];
