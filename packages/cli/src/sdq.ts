// The `sdq` executable.
import { runCli } from './main.js';
import { processIo } from './io.js';

const code = await runCli(process.argv.slice(2), processIo());
// The command is done: end once stdout and stderr have flushed, not when libraries' leftover timers run out
// (ioredis's reply parser keeps a 50 ms buffer-shrinking interval alive for about a second after a large reply,
// which was a second on every `sdq calibrate --queue` of a histogram method).
process.exitCode = code;
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
