/**
 * The in-memory ONNX model: plain objects mirroring onnx.proto (ONNX 1.20, IR 11) field for field,
 * in protobufjs's camelCase naming. This is the contract every pass, the builder and the codec share.
 *
 * Conventions:
 * - int64 values that are sizes or counts (dims, irVersion, opset version, dimValue) are `number`
 *   (they never pass 2^53 in a real model); int64 *data* (attribute `i`/`ints`, `int64Data`) is `Int64`:
 *   a `number` when it is a safe integer, otherwise a `bigint`, so INT64_MAX survives a round trip.
 * - repeated fields are always arrays (empty when absent); optional scalars are `undefined` when absent.
 *   Presence matters for byte-exact round trips, so the codec writes a scalar only when it is defined.
 * - bytes are `Uint8Array` views; for large tensors they may be views into the model file's buffer.
 * - `unknownFields` keeps the raw bytes of fields this schema does not know, re-emitted on encode.
 */
export type Int64 = number | bigint;

export interface UnknownFields {
  /** Raw tag+value bytes of fields not in the schema, in the order they were read. */
  unknownFields?: Uint8Array[];
}

export interface StringStringEntryProto extends UnknownFields {
  key?: string;
  value?: string;
}

export interface OperatorSetIdProto extends UnknownFields {
  domain?: string;
  version?: number;
}

export enum AttributeType {
  UNDEFINED = 0,
  FLOAT = 1,
  INT = 2,
  STRING = 3,
  TENSOR = 4,
  GRAPH = 5,
  SPARSE_TENSOR = 11,
  TYPE_PROTO = 13,
  FLOATS = 6,
  INTS = 7,
  STRINGS = 8,
  TENSORS = 9,
  GRAPHS = 10,
  SPARSE_TENSORS = 12,
  TYPE_PROTOS = 14,
}

export interface AttributeProto extends UnknownFields {
  name?: string;
  refAttrName?: string;
  docString?: string;
  type?: AttributeType;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  sparseTensor?: SparseTensorProto;
  tp?: TypeProto;
  floats: number[];
  ints: Int64[];
  strings: Uint8Array[];
  tensors: TensorProto[];
  graphs: GraphProto[];
  sparseTensors: SparseTensorProto[];
  typeProtos: TypeProto[];
}

export interface ValueInfoProto extends UnknownFields {
  name?: string;
  type?: TypeProto;
  docString?: string;
  metadataProps: StringStringEntryProto[];
}

export interface NodeDeviceConfigurationProto extends UnknownFields {
  configurationId?: string;
  shardingSpec: ShardingSpecProto[];
  pipelineStage?: number;
}

export interface ShardingSpecProto extends UnknownFields {
  tensorName?: string;
  device: Int64[];
  indexToDeviceGroupMap: IntIntListEntryProto[];
  shardedDim: ShardedDimProto[];
}

export interface IntIntListEntryProto extends UnknownFields {
  key?: Int64;
  value: Int64[];
}

export interface ShardedDimProto extends UnknownFields {
  axis?: Int64;
  simpleSharding: SimpleShardedDimProto[];
}

export interface SimpleShardedDimProto extends UnknownFields {
  dimValue?: Int64;
  dimParam?: string;
  numShards?: Int64;
}

export interface NodeProto extends UnknownFields {
  input: string[];
  output: string[];
  name?: string;
  opType?: string;
  domain?: string;
  overload?: string;
  attribute: AttributeProto[];
  docString?: string;
  metadataProps: StringStringEntryProto[];
  deviceConfigurations: NodeDeviceConfigurationProto[];
}

export interface TrainingInfoProto extends UnknownFields {
  initialization?: GraphProto;
  algorithm?: GraphProto;
  initializationBinding: StringStringEntryProto[];
  updateBinding: StringStringEntryProto[];
}

export interface DeviceConfigurationProto extends UnknownFields {
  name?: string;
  numDevices?: number;
  device: string[];
}

export interface ModelProto extends UnknownFields {
  irVersion?: number;
  opsetImport: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphProto;
  metadataProps: StringStringEntryProto[];
  trainingInfo: TrainingInfoProto[];
  functions: FunctionProto[];
  configuration: DeviceConfigurationProto[];
}

export interface TensorAnnotation extends UnknownFields {
  tensorName?: string;
  quantParameterTensorNames: StringStringEntryProto[];
}

export interface GraphProto extends UnknownFields {
  node: NodeProto[];
  name?: string;
  initializer: TensorProto[];
  sparseInitializer: SparseTensorProto[];
  docString?: string;
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
  quantizationAnnotation: TensorAnnotation[];
  metadataProps: StringStringEntryProto[];
}

export enum DataLocation {
  DEFAULT = 0,
  EXTERNAL = 1,
}

export interface TensorSegment extends UnknownFields {
  begin?: Int64;
  end?: Int64;
}

export interface TensorProto extends UnknownFields {
  dims: number[];
  /** ONNX TensorProto.DataType; see `DataType` and the dtype table in @sdq/quant. */
  dataType?: number;
  segment?: TensorSegment;
  floatData: number[];
  int32Data: number[];
  stringData: Uint8Array[];
  int64Data: Int64[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  externalData: StringStringEntryProto[];
  dataLocation?: DataLocation;
  doubleData: number[];
  uint64Data: Int64[];
  metadataProps: StringStringEntryProto[];
}

export interface SparseTensorProto extends UnknownFields {
  values?: TensorProto;
  indices?: TensorProto;
  dims: number[];
}

export interface TensorShapeDimension extends UnknownFields {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
}

export interface TensorShapeProto extends UnknownFields {
  dim: TensorShapeDimension[];
}

export interface TypeProtoTensor extends UnknownFields {
  elemType?: number;
  shape?: TensorShapeProto;
}

export interface TypeProtoSequence extends UnknownFields {
  elemType?: TypeProto;
}

export interface TypeProtoMap extends UnknownFields {
  keyType?: number;
  valueType?: TypeProto;
}

export interface TypeProtoOptional extends UnknownFields {
  elemType?: TypeProto;
}

export interface TypeProtoSparseTensor extends UnknownFields {
  elemType?: number;
  shape?: TensorShapeProto;
}

export interface TypeProtoOpaque extends UnknownFields {
  domain?: string;
  name?: string;
}

export interface TypeProto extends UnknownFields {
  tensorType?: TypeProtoTensor;
  sequenceType?: TypeProtoSequence;
  mapType?: TypeProtoMap;
  optionalType?: TypeProtoOptional;
  sparseTensorType?: TypeProtoSparseTensor;
  opaqueType?: TypeProtoOpaque;
  denotation?: string;
}

export interface FunctionProto extends UnknownFields {
  name?: string;
  input: string[];
  output: string[];
  attribute: string[];
  attributeProto: AttributeProto[];
  node: NodeProto[];
  docString?: string;
  opsetImport: OperatorSetIdProto[];
  domain?: string;
  overload?: string;
  valueInfo: ValueInfoProto[];
  metadataProps: StringStringEntryProto[];
}
