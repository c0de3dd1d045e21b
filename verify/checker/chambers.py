"""Chamber evidence (certificate methods ``chambers`` and ``support-chambers``): the exact
replay of a complete list of activation chambers.

For every listed chamber ``j``: its pattern is ``N`` bits (``pattern-encoding``), its witness
``u`` lies strictly inside it (``witness-interior``, ``witness-pattern``), no chamber repeats
(``patterns-distinct``), its slack multipliers are valid (``multiplier-index``,
``multiplier-sign``) and both Lemma-4 bounds
``||+-X^T D_j lambda + X^T (2 D_j - I) z_j^+-|| <= s`` hold, squared, in integers
(``dual-norm``); then the chamber count is replayed (:func:`verify.checker.counting.replay_count`)
and must equal the number of verified chambers (``chamber-count``), so the list is complete.
``support-chambers`` is the same replay on the support rows of ``lambda`` (rule ``support``).
"""

from __future__ import annotations

from fractions import Fraction
from itertools import compress
from operator import mul
from typing import Any

from verify.checker.arithmetic import norm_le
from verify.checker.branch_and_bound import check_support
from verify.checker.counting import SignPack, replay_count, spread_bits
from verify.checker.errors import InputError
from verify.checker.fields import _get, _ints, _only_keys
from verify.checker.fields import common_denominator as _common
from verify.checker.fields import parse_nd as _nd
from verify.checker.fields import witness_ints as _witness

__all__ = ["check_chambers", "check_support_chambers"]

_BATCH = 4096  # chambers per progress step


def _witness_failure(XI: list[list[int]], u: list[int], bits: bytes, fail: Any, where: str,
                     j: int) -> None:
    """Name the first sample at which witness ``u`` contradicts the pattern (slow, exact)."""
    for n, row in enumerate(XI):
        dot = sum(map(mul, row, u))
        if dot == 0 and any(row):
            fail("witness-interior", f"{where}: chamber {j}: witness is on the hyperplane "
                 f"of sample {n}")
            return
        if (1 if dot >= 0 else 0) != bits[n]:
            fail("witness-pattern", f"{where}: chamber {j}: sample {n} has sign "
                 f"{'+' if dot > 0 else '-'} but the pattern bit is {bits[n]}")
            return


def _multipliers(mults: list[Any], n_ch: int, N: int, fail: Any,
                 where: str) -> dict[tuple[int, int], tuple[list[int], list[int], int]]:
    """Validated slack multipliers ``(j, sign) -> (indices, integer values, denominator)``."""
    zs: dict[tuple[int, int], tuple[list[int], list[int], int]] = {}
    for t, mu in enumerate(mults):
        at = f"{where}.multipliers[{t}]"
        try:
            j, sg, idx, vs = mu["chamber"], mu["sign"], mu["indices"], mu["values"]
        except (TypeError, KeyError, IndexError):
            j = sg = idx = vs = None
        if type(j) is not int or type(sg) is not int or type(idx) is not list \
                or type(vs) is not list:  # not the plain shape: _get names the problem
            j, sg = _get(mu, "chamber", int, at), _get(mu, "sign", int, at)
            idx, vs = _get(mu, "indices", list, at), _get(mu, "values", list, at)
        vals = [_nd(v, at) for v in vs]
        if len(mu) != 4:  # chamber, sign, indices, values: any other key is a claim
            _only_keys(mu, "multiplier", at, fail)
        if not (0 <= j < n_ch) or sg not in (1, -1) or (j, sg) in zs:
            fail("multiplier-index", f"{where}: multiplier {t}: chamber {j} sign {sg} is not a "
                 "listed chamber/sign or is repeated")
            continue
        if len(idx) != len(vals) or not all(type(i) is int and 0 <= i < N for i in idx) or (
                len(idx) > 1 and len(set(idx)) != len(idx)):
            fail("multiplier-index", f"{where}: multiplier {t} (chamber {j}): indices must be "
                 f"distinct samples 0..{N - 1}, one per value")
            continue
        if any(v < 0 for v, _ in vals):
            neg = next(i for i, (v, _) in zip(idx, vals) if v < 0)
            fail("multiplier-sign", f"{where}: chamber {j} sign {sg}: z is negative at sample "
                 f"{neg}")
            continue
        if len(vals) == 1:
            zs[(j, sg)] = (idx, [vals[0][0]], vals[0][1])
        else:
            zi, zden = _common(vals)
            zs[(j, sg)] = (idx, zi, zden)
    return zs


def check_chambers(ev: Any, XI: list[list[int]], xe: int, lam: list[Fraction], s: Fraction,
                   fail: Any, where: str, tick: Any = None) -> None:
    N, d = len(XI), len(XI[0])
    patterns = _get(ev, "patterns", list, where)
    witnesses = _get(ev, "witnesses", list, where)
    mults = _get(ev, "multipliers", list, where)
    proof = _get(ev, "count_proof", dict, where)
    if len(witnesses) != len(patterns):
        fail("witness-pattern", f"{where}: {len(patterns)} patterns but {len(witnesses)} witnesses")
    n_ch = min(len(patterns), len(witnesses))
    zs = _multipliers(mults, n_ch, N, fail, where)
    li, lden = _ints(lam, where + ".lambda")
    LX = [[li[n] * XI[n][k] for n in range(N)] for k in range(d)]  # columns of D-free X^T lam
    pack = SignPack(XI)
    nzrows = pack.rows
    allrows = len(nzrows) == N
    zrows = sorted(set(range(N)) - set(nzrows))
    nbytes = (N + 7) // 8
    seen: dict[bytes, int] = {}
    verified = 0
    for j, (hx, wit) in enumerate(zip(patterns, witnesses)):
        if tick is not None and j % _BATCH == _BATCH - 1:
            tick(_BATCH)
        if not isinstance(hx, str) or not isinstance(wit, list) or len(wit) != d:
            raise InputError(f"malformed certificate: {where} chamber {j}")
        try:
            raw = bytes.fromhex(hx)
        except ValueError:
            raise InputError(f"malformed certificate: {where} chamber {j} pattern is not "
                             "hex") from None
        bits = spread_bits(raw)
        if len(raw) != nbytes or bits.find(1, N) >= 0:
            fail("pattern-encoding", f"{where}: chamber {j}: pattern {hx!r} is not {N} bits")
            continue
        # the witness: x_n . u != 0 on nonzero rows and 1[x_n . u >= 0] = bit n
        u = _witness(wit, f"{where} chamber {j} witness")
        t0, t1 = pack.tops(u)
        want = bits[:N] if allrows else bytes(bits[n] for n in nzrows)
        ok = t0 == want and t1 == want and all(bits[n] for n in zrows)  # x_n . u = 0 >= 0
        if not ok:
            _witness_failure(XI, u, bits, fail, where, j)
        if raw in seen:
            fail("patterns-distinct", f"{where}: chamber {j} repeats chamber {seen[raw]}")
            ok = False
        else:
            seen[raw] = j
        verified += ok
        # dual norm: ||+-X^T D_j lambda + X^T (2 D_j - I) z|| <= s for both signs
        base = [sum(compress(col, bits)) for col in LX]  # lden * X^T D_j lambda (unscaled)
        plus, minus = zs.get((j, 1)), zs.get((j, -1))
        for sg, z in ((1, plus), (-1, minus)):
            if sg == -1 and plus is None and minus is None:
                continue  # ||-v|| = ||v||: already checked
            if z is None:
                v, den = (base if sg == 1 else [-b for b in base]), lden
            else:
                idx, zi, zden = z
                v = [sg * zden * b for b in base]
                for i, zv in zip(idx, zi):
                    w = zv * lden if bits[i] else -zv * lden
                    row = XI[i]
                    for k in range(d):
                        v[k] += w * row[k]
                den = lden * zden
            if not norm_le(v, den, xe, s):
                fail("dual-norm", f"{where}: chamber {j} sign {'+' if sg > 0 else '-'}: "
                     f"||{'+' if sg > 0 else '-'}X^T D_j lambda + X^T (2D_j - I) z|| > s")
    if tick is not None:
        tick(n_ch % _BATCH)
    count = replay_count(XI, proof, fail, where, listed=verified)
    if count is not None and verified != count:
        fail("chamber-count", f"{where}: {verified} distinct verified chambers, the replayed "
             f"count is {count}")


def check_support_chambers(ev: Any, XI: list[list[int]], xe: int, lam: list[Fraction],
                           s: Fraction, fail: Any, where: str, tick: Any = None) -> None:
    """Method ``support-chambers``: rule ``support`` (as ``bab-support``, and nonempty), then
    the chamber evidence replayed by :func:`check_chambers` on the support rows ``X_S`` and
    ``lambda_S`` (bit ``k`` of a pattern, multiplier index ``k`` and "sample ``k``" in its
    failures mean row ``support[k]``).  Since ``lambda`` vanishes off ``S``,
    ``max_{||u||<=1} |lambda^T (Xu)_+|`` is the same maximum over the chambers of ``X_S``."""
    support = _get(ev, "support", list, where + ".evidence")
    if not check_support(support, len(XI), lam, fail, where, "support"):
        return
    if not support:
        fail("support", f"{where}: the support is empty (lambda = 0 proves nothing)")
        return
    check_chambers(ev, [XI[n] for n in support], xe, [lam[n] for n in support], s, fail,
                    f"{where} (on X_S, rows numbered in the support)", tick)
