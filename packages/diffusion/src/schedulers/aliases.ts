import { SdqError } from '@sdq/quant';

/** A short scheduler name (as in `sdq generate --scheduler`) and the diffusers class + options it stands for. */
export interface SchedulerAlias {
  className: string;
  overrides: Readonly<Record<string, unknown>>;
}

/** Short names: the diffusers class and the config overrides that make e.g. "DPM++ 2M Karras". */
export const SCHEDULER_ALIASES: Readonly<Record<string, SchedulerAlias>> = {
  ddim: { className: 'DDIMScheduler', overrides: {} },
  ddim_trailing: { className: 'DDIMScheduler', overrides: { timestep_spacing: 'trailing' } },
  ddpm: { className: 'DDPMScheduler', overrides: {} },
  pndm: { className: 'PNDMScheduler', overrides: { skip_prk_steps: true } },
  plms: { className: 'PNDMScheduler', overrides: { skip_prk_steps: true } },
  euler: { className: 'EulerDiscreteScheduler', overrides: {} },
  euler_a: { className: 'EulerAncestralDiscreteScheduler', overrides: {} },
  heun: { className: 'HeunDiscreteScheduler', overrides: {} },
  lms: { className: 'LMSDiscreteScheduler', overrides: {} },
  dpmpp_2m: { className: 'DPMSolverMultistepScheduler', overrides: { algorithm_type: 'dpmsolver++', solver_order: 2 } },
  dpmpp_2m_karras: {
    className: 'DPMSolverMultistepScheduler',
    overrides: { algorithm_type: 'dpmsolver++', solver_order: 2, use_karras_sigmas: true },
  },
  unipc: { className: 'UniPCMultistepScheduler', overrides: {} },
  lcm: { className: 'LCMScheduler', overrides: {} },
};

/**
 * Config keys diffusers' schedulers define. When a config written for one scheduler class is loaded into another
 * (SD 1.5 ships a PNDM config, users pick Euler), diffusers drops the other classes' keys silently; only keys in
 * neither list are worth a log line.
 */
export const KNOWN_SCHEDULER_KEYS: ReadonlySet<string> = new Set([
  'num_train_timesteps', 'beta_start', 'beta_end', 'beta_schedule', 'trained_betas', 'clip_sample', 'clip_sample_range',
  'set_alpha_to_one', 'steps_offset', 'prediction_type', 'thresholding', 'dynamic_thresholding_ratio', 'sample_max_value',
  'timestep_spacing', 'rescale_betas_zero_snr', 'skip_prk_steps', 'variance_type', 'interpolation_type', 'use_karras_sigmas',
  'use_exponential_sigmas', 'use_beta_sigmas', 'sigma_min', 'sigma_max', 'timestep_type', 'final_sigmas_type',
  'solver_order', 'algorithm_type', 'solver_type', 'lower_order_final', 'euler_at_final', 'use_lu_lambdas',
  'use_flow_sigmas', 'flow_shift', 'lambda_min_clipped', 'use_dynamic_shifting', 'time_shift_type', 'predict_x0',
  'disable_corrector', 'solver_p', 'shift_terminal', 'original_inference_steps', 'timestep_scaling', 'sigma_data',
  'noise_sampler_seed', 's_noise', 'rho', 'sigma_schedule', 'base_shift', 'max_shift', 'shift',
]);

/** Resolves a short name or a diffusers class name. */
export function resolveSchedulerName(name: string): SchedulerAlias {
  const alias = SCHEDULER_ALIASES[name.toLowerCase()];
  if (alias !== undefined) return alias;
  if (/Scheduler$/.test(name)) return { className: name, overrides: {} };
  throw new SdqError(
    'INVALID_ARGUMENT',
    `unknown scheduler "${name}"; use one of ${Object.keys(SCHEDULER_ALIASES).join(', ')} or a diffusers class name`,
  );
}
