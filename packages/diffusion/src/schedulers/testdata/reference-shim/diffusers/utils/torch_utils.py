import numpy as np
NOISE = []
def randn_tensor(shape, generator=None, device=None, dtype=None, layout=None):
    z = NOISE.pop(0)
    return np.asarray(z, dtype=np.float64).reshape(shape).view(__import__('torch').Tensor)
