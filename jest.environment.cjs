// onnxruntime-node's native binding returns output data as typed arrays of Node's main realm, while jest runs tests
// (and onnxruntime-common) in a separate vm context whose Float32Array etc. are different constructors, so
// onnxruntime-common's `instanceof` checks reject every session output. Sharing the main realm's typed-array
// constructors with the test context makes the two agree.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array',
  'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array',
];

class SharedTypedArrayEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) if (name in globalThis) this.global[name] = globalThis[name];
  }
}

module.exports = SharedTypedArrayEnvironment;
