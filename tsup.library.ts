import { defineConfig } from 'tsup';

// One build recipe for every library package: ESM + declarations from src/index.ts, for Node 20.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
