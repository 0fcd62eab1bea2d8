import { SdqError } from '@sdq/quant';
import { cosineBetas, cumprodF32, f, rescaleZeroTerminalSnr, torchLinspaceF32 } from './math.js';

/** Options whose `true` changes the sampling schedule; logged when a class ignores them. */
const INTENT_KEYS: ReadonlySet<string> = new Set([
  'use_karras_sigmas', 'use_exponential_sigmas', 'use_beta_sigmas', 'use_lu_lambdas', 'use_flow_sigmas', 'thresholding',
]);

/** The content of a model's `scheduler/scheduler_config.json` (diffusers format). */
export type SchedulerConfig = Readonly<Record<string, unknown>>;

/** Receives one line per config key that is ignored (diffusers ignores them too) or per fallback taken. */
export type SchedulerLogger = (message: string) => void;

/**
 * Reads a diffusers scheduler config the way the scheduler's `__init__` does: every option it reads has its diffusers
 * default; options this port does not implement must keep their default (else a clear error); keys no option reads are
 * reported through the logger and ignored, as diffusers does when a config written for one scheduler loads another.
 */
export class ConfigReader {
  private readonly used = new Set<string>();
  constructor(
    readonly className: string,
    private readonly raw: SchedulerConfig,
    private readonly logger: SchedulerLogger,
    /** Keys to drop without a log line (other scheduler classes' options, when the class was switched). */
    private readonly quietKeys: ReadonlySet<string> = new Set(),
  ) {}

  private value(key: string): unknown {
    this.used.add(key);
    return this.raw[key];
  }

  number(key: string, fallback: number): number {
    const v = this.value(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.bad(key, v, 'a finite number');
    return v;
  }

  optionalNumber(key: string): number | null {
    const v = this.value(key);
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.bad(key, v, 'a finite number or null');
    return v;
  }

  integer(key: string, fallback: number, min = 0): number {
    const v = this.number(key, fallback);
    if (!Number.isInteger(v) || v < min) throw this.bad(key, v, `an integer >= ${min}`);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.value(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw this.bad(key, v, 'true or false');
    return v;
  }

  choice<T extends string>(key: string, fallback: T, allowed: readonly T[]): T {
    const v = this.value(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      throw this.bad(key, v, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    }
    return v as T;
  }

  numberList(key: string): number[] | null {
    const v = this.value(key);
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw this.bad(key, v, 'a list of numbers or null');
    return v as number[];
  }

  /** An option diffusers has that this port does not implement: accepted only at its default value. */
  unsupported(key: string, defaultValue: unknown): void {
    const v = this.value(key);
    if (v === undefined || v === null || JSON.stringify(v) === JSON.stringify(defaultValue)) return;
    throw new SdqError(
      'UNSUPPORTED',
      `${this.className}: option ${key}=${JSON.stringify(v)} is not supported by @sdq/diffusion (only ${JSON.stringify(defaultValue)}); ` +
        `remove it from scheduler_config.json or pick another scheduler`,
    );
  }

  /** Dynamic thresholding (Imagen): off by default in every diffusers class that has it, and not ported. */
  thresholdingUnsupported(): void {
    this.unsupported('thresholding', false);
    this.number('dynamic_thresholding_ratio', 0.995);
    this.number('sample_max_value', 1);
  }

  /** Logs the keys nothing read (diffusers ignores them with a warning). */
  finish(): void {
    // Other classes' options are dropped quietly (as diffusers does), except sigma-schedule switches turned on:
    // they signal an intent this class does not honour.
    const ignored = Object.keys(this.raw).filter(
      (k) => !k.startsWith('_') && !this.used.has(k) && !(this.quietKeys.has(k) && !(INTENT_KEYS.has(k) && this.raw[k] === true)),
    );
    if (ignored.length > 0) {
      this.logger(`${this.className}: ignoring scheduler_config keys it does not use: ${ignored.join(', ')}`);
    }
  }

  private bad(key: string, value: unknown, expected: string): SdqError {
    return new SdqError(
      'INVALID_ARGUMENT',
      `${this.className}: scheduler_config option ${key}=${JSON.stringify(value)} is invalid; expected ${expected}`,
    );
  }
}

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';

/** The noise schedule every discrete scheduler derives from (betas, alphas, alphas_cumprod; float32 like torch). */
export interface TrainSchedule {
  readonly numTrainTimesteps: number;
  readonly betas: Float32Array;
  readonly alphasCumprod: Float32Array;
}

export interface BetaDefaults {
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  /** Whether this scheduler has `rescale_betas_zero_snr` (PNDM does not). */
  rescale: boolean;
}

/** Reads num_train_timesteps, beta_* and trained_betas and builds the float32 schedule exactly as diffusers' __init__. */
export function readTrainSchedule(r: ConfigReader, defaults: BetaDefaults): TrainSchedule & { rescaled: boolean } {
  const numTrainTimesteps = r.integer('num_train_timesteps', 1000, 1);
  const betaStart = r.number('beta_start', defaults.betaStart);
  const betaEnd = r.number('beta_end', defaults.betaEnd);
  const schedule = r.choice<BetaSchedule>('beta_schedule', defaults.betaSchedule, ['linear', 'scaled_linear', 'squaredcos_cap_v2']);
  const trained = r.numberList('trained_betas');
  const rescaled = defaults.rescale ? r.bool('rescale_betas_zero_snr', false) : false;
  let betas: Float32Array;
  if (trained !== null) {
    betas = Float32Array.from(trained);
  } else if (schedule === 'linear') {
    betas = torchLinspaceF32(betaStart, betaEnd, numTrainTimesteps);
  } else if (schedule === 'scaled_linear') {
    betas = torchLinspaceF32(betaStart ** 0.5, betaEnd ** 0.5, numTrainTimesteps).map((b) => f(b * b));
  } else {
    betas = cosineBetas(numTrainTimesteps);
  }
  if (betas.length !== numTrainTimesteps) {
    throw new SdqError('INVALID_ARGUMENT', `${r.className}: trained_betas has ${betas.length} values, num_train_timesteps is ${numTrainTimesteps}`);
  }
  if (rescaled) betas = rescaleZeroTerminalSnr(betas);
  const alphas = betas.map((b) => f(1 - b));
  return { numTrainTimesteps, betas, alphasCumprod: cumprodF32(alphas), rescaled };
}

export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';
export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';
export const SPACINGS: readonly TimestepSpacing[] = ['leading', 'trailing', 'linspace'];
/** What the model predicts, for the classes that accept all three. */
export const PREDICTION_TYPES: readonly PredictionType[] = ['epsilon', 'sample', 'v_prediction'];
