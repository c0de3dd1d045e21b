"""The certified great-circle walk (verify.geometry.extreme_rays.certified_walk) and its exact
determinant filter, cross-checked against exact integer arithmetic and the exact face
enumeration of verify.geometry.faces."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.geometry.chambers_incremental import _lines3, integer_arrangement_chambers
from verify.geometry.extreme_rays import _det3_signs, _idet, _scaled_floats, certified_walk
from verify.geometry.faces import enumerate_faces


def _walk(ints):
    dirs, members, sizes, first = _lines3(ints)
    return certified_walk(ints, _scaled_floats(ints), dirs, members, sizes, first), sizes


def _face_sign_set(ints):
    fc = enumerate_faces([list(h) for h in ints])
    return {tuple(int(v) for v in r) for r in fc.chambers().tolist()}


def _exact_sign_set(ints, pts):
    H = np.array([list(h) for h in ints], dtype=object)
    out = set()
    for p in pts:
        s = H.dot(np.array(list(p), dtype=object)).tolist()
        assert all(v != 0 for v in s)
        out.add(tuple((v > 0) - (v < 0) for v in s))
    return out


def _primitive(v) -> tuple[int, ...]:
    v = [int(x) for x in v]
    g = np.gcd.reduce(np.array(v, dtype=object))
    s = 1 if next(x for x in v if x) > 0 else -1
    return tuple(s * x // int(g) for x in v)


def _cases() -> list[list[tuple[int, ...]]]:
    rng = np.random.default_rng(2)
    grid = sorted({_primitive(p) for p in itertools.product((-1, 0, 1), repeat=3) if any(p)})
    t = 1 << 52
    near = [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (t, t + 1, 0), (1, 1, 1),
            (t, t + 1, t), (t, t, t + 1), (0, 1, 1)]
    small = sorted({_primitive(v) for v in rng.integers(-3, 4, (25, 3)) if np.any(v)})
    big = sorted({_primitive([int(x) * (1 << 90) + int(y) for x, y in zip(a, b)])
                  for a, b in zip(rng.integers(-5, 6, (12, 3)), rng.integers(-9, 10, (12, 3)))})
    return [grid, near, small, big]


def test_certified_walk_has_exactly_the_chambers_of_the_face_enumeration():
    for ints in _cases():
        ints = list(dict.fromkeys(ints))
        walk, sizes = _walk(ints)
        count = 2 + 2 * int(np.sum(sizes - 1))  # Zaslavsky in rank 3
        pts = walk.exact_points(np.arange(len(walk.W)))
        got = _exact_sign_set(ints, pts)
        assert len(walk.W) == len(got) == count
        assert got == _face_sign_set(ints)


def test_faces_lie_on_the_positive_side_of_forward_half_edges():
    for ints in _cases()[:3]:
        walk, _ = _walk(ints)
        pts = walk.exact_points(np.arange(len(walk.W)))
        for f, p, e_fwd in zip(walk.label.tolist(), walk.plane.tolist(), walk.forward.tolist()):
            h, u = ints[p], pts[f]
            side = sum(a * b for a, b in zip(h, u))
            assert (side > 0) == e_fwd and side != 0


def test_near_degenerate_planes_need_exact_sorts_and_stay_complete():
    ints = _cases()[1]
    walk, sizes = _walk(ints)
    assert walk.sorted_exactly > 0  # float angles could not be certified somewhere
    res = integer_arrangement_chambers(ints)
    assert res.complete and len(res.W) + len(res.exact_points) == 2 + 2 * int(np.sum(sizes - 1))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(-(2**200), 2**200), min_size=3, max_size=3), min_size=9,
             max_size=9),
    st.integers(0, 3),
)
def test_det3_filter_equals_exact_determinants(rows, mode):
    h, a, b = (tuple(r) for r in (rows[0:3]))
    trip = [tuple(rows[i]) for i in range(3, 9)]
    if mode == 1:  # exactly singular: b a combination of h and a
        b = tuple(2 * x - 3 * y for x, y in zip(h, a))
    elif mode == 2:  # nearly singular
        b = tuple(2 * x - 3 * y + (1 if i == 0 else 0) for i, (x, y) in enumerate(zip(h, a)))
    H = [h, trip[0], trip[3]]
    A = [a, trip[1], trip[4]]
    B = [b, trip[2], trip[5]]
    if not all(any(v) for v in H + A + B):
        return
    got = _det3_signs(_scaled_floats(H), _scaled_floats(A), _scaled_floats(B),
                      lambda idx: [_idet(H[i], A[i], B[i]) for i in idx.tolist()])
    want = []
    for x, y, z in zip(H, A, B):
        d = sum(
            s * x[i] * y[j] * z[k]
            for (i, j, k), s in zip(itertools.permutations(range(3)), (1, -1, -1, 1, 1, -1))
        )
        want.append((d > 0) - (d < 0))
    assert got.tolist() == want
