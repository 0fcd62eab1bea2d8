#!/usr/bin/env python3
"""onnxruntime's own quantizer (onnxruntime.quantization.quantize_static, QDQ) on a UNet, calibrated on the UNet
inputs sdq captured: the .npz that `sdq calibrate` writes (<out>/unet_inputs.npz, arrays named <input>_<index>, one
CFG batch per index). The reference that sdq's INT8 is compared with (tools/bench/ort/compare-sdxl.sh).

Defaults mirror sdq's recipe so that the comparison is of the quantizers, not of the settings: Conv and MatMul,
uint8 asymmetric activations (per tensor), int8 symmetric per-channel weights, percentile 99.999 over 2048-bin
histograms, asymmetric (onnxruntime's CalibTensorRangeSymmetric=False), Q/DQ on outputs too (onnxruntime's
default). --exclude-regex keeps nodes float by name (sdq keeps conv_in, conv_out and the time embedding float);
--const-b-matmuls-only excludes attention's activation x activation MatMuls, as sdq does (onnxruntime's own
MatMulConstBOnly option is honoured only by its QOperator format, not QDQ).

Runs with Python onnxruntime (Debian trixie's python3-onnxruntime 1.21 in the chroot of setup-trixie.sh):
  tools/bench/ort/in-chroot.sh python3 tools/bench/ort/quantize_static.py --model unet/model.onnx \
      --calibration calib/unet_inputs.npz --out ort-int8/model.onnx [--exclude-regex '(^|/)conv_in(/|$)' ...]
Prints one JSON line: nodes quantized/excluded, seconds, settings.
"""
import argparse
import json
import os
import re
import sys
import time

import numpy as np
import onnx
# Debian builds onnxruntime against the system libonnx, so onnxruntime's contrib schemas (e.g. LRN in
# com.ms.internal.nhwc) land in onnx's registry; onnx.reference, which the quantizer imports, refuses duplicate op
# names unless it builds its schema table first. onnxruntime's import also prints one "Schema error" line per schema
# registered twice: stderr is muted for that import only.
import onnx.reference  # noqa: F401  (before onnxruntime: see above)

_stderr = os.dup(2)
os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
try:
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
finally:
    os.dup2(_stderr, 2)
    os.close(_stderr)

NP_TYPES = {onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.FLOAT16: np.float16, onnx.TensorProto.INT64: np.int64, onnx.TensorProto.INT32: np.int32}


class NpzReader(CalibrationDataReader):
    """One feed per index of an sdq .npz (<input>_<index> arrays), cast to the model's input types."""

    def __init__(self, path, input_types, limit=None):
        self.npz = np.load(path)
        indices = sorted({int(k.rsplit('_', 1)[1]) for k in self.npz.files if k.rsplit('_', 1)[-1].isdigit()})
        missing = [f'{name}_{i}' for i in indices for name in input_types if f'{name}_{i}' not in self.npz.files]
        if not indices or missing:
            sys.exit(f'{path}: no <input>_<index> arrays for the model inputs {sorted(input_types)}' + (f' (missing {missing[:3]})' if missing else ''))
        self.indices = indices[:limit] if limit else indices
        self.input_types = input_types
        self.at = 0

    def get_next(self):
        if self.at >= len(self.indices):
            return None
        i = self.indices[self.at]
        self.at += 1
        return {name: self.npz[f'{name}_{i}'].astype(t) for name, t in self.input_types.items()}

    def rewind(self):
        self.at = 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--model', required=True)
    p.add_argument('--calibration', required=True, help='an .npz of <input>_<index> arrays (sdq calibrate: unet_inputs.npz)')
    p.add_argument('--out', required=True)
    p.add_argument('--method', choices=['percentile', 'minmax', 'entropy'], default='percentile')
    p.add_argument('--percentile', type=float, default=99.999)
    p.add_argument('--symmetric-activations-range', action='store_true', help="percentile over |x| (onnxruntime's default); default: asymmetric, as sdq")
    p.add_argument('--op-types', default='Conv,MatMul')
    p.add_argument('--activation-type', choices=['uint8', 'int8'], default='uint8')
    p.add_argument('--per-tensor-weights', action='store_true')
    p.add_argument('--exclude-regex', action='append', default=[], help='keep nodes whose name matches float (repeatable)')
    p.add_argument('--const-b-matmuls-only', action='store_true', help="keep MatMuls whose B is no initializer (attention's) float")
    p.add_argument('--float-matmul-outputs', action='store_true', help='no Q/DQ on MatMul outputs (OpTypesToExcludeOutputQuantization)')
    p.add_argument('--limit', type=int, help='use the first N calibration sets')
    a = p.parse_args()

    graph = onnx.load(a.model, load_external_data=False).graph
    initializers = {t.name for t in graph.initializer}
    input_types = {i.name: NP_TYPES[i.type.tensor_type.elem_type] for i in graph.input if i.name not in initializers}
    op_types = a.op_types.split(',')
    patterns = [re.compile(r) for r in a.exclude_regex]
    exclude = [n.name for n in graph.node if n.op_type in op_types and any(r.search(n.name) for r in patterns)]
    if a.const_b_matmuls_only:
        exclude += [n.name for n in graph.node if n.op_type == 'MatMul' and n.input[1] not in initializers]
    candidates = sum(1 for n in graph.node if n.op_type in op_types)
    del graph

    extra = {
        'CalibTensorRangeSymmetric': a.symmetric_activations_range,
        'ActivationSymmetric': False,
        'WeightSymmetric': True,
    }
    if a.method == 'percentile':
        extra['CalibPercentile'] = a.percentile
    if a.float_matmul_outputs:
        extra['OpTypesToExcludeOutputQuantization'] = ['MatMul']
    method = {'percentile': CalibrationMethod.Percentile, 'minmax': CalibrationMethod.MinMax, 'entropy': CalibrationMethod.Entropy}[a.method]
    reader = NpzReader(a.calibration, input_types, a.limit)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    t0 = time.time()
    quantize_static(
        a.model, a.out, reader,
        quant_format=QuantFormat.QDQ,
        op_types_to_quantize=op_types,
        per_channel=not a.per_tensor_weights,
        activation_type=QuantType.QUInt8 if a.activation_type == 'uint8' else QuantType.QInt8,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=exclude,
        use_external_data_format=True,
        calibrate_method=method,
        extra_options=extra,
    )
    print(json.dumps({
        'out': a.out, 'seconds': round(time.time() - t0, 1), 'calibrationSets': len(reader.indices), 'method': a.method,
        'percentile': a.percentile if a.method == 'percentile' else None, 'opTypes': op_types, 'candidates': candidates,
        'excluded': len(exclude), 'activationType': a.activation_type, 'perChannel': not a.per_tensor_weights,
        'floatMatMulOutputs': a.float_matmul_outputs,
    }))


if __name__ == '__main__':
    main()
