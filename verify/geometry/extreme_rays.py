"""Chambers of a rank-3 arrangement as the faces of its great circles (method ``extreme-rays``).

The planes ``h^T u = 0`` cut the unit sphere in great circles; their intersection lines are
the vertices ``±v``.  Each chamber is a spherical polygon whose corners are extreme rays of
the chamber's cone, so the sum of its unit corner rays is an interior witness.  Used by
:mod:`verify.geometry.chambers` (rank 3) and :mod:`verify.geometry.chambers_recursive`
(rank-3 restrictions).
"""

from __future__ import annotations

import math
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

__all__ = ["extreme_rays"]


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
    ent_plane = np.concatenate([inc_plane, inc_plane])
    ent_vert = np.concatenate([2 * inc_line, 2 * inc_line + 1])
    e1, e2 = _perp_basis(Hn)
    P = V[ent_vert]
    theta = np.arctan2(
        np.einsum("ij,ij->i", P, e2[ent_plane]), np.einsum("ij,ij->i", P, e1[ent_plane])
    )
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
    start = np.r_[True, ent_plane[1:] != ent_plane[:-1]]
    gstart = np.maximum.accumulate(np.where(start, np.arange(n_ent), 0))
    is_last = np.r_[ent_plane[1:] != ent_plane[:-1], True]
    nxt = np.where(is_last, gstart, np.arange(n_ent) + 1)
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
    o_sorted = origin[rot]
    rstart = np.r_[True, o_sorted[1:] != o_sorted[:-1]]
    rlast = np.r_[o_sorted[1:] != o_sorted[:-1], True]
    glast = np.minimum.accumulate(np.where(rlast, np.arange(n_he), n_he)[::-1])[::-1]
    prev_pos = np.where(rstart, glast, np.arange(n_he) - 1)
    pos = np.empty(n_he, dtype=np.int64)
    pos[rot] = np.arange(n_he)
    twin = np.arange(n_he) ^ 1
    nxt_he = rot[prev_pos[pos[twin]]]  # first edge clockwise from the twin at the end vertex
    G = scipy.sparse.coo_matrix((np.ones(n_he), (np.arange(n_he), nxt_he)), shape=(n_he, n_he))
    n_faces, label = scipy.sparse.csgraph.connected_components(G, directed=True, connection="weak")
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
