"""Chambers of a rank-3 arrangement as the faces of its great circles (method ``extreme-rays``).

The planes ``h^T u = 0`` cut the unit sphere in great circles; their intersection lines are
the vertices ``±v``.  Each chamber is a spherical polygon whose corners are extreme rays of
the chamber's cone, so the sum of its unit corner rays is an interior witness.  Used by
:mod:`verify.geometry.chambers` (rank 3) and :mod:`verify.geometry.chambers_recursive`
(rank-3 restrictions).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

from verify.geometry.chamber_count import Hyperplanes, _cross, _primitive, exact_cyclic_order
from verify.geometry.proven_linalg import (
    exact_signs_paired,
    float_points_with_signs,
    group_order,
    scaled_roundings,
    unit_rows,
)

__all__ = ["extreme_rays", "certified_walk", "Walk"]


def _sgn(v: int) -> int:
    return (v > 0) - (v < 0)


def _perp_basis(V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors ``e1 ⊥ v`` and ``e2 = v x e1`` for each unit row ``v``."""
    k = np.argmin(np.abs(V), axis=1)
    A = np.zeros_like(V)
    A[np.arange(len(V)), k] = 1.0
    e1 = np.cross(V, A)
    e1 /= np.linalg.norm(e1, axis=1)[:, None]
    return e1, np.cross(V, e1)


def extreme_rays(
    H: np.ndarray,
    members: np.ndarray,
    sizes: np.ndarray,
    exact: Hyperplanes | None = None,
    exact_points: list[tuple[int, ...]] | None = None,
) -> np.ndarray:
    """Witnesses of the chambers of a rank-3 arrangement (faces of the great circles).

    ``members`` lists the planes through each intersection line, line after line
    (``sizes[l]`` planes for line ``l``).  Vertices are the unit rays ``+-v_l``; the circles
    are cut at their vertices (sorted by angle), the half-edges around each vertex sorted by
    tangent angle, the faces traced as cycles of the next-half-edge permutation, and each
    face's witness is the sum of its unit rays.  With ``exact`` (the hyperplanes with their
    integer normals) both angular sorts use exact integer comparisons instead of floats, and
    a second witness per face (the rational sum of the L1-normalised integer rays, rounded)
    is added for thin chambers; or, when the list ``exact_points`` is given, the exact
    integer sum of each face's primitive integer rays (a positive combination of all the
    extreme rays of the pointed cone: strictly inside it) is appended to it instead, for
    the faces whose float point is not on the inner side of every wall of the face.
    """
    Hn = unit_rows(H)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    a, b = Hn[members[starts]], Hn[members[starts + 1]]
    v = np.stack(
        [
            a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1],
            a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
            a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0],
        ],
        axis=1,
    )
    v = unit_rows(v)
    n_lines = len(sizes)
    V = np.empty((2 * n_lines, 3))
    V[0::2], V[1::2] = v, -v
    inc_line = np.repeat(np.arange(n_lines), sizes)
    inc_plane = members
    # entries: (plane, vertex) for both vertices of each incident line
    ent_plane, ent_vert, theta = _entries(inc_plane, inc_line, V, Hn)
    if exact is None:
        order = np.lexsort((theta, ent_plane))
    else:
        Vi = []
        for k in range(n_lines):
            f, g = exact.ints[members[starts[k]]], exact.ints[members[starts[k] + 1]]
            c = _primitive(_cross(f, g))
            Vi += [c, (-c[0], -c[1], -c[2])]
        order = group_order(
            ent_plane,
            lambda idx: exact_cyclic_order(
                exact.ints[ent_plane[idx[0]]], [Vi[v] for v in ent_vert[idx]]
            ),
        )
    ent_plane, ent_vert = ent_plane[order], ent_vert[order]
    n_ent = len(order)
    start, gstart, is_last, nxt = _cyclic_groups(ent_plane)
    # half-edges: 2k forward (entry k -> nxt[k]), 2k+1 backward (nxt[k] -> k)
    n_he = 2 * n_ent
    origin = np.empty(n_he, dtype=np.int64)
    origin[0::2], origin[1::2] = ent_vert, ent_vert[nxt]
    plane_of = np.repeat(ent_plane, 2)
    direction = np.tile([1.0, -1.0], n_ent)
    tang = np.cross(Hn[plane_of], V[origin]) * direction[:, None]
    t1, t2 = _perp_basis(V)
    phi = np.arctan2(
        np.einsum("ij,ij->i", tang, t2[origin]), np.einsum("ij,ij->i", tang, t1[origin])
    )
    if exact is None:
        rot = np.lexsort((phi, origin))  # half-edges grouped by origin, CCW around it
    else:

        def tangents(idx: np.ndarray) -> list[int]:
            ts = []
            for e in idx.tolist():
                t = _cross(exact.ints[plane_of[e]], Vi[origin[e]])
                ts.append(t if e % 2 == 0 else (-t[0], -t[1], -t[2]))
            return exact_cyclic_order(Vi[origin[idx[0]]], ts)

        rot = group_order(origin, tangents)
    n_faces, label = _face_labels(origin, rot)
    W = np.zeros((n_faces, 3))
    Vw = V
    if exact is not None and exact_points is not None:
        # the exact walk's vertices are the integer rays Vi (whose signs need not match the
        # float V): sum their float unit roundings, a well-centred candidate per face
        Vw = unit_rows(scaled_roundings(Vi, 3))
    for c in range(3):
        W[:, c] = np.bincount(label, weights=Vw[origin, c], minlength=n_faces)
    W[~np.all(np.isfinite(W), axis=1)] = 0.0  # degenerate float rays: no witness (checked)
    if exact is not None and exact_points is not None:  # exact integer interior points
        S3 = [[0, 0, 0] for _ in range(n_faces)]
        for e, f in zip(origin.tolist(), label.tolist()):
            v, acc = Vi[e], S3[f]
            acc[0] += v[0]
            acc[1] += v[1]
            acc[2] += v[2]
        # a face's float point is inside its chamber iff it is on the right side of every
        # wall of the face (the planes of its edges): exact, per half-edge; only the faces
        # whose float point fails get their exact point
        plane_l, face_l = plane_of.tolist(), label.tolist()
        side = [
            _sgn(sum(a * b for a, b in zip(exact.ints[h], S3[f]))) for h, f in zip(plane_l, face_l)
        ]
        fs = exact_signs_paired(exact.normals[plane_of], np.where(np.isfinite(W), W, 0.0)[label])
        bad = np.zeros(n_faces, dtype=bool)
        bad[label[fs != np.array(side, dtype=np.int8)]] = True
        for f in np.flatnonzero(bad).tolist():
            acc = S3[f]
            g = math.gcd(*acc)
            exact_points.append(tuple(x // g for x in acc) if g > 1 else tuple(acc))
    elif exact is not None:  # rational interior points, rounded with a local search
        pts = [[Fraction(0)] * 3 for _ in range(n_faces)]
        for e, f in zip(origin.tolist(), label.tolist()):
            v = Vi[e]
            n1 = abs(v[0]) + abs(v[1]) + abs(v[2])
            for c in range(3):
                pts[f][c] += Fraction(v[c], n1)
        W = np.vstack([W, float_points_with_signs(exact.ints, pts)])
    return W


# ----------------------------------------------------------------------------- certified walk


def _scaled_floats(rows: list[tuple[int, ...]]) -> np.ndarray:
    """Each integer row divided by ``2**bitlength(max |entry|)``, correctly rounded (relative
    error at most ``2**-53`` per entry; no underflow while entries have <= 1000 bits)."""
    out = np.empty((len(rows), 3))
    for i, v in enumerate(rows):
        s = 1 << max(abs(x) for x in v).bit_length()
        out[i] = (v[0] / s, v[1] / s, v[2] / s)
    return out


def _det3_signs(
    Hq: np.ndarray, Aq: np.ndarray, Bq: np.ndarray, exact: Callable[[np.ndarray], list[int]]
) -> np.ndarray:
    """Exact signs of ``det(h_i, a_i, b_i)`` from float rows with relative error at most
    ``2**-53`` per entry (a rigorous filter: perturbation ``3u`` plus evaluation ``gamma_4``,
    bounded by ``2**-49`` times the permanent, plus underflow); ``exact(idx)`` decides the
    others in integers."""
    with np.errstate(all="ignore"):
        D = np.einsum("ij,ij->i", Hq, np.cross(Aq, Bq))
        Aa, Ba = np.abs(Aq), np.abs(Bq)
        C = np.stack(
            [
                Aa[:, 1] * Ba[:, 2] + Aa[:, 2] * Ba[:, 1],
                Aa[:, 2] * Ba[:, 0] + Aa[:, 0] * Ba[:, 2],
                Aa[:, 0] * Ba[:, 1] + Aa[:, 1] * Ba[:, 0],
            ],
            axis=1,
        )
        T = 2.0**-49 * np.einsum("ij,ij->i", np.abs(Hq), C) + 2.0**-1000
        dec = np.abs(D) > T
        out = np.where(dec, np.sign(D), 0).astype(np.int8)
    idx = np.flatnonzero(~dec)
    if idx.size:
        out[idx] = exact(idx)
    return out


def _idet(h: tuple[int, ...], a: tuple[int, ...], b: tuple[int, ...]) -> int:
    c = _cross(a, b)
    return _sgn(h[0] * c[0] + h[1] * c[1] + h[2] * c[2])


@dataclass(frozen=True, eq=False)
class Walk:
    """The faces of a rank-3 arrangement from :func:`certified_walk`.

    ``W``: one float candidate per face (sum of its unit float rays; to be checked);
    per half-edge: ``label`` (its face), ``origin`` (its vertex), ``plane`` (the plane it
    runs on), ``forward`` (the face lies on the positive side of that plane iff True);
    ``vertices``: the exact integer ray of each vertex; ``sorted_exactly``: how many plane and
    vertex orders needed exact integer sorting (the others were certified from floats)."""

    W: np.ndarray
    label: np.ndarray
    origin: np.ndarray
    plane: np.ndarray
    forward: np.ndarray
    vertices: list[tuple[int, ...]]
    sorted_exactly: int

    def exact_points(self, faces: np.ndarray) -> list[tuple[int, ...]]:
        """The exact integer sum of the rays of each face in ``faces`` (strictly inside its
        chamber: a positive combination of all the extreme rays of the pointed cone)."""
        faces = np.asarray(faces, dtype=np.int64)
        if not faces.size:
            return []
        want = np.zeros(len(self.W), dtype=bool)
        want[faces] = True
        sel = np.flatnonzero(want[self.label])
        sel = sel[np.argsort(self.label[sel], kind="stable")]
        sums: dict[int, list[int]] = {int(f): [0, 0, 0] for f in faces.tolist()}
        for f, v in zip(self.label[sel].tolist(), self.origin[sel].tolist()):
            x, acc = self.vertices[v], sums[f]
            acc[0] += x[0]
            acc[1] += x[1]
            acc[2] += x[2]
        out = []
        for f in faces.tolist():
            acc = sums[f]
            g = math.gcd(*acc)
            out.append(tuple(a // g for a in acc) if g > 1 else tuple(acc))
        return out


def certified_walk(
    ints: list[tuple[int, ...]],
    F: np.ndarray,
    dirs: list[tuple[int, ...]],
    members: np.ndarray,
    sizes: np.ndarray,
    first_sign: np.ndarray,
) -> Walk:
    """The exact face structure of the great circles of the integer planes ``ints``.

    ``F``: float rows with relative error at most ``2**-53`` per entry of a positive
    multiple of each normal; line ``l`` has the primitive integer direction ``dirs[l]``, the
    planes ``members`` (``sizes[l]`` of them, ascending) and ``first_sign[l]``, the sign of
    ``(h_a x h_b) . dirs[l]`` for its first two planes ``a < b``.  The walk of
    :func:`extreme_rays` with its two kinds of angular sort made exact cheaply: each plane's
    float order is certified by exact signs of ``det(h, v_a, v_b) > 0`` for consecutive
    vertices and of their half-turn index (a float filter with an integer fallback), and
    only the planes that fail it are sorted in integers; at a vertex of two planes the
    rotation order follows from ``first_sign`` alone (``det(v, h_p x v, h_q x v) = det(h_p,
    h_q, v) |v|^2``), at the others it is sorted in integers.  Faces lie to the left of their
    half-edges (viewed from outside), i.e. on the positive side of the plane of a forward
    half-edge.

    Examples
    --------
    >>> ints = [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
    >>> dirs = [(0, 0, 1), (0, 1, 0), (1, 0, 0)]
    >>> w = certified_walk(ints, np.eye(3), dirs, np.array([0, 1, 0, 2, 1, 2]),
    ...                    np.array([2, 2, 2]), np.array([1, -1, 1]))
    >>> len(w.W), sorted(w.exact_points(np.arange(8)))[0]
    (8, (-1, -1, -1))
    """
    n_lines = len(dirs)
    Vi: list[tuple[int, ...]] = []
    for c in dirs:
        Vi += [tuple(c), (-c[0], -c[1], -c[2])]
    Vq = np.empty((2 * n_lines, 3))
    Vq[0::2] = _scaled_floats(dirs)
    Vq[1::2] = -Vq[0::2]
    Hq = np.asarray(F, dtype=np.float64)
    V, Hn = unit_rows(Vq), unit_rows(Hq)
    inc_line = np.repeat(np.arange(n_lines), sizes)
    ent_plane, ent_vert, theta = _entries(members, inc_line, V, Hn)
    order = np.lexsort((theta, ent_plane))
    ent_plane, ent_vert = ent_plane[order], ent_vert[order]
    n_ent = len(order)
    start, gstart, is_last, nxt = _cyclic_groups(ent_plane)

    def exact_on(pl: np.ndarray, a: np.ndarray, b: np.ndarray) -> Callable:
        return lambda idx: [_idet(ints[pl[i]], Vi[a[i]], Vi[b[i]]) for i in idx.tolist()]

    # certify each plane's cyclic order: consecutive turns in (0, pi), one half-turn change
    a, b = ent_vert, ent_vert[nxt]
    turn = _det3_signs(Hq[ent_plane], Vq[a], Vq[b], exact_on(ent_plane, a, b))
    ref = ent_vert[gstart]
    d_ref = _det3_signs(Hq[ent_plane], Vq[ref], Vq[a], exact_on(ent_plane, ref, a))
    half = np.where((d_ref > 0) | (a == ref), 0, 1)
    bad_step = (turn <= 0) | (~is_last & (half > half[nxt]))
    bad_plane = np.unique(ent_plane[bad_step])
    n_exact = len(bad_plane)
    if n_exact:
        firsts = np.flatnonzero(start)
        lasts = np.r_[firsts[1:], n_ent]
        first_of = dict(zip(ent_plane[firsts].tolist(), zip(firsts.tolist(), lasts.tolist())))
        for p in bad_plane.tolist():
            lo, hi = first_of[p]
            seg = ent_vert[lo:hi]
            o = exact_cyclic_order(ints[p], [Vi[v] for v in seg.tolist()])
            ent_vert[lo:hi] = seg[np.asarray(o, dtype=np.int64)]
    # half-edges: 2k forward (entry k -> nxt[k]), 2k+1 backward (nxt[k] -> k)
    n_he = 2 * n_ent
    origin = np.empty(n_he, dtype=np.int64)
    origin[0::2], origin[1::2] = ent_vert, ent_vert[nxt]
    plane_of = np.repeat(ent_plane, 2)
    prev = np.empty(n_ent, dtype=np.int64)
    prev[nxt] = np.arange(n_ent)
    fwd, bwd = 2 * np.arange(n_ent), 2 * prev + 1  # the two half-edges leaving entry k's vertex
    # rotation order around each vertex (counter-clockwise seen from outside)
    ev = np.lexsort((ent_plane, ent_vert))
    deg = np.bincount(ent_vert, minlength=2 * n_lines)
    vstart = np.r_[0, np.cumsum(deg)[:-1]]
    simple = np.flatnonzero(deg == 2)
    kp, kq = ev[vstart[simple]], ev[vstart[simple] + 1]
    sigma = first_sign[simple // 2] * np.where(simple % 2 == 0, 1, -1)
    rot_s = np.where(
        (sigma > 0)[:, None],
        np.stack([fwd[kp], fwd[kq], bwd[kp], bwd[kq]], axis=1),
        np.stack([fwd[kp], bwd[kq], bwd[kp], fwd[kq]], axis=1),
    )
    parts = [rot_s.ravel()]
    for v in np.flatnonzero(deg > 2).tolist():
        ks = ev[vstart[v] : vstart[v] + deg[v]]
        hes = np.concatenate([fwd[ks], bwd[ks]])
        ts = []
        for e in hes.tolist():
            t = _cross(ints[plane_of[e]], Vi[v])
            ts.append(t if e % 2 == 0 else (-t[0], -t[1], -t[2]))
        parts.append(hes[np.asarray(exact_cyclic_order(Vi[v], ts), dtype=np.int64)])
        n_exact += 1
    rot = np.concatenate(parts)
    n_faces, label = _face_labels(origin, rot)
    W = np.zeros((n_faces, 3))
    for c in range(3):
        W[:, c] = np.bincount(label, weights=V[origin, c], minlength=n_faces)
    forward = np.arange(n_he) % 2 == 0
    return Walk(W, label, origin, plane_of, forward, Vi, n_exact)


def _face_labels(origin: np.ndarray, rot: np.ndarray) -> tuple[int, np.ndarray]:
    """The faces of a planar half-edge structure: half-edge ``2k``/``2k + 1`` are twins,
    ``origin`` their start vertex, ``rot`` the half-edges grouped by origin in
    counter-clockwise order.  The next half-edge of a face is the first one clockwise from the
    twin at the end vertex; returns ``(number of faces, face label of each half-edge)``."""
    n_he = origin.size
    o_sorted = origin[rot]
    rstart = np.r_[True, o_sorted[1:] != o_sorted[:-1]]
    rlast = np.r_[o_sorted[1:] != o_sorted[:-1], True]
    glast = np.minimum.accumulate(np.where(rlast, np.arange(n_he), n_he)[::-1])[::-1]
    prev_pos = np.where(rstart, glast, np.arange(n_he) - 1)
    pos = np.empty(n_he, dtype=np.int64)
    pos[rot] = np.arange(n_he)
    twin = np.arange(n_he) ^ 1
    nxt_he = rot[prev_pos[pos[twin]]]
    G = scipy.sparse.coo_matrix((np.ones(n_he), (np.arange(n_he), nxt_he)), shape=(n_he, n_he))
    n_faces, label = scipy.sparse.csgraph.connected_components(G, directed=True, connection="weak")
    return int(n_faces), label


def _cyclic_groups(ent_plane: np.ndarray) -> tuple[np.ndarray, ...]:
    """For entries sorted by plane (then by angle): ``start`` / ``is_last`` (first / last of
    its plane's group), ``gstart`` (the index of its group's first entry) and ``nxt`` (the next
    entry around its plane, cyclically).

    Examples
    --------
    >>> [a.tolist() for a in _cyclic_groups(np.array([0, 0, 0, 1, 1]))][3]
    [1, 2, 0, 4, 3]
    """
    n_ent = len(ent_plane)
    start = np.r_[True, ent_plane[1:] != ent_plane[:-1]]
    gstart = np.maximum.accumulate(np.where(start, np.arange(n_ent), 0))
    is_last = np.r_[ent_plane[1:] != ent_plane[:-1], True]
    nxt = np.where(is_last, gstart, np.arange(n_ent) + 1)
    return start, gstart, is_last, nxt


def _entries(planes: np.ndarray, inc_line: np.ndarray, V: np.ndarray,
             Hn: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (plane, vertex) entries of a rank-3 arrangement -- both vertices ``2k``, ``2k + 1``
    of each line incident to each plane -- and the float angle of each vertex on its plane's
    great circle (in the basis :func:`_perp_basis` of the unit normals ``Hn``)."""
    ent_plane = np.concatenate([planes, planes])
    ent_vert = np.concatenate([2 * inc_line, 2 * inc_line + 1])
    e1, e2 = _perp_basis(Hn)
    P = V[ent_vert]
    theta = np.arctan2(
        np.einsum("ij,ij->i", P, e2[ent_plane]), np.einsum("ij,ij->i", P, e1[ent_plane])
    )
    return ent_plane, ent_vert, theta
