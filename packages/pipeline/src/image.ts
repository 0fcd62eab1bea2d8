// RGB images as float HWC in [0,1] and their PNG bytes.
import { encodePng as encodeRgb8Png, unitFloatToByte } from '@sdq/diffusion';
import { SdqError } from '@sdq/quant';

/** An RGB image: `data` is height*width*3 floats in [0,1], row-major HWC. */
export interface RgbImage {
  width: number;
  height: number;
  data: Float32Array;
}

export function assertRgbImage(img: RgbImage, name: string): void {
  if (img.data.length !== img.width * img.height * 3) {
    throw new SdqError(
      'SHAPE_MISMATCH',
      `image ${name} has ${img.data.length} values but ${img.width}x${img.height}x3 = ${img.width * img.height * 3} were expected; pass an HWC RGB float image`,
    );
  }
}

/** Float [0,1] -> uint8 exactly as the pipeline's own images (diffusers' numpy_to_pil, see unitFloatToByte). */
export function toUint8(img: RgbImage): Uint8Array {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = unitFloatToByte(img.data[i]);
  return out;
}

/** An 8-bit RGB PNG of a float image, through the one PNG writer in @sdq/diffusion. */
export function encodePng(img: RgbImage): Uint8Array {
  assertRgbImage(img, 'to encode');
  return encodeRgb8Png({ width: img.width, height: img.height, rgb8: toUint8(img) });
}
