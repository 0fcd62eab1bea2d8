import { SdqError } from '@sdq/quant';
import { KNOWN_SCHEDULER_KEYS, resolveSchedulerName } from './aliases.js';
import { ConfigReader, type SchedulerConfig } from './config.js';
import { DDIMScheduler } from './ddim.js';
import { DDPMScheduler } from './ddpm.js';
import { DPMSolverMultistepScheduler } from './dpm-solver.js';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral.js';
import { EulerDiscreteScheduler } from './euler.js';
import { HeunDiscreteScheduler } from './heun.js';
import { LCMScheduler } from './lcm.js';
import { LMSDiscreteScheduler } from './lms.js';
import { PNDMScheduler } from './pndm.js';
import { UniPCMultistepScheduler } from './unipc.js';
import type { Scheduler, SchedulerOptions } from './scheduler.js';

type Factory = (r: ConfigReader, options: SchedulerOptions) => Scheduler;

const FACTORIES: Readonly<Record<string, Factory>> = {
  DDIMScheduler: (r, o) => new DDIMScheduler(r, o),
  DDPMScheduler: (r, o) => new DDPMScheduler(r, o),
  PNDMScheduler: (r, o) => new PNDMScheduler(r, o),
  EulerDiscreteScheduler: (r, o) => new EulerDiscreteScheduler(r, o),
  EulerAncestralDiscreteScheduler: (r, o) => new EulerAncestralDiscreteScheduler(r, o),
  HeunDiscreteScheduler: (r, o) => new HeunDiscreteScheduler(r, o),
  LMSDiscreteScheduler: (r, o) => new LMSDiscreteScheduler(r, o),
  DPMSolverMultistepScheduler: (r, o) => new DPMSolverMultistepScheduler(r, o),
  UniPCMultistepScheduler: (r, o) => new UniPCMultistepScheduler(r, o),
  LCMScheduler: (r, o) => new LCMScheduler(r, o),
};

/** diffusers class names createScheduler understands. */
export const SCHEDULER_CLASS_NAMES: readonly string[] = Object.keys(FACTORIES);

/**
 * Builds a scheduler from a short name (`euler_a`, `dpmpp_2m_karras`, see SCHEDULER_ALIASES) or a diffusers class
 * name, on top of a model's scheduler_config.json (its beta schedule, steps_offset, prediction_type ...).
 */
export function createSchedulerByName(name: string, baseConfig: SchedulerConfig, options: SchedulerOptions = {}): Scheduler {
  const { className, overrides } = resolveSchedulerName(name);
  return createScheduler({ ...baseConfig, ...overrides }, { ...options, className });
}

/**
 * Builds a scheduler from a diffusers `scheduler_config.json` object. `_class_name` picks the class (override it with
 * `options.className`, e.g. to run an SD 1.5 PNDM config with Euler ancestral, as `Scheduler.from_config` does).
 */
export function createScheduler(config: SchedulerConfig, options: SchedulerOptions & { className?: string } = {}): Scheduler {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new SdqError('INVALID_ARGUMENT', 'scheduler config must be a JSON object (the content of scheduler/scheduler_config.json)');
  }
  const className = options.className ?? config['_class_name'];
  if (Object.keys(config).length === 0 && options.className === undefined) {
    throw new SdqError('EMPTY_INPUT', 'scheduler config is empty: it needs at least "_class_name" (e.g. "EulerDiscreteScheduler") and the beta schedule');
  }
  if (typeof className !== 'string' || className.length === 0) {
    throw new SdqError('INVALID_ARGUMENT', `scheduler config has no "_class_name"; set it to one of ${SCHEDULER_CLASS_NAMES.join(', ')}`);
  }
  const factory = FACTORIES[className];
  if (factory === undefined) {
    throw new SdqError('UNSUPPORTED', `scheduler "${className}" is not supported; supported: ${SCHEDULER_CLASS_NAMES.join(', ')}`);
  }
  const logger = options.logger ?? ((message: string) => console.warn(`[sdq/diffusion] ${message}`));
  const reader = new ConfigReader(className, config, logger, KNOWN_SCHEDULER_KEYS);
  return factory(reader, { ...options, logger });
}
