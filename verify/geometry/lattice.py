"""networkx views of the arrangement: face poset, chamber flip graph, lattice of flats.

* :func:`face_poset` -- Hasse diagram of the faces ordered as in the paper's Appendix D.6:
  ``sigma <= sigma'`` when ``sigma'_n = sigma_n`` wherever ``sigma_n != 0`` (``sigma`` lies in
  the closure of ``sigma'``).  Edges go from a face to the faces covering it (one dimension up).
* :func:`flip_graph` -- chambers, adjacent when they differ exactly on the rows of one
  hyperplane class (parallel and antiparallel rows flip together), i.e. share a facet.
* :func:`lattice_of_flats` -- the intersections of hyperplanes, ordered by inclusion of the
  sets of rows vanishing on them.

All node and edge attributes are GraphML scalars (str, int), so :func:`write_graphml` and
:func:`graph_to_json` export the graphs as they are.

Examples
--------
>>> G = face_poset([[1.0, 0.0], [0.0, 1.0]])
>>> G.number_of_nodes(), G.number_of_edges()
(9, 12)
>>> sorted(G.successors("+0"))
['++', '+-']
>>> F = flip_graph(enumerate_faces([[1.0, 0.0], [0.0, 1.0]]))
>>> sorted(d for _, d in F.degree())
[2, 2, 2, 2]
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np

from verify.errors import InputError
from verify.geometry.faces import Faces, enumerate_faces
from verify.io.files import check_writable, write_atomic

__all__ = [
    "face_poset",
    "flip_graph",
    "lattice_of_flats",
    "hyperplane_classes",
    "write_graphml",
    "graph_to_json",
]

_CHUNK = 4_000_000


def _as_faces(obj: Any, limit: int | None) -> Faces:
    return obj if isinstance(obj, Faces) else enumerate_faces(obj, limit=limit)


def _below(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Boolean matrix ``[i, j] = lo[i] <= hi[j]`` in the face order (chunked)."""
    out = np.zeros((lo.shape[0], hi.shape[0]), dtype=bool)
    if lo.size == 0 or hi.size == 0:
        if lo.shape[1] == 0:
            out[:] = True
        return out
    step = max(1, _CHUNK // max(1, hi.shape[0] * lo.shape[1]))
    for a in range(0, lo.shape[0], step):
        blk = lo[a : a + step, None, :]
        out[a : a + step] = ((blk == 0) | (blk == hi[None, :, :])).all(axis=2)
    return out


def face_poset(X: Any, *, limit: int | None = None) -> nx.DiGraph:
    """Hasse diagram of the face poset of the arrangement of ``X``.

    Parameters
    ----------
    X : array_like or Faces
        Data matrix, or the result of :func:`verify.geometry.faces.enumerate_faces`.
    limit : int, optional
        Passed to :func:`~verify.geometry.faces.enumerate_faces`.

    Returns
    -------
    networkx.DiGraph
        Nodes are sign strings such as ``"+-0+"`` with attributes ``sign``, ``dim`` and
        ``witness`` (exact integer point, space separated); an edge ``a -> b`` means ``b``
        covers ``a`` (``a`` is a facet of ``b``).  ``G.graph`` holds ``rank`` and ``n_samples``.

    Examples
    --------
    >>> G = face_poset([[1.0, 1.0]])
    >>> sorted(G.edges())
    [('0', '+'), ('0', '-')]
    """
    fc = _as_faces(X, limit)
    G = nx.DiGraph(rank=fc.rank, n_samples=fc.n_samples, n_features=fc.n_features)
    names = [fc.sign_string(j) for j in range(len(fc))]
    for j, name in enumerate(names):
        G.add_node(
            name, sign=name, dim=int(fc.dims[j]), witness=" ".join(str(v) for v in fc.witnesses[j])
        )
    for k in range(fc.rank):
        lo, hi = fc.of_dim(k), fc.of_dim(k + 1)
        le = _below(fc.signs[lo], fc.signs[hi])
        for a, b in zip(*np.nonzero(le)):
            G.add_edge(names[lo[a]], names[hi[b]])
    return G


def hyperplane_classes(bits: np.ndarray) -> list[list[int]]:
    """Group the rows whose hyperplanes coincide, read off a complete chamber list.

    ``bits[j, n] = 1`` iff ``x_n^T u >= 0`` on chamber ``j``.  Two distinct hyperplanes
    through the origin cut space into four open sectors, each holding a chamber, so two rows
    share a hyperplane iff their columns are always equal or always opposite.  Constant
    columns (zero rows) never flip and belong to no class.

    Examples
    --------
    >>> hyperplane_classes(np.array([[1, 0, 1], [0, 1, 1], [1, 0, 0], [0, 1, 0]]))
    [[0, 1], [2]]
    """
    bits = np.asarray(bits, dtype=np.int8)
    p, n = bits.shape
    classes: dict[bytes, list[int]] = {}
    for i in range(n):
        col = bits[:, i]
        if p == 0 or (col == col[0]).all():
            continue
        key = (col if col[0] == 1 else 1 - col).tobytes()
        classes.setdefault(key, []).append(i)
    return list(classes.values())


def _chamber_bits(chambers: Any) -> tuple[np.ndarray, list[str] | None]:
    if isinstance(chambers, Faces):
        s = chambers.chambers()
        wit = [
            " ".join(str(v) for v in chambers.witnesses[j]) for j in chambers.of_dim(chambers.rank)
        ]
        return (s >= 0).astype(np.int8), wit
    if hasattr(chambers, "pattern_matrix"):
        bits = np.asarray(chambers.pattern_matrix(), dtype=np.int8)
        wit = None
        if getattr(chambers, "witnesses", None) is not None:
            wit = [" ".join(repr(float(v)) for v in w) for w in np.asarray(chambers.witnesses)]
            for j, u in getattr(chambers, "exact_witnesses", {}).items():  # thin: exact ints
                wit[j] = " ".join(str(v) for v in u)
        return bits, wit
    arr = np.asarray(chambers)
    if arr.ndim != 2:
        raise InputError(
            "chambers: expected Faces, a Chambers result or a 2-D array of chamber patterns, "
            f"received an array with ndim={arr.ndim}"
        )
    vals = set(np.unique(arr).tolist())
    if not vals <= {-1, 0, 1}:
        raise InputError(
            f"chambers: expected entries in {{-1, 0, 1}}, received values {sorted(vals)}"
        )
    if -1 in vals:
        return (arr >= 0).astype(np.int8), None
    return arr.astype(np.int8), None


def flip_graph(chambers: Any) -> nx.Graph:
    """Chamber adjacency graph: chambers separated by exactly one hyperplane.

    Parameters
    ----------
    chambers : Faces, Chambers, array_like
        A :class:`~verify.geometry.faces.Faces` result, a ``Chambers`` result of
        :func:`verify.geometry.chambers.enumerate_chambers`, a complete ``(p, N)`` array of chamber
        patterns (integer 0/1 bits, 1 iff ``x_n^T u >= 0``, or +-1 signs).

    Returns
    -------
    networkx.Graph
        Nodes ``0..p-1`` with attributes ``pattern`` (0/1 string) and, when known,
        ``witness``; edges carry ``rows`` (the flipped rows, comma separated).

    Notes
    -----
    Two chambers share a facet iff exactly one hyperplane separates them, and rows on the
    same hyperplane (parallel or antiparallel) always flip together, so the rows in which the
    patterns differ must be exactly one class of :func:`hyperplane_classes`.

    Examples
    --------
    >>> F = flip_graph(np.array([[1, 1], [0, 0]]))   # x_2 = -x_1: one hyperplane
    >>> list(F.edges(data="rows"))
    [(0, 1, '0,1')]
    """
    if not isinstance(chambers, Faces) and not hasattr(chambers, "pattern_matrix"):
        arr = np.asarray(chambers)
        if arr.dtype.kind not in "biu":
            raise InputError(
                "chambers: expected Faces, a Chambers result or an integer array of chamber "
                f"patterns, received dtype {arr.dtype}; for a data matrix X pass "
                "enumerate_faces(X) or enumerate_chambers(X)"
            )
        chambers = arr
    bits, wit = _chamber_bits(chambers)
    index = {row.tobytes(): j for j, row in enumerate(bits)}
    G = nx.Graph()
    for j, row in enumerate(bits):
        attrs = {"pattern": "".join(str(int(b)) for b in row)}
        if wit is not None:
            attrs["witness"] = wit[j]
        G.add_node(j, **attrs)
    for cls in hyperplane_classes(bits):
        for j, row in enumerate(bits):
            other = row.copy()
            other[cls] = 1 - other[cls]
            k = index.get(other.tobytes())
            if k is not None and k > j:
                G.add_edge(j, k, rows=",".join(str(i) for i in cls))
    return G


def lattice_of_flats(X: Any, *, limit: int | None = None) -> nx.DiGraph:
    """Hasse diagram of the lattice of flats (intersections of the hyperplanes).

    A flat is named by the set of rows vanishing on it, e.g. ``"{0,2}"`` (``"{}"`` is the
    whole space; zero rows of ``X`` vanish everywhere, so they belong to every flat);
    attribute ``rank`` is the exact rank of those rows and ``dim`` the dimension of the flat
    in the row space.  Edges go from a flat to the flats one rank up containing
    its rows.

    Examples
    --------
    >>> L = lattice_of_flats([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> sorted(L.successors("{}"))
    ['{0}', '{1}', '{2}']
    >>> list(L.predecessors("{0,1,2}"))
    ['{0}', '{1}', '{2}']
    """
    fc = _as_faces(X, limit)
    zero_sets: dict[tuple[int, ...], int] = {}
    for j in range(len(fc)):
        z = tuple(int(i) for i in np.flatnonzero(fc.signs[j] == 0))
        zero_sets.setdefault(z, fc.rank - int(fc.dims[j]))
    G = nx.DiGraph(rank=fc.rank, n_samples=fc.n_samples)
    for z, rk in sorted(zero_sets.items(), key=lambda t: (t[1], t[0])):
        G.add_node(_flat_name(z), rows=",".join(map(str, z)), rank=rk, dim=fc.rank - rk)
    by_rank: dict[int, list[tuple[int, ...]]] = {}
    for z, rk in zero_sets.items():
        by_rank.setdefault(rk, []).append(z)
    for rk, lows in by_rank.items():
        for z in lows:
            zs = set(z)
            for w in by_rank.get(rk + 1, []):
                if zs <= set(w):
                    G.add_edge(_flat_name(z), _flat_name(w))
    return G


def _flat_name(z: Sequence[int]) -> str:
    return "{" + ",".join(str(i) for i in z) + "}"


def _scalarise(G: nx.Graph) -> nx.Graph:
    H = G.copy()

    def fix(d: dict[str, Any]) -> None:
        for k, v in list(d.items()):
            if isinstance(v, (np.integer,)):
                d[k] = int(v)
            elif isinstance(v, (np.floating,)):
                d[k] = float(v)
            elif isinstance(v, (list, tuple, np.ndarray)):
                d[k] = " ".join(str(x) for x in np.asarray(v, dtype=object).ravel())
            elif v is None:
                d[k] = ""
            elif not isinstance(v, (str, int, float, bool)):
                d[k] = str(v)

    fix(H.graph)
    for _, d in H.nodes(data=True):
        fix(d)
    for *_, d in H.edges(data=True):
        fix(d)
    return H


def write_graphml(G: nx.Graph, path: str | os.PathLike[str]) -> None:
    """Write ``G`` as GraphML atomically (lists become space separated strings).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = pathlib.Path(tmp) / "poset.graphml"
    ...     write_graphml(face_poset([[1.0, 0.0]]), p)
    ...     sorted(nx.read_graphml(p).nodes())
    ['+', '-', '0']
    """
    H = _scalarise(G)
    check_writable(path)  # before the (possibly long) serialisation
    buf = io.BytesIO()
    nx.write_graphml(H, buf)
    write_atomic(path, buf.getvalue())


def graph_to_json(G: nx.Graph) -> dict[str, Any]:
    """Node-link dictionary of ``G`` (JSON-ready: attributes are scalars or strings).

    Examples
    --------
    >>> d = graph_to_json(flip_graph(enumerate_faces([[1.0, 0.0]])))
    >>> d["directed"], len(d["nodes"]), d["edges"]
    (False, 2, [{'rows': '0', 'source': 0, 'target': 1}])
    """
    return nx.node_link_data(_scalarise(G), edges="edges")
