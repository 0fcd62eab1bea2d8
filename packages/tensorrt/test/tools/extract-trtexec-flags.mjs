#!/usr/bin/env node
// Regenerates test/trtexec-flags.json: the flags each trtexec release parses, read from NVIDIA/TensorRT's
// samples/common/sampleOptions.cpp. The safety-build-only parsers (SafeBuilderOptions, TaskInferenceOptions: --int8,
// --std, --serialized in 11.x) are cut out, since the standard trtexec does not parse them.
//
//   git clone https://github.com/NVIDIA/TensorRT && cd TensorRT
//   for b in 8.6 10.16 11.1; do git show release/$b:samples/common/sampleOptions.cpp > /tmp/so-$b.cpp; done
//   node extract-trtexec-flags.mjs 8.6=/tmp/so-8.6.cpp 10.16=/tmp/so-10.16.cpp 11.1=/tmp/so-11.1.cpp > ../trtexec-flags.json
import { readFileSync } from 'node:fs';

function flagsOf(src) {
  for (const name of ['SafeBuilderOptions', 'TaskInferenceOptions']) {
    const start = src.search(new RegExp(`\\nvoid ${name}::parse\\(Arguments& arguments\\)\\n\\{`));
    if (start >= 0) {
      const end = src.indexOf('\n}\n', start);
      src = src.slice(0, start) + src.slice(end);
    }
  }
  const flags = new Set();
  for (const m of src.matchAll(/\(\s*arguments\s*,\s*(?:[A-Za-z_.]+\s*,\s*)?"(--?[A-Za-z0-9]+)"/g)) flags.add(m[1]);
  for (const m of src.matchAll(/getFormats\(\s*\w+\s*,\s*"(--[A-Za-z0-9]+)"/g)) flags.add(m[1]);
  return [...flags].sort();
}

const out = {};
for (const arg of process.argv.slice(2)) {
  const [version, file] = arg.split('=');
  out[version] = flagsOf(readFileSync(file, 'utf8'));
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
