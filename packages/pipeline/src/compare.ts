// Image quality against a reference: PSNR and SSIM (@sdq/quant's, SSIM as skimage with Gaussian weights),
// max/mean abs difference, over RGB in [0,1].
import { SdqError, psnr as psnrOf, ssim as ssimOf } from '@sdq/quant';
import { assertRgbImage, type RgbImage } from './image.js';
import type { ImageQuality } from './types.js';

/** Compare `image` with `reference` (same size, RGB HWC in [0,1]). */
export function compareImages(image: RgbImage, reference: RgbImage): ImageQuality {
  assertRgbImage(image, 'image');
  assertRgbImage(reference, 'reference');
  if (image.width !== reference.width || image.height !== reference.height) {
    throw new SdqError('SHAPE_MISMATCH', `cannot compare a ${image.width}x${image.height} image with a ${reference.width}x${reference.height} reference; generate both at the same --size`);
  }
  let maxAbs = 0;
  let sumAbs = 0;
  for (let i = 0; i < image.data.length; i++) {
    const d = Math.abs(image.data[i] - reference.data[i]);
    if (d > maxAbs) maxAbs = d;
    sumAbs += d;
  }
  const psnr = psnrOf(reference.data, image.data, { dataRange: 1 });
  return {
    psnr: Number.isFinite(psnr) ? psnr : null,
    ssim: ssimOf(reference.data, image.data, { width: image.width, height: image.height, channels: 3, layout: 'hwc', dataRange: 1 }),
    maxAbsDiff: maxAbs,
    meanAbsDiff: sumAbs / image.data.length,
  };
}
