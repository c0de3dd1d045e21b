"""The dataset audit agrees with independent routes (verify.geometry.audit)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from verify.geometry.audit import audit
from verify.geometry.faces import enumerate_faces
from verify.io.datasets import check_dataset, load_dataset

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_paper_f1_and_f2():
    f1 = audit(load_dataset(EXAMPLES / "f1.json"))
    assert f1.orthogonally_separable and f1.spike.spike_free is False
    assert f1.chambers == 4 and f1.chambers_complete
    f2 = audit(load_dataset(EXAMPLES / "f2.json"))
    assert f2.orthogonally_separable and f2.spike.spike_free is True
    assert f2.spike.spike_value == 1.0


def test_whitened_is_spike_free_with_value_one():
    rep = audit(load_dataset(EXAMPLES / "whitened.json"))
    X = rep.enumeration is not None and load_dataset(EXAMPLES / "whitened.json").X
    assert np.array_equal(X @ X.T, np.eye(3))  # exactly whitened (dyadic entries)
    assert rep.spike.spike_free is True and rep.spike.spike_value == 1.0


def test_three_class_separable_and_relabel_breaks_it():
    ds = load_dataset(EXAMPLES / "three_class.json")
    assert ds.n_classes == 3
    assert audit(ds).orthogonally_separable
    labels = list(ds.labels)
    labels[1] = "b"  # row 1 now shares a positive inner product with class a
    rep = audit(check_dataset(ds.X, labels))
    assert not rep.orthogonally_separable
    assert rep.separability.violations > 0


def test_degenerate_grid_count_matches_faces_route():
    ds = load_dataset(EXAMPLES / "grid3.json")
    rep = audit(ds)
    assert rep.chambers_complete
    faces = enumerate_faces(ds.X)
    chambers_by_faces = int(np.sum(np.asarray(faces.dims) == rep.rank.rank))
    assert rep.chambers == chambers_by_faces == len(rep.enumeration)
    assert rep.count_proof["method"] != "cover"  # not in general position


def test_rank_deficient_embedded_in_higher_dimension():
    rng = np.random.default_rng(3)
    B = rng.integers(-3, 4, size=(2, 5)).astype(float)
    C = rng.integers(-3, 4, size=(9, 2)).astype(float)
    X = C @ B  # rank 2 in R^5, exact small integers
    y = np.where(np.arange(9) % 2 == 0, 1, -1)
    ds = check_dataset(X, y)
    rep = audit(ds, spike=False)
    assert rep.rank.rank == 2
    assert rep.chambers_complete
    d = {tuple(r) for r in np.sign(np.round(X / np.abs(X).max(axis=1, keepdims=True), 12))}
    # rank 2: chambers = 2 * number of distinct lines through the origin
    assert rep.chambers % 2 == 0 and rep.chambers <= 2 * len(d)


def test_limit_keeps_proven_count_without_list():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    ds = check_dataset(X, np.where(rng.random(40) < 0.5, 1, -1))
    full = audit(ds, spike=False)
    assert full.chambers == 2 * (1 + 39 + 39 * 38 // 2)  # Cover, general position
    small = audit(ds, limit=100, spike=False)
    assert small.chambers_complete is False
    assert small.chambers in (None, full.chambers)


def test_infeasible_data_is_reported():
    ds = check_dataset(np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]]), [1, -1, 1])
    obj = audit(ds, spike=False).to_dict()
    assert obj["max_margin_feasible"] is False
    assert {i["kind"] for i in obj["issues"]} == {"zero-row", "contradictory-rows"}


def test_undecided_steps_name_the_reason_and_the_option():
    # issue 10 items 9-10: a budget answers unknown with the reason and the option
    X = np.diag([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    ds = check_dataset(X, [1, -1, 1, -1, 1, -1])
    rep = audit(ds, limit=50, spike_limit=30)
    assert rep.spike.spike_free is None and rep.chambers == 64 and not rep.chambers_complete
    obj = rep.to_dict()
    steps = {u["step"]: u for u in obj["undecided"]}
    assert steps["spike-free"]["option"] == "raise with --spike-limit N or skip with --no-spike"
    assert steps["chambers"]["option"] == "raise with --limit N (N >= 64)"
    assert obj["chamber_list"]["found"] == 0 and obj["chamber_list"]["proven_count"] == 64
    full = audit(ds, spike_limit=None).to_dict()
    assert full["undecided"] == [] and full["spike_free"] is True
    assert full["chamber_list"] == {"found": 64, "proven_count": 64, "complete": True,
                                    "reason": None, "option": None}


def test_audit_proves_the_rank_once(monkeypatch):
    """The audit hands its proven rank to the chamber enumeration and the spike-free test
    (at 20,000 x 784 the second exact rank was most of the time beyond the Gram matrix)."""
    import verify.geometry.audit as audit_mod
    import verify.geometry.chamber_count as cc
    import verify.geometry.chambers as chm
    from verify.geometry import proven_linalg

    calls = []
    real = proven_linalg.exact_rank

    def counted(X, *a, **k):
        calls.append(1)
        return real(X, *a, **k)

    for mod in (audit_mod, cc, chm):
        monkeypatch.setattr(mod, "exact_rank", counted)
    ds = load_dataset(EXAMPLES / "grid3.json")
    rep = audit_mod.audit(ds)
    assert rep.chambers_complete and len(calls) == 1
