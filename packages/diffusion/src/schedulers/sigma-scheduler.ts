import type { TimestepSpacing } from './config.js';
import { BaseScheduler, outputBuffer } from './scheduler.js';
import { initSigma, inputScale } from './sigmas.js';

/**
 * The Karras-style (k-diffusion) schedulers: Euler, Euler ancestral, Heun, LMS. They share how a step's input is
 * scaled (x / sqrt(sigma^2 + 1)) and the initial noise's scale (from the first sigma and the spacing), as diffusers'
 * classes do; they differ in the sigma tables and the step.
 */
export abstract class SigmaScheduler extends BaseScheduler {
  protected abstract readonly spacing: TimestepSpacing;

  override get initNoiseSigma(): number {
    return initSigma(this.sigmas as Float32Array, this.spacing);
  }

  override scaleModelInput(sample: Float32Array, timestep: number, out?: Float32Array): Float32Array {
    const denom = inputScale((this.sigmas as Float32Array)[this.currentIndex(timestep)]);
    const result = outputBuffer(sample.length, out);
    for (let i = 0; i < result.length; i++) result[i] = sample[i] / denom;
    return result;
  }
}
