/**
 * Streams tensor bytes into one external data file while a graph is being built, so a multi-GB model never holds
 * its weights in the JS heap. The file is written as `<location>.tmp-<pid>` and renamed on `commit()`; `abort()`
 * removes it (never a half-written output).
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SdqError } from '@sdq/quant';
import { DataLocation, type StringStringEntryProto } from '../proto/types.js';

export interface ExternalDataWriterOptions {
  /** Tensors are placed at multiples of this many bytes (zero padding between them). Default 64. */
  alignment?: number;
  /** Tensors smaller than this many bytes stay inline in the model (rawData). Default 1024. */
  threshold?: number;
  /** Called with the file's size after every chunk written (progress of a multi-GB build). */
  onWrite?: (bytesWritten: number) => void;
}

/** Where a tensor's bytes went: the fields to put on its TensorProto. */
export interface ExternalDataPlacement {
  externalData: StringStringEntryProto[];
  dataLocation: DataLocation;
}

export class ExternalDataWriter {
  readonly location: string;
  readonly threshold: number;
  private readonly alignment: number;
  private readonly finalPath: string;
  private readonly tmpPath: string;
  private readonly onWrite: ((bytesWritten: number) => void) | undefined;
  private fd: number | undefined;
  private offset = 0;

  /** @param dir the model's folder; @param location the data file name relative to it (no folders, no `..`). */
  constructor(dir: string, location: string, options: ExternalDataWriterOptions = {}) {
    if (location.includes('/') || location.includes('\\') || location === '..' || location === '.' || location === '') {
      throw new SdqError('INVALID_ARGUMENT', `external data location "${location}" must be a plain file name inside the model folder`);
    }
    this.location = location;
    this.alignment = options.alignment ?? 64;
    this.threshold = options.threshold ?? 1024;
    this.onWrite = options.onWrite;
    this.finalPath = join(dir, location);
    this.tmpPath = `${this.finalPath}.tmp-${process.pid}`;
    try {
      this.fd = openSync(this.tmpPath, 'w');
    } catch (e) {
      throw new SdqError('IO_ERROR', `cannot create external data file ${this.tmpPath}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Bytes written so far (including alignment padding). */
  get size(): number {
    return this.offset;
  }

  /**
   * Append one tensor of `length` bytes, produced in chunks by `produce(chunk, start)` (fill `chunk`, which covers
   * bytes [start, start + chunk.length) of the tensor). Returns the TensorProto fields that point at it.
   */
  appendStreamed(length: number, produce: (chunk: Uint8Array, start: number) => void, chunkBytes = 1 << 22): ExternalDataPlacement {
    const fd = this.requireOpen();
    const pad = (this.alignment - (this.offset % this.alignment)) % this.alignment;
    if (pad > 0) this.writeAll(fd, new Uint8Array(pad));
    const start = this.offset;
    const step = Math.max(8, chunkBytes - (chunkBytes % 8));
    const buffer = new Uint8Array(Math.min(step, length));
    for (let pos = 0; pos < length; pos += step) {
      const chunk = buffer.subarray(0, Math.min(step, length - pos));
      produce(chunk, pos);
      this.writeAll(fd, chunk);
      this.onWrite?.(this.offset);
    }
    return {
      externalData: [
        { key: 'location', value: this.location },
        { key: 'offset', value: String(start) },
        { key: 'length', value: String(length) },
      ],
      dataLocation: DataLocation.EXTERNAL,
    };
  }

  /** Append bytes that already exist. */
  append(bytes: Uint8Array): ExternalDataPlacement {
    return this.appendStreamed(bytes.byteLength, (chunk, start) => chunk.set(bytes.subarray(start, start + chunk.byteLength)));
  }

  /** Flush and move the data file to its final name. */
  commit(): string {
    const fd = this.requireOpen();
    fsyncSync(fd);
    closeSync(fd);
    this.fd = undefined;
    renameSync(this.tmpPath, this.finalPath);
    return this.finalPath;
  }

  /** Close and delete the temporary file (after an error). */
  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.tmpPath, { force: true });
  }

  private requireOpen(): number {
    if (this.fd === undefined) throw new SdqError('INVALID_ARGUMENT', `external data file ${this.finalPath} is already closed`);
    return this.fd;
  }

  private writeAll(fd: number, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.byteLength) {
      done += writeSync(fd, bytes, done, bytes.byteLength - done);
    }
    this.offset += bytes.byteLength;
  }
}
