// The UNet side of the denoising loop: feeds every input the UNet declares (sample, timestep and the conditioning
// inputs the prompt encoding produced), in chunks when the model has a fixed batch, reusing its buffers every step.
import * as ort from 'onnxruntime-node';
import { SdqError, float16ToFloat32, float32ToFloat16 } from '@sdq/quant';
import type { UnetIO } from './components.js';
import type { FloatTensor } from './prompt-encoding.js';
import { FloatFeed, outputAsFloat32 } from './tensors.js';

/** One run's worth of UNet tensors for a slice of the batch. */
interface Chunk {
  feeds: Record<string, ort.Tensor>;
  sample: FloatFeed;
  timestep: ort.Tensor;
  outView: Float32Array;
  outHalf: Uint16Array | null;
  output: ort.Tensor | null;
}

/** Throws unless the UNet's conditioning inputs are exactly the roles the model dir's prompt encoding produces. */
export function checkConditioningRoles(io: UnetIO, path: string, roles: readonly string[]): void {
  const missing = io.conditioning.filter((c) => !roles.includes(c.role));
  if (missing.length > 0) {
    throw new SdqError(
      'UNSUPPORTED',
      `${path} takes ${missing.map((c) => `${c.info.name} [${c.info.shape.join(', ')}]`).join(', ')}, which this model dir's prompt encoding does not produce ` +
        `(it gives ${roles.join(', ')}); an SDXL UNet needs model_index.json to name an SDXL pipeline with text_encoder_2/ and tokenizer_2/`,
    );
  }
  const unused = roles.filter((role) => !io.conditioning.some((c) => c.role === role));
  if (unused.length > 0) {
    const inputs = [io.sample, io.timestep, ...io.conditioning.map((c) => c.info)].map((v) => v.name).join(', ');
    throw new SdqError('UNSUPPORTED', `${path} does not take ${unused.join(', ')}, which this SDXL model dir's prompt encoding produces; unet/ is not an SDXL UNet (its inputs: ${inputs})`);
  }
}

/** The conditioning tensors fed to the UNet, by the UNet's input names. */
function conditioningByName(io: UnetIO, path: string, conditioning: Record<string, FloatTensor>, batch: number): Map<string, FloatTensor> {
  checkConditioningRoles(io, path, Object.keys(conditioning));
  const fed = new Map<string, FloatTensor>();
  for (const input of io.conditioning) {
    const tensor = conditioning[input.role];
    const mismatch = tensor.dims.length !== input.info.shape.length || input.info.shape.some((d, k) => k > 0 && typeof d === 'number' && d !== tensor.dims[k]);
    if (mismatch || tensor.dims[0] !== batch) {
      throw new SdqError('SHAPE_MISMATCH', `${path} input ${input.info.name} is [${input.info.shape.join(', ')}]; the prompt encoding gives [${tensor.dims.join(', ')}]: text encoders and UNet do not belong together`);
    }
    fed.set(input.info.name, tensor);
  }
  return fed;
}

/** Timestep dims the model takes: [] (scalar), its fixed [k], or [batch]. */
function timestepDims(io: UnetIO, batch: number): number[] {
  const shape = io.timestep.shape;
  return shape.length === 0 ? [] : typeof shape[0] === 'number' ? [shape[0]] : [batch];
}

/** The timestep input tensor, typed as the model wants it. */
function timestepTensor(io: UnetIO, batch: number): ort.Tensor {
  const info = io.timestep;
  const dims = timestepDims(io, batch);
  const size = dims.length === 0 ? 1 : dims[0];
  switch (info.type) {
    case 'float32':
      return new ort.Tensor('float32', new Float32Array(size), dims);
    case 'float16':
      return new ort.Tensor('float16', new Uint16Array(size), dims);
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(size), dims);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(size), dims);
    default:
      throw new SdqError('UNSUPPORTED_TYPE', `UNet input ${info.name} is ${info.type}; expected float32, float16, int32 or int64`);
  }
}

/** Writes timestep `t` into the tensor (integers truncate like numpy's astype). */
function setTimestep(tensor: ort.Tensor, t: number): void {
  const data = tensor.data;
  if (data instanceof Float32Array) data.fill(t);
  else if (data instanceof BigInt64Array) data.fill(BigInt(Math.trunc(t)));
  else if (data instanceof Int32Array) data.fill(Math.trunc(t));
  else if (data instanceof Uint16Array) float32ToFloat16(new Float32Array(data.length).fill(t), data);
}

/** The UNet run over one guidance batch: write `sample`, call `run(t)`, read `output`. */
export class UnetBatch {
  /** The model input of the whole batch, float32 [batch, c, h, w]. */
  readonly sample: Float32Array;
  /** The model output of the whole batch, float32 [batch, c, h, w]. */
  readonly output: Float32Array;
  /** The timestep as the float32 values of its input (dims [], [k] or [batch]). */
  readonly timestep: FloatTensor;
  private readonly chunks: Chunk[];
  /** The conditioning fed, by UNet input name. */
  readonly conditioning: Map<string, FloatTensor>;
  calls = 0;

  constructor(
    private readonly session: ort.InferenceSession,
    readonly io: UnetIO,
    path: string,
    conditioning: Record<string, FloatTensor>,
    readonly sampleDims: [number, number, number, number],
  ) {
    const [batch, c, h, w] = sampleDims;
    const chunk = io.fixedBatch ?? batch;
    if (batch % chunk !== 0) throw new SdqError('SHAPE_MISMATCH', `${path} has a fixed batch of ${chunk}; the run needs batch ${batch} (guidance doubles it)`);
    this.conditioning = conditioningByName(io, path, conditioning, batch);
    const latentSize = c * h * w;
    this.sample = new Float32Array(batch * latentSize);
    this.output = new Float32Array(batch * latentSize);
    const dims = timestepDims(io, batch);
    this.timestep = { data: new Float32Array(dims.length === 0 ? 1 : dims[0]), dims };
    const slice = (data: Float32Array, k: number): Float32Array => data.subarray((k * chunk * data.length) / batch, ((k + 1) * chunk * data.length) / batch);
    this.chunks = Array.from({ length: batch / chunk }, (_, k) => {
      const sample = new FloatFeed(io.sampleType, slice(this.sample, k), [chunk, c, h, w]);
      const timestep = timestepTensor(io, chunk);
      const feeds: Record<string, ort.Tensor> = { [io.sample.name]: sample.tensor, [io.timestep.name]: timestep };
      for (const input of io.conditioning) {
        const tensor = this.conditioning.get(input.info.name)!;
        feeds[input.info.name] = new FloatFeed(input.type, slice(tensor.data, k), [chunk, ...tensor.dims.slice(1)]).sync();
      }
      // the UNet writes its output straight into `output` (float32) or a reused float16 buffer: no per-step arrays
      const outView = slice(this.output, k);
      const outHalf = io.output.type === 'float16' ? new Uint16Array(outView.length) : null;
      const output = outHalf !== null ? new ort.Tensor('float16', outHalf, [chunk, c, h, w]) : io.output.type === 'float32' ? new ort.Tensor('float32', outView, [chunk, c, h, w]) : null;
      return { feeds, sample, timestep, outView, outHalf, output };
    });
  }

  /** Sets the timestep `t` and converts `sample` to the model's type; call before `run`. */
  prepare(t: number): void {
    this.timestep.data.fill(t);
    for (const ch of this.chunks) {
      ch.sample.sync();
      setTimestep(ch.timestep, t);
    }
  }

  /** Runs every chunk; `output` then holds the model output of the whole batch. */
  async run(): Promise<void> {
    const name = this.io.output.name;
    for (const ch of this.chunks) {
      this.calls++;
      if (ch.output !== null) {
        await this.session.run(ch.feeds, { [name]: ch.output });
        if (ch.outHalf !== null) float16ToFloat32(ch.outHalf, ch.outView);
      } else {
        const out = await this.session.run(ch.feeds);
        outputAsFloat32(out[name], name, ch.outView);
      }
    }
  }
}
