import numpy as np
_x, _w = np.polynomial.legendre.leggauss(30)
def quad(fn, a, b, epsrel=None):
    a = float(a); b = float(b)
    s = sum(w * float(fn((b - a) / 2 * x + (a + b) / 2)) for x, w in zip(_x, _w))
    return (s * (b - a) / 2, 0.0)
