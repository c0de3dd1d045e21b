"""Pure-Python replays for the trusted checker: chamber counts and Gram-row signs.

Part of the trusted kernel (:mod:`verify.checker`): standard library and
:mod:`verify.geometry.rationals`
only.  :func:`replay_count` recomputes a chamber-count proof of
:func:`verify.geometry.chamber_count.count_chambers` on the exact data (rank 0/1/2, Cover's general
position, Zaslavsky in rank 3 by line multiplicities and in any rank by the lattice of
flats); :func:`gram_sign_rows` decides the orthogonal-separability signs of whole Gram rows.

Examples
--------
>>> replay_count([[1, 0], [0, 2], [1, 1]], {"method": "rank-2", "rank": 2, "n_hyperplanes": 3},
...              print, "t")
6
>>> gram_sign_rows([[1, 0], [-1, 1]], [1, -1])
[True, True]
"""

from __future__ import annotations

import itertools
import math
import re
from operator import mul
from typing import Any

from verify.checker.arithmetic import integer_rank

__all__ = [
    "replay_count",
    "gram_sign_rows",
    "first_dependent",
    "last_row_cofactors",
    "SignPack",
    "spread_bits",
]


def _primitive(v: list[int]) -> tuple[int, ...]:
    g = 0
    for t in v:
        g = math.gcd(g, t)
    if g == 0:
        return tuple(v)
    s = 1 if next(t for t in v if t) > 0 else -1
    return tuple(s * t // g for t in v)


def _hyperplanes(XI: list[list[int]]) -> list[tuple[int, ...]]:
    seen: dict[tuple[int, ...], None] = {}
    for row in XI:
        if any(row):
            seen.setdefault(_primitive(row), None)
    return list(seen)


def _rank_cols(H: list[tuple[int, ...]]) -> tuple[int, list[int]]:
    if not H:
        return 0, []
    r, rows, _ = integer_rank([list(h) for h in H])
    # columns of a nonsingular r x r minor of the normals (exact)
    _, cols, _ = integer_rank([list(c) for c in zip(*[H[i] for i in rows])])
    return r, sorted(cols)


def _cross(a: tuple[int, ...], b: tuple[int, ...]) -> list[int]:
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]


#: The statements a count proof may hold besides ``method``, ``rank``, ``n_hyperplanes`` and
#: ``n_zero_rows`` (all recomputed), per method; anything else is rule ``unchecked-claim``.
_PROOF_KEYS = {
    "rank-0": frozenset(),
    "rank-1": frozenset({"formula"}),
    "rank-2": frozenset({"formula"}),
    "cover": frozenset({"formula", "general_position"}),
    "zaslavsky-3": frozenset({"formula", "n_lines", "line_multiplicities", "mobius_abs_sum"}),
    "zaslavsky": frozenset({"flats_by_rank", "mobius_abs_by_rank", "mobius_abs_sum"}),
}
#: The builder's formula sentence per method (a fixed text: any other is a claim).
_FORMULAS = {"rank-1": "2", "rank-2": "2 * n_hyperplanes",
             "cover": "2 * sum_{k<rank} C(n_hyperplanes - 1, k)",
             "zaslavsky-3": "2 + 2 * sum_lines (m_L - 1)"}
_GENERAL_POSITION = re.compile(
    r"exact check of all C\((\d{1,9}),(\d{1,4})\) = (\d{1,400}) (\d{1,4})x(\d{1,4}) minors of "
    r"the distinct normals: (\d{1,400}) nonzero by rigorous float bounds, (\d{1,400}) by exact "
    r"integer determinants")


def _proof_statements(proof: dict, method: Any, r: int, m: int, n_zero: int, fail: Any,
                      where: str) -> None:
    """Rule ``unchecked-claim`` for the count proof: every key is one this checker replays
    (``method``, ``rank``, ``n_hyperplanes``; per method those of ``_PROOF_KEYS``), and those
    it can compare at once are compared: ``n_zero_rows``, the ``formula`` sentence, and the
    numbers of Cover's ``general_position`` sentence (``m``, ``r``, ``C(m, r)``; its split of
    the minors between float bounds and exact determinants is the builder's and must add up
    to ``C(m, r)``; the checker decides every minor itself)."""
    kind = f"{method}-3" if method == "zaslavsky" and r == 3 else method
    allowed = _PROOF_KEYS.get(kind) if isinstance(kind, str) else None
    if allowed is None:
        return  # an unknown method fails as "unsupported count proof"
    at = f"{where}: count_proof"
    extra = sorted(set(proof) - allowed - {"method", "rank", "n_hyperplanes", "n_zero_rows"},
                   key=str)
    if extra:
        shown = ", ".join(repr(str(k))[:40] for k in extra[:5])
        fail("unchecked-claim", f"{at}: key(s) {shown} are not part of the format (a claim "
             "the checker does not recompute)")
    if "n_zero_rows" in proof and proof["n_zero_rows"] != n_zero:
        fail("unchecked-claim", f"{at}: n_zero_rows {str(proof['n_zero_rows'])[:40]!r}, the "
             f"data have {n_zero} zero rows")
    if "formula" in proof and proof["formula"] != _FORMULAS.get(kind):
        fail("unchecked-claim", f"{at}: formula must read {_FORMULAS.get(kind)!r}")
    if "general_position" in proof:
        text = proof["general_position"]
        g = _GENERAL_POSITION.fullmatch(text) if type(text) is str else None
        nums = [int(v) for v in g.groups()] if g else []
        if not nums or nums[:5] != [m, r, math.comb(m, r), r, r] or nums[5] + nums[6] != nums[2]:
            fail("unchecked-claim", f"{at}: general_position must read 'exact check of all "
                 f"C({m},{r}) = {math.comb(m, r)} {r}x{r} minors of the distinct normals: A "
                 "nonzero by rigorous float bounds, B by exact integer determinants' with A + B "
                 f"= {math.comb(m, r)}")


def replay_count(XI: list[list[int]], proof: Any, fail: Any, where: str,
                 listed: int | None = None) -> int | None:
    """Replay a chamber-count proof on the exact data; return the count or ``None``.

    With ``listed`` (the number of distinct verified chambers of the certificate), the count a
    proof would give is compared with it *before* any expensive replay (the general-position
    test, the lattice of flats): a proof that cannot match the list fails at once, so the
    replay's work is only spent on a list as long as the count it proves.  Every other
    statement of the proof is compared too (rule ``unchecked-claim``, :func:`_proof_statements`).
    """
    method = proof.get("method") if isinstance(proof, dict) else None
    H = _hyperplanes(XI)
    m = len(H)
    r, cols = _rank_cols(H)
    if isinstance(proof, dict):
        _proof_statements(proof, method, r, m, sum(not any(row) for row in XI), fail, where)
    if proof.get("n_hyperplanes") != m or proof.get("rank") != r:
        fail("count-proof", f"{where}: the proof states rank {proof.get('rank')} and "
             f"{proof.get('n_hyperplanes')} hyperplanes; the data have rank {r} and {m}")
        return None
    Hr = [tuple(h[c] for c in cols) for h in H]
    if method in ("rank-0", "rank-1", "rank-2"):
        if int(method[-1]) != r:
            fail("count-proof", f"{where}: method {method} but the rank is {r}")
            return None
        return {0: 1, 1: 2, 2: 2 * m}[r]
    if method == "cover":
        cover = 2 * sum(math.comb(m - 1, k) for k in range(r))
        if listed is not None and listed != cover:
            fail("chamber-count", f"{where}: {listed} distinct verified chambers; general "
                 f"position would give {cover} (count proof not replayed)")
            return None
        if r == 3:  # general position <=> no three normals dependent <=> all lines simple
            lines = _lines(Hr)
            bad = next((L for L in lines.values() if len(L) > 2), None)
            if bad is not None:
                fail("count-proof", f"{where}: not in general position: hyperplanes "
                     f"{sorted(bad)[:3]} are dependent")
                return None
        else:
            bad_sub = first_dependent(Hr, r)
            if bad_sub is not None:
                fail("count-proof", f"{where}: not in general position: hyperplanes "
                     f"{list(bad_sub)} are dependent")
                return None
        return 2 * sum(math.comb(m - 1, k) for k in range(r))
    if method == "zaslavsky" and r == 3:
        lines = _lines(Hr)
        hist: dict[str, int] = {}
        for L in lines.values():
            hist[str(len(L))] = hist.get(str(len(L)), 0) + 1
        if proof.get("line_multiplicities") != dict(sorted(hist.items())):
            fail("count-proof", f"{where}: line multiplicities {proof.get('line_multiplicities')}"
                 f" differ from the recomputed {dict(sorted(hist.items()))}")
            return None
        total = 2 + 2 * sum(len(L) - 1 for L in lines.values())
        for key, want in (("n_lines", len(lines)), ("mobius_abs_sum", total)):
            if key in proof and proof[key] != want:
                fail("count-proof", f"{where}: the proof states {key} = "
                     f"{str(proof[key])[:40]}, the data give {want}")
                return None
        return total
    if method == "zaslavsky":
        claimed = proof.get("mobius_abs_sum")
        if listed is not None and claimed != listed:
            fail("chamber-count", f"{where}: {listed} distinct verified chambers; the proof "
                 f"claims {claimed} (count proof not replayed)")
            return None
        total, flats, by_rank = _lattice(Hr, r)
        if proof.get("mobius_abs_sum") != total:
            fail("count-proof", f"{where}: the proof states sum |mu| = "
                 f"{proof.get('mobius_abs_sum')}, the lattice of flats gives {total}")
            return None
        for key, want in (("flats_by_rank", flats), ("mobius_abs_by_rank", by_rank)):
            if key in proof and proof[key] != want:
                fail("count-proof", f"{where}: the proof states {key} = "
                     f"{str(proof[key])[:60]}, the lattice of flats gives {want}")
                return None
        return total
    fail("count-proof", f"{where}: unsupported count proof (method {method!r}, rank {r})")
    return None


def last_row_cofactors(rows: list[tuple[int, ...]] | list[list[int]], r: int) -> list[int]:
    """The generalized cross product of ``r - 1`` integer vectors of length ``r``: ``c`` with
    ``det[rows; h] = c . h`` for every ``h`` (Laplace expansion along the last row).

    Examples
    --------
    >>> last_row_cofactors([(1, 0, 0), (0, 1, 0)], 3)
    [0, 0, 1]
    """
    minors: dict[tuple[int, ...], int] = {(): 1}
    for t, h in enumerate(rows):
        minors = _extend(minors, h, t, r)
    full = tuple(range(r))
    return [(-1) ** (r - 1 + p) * minors[full[:p] + full[p + 1 :]] for p in range(r)]


def _extend(minors: dict[tuple[int, ...], int], h: Any, t: int, r: int) -> dict[tuple[int, ...],
                                                                              int]:
    """Minors of ``t + 1`` rows on every ``t + 1`` column subset from those of the first ``t``
    rows, by Laplace expansion along the new last row ``h``."""
    out = {}
    for C in itertools.combinations(range(r), t + 1):
        acc = 0
        for p, j in enumerate(C):
            if h[j]:
                mnr = minors[C[:p] + C[p + 1 :]]
                if mnr:
                    acc += -h[j] * mnr if (t + p) & 1 else h[j] * mnr
        out[C] = acc
    return out


def first_dependent(Hr: list[tuple[int, ...]], r: int) -> tuple[int, ...] | None:
    """The lexicographically first ``r``-subset of the integer vectors ``Hr`` (length ``r``)
    with a zero determinant, or ``None`` when every ``r`` of them are independent.

    The same answer as ``integer_det`` on every subset of ``itertools.combinations(range(m),
    r)`` in turn, computed faster.  For every ``(r-2)``-subset the minors give a matrix ``A``
    with ``c = A h`` the cofactor vector of the last row of ``[prefix; h]``; so for every
    ``(r-1)``-subset ``det[prefix, h_i, h_l] = c . h_l`` with ``c = A h_i``, for *all* later
    ``l`` at once by Kronecker packing: with the vectors in reverse order, column ``k`` of the
    last ``t`` of them is ``P_k = sum_l Hr[l][k] 2**(B (m-1-l))``, so ``sum_k c_k P_k`` holds
    every ``c . h_l`` as a base-``2**B`` digit once ``2**(B-1) - 1`` is added to every slot
    (``|c . h_l| < 2**(B-2)`` since ``|det| <= r! max|h|**r``); slot ``l`` is zero iff adding
    1 more to every slot flips its top bit.

    Examples
    --------
    >>> first_dependent([(1, 0), (0, 1), (2, 0)], 2)
    (0, 2)
    >>> first_dependent([(1, 0), (0, 1), (1, 1)], 2) is None
    True
    """
    m = len(Hr)
    if m < r or r < 1:
        return None
    if r == 1:
        return next(((i,) for i, h in enumerate(Hr) if h[0] == 0), None)
    mx = max((abs(v) for h in Hr for v in h), default=0)
    B = 8 * ((r * mx.bit_length() + math.factorial(r).bit_length() + 3 + 7) // 8)
    nb = B // 8
    off = 1 << (B - 2)
    one = b"\x01" + bytes(nb - 1)
    top1 = (1 << (B - 1)).to_bytes(nb, "little")
    reps = [int.from_bytes(one * t, "little") for t in range(m + 1)]
    tops = [int.from_bytes(top1 * t, "little") for t in range(m + 1)]
    off1s = [((1 << (B - 1)) - 1) * rep for rep in reps]
    lows = []  # lows[k][t]: column k of the last t vectors, packed in reverse order
    for k in range(r):
        raw = b"".join((h[k] + off).to_bytes(nb, "little") for h in reversed(Hr))
        lows.append([int.from_bytes(raw[: nb * t], "little") - off * reps[t]
                     for t in range(m + 1)])
    full = tuple(range(r))

    def cofactor_matrix(minors: dict[tuple[int, ...], int]) -> list[list[int]]:
        A = [[0] * r for _ in range(r)]
        for p in range(r):
            C = full[:p] + full[p + 1 :]
            for q, j in enumerate(C):
                sg = -1 if (r - 1 + p + r - 2 + q) & 1 else 1
                A[p][j] = sg * minors[C[:q] + C[q + 1 :]]
        return A

    def dfs(start: int, t: int, minors: dict[tuple[int, ...], int],
            chosen: tuple[int, ...]) -> tuple[int, ...] | None:
        if t == r - 2:
            A = cofactor_matrix(minors)
            for i in range(start, m - 1):
                h = Hr[i]
                tl = m - 1 - i  # the vectors l > i
                S = off1s[tl]
                for Ap, low in zip(A, lows):
                    cp = sum(map(mul, Ap, h))
                    if cp:
                        S += cp * low[tl]
                Z = (S ^ (S + reps[tl])) & tops[tl]
                if Z:  # the highest zero slot is the smallest l
                    return chosen + (i, m - 1 - (Z.bit_length() - 1) // B)
            return None
        for i in range(start, m - (r - t) + 1):
            got = dfs(i + 1, t + 1, _extend(minors, Hr[i], t, r), chosen + (i,))
            if got is not None:
                return got
        return None

    return dfs(0, 0, {(): 1}, ())


_SPREAD = [bytes((b >> i) & 1 for i in range(8)) for b in range(256)]  # byte -> its 8 bits
_TOPBIT = bytes(b >> 7 for b in range(256))  # bytes.translate table: byte -> its top bit


def spread_bits(raw: bytes) -> bytes:
    """Bit ``n`` of the little-endian packed pattern as byte ``n`` (0 or 1).

    Examples
    --------
    >>> spread_bits(bytes([0b101]))
    b'\\x01\\x00\\x01\\x00\\x00\\x00\\x00\\x00'
    """
    return b"".join(map(_SPREAD.__getitem__, raw))


class SignPack:
    """Exact signs of ``x_n . u`` for every nonzero row at once (Kronecker packing).

    Column ``k`` of the nonzero rows is the integer ``P_k = sum_n X[n][k] 2**(B n)``, so ``sum_k
    u_k P_k = sum_n g_n 2**(B n)`` exactly (``g_n = x_n . u``).  ``B`` (8 times a power of two;
    the packing of the last two widths is cached, so hostile witnesses of many widths cannot
    multiply the memory) makes ``|g_n| < 2**(B-2)``; adding ``2**(B-1) - 1`` (resp.
    ``2**(B-1)``) to every slot keeps the slots the base-``2**B`` digits, whose top bits are
    then ``g_n > 0`` (resp. ``g_n >= 0``).  ``rows``: the nonzero rows, in order.

    Examples
    --------
    >>> SignPack([[1, 0], [0, 0], [1, -1]]).tops([1, 1])  # dots 1 and 0 (row 1 is zero)
    (b'\\x01\\x01', b'\\x01\\x00')
    """

    def __init__(self, XI: list[list[int]]) -> None:
        self.rows = [n for n, row in enumerate(XI) if any(row)]
        self.XN = [XI[n] for n in self.rows]
        self.d = len(XI[0])
        self.xbits = max((abs(v) for row in self.XN for v in row), default=0).bit_length()
        self._cache: dict[int, tuple[list[int], int, int]] = {}

    def _packed(self, B: int) -> tuple[list[int], int, int]:
        got = self._cache.get(B)
        if got is None:
            nb, n = B // 8, len(self.XN)
            off = 1 << (B - 2)
            rep = int.from_bytes((b"\x01" + bytes(nb - 1)) * n, "little")
            P = [int.from_bytes(b"".join((row[k] + off).to_bytes(nb, "little")
                                         for row in self.XN), "little") - off * rep
                 for k in range(self.d)]
            if len(self._cache) >= 2:  # bounded: a copy of the data per width, at most two
                self._cache.pop(next(iter(self._cache)))
            got = self._cache[B] = (P, rep, ((1 << (B - 1)) - 1) * rep)
        return got

    def tops(self, u: list[int]) -> tuple[bytes, bytes]:
        """Per nonzero row, as bytes 0/1: ``x_n . u >= 0`` and ``x_n . u > 0``."""
        ubits = max(abs(t) for t in u).bit_length()
        nbytes = (self.xbits + ubits + self.d.bit_length() + 2 + 7) // 8
        B = 8 * (1 << (nbytes - 1).bit_length())  # widths rounded to powers of two bytes
        P, rep, off1 = self._packed(B)
        T1 = off1
        for c, Pk in zip(u, P):
            if c:
                T1 += c * Pk
        nb, L = B // 8, B // 8 * len(self.XN)
        t1 = T1.to_bytes(L, "little")[nb - 1 :: nb].translate(_TOPBIT)
        t0 = (T1 + rep).to_bytes(L, "little")[nb - 1 :: nb].translate(_TOPBIT)
        return t0, t1


def _restrict(K: list[list[int]], h: tuple[int, ...]) -> list[list[int]]:
    """Integer basis of ``span(K) ∩ h^⊥`` from an integer basis ``K`` (fraction-free)."""
    dots = [sum(map(mul, h, v)) for v in K]
    p = next((i for i, t in enumerate(dots) if t), None)
    if p is None:
        return K
    out = []
    for i, v in enumerate(K):
        if i != p:
            w = [dots[p] * a - dots[i] * b for a, b in zip(v, K[p])]
            g = 0
            for t in w:
                g = math.gcd(g, t)
            out.append([t // g for t in w] if g > 1 else w)
    return out


def _zaslavsky(Hr: list[tuple[int, ...]], r: int) -> int:
    """``sum_F |mu(0, F)|`` over the lattice of flats, recomputed from scratch (exact)."""
    return _lattice(Hr, r)[0]


def _lattice(Hr: list[tuple[int, ...]], r: int) -> tuple[int, list[int], list[int]]:
    """``sum_F |mu(0, F)|`` over the lattice of flats, recomputed from scratch (exact), with the
    number of flats and the sum of ``|mu|`` per rank.

    A flat is the set of hyperplanes containing an intersection subspace (kept as an exact
    integer basis ``K`` of that subspace); the flats of rank ``k + 1`` are the closures of a
    flat of rank ``k`` plus one more hyperplane, and every flat of rank ``k`` below a flat of
    rank ``k + 1`` generates it, so ``mu(F) = -sum_{G < F} mu(G)`` runs over recorded parents.
    """
    m = len(Hr)
    eye = [[int(i == j) for j in range(r)] for i in range(r)]
    space: dict[frozenset[int], list[list[int]]] = {frozenset(): eye}
    below: dict[frozenset[int], set[frozenset[int]]] = {frozenset(): set()}
    levels: list[list[frozenset[int]]] = [[frozenset()]]
    for k in range(r):
        nxt: list[frozenset[int]] = []
        for F in levels[k]:
            covered = set(F)
            for h in range(m):
                if h in covered:
                    continue
                K = _restrict(space[F], Hr[h])
                members = frozenset(
                    i for i in range(m) if all(sum(map(mul, Hr[i], v)) == 0 for v in K)
                )
                covered |= members
                if members not in space:
                    space[members] = K
                    below[members] = set()
                    nxt.append(members)
                below[members] |= below[F] | {F}
        levels.append(nxt)
    mu: dict[frozenset[int], int] = {frozenset(): 1}
    for k in range(1, r + 1):
        for F in levels[k]:
            mu[F] = -sum(mu[G] for G in below[F])
    return (sum(abs(v) for v in mu.values()), [len(level) for level in levels],
            [sum(abs(mu[F]) for F in level) for level in levels])


def _lines(Hr: list[tuple[int, ...]]) -> dict[tuple[int, ...], set[int]]:
    lines: dict[tuple[int, ...], set[int]] = {}
    for a in range(len(Hr)):
        for b in range(a + 1, len(Hr)):
            key = _primitive(_cross(Hr[a], Hr[b]))
            lines.setdefault(key, set()).update((a, b))
    return lines


def gram_sign_rows(XI: list[list[int]], y: list[int]) -> list[bool]:
    """Per sample ``n``: every ``x_n . x_m`` has the orthogonal-separability sign (``> 0``
    same label, ``<= 0`` otherwise), decided exactly for a whole Gram row at once.

    Kronecker packing: column ``k`` is the integer ``P_k = sum_m X[m][k] 2**(B m)``, so
    ``sum_k X[n][k] P_k = sum_m g_m 2**(B m)`` exactly (``g_m = x_n . x_m``).  Adding
    ``D - 1 = 2**(B-1) - 1`` to every slot keeps each slot in ``[0, 2**B)`` (``|g_m| <
    2**(B-2)``), so the slots are the base-``2**B`` digits and the top bit of slot ``m`` is set
    iff ``g_m >= 1``.  The row is right iff the top bits are set exactly on the same-label slots.
    """
    N, d = len(XI), len(XI[0])
    mx = max((abs(v) for row in XI for v in row), default=0)
    B = 8 * ((2 * mx.bit_length() + d.bit_length() + 3 + 7) // 8)
    nb = B // 8
    off = 1 << (B - 2)
    rep = int.from_bytes((b"\x01" + b"\x00" * (nb - 1)) * N, "little")
    P = [
        int.from_bytes(b"".join((XI[m][k] + off).to_bytes(nb, "little") for m in range(N)),
                       "little") - off * rep
        for k in range(d)
    ]
    top = (1 << (B - 1)).to_bytes(nb, "little")
    zero = bytes(nb)
    offs = ((1 << (B - 1)) - 1) * rep  # D - 1 in every slot
    masks = {c: int.from_bytes(b"".join(top if y[m] == c else zero for m in range(N)), "little")
             for c in (1, -1)}
    allmask = int.from_bytes(top * N, "little")
    out = []
    for n in range(N):
        mask = masks[1 if y[n] > 0 else -1]
        S = offs
        for c, Pk in zip(XI[n], P):
            if c:
                S += c * Pk
        out.append(S & allmask == mask)
    return out
