module.exports = {
  ...require('../../jest.preset.cjs'),
  rootDir: __dirname,
  // onnxruntime-node outputs are main-realm typed arrays; see jest.environment.cjs
  testEnvironment: '<rootDir>/jest.environment.cjs',
};
