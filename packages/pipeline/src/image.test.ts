import { PNG } from 'pngjs';
import { encodePng, toUint8 } from './image.js';
import { squareImage } from './testing.js';

describe('PNG encoder', () => {
  it('round-trips through pngjs pixel for pixel', () => {
    const img = squareImage(13, [220, 30, 30], [40, 70, 220], 0.5);
    const png = PNG.sync.read(Buffer.from(encodePng(img)));
    expect([png.width, png.height]).toEqual([13, 13]);
    const rgb = toUint8(img);
    for (let i = 0; i < 13 * 13; i++) {
      expect([png.data[4 * i], png.data[4 * i + 1], png.data[4 * i + 2], png.data[4 * i + 3]]).toEqual([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255]);
    }
  });

  it('clips and rounds like diffusers (round(x*255) on [0,1])', () => {
    const u8 = toUint8({ width: 1, height: 2, data: new Float32Array([-0.5, 0.5, 1.5, 0.002, 0.998, 1]) });
    expect(Array.from(u8)).toEqual([0, 128, 255, 1, 254, 255]);
  });

  it('refuses a buffer that does not match its size', () => {
    expect(() => encodePng({ width: 2, height: 2, data: new Float32Array(3) })).toThrow(/2x2x3 = 12/);
  });
});
