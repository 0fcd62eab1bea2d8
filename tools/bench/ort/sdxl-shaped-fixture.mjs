// An SDXL-shaped model dir smaller than the sdxl preset, for measurements where the 10 GB FP32 UNet does not fit
// (onnxruntime's Python quantizer holds the model, an augmented copy and a session at once). The UNet keeps SDXL's
// structure (3 levels, no attention at full resolution, transformer depths 1/2/10, 64-wide heads, linear
// projections, cross-attention 2048, added text/time conditioning 1280 + 6 x 256) with the channel widths scaled:
// --width 192 gives blocks 192/384/768 (about 0.93B params, 3.7 GB FP32). The text encoders keep their widths
// (768 and 1280, concatenated to 2048) with 2 layers each; the VAE decoder is the small preset's. Random weights.
// Usage: node tools/bench/ort/sdxl-shaped-fixture.mjs <out dir> [--width 192] [--seed 0]   (build @sdq/onnx first)
import { parseArgs } from 'node:util';
import { SD_PRESETS, writeSdModelDir } from '@sdq/onnx';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { width: { type: 'string', default: '192' }, seed: { type: 'string', default: '0' } } });
const out = positionals[0];
if (!out) throw new Error('usage: sdxl-shaped-fixture.mjs <out dir> [--width 192] [--seed 0]');
const w = Number(values.width);
if (!Number.isInteger(w) || w % 64 !== 0) throw new Error(`--width ${values.width}: a multiple of 64 (SDXL's head width)`);
const sdxl = SD_PRESETS.sdxl;
const config = {
  unet: { ...sdxl.unet, blockOutChannels: [w, 2 * w, 4 * w], attentionHeads: w / 64 },
  vaeDecoder: { ...SD_PRESETS.small.vaeDecoder, scalingFactor: sdxl.vaeDecoder.scalingFactor, sampleSize: sdxl.vaeDecoder.sampleSize },
  textEncoder: { ...sdxl.textEncoder, layers: 2 },
  textEncoder2: { ...sdxl.textEncoder2, layers: 2 },
};
const t0 = performance.now();
const summary = writeSdModelDir(out, config, { seed: Number(values.seed) });
const m = (n) => `${(n / 1e6).toFixed(1)}M`;
const p = summary.parameters;
console.log(`${summary.dir}: SDXL-shaped, UNet blocks ${config.unet.blockOutChannels.join('/')} ${m(p.unet)} params, text encoders ${m(p.textEncoder)} + ${m(p.textEncoder2)}, VAE decoder ${m(p.vaeDecoder)}; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
