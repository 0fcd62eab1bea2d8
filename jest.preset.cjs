// Shared jest setup: TypeScript through @swc/jest as native ESM, @sdq/* resolved to sources (no build needed to test).
const path = require('node:path');
const root = __dirname;
module.exports = {
  // onnxruntime-node returns main-realm typed arrays; this environment shares them with the test context.
  testEnvironment: path.join(root, 'jest.environment.cjs'),
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
      sourceMaps: 'inline',
    }],
  },
  moduleNameMapper: {
    '^@sdq/(quant|onnx|calib|tensorrt|diffusion|pipeline|queue)$': path.join(root, 'packages/$1/src/index.ts'),
    // Test helpers another package's tests share (a real redis-server): sources only, never built or published.
    '^@sdq/queue/testing$': path.join(root, 'packages/queue/src/testing/index.ts'),
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/src/**/*.test.ts'],
  testTimeout: 120000,
};
