import { defineConfig } from 'tsup';
import * as path from 'node:path';

// The CLI bundles the @sdq/* packages from their sources (one fast esbuild pass, no declaration builds needed to
// run `npm start` on a fresh clone); every other package (onnxruntime-node, protobufjs, ...) stays external.
const root = path.resolve(__dirname, '../..');

export default defineConfig({
  entry: { sdq: 'src/sdq.ts' },
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  banner: { js: '#!/usr/bin/env node' },
  noExternal: [/^@sdq\//],
  esbuildPlugins: [
    {
      name: 'sdq-sources',
      setup(build) {
        build.onResolve({ filter: /^@sdq\/[a-z]+$/ }, (args) => ({ path: path.join(root, 'packages', args.path.slice(5), 'src', 'index.ts') }));
        build.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@sdq/') ? undefined : { path: args.path, external: true }));
      },
    },
  ],
});
