/**
 * The ONNX protobuf schema as a field table (onnx/onnx.proto, ONNX main 2026-08 = 1.23 dev, IR 14; a superset of
 * ONNX 1.20). Field numbers, scalar kinds and `[packed = true]` are copied from onnx.proto; onnx.proto is proto2, so
 * every other repeated scalar (dims, ints, floats, ...) is written unpacked, one tag per element, as ONNX's C++
 * serializer does. The codec (codec.ts) is driven by this table.
 */

/**
 * How a field's value is stored on the wire and in JS:
 * - `int64n`: int64 varint held as `number` (sizes, counts, versions; must be a safe integer)
 * - `int64`: int64 varint held as `Int64` (number when safe, else bigint)
 * - `uint64`: uint64 varint held as `Int64` (number when safe, else bigint)
 * - `int32`: int32/enum varint (negative values are sign-extended to 10 bytes, as protobuf does)
 * - `float` / `double`: fixed32 / fixed64
 * - `string`: UTF-8 length-delimited; `bytes`: length-delimited `Uint8Array` view
 * - `message`: nested message (length-delimited)
 */
export type FieldKind = 'int64n' | 'int64' | 'uint64' | 'int32' | 'float' | 'double' | 'string' | 'bytes' | 'message';

export interface FieldSpec {
  readonly no: number;
  /** Property name in the TS model (protobufjs camelCase). */
  readonly name: string;
  readonly kind: FieldKind;
  readonly repeated: boolean;
  /** Written packed (only where onnx.proto says `[packed = true]`); decode accepts both forms for any scalar. */
  readonly packed: boolean;
  /** Message type name for `message` fields. */
  readonly type?: string;
  /** Wire type the field uses when written unpacked (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32). */
  readonly wireType: number;
}

export interface MessageSpec {
  readonly name: string;
  /** Fields in field-number order (the order ONNX's C++ serializer writes them). */
  readonly fields: readonly FieldSpec[];
  /** fieldsByNo[n] is the spec of field number n (sparse). */
  readonly fieldsByNo: readonly (FieldSpec | undefined)[];
}

const wireTypeOf = (kind: FieldKind): number => {
  switch (kind) {
    case 'float':
      return 5;
    case 'double':
      return 1;
    case 'string':
    case 'bytes':
    case 'message':
      return 2;
    default:
      return 0;
  }
};

type FieldRow = [no: number, name: string, kind: FieldKind, label?: 'repeated' | 'packed', type?: string];

const f = (no: number, name: string, kind: FieldKind, label?: 'repeated' | 'packed', type?: string): FieldRow => [no, name, kind, label, type];
const m = (no: number, name: string, type: string, label?: 'repeated'): FieldRow => [no, name, 'message', label, type];

const ROWS: Record<string, FieldRow[]> = {
  AttributeProto: [
    f(1, 'name', 'string'),
    f(2, 'f', 'float'),
    f(3, 'i', 'int64'),
    f(4, 's', 'bytes'),
    m(5, 't', 'TensorProto'),
    m(6, 'g', 'GraphProto'),
    f(7, 'floats', 'float', 'repeated'),
    f(8, 'ints', 'int64', 'repeated'),
    f(9, 'strings', 'bytes', 'repeated'),
    m(10, 'tensors', 'TensorProto', 'repeated'),
    m(11, 'graphs', 'GraphProto', 'repeated'),
    f(13, 'docString', 'string'),
    m(14, 'tp', 'TypeProto'),
    m(15, 'typeProtos', 'TypeProto', 'repeated'),
    f(20, 'type', 'int32'),
    f(21, 'refAttrName', 'string'),
    m(22, 'sparseTensor', 'SparseTensorProto'),
    m(23, 'sparseTensors', 'SparseTensorProto', 'repeated'),
  ],
  ValueInfoProto: [
    f(1, 'name', 'string'),
    m(2, 'type', 'TypeProto'),
    f(3, 'docString', 'string'),
    m(4, 'metadataProps', 'StringStringEntryProto', 'repeated'),
  ],
  NodeProto: [
    f(1, 'input', 'string', 'repeated'),
    f(2, 'output', 'string', 'repeated'),
    f(3, 'name', 'string'),
    f(4, 'opType', 'string'),
    m(5, 'attribute', 'AttributeProto', 'repeated'),
    f(6, 'docString', 'string'),
    f(7, 'domain', 'string'),
    f(8, 'overload', 'string'),
    m(9, 'metadataProps', 'StringStringEntryProto', 'repeated'),
    m(10, 'deviceConfigurations', 'NodeDeviceConfigurationProto', 'repeated'),
  ],
  IntIntListEntryProto: [f(1, 'key', 'int64'), f(2, 'value', 'int64', 'repeated')],
  NodeDeviceConfigurationProto: [
    f(1, 'configurationId', 'string'),
    m(2, 'shardingSpec', 'ShardingSpecProto', 'repeated'),
    f(3, 'pipelineStage', 'int32'),
  ],
  ShardingSpecProto: [
    f(1, 'tensorName', 'string'),
    f(2, 'device', 'int64', 'repeated'),
    m(3, 'indexToDeviceGroupMap', 'IntIntListEntryProto', 'repeated'),
    m(4, 'shardedDim', 'ShardedDimProto', 'repeated'),
  ],
  ShardedDimProto: [f(1, 'axis', 'int64'), m(2, 'simpleSharding', 'SimpleShardedDimProto', 'repeated')],
  SimpleShardedDimProto: [f(1, 'dimValue', 'int64'), f(2, 'dimParam', 'string'), f(3, 'numShards', 'int64')],
  TrainingInfoProto: [
    m(1, 'initialization', 'GraphProto'),
    m(2, 'algorithm', 'GraphProto'),
    m(3, 'initializationBinding', 'StringStringEntryProto', 'repeated'),
    m(4, 'updateBinding', 'StringStringEntryProto', 'repeated'),
  ],
  ModelProto: [
    f(1, 'irVersion', 'int64n'),
    f(2, 'producerName', 'string'),
    f(3, 'producerVersion', 'string'),
    f(4, 'domain', 'string'),
    f(5, 'modelVersion', 'int64n'),
    f(6, 'docString', 'string'),
    m(7, 'graph', 'GraphProto'),
    m(8, 'opsetImport', 'OperatorSetIdProto', 'repeated'),
    m(14, 'metadataProps', 'StringStringEntryProto', 'repeated'),
    m(20, 'trainingInfo', 'TrainingInfoProto', 'repeated'),
    m(25, 'functions', 'FunctionProto', 'repeated'),
    m(26, 'configuration', 'DeviceConfigurationProto', 'repeated'),
  ],
  DeviceConfigurationProto: [f(1, 'name', 'string'), f(2, 'numDevices', 'int32'), f(3, 'device', 'string', 'repeated')],
  StringStringEntryProto: [f(1, 'key', 'string'), f(2, 'value', 'string')],
  TensorAnnotation: [f(1, 'tensorName', 'string'), m(2, 'quantParameterTensorNames', 'StringStringEntryProto', 'repeated')],
  GraphProto: [
    m(1, 'node', 'NodeProto', 'repeated'),
    f(2, 'name', 'string'),
    m(5, 'initializer', 'TensorProto', 'repeated'),
    f(10, 'docString', 'string'),
    m(11, 'input', 'ValueInfoProto', 'repeated'),
    m(12, 'output', 'ValueInfoProto', 'repeated'),
    m(13, 'valueInfo', 'ValueInfoProto', 'repeated'),
    m(14, 'quantizationAnnotation', 'TensorAnnotation', 'repeated'),
    m(15, 'sparseInitializer', 'SparseTensorProto', 'repeated'),
    m(16, 'metadataProps', 'StringStringEntryProto', 'repeated'),
  ],
  TensorSegment: [f(1, 'begin', 'int64'), f(2, 'end', 'int64')],
  TensorProto: [
    f(1, 'dims', 'int64n', 'repeated'),
    f(2, 'dataType', 'int32'),
    m(3, 'segment', 'TensorSegment'),
    f(4, 'floatData', 'float', 'packed'),
    f(5, 'int32Data', 'int32', 'packed'),
    f(6, 'stringData', 'bytes', 'repeated'),
    f(7, 'int64Data', 'int64', 'packed'),
    f(8, 'name', 'string'),
    f(9, 'rawData', 'bytes'),
    f(10, 'doubleData', 'double', 'packed'),
    f(11, 'uint64Data', 'uint64', 'packed'),
    f(12, 'docString', 'string'),
    m(13, 'externalData', 'StringStringEntryProto', 'repeated'),
    f(14, 'dataLocation', 'int32'),
    m(16, 'metadataProps', 'StringStringEntryProto', 'repeated'),
  ],
  SparseTensorProto: [m(1, 'values', 'TensorProto'), m(2, 'indices', 'TensorProto'), f(3, 'dims', 'int64n', 'repeated')],
  TensorShapeDimension: [f(1, 'dimValue', 'int64n'), f(2, 'dimParam', 'string'), f(3, 'denotation', 'string')],
  TensorShapeProto: [m(1, 'dim', 'TensorShapeDimension', 'repeated')],
  TypeProtoTensor: [f(1, 'elemType', 'int32'), m(2, 'shape', 'TensorShapeProto')],
  TypeProtoSequence: [m(1, 'elemType', 'TypeProto')],
  TypeProtoMap: [f(1, 'keyType', 'int32'), m(2, 'valueType', 'TypeProto')],
  TypeProtoOptional: [m(1, 'elemType', 'TypeProto')],
  TypeProtoSparseTensor: [f(1, 'elemType', 'int32'), m(2, 'shape', 'TensorShapeProto')],
  TypeProtoOpaque: [f(1, 'domain', 'string'), f(2, 'name', 'string')],
  TypeProto: [
    m(1, 'tensorType', 'TypeProtoTensor'),
    m(4, 'sequenceType', 'TypeProtoSequence'),
    m(5, 'mapType', 'TypeProtoMap'),
    f(6, 'denotation', 'string'),
    m(7, 'opaqueType', 'TypeProtoOpaque'),
    m(8, 'sparseTensorType', 'TypeProtoSparseTensor'),
    m(9, 'optionalType', 'TypeProtoOptional'),
  ],
  OperatorSetIdProto: [f(1, 'domain', 'string'), f(2, 'version', 'int64n')],
  FunctionProto: [
    f(1, 'name', 'string'),
    f(4, 'input', 'string', 'repeated'),
    f(5, 'output', 'string', 'repeated'),
    f(6, 'attribute', 'string', 'repeated'),
    m(7, 'node', 'NodeProto', 'repeated'),
    f(8, 'docString', 'string'),
    m(9, 'opsetImport', 'OperatorSetIdProto', 'repeated'),
    f(10, 'domain', 'string'),
    m(11, 'attributeProto', 'AttributeProto', 'repeated'),
    m(12, 'valueInfo', 'ValueInfoProto', 'repeated'),
    f(13, 'overload', 'string'),
    m(14, 'metadataProps', 'StringStringEntryProto', 'repeated'),
  ],
};

function buildSchema(): ReadonlyMap<string, MessageSpec> {
  const specs = new Map<string, MessageSpec>();
  for (const [name, rows] of Object.entries(ROWS)) {
    const fields = rows
      .map(([no, fname, kind, label, type]): FieldSpec => ({
        no,
        name: fname,
        kind,
        repeated: label !== undefined,
        packed: label === 'packed',
        type,
        wireType: wireTypeOf(kind),
      }))
      .sort((a, b) => a.no - b.no);
    const fieldsByNo: (FieldSpec | undefined)[] = [];
    for (const fs of fields) fieldsByNo[fs.no] = fs;
    specs.set(name, { name, fields, fieldsByNo });
  }
  for (const spec of specs.values()) {
    for (const fs of spec.fields) {
      if (fs.kind === 'message' && (fs.type === undefined || !specs.has(fs.type))) throw new Error(`schema: ${spec.name}.${fs.name} has unknown type ${fs.type}`);
    }
  }
  return specs;
}

/** Message specs by name (immutable, built once). */
export const SCHEMA: ReadonlyMap<string, MessageSpec> = buildSchema();

export function messageSpec(name: string): MessageSpec {
  const spec = SCHEMA.get(name);
  if (!spec) throw new Error(`schema: no message ${name}`);
  return spec;
}

/** Highest IR version whose schema this table implements (onnx.proto's `IR_VERSION` on ONNX main). */
export const MAX_KNOWN_IR_VERSION = 14;
