/**
 * Shared setup of the INT8 layout benches (int8-layouts.mjs, int8-profile.mjs): command-line options, seeded
 * SD-shaped UNet feeds (CFG batch 2), and min/max ranges of every Conv/MatMul/Gemm input and output over them.
 */
import ort from 'onnxruntime-node';
import { addGraphOutputs, encodeModel, Mulberry32, SD_PRESETS } from '../../../packages/onnx/dist/index.js';
import { minMax } from '../../../packages/quant/dist/index.js';

/** `--name value` from the command line, or the fallback. */
export const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

/** Seeded UNet inputs of a preset at `size`x`size` latents: sample N(0,1), timestep 500, text states N(0,1). */
export function unetFeeds(preset, size) {
  const hidden = SD_PRESETS[preset].unet.crossAttentionDim;
  const normal = (n, seed) => new Mulberry32(seed).fillNormal(new Float32Array(n));
  return {
    sample: new ort.Tensor('float32', normal(2 * 4 * size * size, 1), [2, 4, size, size]),
    timestep: new ort.Tensor('float32', Float32Array.from([500, 500]), [2]),
    encoder_hidden_states: new ort.Tensor('float32', normal(2 * 77 * hidden, 2), [2, 77, hidden]),
  };
}

/** Ranges of every activation a layout below can quantize, from one run with those tensors exposed as outputs. */
export async function probeRanges(unet, feeds, sessionOptions) {
  const wanted = new Set();
  for (const n of unet.graph.node) if (['Conv', 'MatMul', 'Gemm'].includes(n.opType)) for (const x of [...n.input, ...n.output]) if (x) wanted.add(x);
  for (const t of unet.graph.initializer) wanted.delete(t.name);
  const probe = await ort.InferenceSession.create(encodeModel(addGraphOutputs(unet, wanted)), sessionOptions);
  const captured = await probe.run(feeds);
  const ranges = {};
  for (const name of wanted) {
    const d = captured[name]?.data;
    if (d instanceof Float32Array && d.length > 0) ranges[name] = minMax(d);
  }
  await probe.release?.();
  return ranges;
}
