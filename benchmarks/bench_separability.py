"""Benchmark: exact orthogonal separability vs the bare float Gram matrix ``X @ X.T``.

Goal: ``orthogonal_separability`` (exact verdict, full violation count, no N×N matrix)
within 2× the time of numpy's ``X @ X.T`` (float Gram only, no verdict, N² memory).

Variants (N = 20,000, d = 784 by default):

* ``random``     Gaussian data, 2 classes: ~N²/4 violations, all counted (no early exit).
* ``antipodal``  10 classes around simplex directions (cross cosines ≈ −1/9): separable,
                 every pair decided by the rigorous float bound.
* ``hadamard``   10 classes of positive integer combinations of disjoint sets of Hadamard
                 rows (512 of them, padded to d): separable, every cross-class inner product
                 is an exact 0 that floats cannot certify by a bound; decided because the
                 float Gram entries are provably exact.
* ``blocks``     nonnegative features on class-wise disjoint coordinate blocks (with exact
                 zeros inside the blocks): separable, cross-class pairs are structural zeros.
* ``hadamard01`` (not run by default) ``0.1 ×`` the hadamard set: the entries are no longer
                 short dyadic numbers, the cross-class inner products are exact zeros or
                 ~1e-17 relative: no float bound decides them, every one goes to exact
                 integer arithmetic (limb-split BLAS products).  The worst case.

Run: ``python benchmarks/bench_separability.py [--n N] [--d D] [--only NAME ...]``.
Times are wall clock (and process CPU time) of one run; peak memory is the growth of the
resident set during the call (Linux high-water mark; the input X itself is not counted).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from verify.geometry.separability import orthogonal_separability


def hadamard(n: int) -> np.ndarray:
    H = np.ones((1, 1))
    while H.shape[0] < n:
        H = np.block([[H, H], [H, -H]])
    return H


def make(name: str, N: int, d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    K = 10
    if name == "random":
        return rng.standard_normal((N, d)), rng.integers(0, 2, N)
    cls = np.sort(rng.integers(0, K, N))
    if name == "antipodal":
        E = np.eye(K) - 1.0 / K  # simplex directions in the first K coordinates
        E /= np.linalg.norm(E, axis=1, keepdims=True)
        X = np.zeros((N, d))
        X[:, :K] = E[cls]
        noise = rng.standard_normal((N, d))
        X += 0.05 * noise / np.linalg.norm(noise, axis=1, keepdims=True)
        return X, cls
    if name == "hadamard01":  # not dyadic: cross products are tiny or 0, all go exact
        X, cls = make("hadamard", N, d, rng)
        return 0.1 * X, cls
    if name == "hadamard":
        m = 1 << int(np.log2(min(d, 512)))
        H = hadamard(m)
        owner = np.arange(m) % K  # Hadamard row k belongs to class k mod K
        X = np.zeros((N, d))
        for k in range(K):
            rows = H[owner == k]
            coef = rng.integers(1, 4, (np.count_nonzero(cls == k), len(rows))).astype(float)
            X[cls == k, :m] = coef @ rows
        return X, cls
    if name == "blocks":
        X = np.zeros((N, d))
        edges = np.linspace(0, d, K + 1).astype(int)
        for k in range(K):
            idx = cls == k
            vals = rng.random((np.count_nonzero(idx), edges[k + 1] - edges[k]))
            vals[vals < 0.3] = 0.0  # exact zeros inside the class block
            vals[:, 0] += 0.5  # a shared positive coordinate: same-class products > 0
            X[idx, edges[k] : edges[k + 1]] = vals
        return X, cls
    raise ValueError(name)


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def measure(fn):
    """Run ``fn`` once: result, (wall s, CPU s), peak extra resident memory in bytes.

    Peak memory: reset the kernel's high-water mark (``/proc/self/clear_refs``), run, and
    read ``VmHWM`` minus the resident size before (Linux; ``None`` elsewhere).  Unlike
    tracemalloc this adds no overhead to Python allocations.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        base = _status_kib("VmRSS")
    except OSError:
        base = None
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    dt, dc = time.perf_counter() - t, time.process_time() - c
    peak = None if base is None else (_status_kib("VmHWM") - base) * 1024
    return out, (dt, dc), peak


def _mib(b: int | None) -> str:
    return "n/a" if b is None else f"{b / 2**20:.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--d", type=int, default=784)
    ap.add_argument("--only", nargs="*", default=["random", "antipodal", "hadamard", "blocks"])
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(
        f"N = {args.n}, d = {args.d}, cores = {os.cpu_count()}, "
        f"load average at start = {os.getloadavg()[0]:.2f}"
    )
    print("times: wall seconds (CPU seconds of this process); ratio = ours / X@X.T (wall, CPU)")
    print(
        f"{'variant':<10} {'X@X.T s':>13} {'ours s':>13} {'ratio':>11} {'X@X.T MiB':>10} "
        f"{'ours MiB':>9}  verdict / how the pairs were decided"
    )
    for name in args.only:
        X, cls = make(name, args.n, args.d, rng)
        G, t_gram, m_gram = measure(lambda X=X: X @ X.T)
        del G
        rep, t_ours, m_ours = measure(lambda X=X, cls=cls: orthogonal_separability(X, cls))
        N = args.n
        bound = (
            rep.pairs_checked - rep.exact_checks - rep.exact_float_pairs - rep.structural_zero_pairs
        )
        print(
            f"{name:<10} {t_gram[0]:6.2f} ({t_gram[1]:5.1f}) {t_ours[0]:6.2f} ({t_ours[1]:5.1f}) "
            f"{t_ours[0] / t_gram[0]:5.2f} ({t_ours[1] / t_gram[1]:4.2f}) "
            f"{_mib(m_gram):>10} {_mib(m_ours):>9}  separable={rep.separable} "
            f"violations={rep.violations} pairs={rep.pairs_checked}"
            f"{'' if rep.pairs_checked == N * (N + 1) // 2 else ' (INCOMPLETE)'} "
            f"bound={bound} exact_float={rep.exact_float_pairs} "
            f"exact_checks={rep.exact_checks} structural={rep.structural_zero_pairs} "
            f"min_same_cos={rep.min_same_class_cosine:.4f} "
            f"max_cross_cos={rep.max_cross_class_cosine:.4f}",
            flush=True,
        )
    print(f"load average at end = {os.getloadavg()[0]:.2f} (2 cores shared with other jobs)")


if __name__ == "__main__":
    main()
