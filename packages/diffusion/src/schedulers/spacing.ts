import { SdqError } from '@sdq/quant';
import type { TimestepSpacing } from './config.js';
import { npArange, npLinspace, roundHalfEven } from './math.js';

/**
 * diffusers' timestep spacings (Table 2 of arXiv 2305.08891), descending:
 * - leading:  (arange(n) * (T // n)).round()[::-1] + steps_offset
 * - trailing: round(arange(T, 0, -T / n)) - 1
 * - linspace: linspace(0, T - 1, n), rounded for integer schedulers (`integer`), float32 otherwise.
 */
export function spacedTimesteps(spacing: TimestepSpacing, n: number, numTrain: number, stepsOffset: number, integer: boolean): number[] {
  if (spacing === 'leading') {
    const ratio = Math.floor(numTrain / n);
    return Array.from({ length: n }, (_, i) => (n - 1 - i) * ratio + stepsOffset);
  }
  if (spacing === 'trailing') {
    return Array.from(npArange(numTrain, 0, -numTrain / n), (t) => roundHalfEven(t) - 1);
  }
  if (spacing === 'linspace') {
    const values = Array.from(npLinspace(0, numTrain - 1, n)).reverse();
    return integer ? values.map(roundHalfEven) : values.map(Math.fround);
  }
  throw new SdqError('INVALID_ARGUMENT', `unknown timestep_spacing ${String(spacing)}`);
}
