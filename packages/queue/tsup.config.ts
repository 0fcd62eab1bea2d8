// The shared library build recipe (ESM + .d.ts from src/index.ts).
export { default } from '../../tsup.library.js';
