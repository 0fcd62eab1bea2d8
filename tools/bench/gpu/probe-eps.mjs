// Which execution providers this onnxruntime-node can start on a model, with onnxruntime's own message when one cannot
// (the messages @sdq/diffusion's device.ts turns into one line). Usage: node tools/bench/gpu/probe-eps.mjs <model.onnx>
import * as ort from 'onnxruntime-node';
for (const ep of ['cuda', 'tensorrt', 'webgpu']) {
  try { const s = await ort.InferenceSession.create(process.argv[2], { executionProviders: [ep], logSeverityLevel: 0 }); console.log(ep, 'OK', s.inputNames); await s.release(); }
  catch (e) { console.log(ep, 'ERR', String(e.message).split('\n')[0].slice(0, 400)); }
}
