"""dask.distributed scale-out: identical results to the serial path on a 2-worker LocalCluster."""

from __future__ import annotations

import builtins
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

pytest.importorskip("distributed")

from verify import distributed as vd  # noqa: E402
from verify.convex.chamber_oracle import chamber_walls, oracle  # noqa: E402
from verify.errors import InputError  # noqa: E402
from verify.geometry.chambers import enumerate_chambers  # noqa: E402
from verify.geometry.separability import orthogonal_separability  # noqa: E402
from verify.geometry.spike_free import spike_free  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with vd.executor_from_options(2, None) as c:
        yield c


def _same_oracle(a, b):
    assert a.to_dict() == b.to_dict()
    assert a.values.tobytes() == b.values.tobytes()  # bit-identical
    assert a.slack.keys() == b.slack.keys()
    for key in a.slack:
        assert a.slack[key].to_dict() == b.slack[key].to_dict()


def _data(seed, N, d):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, d)), rng.standard_normal(N) * 0.6


@pytest.mark.parametrize(("seed", "N", "d"), [(0, 12, 3), (1, 9, 2), (2, 10, 3)])
def test_oracle_and_slack_multipliers_identical(client, seed, N, d):
    X, lam = _data(seed, N, d)
    P = enumerate_chambers(X).pattern_matrix()
    walls = chamber_walls(X, P)
    calls = 0
    for kw in (
        {"exact_values": True, "keep_slack": True},
        {"exact_values": True, "keep_slack": True, "walls": walls},
        {"threshold": 0.0, "keep_slack": True},
        {"top": 3, "walls": walls, "keep_slack": True},
        {"top": 1, "exact_values": True},
    ):
        serial = oracle(X, lam, P, **kw)
        calls += serial.nnls_calls
        _same_oracle(serial, oracle(X, lam, P, executor=client, **kw))
    assert calls > 0  # the parallel NNLS path was exercised


def test_oracle_thread_pool_executor_identical():
    X, lam = _data(3, 10, 3)
    P = enumerate_chambers(X).pattern_matrix()
    serial = oracle(X, lam, P, exact_values=True, keep_slack=True)
    with ThreadPoolExecutor(2) as ex:
        _same_oracle(serial, oracle(X, lam, P, exact_values=True, keep_slack=True, executor=ex))


def test_branch_and_bound_identical(client):
    from verify.convex.branch_and_bound import bab_maximize

    X, lam = _data(4, 24, 5)
    for sign in (1, -1):
        a = bab_maximize(X, lam, sign=sign, batch=4)
        b = bab_maximize(X, lam, sign=sign, batch=4, executor=client)
        assert a.nodes > 9  # several batches
        assert (a.upper, a.lower, a.nodes, a.status) == (b.upper, b.lower, b.nodes, b.status)
        assert a.u.tobytes() == b.u.tobytes()
        assert [(f.path, f.bound, f.z) for f in a.leaves] == [
            (f.path, f.bound, f.z) for f in b.leaves]


def _sep_cases():
    rng = np.random.default_rng(7)
    N = 300
    X1 = np.abs(rng.standard_normal((N, 5)))  # positive orthant: one class separable
    c1 = (rng.random(N) < 0.5).astype(int)
    X2 = rng.standard_normal((N, 4))  # random: many violations
    c2 = (X2[:, 0] > 0).astype(int)
    X3 = rng.integers(-3, 4, size=(N, 3)).astype(float)  # exact zeros and ties
    X3[5] = 0.0
    c3 = rng.integers(0, 3, size=N)
    X4 = np.zeros((N, 6))  # disjoint class supports: separable, structural zeros
    c4 = (np.arange(N) % 2).astype(int)
    X4[c4 == 0, :3] = np.abs(rng.standard_normal((N // 2, 3)))
    X4[c4 == 1, 3:] = np.abs(rng.standard_normal((N // 2, 3))) * 1e-3
    return [(X1, c1), (X2, c2), (X3, c3), (X4, c4)]


@pytest.mark.parametrize("case", range(4))
def test_separability_identical(client, case):
    X, c = _sep_cases()[case]
    for kw in ({"block_size": 37}, {"block_size": 64, "max_worst": 12}, {"max_worst": 0}):
        serial = orthogonal_separability(X, c, **kw)
        par = orthogonal_separability(X, c, executor=client, **kw)
        assert par.to_dict() == serial.to_dict()
        assert par.pairs_checked == X.shape[0] * (X.shape[0] + 1) // 2
    # stop_at_first is order-dependent: it runs serially, same answer
    s = orthogonal_separability(X, c, stop_at_first=True)
    assert orthogonal_separability(X, c, stop_at_first=True, executor=client) == s


def _spike_cases():
    rng = np.random.default_rng(11)
    x1, x2 = rng.standard_normal(2), rng.standard_normal(2)
    F1 = [[1.65, 0.47], [0.47, 1.35]]  # the paper's Appendix F.2: spike-free
    F2 = [[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]  # range condition fails
    return [
        np.array(F1),
        np.array(F2),
        np.array([x1, 2.0 * x1, -0.5 * x2]),  # N > rank, range condition intact
        np.abs(rng.standard_normal((4, 3))),  # range condition fails (witness)
        rng.standard_normal((6, 4)),
        rng.standard_normal((3, 3)),  # full rank: faces and exact inertias, value > 1
        np.abs(rng.standard_normal((3, 3))),
        rng.standard_normal((4, 4)),
        np.diag([1.0, 2.0, 3.0]),  # orthogonal rows: spike-free
    ]


@pytest.mark.parametrize("case", range(9))
def test_spike_free_identical(client, case):
    X = _spike_cases()[case]
    serial = spike_free(X)
    par = spike_free(X, executor=client)
    assert par.to_dict() == serial.to_dict()
    assert serial.spike_free is not None


def test_map_chunks_order_and_shared(client):
    chunks = vd.split_chunks(list(range(50)), 7)
    assert [x for ch in chunks for x in ch] == list(range(50))
    serial = vd.map_chunks(_scaled_sum, chunks, None, shared=np.arange(3.0))
    assert vd.map_chunks(_scaled_sum, chunks, client, shared=np.arange(3.0)) == serial
    assert vd.map_chunks(len, [], client) == []
    assert vd.n_workers(client) == 2
    with pytest.raises(InputError, match="executor: expected None"):
        vd.map_chunks(len, [[1]], object())


def _scaled_sum(chunk, a):
    return float(sum(chunk) * a.sum())


def test_no_options_yield_none():
    with vd.executor_from_options(None, None) as ex:
        assert ex is None


def test_bad_options():
    with pytest.raises(InputError, match="at most one"):
        with vd.executor_from_options(2, "tcp://127.0.0.1:1"):
            pass
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InputError, match="--workers: expected an integer >= 1"):
            with vd.executor_from_options(bad, None):
                pass


def test_missing_dask_message(monkeypatch):
    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name.split(".")[0] in ("distributed", "dask"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    monkeypatch.setattr(vd.importlib, "import_module", lambda n: fake(n))
    with pytest.raises(InputError, match=r"install the 'dask' extra: pip install -e '\.\[dask\]'"):
        with vd.executor_from_options(1, None):
            pass


def test_bad_scheduler_address(monkeypatch):
    monkeypatch.setattr(vd, "CONNECT_TIMEOUT", 1.0)
    with pytest.raises(InputError, match="could not connect to a dask scheduler at 'tcp://"):
        with vd.executor_from_options(None, "tcp://127.0.0.1:1"):
            pass
    with pytest.raises(InputError, match="could not connect"):
        with vd.executor_from_options(None, "not an address::"):
            pass
