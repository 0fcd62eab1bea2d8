// Test helpers of @sdq/queue that other packages' tests use (the CLI's): a real redis-server on a loopback port.
export { startRedis, freePort } from './redis.js';
export type { TestRedis } from './redis.js';
