export const PACKAGE = '@sdq/calib';
