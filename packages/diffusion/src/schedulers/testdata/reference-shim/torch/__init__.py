"""A float64 numpy stand-in for the part of torch diffusers' schedulers use (reference computations only)."""
import numpy as np

class _Device:
    type = 'cpu'
    def __repr__(self): return 'cpu'

_CPU = _Device()
float32 = float = float16 = float64 = np.float64
int64 = long = int = np.int64
int32 = np.int64
Generator = object
device = _Device

class IntTensor: pass
class LongTensor: pass

class Tensor(np.ndarray):
    def __new__(cls, data=None):
        return np.asarray(data if data is not None else [], dtype=np.float64).view(cls)
    def __getitem__(self, idx):
        r = np.ndarray.__getitem__(self, idx)
        return r.view(Tensor) if isinstance(r, np.ndarray) else np.asarray(r).view(Tensor)
    @property
    def device(self): return _CPU
    def to(self, *args, **kwargs):
        dtype = kwargs.get('dtype')
        for a in args:
            if isinstance(a, type) or isinstance(a, np.dtype): dtype = a
        if dtype is None: return self
        d = np.dtype(dtype)
        if np.issubdtype(d, np.floating): return np.asarray(self, dtype=np.float64).view(Tensor)
        return np.asarray(self, dtype=np.int64).view(Tensor)
    def numpy(self): return np.asarray(self)
    def float(self): return self.to(np.float64)
    def flip(self, *dims): return np.flip(np.asarray(self), axis=0).copy().view(Tensor)
    def repeat_interleave(self, n): return np.repeat(np.asarray(self), n).view(Tensor)
    def clamp(self, min=None, max=None): return np.clip(np.asarray(self), min, max).view(Tensor)
    def sqrt(self): return np.sqrt(np.asarray(self)).view(Tensor)
    def log(self): return np.log(np.asarray(self)).view(Tensor)
    def exp(self): return np.exp(np.asarray(self)).view(Tensor)
    def unsqueeze(self, d): return np.expand_dims(np.asarray(self), d).view(Tensor)
    def clone(self): return np.array(self).view(Tensor)
    def nonzero(self, as_tuple=False):
        nz = np.nonzero(np.asarray(self))
        if as_tuple: return tuple(x.view(Tensor) for x in nz)
        return np.stack(nz, axis=1).view(Tensor)
    def item(self): return np.asarray(self).item()
    def max(self, *a, **k): return np.asarray(np.max(np.asarray(self))).view(Tensor)

def _t(x): return np.asarray(x).view(Tensor)
def tensor(data, dtype=None, device=None):
    a = np.asarray(data)
    if np.issubdtype(a.dtype, np.floating) or dtype in (np.float64,): a = a.astype(np.float64)
    return a.view(Tensor)
def from_numpy(a):
    a = np.asarray(a)
    if np.issubdtype(a.dtype, np.floating): a = a.astype(np.float64)
    return a.view(Tensor)
def linspace(start, end, steps, dtype=None):
    # torch.linspace in float32: step in float32, first half from start, second half from end
    s, e = np.float32(start), np.float32(end)
    if steps == 1: return _t(np.array([s], dtype=np.float32))
    st = np.float32((e - s) / np.float32(steps - 1))
    return _t(np.array([s + st * np.float32(i) if i < steps // 2 else e - st * np.float32(steps - i - 1) for i in range(steps)], dtype=np.float32))
# alphas_cumprod is the one float32 table whose rounding decides integer timesteps (via np.log of its sigmas):
# keep it float32 like torch (which accumulates in double and stores float32)
def cumprod(x, dim=0): return _t(np.cumprod(np.asarray(x, dtype=np.float64)).astype(np.float32))
def cat(xs, dim=0): return _t(np.concatenate([np.atleast_1d(np.asarray(x)) for x in xs]))
def stack(xs, dim=0): return _t(np.stack([np.asarray(x) for x in xs], axis=dim))
def zeros(*shape, device=None, dtype=None): return _t(np.zeros(shape[0] if len(shape) == 1 else shape))
def ones(shape, dtype=None, device=None): return _t(np.ones(shape))
def exp(x): return _t(np.exp(np.asarray(x, dtype=np.float64)))
def log(x):
    with np.errstate(divide='ignore'): return _t(np.log(np.asarray(x, dtype=np.float64)))
def sqrt(x): return _t(np.sqrt(np.asarray(x, dtype=np.float64)))
def expm1(x): return _t(np.expm1(np.asarray(x, dtype=np.float64)))
def pow(x, p): return _t(np.power(np.asarray(x, dtype=np.float64), p))
def clamp(x, min=None, max=None): return _t(np.clip(np.asarray(x), min, max))
def einsum(eq, *ops): return _t(np.einsum(eq, *[np.asarray(o) for o in ops]))
def flip(x, dims): return _t(np.flip(np.asarray(x), axis=0).copy())
def searchsorted(a, v): return _t(np.searchsorted(np.asarray(a), v))
def is_floating_point(x): return np.issubdtype(np.asarray(x).dtype, np.floating)
def split(x, n, dim=1): raise NotImplementedError
class linalg:
    @staticmethod
    def solve(a, b): return _t(np.linalg.solve(np.asarray(a), np.asarray(b)))
