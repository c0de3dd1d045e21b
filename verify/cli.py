"""The ``verify`` command line: a thin layer over the library.

Each sub-command parses its options, calls the library, renders the result as a short table
or as one JSON object, and returns an exit code: 0 success, 1 a check failed, 2 unusable
input (one line on stderr saying why).  Output files are written atomically.

Examples
--------
>>> main(["--version"])  # doctest: +SKIP
verify 0.1.0
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

from verify import __version__
from verify.errors import InputError, VerifyError
from verify.fileio import write_atomic
from verify.progress import set_enabled
from verify.render import dumps, fmt, render_audit, render_chambers

__all__ = ["main", "dumps", "write_atomic"]

EXAMPLES = {
    "audit": "example: verify audit examples/f1.json --json",
    "enumerate": "example: verify enumerate examples/f1.json --graph chambers.graphml",
    "demo": "example: verify demo --outdir demo-out",
    "train": "example: verify train examples/f1.json --neurons 10 --steps 5000 "
    "--schedule loss-scaled -o f1-net.npz --record f1-traj.npz",
    "convert": "example: verify convert net.pt -o net.npz",
    "plot": "example: verify plot circle examples/f1.json --trajectory f1-traj.npz -o f1.png",
    "solve": "example: verify solve examples/f1.json --json -o f1-opt.npz",
    "certify": "example: verify certify examples/f1.json f1-opt.npz -o f1.cert.json",
    "check": "example: verify check f1.cert.json --data examples/f1.json",
    "regress": "example: verify regress certificates/ --junit regress.xml --compare",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="verify",
        description=(
            "Exact verdicts about two-layer ReLU networks and their data "
            "(Wang & Pilanci, ICLR 2022)."
        ),
        epilog="Run 'verify demo' for the paper's data sets end to end.",
    )
    p.add_argument("--version", action="version", version=f"verify {__version__}")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bars (they appear only when stderr is a terminal)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    a = sub.add_parser(
        "audit",
        help="orthogonal separability, spike-free property and chambers of a data set",
        description="Audit a data set: exact rank, orthogonal separability (binary or "
        "multi-class), the spike-free property and the number of chambers with its proof.",
        epilog=EXAMPLES["audit"],
    )
    _data_args(a)
    a.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    a.add_argument("-o", "--output", metavar="FILE", help="also write the JSON report to FILE")
    a.add_argument(
        "--limit",
        type=_positive_int,
        default=None,
        help="largest number of chambers to enumerate (default 200000)",
    )
    a.add_argument(
        "--first-violation",
        action="store_true",
        help="stop the separability check at the first violating pair",
    )
    a.add_argument("--no-spike", action="store_true", help="skip the spike-free test")
    _cluster_args(a)

    e = sub.add_parser(
        "enumerate",
        help="list the chambers (activation patterns) of the arrangement, proven complete",
        description="Enumerate the chambers of the arrangement {u : x_n^T u = 0} exactly: "
        "each with its pattern D_j and a strictly interior witness u_j, and the proof that "
        "the list is complete.",
        epilog=EXAMPLES["enumerate"],
    )
    _data_args(e)
    e.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    e.add_argument("-o", "--output", metavar="FILE", help="also write the JSON list to FILE")
    e.add_argument(
        "--graph",
        metavar="FILE.graphml",
        help="write the chamber flip graph and the face poset as GraphML "
        "(node-link JSON when FILE ends in .json)",
    )
    e.add_argument(
        "--limit",
        type=_positive_int,
        default=None,
        help="refuse (exit 2) if there are more chambers than this",
    )
    e.add_argument(
        "--sampled",
        type=_positive_int,
        metavar="SAMPLES",
        default=None,
        help="sample this many random gates instead (never complete)",
    )

    d = sub.add_parser(
        "demo",
        help="the main job: the paper's Appendix F experiments end to end",
        description="The paper's Appendix F data sets (embedded; no arguments needed): audit, "
        "convex optimum, gradient descent over several seeds and training lengths, a "
        "certificate for every trained network re-checked by the trusted checker, the "
        "paper's figures, and a table beside the paper's numbers.",
        epilog=EXAMPLES["demo"],
    )
    d.add_argument("--outdir", metavar="DIR", default="demo-out",
                   help="write data, models, trajectories, certificates and figures here "
                   "(default: demo-out)")
    d.add_argument("--no-figures", action="store_true", help="skip the figures (faster)")
    d.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    _training_parsers(sub)
    _certificate_parsers(sub)
    return p


def _training_parsers(sub: Any) -> None:
    t = sub.add_parser(
        "train",
        help="train a two-layer ReLU network by gradient descent (the paper's section 4)",
        description="Full-batch gradient descent on the logistic loss from a small scaled "
        "initialisation (||w1_i(0)|| = |w2_i(0)|); K classes train K independent sub-networks.",
        epilog=EXAMPLES["train"],
    )
    _data_args(t)
    t.add_argument("--neurons", type=_positive_int, default=10, metavar="M",
                   help="hidden neurons (default 10)")
    t.add_argument("--steps", type=_positive_int, default=10_000, metavar="T",
                   help="gradient steps (default 10000)")
    t.add_argument("--lr", type=float, default=0.1, help="step size (default 0.1)")
    t.add_argument("--init-scale", type=float, default=1e-3,
                   help="||w1_i(0)|| = |w2_i(0)| (default 1e-3)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    t.add_argument("--schedule", choices=("constant", "loss-scaled"), default="constant",
                   help="constant step, or scaled by the loss (Lyu & Li 2019)")
    t.add_argument("-o", "--output", metavar="MODEL", required=True,
                   help="trained network (.npz, .safetensors or a PyTorch .pt state_dict)")
    t.add_argument("--record", metavar="TRAJ.npz", default=None,
                   help="also record the trajectory at log-spaced steps")
    t.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    v = sub.add_parser(
        "convert",
        help="convert a network (.pt/.pth state_dict, .npz, .safetensors) to .npz/.safetensors",
        description="Read a trained network (a PyTorch state_dict of Linear(d, m, bias=False) -> "
        "ReLU -> Linear(m, 1, bias=False) with torch.load(weights_only=True), or .npz / "
        ".safetensors with W1 (d x m) and w2 (m)) and write it as .npz or .safetensors, the "
        "formats 'verify check' reads. A first-layer bias becomes the last row of W1 (load the "
        "data with --bias).",
        epilog=EXAMPLES["convert"],
    )
    v.add_argument("model", metavar="MODEL", help="network file (.pt, .pth, .npz, .safetensors)")
    v.add_argument("-o", "--output", metavar="OUT", required=True,
                   help="output network (.npz or .safetensors)")
    g = sub.add_parser(
        "plot",
        help="draw one of the paper's figures (PNG, SVG or PDF)",
        description="Figures: rectified-ellipsoid, polar, ellipsoid (N = 2 samples); "
        "rectified-trajectories (N = 2, a trajectory); circle, seeds (d = 2, trajectories); "
        "gap, alignment (any data, a trajectory).",
        epilog=EXAMPLES["plot"],
    )
    g.add_argument("kind", metavar="KIND", help="figure kind (see above)")
    _data_args(g)
    g.add_argument("--model", default=None, help="mark this trained network's neurons")
    g.add_argument("--trajectory", action="append", default=None, metavar="TRAJ.npz",
                   help="trajectory from 'verify train --record' (repeat for 'seeds', 'gap')")
    g.add_argument("-o", "--output", metavar="FILE", required=True,
                   help="output image (.png, .svg or .pdf)")


def _certificate_parsers(sub: Any) -> None:
    s = sub.add_parser(
        "solve",
        help="solve the convex max-margin program by the fastest proven route",
        description="Solve the convex twin (14) of the max-margin problem for every one-vs-all "
        "class: orthogonally separable data by the closed form, spike-free data by Remark 1, "
        "otherwise exact chambers and column generation (sampled chambers, status "
        "'restricted', when the enumeration limit is exceeded).",
        epilog=EXAMPLES["solve"],
    )
    _data_args(s)
    s.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    s.add_argument("--solver", default=None, help="conic solver (MOSEK, CLARABEL, ECOS, SCS)")
    s.add_argument("-o", "--output", metavar="MODEL", help="save the optimal network "
                   "(.npz, .safetensors or a PyTorch .pt state_dict)")
    s.add_argument("--limit", type=_positive_int, default=None,
                   help="largest number of chambers to enumerate (default 200000)")
    _cluster_args(s)
    c = sub.add_parser(
        "certify",
        help="write a JSON optimality certificate of a trained network",
        description="Certify a trained network MODEL on DATA: LB <= P* <= UB with every piece "
        "of evidence needed to recompute both exactly ('verify check').",
        epilog=EXAMPLES["certify"],
    )
    _data_args(c)
    c.add_argument("model", metavar="MODEL", help="trained network (.npz or .safetensors)")
    c.add_argument("-o", "--output", metavar="CERT", required=True, help="certificate file")
    c.add_argument("--solver", default=None, help="conic solver (MOSEK, CLARABEL, ECOS, SCS)")
    c.add_argument("--limit", type=_positive_int, default=None,
                   help="largest number of chambers to enumerate (default 200000)")
    c.add_argument("--tolerance", default=None, metavar="GAP",
                   help="relative gap called globally optimal (default 1e-6)")
    c.add_argument("--json", action="store_true", help="print the certificate on stdout")
    _cluster_args(c)
    c.add_argument("--no-self-check", action="store_true",
                   help="skip re-checking the certificate with the trusted checker before writing")
    k = sub.add_parser(
        "check",
        help="re-check a certificate in exact arithmetic (the small trusted kernel)",
        description="Replay a certificate: hashes, dual feasibility of lambda, chamber "
        "witnesses, the count proof, slack multipliers, LB and UB. Exit 0 valid, 1 invalid "
        "(every failed rule named), 2 unusable input.",
        epilog=EXAMPLES["check"],
    )
    k.add_argument("cert", metavar="CERT", help="certificate (.json)")
    k.add_argument("--data", default=None, help="data file (default: the certificate's path)")
    k.add_argument("--model", default=None, help="model file (default: the certificate's path)")
    k.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    _regress_parser(sub)


def _regress_parser(sub: Any) -> None:
    r = sub.add_parser(
        "regress",
        help="re-check every certificate of a folder (CI regression of the certificates)",
        description="Re-check every *.json certificate in DIR (recursively; schema-*.json and "
        "the data files the certificates name are skipped) with the trusted checker against "
        "the data and model files it names. With --compare, also rebuild each certificate "
        "from its data and model and fail if a bound got worse. Exit 0 all pass, 1 a "
        "certificate fails or a named file is missing, 2 unusable input (DIR missing, no "
        "certificates).",
        epilog=EXAMPLES["regress"],
    )
    r.add_argument("dir", metavar="DIR", help="folder of certificates")
    r.add_argument("--junit", metavar="FILE", default=None,
                   help="also write JUnit XML (one testcase per certificate) to FILE")
    r.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    r.add_argument("--compare", action="store_true",
                   help="regenerate each certificate and fail if LB decreased or UB increased")
    r.add_argument("--tolerance", default=None, metavar="T",
                   help="relative tolerance of --compare (default 1e-6)")
    r.add_argument("--solver", default=None, help="conic solver of --compare (default: auto)")


def _cluster_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                   help="run the heavy parts on a local dask cluster of N worker processes "
                   "(needs the 'dask' extra); results are identical")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run them on an existing dask cluster (e.g. tcp://host:8786)")


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", metavar="DATA", help="data set: .npz (X, y), .csv or .json")
    p.add_argument("--bias", action="store_true", help="append a constant feature (a bias)")


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 check failed, 2 unusable input)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help/--version
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    set_enabled(not args.quiet)
    try:
        if args.command == "audit":
            return _cmd_audit(args)
        if args.command == "enumerate":
            return _cmd_enumerate(args)
        if args.command == "demo":
            return _cmd_demo(args)
        if args.command == "train":
            return _cmd_train(args)
        if args.command == "plot":
            return _cmd_plot(args)
        if args.command == "convert":
            return _cmd_convert(args)
        if args.command == "solve":
            return _cmd_solve(args)
        if args.command == "certify":
            return _cmd_certify(args)
        if args.command == "check":
            return _cmd_check(args)
        if args.command == "regress":
            return _cmd_regress(args)
    except InputError as exc:
        print(f"verify {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except VerifyError as exc:
        print(f"verify {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `verify audit DATA | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(f"verify {args.command}: interrupted", file=sys.stderr)
        return 130
    raise AssertionError(f"unhandled command {args.command}")  # pragma: no cover


# --------------------------------------------------------------------------- commands


def _cmd_audit(args: argparse.Namespace) -> int:
    from verify.audit import DEFAULT_LIMIT, audit
    from verify.data import load_dataset
    from verify.distributed import executor_from_options

    ds = load_dataset(args.data, bias=args.bias)
    with executor_from_options(args.workers, args.scheduler) as executor:
        rep = audit(
            ds,
            limit=args.limit or DEFAULT_LIMIT,
            stop_at_first=args.first_violation,
            spike=not args.no_spike,
            executor=executor,
        )
    obj = rep.to_dict()
    if args.output:
        write_atomic(args.output, dumps(obj))
    if args.json:
        print(dumps(obj), end="")
    else:
        print(render_audit(obj))
    return 0


def _cmd_enumerate(args: argparse.Namespace) -> int:
    from verify.arrangements import enumerate_chambers
    from verify.data import load_dataset

    ds = load_dataset(args.data, bias=args.bias)
    if args.sampled:
        ch = enumerate_chambers(ds.X, mode="sampled", samples=args.sampled)
    else:
        ch = enumerate_chambers(ds.X, limit=args.limit)
    obj = ch.to_dict(include_patterns=True)
    if args.graph:
        if not ch.complete:
            raise InputError("--graph needs the complete chamber list (not --sampled)")
        _write_graphs(args.graph, ds.X, ch)
    if args.output:
        write_atomic(args.output, dumps(obj))
    if args.json:
        print(dumps(obj), end="")
    else:
        print(render_chambers(obj))
    return 0


#: Largest face poset ``--graph`` builds.
FACE_LIMIT = 1_000_000


def _write_graphs(path: str, X: Any, ch: Any) -> None:
    """Write the flip graph and the face poset: GraphML, or node-link JSON for ``*.json``."""
    import networkx as nx

    from verify.lattice import face_poset, flip_graph, graph_to_json, write_graphml

    flips = flip_graph(ch)
    poset = face_poset(X, limit=FACE_LIMIT)
    if str(path).lower().endswith(".json"):
        obj = {"flip_graph": graph_to_json(flips), "face_poset": graph_to_json(poset)}
        write_atomic(path, dumps(obj))
        return
    G = nx.union(
        nx.relabel_nodes(nx.DiGraph(flips), lambda n: f"chamber:{n}"),
        nx.relabel_nodes(poset, lambda n: f"face:{n}"),
    )
    G.graph["description"] = "chamber flip graph (chamber:*) and face poset Hasse diagram (face:*)"
    write_graphml(G, path)


def _cmd_demo(args: argparse.Namespace) -> int:
    from verify.demo import render_demo, run_demo

    report = run_demo(args.outdir, figures=not args.no_figures)
    if args.json:
        print(dumps(report), end="")
    else:
        print(render_demo(report))
    return 0 if all(r["check_valid"] for s in report["sets"].values() for r in s["runs"]) else 1


def _cmd_train(args: argparse.Namespace) -> int:
    from verify.data import load_dataset
    from verify.dynamics import train_dataset

    ds = load_dataset(args.data, bias=args.bias)
    if args.record and not str(args.record).endswith(".npz"):
        raise InputError(f"--record: the trajectory file must end in .npz, got {args.record}")
    res = train_dataset(
        ds, neurons=args.neurons, steps=args.steps, lr=args.lr, init_scale=args.init_scale,
        seed=args.seed, schedule=args.schedule, record="log" if args.record else None,
    )
    res.save_model(args.output)
    if args.record:
        res.trajectory.save(args.record)
    summary = {
        "steps": res.steps, "schedule": res.schedule, "seed": res.seed, "lr": res.lr,
        "init_scale": res.init_scale, "loss": res.loss, "log_loss": res.log_loss,
        "normalised_margin": res.margin, "ub": res.ub if math.isfinite(res.ub) else None,
        "model": args.output, "trajectory": args.record,
    }
    if args.json:
        print(dumps(summary), end="")
    else:
        print(f"trained {args.steps} steps ({res.schedule}): loss {res.loss:.6g}, normalised "
              f"margin {res.margin:.6g}, UB(theta) {fmt(summary['ub'])}")
        print(f"network written to {args.output}"
              + (f", trajectory to {args.record}" if args.record else ""))
    return 0


def _cmd_convert(args: argparse.Namespace) -> int:
    from verify.model_io import load_weights, save_model

    if not str(args.output).lower().endswith((".npz", ".safetensors")):
        raise InputError(f"-o: the output must end in .npz or .safetensors, got {args.output}")
    mw = load_weights(args.model)
    save_model(args.output, mw.W1, mw.w2, bias_feature=mw.has_bias_feature)
    note = " (W1's last row is a first-layer bias: use --bias with the data)" \
        if mw.has_bias_feature else ""
    print(f"{args.model} ({mw.format}) written to {args.output}{note}")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from verify.data import load_dataset
    from verify.plots import plot

    ds = load_dataset(args.data, bias=args.bias)
    traj = args.trajectory
    if traj is not None and len(traj) == 1:
        traj = traj[0]
    plot(args.kind, ds, trajectory=traj, model=args.model, output=args.output)
    print(f"figure '{args.kind}' written to {args.output}")
    return 0


def _cmd_solve(args: argparse.Namespace) -> int:
    from verify.certificate import DEFAULT_LIMIT, optimal_weights, solve_dataset
    from verify.data import load_dataset
    from verify.model_io import save_model
    from verify.solvers import choose_solver

    ds = load_dataset(args.data, bias=args.bias)
    from verify.distributed import executor_from_options

    with executor_from_options(args.workers, args.scheduler) as executor:
        solves = solve_dataset(ds, solver=args.solver, limit=args.limit or DEFAULT_LIMIT,
                               executor=executor)
    if args.output:
        W1, w2 = optimal_weights(solves, ds.n_features)
        save_model(args.output, W1, w2, bias_feature=ds.bias)
    obj = {
        "classes": [cs.to_dict(ds.X) for cs in solves],
        "solver": choose_solver(args.solver).to_dict(),
    }
    if args.json:
        print(dumps(obj), end="")
        return 0
    for c in obj["classes"]:
        lb = c["lower_bound"]["float"] if c["lower_bound"] else None
        ub = c["upper_bound"]["float"] if c["upper_bound"] else None
        val = "P* =" if c["status"] == "optimal" else "solver value (no claim about P*)"
        print(f"class {c['label']}: {c['status']} ({c['method']}), {val} "
              f"{c['optimal_value']:.9g}, {fmt(lb)} <= P* <= {fmt(ub)}, "
              f"{len(c['neurons'])} neurons")
    if args.output:
        print(f"optimal network written to {args.output}")
    return 0


def _cmd_certify(args: argparse.Namespace) -> int:
    from fractions import Fraction

    from verify.certificate import (
        DEFAULT_LIMIT,
        DEFAULT_TOLERANCE,
        build_certificate,
        dumps_certificate,
    )
    from verify.data import load_dataset
    from verify.network import load_network

    tol = DEFAULT_TOLERANCE
    if args.tolerance is not None:
        try:
            tol = Fraction(args.tolerance)
        except (ValueError, ZeroDivisionError):
            raise InputError(f"--tolerance: expected a number, got {args.tolerance!r}") from None
        if not 0 <= tol < 1:
            raise InputError(f"--tolerance: expected 0 <= GAP < 1, got {args.tolerance}")
    ds = load_dataset(args.data, bias=args.bias)
    net = load_network(args.model, n_features=ds.n_features, data_bias=ds.bias)
    from verify.distributed import executor_from_options

    with executor_from_options(args.workers, args.scheduler) as executor:
        cert = build_certificate(
            ds, net, data_path=args.data, model_path=args.model, cert_path=args.output,
            solver=args.solver, limit=args.limit or DEFAULT_LIMIT, tolerance=tol,
            executor=executor,
        )
    if not args.no_self_check:
        from verify.checker import check_certificate
        from verify.checker_io import read_data, read_model

        X, classes, Y = read_data(args.data, bias=ds.bias)
        res = check_certificate(json.loads(dumps_certificate(cert)), X, classes, Y,
                                read_model(args.model))
        if not res.valid:
            print("verify certify: the trusted checker rejects the certificate (not written): "
                  + "; ".join(f"{f.rule}: {f.detail}" for f in res.failures), file=sys.stderr)
            return 1
    text = dumps_certificate(cert)
    write_atomic(args.output, text)
    if args.json:
        print(text, end="")
        return 0
    for c in cert["classes"]:
        print(f"class {c['label']}: {c['verdict_detail']} [{c['method']}]")
    print(f"certificate written to {args.output}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from verify.checker import check_file

    try:
        res = check_file(args.cert, data=args.data, model=args.model)
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, ArithmeticError,
            RecursionError) as exc:
        raise InputError(f"{args.cert}: malformed certificate ({exc.__class__.__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    obj = res.to_dict()
    if args.json:
        print(dumps(obj), end="")
    elif res.valid:
        lb = "none" if res.lower_bound is None else f"{float(res.lower_bound):.12g}"
        print(f"valid: {lb} <= P* <= {float(res.upper_bound):.12g}")
        for c in obj["classes"]:
            gap = "" if c["relative_gap"] is None else f" (relative gap {c['relative_gap']:.3g})"
            print(f"  class {c['label']}: {c['verdict']}{gap}")
    else:
        print(f"INVALID: {len(res.failures)} failed rule(s)")
        for f in res.failures:
            print(f"  {f.rule}: {f.detail}")
    return 0 if res.valid else 1


def _cmd_regress(args: argparse.Namespace) -> int:
    from fractions import Fraction

    from verify.regress import DEFAULT_COMPARE_TOLERANCE, junit_xml, regress, render_table

    tol = DEFAULT_COMPARE_TOLERANCE
    if args.tolerance is not None:
        try:
            tol = Fraction(args.tolerance)
        except (ValueError, ZeroDivisionError):
            raise InputError(f"--tolerance: expected a number, got {args.tolerance!r}") from None
        if tol < 0:
            raise InputError(f"--tolerance: expected T >= 0, got {args.tolerance}")
    report = regress(args.dir, compare=args.compare, tolerance=tol, solver=args.solver)
    if args.junit:
        write_atomic(args.junit, junit_xml(report))
    if args.json:
        print(dumps(report.to_dict()), end="")
    else:
        print(render_table(report))
    if not report.passed:
        for o in report.outcomes:
            if not o.passed:
                reasons = "; ".join(f"{p.rule}: {p.detail}" for p in o.all_problems())
                print(f"verify regress: {o.name} FAILED: {reasons}", file=sys.stderr)
    return 0 if report.passed else 1
