export const PACKAGE = '@sdq/pipeline';
