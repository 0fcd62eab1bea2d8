// Where the queue lives: a redis:// URL, checked once up front so a wrong address is one line, not a reconnect loop.
import { Redis } from './libs.js';
import { SdqError } from '@sdq/quant';

/** Connection settings of a queue URL (redis://[user:password@]host:port[/db]), as BullMQ and ioredis take them. */
export interface QueueAddress {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  readonly db: number;
  /** The URL without its password, for messages. */
  readonly display: string;
}

export function parseQueueUrl(url: string): QueueAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SdqError('QUEUE_ERROR', `--queue "${url}" is not a URL; use redis://host:port (e.g. redis://127.0.0.1:6379)`);
  }
  if (u.protocol !== 'redis:') throw new SdqError('QUEUE_ERROR', `--queue "${url}": only redis://host:port is supported (got ${u.protocol}//)`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbPart = u.pathname.replace(/^\//, '');
  const db = dbPart === '' ? 0 : Number(dbPart);
  if (!u.hostname || !Number.isInteger(db) || db < 0) throw new SdqError('QUEUE_ERROR', `--queue "${url}": expected redis://host:port[/db]`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db,
    display: `redis://${u.host}${db ? `/${db}` : ''}`,
  };
}

/** ioredis options for BullMQ: blocking commands wait through reconnects (a Redis restart mid-run resumes). */
export function bullConnection(address: QueueAddress): { host: string; port: number; username?: string; password?: string; db: number; maxRetriesPerRequest: null } {
  return { host: address.host, port: address.port, username: address.username, password: address.password, db: address.db, maxRetriesPerRequest: null };
}

/**
 * One PING without retries, so an unreachable or wrong address fails in seconds with one line (BullMQ itself would
 * retry forever). Returns the parsed address for the queue's connections.
 */
export async function checkQueue(url: string, timeoutMs = 3000): Promise<QueueAddress> {
  const address = parseQueueUrl(url);
  const client = new Redis({
    ...bullConnection(address), maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, disconnectTimeout: 0, lazyConnect: true, enableOfflineQueue: false,
  });
  let reason: string | undefined;
  client.on('error', (e: Error) => {
    reason ??= e.message;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    const why = reason ?? (e as Error).message;
    throw new SdqError('QUEUE_ERROR', `cannot reach Redis at ${address.display}: ${why}; start redis-server there or fix --queue`, { cause: e });
  } finally {
    client.disconnect();
  }
  return address;
}
