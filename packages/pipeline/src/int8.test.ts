import { DEFAULT_UNET_INT8_POLICY, FAST_UNET_INT8_POLICY } from '@sdq/calib';
import { FAST_POLICY_MIN_LATENT, int8PolicyFor } from './int8.js';

describe('int8PolicyFor: the INT8 UNet layout by latent size', () => {
  it.each([
    [16, DEFAULT_UNET_INT8_POLICY],
    [32, DEFAULT_UNET_INT8_POLICY],
    [FAST_POLICY_MIN_LATENT - 1, DEFAULT_UNET_INT8_POLICY],
    [64, FAST_UNET_INT8_POLICY],
    [96, FAST_UNET_INT8_POLICY],
  ])('%i x %i latents use the measured faster layout', (side, expected) => {
    expect(int8PolicyFor(side)).toEqual({ ...expected });
  });

  it('keeps the recipe overrides on top (e.g. int8 activations for TensorRT)', () => {
    const p = int8PolicyFor(64, { activationType: 'int8' });
    expect(p.activationType).toBe('int8');
    expect(p.floatOutputNodes).toBe(FAST_UNET_INT8_POLICY.floatOutputNodes);
    expect(int8PolicyFor(16, { activationType: 'int8' }).floatOutputNodes).toBeUndefined();
  });
});
