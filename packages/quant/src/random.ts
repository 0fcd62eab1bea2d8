/**
 * mulberry32 (Tommy Ettinger): state += 0x6D2B79F5, then two xorshift-multiply rounds; returns the next uint32.
 * The one seeded generator of sdq: synthetic weights (@sdq/onnx), calibration shuffles (@sdq/calib) and the
 * documented noise of @sdq/diffusion all draw from it, so a seed means the same stream everywhere. Not cryptographic.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}
