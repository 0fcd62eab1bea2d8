// The registry: only commands whose library API exists are listed (a missing one is absent, never a stub).
import type { Command } from '../command.js';
import { inspectCommand } from './inspect.js';
import { convertCommand } from './convert.js';
import { buildCommand } from './build.js';
import { calibrateCommand } from './calibrate.js';
import { quantizeCommand } from './quantize.js';
import { generateCommand } from './generate.js';
import { benchCommand } from './bench.js';
import { fixtureCreateCommand } from './fixture.js';
import { workerCommand } from './worker.js';

export const COMMANDS: readonly Command[] = [inspectCommand, convertCommand, calibrateCommand, quantizeCommand, buildCommand, generateCommand, benchCommand, fixtureCreateCommand, workerCommand];
