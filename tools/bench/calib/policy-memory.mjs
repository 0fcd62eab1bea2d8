// Peak memory of calibrating a UNet for INT8 at a given latent size: the tensors the QDQ policy quantizes
// (what quantizeUnet does, @sdq/onnx qdqTensorsFor) versus every input/output of the policy's op types (the previous
// behaviour, which includes attention scores). Each run is a fresh child process; the parent reads its peak RSS
// (VmHWM) from /proc and kills it past --limit-gb, so a run that would exhaust the machine is reported as "> limit".
// Build first: (cd packages/quant && npx tsup) && (cd packages/onnx && npx tsup) && (cd packages/calib && npx tsup)
// Model: node packages/cli/dist/sdq.js fixture create --preset small --out /tmp/sdq-small
// Usage: node tools/bench/calib/policy-memory.mjs <unet/model.onnx> [--latent 64] [--samples 3] [--method percentile]
//        [--modes policy,optypes] [--limit-gb 6] [--max-bytes-mb 512]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const here = fileURLToPath(import.meta.url);
const root = resolve(dirname(here), '../../..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    latent: { type: 'string', default: '64' }, samples: { type: 'string', default: '3' }, method: { type: 'string', default: 'percentile' },
    modes: { type: 'string', default: 'policy,optypes' }, 'max-bytes-mb': { type: 'string', default: '512' }, 'limit-gb': { type: 'string', default: '6' }, child: { type: 'string' },
  },
});
const modelPath = resolve(positionals[0] ?? '/tmp/sdq-small/unet/model.onnx');

const FLOAT = 1; // onnx TensorProto.FLOAT, @sdq/quant DataType.FLOAT
if (values.child) {
  const calib = await import(join(root, 'packages/calib/dist/index.js'));
  const onnx = await import(join(root, 'packages/onnx/dist/index.js'));
  const h = Number(values.latent);
  const specs = await calib.modelInputSpecs(modelPath);
  const ehs = specs.find((s) => s.name === 'encoder_hidden_states').shape.at(-1);
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const samples = Array.from({ length: Number(values.samples) }, (_, i) => ({
    sample: calib.makeTensor(FLOAT, [2, 4, h, h], Float32Array.from({ length: 2 * 4 * h * h }, rand)),
    timestep: calib.makeTensor(FLOAT, [2], Float32Array.of(900 - 300 * i, 900 - 300 * i)),
    encoder_hidden_states: calib.makeTensor(FLOAT, [2, 77, ehs], Float32Array.from({ length: 2 * 77 * ehs }, rand)),
  }));
  const reader = calib.readerFromSource(calib.arraySampleSource(samples));
  const policy = calib.DEFAULT_UNET_INT8_POLICY;
  const model = await onnx.readModel(modelPath, { externalData: 'lazy' });
  const t0 = performance.now();
  const options = values.child === 'policy' ? { policy } : { opTypes: policy.opTypes };
  const maxBytesPerRun = Number(values['max-bytes-mb']) * 2 ** 20;
  const r = await calib.collectRanges(modelPath, reader, { method: values.method, maxBytesPerRun, ...options });
  const tensors = Object.keys(r.ranges);
  const needed = new Set(onnx.qdqTensorsFor(model, policy));
  console.log(JSON.stringify({ tensors: tensors.length, neededByInsertQdq: needed.size, missing: [...needed].filter((t) => !(t in r.ranges)).length, seconds: (performance.now() - t0) / 1000 }));
  process.exit(0);
}

const peakKb = (pid) => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
};
const limitKb = Number(values['limit-gb']) * 2 ** 20;
for (const mode of values.modes.split(',')) {
  const args = [here, modelPath, '--child', mode, '--latent', values.latent, '--samples', values.samples, '--method', values.method, '--max-bytes-mb', values['max-bytes-mb']];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  let peak = 0;
  let killed = false;
  const timer = setInterval(() => {
    peak = Math.max(peak, peakKb(child.pid));
    if (peak > limitKb && !killed) {
      killed = true;
      child.kill('SIGKILL');
    }
  }, 50);
  const code = await new Promise((r) => child.on('exit', r));
  clearInterval(timer);
  const gib = (peak / 2 ** 20).toFixed(2);
  const result = killed ? `killed past the ${values['limit-gb']} GiB limit (peak seen ${gib} GiB)` : code === 0 ? `peak RSS ${gib} GiB ${out.trim()}` : `failed (exit ${code}), peak ${gib} GiB`;
  console.log(`${mode.padEnd(8)} ${values.method} latent ${values.latent}x${values.latent}, ${values.samples} samples: ${result}`);
}
