/**
 * Time of the graph passes on a builder-made SD UNet (default preset medium, 140M params, 560 MB FP32):
 * convertToFloat16 and insertQdq (per-channel int8 weights; ranges are placeholders, only the time matters),
 * with the weight bytes processed per second and the peak RSS.
 *
 *   (cd packages/onnx && npx tsup) && node tools/bench/onnx/passes-speed.mjs [--preset medium]
 */
import { buildSdComponents, convertToFloat16, insertQdqWithReport, parameterCount } from '../../../packages/onnx/dist/index.js';

const i = process.argv.indexOf('--preset');
const preset = i >= 0 ? process.argv[i + 1] : 'medium';
let peak = 0;
const sample = () => (peak = Math.max(peak, process.memoryUsage().rss));
const time = (label, fn) => {
  const t0 = performance.now();
  const r = fn();
  const s = (performance.now() - t0) / 1000;
  sample();
  return [r, s];
};
const [{ unet }, buildS] = time('build', () => buildSdComponents(preset, { seed: 0 }));
const bytes = parameterCount(unet) * 4;
const names = new Set(unet.graph.node.flatMap((n) => [...n.input, ...n.output]));
const allRanges = Object.fromEntries([...names].map((n) => [n, { min: -1, max: 1 }]));
const [, fp16S] = time('fp16', () => convertToFloat16(unet, { keepIoTypes: true }));
const [q, qdqS] = time('qdq', () => insertQdqWithReport(unet, allRanges, { quantizeOutputs: true }));
const mb = bytes / 1e6;
console.log(`preset ${preset}: UNet ${(parameterCount(unet) / 1e6).toFixed(1)}M params (${mb.toFixed(0)} MB FP32)`);
console.log(`build (random weights) ${buildS.toFixed(1)} s  (${(mb / buildS).toFixed(0)} MB/s)`);
console.log(`convertToFloat16       ${fp16S.toFixed(1)} s  (${(mb / fp16S).toFixed(0)} MB/s of FP32 weights)`);
console.log(`insertQdq              ${qdqS.toFixed(1)} s  (${(mb / qdqS).toFixed(0)} MB/s), ${q.report.weights.length} weights, ${q.report.activations.length} activations`);
console.log(`peak RSS ${(peak / 1e6).toFixed(0)} MB (${(peak / bytes).toFixed(2)}x the FP32 weight bytes; model, FP16 copy and INT8 copy all alive)`);
