import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { SdqError } from '@sdq/quant';

/** An RGB image: `data` float32 HWC in [0, 1] (diffusers' output_type "np"), `rgb8` the same as bytes. */
export interface RgbImage {
  width: number;
  height: number;
  data: Float32Array;
  rgb8: Uint8Array;
}

/**
 * VAE output [3, H, W] in [-1, 1] (float32 CHW, one image) to HWC [0, 1] as diffusers' VaeImageProcessor does:
 * clamp(x / 2 + 0.5, 0, 1); bytes are round-half-even(x * 255) as in diffusers' numpy_to_pil.
 */
export function vaeOutputToImage(chw: Float32Array, width: number, height: number): RgbImage {
  const plane = width * height;
  if (chw.length !== 3 * plane) {
    throw new SdqError('SHAPE_MISMATCH', `VAE output has ${chw.length} values; ${3 * plane} expected for 3x${height}x${width}`);
  }
  const data = new Float32Array(3 * plane);
  const rgb8 = new Uint8Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const src = c * plane;
    for (let p = 0, dst = c; p < plane; p++, dst += 3) {
      const v = Math.fround(chw[src + p] / 2) + 0.5;
      const clamped = v < 0 ? 0 : v > 1 ? 1 : Math.fround(v);
      data[dst] = clamped;
      rgb8[dst] = unitFloatToByte(clamped);
    }
  }
  return { width, height, data, rgb8 };
}

/** A float in [0, 1] to a byte as diffusers' numpy_to_pil: (x * 255).round() in float32, numpy rounding half to even. */
export function unitFloatToByte(x: number): number {
  const v = x < 0 ? 0 : x > 1 ? 1 : x;
  const scaled = Math.fround(v * 255);
  const r = Math.round(scaled);
  return r - scaled === 0.5 && r % 2 === 1 ? r - 1 : r;
}

/** PNG bytes of an RGB image (8-bit, no alpha). */
export function encodePng(image: Pick<RgbImage, 'width' | 'height' | 'rgb8'>): Uint8Array {
  const png = new PNG({ width: image.width, height: image.height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(image.rgb8.buffer, image.rgb8.byteOffset, image.rgb8.byteLength);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

/** Writes a PNG atomically (temp file + rename), so a crash never leaves half a file. */
export function writePng(path: string, image: Pick<RgbImage, 'width' | 'height' | 'rgb8'>): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, encodePng(image));
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
    throw new SdqError('IO_ERROR', `cannot write PNG ${path}: ${(e as Error).message}`, { cause: e });
  }
}
