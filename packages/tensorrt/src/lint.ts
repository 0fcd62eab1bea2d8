import { inlineModelSize, isExternalTensor, tensorToTypedArray, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from '@sdq/onnx';
import { DataType, dtypeInfo } from '@sdq/quant';
import { isDynamicDim } from './profiles.js';
import { modelInputsFromModel } from './model-inputs.js';

export type LintSeverity = 'error' | 'warning' | 'info';

export type LintCode =
  | 'QDQ_NONZERO_ZERO_POINT'
  | 'QDQ_UINT8'
  | 'QDQ_SCALE_NOT_POSITIVE'
  | 'QDQ_PER_CHANNEL_ACTIVATION'
  | 'QDQ_WEIGHT_AXIS'
  | 'UNSUPPORTED_OP'
  | 'UNKNOWN_OP'
  | 'CUSTOM_OP'
  | 'UNSUPPORTED_TYPE'
  | 'LIMITED_TYPE'
  | 'DYNAMIC_DIM_WITHOUT_PROFILE'
  | 'MODEL_OVER_2GB'
  | 'UNCHECKED_VALUE';

export interface LintFinding {
  readonly code: LintCode;
  readonly severity: LintSeverity;
  /** Node name (or `<op> #<index>` when unnamed) the finding is about. */
  readonly node?: string;
  readonly tensor?: string;
  /** What is wrong and what to change. */
  readonly message: string;
}

export interface LintOptions {
  /**
   * Input names the build gives an optimization profile (e.g. `plan.profiles.map(p => p.name)`). When given, every
   * graph input with a dynamic dim must be among them; when absent, dynamic inputs are reported as warnings.
   */
  readonly profiledInputs?: readonly string[];
  /** Folder of the model file, to read external Q/DQ parameters; without it those values are reported unchecked. */
  readonly baseDir?: string;
  /** Size of the .onnx file on disk, if known (else the encoded size is computed). */
  readonly fileBytes?: number;
  /**
   * Whether the file on disk keeps its weights in external data. Default: judged from the model, which works for a
   * model read with readModel(path, { externalData: 'lazy' }); 'load' folds the data in, so say it here.
   */
  readonly externalData?: boolean;
}

/**
 * ONNX ops the TensorRT ONNX parser imports (onnx-tensorrt docs/operators.md, "Supported: Y", TensorRT 10.0 table at
 * onnx/onnx-tensorrt@96e7811). Restrictions per op (types, attributes) are not checked here.
 */
const TRT_SUPPORTED_OPS = new Set(
  ('Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool BatchNormalization Cast CastLike Ceil Celu Clip ' +
    'Concat Constant ConstantOfShape Conv ConvTranspose Cos Cosh CumSum DeformConv DepthToSpace DequantizeLinear Div Dropout ' +
    'Einsum Elu Equal Erf Exp Expand EyeLike Flatten Floor Gather GatherElements GatherND Gelu Gemm GlobalAveragePool ' +
    'GlobalLpPool GlobalMaxPool Greater GreaterOrEqual GridSample GroupNormalization GRU HardSigmoid HardSwish Hardmax ' +
    'Identity If ImageScaler InstanceNormalization IsInf IsNaN LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax ' +
    'Loop LRN LSTM LpNormalization LpPool MatMul Max MaxPool Mean MeanVarianceNormalization Min Mish Mod Mul Neg ' +
    'NonMaxSuppression NonZero Not OneHot Or Pad ParametricSoftplus Pow PRelu QuantizeLinear RandomNormal RandomNormalLike ' +
    'RandomUniform RandomUniformLike Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ' +
    'ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu Reshape Resize ReverseSequence RNN RoiAlign Round ScaledTanh Scan ' +
    'Scatter ScatterElements ScatterND Selu Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax Softplus Softsign ' +
    'SpaceToDepth Split Sqrt Squeeze Sub Sum Tan Tanh ThresholdedRelu Tile TopK Transpose Trilu Unsqueeze Upsample Where Xor').split(' '),
);

/** Ops the same table marks "Supported: N". */
const TRT_UNSUPPORTED_OPS = new Set(
  ('AffineGrid Bernoulli BitShift BitwiseAnd BitwiseNot BitwiseOr BitwiseXor BlackmanWindow Col2Im CenterCropPad Compress ' +
    'ConcatFromSequence ConvInteger DFT Det DynamicQuantizeLinear HammingWindow HannWindow ImageDecoder MatMulInteger ' +
    'MaxRoiPool MaxUnpool MelWeightMatrix Multinomial NegativeLogLikelihoodLoss Optional OptionalGetElement ' +
    'OptionalHasElement QLinearConv QLinearMatMul RegexFullMatch STFT SequenceAt SequenceConstruct SequenceEmpty ' +
    'SequenceErase SequenceInsert SequenceLength SequenceMap SoftmaxCrossEntropyLoss SplitToSequence StringConcat ' +
    'StringNormalizer StringSplit TfIdfVectorizer Unique').split(' '),
);

/** Types in the parser's list (DOUBLE, FLOAT32, FLOAT16, BFLOAT16, INT32, INT64, FP8, INT8, INT4, UINT8, BOOL). */
const TRT_TYPES = new Set<number>([
  DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16, DataType.INT32, DataType.INT64, DataType.FLOAT8E4M3FN,
  DataType.INT8, DataType.INT4, DataType.UINT8, DataType.BOOL, DataType.DOUBLE,
]);

const typeName = (t: number): string => {
  try {
    return dtypeInfo(t).name;
  } catch {
    return `type ${t}`;
  }
};

const nodeLabel = (n: NodeProto, i: number): string => (n.name ? n.name : `${n.opType ?? '?'} #${i}`);

interface GraphIndex {
  readonly constants: Map<string, TensorProto>;
  readonly initializers: Set<string>;
  readonly consumers: Map<string, NodeProto[]>;
  readonly producers: Map<string, NodeProto>;
}

function indexGraph(g: GraphProto): GraphIndex {
  const constants = new Map<string, TensorProto>();
  const initializers = new Set<string>();
  for (const t of g.initializer) {
    if (t.name) {
      constants.set(t.name, t);
      initializers.add(t.name);
    }
  }
  const consumers = new Map<string, NodeProto[]>();
  const producers = new Map<string, NodeProto>();
  for (const n of g.node) {
    if (n.opType === 'Constant' && (n.domain ?? '') === '') {
      const value = n.attribute.find((a) => a.name === 'value')?.t;
      if (value && n.output[0]) constants.set(n.output[0], value);
    }
    for (const o of n.output) producers.set(o, n);
    for (const i of n.input) {
      if (!i) continue;
      const list = consumers.get(i) ?? [];
      list.push(n);
      consumers.set(i, list);
    }
  }
  return { constants, initializers, consumers, producers };
}

function intAttr(n: NodeProto, name: string): number | undefined {
  const a = n.attribute.find((x) => x.name === name);
  return a?.i === undefined ? undefined : Number(a.i);
}

/** Whether a tensor is a weight: an initializer/Constant, possibly behind an Identity (as exporters leave them). */
function isConstantTensor(name: string, ix: GraphIndex): boolean {
  if (ix.constants.has(name)) return true;
  const p = ix.producers.get(name);
  return !!p && p.opType === 'Identity' && !!p.input[0] && ix.constants.has(p.input[0]);
}

function tensorValues(t: TensorProto, baseDir: string | undefined): ArrayLike<number | bigint> | undefined {
  if (isExternalTensor(t) && t.rawData === undefined && baseDir === undefined) return undefined;
  return tensorToTypedArray(t, baseDir) as unknown as ArrayLike<number | bigint>;
}

/** The axis TensorRT quantizes a weight along: the output-channel axis of the layer that consumes it. */
function expectedWeightAxis(consumer: NodeProto | undefined, rank: number, weightInput: number): number | undefined {
  if (!consumer) return undefined;
  switch (consumer.opType) {
    case 'Conv': return weightInput === 1 ? 0 : undefined;
    case 'ConvTranspose': return weightInput === 1 ? 1 : undefined;
    case 'Gemm': return weightInput === 1 ? ((intAttr(consumer, 'transB') ?? 0) === 1 ? 0 : 1) : undefined;
    case 'MatMul': return weightInput === 1 ? rank - 1 : undefined;
    default: return undefined;
  }
}

function lintQdq(n: NodeProto, label: string, ix: GraphIndex, findings: LintFinding[], options: LintOptions): void {
  const isQ = n.opType === 'QuantizeLinear';
  const [x, scaleName, zpName] = n.input;
  const outputDtype = intAttr(n, 'output_dtype');
  const zp = zpName ? ix.constants.get(zpName) : undefined;
  const scale = scaleName ? ix.constants.get(scaleName) : undefined;

  // Quantized type: the zero point's type, else output_dtype, else ONNX's default uint8 (QuantizeLinear);
  // for DequantizeLinear the quantized input's own type.
  const xConst = x ? ix.constants.get(x) : undefined;
  const qType = zp?.dataType ?? (isQ ? (outputDtype ?? DataType.UINT8) : xConst?.dataType);
  if (qType === DataType.UINT8) {
    findings.push({
      code: 'QDQ_UINT8', severity: 'error', node: label, tensor: zpName || x,
      message: `${n.opType} "${label}" quantizes to uint8${zpName ? '' : ' (no zero point, so ONNX\'s default uint8)'}; TensorRT quantizes to symmetric int8 only and would reinterpret it: quantize with int8 activations and weights (S8S8, zero point 0).`,
    });
  }
  if (zp) {
    const values = tensorValues(zp, options.baseDir);
    if (values === undefined) {
      findings.push({ code: 'UNCHECKED_VALUE', severity: 'info', node: label, tensor: zpName, message: `zero point "${zpName}" is in external data and no baseDir was given, so it was not checked for zeros: pass baseDir.` });
    } else if (Array.from(values as ArrayLike<number>).some((v) => Number(v) !== 0)) {
      findings.push({
        code: 'QDQ_NONZERO_ZERO_POINT', severity: 'error', node: label, tensor: zpName,
        message: `${n.opType} "${label}" has a nonzero zero point "${zpName}"; TensorRT supports symmetric quantization only: requantize with zero point 0 (symmetric ranges, int8).`,
      });
    }
  }
  if (scale && (scale.dataType === DataType.FLOAT || scale.dataType === DataType.FLOAT16 || scale.dataType === DataType.BFLOAT16)) {
    const values = scale.dataType === DataType.FLOAT ? tensorValues(scale, options.baseDir) : undefined;
    if (values !== undefined && Array.from(values as ArrayLike<number>).some((v) => !(v > 0))) {
      findings.push({
        code: 'QDQ_SCALE_NOT_POSITIVE', severity: 'error', node: label, tensor: scaleName,
        message: `${n.opType} "${label}" has a scale <= 0 or NaN in "${scaleName}"; TensorRT's parser requires all scales positive: recalibrate that tensor (a constant-zero tensor should not be quantized).`,
      });
    }
  }
  const perChannel = scale !== undefined && scale.dims.reduce((a, b) => a * b, 1) > 1;
  if (!perChannel || !x) return;
  if (!isConstantTensor(x, ix)) {
    findings.push({
      code: 'QDQ_PER_CHANNEL_ACTIVATION', severity: 'error', node: label, tensor: x,
      message: `${n.opType} "${label}" quantizes activation "${x}" per channel; TensorRT quantizes activations per tensor only: use a single scale for it.`,
    });
    return;
  }
  const weight = ix.constants.get(x) ?? ix.constants.get(ix.producers.get(x)?.input[0] ?? '');
  const rank = weight?.dims.length ?? 0;
  const rawAxis = intAttr(n, 'axis') ?? 1;
  const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
  // The dequantized weight feeds the layer; find it (through the DQ output, Q -> DQ pairs included).
  const dqOut = isQ ? ix.consumers.get(n.output[0] ?? '')?.find((c) => c.opType === 'DequantizeLinear')?.output[0] : n.output[0];
  const consumer = dqOut ? ix.consumers.get(dqOut)?.[0] : undefined;
  const expected = expectedWeightAxis(consumer, rank, consumer ? consumer.input.indexOf(dqOut ?? '') : -1);
  if (expected === undefined) {
    findings.push({
      code: 'QDQ_WEIGHT_AXIS', severity: 'warning', node: label, tensor: x,
      message: `${n.opType} "${label}" quantizes weight "${x}" per channel (axis ${axis}) for ${consumer?.opType ?? 'no'} layer; TensorRT takes per-channel weights for Conv, ConvTranspose, Gemm and MatMul only: quantize this weight per tensor.`,
    });
  } else if (axis !== expected) {
    findings.push({
      code: 'QDQ_WEIGHT_AXIS', severity: 'error', node: label, tensor: x,
      message: `${n.opType} "${label}" quantizes weight "${x}" of ${consumer?.opType} along axis ${axis}; TensorRT expects the output-channel axis ${expected} (axis 0, K of KCRS, for Conv): set axis=${expected}.`,
    });
  }
}

function lintGraph(g: GraphProto, findings: LintFinding[], options: LintOptions, where: string): void {
  const ix = indexGraph(g);
  g.node.forEach((n, i) => {
    const label = nodeLabel(n, i);
    const domain = n.domain ?? '';
    const op = n.opType ?? '';
    if (domain !== '' && domain !== 'ai.onnx') {
      findings.push({
        code: 'CUSTOM_OP', severity: 'error', node: label,
        message:
          domain === 'com.microsoft' && op === 'MultiHeadAttention'
            ? `node "${label}"${where} is com.microsoft::MultiHeadAttention, the attention sdq fuses for onnxruntime; TensorRT fuses attention itself and cannot parse this op: make the model for TensorRT without the fusion ("sdq quantize --activations int8" for INT8, "sdq convert --to fp16" without --fuse-attention for FP16).`
            : `node "${label}"${where} is ${domain}::${op}, not a standard ONNX op; TensorRT needs a plugin for it: export without ${domain} ops (e.g. skip onnxruntime's graph optimizations) or provide a TensorRT plugin.`,
      });
    } else if (TRT_UNSUPPORTED_OPS.has(op)) {
      findings.push({
        code: 'UNSUPPORTED_OP', severity: 'error', node: label,
        message: `node "${label}"${where} is ${op}, which TensorRT's ONNX parser does not import: rewrite it with supported ops${op.startsWith('QLinear') || op.endsWith('Integer') ? ' (use QDQ format: QuantizeLinear/DequantizeLinear around float ops)' : ''}.`,
      });
    } else if (!TRT_SUPPORTED_OPS.has(op)) {
      findings.push({
        code: 'UNKNOWN_OP', severity: 'warning', node: label,
        message: `node "${label}"${where} is ${op}, which is not in TensorRT 10.0's ONNX operator table: check the operator table of your TensorRT release.`,
      });
    }
    if (op === 'QuantizeLinear' || op === 'DequantizeLinear') lintQdq(n, label, ix, findings, options);
    for (const a of n.attribute) {
      if (a.g) lintGraph(a.g, findings, options, ` (in a subgraph of "${label}")`);
      for (const sub of a.graphs) lintGraph(sub, findings, options, ` (in a subgraph of "${label}")`);
    }
  });
}

function lintTypes(g: GraphProto, findings: LintFinding[]): void {
  const io = new Set([...g.input, ...g.output].map((v) => v.name));
  const seen = new Set<string>();
  const check = (name: string | undefined, type: number | undefined, what: string): void => {
    if (type === undefined || type === DataType.UNDEFINED || !name || seen.has(name)) return;
    seen.add(name);
    if (type === DataType.DOUBLE) {
      findings.push({ code: 'LIMITED_TYPE', severity: 'warning', tensor: name, message: `${what} "${name}" is double; TensorRT casts double down to float (clamping at +-FLT_MAX): export it as float32.` });
    } else if (type === DataType.UINT8 && what !== 'initializer' && !io.has(name)) {
      findings.push({ code: 'LIMITED_TYPE', severity: 'warning', tensor: name, message: `${what} "${name}" is uint8; TensorRT takes uint8 only as a network input or output: use int8 (QDQ) or float inside the network.` });
    } else if (!TRT_TYPES.has(type)) {
      findings.push({ code: 'UNSUPPORTED_TYPE', severity: 'error', tensor: name, message: `${what} "${name}" is ${typeName(type)}, a type TensorRT does not support: cast it to float32/float16/int32/int64 in the export.` });
    }
  };
  for (const v of g.input) check(v.name, v.type?.tensorType?.elemType, 'input');
  for (const v of g.output) check(v.name, v.type?.tensorType?.elemType, 'output');
  for (const v of g.valueInfo) check(v.name, v.type?.tensorType?.elemType, 'tensor');
  for (const t of g.initializer) check(t.name, t.dataType, 'initializer');
}

const TWO_GIB = 2 ** 31;

/**
 * Checks an ONNX model against what TensorRT's ONNX parser and builder take, before a (long) build:
 * Q/DQ form (symmetric int8, positive scales, per-tensor activations, per-channel weights on the output-channel
 * axis), ops and types, dynamic dims without a profile, and a model over 2 GB without external data.
 * Pure apart from reading external Q/DQ parameters when `baseDir` is given. Returns findings, errors first.
 */
export function lintForTensorRT(model: ModelProto, options: LintOptions = {}): LintFinding[] {
  const findings: LintFinding[] = [];
  const g = model.graph;
  if (!g) return [{ code: 'UNSUPPORTED_OP', severity: 'error', message: 'the model has no graph: export the model again.' }];
  lintGraph(g, findings, options, '');
  lintTypes(g, findings);

  for (const input of modelInputsFromModel(model)) {
    const dynamic = input.dims.map((d, axis) => (isDynamicDim(d) ? `${axis}:"${d}"` : '')).filter(Boolean);
    if (dynamic.length === 0) continue;
    if (options.profiledInputs === undefined) {
      findings.push({ code: 'DYNAMIC_DIM_WITHOUT_PROFILE', severity: 'warning', tensor: input.name, message: `input "${input.name}" has dynamic dims (${dynamic.join(', ')}); the build needs min/opt/max shapes for it (planEngines derives them for known SD inputs; otherwise pass target.overrides).` });
    } else if (!options.profiledInputs.includes(input.name)) {
      findings.push({ code: 'DYNAMIC_DIM_WITHOUT_PROFILE', severity: 'error', tensor: input.name, message: `input "${input.name}" has dynamic dims (${dynamic.join(', ')}) but no optimization profile; trtexec would fix those dims at 1 with only a warning: give it shapes (target.overrides["${input.name}"]) or fix the dims in the export.` });
    }
  }

  let external = options.externalData ?? false;
  if (options.externalData === undefined) for (const t of g.initializer) if (isExternalTensor(t)) external = true;
  if (!external) {
    const size = options.fileBytes ?? inlineModelSize(model);
    if (size >= TWO_GIB) {
      findings.push({ code: 'MODEL_OVER_2GB', severity: 'error', message: `the model is ${(size / 2 ** 30).toFixed(2)} GiB with every weight inline; protobuf (and TensorRT's parser) cannot read a file over 2 GB: save it with external data (writeModel(model, path, { externalData: true })).` });
    }
  }
  const rank: Record<LintSeverity, number> = { error: 0, warning: 1, info: 2 };
  return findings.sort((a, b) => rank[a.severity] - rank[b.severity]);
}
