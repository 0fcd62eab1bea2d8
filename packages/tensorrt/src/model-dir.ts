import { readModel, readModelDir } from '@sdq/onnx';
import { SdqError } from '@sdq/quant';
import { modelInputsFromModel } from './model-inputs.js';
import type { ComponentModels, Precision } from './plan.js';

/** The engine-relevant components of an SD model folder, in pipeline order. */
export const ENGINE_COMPONENTS = ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder'] as const;

/**
 * ComponentModels for planEngines from model folders in the optimum layout: the FP32 export and, when given, its
 * FP16 and QDQ INT8 counterparts (each `<dir>/<component>/model.onnx`). Inputs are read from the FP32 model.
 */
export async function componentModelsFromDirs(
  dirs: Readonly<Partial<Record<Precision, string>>> & { readonly fp32: string },
  components: readonly string[] = ENGINE_COMPONENTS,
): Promise<ComponentModels[]> {
  const listed: Partial<Record<Precision, Awaited<ReturnType<typeof readModelDir>>>> = {};
  for (const [precision, dir] of Object.entries(dirs) as [Precision, string][]) listed[precision] = await readModelDir(dir);
  const out: ComponentModels[] = [];
  for (const name of components) {
    const base = listed.fp32?.components[name];
    if (!base) continue;
    const onnx: Partial<Record<Precision, string>> = {};
    for (const precision of Object.keys(listed) as Precision[]) {
      const c = listed[precision]?.components[name];
      if (c) onnx[precision] = c.path;
    }
    const model = await readModel(base.path, { externalData: 'lazy' });
    out.push({ component: name, inputs: modelInputsFromModel(model, base.path), onnx });
  }
  if (out.length === 0) {
    throw new SdqError('NOT_FOUND', `${dirs.fp32} has none of ${components.join(', ')} (each as <component>/model.onnx): pass an optimum-layout model folder.`);
  }
  return out;
}
