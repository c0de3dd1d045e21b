"""Side-by-side figures for the face enumeration and the exact spike-free test.

Run: ``python benchmarks/bench_spikefree.py``.  Prints, for each data set, the time of the
exact route next to a baseline:

* faces: :func:`verify.geometry.faces.enumerate_faces` (all faces, exact witnesses) against
  :func:`verify.geometry.chambers.enumerate_chambers` (chambers only);
* spike-free: :func:`verify.geometry.spike_free.spike_free` (exact verdict) against dense random
  sampling of ``||X^+ (Xu)_+||`` on the sphere (a lower bound only, never a proof).
"""

from __future__ import annotations

import time

import numpy as np
from scipy.linalg import hadamard

from verify.geometry.faces import enumerate_faces
from verify.geometry.spike_free import spike_free


def _timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


def _sampled_max(X: np.ndarray, n: int = 200_000, seed: int = 0) -> tuple[float, float, float]:
    t = time.perf_counter()
    U = np.random.default_rng(seed).standard_normal((n, X.shape[1]))
    U /= np.linalg.norm(U, axis=1)[:, None]
    Y = np.maximum(U @ X.T, 0.0)
    Z = Y @ np.linalg.pinv(X).T
    resid = np.linalg.norm(Z @ X.T - Y, axis=1).max()
    return float(np.linalg.norm(Z, axis=1).max()), float(resid), time.perf_counter() - t


def bench_faces() -> None:
    try:
        from verify.geometry.chambers import enumerate_chambers
    except ImportError:  # pragma: no cover
        enumerate_chambers = None
    rng = np.random.default_rng(0)
    print("faces: N  d  f-vector                         t_faces  t_chambers  ratio")
    for N, d in [(10, 2), (40, 2), (10, 3), (20, 3), (30, 3), (8, 4), (10, 5)]:
        X = rng.standard_normal((N, d))
        fc, tf = _timed(enumerate_faces, X)
        if enumerate_chambers is not None:
            ch, tc = _timed(enumerate_chambers, X)
            assert len(ch) == fc.f_vector[-1]
        else:
            tc = float("nan")
        print(f"     {N:3d} {d:2d}  {str(fc.f_vector):32s} {tf:8.3f}  {tc:10.3f}  {tf / tc:6.1f}")


def bench_spikefree() -> None:
    rng = np.random.default_rng(1)
    cases = {
        "F.1": np.array([[1.65, 0.47], [-0.47, 1.35]]),
        "F.2": np.array([[1.65, 0.47], [0.47, 1.35]]),
        "random 3x3": rng.standard_normal((3, 3)),
        "positive 4x4": np.abs(rng.standard_normal((4, 4))),
        "random 6x3": rng.standard_normal((6, 3)),
        "Hadamard/4 6x16": hadamard(16)[:6] / 4.0,
        "float QR 4x4": np.linalg.qr(rng.standard_normal((4, 4)))[0],
        "random 6x6": rng.standard_normal((6, 6)),
    }
    print("\nspike-free: data             verdict  exact value   t_exact | sampled max  t_sampling")
    for name, X in cases.items():
        rep, te = _timed(spike_free, X)
        smax, sres, ts = _sampled_max(X)
        val = "range" if rep.spike_value is None else f"{rep.spike_value:.9f}"
        samp = f"{smax:.9f}" if sres < 1e-8 else "range"
        print(f"  {name:18s} {rep.spike_free!s:>7s}  {val:>12s} {te:9.3f} | {samp:>11s} {ts:10.3f}")


if __name__ == "__main__":
    bench_faces()
    bench_spikefree()
