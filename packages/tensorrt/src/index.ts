export const PACKAGE = '@sdq/tensorrt';
