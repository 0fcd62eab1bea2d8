// Synthetic UNet feeds of one CFG batch (batch 2) at a latent side, from the session's declared inputs (sample,
// timestep, encoder_hidden_states, and SDXL's text_embeds / time_ids): deterministic, for latency runs where only
// the shapes matter. Shared by the bench scripts (tools/bench/gpu/unet-profile.mjs, tools/bench/ort/compare-int8.mjs).
import * as ort from 'onnxruntime-node';
import { float32ToFloat16 } from '@sdq/quant';

const fill = (n, f) => Float32Array.from({ length: n }, (_, i) => f(i));

export function unetFeeds(session, latent) {
  const feeds = {};
  for (const m of session.inputMetadata) {
    const shape = m.shape.map((d, i) => (typeof d === 'number' && d > 0 ? d : i === 0 ? 2 : m.name === 'sample' ? latent : 77));
    if (m.name === 'sample') shape.splice(0, 4, 2, shape[1] === 2 ? 4 : shape[1], latent, latent);
    const n = shape.reduce((a, b) => a * b, 1);
    const data = m.name === 'timestep' ? fill(n, () => 500) : fill(n, (i) => Math.sin(i * 0.37 + m.name.length));
    if (m.type === 'float16') feeds[m.name] = new ort.Tensor('float16', float32ToFloat16(data), shape);
    else if (m.type === 'int64') feeds[m.name] = new ort.Tensor('int64', BigInt64Array.from(data, (v) => BigInt(Math.round(v))), shape);
    else feeds[m.name] = new ort.Tensor('float32', data, shape);
  }
  return feeds;
}
