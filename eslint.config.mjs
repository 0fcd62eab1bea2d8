import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

// Module boundaries follow the package map in DESIGN.md: each package may import only the packages its row names.
const allow = {
  'scope:quant': [],
  'scope:onnx': ['scope:quant'],
  'scope:calib': ['scope:quant', 'scope:onnx'],
  'scope:tensorrt': ['scope:quant', 'scope:onnx'],
  'scope:diffusion': ['scope:quant'],
  'scope:pipeline': ['scope:quant', 'scope:onnx', 'scope:calib', 'scope:tensorrt', 'scope:diffusion'],
  'scope:queue': ['scope:pipeline', 'scope:calib', 'scope:quant'],
  'scope:cli': ['scope:queue', 'scope:pipeline', 'scope:quant', 'scope:onnx', 'scope:calib', 'scope:tensorrt', 'scope:diffusion'],
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.cjs', '**/tsup.config.ts', 'tools/**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: Object.entries(allow).map(([sourceTag, tags]) => ({
            sourceTag,
            onlyDependOnLibsWithTags: [sourceTag, ...tags],
          })),
        },
      ],
    },
  },
);
