import { SdqError } from '@sdq/quant';

/** One dimension of a model input: a size, or a symbolic name (`batch`, `height`, `?` for an unnamed dynamic dim). */
export type Dim = number | string;

/** A graph input as TensorRT sees it: the plans and profiles are pure functions of a list of these. */
export interface ModelInput {
  readonly name: string;
  /** ONNX TensorProto.DataType (`DataType` in @sdq/quant). */
  readonly elemType: number;
  readonly dims: readonly Dim[];
}
export type ModelInputs = readonly ModelInput[];

export interface DimRange {
  readonly min: number;
  readonly opt: number;
  readonly max: number;
}

/** Explicit min/opt/max shapes for one input, taking precedence over what the target implies. */
export interface ShapeOverride {
  readonly min: readonly number[];
  readonly opt: readonly number[];
  readonly max: readonly number[];
}

/** What the engines must serve: images per call, image size in pixels, prompt length, guidance. */
export interface ProfileTarget {
  /** Images per pipeline call (the prompt batch). */
  readonly batch: DimRange;
  /** Image height in pixels; latents are height / vaeScaleFactor. */
  readonly height: DimRange;
  readonly width: DimRange;
  /** Text encoder sequence length (CLIP: 77). */
  readonly tokens: number;
  /** Classifier-free guidance: the UNet sees [unconditional, conditional], twice the batch. */
  readonly cfg: boolean;
  /** Static mode: min = opt = max = the opt values (fastest engine, one shape only). */
  readonly static: boolean;
  /** VAE downsampling factor (SD 1.x/2.x/XL: 8). */
  readonly vaeScaleFactor: number;
  /** Per input name, shapes that replace the derived ones (for inputs sdq has no rule for). */
  readonly overrides?: Readonly<Record<string, ShapeOverride>>;
}

/**
 * sdq's default: batch 1-4, 256-1024 px, 512 px at opt. (NVIDIA's demo/Diffusion at release/10.16 goes to batch 16
 * and 1360 px; a smaller max keeps the build's memory and the engine's activation memory down.)
 */
export const DEFAULT_PROFILE_TARGET: ProfileTarget = {
  batch: { min: 1, opt: 1, max: 4 },
  height: { min: 256, opt: 512, max: 1024 },
  width: { min: 256, opt: 512, max: 1024 },
  tokens: 77,
  cfg: true,
  static: false,
  vaeScaleFactor: 8,
};

/** min/opt/max of one dynamic input, as `--minShapes/--optShapes/--maxShapes` take them. */
export interface InputProfile {
  readonly name: string;
  readonly min: readonly number[];
  readonly opt: readonly number[];
  readonly max: readonly number[];
}

export interface ComponentProfile {
  readonly component: string;
  /** Inputs with at least one dynamic dim, in model order. Empty for a fully static model (no shape flags then). */
  readonly inputs: readonly InputProfile[];
  /** Things the caller should know (a static model dim that narrows the requested range, ...). */
  readonly notes: readonly string[];
}

type Role = 'batch' | 'cfgBatch' | 'tokens' | 'latentH' | 'latentW' | 'imageH' | 'imageW';

/**
 * Which target quantity each axis of the known Stable Diffusion inputs carries (optimum/diffusers ONNX export names).
 * The text encoder runs once for the prompt and once for the negative prompt (diffusers' encode_prompt), so its batch
 * is the prompt batch; the UNet gets both halves concatenated (CFG); the VAE decodes the final latents only.
 */
const INPUT_ROLES: Readonly<Record<string, Readonly<Record<string, readonly (Role | null)[]>>>> = {
  text_encoder: { input_ids: ['batch', 'tokens'], attention_mask: ['batch', 'tokens'] },
  text_encoder_2: { input_ids: ['batch', 'tokens'], attention_mask: ['batch', 'tokens'] },
  unet: {
    sample: ['cfgBatch', null, 'latentH', 'latentW'],
    timestep: ['cfgBatch'],
    encoder_hidden_states: ['cfgBatch', 'tokens', null],
    text_embeds: ['cfgBatch', null],
    time_ids: ['cfgBatch', null],
  },
  vae_decoder: { latent_sample: ['batch', null, 'latentH', 'latentW'] },
  vae_encoder: { sample: ['batch', null, 'imageH', 'imageW'] },
};

export function isDynamicDim(d: Dim): boolean {
  return typeof d === 'string' || d < 0;
}

function checkRange(what: string, r: DimRange): void {
  const ok = [r.min, r.opt, r.max].every((v) => Number.isInteger(v) && v > 0) && r.min <= r.opt && r.opt <= r.max;
  if (!ok) {
    throw new SdqError('INVALID_RANGE', `${what} range ${r.min}/${r.opt}/${r.max} must be positive integers with min <= opt <= max.`);
  }
}

/** Fills in defaults and checks the target; static mode collapses every range to its opt value. */
export function resolveProfileTarget(target: Partial<ProfileTarget> = {}): ProfileTarget {
  const t: ProfileTarget = { ...DEFAULT_PROFILE_TARGET, ...target };
  checkRange('batch', t.batch);
  checkRange('height', t.height);
  checkRange('width', t.width);
  if (!Number.isInteger(t.tokens) || t.tokens <= 0) {
    throw new SdqError('INVALID_RANGE', `tokens ${t.tokens} must be a positive integer (CLIP: 77).`);
  }
  if (!Number.isInteger(t.vaeScaleFactor) || t.vaeScaleFactor <= 0) {
    throw new SdqError('INVALID_RANGE', `vaeScaleFactor ${t.vaeScaleFactor} must be a positive integer (SD: 8).`);
  }
  for (const [axis, r] of [['height', t.height], ['width', t.width]] as const) {
    for (const v of [r.min, r.opt, r.max]) {
      if (v % t.vaeScaleFactor !== 0) {
        throw new SdqError('INVALID_RANGE', `${axis} ${v} px is not a multiple of ${t.vaeScaleFactor}: latents are ${axis}/${t.vaeScaleFactor}, pick a multiple of ${t.vaeScaleFactor}.`);
      }
    }
  }
  if (!t.static) return t;
  const pin = (r: DimRange): DimRange => ({ min: r.opt, opt: r.opt, max: r.opt });
  return { ...t, batch: pin(t.batch), height: pin(t.height), width: pin(t.width) };
}

function roleRange(role: Role, t: ProfileTarget): DimRange {
  const scale = (r: DimRange, k: number): DimRange => ({ min: r.min * k, opt: r.opt * k, max: r.max * k });
  const div = (r: DimRange): DimRange => ({ min: r.min / t.vaeScaleFactor, opt: r.opt / t.vaeScaleFactor, max: r.max / t.vaeScaleFactor });
  switch (role) {
    case 'batch': return t.batch;
    case 'cfgBatch': return scale(t.batch, t.cfg ? 2 : 1);
    case 'tokens': return { min: t.tokens, opt: t.tokens, max: t.tokens };
    case 'latentH': return div(t.height);
    case 'latentW': return div(t.width);
    case 'imageH': return t.height;
    case 'imageW': return t.width;
  }
}

function checkOverride(component: string, input: ModelInput, o: ShapeOverride): InputProfile {
  const rank = input.dims.length;
  for (const [k, shape] of [['min', o.min], ['opt', o.opt], ['max', o.max]] as const) {
    if (shape.length !== rank || !shape.every((v) => Number.isInteger(v) && v > 0)) {
      throw new SdqError('SHAPE_MISMATCH', `${component}: the ${k} shape [${shape.join(',')}] given for input "${input.name}" must be ${rank} positive integers (the input is [${input.dims.join(',')}]).`);
    }
  }
  input.dims.forEach((d, i) => {
    if (!isDynamicDim(d) && (o.min[i] !== d || o.opt[i] !== d || o.max[i] !== d)) {
      throw new SdqError('SHAPE_MISMATCH', `${component}: input "${input.name}" axis ${i} is fixed at ${d} in the model; the override must use ${d} there.`);
    }
    if (!(o.min[i] <= o.opt[i] && o.opt[i] <= o.max[i])) {
      throw new SdqError('INVALID_RANGE', `${component}: input "${input.name}" axis ${i}: min ${o.min[i]} <= opt ${o.opt[i]} <= max ${o.max[i]} does not hold.`);
    }
  });
  return { name: input.name, min: [...o.min], opt: [...o.opt], max: [...o.max] };
}

/**
 * Optimization profile of one component: for every input with a dynamic dim, min/opt/max shapes from the target
 * (batch, CFG-doubled UNet batch, latents = image/8, tokens). Static dims stay as the model has them.
 * Pure: depends only on its arguments.
 */
export function profileForComponent(component: string, inputs: ModelInputs, target: Partial<ProfileTarget> = {}): ComponentProfile {
  const t = resolveProfileTarget(target);
  const roles = INPUT_ROLES[component] ?? {};
  const profiles: InputProfile[] = [];
  const notes: string[] = [];
  for (const input of inputs) {
    if (!input.dims.some(isDynamicDim)) continue;
    const override = t.overrides?.[input.name];
    if (override) {
      profiles.push(checkOverride(component, input, override));
      continue;
    }
    const inputRoles = roles[input.name];
    const min: number[] = [];
    const opt: number[] = [];
    const max: number[] = [];
    input.dims.forEach((d, axis) => {
      const role = inputRoles?.[axis] ?? null;
      if (!isDynamicDim(d)) {
        min.push(d as number); opt.push(d as number); max.push(d as number);
        if (role) {
          const want = roleRange(role, t);
          if (want.min !== d || want.max !== d) {
            notes.push(`${component}: input "${input.name}" axis ${axis} is fixed at ${d} in the model, so the engine only serves ${d} there (the target asks ${want.min}..${want.max}).`);
          }
        }
        return;
      }
      if (!role || (inputRoles && inputRoles.length !== input.dims.length)) {
        throw new SdqError('UNSUPPORTED', `${component}: input "${input.name}" axis ${axis} is dynamic ("${d}") and sdq has no rule for it: give its shapes in target.overrides["${input.name}"] = { min, opt, max }, or export the model with that dim fixed.`);
      }
      const r = roleRange(role, t);
      min.push(r.min); opt.push(r.opt); max.push(r.max);
    });
    profiles.push({ name: input.name, min, opt, max });
  }
  return { component, inputs: profiles, notes };
}

/** `sample:2x4x64x64,timestep:2` for one of min/opt/max; names with `,` or `'` cannot be written in trtexec's syntax. */
export function formatShapes(inputs: readonly InputProfile[], which: 'min' | 'opt' | 'max'): string {
  return inputs
    .map((p) => {
      if (/[,']/.test(p.name)) {
        throw new SdqError('UNSUPPORTED', `input name "${p.name}" contains "," or "'", which trtexec's --${which}Shapes syntax cannot carry: rename the input in the ONNX model.`);
      }
      return `${p.name}:${p[which].join('x')}`;
    })
    .join(',');
}
