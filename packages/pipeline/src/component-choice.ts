// "FP32 or FP16 as measured best" for the components INT8 leaves in float (text encoder(s), VAE decoder):
// time both on this machine and keep the faster.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';

export interface ComponentTiming {
  component: 'text_encoder' | 'text_encoder_2' | 'vae_decoder';
  fp32Ms: number;
  fp16Ms: number;
  chosen: 'fp32' | 'fp16';
}

async function feedsFor(session: ort.InferenceSession, component: ComponentTiming['component']): Promise<Record<string, ort.Tensor>> {
  const meta = (session.inputMetadata as readonly { name: string; type?: string }[])[0];
  if (component !== 'vae_decoder') {
    const ids = new Int32Array(77).fill(49407);
    ids[0] = 49406;
    return { [meta.name]: meta.type === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [1, 77]) : new ort.Tensor('int32', ids, [1, 77]) };
  }
  // A 16x16 latent: enough work to rank FP32 against FP16, cheap even for SD 1.5's VAE.
  const latent = new Float32Array(4 * 16 * 16).map((_, i) => Math.sin(i * 0.7));
  return { [meta.name]: new ort.Tensor('float32', latent, [1, 4, 16, 16]) };
}

/** Minimum of `runs` timed runs after one warm-up, ms. */
async function timeSession(file: string, component: ComponentTiming['component'], threads: number, runs: number): Promise<number> {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  try {
    const feeds = await feedsFor(session, component);
    await session.run(feeds);
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await session.run(feeds);
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  } finally {
    await session.release();
  }
}

/** Time each component in `fp32Dir` and `fp16Dir` (interleaved, min of `runs`) and pick the faster. */
export async function chooseFloatComponents(fp32Dir: string, fp16Dir: string, threads = 2, runs = 3): Promise<ComponentTiming[]> {
  const out: ComponentTiming[] = [];
  // text_encoder_2: SDXL's second text encoder, when the dir has one
  const components = (['text_encoder', 'text_encoder_2', 'vae_decoder'] as const).filter((c) => existsSync(path.join(fp32Dir, c, 'model.onnx')));
  for (const component of components) {
    const fp32Ms = await timeSession(path.join(fp32Dir, component, 'model.onnx'), component, threads, runs);
    const fp16Ms = await timeSession(path.join(fp16Dir, component, 'model.onnx'), component, threads, runs);
    // FP16 must be clearly faster (5%) to be worth its precision loss.
    out.push({ component, fp32Ms, fp16Ms, chosen: fp16Ms < fp32Ms * 0.95 ? 'fp16' : 'fp32' });
  }
  return out;
}
