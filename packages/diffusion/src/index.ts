export const PACKAGE = '@sdq/diffusion';
