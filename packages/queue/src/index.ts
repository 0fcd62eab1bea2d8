// @sdq/queue public API: sdq's calibration shards on a BullMQ queue in Redis, the worker that computes them, and the
// coordinator that merges them into exactly the single-process result.
export { checkQueue, parseQueueUrl } from './connection.js';
export type { QueueAddress } from './connection.js';
export { startWorker } from './worker.js';
export type { WorkerOptions, RunningWorker } from './worker.js';
export { calibrateOnQueue } from './calibrate.js';
export type { QueueCalibrateOptions, QueueCalibrateResult } from './calibrate.js';
export { defaultShardStore } from './store.js';
export { queueCellRunner, benchCellId } from './sweep.js';
export type { BenchCellJob, CellJobCounts } from './sweep.js';
export { openShardStore } from './store.js';
export type { ShardStore } from './store.js';
