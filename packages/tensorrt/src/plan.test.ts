import { join } from 'node:path';
import { buildSdComponents, readModel } from '@sdq/onnx';
import { DataType, SdqError } from '@sdq/quant';
import { modelInputsFromModel } from './model-inputs.js';
import { formatPlan, planEngines, shellQuote, type ComponentModels, type Precision } from './plan.js';
import type { ModelInputs } from './profiles.js';
import { FIXTURES_DIR, TRTEXEC_FLAGS, checkGolden } from './testing/paths.js';

/** SD 1.5 UNet/text encoder/VAE decoder inputs as the optimum export names them ([2B,4,H/8,W/8], [2B], [2B,77,768]). */
const SD15: Record<string, ModelInputs> = {
  text_encoder: [{ name: 'input_ids', elemType: DataType.INT32, dims: ['batch_size', 'sequence_length'] }],
  unet: [
    { name: 'sample', elemType: DataType.FLOAT, dims: ['batch_size', 4, 'height', 'width'] },
    { name: 'timestep', elemType: DataType.FLOAT, dims: ['batch_size'] },
    { name: 'encoder_hidden_states', elemType: DataType.FLOAT, dims: ['batch_size', 'sequence_length', 768] },
  ],
  vae_decoder: [{ name: 'latent_sample', elemType: DataType.FLOAT, dims: ['batch_size', 4, 'height', 'width'] }],
};

/** SDXL base as optimum exports it: CLIP-L and bigG text encoders, UNet with text_embeds [2B,1280] and time_ids [2B,6]. */
const SDXL: Record<string, ModelInputs> = {
  text_encoder: SD15.text_encoder,
  text_encoder_2: SD15.text_encoder,
  unet: [
    ...SD15.unet.slice(0, 2),
    { name: 'encoder_hidden_states', elemType: DataType.FLOAT, dims: ['batch_size', 'sequence_length', 2048] },
    { name: 'text_embeds', elemType: DataType.FLOAT, dims: ['batch_size', 1280] },
    { name: 'time_ids', elemType: DataType.FLOAT, dims: ['batch_size', 6] },
  ],
  vae_decoder: SD15.vae_decoder,
};

/** Paths as a user would pass them: the FP32 export, `sdq convert --to fp16` output, `sdq quantize` output. */
function components(model: string, inputs: Record<string, ModelInputs>): ComponentModels[] {
  return Object.entries(inputs).map(([component, ins]) => ({
    component,
    inputs: ins,
    onnx: {
      fp32: `models/${model}/${component}/model.onnx`,
      fp16: `models/${model}-fp16/${component}/model.onnx`,
      int8: `models/${model}-int8/${component}/model.onnx`,
    },
    calibrationCache: `models/${model}-int8/${component}/calibration.cache`,
  }));
}

/** Inputs of the fixture models' components, read from their ONNX files. */
const inputsOf: Record<string, Record<string, ModelInputs>> = { sd15: SD15, sdxl: SDXL };
beforeAll(async () => {
  const fixtures = { 'tiny-sd': ['text_encoder', 'unet', 'vae_decoder'], 'tiny-sdxl': ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder'] };
  for (const [name, parts] of Object.entries(fixtures)) {
    inputsOf[name] = {};
    for (const c of parts) {
      const model = await readModel(join(FIXTURES_DIR, 'models', name, c, 'model.onnx'), { externalData: 'lazy' });
      inputsOf[name][c] = modelInputsFromModel(model);
    }
  }
});

const CASES: [string, string, Precision][] = [];
for (const model of ['tiny-sd', 'sd15', 'tiny-sdxl', 'sdxl']) for (const v of ['10.16', '11.1']) for (const p of ['fp32', 'fp16', 'int8'] as Precision[]) CASES.push([model, v, p]);

describe('golden plans (tiny-sd and tiny-sdxl from fixtures, SD 1.5 and SDXL inputs) x TensorRT 10.16 / 11.1 x FP32 / FP16 / INT8', () => {
  it.each(CASES)('%s TensorRT %s %s', (model, version, precision) => {
    const inputs = inputsOf[model];
    const plans = planEngines({ trtVersion: version, components: components(model, inputs), precisions: [precision], outDir: `engines/${model}` });
    const text = formatPlan(plans);
    const { expected, actual } = checkGolden(`${model}.trt${version}.${precision}.sh`, text);
    expect(actual).toBe(expected);
    // Every flag is one that release's trtexec parses (flag table extracted from its sampleOptions.cpp).
    for (const plan of plans) {
      for (const arg of plan.argv) expect(TRTEXEC_FLAGS[version]).toContain(arg.split('=')[0]);
    }
  });
});

describe('golden plans of a builder-made SD 1.5 (@sdq/onnx sd15 preset, shape-only weights)', () => {
  let built: Record<string, ModelInputs>;
  beforeAll(() => {
    const sd15 = buildSdComponents('sd15', { weights: 'shape-only' });
    built = { text_encoder: modelInputsFromModel(sd15.textEncoder), unet: modelInputsFromModel(sd15.unet), vae_decoder: modelInputsFromModel(sd15.vaeDecoder) };
  });

  it('has the SD 1.5 inputs described above (names, types, ranks; the builder fixes the 77 tokens)', () => {
    for (const [component, inputs] of Object.entries(SD15)) {
      expect(built[component].map((i) => i.name)).toEqual(inputs.map((i) => i.name));
      expect(built[component].map((i) => i.elemType)).toEqual(inputs.map((i) => i.elemType));
      expect(built[component].map((i) => i.dims.length)).toEqual(inputs.map((i) => i.dims.length));
    }
    expect(built.text_encoder[0].dims).toEqual(['batch', 77]);
    expect(built.unet[2].dims).toEqual(['batch', 'sequence', 768]);
  });

  it.each(CASES.filter(([m]) => m === 'sd15'))('plans exactly the sd15 golden: TensorRT %s %s', (_m, version, precision) => {
    const text = formatPlan(planEngines({ trtVersion: version, components: components('sd15', built), precisions: [precision], outDir: 'engines/sd15' }));
    const { expected } = checkGolden(`sd15.trt${version}.${precision}.sh`, text);
    expect(text).toBe(expected);
  });
});

describe('planEngines', () => {
  it('doubles the UNet batch for CFG and divides the image size by 8 for latents', () => {
    const [unet] = planEngines({ trtVersion: '10.16', components: components('sd15', { unet: SD15.unet }), precisions: ['fp16'], outDir: 'e' });
    expect(unet.argv).toContain('--minShapes=sample:2x4x32x32,timestep:2,encoder_hidden_states:2x77x768');
    expect(unet.argv).toContain('--optShapes=sample:2x4x64x64,timestep:2,encoder_hidden_states:2x77x768');
    expect(unet.argv).toContain('--maxShapes=sample:8x4x128x128,timestep:8,encoder_hidden_states:8x77x768');
    expect(unet.argv).toContain('--fp16');
    expect(unet.onnx).toBe('models/sd15/unet/model.onnx');
  });

  it('uses the typed ONNX and no precision flag on TensorRT 11 (strongly typed only)', () => {
    const plans = planEngines({ trtVersion: '11.1', components: components('sd15', { unet: SD15.unet }), precisions: ['fp16', 'int8'], outDir: 'e' });
    expect(plans.map((p) => p.onnx)).toEqual(['models/sd15-fp16/unet/model.onnx', 'models/sd15-int8/unet/model.onnx']);
    for (const p of plans) {
      expect(p.argv.filter((a) => /^--(fp16|int8|bf16|best|calib|stronglyTyped)/.test(a))).toEqual([]);
      expect(p.typing).toBe('strong');
    }
  });

  it('uses --stronglyTyped with the typed ONNX on TensorRT 10 when asked', () => {
    const [p] = planEngines({ trtVersion: '10.16', typing: 'strong', components: components('sd15', { unet: SD15.unet }), precisions: ['int8'], outDir: 'e' });
    expect(p.onnx).toBe('models/sd15-int8/unet/model.onnx');
    expect(p.argv).toContain('--stronglyTyped');
    expect(p.argv).not.toContain('--int8');
  });

  it('plans INT8 from a calibration cache on 10.x: FP32 model + --int8 --calib', () => {
    const [p] = planEngines({ trtVersion: '10.16', int8Source: 'calibration-cache', components: components('sd15', { unet: SD15.unet }), precisions: ['int8'], outDir: 'e' });
    expect(p.onnx).toBe('models/sd15/unet/model.onnx');
    expect(p.argv).toEqual(expect.arrayContaining(['--fp16', '--int8', '--calib=models/sd15-int8/unet/calibration.cache']));
  });

  it.each([
    ['11.1', { typing: 'weak' as const }, /strongly typed only/],
    ['11.1', { int8Source: 'calibration-cache' as const }, /no calibration cache/],
    ['8.6', { typing: 'strong' as const }, /no --stronglyTyped/],
    ['8.5', {}, /older than 8.6/],
  ])('rejects what TensorRT %s cannot do (%j)', (version, extra, message) => {
    expect(() => planEngines({ trtVersion: version, components: components('sd15', { unet: SD15.unet }), precisions: ['int8'], outDir: 'e', ...extra })).toThrow(message);
  });

  it('says which ONNX file is missing for a precision', () => {
    const c: ComponentModels = { component: 'unet', inputs: SD15.unet, onnx: { fp32: 'u.onnx' } };
    expect(() => planEngines({ trtVersion: '11.1', components: [c], precisions: ['fp16'], outDir: 'e' })).toThrow(/unet: no FP16 ONNX model given.*sdq convert/);
    const err = (() => { try { planEngines({ trtVersion: '11.1', components: [c], precisions: ['fp16'], outDir: 'e' }); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(SdqError);
    expect((err as SdqError).code).toBe('NOT_FOUND');
  });

  it('static mode pins min = opt = max', () => {
    const [p] = planEngines({ trtVersion: '10.16', target: { static: true }, components: components('sd15', { unet: SD15.unet }), precisions: ['fp32'], outDir: 'e' });
    const shapes = ['min', 'opt', 'max'].map((k) => p.argv.find((a) => a.startsWith(`--${k}Shapes=`))!.split('=')[1]);
    expect(new Set(shapes).size).toBe(1);
    expect(shapes[0]).toBe('sample:2x4x64x64,timestep:2,encoder_hidden_states:2x77x768');
  });

  it('gives no shape flags to a fully static model (trtexec rejects shapes for static models)', () => {
    const c: ComponentModels = { component: 'unet', inputs: [{ name: 'sample', elemType: 1, dims: [2, 4, 64, 64] }], onnx: { fp32: 'u.onnx' } };
    const [p] = planEngines({ trtVersion: '10.16', components: [c], precisions: ['fp32'], outDir: 'e' });
    expect(p.argv.some((a) => a.includes('Shapes='))).toBe(false);
  });
});

describe('shellQuote', () => {
  it.each([
    ['--onnx=a/b.onnx', '--onnx=a/b.onnx'],
    ['--onnx=my model.onnx', "'--onnx=my model.onnx'"],
    ["it's", "'it'\\''s'"],
    ['', "''"],
  ])('%s -> %s', (arg, quoted) => expect(shellQuote(arg)).toBe(quoted));
});
