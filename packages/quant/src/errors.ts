/** Stable machine-readable error codes; the message names the file/tensor/node and what to do. */
export type SdqErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_RANGE'
  | 'UNSUPPORTED_TYPE'
  | 'EMPTY_INPUT'
  | 'NOT_FOUND'
  | 'BAD_FORMAT'
  | 'SHAPE_MISMATCH'
  | 'UNSUPPORTED'
  | 'IO_ERROR'
  | 'RUNTIME_ERROR'
  | 'TOOL_MISSING'
  | 'TOOL_FAILED'
  | 'QUEUE_ERROR'
  | 'INTERRUPTED';

/** The one error family of sdq. CLI prints `message` as a single line and exits non-zero. */
export class SdqError extends Error {
  readonly code: SdqErrorCode;
  constructor(code: SdqErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SdqError';
    this.code = code;
  }
}

export function isSdqError(e: unknown): e is SdqError {
  return e instanceof SdqError;
}
