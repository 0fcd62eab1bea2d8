// sdq quantize: INT8 QDQ UNet (or model dir with an INT8 UNet) from calibration data.
import * as path from 'node:path';
import { quantizePath, formatBytes } from '@sdq/pipeline';
import { COMMON_HELP, type Command } from '../command.js';
import { choiceOption, intOption, listOption, noExtraPositionals, positional, requireString, UsageError } from '../usage.js';

export const quantizeCommand: Command = {
  name: 'quantize',
  summary: 'INT8 QDQ UNet (or model dir) from calibration data',
  help: `Usage: sdq quantize <in> <out> --calibration <dir | ranges.json> [--per-channel] [--exclude <node-or-op>,...]

<in>/<out>: a UNet .onnx file each, or model dirs (the UNet is quantized, the text encoder and
VAE decoder stay FP32, tokenizer/scheduler/configs are copied; the dir records what it is in
sdq-made-from.json, which "sdq build" reads). With a dir from "sdq calibrate" and no options
this is the INT8 recipe of "sdq bench". The layout is @sdq/calib's default INT8 UNet policy: Conv and weight MatMuls quantized (attention's activation x
activation MatMuls stay float), Q/DQ on their outputs so onnxruntime fuses QLinearConv,
uint8 activations, int8 per-channel weights, int32 biases; conv_in, conv_out and the time
embedding stay float (from 512x512 calibration images up, MatMul outputs stay float too, the
FAST layout). SDXL dirs (model_index.json) get the SDXL recipe: the FAST layout of their
128x128 latents at any calibration size, and every conv_shortcut and add_embedding float too,
as NVIDIA ModelOpt's SDXL INT8 recipe keeps them. With uint8 activations each attention also becomes onnxruntime's
MultiHeadAttention (tiled attention on CPU); --activations int8 (TensorRT) keeps plain ops.
Output appears complete or not at all.

Options:
  --calibration P       the --out dir of "sdq calibrate", an .npz of UNet inputs, or a ranges .json (required)
  --per-channel         per-output-channel weight scales (the default; --per-tensor turns it off)
  --per-tensor          one scale per weight tensor
  --exclude LIST        node names or op types (Conv, MatMul, Gemm) to keep in float
  --activations T       uint8 (default, onnxruntime CPU) or int8 (zero point 0, for TensorRT)
  --method M            recalibrate from the dir's unet_inputs.npz with percentile, minmax or
                        entropy (as "sdq calibrate --method"); default: the ranges.json that
                        "sdq calibrate" computed (percentile unless it was given another
                        --method); an .npz is calibrated with percentile
  --threads N           onnxruntime intra-op threads (default 2)

${COMMON_HELP}

Examples:
  sdq quantize fixtures/models/shapes-sd out/shapes-int8 --calibration out/calib
  sdq quantize unet/model.onnx unet-int8.onnx --calibration out/calib/ranges.json --exclude MatMul --activations int8`,
  options: {
    calibration: { type: 'string' }, 'per-channel': { type: 'boolean' }, 'per-tensor': { type: 'boolean' }, exclude: { type: 'string' },
    activations: { type: 'string' }, method: { type: 'string' }, threads: { type: 'string' },
  },
  async run({ values, positionals }, ctx) {
    const name = 'quantize';
    noExtraPositionals(positionals, 2, name);
    const input = path.resolve(ctx.io.cwd, positional(positionals, 0, 'in', name));
    const output = path.resolve(ctx.io.cwd, positional(positionals, 1, 'out', name));
    if (input === output) throw new UsageError('<out> must differ from <in>', name);
    ctx.writesTo(output);
    if (values['per-channel'] && values['per-tensor']) throw new UsageError('--per-channel and --per-tensor exclude each other', name);
    const r = await quantizePath(input, output, {
      calibration: path.resolve(ctx.io.cwd, requireString(values, 'calibration', name)),
      perChannel: values['per-tensor'] ? false : values['per-channel'] ? true : undefined,
      exclude: listOption(values, 'exclude'),
      activationType: choiceOption(values, 'activations', ['uint8', 'int8'] as const, name),
      method: choiceOption(values, 'method', ['minmax', 'percentile', 'entropy'] as const, name),
      threads: intOption(values, 'threads', name, 1),
      onProgress: ctx.progress,
    });
    if (ctx.json) ctx.printJson({ ok: true, ...r });
    else ctx.io.stdout(`${r.output}: INT8 ${r.kind}, ${r.quantizedNodes} nodes quantized, ${r.skippedNodes} kept in float, ${formatBytes(r.bytesIn)} -> ${formatBytes(r.bytesOut)} in ${(r.ms / 1000).toFixed(1)} s\n`);
  },
};
