// INT8 UNet layouts of one model from one calibration (ranges.json of sdq calibrate), for choosing a recipe: each
// variant is @sdq/calib's quantizeUnet with a policy, written to <out>/<variant>/model.onnx. Prints one JSON line
// per variant (nodes quantized / kept float).
// Usage: node tools/bench/ort/sdq-variants.mjs <unet.onnx> <calib dir> <out dir> [variant ...]
// Variants: default (DEFAULT_UNET_INT8_POLICY: conv_in, conv_out, time embedding float), fast (FAST_UNET_INT8_POLICY:
// MatMul outputs float too), fast-shortcut (fast + every resnet conv_shortcut float, as ModelOpt's SDXL INT8 filter),
// fast-modelopt (fast + ModelOpt's whole filter_func_default name list: time_emb_proj, time_embedding, conv_in,
// conv_out, conv_shortcut, add_embedding, norm_out; its Gemm/norm entries are float in sdq's layouts anyway).
import * as path from 'node:path';
import { quantizeUnet, DEFAULT_UNET_INT8_POLICY, FAST_UNET_INT8_POLICY } from '@sdq/calib';

const [unet, calib, out, ...wanted] = process.argv.slice(2);
if (!unet || !calib || !out) throw new Error('usage: sdq-variants.mjs <unet.onnx> <calib dir> <out dir> [variant ...]');
const shortcut = /(^|\/)conv_shortcut(\/|$)/;
const modelOpt = /(^|\/)(time_emb_proj|time_embedding|conv_in|conv_out|conv_shortcut|add_embedding|norm_out)(\/|$)/;
const variants = {
  default: DEFAULT_UNET_INT8_POLICY,
  fast: FAST_UNET_INT8_POLICY,
  'fast-shortcut': { ...FAST_UNET_INT8_POLICY, skipNodes: [...FAST_UNET_INT8_POLICY.skipNodes, shortcut] },
  'fast-modelopt': { ...FAST_UNET_INT8_POLICY, skipNodes: [modelOpt] },
};
for (const name of wanted.length ? wanted : Object.keys(variants)) {
  const policy = variants[name];
  if (!policy) throw new Error(`unknown variant ${name}; one of ${Object.keys(variants).join(', ')}`);
  const t0 = performance.now();
  const r = await quantizeUnet(unet, path.join(out, name, 'model.onnx'), { calibration: path.join(calib, 'ranges.json'), policy });
  console.log(JSON.stringify({ variant: name, out: r.outPath, quantized: r.report.quantizedNodes.length, keptFloat: r.report.skippedNodes.length, fusedAttention: r.fusedAttention, seconds: +((performance.now() - t0) / 1000).toFixed(1) }));
}
