"""Reference timesteps of diffusers' set_timesteps, for timestep-spacing edge cases the conformance set does not cover.

The lines below are copied from diffusers 0.40.0.dev0 (commit 58eb52c, src/diffusers/schedulers/scheduling_*.py),
only the numpy part of set_timesteps (no torch needed); run with numpy 2.x:
    python3 make_timesteps.py > timesteps-numpy.json
"""
import json
import numpy as np

T = 1000
OFFSET = 1
STEPS = list(range(1, 41)) + [50, 77, 100, 333]


def ddim(n, spacing):  # DDIMScheduler / DDPMScheduler
    if spacing == "linspace":
        return np.linspace(0, T - 1, n).round()[::-1].copy().astype(np.int64)
    if spacing == "leading":
        step_ratio = T // n
        t = (np.arange(0, n) * step_ratio).round()[::-1].copy().astype(np.int64)
        return t + OFFSET
    step_ratio = T / n
    t = np.round(np.arange(T, 0, -step_ratio)).astype(np.int64)
    return t - 1


def euler(n, spacing):  # Euler / Euler ancestral / Heun (before repetition) / LMS
    if spacing == "linspace":
        return np.linspace(0, T - 1, n, dtype=np.float32)[::-1].copy()
    if spacing == "leading":
        step_ratio = T // n
        t = (np.arange(0, n) * step_ratio).round()[::-1].copy().astype(np.float32)
        return t + OFFSET
    step_ratio = T / n
    t = np.arange(T, 0, -step_ratio).round().copy().astype(np.float32)
    return t - 1


def pndm(n, spacing, skip_prk):
    if spacing == "linspace":
        ts = np.linspace(0, T - 1, n).round().astype(np.int64)
    elif spacing == "leading":
        step_ratio = T // n
        ts = (np.arange(0, n) * step_ratio).round()
        ts += OFFSET
    else:
        step_ratio = T / n
        ts = np.round(np.arange(T, 0, -step_ratio))[::-1].astype(np.int64)
        ts -= 1
    if skip_prk:
        prk = np.array([])
        plms = np.concatenate([ts[:-1], ts[-2:-1], ts[-1:]])[::-1].copy()
    else:
        prk = np.array(ts[-4:]).repeat(2) + np.tile(np.array([0, T // n // 2]), 4)
        prk = prk[:-1].repeat(2)[1:-1][::-1].copy()
        plms = ts[:-3][::-1].copy()
    return np.concatenate([prk, plms]).astype(np.int64)


def multistep(n, spacing, last_timestep):  # DPMSolverMultistep (last_timestep) / UniPC (T)
    if spacing == "linspace":
        return np.linspace(0, last_timestep - 1, n + 1).round()[::-1][:-1].copy().astype(np.int64)
    if spacing == "leading":
        step_ratio = last_timestep // (n + 1)
        t = (np.arange(0, n + 1) * step_ratio).round()[::-1][:-1].copy().astype(np.int64)
        return t + OFFSET
    step_ratio = T / n
    t = np.arange(last_timestep, 0, -step_ratio).round().copy().astype(np.int64)
    return t - 1


def lcm(n, original_steps=50):
    k = T // original_steps
    origin = np.asarray(list(range(1, original_steps + 1))) * k - 1
    origin = origin[::-1].copy()
    idx = np.floor(np.linspace(0, len(origin), num=n, endpoint=False)).astype(np.int64)
    return origin[idx]


cases = []
for spacing in ("leading", "trailing", "linspace"):
    for n in STEPS:
        cases.append({"class": "DDIMScheduler", "spacing": spacing, "steps": n, "timesteps": ddim(n, spacing).tolist()})
        cases.append({"class": "EulerDiscreteScheduler", "spacing": spacing, "steps": n, "timesteps": [float(x) for x in euler(n, spacing)]})
        cases.append({"class": "DPMSolverMultistepScheduler", "spacing": spacing, "steps": n, "timesteps": multistep(n, spacing, T).tolist()})
        cases.append({"class": "PNDMScheduler", "spacing": spacing, "steps": n, "skip_prk_steps": True, "timesteps": pndm(n, spacing, True).tolist()})
        if n >= 4:
            cases.append({"class": "PNDMScheduler", "spacing": spacing, "steps": n, "skip_prk_steps": False, "timesteps": pndm(n, spacing, False).tolist()})
for n in range(1, 51):
    cases.append({"class": "LCMScheduler", "spacing": "leading", "steps": n, "timesteps": lcm(n).tolist()})
print(json.dumps({"source": "diffusers 0.40.0.dev0 set_timesteps (numpy part) run by make_timesteps.py with numpy " + np.__version__, "num_train_timesteps": T, "steps_offset": OFFSET, "cases": cases}))
