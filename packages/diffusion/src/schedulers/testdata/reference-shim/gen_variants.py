"""Scheduler variants the conformance set does not cover, computed by diffusers' own scheduler code (0.40.0.dev0,
commit 58eb52c) running on a float64 numpy stand-in for torch (shim: torch/, scipy/, diffusers/ stubs beside this
file; float32 training tables like torch, float64 arithmetic elsewhere). The stand-in reproduces
fixtures/schedulers-sd15.json within 6e-7 relative (run.py)."""
import json, sys
import numpy as np
import os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import run

SD15 = dict(beta_start=0.00085, beta_end=0.012, beta_schedule='scaled_linear', num_train_timesteps=1000, steps_offset=1)
SHAPE = (1, 4, 2, 4)
V = []
def add(name, cls, steps, eta=None, base=SD15, **cfg):
    V.append(dict(name=name, cls=cls, steps=steps, eta=eta, config={**base, **cfg}))

add('ddim v_prediction', 'DDIMScheduler', 10, clip_sample=False, set_alpha_to_one=False, prediction_type='v_prediction')
add('ddim sample prediction, clip', 'DDIMScheduler', 4, clip_sample=True, prediction_type='sample')
add('ddim linspace', 'DDIMScheduler', 10, clip_sample=False, timestep_spacing='linspace')
add('ddim eta 1', 'DDIMScheduler', 10, eta=1.0, clip_sample=False, set_alpha_to_one=False)
add('ddim zero snr trailing v', 'DDIMScheduler', 10, clip_sample=False, rescale_betas_zero_snr=True, timestep_spacing='trailing', prediction_type='v_prediction')
add('ddim cosine betas', 'DDIMScheduler', 10, beta_schedule='squaredcos_cap_v2', clip_sample=False)
add('ddpm v_prediction', 'DDPMScheduler', 10, clip_sample=False, prediction_type='v_prediction')
add('ddpm fixed_small_log', 'DDPMScheduler', 10, clip_sample=False, variance_type='fixed_small_log')
add('ddpm fixed_large clip', 'DDPMScheduler', 4, variance_type='fixed_large')
add('ddpm linear betas', 'DDPMScheduler', 10, beta_schedule='linear', beta_start=0.0001, beta_end=0.02)
add('pndm prk', 'PNDMScheduler', 10, skip_prk_steps=False)
add('pndm v_prediction', 'PNDMScheduler', 10, skip_prk_steps=True, prediction_type='v_prediction')
add('euler karras', 'EulerDiscreteScheduler', 10, use_karras_sigmas=True)
add('euler karras 25', 'EulerDiscreteScheduler', 25, use_karras_sigmas=True)
add('euler v_prediction', 'EulerDiscreteScheduler', 10, prediction_type='v_prediction')
add('euler exponential', 'EulerDiscreteScheduler', 10, use_exponential_sigmas=True)
add('euler trailing', 'EulerDiscreteScheduler', 10, timestep_spacing='trailing')
add('euler final sigma_min', 'EulerDiscreteScheduler', 10, final_sigmas_type='sigma_min')
add('euler log_linear', 'EulerDiscreteScheduler', 10, interpolation_type='log_linear')
add('euler zero snr v', 'EulerDiscreteScheduler', 10, rescale_betas_zero_snr=True, timestep_spacing='trailing', prediction_type='v_prediction')
add('euler_a v_prediction', 'EulerAncestralDiscreteScheduler', 10, prediction_type='v_prediction')
add('euler_a trailing', 'EulerAncestralDiscreteScheduler', 10, timestep_spacing='trailing')
add('heun karras', 'HeunDiscreteScheduler', 10, use_karras_sigmas=True)
add('heun v_prediction', 'HeunDiscreteScheduler', 10, prediction_type='v_prediction')
add('heun linspace', 'HeunDiscreteScheduler', 10, timestep_spacing='linspace')
add('lms karras', 'LMSDiscreteScheduler', 10, use_karras_sigmas=True)
add('lms v_prediction', 'LMSDiscreteScheduler', 10, prediction_type='v_prediction')
add('dpm order 3', 'DPMSolverMultistepScheduler', 10, solver_order=3)
add('dpm order 3, 25', 'DPMSolverMultistepScheduler', 25, solver_order=3)
add('dpm heun solver', 'DPMSolverMultistepScheduler', 10, solver_type='heun')
add('dpm dpmsolver sigma_min', 'DPMSolverMultistepScheduler', 10, algorithm_type='dpmsolver', final_sigmas_type='sigma_min')
add('dpm dpmsolver order 3', 'DPMSolverMultistepScheduler', 10, algorithm_type='dpmsolver', final_sigmas_type='sigma_min', solver_order=3)
add('dpm v_prediction', 'DPMSolverMultistepScheduler', 10, prediction_type='v_prediction')
add('dpm euler_at_final 25', 'DPMSolverMultistepScheduler', 25, euler_at_final=True)
add('dpm no lower_order_final', 'DPMSolverMultistepScheduler', 10, lower_order_final=False, final_sigmas_type='sigma_min')
add('dpm trailing', 'DPMSolverMultistepScheduler', 10, timestep_spacing='trailing')
add('dpm linspace', 'DPMSolverMultistepScheduler', 10, timestep_spacing='linspace')
add('dpm exponential', 'DPMSolverMultistepScheduler', 10, use_exponential_sigmas=True)
add('dpm karras order 3 25', 'DPMSolverMultistepScheduler', 25, use_karras_sigmas=True, solver_order=3)
add('dpm lambda_min_clipped', 'DPMSolverMultistepScheduler', 10, lambda_min_clipped=-2.5)
add('unipc order 3', 'UniPCMultistepScheduler', 10, solver_order=3)
add('unipc order 3, 25', 'UniPCMultistepScheduler', 25, solver_order=3)
add('unipc bh1', 'UniPCMultistepScheduler', 10, solver_type='bh1', final_sigmas_type='sigma_min')
add('unipc v_prediction', 'UniPCMultistepScheduler', 10, prediction_type='v_prediction')
add('unipc karras', 'UniPCMultistepScheduler', 10, use_karras_sigmas=True)
add('unipc predict_x0 false', 'UniPCMultistepScheduler', 10, predict_x0=False, final_sigmas_type='sigma_min')
add('unipc disable_corrector', 'UniPCMultistepScheduler', 10, disable_corrector=[0, 1])
add('unipc no lower_order_final', 'UniPCMultistepScheduler', 10, lower_order_final=False, final_sigmas_type='sigma_min')
add('unipc trailing', 'UniPCMultistepScheduler', 10, timestep_spacing='trailing')
add('lcm v_prediction', 'LCMScheduler', 4, set_alpha_to_one=False, prediction_type='v_prediction')
add('lcm original 25, 8 steps', 'LCMScheduler', 8, original_inference_steps=25)

rng = np.random.default_rng(20261125)
cases = []
for v in V:
    initial = rng.standard_normal(SHAPE)
    draws = [rng.standard_normal(SHAPE) for _ in range(2 * v['steps'] + 4)]
    r = run(v['cls'], dict(v['config']), v['steps'], initial, draws, v['eta'], SHAPE)
    rnd = lambda xs: [float('%.9g' % x) for x in xs]
    cases.append({
        'name': v['name'], 'class': v['cls'], 'config': v['config'], 'steps': v['steps'], 'eta': v['eta'],
        'timesteps': r['timesteps'], 'init_noise_sigma': r['init_noise_sigma'],
        'initial_noise': rnd(initial.ravel()), 'noise_draws': [rnd(d.ravel()) for d in draws[:r['draws_used']]],
        'model_inputs': [rnd(x) for x in r['model_inputs']], 'trajectory': [rnd(x) for x in r['trajectory']],
    })
print(json.dumps({'source': __doc__, 'model': 'eps(x, t) = 0.5 tanh(0.7 x) + 0.1 sin(t / 100)', 'shape': SHAPE, 'cases': cases}))
