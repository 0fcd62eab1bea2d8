// sdq inspect: what is in an ONNX model or a model dir.
import * as path from 'node:path';
import { inspectPath } from '@sdq/pipeline';
import { COMMON_HELP, type Command } from '../command.js';
import { noExtraPositionals, positional } from '../usage.js';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'show inputs, outputs, ops, weights and external data of a model or model dir',
  help: `Usage: sdq inspect <model.onnx | model dir> [--json]

Reads the model without loading tensor data (fast on multi-GB models) and prints IR and
opset versions, producer, inputs and outputs with types and shapes, parameter count and
bytes per type, op histogram and external data files. For a model dir, every component.

${COMMON_HELP}

Examples:
  sdq inspect fixtures/models/shapes-sd
  sdq inspect fixtures/models/tiny-sd/unet/model.onnx --json`,
  options: {},
  async run({ positionals }, ctx) {
    noExtraPositionals(positionals, 1, 'inspect');
    const target = path.resolve(ctx.io.cwd, positional(positionals, 0, 'model.onnx | model dir', 'inspect'));
    const result = await inspectPath(target);
    if (ctx.json) ctx.printJson({ ok: true, kind: result.kind, path: result.path, report: result.report });
    else ctx.io.stdout(`${result.text}\n`);
  },
};
