// The SD 1.5 UNet's 3x3 convolutions (CFG batch 2, 64x64 latents) as single-op models, in three forms side by side
// on one execution provider: Conv as it is, im2col (Pad + 9 Slices + Concat + 1x1 Conv: the provider runs 1x1 Conv
// as its MatMul program) and split-K (4 Convs over quarters of the input channels, summed). Min of --runs each.
// Needs @sdq/onnx and @sdq/quant built (npm run build). Usage: node tools/bench/gpu/conv-forms.mjs [--ep webgpu] [--fp16]
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, convertToFloat16, encodeModel } from '@sdq/onnx';
import { DataType, float32ToFloat16, float16ToFloat32, sqnr } from '@sdq/quant';

const { values } = parseArgs({ options: { ep: { type: 'string', default: 'webgpu' }, fp16: { type: 'boolean', default: false }, runs: { type: 'string', default: '20' } } });
const RUNS = Number(values.runs);

// [label, input channels, output channels, spatial side]
const SHAPES = [
  ['down0 64x64 320->320', 320, 320, 64],
  ['down1 32x32 640->640', 640, 640, 32],
  ['down2 16x16 1280->1280', 1280, 1280, 16],
  ['mid 8x8 1280->1280', 1280, 1280, 8],
  ['up0 8x8 2560->1280', 2560, 1280, 8],
  ['up1 16x16 2560->1280', 2560, 1280, 16],
  ['up1 upsampler 32x32 1280->1280', 1280, 1280, 32],
  ['up3 64x64 640->320', 640, 320, 64],
];

function build(form, cin, cout, side) {
  const g = new GraphBuilder({ seed: 1 });
  const x = g.input('x', DataType.FLOAT, [2, cin, side, side]);
  const w = g.randomNormal('w', [cout, cin, 3, 3], { std: 1 / Math.sqrt(9 * cin) });
  const b = g.randomNormal('b', [cout], { std: 0.1 });
  let y;
  if (form === 'conv') {
    y = g.op('Conv', [x, w, b], { attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } });
  } else if (form === 'im2col') {
    const padded = g.op('Pad', [x, g.initializer('pads', BigInt64Array.from([0, 0, 1, 1, 0, 0, 1, 1].map(BigInt)), [8])]);
    const taps = [];
    for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
      const s = g.initializer(`s${ky}${kx}`, BigInt64Array.from([ky, kx].map(BigInt)), [2]);
      const e = g.initializer(`e${ky}${kx}`, BigInt64Array.from([ky + side, kx + side].map(BigInt)), [2]);
      taps.push(g.op('Slice', [padded, s, e, g.initializer(`a${ky}${kx}`, BigInt64Array.from([2n, 3n]), [2])]));
    }
    const cols = g.op('Concat', taps, { attrs: { axis: 1 } });
    // W'[o, tap * cin + c] = W[o, c, ky, kx]: Transpose W to [o, ky, kx, c] and view it as [o, 9 cin, 1, 1]
    const wt = g.op('Transpose', [w], { attrs: { perm: [0, 2, 3, 1] } });
    const w1 = g.op('Reshape', [wt, g.initializer('w1shape', BigInt64Array.from([cout, 9 * cin, 1, 1].map(BigInt)), [4])]);
    y = g.op('Conv', [cols, w1, b], { attrs: { kernel_shape: [1, 1] } });
  } else {
    const parts = g.node('Split', [x, g.initializer('split', BigInt64Array.from([1, 1, 1, 1].map(() => BigInt(cin / 4))), [4])], { attrs: { axis: 1 }, outputs: 4 });
    const ws = g.node('Split', [w, g.initializer('wsplit', BigInt64Array.from([1, 1, 1, 1].map(() => BigInt(cin / 4))), [4])], { attrs: { axis: 1 }, outputs: 4 });
    const convs = parts.map((p, i) => g.op('Conv', i === 0 ? [p, ws[i], b] : [p, ws[i]], { attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } }));
    y = g.op('Sum', convs);
  }
  g.output(y, DataType.FLOAT, [2, cout, side, side]);
  const model = g.build();
  return { model: values.fp16 ? convertToFloat16(model, { keepIoTypes: false }) : model, out: y };
}

const rows = [];
for (const [label, cin, cout, side] of SHAPES) {
  const x32 = Float32Array.from({ length: 2 * cin * side * side }, (_, i) => Math.sin(i * 0.37));
  const feed = values.fp16 ? new ort.Tensor('float16', float32ToFloat16(x32), [2, cin, side, side]) : new ort.Tensor('float32', x32, [2, cin, side, side]);
  const row = { shape: label, gflop: +((2 * 2 * side * side * cout * cin * 9) / 1e9).toFixed(2) };
  let reference;
  for (const form of ['conv', 'im2col', 'splitk4']) {
    const { model, out } = build(form, cin, cout, side);
    const s = await ort.InferenceSession.create(encodeModel(model), { executionProviders: [values.ep === 'webgpu' ? { name: 'webgpu', preferredLayout: 'NHWC' } : values.ep], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
    let best = Infinity;
    let y;
    for (let i = 0; i < RUNS + 2; i++) {
      const t = performance.now();
      y = (await s.run({ x: feed }))[out].data;
      const ms = performance.now() - t;
      if (i >= 2) best = Math.min(best, ms);
    }
    const f = values.fp16 ? float16ToFloat32(y) : y;
    if (form === 'conv') reference = f;
    row[`${form}Ms`] = +best.toFixed(3);
    if (form !== 'conv') row[`${form}SqnrDb`] = +sqnr(reference, f).toFixed(1);
    await s.release();
  }
  row.convTflops = +(row.gflop / row.convMs).toFixed(1);
  rows.push(row);
  console.log(JSON.stringify(row));
}
