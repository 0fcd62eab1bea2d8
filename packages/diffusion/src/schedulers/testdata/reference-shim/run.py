import json, sys, importlib
import numpy as np
import os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch
from diffusers.utils import torch_utils

MODULES = {
    'DDIMScheduler': 'ddim', 'DDPMScheduler': 'ddpm', 'PNDMScheduler': 'pndm', 'EulerDiscreteScheduler': 'euler_discrete',
    'EulerAncestralDiscreteScheduler': 'euler_ancestral_discrete', 'HeunDiscreteScheduler': 'heun_discrete',
    'LMSDiscreteScheduler': 'lms_discrete', 'DPMSolverMultistepScheduler': 'dpmsolver_multistep',
    'UniPCMultistepScheduler': 'unipc_multistep', 'LCMScheduler': 'lcm',
}

def make(cls_name, config):
    mod = importlib.import_module('diffusers.schedulers.scheduling_' + MODULES[cls_name])
    return getattr(mod, cls_name)(**config)

def model(x, t):
    return 0.5 * np.tanh(0.7 * x) + 0.1 * np.sin(float(t) / 100)

def run(cls_name, config, steps, initial, draws, eta=None, shape=(1, 4, -1, 8)):
    torch_utils.NOISE[:] = [np.asarray(d).reshape(shape) for d in draws]
    s = make(cls_name, config)
    s.set_timesteps(steps)
    ins = float(np.asarray(s.init_noise_sigma))
    lat = torch.from_numpy(np.asarray(initial, dtype=np.float64).reshape(shape) * ins)
    inputs, traj = [], []
    for t in s.timesteps:
        mi = s.scale_model_input(lat, t)
        inputs.append(np.asarray(mi).ravel().tolist())
        eps = torch.from_numpy(model(np.asarray(mi), np.asarray(t).item()))
        kw = {'eta': eta} if eta is not None else {}
        lat = s.step(eps, t, lat, **kw).prev_sample
        traj.append(np.asarray(lat).ravel().tolist())
    used = len(draws) - len(torch_utils.NOISE)
    return {'timesteps': [np.asarray(t).item() for t in s.timesteps], 'init_noise_sigma': ins, 'model_inputs': inputs, 'trajectory': traj, 'draws_used': used}

if __name__ == '__main__':
    fx = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../../../../fixtures/schedulers-sd15.json')))
    worst = 0
    for c in fx['cases']:
        r = run(c['class'], c['scheduler_config'], c['steps'], c['initial_noise'], c['noise_draws'])
        err = max(np.abs(np.array(a) - np.array(b)).max() / np.abs(np.array(b)).max() for a, b in zip(r['trajectory'] + r['model_inputs'], c['trajectory'] + c['model_inputs']))
        assert r['timesteps'] == c['timesteps'], (c['scheduler'], r['timesteps'], c['timesteps'])
        worst = max(worst, err)
        if err > 1e-5: print('big', c['scheduler'], c['steps'], err)
    print('shim float64 vs torch fixture worst rel', worst)
