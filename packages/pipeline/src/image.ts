// RGB images as float HWC in [0,1], and a dependency-free PNG encoder (zlib from Node).
import { deflateSync, crc32 } from 'node:zlib';
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

/** Float [0,1] -> uint8 as diffusers' numpy_to_pil does: round(x * 255) after clipping. */
export function toUint8(img: RgbImage): Uint8Array {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = Math.min(1, Math.max(0, img.data[i]));
    out[i] = Math.round(v * 255);
  }
  return out;
}

function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])) >>> 0, 0);
  return Buffer.concat([head, body, crc]);
}

/** Encode an 8-bit RGB PNG (PNG spec: IHDR, filter type 0 per row, zlib IDAT, IEND). */
export function encodePng(img: RgbImage): Uint8Array {
  assertRgbImage(img, 'to encode');
  const px = toUint8(img);
  const stride = img.width * 3;
  const raw = Buffer.alloc((stride + 1) * img.height);
  for (let y = 0; y < img.height; y++) {
    raw[y * (stride + 1)] = 0;
    raw.set(px.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(img.width, 0);
  ihdr.writeUInt32BE(img.height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}
