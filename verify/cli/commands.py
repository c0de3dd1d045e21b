"""The ``verify`` sub-commands: each runs one library call on parsed arguments.

Every ``cmd_*`` function takes the :class:`argparse.Namespace` built by
:func:`verify.cli.main.main`'s parser, prints a short table or one JSON object, writes output
files atomically and returns the exit code (0 success, 1 a check failed).  Unusable input
raises :class:`~verify.errors.InputError` (or another :class:`~verify.errors.VerifyError`),
which :func:`verify.cli.main.main` turns into exit code 2 and one line on stderr.

Examples
--------
>>> import argparse
>>> args = argparse.Namespace(model="net.pt", output="net.onnx")
>>> cmd_convert(args)
Traceback (most recent call last):
...
verify.errors.InputError: -o: the output must end in .npz or .safetensors, got net.onnx
"""

from __future__ import annotations

import argparse
import math
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

from verify.certificate.messages import (
    certificate_labels,
    clip,
    printable,
    printable_text,
    verdict_text,
    with_labels,
)
from verify.cli.render import (
    dumps,
    fmt,
    render_audit,
    render_chambers,
)
from verify.errors import InputError
from verify.io.files import check_writable, write_atomic
from verify.progress import progress

__all__ = [
    "COMMANDS",
    "FACE_LIMIT",
    "cmd_audit",
    "cmd_enumerate",
    "cmd_demo",
    "cmd_train",
    "cmd_convert",
    "cmd_plot",
    "cmd_solve",
    "cmd_certify",
    "cmd_check",
    "cmd_regress",
]


def cmd_audit(args: argparse.Namespace) -> int:
    """``verify audit``: exact rank, orthogonal separability, spike-free, chambers."""
    from verify.distributed import executor_from_options
    from verify.geometry.audit import DEFAULT_LIMIT, DEFAULT_SPIKE_LIMIT, audit
    from verify.io.datasets import load_dataset

    if args.output:
        check_writable(args.output, option="-o", inputs={"data": args.data})
    ds = load_dataset(args.data, bias=args.bias)
    with executor_from_options(args.workers, args.scheduler) as executor:
        rep = audit(
            ds,
            limit=args.limit or DEFAULT_LIMIT,
            stop_at_first=args.first_violation,
            spike=not args.no_spike,
            spike_limit=getattr(args, "spike_limit", None) or DEFAULT_SPIKE_LIMIT,
            executor=executor,
        )
    obj = rep.to_dict()
    if args.output:
        write_atomic(args.output, dumps(obj))
    if args.json:
        print(dumps(obj), end="")
    else:
        print(printable_text(render_audit(obj)))  # labels come from the data file
    if getattr(args, "strict", False) and obj.get("max_margin_feasible") is False:
        return 1  # --strict: infeasible data fail the check
    return 0


def cmd_enumerate(args: argparse.Namespace) -> int:
    """``verify enumerate``: the chambers with witnesses, proven complete (and graphs)."""
    from verify.errors import EnumerationLimitError
    from verify.geometry.audit import DEFAULT_LIMIT, limit_option
    from verify.geometry.chambers import enumerate_chambers
    from verify.io.datasets import load_dataset

    if args.graph and not str(args.graph).lower().endswith((".graphml", ".json")):
        raise InputError(f"--graph: the file must end in .graphml (GraphML) or .json "
                         f"(node-link JSON), got {args.graph}")
    for opt, target in (("-o", args.output), ("--graph", args.graph)):
        if target:
            check_writable(target, option=opt, inputs={"data": args.data})
    if args.graph and args.sampled:
        raise InputError("--graph needs the complete chamber list (not --sampled)")
    ds = load_dataset(args.data, bias=args.bias)
    if args.sampled:
        ch = enumerate_chambers(ds.X, mode="sampled", samples=args.sampled)
    else:
        try:
            ch = enumerate_chambers(ds.X, limit=args.limit or DEFAULT_LIMIT)
        except EnumerationLimitError as exc:
            raise InputError(f"{exc}; {limit_option(exc.count)}") from None
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
        print(printable_text(render_chambers(obj)))
        if args.output:
            print(f"chamber list written to {args.output}")
        if args.graph:
            kind = "node-link JSON" if str(args.graph).lower().endswith(".json") else "GraphML"
            print(f"flip graph and face poset written to {args.graph} ({kind})")
    return 0


#: Largest face poset ``--graph`` builds.
FACE_LIMIT = 1_000_000


def _write_graphs(path: str, X: Any, ch: Any) -> None:
    """Write the flip graph and the face poset: GraphML, or node-link JSON for ``*.json``."""
    import networkx as nx

    from verify.geometry.lattice import face_poset, flip_graph, graph_to_json, write_graphml

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


def cmd_demo(args: argparse.Namespace) -> int:
    """``verify demo``: the paper's Appendix F experiments end to end."""
    from verify.cli.demo import render_demo, run_demo

    report = run_demo(args.outdir, figures=not args.no_figures)
    if args.json:
        print(dumps(report), end="")
    else:
        print(printable_text(render_demo(report)))
    return 0 if all(r["check_valid"] for s in report["sets"].values() for r in s["runs"]) else 1


def cmd_train(args: argparse.Namespace) -> int:
    """``verify train``: gradient descent, the network (and trajectory) saved."""
    from verify.io.datasets import load_dataset
    from verify.io.models import check_model_output
    from verify.network.training import train_dataset

    # before training, not after
    check_model_output(args.output, option="-o", inputs={"data": args.data})
    if args.record:
        if not str(args.record).endswith(".npz"):
            raise InputError(f"--record: the trajectory file must end in .npz, got {args.record}")
        check_writable(args.record, option="--record",
                       inputs={"data": args.data, "-o model": args.output})
    ds = load_dataset(args.data, bias=args.bias)
    res = train_dataset(
        ds, neurons=args.neurons, steps=args.steps, lr=args.lr, init_scale=args.init_scale,
        seed=args.seed, schedule=args.schedule, record="log" if args.record else None,
    )
    written = res.diverged is None  # a diverged run's weights are not worth a file
    if written:
        res.save_model(args.output)
        if args.record:
            res.trajectory.save(args.record)
    summary = {
        "steps": res.steps, "schedule": res.schedule, "seed": res.seed, "lr": res.lr,
        "init_scale": res.init_scale, "loss": res.loss, "log_loss": res.log_loss,
        "normalised_margin": res.margin, "ub": res.ub if math.isfinite(res.ub) else None,
        "model": args.output if written else None,
        "trajectory": args.record if written else None,
        "succeeded": res.succeeded, "problems": res.problems,
        "steps_run": res.steps if res.steps_run is None else res.steps_run,
        "n_dead_samples": len(res.dead_samples), "n_misclassified": len(res.misclassified),
    }
    if args.json:
        print(dumps(summary), end="")
    else:
        ran = args.steps if res.steps_run is None else f"{res.steps_run} of {args.steps}"
        print(f"trained {ran} steps ({res.schedule}): loss {res.loss:.6g}, normalised "
              f"margin {fmt(res.margin)}, UB(theta) {fmt(summary['ub'])}")
        if written:
            print(f"network written to {args.output}"
                  + (f", trajectory to {args.record}" if args.record else ""))
        else:
            print("no network written")
    # exit 1: the check "training succeeded" (no divergence, every sample separated) failed
    for problem in res.problems:
        print(f"verify train: {problem}", file=sys.stderr)
    if not res.succeeded and ds.issues:  # no network can separate these data: say why
        print(printable(f"verify train: the max-margin problem is infeasible: "
                        f"{ds.issues[0].message}"), file=sys.stderr)
    return 0 if res.succeeded else 1


def cmd_convert(args: argparse.Namespace) -> int:
    """``verify convert``: a network file rewritten as .npz or .safetensors."""
    from verify.io.models import load_weights, save_model

    if not str(args.output).lower().endswith((".npz", ".safetensors")):
        raise InputError(f"-o: the output must end in .npz or .safetensors, got {args.output}")
    check_writable(args.output, option="-o")
    mw = load_weights(args.model)
    save_model(args.output, mw.W1, mw.w2, bias_feature=mw.has_bias_feature)
    if args.json:
        print(dumps({
            "input": str(args.model), "input_format": mw.format, "output": str(args.output),
            "W1_shape": list(mw.W1.shape), "w2_shape": list(mw.w2.shape),
            "bias_feature": bool(mw.has_bias_feature), "notes": list(mw.notes),
        }), end="")
        return 0
    note = " (W1's last row is a first-layer bias: use --bias with the data)" \
        if mw.has_bias_feature else ""
    print(f"{args.model} ({mw.format}) written to {args.output}{note}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """``verify plot``: one of the paper's figures."""
    from verify.io.datasets import load_dataset
    from verify.plots.figures import plot

    check_writable(args.output, option="-o")
    ds = load_dataset(args.data, bias=args.bias)
    traj = args.trajectory
    if traj is not None and len(traj) == 1:
        traj = traj[0]
    plot(args.kind, ds, trajectory=traj, model=args.model, output=args.output)
    print(f"figure '{args.kind}' written to {args.output}")
    return 0


def cmd_solve(args: argparse.Namespace) -> int:
    """``verify solve``: the convex max-margin program by the fastest proven route."""
    from verify.convex.routes import (
        DEFAULT_LIMIT,
        DEFAULT_TOLERANCE,
        optimal_weights,
        solve_dataset,
    )
    from verify.convex.solvers import choose_solver
    from verify.io.datasets import load_dataset
    from verify.io.models import check_model_output, save_model
    from verify.network.training import warm_start

    tol = _gap_tolerance(args.tolerance, DEFAULT_TOLERANCE)
    if args.output:
        check_model_output(args.output, option="-o", inputs={"data": args.data})
    ds = load_dataset(args.data, bias=args.bias)
    from verify.distributed import executor_from_options

    with executor_from_options(args.workers, args.scheduler) as executor:
        solves = solve_dataset(ds, solver=args.solver, limit=args.limit or DEFAULT_LIMIT,
                               executor=executor, budget=args.budget, sampled=args.sampled,
                               warm_start=warm_start,
                               full_chambers=getattr(args, "full_chambers", False),
                               tolerance=tol, sdp_depth=args.sdp_depth)
    if args.output:
        W1, w2 = optimal_weights(solves, ds.n_features)
        save_model(args.output, W1, w2, bias_feature=ds.bias)
    obj = {
        "classes": [cs.to_dict(ds.X, tol) for cs in solves],
        "solver": choose_solver(args.solver).to_dict(),
    }
    if args.json:
        print(dumps(obj), end="")
        return 0
    for w in ds.warnings:  # as certify prints them
        print(printable(f"warning: {w}"))
    for c in obj["classes"]:
        lb = c["lower_bound"]["float"] if c["lower_bound"] else None
        ub = c["upper_bound"]["float"] if c["upper_bound"] else None
        verdict = _solve_verdict(c)
        if c["verdict"] == "restricted":
            val = f"solver value {c['optimal_value']:.9g} (a restricted program)"
        elif c["verdict"] == "proven-gap":  # the network's own exact objective is UB
            val = f"network found {ub:.9g}"
        else:
            val = f"P* = {c['optimal_value']:.9g}"
        print(printable(f"class {c['label']}: {verdict} ({c['method']}), {val}, "
                        f"{bounds_text(lb, ub)}, {len(c['neurons'])} neurons"))
        if c["verdict"] != "globally-optimal-within" and c.get("message"):
            import textwrap

            print(printable_text(textwrap.fill(
                f"why: {c['message']}", 100, initial_indent="  ", subsequent_indent="    ",
                break_on_hyphens=False)))
    if args.output:
        unproven = [f"class {c['label']}: {_solve_verdict(c)}" for c in obj["classes"]
                    if c["verdict"] != "globally-optimal-within"]
        if unproven:  # its network is the best found, not proven the optimum
            print(printable(f"best network found (not proven optimal; {', '.join(unproven)}) "
                            f"written to {args.output}"))
        else:
            print(f"optimal network written to {args.output}")
    return 0


def _solve_verdict(c: dict[str, Any]) -> str:
    """The verdict of a ``verify solve`` class for people: with the gap unless restricted."""
    if c["verdict"] == "restricted":
        return "restricted"
    return f"{c['verdict']} {c['relative_gap']:.3g}"


def bounds_text(lb: float | None, ub: float | None) -> str:
    """``"LB <= P* <= UB"`` with at least 10 significant digits, more until the two differ
    (equal floats: 10 digits each).

    Examples
    --------
    >>> bounds_text(24.84931234567, 24.84931234599)
    '24.8493123457 <= P* <= 24.849312346'
    >>> bounds_text(1.0, 1.0 + 2**-40)
    '1 <= P* <= 1.000000000001'
    >>> bounds_text(None, 2.5)
    'unknown <= P* <= 2.5'
    """
    if lb is None or ub is None:
        return f"{fmt(lb) if lb is None else f'{lb:.10g}'} <= P* <= " \
               f"{fmt(ub) if ub is None else f'{ub:.10g}'}"
    a, b = f"{lb:.10g}", f"{ub:.10g}"
    for digits in range(11, 18):
        if a != b or lb == ub:
            break
        a, b = f"{lb:.{digits}g}", f"{ub:.{digits}g}"
    return f"{a} <= P* <= {b}"


def parse_tolerance(text: str, option: str = "--tolerance") -> Fraction:
    """A tolerance ``>= 0`` given as a decimal (``1e-6``, ``0.001``) or ``p/q``, exactly
    (:func:`verify.certificate.build.parse_tolerance`: it never expands).

    Examples
    --------
    >>> parse_tolerance("1e-6"), parse_tolerance("1/8")
    (Fraction(1, 1000000), Fraction(1, 8))
    """
    from verify.certificate.build import parse_tolerance as parse

    return parse(text, option)


def _gap_tolerance(text: str | None, default: Fraction) -> Fraction:
    """``--tolerance GAP`` of solve and certify: a relative gap in ``[0, 1)``."""
    if text is None:
        return default
    tol = parse_tolerance(text)
    if not tol < 1:
        raise InputError(f"--tolerance: expected 0 <= GAP < 1, got {text}")
    return tol


def cmd_certify(args: argparse.Namespace) -> int:
    """``verify certify``: a JSON optimality certificate, self-checked before writing."""

    from verify.certificate.build import (
        DEFAULT_TOLERANCE,
        certify_network,
        dumps_certificate,
        require_checkable_model,
    )
    from verify.convex.routes import DEFAULT_LIMIT
    from verify.distributed import executor_from_options
    from verify.errors import CertificateError
    from verify.io.datasets import load_dataset
    from verify.network.model import load_network

    tol = _gap_tolerance(args.tolerance, DEFAULT_TOLERANCE)
    check_writable(args.output, option="-o", inputs={"data": args.data, "model": args.model})
    require_checkable_model(args.model)  # before any work: the certificate names the model
    ds = load_dataset(args.data, bias=args.bias)
    net = load_network(args.model, n_features=ds.n_features, data_bias=ds.bias)
    try:
        with executor_from_options(args.workers, args.scheduler) as executor:
            cert = certify_network(
                ds, net, data_path=args.data, model_path=args.model, cert_path=args.output,
                self_check=not args.no_self_check, solver=args.solver,
                limit=args.limit or DEFAULT_LIMIT, tolerance=tol, executor=executor,
                budget=args.budget, sampled=args.sampled,
                full_chambers=getattr(args, "full_chambers", False),
                sdp_depth=args.sdp_depth,
            )
    except CertificateError as exc:
        print(printable(f"verify certify: {exc}"), file=sys.stderr)
        return 1
    text = dumps_certificate(cert)
    write_atomic(args.output, text)
    if args.json:
        print(text, end="")
        return 0
    for w in ds.warnings:
        print(printable(f"warning: {w}"))
    for c in cert["classes"]:
        print(printable(f"class {c['label']}: {verdict_text(c)}  [{c['method']}]"))
        lb, ub, g = c.get("lower_bound"), c.get("upper_bound"), c.get("relative_gap")
        if isinstance(lb, dict) and isinstance(g, dict):
            # what is proven about P*, and how far from closed (every class, the optimal too)
            upper = f" <= {ub['float']:.9g}" if isinstance(ub, dict) else ""
            print(printable(f"  {lb['float']:.9g} <= P*{upper} (proven), relative gap "
                            f"{g['float']:.3g}"))
    print(printable(f"certificate written to {args.output}"))
    _outside_note(cert, args.output)
    return 0


def _outside_note(cert: dict[str, Any], output: str) -> None:
    """A note on stderr when the certificate names a file outside its own folder: ``verify
    check`` reads only files inside it unless given ``--data``/``--model``."""
    from verify.checker.files import inside_path

    base = Path(output).resolve().parent
    for what in ("data", "model"):
        try:
            inside_path(base, cert[what]["path"], what)
        except InputError:
            print(printable(f"note: the {what} file is outside the certificate's folder; check "
                            f"it with 'verify check {output} --{what} FILE' (or move the files "
                            "next to it)"), file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    """``verify check``: a certificate re-checked by the trusted checker."""
    from verify.checker.check import check_file

    _certificate_file(args.cert)
    for opt, path in (("--data", args.data), ("--model", args.model)):
        if path is not None and Path(path).is_dir():
            raise InputError(f"{opt} {path}: is a directory; give the {opt[2:]} file itself")
    try:
        res = check_file(args.cert, data=args.data, model=args.model, progress=progress)
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
        lb = "none" if obj["lower_bound"] is None else f"{obj['lower_bound']['float']:.12g}"
        print(f"valid: {lb} <= P* <= {obj['upper_bound']['float']:.12g}")
        for c in obj["classes"]:
            g = c["relative_gap"]
            gap = "" if g is None else f" (relative gap {g['float']:.3g})"
            print(printable(f"  class {c['label']}: {c['verdict']}{gap}"))
    else:
        rules = sorted({f.rule for f in res.failures})
        print(f"INVALID: {len(rules)} failed rule(s) ({', '.join(rules)}), "
              f"{len(res.failures)} failure(s)")
        labels = certificate_labels(args.cert)
        for f in res.failures:
            print(printable(f"  {f.rule}: {with_labels(f.detail, labels)}"))
    return 0 if res.valid else 1


def _certificate_file(path: str) -> None:
    """A certificate argument that is a directory or not JSON at all: one clear line."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{path}: is a directory; give a certificate file (or use "
                         "'verify regress DIR' for a folder)")
    if not p.is_file():
        return  # the checker names the missing file
    with open(p, "rb") as fh:
        head = fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head and not head.startswith(b"{"):
        raise InputError(f"{path}: not a certificate (not JSON)")


def cmd_regress(args: argparse.Namespace) -> int:
    """``verify regress``: every certificate of a folder re-checked (CI)."""

    from verify.certificate.regress import (
        DEFAULT_COMPARE_TOLERANCE,
        junit_xml,
        regress,
        render_table,
    )

    tol = DEFAULT_COMPARE_TOLERANCE
    if args.tolerance is not None:
        tol = parse_tolerance(args.tolerance)
    if args.junit:
        check_writable(args.junit, option="--junit")
    report = regress(args.dir, compare=args.compare, tolerance=tol, solver=args.solver)
    if args.junit:
        write_atomic(args.junit, junit_xml(report))
    if args.json:
        print(dumps(report.to_dict()), end="")
    else:
        print(render_table(report))
    if not report.passed:
        for o in report.outcomes:
            if not o.passed:  # the rules' full text: the table above, --json, --junit
                rules = ", ".join(dict.fromkeys(p.rule for p in o.all_problems()))
                print(clip(f"verify regress: {o.name} FAILED: {rules}"), file=sys.stderr)
    return 0 if report.passed else 1


#: Sub-command name -> implementation.
COMMANDS = {
    "audit": cmd_audit,
    "enumerate": cmd_enumerate,
    "demo": cmd_demo,
    "train": cmd_train,
    "convert": cmd_convert,
    "plot": cmd_plot,
    "solve": cmd_solve,
    "certify": cmd_certify,
    "check": cmd_check,
    "regress": cmd_regress,
}
