export const PACKAGE = '@sdq/onnx';
