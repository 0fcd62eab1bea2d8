// Entry of the worker processes tests start: `node worker.mjs <url> <work dir> <lock ms> <stalled ms>`.
import { parseQueueUrl } from '../connection.js';
import { startWorker } from '../worker.js';

const [url, workDir, lock, stalled] = process.argv.slice(2);
const worker = await startWorker(parseQueueUrl(url), {
  workDir,
  lockDurationMs: Number(lock),
  stalledIntervalMs: Number(stalled),
  log: (line) => process.stdout.write(`${line}\n`),
});
process.stdout.write(`ready ${worker.name}\n`);
process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
