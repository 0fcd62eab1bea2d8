module.exports = {
  ...require('../../jest.preset.cjs'),
  rootDir: __dirname,
  // onnxruntime-node outputs are main-realm typed arrays; see jest.environment.cjs (same as @sdq/diffusion's)
  testEnvironment: '<rootDir>/jest.environment.cjs',
};
