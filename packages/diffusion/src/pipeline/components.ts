import * as ort from 'onnxruntime-node';
import { SdqError } from '@sdq/quant';
import { type FloatType, floatTypeOf } from './tensors.js';

/** An input or output as the session reports it. */
export interface ValueInfo {
  name: string;
  type: string;
  shape: readonly (number | string)[];
}

function tensorInfos(values: readonly ort.InferenceSession.ValueMetadata[]): ValueInfo[] {
  return values.map((v) => (v.isTensor ? { name: v.name, type: v.type, shape: v.shape } : { name: v.name, type: 'non-tensor', shape: [] }));
}

function describe(values: readonly ValueInfo[]): string {
  return values.map((v) => `${v.name}: ${v.type}[${v.shape.join(', ')}]`).join(', ') || '(none)';
}

/** Creates a session with readable errors (a corrupt file or missing external data names the file). */
export async function openSession(path: string, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(path, options);
  } catch (e) {
    const first = String((e as Error).message ?? e).split('\n')[0].slice(0, 300);
    throw new SdqError('RUNTIME_ERROR', `onnxruntime cannot load ${path}: ${first}; check the file and its external data (e.g. weights.pb) are complete`, { cause: e });
  }
}

const FLOAT_TYPES = new Set(['float32', 'float16']);
const INT_TYPES = new Set(['int32', 'int64']);

/** Picks the input called `name`, else the only input matching `match`. */
function pick(inputs: ValueInfo[], name: string, match: (v: ValueInfo) => boolean): ValueInfo | undefined {
  return inputs.find((v) => v.name === name) ?? (inputs.filter(match).length === 1 ? inputs.find(match) : undefined);
}

function notA(kind: string, path: string, inputs: ValueInfo[], expected: string): SdqError {
  return new SdqError(
    'BAD_FORMAT',
    `${path} does not look like a ${kind}: its inputs are ${describe(inputs)}; expected ${expected} (optimum's Stable Diffusion export)`,
  );
}

/** What the pipeline needs to know about the text encoder's I/O. */
export interface TextEncoderIO {
  inputIds: ValueInfo & { type: 'int32' | 'int64' };
  hiddenStates: ValueInfo;
  /** `hidden_states.N` outputs in layer order (optimum exports them for SDXL): [0] the embeddings, last the final layer. */
  layerHiddenStates: ValueInfo[];
  /** The projected pooled output `text_embeds` (CLIPTextModelWithProjection), if any. */
  textEmbeds: ValueInfo | null;
}

export function textEncoderIO(session: ort.InferenceSession, path: string): TextEncoderIO {
  const inputs = tensorInfos(session.inputMetadata);
  const outputs = tensorInfos(session.outputMetadata);
  const ids = pick(inputs, 'input_ids', (v) => INT_TYPES.has(v.type));
  if (ids === undefined || !INT_TYPES.has(ids.type) || inputs.length !== 1) {
    throw notA('CLIP text encoder', path, inputs, 'one int32/int64 input `input_ids` [batch, 77]');
  }
  const hidden = outputs.find((o) => o.name === 'last_hidden_state') ?? outputs.find((o) => o.shape.length === 3);
  if (hidden === undefined || !FLOAT_TYPES.has(hidden.type)) {
    throw new SdqError('BAD_FORMAT', `${path} has no float output last_hidden_state [batch, 77, hidden]; outputs are ${describe(outputs)}`);
  }
  const layers = outputs
    .map((o) => ({ o, layer: /^hidden_states\.(\d+)$/.exec(o.name)?.[1] }))
    .filter((x): x is { o: ValueInfo; layer: string } => x.layer !== undefined)
    .sort((a, b) => Number(a.layer) - Number(b.layer))
    .map((x) => x.o);
  const textEmbeds = outputs.find((o) => o.name === 'text_embeds' && o.shape.length === 2) ?? null;
  return { inputIds: ids as TextEncoderIO['inputIds'], hiddenStates: hidden, layerHiddenStates: layers, textEmbeds };
}

/** A UNet input that carries the prompt's conditioning, with the role the prompt encoding fills it by. */
export interface ConditioningInput {
  /** encoder_hidden_states, or SDXL's added conditions text_embeds and time_ids. */
  role: string;
  info: ValueInfo;
  type: FloatType;
}

/** What the pipeline needs to know about the UNet's I/O. */
export interface UnetIO {
  sample: ValueInfo;
  sampleType: FloatType;
  timestep: ValueInfo;
  encoderHiddenStates: ValueInfo;
  hiddenType: FloatType;
  /** Every conditioning input the UNet declares (encoder_hidden_states first), fed from the prompt encoding by role. */
  conditioning: ConditioningInput[];
  output: ValueInfo;
  /** Fixed batch size of the sample input, or null when dynamic. */
  fixedBatch: number | null;
}

export function unetIO(session: ort.InferenceSession, path: string): UnetIO {
  const inputs = tensorInfos(session.inputMetadata);
  const outputs = tensorInfos(session.outputMetadata);
  const expected = 'sample [b, 4, h, w], timestep [b] or [], encoder_hidden_states [b, 77, d] (SDXL: also text_embeds [b, d], time_ids [b, 6])';
  const sample = pick(inputs, 'sample', (v) => FLOAT_TYPES.has(v.type) && v.shape.length === 4);
  const timestep = pick(inputs, 'timestep', (v) => v.shape.length <= 1);
  const hidden = pick(inputs, 'encoder_hidden_states', (v) => FLOAT_TYPES.has(v.type) && v.shape.length === 3);
  if (sample === undefined || timestep === undefined || hidden === undefined) throw notA('UNet', path, inputs, expected);
  if (sample.shape.length !== 4 || hidden.shape.length !== 3 || !(FLOAT_TYPES.has(timestep.type) || INT_TYPES.has(timestep.type))) {
    throw notA('UNet', path, inputs, expected);
  }
  const conditioning = [{ role: 'encoder_hidden_states', info: hidden }, ...inputs.filter((v) => v !== sample && v !== timestep && v !== hidden).map((info) => ({ role: info.name, info }))]
    .map(({ role, info }) => ({ role, info, type: floatTypeOf(info.type, `${path} input ${info.name}`) }));
  const output = outputs.find((o) => o.name === 'out_sample') ?? outputs[0];
  if (output === undefined) throw new SdqError('BAD_FORMAT', `${path} has no outputs`);
  const batch = sample.shape[0];
  return {
    sample,
    sampleType: floatTypeOf(sample.type, `${path} input ${sample.name}`),
    timestep,
    encoderHiddenStates: hidden,
    hiddenType: floatTypeOf(hidden.type, `${path} input ${hidden.name}`),
    conditioning,
    output,
    fixedBatch: typeof batch === 'number' && batch > 0 ? batch : null,
  };
}

/** What the pipeline needs to know about the VAE decoder's I/O. */
export interface VaeDecoderIO {
  latent: ValueInfo;
  latentType: FloatType;
  output: ValueInfo;
}

export function vaeDecoderIO(session: ort.InferenceSession, path: string): VaeDecoderIO {
  const inputs = tensorInfos(session.inputMetadata);
  const outputs = tensorInfos(session.outputMetadata);
  const latent = pick(inputs, 'latent_sample', (v) => FLOAT_TYPES.has(v.type) && v.shape.length === 4);
  if (latent === undefined || inputs.length !== 1 || latent.shape.length !== 4) {
    throw notA('VAE decoder', path, inputs, 'one float input latent_sample [b, 4, h, w]');
  }
  const output = outputs.find((o) => o.name === 'sample') ?? outputs[0];
  if (output === undefined) throw new SdqError('BAD_FORMAT', `${path} has no outputs`);
  return { latent, latentType: floatTypeOf(latent.type, `${path} input ${latent.name}`), output };
}
