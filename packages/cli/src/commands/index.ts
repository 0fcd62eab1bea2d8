// The registry: only commands whose library API exists are listed (a missing one is absent, never a stub).
import type { Command } from '../command.js';
import { inspectCommand } from './inspect.js';
import { benchCommand } from './bench.js';

export const COMMANDS: readonly Command[] = [inspectCommand, benchCommand];
