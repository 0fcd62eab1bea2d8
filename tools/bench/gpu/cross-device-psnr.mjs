// PSNR of PNGs against a reference PNG (same size), e.g. WebGPU FP16 images against the CPU FP32 image.
// Usage: node tools/bench/gpu/cross-device-psnr.mjs <reference.png> <image.png>...
import * as fs from 'node:fs';
import pngjs from 'pngjs';

const read = (f) => pngjs.PNG.sync.read(fs.readFileSync(f));
const ref = read(process.argv[2]);
for (const f of process.argv.slice(3)) {
  const img = read(f);
  let se = 0;
  let n = 0;
  for (let i = 0; i < ref.data.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const d = ref.data[i + c] - img.data[i + c];
      se += d * d;
      n++;
    }
  }
  // PSNR = 10 log10(255^2 / MSE) over RGB
  const mse = se / n;
  console.log(JSON.stringify({ reference: process.argv[2], image: f, psnrDb: mse === 0 ? Infinity : +(10 * Math.log10((255 * 255) / mse)).toFixed(2) }));
}
