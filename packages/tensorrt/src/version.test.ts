import fc from 'fast-check';
import { parseTrtVersion, toTrtVersion, trtexecCapabilities, trtVersionFromLog, trtVersionFromNumber, trtVersionToNumber } from './version.js';

describe('TensorRT versions', () => {
  it.each([
    ['10.16', { major: 10, minor: 16, patch: 0 }],
    ['11.1', { major: 11, minor: 1, patch: 0 }],
    ['10.13.3.9', { major: 10, minor: 13, patch: 3 }],
    ['v110100', { major: 11, minor: 1, patch: 0 }],
    ['8601', { major: 8, minor: 6, patch: 1 }],
  ])('parses %s', (text, v) => expect(parseTrtVersion(text)).toEqual(v));

  it('rejects what is not a version', () => expect(() => parseTrtVersion('latest')).toThrow(/--trt-version 10.16/));

  it('reads the version from trtexec output', () => {
    expect(trtVersionFromLog('&&&& RUNNING TensorRT.trtexec [TensorRT v110100] [b106] # trtexec')).toEqual({ major: 11, minor: 1, patch: 0 });
    expect(trtVersionFromLog('[I] TensorRT version: 10.16.2')).toEqual({ major: 10, minor: 16, patch: 2 });
    expect(trtVersionFromLog('nothing')).toBeUndefined();
  });

  it('NV_TENSORRT_VERSION round-trips for 10+ (major*10000+minor*100+patch) and 8.x (major*1000+minor*100+patch)', () => {
    fc.assert(fc.property(fc.integer({ min: 10, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), (major, minor, patch) => {
      expect(trtVersionFromNumber(trtVersionToNumber({ major, minor, patch }))).toEqual({ major, minor, patch });
    }));
    fc.assert(fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 99 }), (major, minor, patch) => {
      expect(trtVersionFromNumber(trtVersionToNumber({ major, minor, patch }))).toEqual({ major, minor, patch });
    }));
  });

  it('knows which releases have the weak precision flags and --stronglyTyped', () => {
    expect(trtexecCapabilities(toTrtVersion('8.6'))).toEqual({ weakPrecisionFlags: true, stronglyTypedFlag: false, stronglyTypedOnly: false });
    expect(trtexecCapabilities(toTrtVersion('10.16'))).toEqual({ weakPrecisionFlags: true, stronglyTypedFlag: true, stronglyTypedOnly: false });
    expect(trtexecCapabilities(toTrtVersion('11.0'))).toEqual({ weakPrecisionFlags: false, stronglyTypedFlag: false, stronglyTypedOnly: true });
    expect(() => toTrtVersion('8.5')).toThrow(/older than 8.6/);
  });
});
