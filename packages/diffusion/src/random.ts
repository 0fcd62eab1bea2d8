import { SdqError, mulberry32 } from '@sdq/quant';

/**
 * Deterministic noise for replayable runs.
 *
 * The default generator is documented so any implementation can reproduce it:
 * mulberry32 (32-bit state, seed = the user's integer seed) gives uniforms u = next() / 2^32 in [0, 1);
 * standard normals come in pairs from Box-Muller on (u1, u2) with u1 replaced by 2^-32 when it is 0:
 *   r = sqrt(-2 ln u1), z0 = r cos(2 pi u2), z1 = r sin(2 pi u2)
 * and are consumed in order (z0, z1, z0', z1', ...). The values are computed in float64 and stored as float32.
 * It is NOT torch.randn: the same seed gives a different image than diffusers; pass `initialLatents` (and a replay
 * noise source) to reproduce a diffusers run exactly.
 */

/** Source of standard-normal noise. Schedulers and the pipeline draw from it in a fixed order, so a run can be replayed. */
export interface NoiseSource {
  /** Fills `out` with independent N(0, 1) draws. */
  fill(out: Float32Array): void;
}

/** mulberry32 is @sdq/quant's, re-exported: the same seed gives the same stream in every sdq package. */
export { mulberry32 };

/** Seeded Gaussian noise: mulberry32 uniforms through Box-Muller (see the module comment for the exact recipe). */
export class SeededNoise implements NoiseSource {
  private readonly next: () => number;
  private spare: number | null = null;
  constructor(readonly seed: number) {
    if (!Number.isInteger(seed)) throw new SdqError('INVALID_ARGUMENT', `seed must be an integer, got ${seed}`);
    this.next = mulberry32(seed);
  }

  /** One standard normal draw. */
  normal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const u1 = this.next() / 4294967296 || 2 ** -32;
    const u2 = this.next() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    this.spare = r * Math.sin(angle);
    return r * Math.cos(angle);
  }

  fill(out: Float32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.normal();
  }
}

/** Replays recorded draws in order (e.g. diffusers' torch noise); throws when they run out or a size differs. */
export class ReplayNoise implements NoiseSource {
  private index = 0;
  constructor(private readonly draws: ReadonlyArray<ArrayLike<number>>) {}

  /** How many draws were consumed so far. */
  get consumed(): number {
    return this.index;
  }

  fill(out: Float32Array): void {
    const draw = this.draws[this.index];
    if (draw === undefined) {
      throw new SdqError('INVALID_ARGUMENT', `ReplayNoise: draw ${this.index} requested but only ${this.draws.length} were recorded`);
    }
    if (draw.length !== out.length) {
      throw new SdqError('INVALID_ARGUMENT', `ReplayNoise: draw ${this.index} has ${draw.length} values, ${out.length} requested`);
    }
    for (let i = 0; i < out.length; i++) out[i] = draw[i];
    this.index++;
  }
}
