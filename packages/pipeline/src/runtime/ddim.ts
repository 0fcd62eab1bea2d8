// DDIM (eta = 0) as diffusers' DDIMScheduler computes it, for the built-in generator.
// Reference: diffusers schedulers/scheduling_ddim.py (set_timesteps "leading"/"trailing"/"linspace", step()).
import { SdqError } from '@sdq/quant';

export interface DdimConfig {
  num_train_timesteps?: number;
  beta_start?: number;
  beta_end?: number;
  beta_schedule?: string;
  set_alpha_to_one?: boolean;
  steps_offset?: number;
  prediction_type?: string;
  timestep_spacing?: string;
}

export class Ddim {
  private readonly alphasCumprod: Float64Array;
  private readonly finalAlphaCumprod: number;
  private readonly trainSteps: number;
  timesteps: number[] = [];
  private stepRatio = 0;
  readonly initNoiseSigma = 1;

  constructor(private readonly config: DdimConfig) {
    const n = config.num_train_timesteps ?? 1000;
    const b0 = config.beta_start ?? 0.00085;
    const b1 = config.beta_end ?? 0.012;
    const schedule = config.beta_schedule ?? 'scaled_linear';
    if (schedule !== 'scaled_linear' && schedule !== 'linear') {
      throw new SdqError('UNSUPPORTED', `beta_schedule "${schedule}" is not supported by the built-in DDIM; use scaled_linear or linear`);
    }
    if ((config.prediction_type ?? 'epsilon') !== 'epsilon') {
      throw new SdqError('UNSUPPORTED', `prediction_type "${config.prediction_type}" is not supported by the built-in DDIM; use an epsilon model`);
    }
    this.trainSteps = n;
    this.alphasCumprod = new Float64Array(n);
    let acc = 1;
    for (let i = 0; i < n; i++) {
      const beta = schedule === 'linear' ? b0 + ((b1 - b0) * i) / (n - 1) : (Math.sqrt(b0) + ((Math.sqrt(b1) - Math.sqrt(b0)) * i) / (n - 1)) ** 2;
      // diffusers computes betas in float32 and cumprod in float32: keep that rounding.
      acc = Math.fround(acc * Math.fround(1 - Math.fround(beta)));
      this.alphasCumprod[i] = acc;
    }
    this.finalAlphaCumprod = config.set_alpha_to_one ? 1 : this.alphasCumprod[0];
  }

  setTimesteps(steps: number): void {
    const n = this.trainSteps;
    const spacing = this.config.timestep_spacing ?? 'leading';
    const offset = this.config.steps_offset ?? 0;
    if (spacing === 'leading') {
      this.stepRatio = Math.floor(n / steps);
      this.timesteps = Array.from({ length: steps }, (_, i) => Math.round(i * this.stepRatio) + offset).reverse();
    } else if (spacing === 'trailing') {
      this.stepRatio = n / steps;
      this.timesteps = Array.from({ length: steps }, (_, i) => Math.round(n - i * this.stepRatio) - 1);
    } else {
      throw new SdqError('UNSUPPORTED', `timestep_spacing "${spacing}" is not supported by the built-in DDIM; use leading or trailing`);
    }
  }

  /** x_{t-1} from x_t and the predicted noise (eta = 0). */
  step(eps: Float32Array, t: number, x: Float32Array): Float32Array {
    const prev = t - Math.floor(this.trainSteps / this.timesteps.length);
    const at = this.alphasCumprod[t];
    const ap = prev >= 0 ? this.alphasCumprod[prev] : this.finalAlphaCumprod;
    const sa = Math.sqrt(at);
    const s1a = Math.sqrt(1 - at);
    const sp = Math.sqrt(ap);
    const s1p = Math.sqrt(1 - ap);
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const x0 = (x[i] - s1a * eps[i]) / sa;
      out[i] = sp * x0 + s1p * eps[i];
    }
    return out;
  }
}
