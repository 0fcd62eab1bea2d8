export { createScheduler, SCHEDULER_CLASS_NAMES } from './schedulers/create.js';
export type { Scheduler, SchedulerOptions } from './schedulers/scheduler.js';
export type { SchedulerConfig } from './schedulers/config.js';
export { SeededNoise, ReplayNoise, mulberry32 } from './random.js';
export type { NoiseSource } from './random.js';
