"""Issue 10, items 8-10: no traceback beyond the enumeration limit, budgets that answer
``unknown`` with the reason and the option that lifts them, counts in every message."""

from __future__ import annotations

import json

import numpy as np
import pytest

from verify.cli.main import main
from verify.convex import routes


def _gaussian(tmp_path, n, d, seed=0, name="g.npz"):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.where(rng.standard_normal(n) > 0, 1, -1)
    p = tmp_path / name
    np.savez(p, X=X, y=y)
    return p


@pytest.fixture
def few_samples(monkeypatch):
    # A few hundred sampled gates (instead of 20,000): fast, and on 60 x 6 data none of the
    # candidate neurons' chambers is among them -- the case that built an empty program.
    monkeypatch.setattr(routes, "_SAMPLES", 300)
    monkeypatch.setattr(routes, "_SAMPLES_MIN", 300)


def test_sampled_solve_and_certify_beyond_the_limit_give_a_restricted_answer(tmp_path, capsys,
                                                                             few_samples):
    # the sampled route (--sampled; beyond --limit the default is branch and bound now)
    data = _gaussian(tmp_path, 60, 6)
    net = tmp_path / "net.npz"
    assert main(["solve", str(data), "--limit", "1000", "--sampled", "-o", str(net)]) == 0
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err and cap.err == ""
    assert "restricted" in cap.out and "(a restricted program)" in cap.out
    text = " ".join(cap.out.split())
    assert "chamber list not proven complete (" in text
    assert "sampled chambers of an unknown number" in text and "raise with --limit N" in text
    assert main(["solve", str(data), "--limit", "1000", "--sampled", "--json"]) == 0
    (c,) = json.loads(capsys.readouterr().out)["classes"]
    assert c["status"] in ("restricted", "inaccurate") and c["lower_bound"] is None
    assert c["upper_bound"] is not None and c["neurons"]
    # the restricted network classifies every sample: its exact UB bounds the solver value
    assert c["upper_bound"]["float"] >= c["optimal_value"] * (1 - 1e-6)
    # certify the solve's own network (it classifies every sample): restricted, no LB
    cert = tmp_path / "net.cert.json"
    assert main(["certify", str(data), str(net), "--limit", "1000", "--sampled",
                 "-o", str(cert)]) == 0
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err
    text = " ".join(cap.out.split())
    obj = json.loads(cert.read_text())
    (entry,) = obj["classes"]
    # column generation starts from the network's own patterns: it may find a better network
    # (a proven 'suboptimal'); otherwise 'restricted', saying why there is no lower bound
    assert entry["verdict"] in ("restricted", "suboptimal") and entry["lower_bound"] is None
    assert entry["method"] == "restricted"
    reason = entry["evidence"]["reason"]
    assert reason.startswith("chamber list not proven complete (") and "sampled chambers" in reason
    assert "raise with --limit N" in reason
    if entry["verdict"] == "restricted":
        assert "chamber list not proven complete (" in text and "raise with --limit N" in text
    assert main(["check", str(cert)]) == 0
    capsys.readouterr()


def test_audit_spike_budget_says_unknown_with_reason_and_option(tmp_path, capsys):
    # Orthogonal rows (N = d = 6) are spike-free: sampling can never refute it, so beyond the
    # face budget the answer is unknown; within it, the exact verdict.  Rank 6: at least
    # 2^6 = 64 chambers, more than a 30-face budget (refused before any exact work).
    p = tmp_path / "diag.npz"
    np.savez(p, X=np.diag([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), y=np.array([1, -1] * 3))
    assert main(["audit", str(p), "--spike-limit", "30", "--limit", "50", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["spike_free"] is None
    steps = {u["step"]: u for u in obj["undecided"]}
    sp = steps["spike-free"]
    assert "more than the limit of 30 faces" in sp["reason"] and "sampled" in sp["reason"]
    assert sp["option"] == "raise with --spike-limit N or skip with --no-spike"
    ch = steps["chambers"]  # 64 chambers (Cover, general position), more than --limit 50
    assert ch["option"] == "raise with --limit N (N >= 64)" and "limit=50" in ch["reason"]
    assert obj["chamber_list"] == {"found": 0, "proven_count": 64, "complete": False,
                                   "reason": ch["reason"], "option": ch["option"]}
    assert main(["audit", str(p), "--spike-limit", "30", "--limit", "50"]) == 0
    flat = " ".join(capsys.readouterr().out.split())
    assert "spike-free unknown" in flat
    assert "option raise with --spike-limit N or skip with --no-spike" in flat
    assert "found 0 of 64 (proven count)" in flat
    assert "option raise with --limit N (N >= 64)" in flat
    # the options lift the budgets: exact verdicts, nothing undecided
    assert main(["audit", str(p), "--spike-limit", "1000", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["spike_free"] is True and obj["spike_free_details"]["method"] == "exact-faces"
    assert obj["undecided"] == [] and obj["chamber_list"]["found"] == 64


def test_face_budget_stops_general_position_data_quickly(tmp_path, capsys):
    # 200 x 10 Gaussian: the rays alone need C(200, 9) subsets -- refused at once; the sampled
    # exact search then refutes with an exact witness (the old code spent minutes on rays)
    data = _gaussian(tmp_path, 200, 10, seed=2)
    assert main(["audit", str(data), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    det = obj["spike_free_details"]
    assert det["method"] == "sampling" and "face enumeration stopped" in det["reason"]
    assert "C(200, 9) = 1175445251780800 subsets" in det["reason"]
    assert "20000 faces" in det["reason"]
    assert obj["spike_free"] is False and det["witness_exact"]
    assert [u["step"] for u in obj["undecided"]] == ["chambers"]


def test_audit_chamber_counts_when_the_list_is_refused(capsys):
    from pathlib import Path

    data = str(Path(__file__).resolve().parents[2] / "examples" / "grid3.json")
    assert main(["audit", data, "--limit", "10", "--no-spike", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    listing = obj["chamber_list"]
    assert listing["found"] == 0 and listing["proven_count"] == obj["chambers"] > 10
    assert listing["option"] == f"raise with --limit N (N >= {obj['chambers']})"
    assert main(["audit", data, "--limit", "10", "--no-spike"]) == 0
    flat = " ".join(capsys.readouterr().out.split())
    assert f"found 0 of {obj['chambers']} (proven count)" in flat
    assert f"option raise with --limit N (N >= {obj['chambers']})" in flat


def test_enumerate_refuses_beyond_its_default_limit(tmp_path, capsys):
    data = _gaussian(tmp_path, 200, 10, seed=2)
    assert main(["enumerate", str(data)]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and len(cap.err.strip().splitlines()) == 1
    assert "limit=200000" in cap.err and "raise with --limit N" in cap.err
    assert "Traceback" not in cap.err


def test_enumerate_refusal_gives_the_proven_count(capsys):
    from pathlib import Path

    data = str(Path(__file__).resolve().parents[2] / "examples" / "grid3.json")
    assert main(["enumerate", data, "--limit", "10"]) == 2
    err = capsys.readouterr().err
    count = int(err.split("exactly ")[1].split()[0])
    assert count > 10 and f"raise with --limit N (N >= {count})" in err
