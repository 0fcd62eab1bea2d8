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

  it('clips and rounds like diffusers (float32 x*255 rounded half to even on [0,1])', () => {
    const u8 = toUint8({ width: 1, height: 2, data: new Float32Array([-0.5, 0.5, 1.5, 0.002, 0.998, 1]) });
    expect(Array.from(u8)).toEqual([0, 128, 255, 1, 254, 255]);
  });

  // float32 inputs whose x*255 is exactly k + 0.5: numpy's round gives the even neighbour
  it.each([
    [2.5 / 255, 2],
    [4.5 / 255, 4],
    [100.5 / 255, 100],
    [3.5 / 255, 4],
  ])('rounds x = %f (x*255 on a half) to %i as numpy does', (x, expected) => {
    expect(toUint8({ width: 1, height: 1, data: new Float32Array([x, x, x]) })[0]).toBe(expected);
  });

  it('refuses a buffer that does not match its size', () => {
    expect(() => encodePng({ width: 2, height: 2, data: new Float32Array(3) })).toThrow(/2x2x3 = 12/);
  });
});
