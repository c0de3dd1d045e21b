"""networkx graphs of the arrangement (verify.geometry.lattice)."""

from __future__ import annotations

import json
from math import comb

import networkx as nx
import numpy as np
import pytest

from verify.errors import InputError
from verify.geometry.faces import enumerate_faces
from verify.geometry.lattice import (
    face_poset,
    flip_graph,
    graph_to_json,
    hyperplane_classes,
    lattice_of_flats,
    write_graphml,
)


def _data(N, d, seed):
    return np.random.default_rng(seed).standard_normal((N, d))


def _le(a: str, b: str) -> bool:
    """Appendix D.6 order on sign strings, straight from the definition."""
    return all(x == "0" or x == y for x, y in zip(a, b))


@pytest.mark.parametrize("N,d,seed", [(3, 2, 0), (5, 3, 1), (5, 4, 2)])
def test_poset_edges_are_exactly_the_covering_relations(N, d, seed):
    G = face_poset(_data(N, d, seed))
    nodes = list(G.nodes)
    dim = nx.get_node_attributes(G, "dim")
    for a in nodes:
        for b in nodes:
            covers = _le(a, b) and dim[b] == dim[a] + 1
            assert G.has_edge(a, b) == covers
    # graded: every maximal chain runs origin -> chamber through every dimension
    r = G.graph["rank"]
    origin = "0" * N
    assert G.in_degree(origin) == 0 and dim[origin] == 0
    assert {n for n in nodes if G.out_degree(n) == 0} == {n for n in nodes if dim[n] == r}


@pytest.mark.parametrize("N,d,seed", [(4, 2, 3), (6, 3, 4), (5, 4, 5)])
def test_diamond_property(N, d, seed):
    # In the face poset of a hyperplane arrangement every interval of length two has
    # exactly two elements in its middle.
    G = face_poset(_data(N, d, seed))
    for a in G.nodes:
        for c in {c for b in G.successors(a) for c in G.successors(b)}:
            mids = [b for b in G.successors(a) if G.has_edge(b, c)]
            assert len(mids) == 2


def test_rank_two_counts_and_flip_graph_is_a_cycle():
    X = np.array([[1.0, 2.0], [2.0, 4.0], [-1.0, 0.5], [3.0, 1.0], [-3.0, -1.0]])
    fc = enumerate_faces(X)
    distinct = 3
    assert fc.f_vector == (1, 2 * distinct, 2 * distinct)
    F = flip_graph(fc)
    assert nx.is_isomorphic(F, nx.cycle_graph(2 * distinct))


@pytest.mark.parametrize("N,d,seed", [(6, 3, 6), (7, 3, 7), (6, 4, 8)])
def test_flip_graph_connected_degree_is_facets(N, d, seed):
    X = _data(N, d, seed)
    X[2] = -0.5 * X[0]  # antiparallel rows flip together
    X[4] = 4.0 * X[1]  # (powers of two keep the products exact)
    fc = enumerate_faces(X)
    G = face_poset(fc)
    F = flip_graph(fc)
    r = fc.rank
    assert nx.is_connected(F)
    chamber_names = [fc.sign_string(j) for j in fc.of_dim(r)]
    for node, name in enumerate(chamber_names):
        assert F.degree(node) == G.in_degree(name)
    # each (r-1)-face is a facet of exactly two chambers
    assert F.number_of_edges() == fc.f_vector[r - 1]
    # separating hyperplanes: neighbours differ on one class, e.g. rows {0, 2}
    rows = {e[2] for e in F.edges(data="rows")}
    assert "0,2" in rows and "1,4" in rows and all(len(x.split(",")) in (1, 2) for x in rows)


def test_flip_graph_from_chambers_result_matches():
    arr = pytest.importorskip("verify.geometry.chambers")
    X = _data(7, 3, 9)
    X[3] = -X[5]
    ch = arr.enumerate_chambers(X)
    F1 = flip_graph(ch)
    F2 = flip_graph(enumerate_faces(X))
    assert nx.is_isomorphic(F1, F2, node_match=lambda a, b: a["pattern"] == b["pattern"])


def test_hyperplane_classes_from_patterns():
    fc = enumerate_faces(np.array([[1.0, 0.0], [0.0, 1.0], [-2.0, 0.0], [0.0, 0.0]]))
    bits = (fc.chambers() >= 0).astype(np.int8)
    assert sorted(hyperplane_classes(bits)) == [[0, 2], [1]]


def test_lattice_of_flats_general_position():
    N, r = 5, 3
    L = lattice_of_flats(_data(N, r, 10))
    ranks = nx.get_node_attributes(L, "rank")
    counts = [sum(1 for v in ranks.values() if v == k) for k in range(r + 1)]
    assert counts == [1, comb(N, 1), comb(N, 2), 1]
    assert nx.is_directed_acyclic_graph(L)
    for a, b in L.edges:
        assert ranks[b] == ranks[a] + 1


def test_graphml_round_trip(tmp_path):
    fc = enumerate_faces(np.array([[0.1, 0.3, -0.2], [1.0, 0.0, 0.5], [0.0, 1.0, 1.0]]))
    for G in (face_poset(fc), flip_graph(fc), lattice_of_flats(fc)):
        p = tmp_path / "g.graphml"
        write_graphml(G, p)
        H = nx.read_graphml(p, node_type=type(next(iter(G.nodes))))
        assert set(H.nodes) == set(G.nodes)
        assert {tuple(e) for e in H.edges} == {tuple(e) for e in G.edges} or not G.is_directed()
        assert H.number_of_edges() == G.number_of_edges()
        for n, data in G.nodes(data=True):
            assert H.nodes[n] == data
        d = graph_to_json(G)
        back = nx.node_link_graph(json.loads(json.dumps(d)), edges="edges")
        assert set(back.nodes) == set(G.nodes) and back.number_of_edges() == G.number_of_edges()
    # witnesses in the poset are exact integers, parseable back
    P = face_poset(fc)
    for name, w in P.nodes(data="witness"):
        u = [int(t) for t in w.split()]
        assert len(u) == 3 and (name == "000") == (not any(u))


def test_bad_input():
    with pytest.raises(InputError):
        flip_graph(np.eye(2))  # a float data matrix, not patterns
    with pytest.raises(InputError):
        flip_graph(np.array([[2, 0]]))
