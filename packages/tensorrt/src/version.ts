import { SdqError } from '@sdq/quant';

/** A TensorRT release, as `--trt-version 10.16` or trtexec's `[TensorRT v101600]` names it. */
export interface TrtVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

/** What one trtexec release accepts, for the flags sdq's plans use (checked against samples/common/sampleOptions.cpp). */
export interface TrtexecCapabilities {
  /** `--fp16`, `--int8` (standard build), `--calib=<cache>`: TensorRT 8.6-10.x; gone in 11.0. */
  readonly weakPrecisionFlags: boolean;
  /** `--stronglyTyped` as a real switch: 10.0-10.x (11.x still parses it, as a deprecated no-op). */
  readonly stronglyTypedFlag: boolean;
  /** 11.0+: every network is strongly typed; the ONNX model's own types set the precision. */
  readonly stronglyTypedOnly: boolean;
}

/** Oldest release the plans are written for: 8.6 brought `--builderOptimizationLevel`. */
export const MIN_TRT_VERSION: TrtVersion = { major: 8, minor: 6, patch: 0 };

export function formatTrtVersion(v: TrtVersion, withPatch = false): string {
  return withPatch ? `${v.major}.${v.minor}.${v.patch}` : `${v.major}.${v.minor}`;
}

export function compareTrtVersions(a: TrtVersion, b: TrtVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/**
 * NV_TENSORRT_VERSION as trtexec prints it in `[TensorRT v...]`: major*10000 + minor*100 + patch from 10.0
 * (NvInferRuntimeBase.h, e.g. 110100 = 11.1.0), major*1000 + minor*100 + patch before (8.6.1 = 8601).
 */
export function trtVersionToNumber(v: TrtVersion): number {
  return v.major >= 10 ? v.major * 10000 + v.minor * 100 + v.patch : v.major * 1000 + v.minor * 100 + v.patch;
}

/** The version itself when major, minor and patch are non-negative integers (a plain object from JSON may not be). */
export function checkTrtVersion(v: TrtVersion): TrtVersion {
  if (![v?.major, v?.minor, v?.patch].every((n) => Number.isInteger(n) && n >= 0)) {
    throw new SdqError('INVALID_ARGUMENT', `TensorRT version ${JSON.stringify(v)} needs integer major, minor and patch; or give it as a string like '10.16'.`);
  }
  return v;
}

export function trtVersionFromNumber(n: number): TrtVersion {
  if (!Number.isInteger(n) || n <= 0) {
    throw new SdqError('INVALID_ARGUMENT', `TensorRT version number ${n} is not a positive integer like 101600 or 8601.`);
  }
  if (n >= 100000) return { major: Math.floor(n / 10000), minor: Math.floor(n / 100) % 100, patch: n % 100 };
  return { major: Math.floor(n / 1000), minor: Math.floor(n / 100) % 10, patch: n % 100 };
}

/** Parses `10.16`, `11.1`, `10.16.0`, `v110100` or `110100`. */
export function parseTrtVersion(text: string): TrtVersion {
  const t = text.trim();
  const dotted = /^(\d+)\.(\d+)(?:\.(\d+))?(?:\.\d+)*$/.exec(t);
  if (dotted) {
    return { major: Number(dotted[1]), minor: Number(dotted[2]), patch: dotted[3] === undefined ? 0 : Number(dotted[3]) };
  }
  const packed = /^v?(\d{4,6})$/.exec(t);
  if (packed) return trtVersionFromNumber(Number(packed[1]));
  throw new SdqError(
    'INVALID_ARGUMENT',
    `TensorRT version "${text}" is not understood: give <major>.<minor> as in --trt-version 10.16 or 11.1.`,
  );
}

/**
 * The TensorRT version a trtexec run reports: `&&&& RUNNING TensorRT.trtexec [TensorRT v110100] ...`
 * or `[I] TensorRT version: 11.1.0`. Undefined when the text has neither.
 */
export function trtVersionFromLog(text: string): TrtVersion | undefined {
  const tag = /\[TensorRT v(\d{4,6})\]/.exec(text);
  if (tag) return trtVersionFromNumber(Number(tag[1]));
  const line = /TensorRT version: (\d+)\.(\d+)\.(\d+)/.exec(text);
  if (line) return { major: Number(line[1]), minor: Number(line[2]), patch: Number(line[3]) };
  return undefined;
}

/** Accepts a version object or its text form; rejects releases older than 8.6. */
export function toTrtVersion(v: TrtVersion | string): TrtVersion {
  const version = typeof v === 'string' ? parseTrtVersion(v) : v;
  if (compareTrtVersions(version, MIN_TRT_VERSION) < 0) {
    throw new SdqError(
      'UNSUPPORTED',
      `TensorRT ${formatTrtVersion(version)} is older than 8.6, the oldest release sdq plans for ` +
        `(--builderOptimizationLevel came with 8.6): install TensorRT 10.x or 11.x.`,
    );
  }
  return version;
}

export function trtexecCapabilities(v: TrtVersion): TrtexecCapabilities {
  return {
    weakPrecisionFlags: v.major <= 10,
    stronglyTypedFlag: v.major === 10,
    stronglyTypedOnly: v.major >= 11,
  };
}
