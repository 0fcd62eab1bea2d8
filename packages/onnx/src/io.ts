/** Model files on disk: read (external data lazily or loaded per tensor), write (external data files, temp + rename). */
import { open, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DataType, SdqError } from '@sdq/quant';
import { MAX_PROTOBUF_BYTES, encodedSize } from './proto/codec.js';
import { decodeModel, encodeModel } from './proto/model.js';
import { DataLocation, type ModelProto, type TensorProto } from './proto/types.js';
import {
  checkRange,
  checkRealPathInside,
  checkRelativeLocation,
  externalRangeLength,
  forEachTensor,
  missingDataFile,
  resolveExternalData,
  type ExternalDataRef,
} from './external.js';
import { isExternalTensor, tensorByteLength, tensorBytes } from './tensor.js';

export interface ReadModelOptions {
  /**
   * 'load' (default): read every external tensor's range into its own buffer and keep it as rawData (external_data
   * entries removed, as onnx.load does). 'lazy': leave external tensors as they are (only their files and ranges are
   * checked); read them on demand with tensorBytes/tensorToTypedArray(t, dirname(path)).
   */
  externalData?: 'load' | 'lazy';
  onWarning?: (message: string) => void;
}

function ioError(path: string, e: unknown, doing: string): SdqError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' && doing === 'writing') return new SdqError('NOT_FOUND', `cannot write ${path}: its folder ${dirname(path)} does not exist; create it first`, { cause: e });
  if (code === 'ENOENT') return new SdqError('NOT_FOUND', `${path} not found; check the path to the model`, { cause: e });
  if (code === 'EISDIR') return new SdqError('INVALID_ARGUMENT', `${path} is a folder; pass the .onnx file (or use readModelDir for a model folder)`, { cause: e });
  if (code === 'ERR_FS_FILE_TOO_LARGE') return new SdqError('BAD_FORMAT', `${path} is over 2 GiB, which no protobuf reader accepts; large models must keep their weights in external data`, { cause: e });
  return new SdqError('IO_ERROR', `${doing} ${path} failed: ${(e as Error).message}`, { cause: e });
}

/** Checks each external data file exists and every tensor's range lies inside it (one stat per file). */
export async function checkExternalData(model: ModelProto, baseDir: string): Promise<ExternalDataRef[]> {
  const refs: { ref: ExternalDataRef; length: number }[] = [];
  forEachTensor(model, (t) => {
    if (!isExternalTensor(t)) return;
    const ref = resolveExternalData(t, baseDir);
    refs.push({ ref, length: externalRangeLength(ref, tensorByteLength(t)) });
  });
  const sizes = new Map<string, number>();
  for (const { ref, length } of refs) {
    let size = sizes.get(ref.path);
    if (size === undefined) {
      checkRealPathInside(ref, baseDir);
      try {
        size = (await stat(ref.path)).size;
      } catch (e) {
        throw missingDataFile(ref, e);
      }
      sizes.set(ref.path, size);
    }
    checkRange(ref, length, size);
  }
  return refs.map((r) => r.ref);
}

/** Reads every external tensor into memory (one buffer per tensor, one open file handle per data file). */
export async function loadExternalData(model: ModelProto, baseDir: string): Promise<void> {
  const tensors: TensorProto[] = [];
  forEachTensor(model, (t) => {
    if (isExternalTensor(t)) tensors.push(t);
  });
  const handles = new Map<string, { fh: FileHandle; size: number }>();
  try {
    for (const t of tensors) {
      const ref = resolveExternalData(t, baseDir);
      let h = handles.get(ref.path);
      if (!h) {
        checkRealPathInside(ref, baseDir);
        let fh: FileHandle;
        try {
          fh = await open(ref.path, 'r');
        } catch (e) {
          throw missingDataFile(ref, e);
        }
        h = { fh, size: (await fh.stat()).size };
        handles.set(ref.path, h);
      }
      const length = externalRangeLength(ref, tensorByteLength(t));
      checkRange(ref, length, h.size);
      const buf = Buffer.allocUnsafeSlow(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await h.fh.read(buf, done, Math.min(length - done, 0x40000000), ref.offset + done);
        if (bytesRead === 0) throw new SdqError('IO_ERROR', `tensor '${ref.tensor}': unexpected end of '${ref.location}'`);
        done += bytesRead;
      }
      t.rawData = buf;
      t.externalData = [];
      t.dataLocation = undefined;
    }
  } finally {
    for (const { fh } of handles.values()) await fh.close();
  }
}

/** Reads an .onnx file. The protobuf is read in one piece; tensor bytes are views into it (no second copy). */
export async function readModel(path: string, options: ReadModelOptions = {}): Promise<ModelProto> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw ioError(path, e, 'reading');
  }
  const model = decodeModel(bytes, { source: path, onWarning: options.onWarning });
  const baseDir = dirname(path);
  if ((options.externalData ?? 'load') === 'load') await loadExternalData(model, baseDir);
  else await checkExternalData(model, baseDir);
  return model;
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

export interface WriteModelOptions {
  /**
   * true: initializers of at least `sizeThreshold` bytes go to external data files; false: everything inline;
   * 'auto' (default): external when the model would not fit in one protobuf (`maxInlineBytes`) or when it has
   * external tensors that are not loaded. A model over 2 GiB is always written with external data.
   */
  externalData?: boolean | 'auto';
  /** Data file name relative to the model's folder. Default `<model file name>.data`. */
  location?: string;
  /** Initializers smaller than this stay inline. Default 1024 (as onnx.save). */
  sizeThreshold?: number;
  /** Start a new data file (`<location>.1`, `.2`, ...) when one would grow past this. Default: one file. */
  maxFileBytes?: number;
  /** Tensors of at least `alignThreshold` bytes start at a multiple of `alignment` (mmap-friendly). Defaults 1 MiB / 4096. */
  alignThreshold?: number;
  alignment?: number;
  /** Folder to read not-loaded external tensors from (the folder of the model they were read from). */
  sourceDir?: string;
  /** Inline size limit (default 2 GiB - 1, protobuf's); lower it to test the large-model path. */
  maxInlineBytes?: number;
}

export interface WriteModelResult {
  /** Bytes of the .onnx protobuf written. */
  modelBytes: number;
  /** Data files written (relative locations) with their sizes. */
  dataFiles: { location: string; bytes: number }[];
  externalTensors: number;
}

interface Placement {
  tensor: TensorProto;
  fileIndex: number;
  offset: number;
  length: number;
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

function hasUnloadedExternal(model: ModelProto): boolean {
  let found = false;
  forEachTensor(model, (t) => {
    if (isExternalTensor(t) && t.rawData === undefined) found = true;
  });
  return found;
}

/** Size of the model if every tensor were inline: the encoded size plus the not-yet-loaded external bytes. */
export function inlineModelSize(model: ModelProto): number {
  let extra = 0;
  forEachTensor(model, (t) => {
    if (isExternalTensor(t) && t.rawData === undefined) extra += tensorByteLength(t) + 16;
  });
  return encodedSize('ModelProto', model) + extra;
}

function dataFileName(location: string, index: number): string {
  return index === 0 ? location : `${location}.${index}`;
}

/** Decides which tensors go external and where (pure layout; no I/O). */
export function planExternalData(model: ModelProto, options: WriteModelOptions & { location: string }): Placement[] {
  const threshold = options.sizeThreshold ?? 1024;
  const alignThreshold = options.alignThreshold ?? 1 << 20;
  const alignment = options.alignment ?? 4096;
  const maxFile = options.maxFileBytes ?? Number.POSITIVE_INFINITY;
  const out: Placement[] = [];
  let fileIndex = 0;
  let offset = 0;
  forEachTensor(model, (t, isInitializer) => {
    if (!isInitializer && !isExternalTensor(t)) return;
    if (t.dataType === DataType.STRING || t.dataType === undefined) return;
    const length = tensorByteLength(t);
    if (length < threshold && !isExternalTensor(t)) return;
    if (length < threshold) return; // small external tensors are loaded and written inline
    let start = length >= alignThreshold ? alignUp(offset, alignment) : offset;
    if (offset > 0 && start + length > maxFile) {
      fileIndex++;
      offset = 0;
      start = 0;
    }
    out.push({ tensor: t, fileIndex, offset: start, length });
    offset = start + length;
  });
  return out;
}

async function writeAtomically(path: string, write: (tmp: string) => Promise<void>, tmps: string[]): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  tmps.push(tmp);
  await write(tmp);
}

/**
 * Writes `model` to `path`, with external data as the options say. Does not modify `model`. Every file is written to
 * `<name>.tmp-<pid>` first and renamed into place only when all are complete.
 */
export async function writeModel(model: ModelProto, path: string, options: WriteModelOptions = {}): Promise<WriteModelResult> {
  const dir = dirname(path);
  const location = options.location ?? `${basename(path)}.data`;
  checkRelativeLocation(location, '(output)');
  const maxInline = options.maxInlineBytes ?? MAX_PROTOBUF_BYTES;
  const mode = options.externalData ?? 'auto';
  let external: boolean;
  if (mode === 'auto') external = hasUnloadedExternal(model) || inlineModelSize(model) > maxInline;
  else external = mode;
  if (!external && inlineModelSize(model) > maxInline) external = true; // over 2 GiB is always external

  const placements = external ? planExternalData(model, { ...options, location }) : [];
  const placed = new Set(placements.map((p) => p.tensor));

  // tensors that stay inline but whose data is still in a file must be loaded
  const toInline: TensorProto[] = [];
  forEachTensor(model, (t) => {
    if (isExternalTensor(t) && !placed.has(t)) toInline.push(t);
  });
  const needSource = toInline.some((t) => t.rawData === undefined) || placements.some((p) => isExternalTensor(p.tensor) && p.tensor.rawData === undefined);
  if (needSource && options.sourceDir === undefined) {
    throw new SdqError('INVALID_ARGUMENT', `model has external tensors that are not loaded; pass sourceDir (the folder of the model it was read from) or read it with externalData: 'load'`);
  }
  const dataOf = (t: TensorProto): Uint8Array => tensorBytes(t, options.sourceDir);

  // Encode the protobuf with the new layout by swapping fields in, then restoring them (sync, so nobody sees it).
  interface Saved { t: TensorProto; rawData: TensorProto['rawData']; externalData: TensorProto['externalData']; dataLocation: TensorProto['dataLocation']; floatData: number[]; int32Data: number[]; int64Data: TensorProto['int64Data']; doubleData: number[]; uint64Data: TensorProto['uint64Data'] }
  const saved: Saved[] = [];
  let protoBytes: Uint8Array;
  try {
    for (const t of toInline) {
      saved.push({ t, rawData: t.rawData, externalData: t.externalData, dataLocation: t.dataLocation, floatData: t.floatData, int32Data: t.int32Data, int64Data: t.int64Data, doubleData: t.doubleData, uint64Data: t.uint64Data });
      t.rawData = dataOf(t);
      t.externalData = [];
      t.dataLocation = undefined;
    }
    for (const p of placements) {
      const t = p.tensor;
      saved.push({ t, rawData: t.rawData, externalData: t.externalData, dataLocation: t.dataLocation, floatData: t.floatData, int32Data: t.int32Data, int64Data: t.int64Data, doubleData: t.doubleData, uint64Data: t.uint64Data });
      t.rawData = undefined;
      t.floatData = [];
      t.int32Data = [];
      t.int64Data = [];
      t.doubleData = [];
      t.uint64Data = [];
      t.externalData = [
        { key: 'location', value: dataFileName(location, p.fileIndex).split('\\').join('/') },
        { key: 'offset', value: String(p.offset) },
        { key: 'length', value: String(p.length) },
      ];
      t.dataLocation = DataLocation.EXTERNAL;
    }
    protoBytes = encodeModel(model);
  } finally {
    for (const s of saved.reverse()) Object.assign(s.t, { rawData: s.rawData, externalData: s.externalData, dataLocation: s.dataLocation, floatData: s.floatData, int32Data: s.int32Data, int64Data: s.int64Data, doubleData: s.doubleData, uint64Data: s.uint64Data });
  }
  if (protoBytes.byteLength > maxInline) {
    throw new SdqError('INVALID_ARGUMENT', `${path}: the graph alone is ${protoBytes.byteLength} bytes, over the ${maxInline}-byte protobuf limit even with external data`);
  }

  const tmps: string[] = [];
  const finals: string[] = [];
  const dataFiles: { location: string; bytes: number }[] = [];
  try {
    const fileCount = placements.length === 0 ? 0 : placements[placements.length - 1]!.fileIndex + 1;
    for (let i = 0; i < fileCount; i++) {
      const rel = dataFileName(location, i);
      const final = join(dir, rel);
      let end = 0;
      await writeAtomically(final, async (tmp) => {
        const fh = await open(tmp, 'w');
        try {
          for (const p of placements) {
            if (p.fileIndex !== i) continue;
            const bytes = dataOf(p.tensor);
            if (bytes.byteLength !== p.length) throw new SdqError('BAD_FORMAT', `tensor '${p.tensor.name}' has ${bytes.byteLength} data bytes, dims and type need ${p.length}`);
            let done = 0;
            while (done < p.length) {
              const { bytesWritten } = await fh.write(bytes, done, Math.min(p.length - done, 0x40000000), p.offset + done);
              done += bytesWritten;
            }
            end = Math.max(end, p.offset + p.length);
          }
          await fh.truncate(end);
        } finally {
          await fh.close();
        }
      }, tmps);
      finals.push(final);
      dataFiles.push({ location: rel, bytes: end });
    }
    await writeAtomically(path, (tmp) => writeFile(tmp, protoBytes), tmps);
    finals.push(path);
    for (let i = 0; i < tmps.length; i++) await rename(tmps[i]!, finals[i]!);
  } catch (e) {
    for (const tmp of tmps) await unlink(tmp).catch(() => undefined);
    if (e instanceof SdqError) throw e;
    throw ioError(path, e, 'writing');
  }
  return { modelBytes: protoBytes.byteLength, dataFiles, externalTensors: placements.length };
}
