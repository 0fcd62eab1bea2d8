// PSNR and SSIM of PNGs against a reference PNG (same size), e.g. WebGPU FP16 images against the CPU FP32 image,
// with @sdq/quant's metrics (the ones sdq bench reports). On the GPU machine, link node_modules/@sdq/quant to
// packages/quant (carry packages/quant/dist) as sd15-webgpu.sh does.
// Usage: node tools/bench/gpu/cross-device-psnr.mjs <reference.png> <image.png>...
import * as fs from 'node:fs';
import pngjs from 'pngjs';
import { psnr, ssim } from '@sdq/quant';

/** RGB bytes of a PNG as floats in [0, 1], HWC. */
function readRgb(file) {
  const png = pngjs.PNG.sync.read(fs.readFileSync(file));
  const rgb = new Float32Array(png.width * png.height * 3);
  for (let p = 0; p < png.width * png.height; p++) for (let c = 0; c < 3; c++) rgb[3 * p + c] = png.data[4 * p + c] / 255;
  return { width: png.width, height: png.height, rgb };
}

const ref = readRgb(process.argv[2]);
for (const file of process.argv.slice(3)) {
  const img = readRgb(file);
  if (img.width !== ref.width || img.height !== ref.height) {
    console.error(`${file} is ${img.width}x${img.height}, the reference ${process.argv[2]} is ${ref.width}x${ref.height}: compare images of one size`);
    process.exit(1);
  }
  const db = psnr(ref.rgb, img.rgb, { dataRange: 1 });
  const s = ssim(ref.rgb, img.rgb, { width: ref.width, height: ref.height, channels: 3, layout: 'hwc', dataRange: 1 });
  console.log(JSON.stringify({ reference: process.argv[2], image: file, psnrDb: Number.isFinite(db) ? +db.toFixed(2) : 'identical', ssim: +s.toFixed(4) }));
}
