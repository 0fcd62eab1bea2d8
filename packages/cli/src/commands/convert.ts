// sdq convert: FP16 model or model dir.
import * as path from 'node:path';
import { convertPath, formatBytes } from '@sdq/pipeline';
import { COMMON_HELP, type Command } from '../command.js';
import { choiceOption, listOption, noExtraPositionals, positional, UsageError } from '../usage.js';

export const convertCommand: Command = {
  name: 'convert',
  summary: 'convert a model or model dir to FP16 (or fuse its attention for onnxruntime)',
  help: `Usage: sdq convert <in> <out> --to fp16 [--keep-io-types] [--block-ops Op,...] [--fuse-attention]
       sdq convert <in> <out> --to fp32 --fuse-attention
       sdq convert <in> <out> --to int8-weights

<in>/<out> are both .onnx files or both model dirs. Weights and activations become float16
except for ops on the block list (onnxruntime's default list; --block-ops adds to it), with
Cast nodes at every float32/float16 boundary. A model dir keeps float32 inputs and outputs
(pipelines feed float32) and gets its tokenizer/scheduler/configs copied.
The output appears complete or not at all.

Options:
  --to fp16|fp32|int8-weights
                        target precision (required); fp32 only with --fuse-attention: the same
                        weights, attention as MultiHeadAttention (SD 1.5 UNet step 13.9 -> 8.7 s here);
                        int8-weights: weight-only INT8 over FP16 (W8A16, attention fused), no calibration:
                        Conv/MatMul/Gemm weights int8 per channel behind DequantizeLinear, about half
                        the FP16 size. The quantized form that runs on the GPU (--device webgpu): the
                        QDQ models of "sdq quantize" run their QuantizeLinear/QLinear ops on the CPU there
  --keep-io-types       keep float32 graph inputs/outputs (always on for model dirs)
  --block-ops LIST      extra op types to keep in float32, e.g. Resize,InstanceNormalization
  --fuse-attention      turn each attention into onnxruntime's MultiHeadAttention (tiled, float16
                        on CPU): much faster on onnxruntime, but TensorRT cannot parse it. "sdq bench"
                        makes its FP16 dir this way; without the flag the ops stay standard ONNX

${COMMON_HELP}

Examples:
  sdq convert fixtures/models/shapes-sd out/shapes-sd-fp16 --to fp16
  sdq convert unet/model.onnx unet-fp16.onnx --to fp16 --keep-io-types
  sdq convert my-sd15 my-sd15-fused --to fp32 --fuse-attention
  sdq convert my-sd15 my-sd15-w8 --to int8-weights`,
  options: { to: { type: 'string' }, 'keep-io-types': { type: 'boolean' }, 'block-ops': { type: 'string' }, 'fuse-attention': { type: 'boolean' } },
  async run({ values, positionals }, ctx) {
    const name = 'convert';
    noExtraPositionals(positionals, 2, name);
    const input = path.resolve(ctx.io.cwd, positional(positionals, 0, 'in', name));
    const output = path.resolve(ctx.io.cwd, positional(positionals, 1, 'out', name));
    const to = choiceOption(values, 'to', ['fp16', 'fp32', 'int8-weights'] as const, name);
    if (!to) throw new UsageError('missing --to fp16 (or --to fp32 --fuse-attention, or --to int8-weights)', name);
    if (to === 'fp32' && values['fuse-attention'] !== true) throw new UsageError('--to fp32 changes nothing by itself; add --fuse-attention', name);
    if (input === output) throw new UsageError('<out> must differ from <in>', name);
    ctx.writesTo(output);
    const r = await convertPath(input, output, {
      to,
      keepIoTypes: values['keep-io-types'] === true ? true : undefined,
      fuseAttention: values['fuse-attention'] === true,
      blockOps: listOption(values, 'block-ops'),
      onProgress: ctx.progress,
    });
    if (ctx.json) ctx.printJson({ ok: true, ...r });
    else {
      const fused = r.fusedAttention !== undefined ? `, ${r.fusedAttention} attention blocks fused` : '';
      ctx.io.stdout(`${r.output}: ${to === 'int8-weights' ? 'weight-only INT8 (W8A16)' : to.toUpperCase()} ${r.kind}${fused}, ${formatBytes(r.bytesIn)} -> ${formatBytes(r.bytesOut)} in ${(r.ms / 1000).toFixed(1)} s\n`);
    }
  },
};
