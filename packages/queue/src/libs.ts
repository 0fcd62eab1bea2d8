// BullMQ and ioredis, loaded with require. Both are CommonJS to Node (bullmq's package.json has no "exports", so an
// ESM import takes its CJS build), and an ESM import of CommonJS runs Node's export lexer over every file it
// re-exports: 0.7-1.0 s against 0.5 s with require on this 2-core machine, paid by every coordinator run and worker
// start (tools/bench/queue). Types come from the packages as usual.
import { createRequire } from 'node:module';

const requireCjs = createRequire(import.meta.url);

export const { Queue, QueueEvents, Worker, UnrecoverableError } = requireCjs('bullmq') as typeof import('bullmq');
export const { Redis } = requireCjs('ioredis') as typeof import('ioredis');
export type Queue = import('bullmq').Queue;
export type QueueEvents = import('bullmq').QueueEvents;
export type Worker = import('bullmq').Worker;
export type Redis = import('ioredis').Redis;
export type { Job } from 'bullmq';
