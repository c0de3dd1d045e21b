"""The ``verify`` command line: a thin layer over the library.

Each sub-command parses its options, calls the library, renders the result as a short table
or as one JSON object, and returns an exit code: 0 success, 1 a check failed, 2 unusable
input (one line on stderr saying why).  Output files are written atomically.  This module
builds the argument parser (every sub-command's ``--help``, with an example) and runs
:func:`main`; the sub-commands themselves are in :mod:`verify.cli.commands`.

Examples
--------
>>> main(["--version"])  # doctest: +SKIP
verify 0.1.0
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from verify import __version__
from verify.certificate.messages import printable
from verify.cli.commands import COMMANDS
from verify.cli.render import dumps
from verify.errors import InputError, VerifyError
from verify.io.files import write_atomic
from verify.progress import set_enabled

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
    _limit_arg(a)
    a.add_argument(
        "--first-violation",
        action="store_true",
        help="stop the separability check at the first violating pair",
    )
    a.add_argument("--no-spike", action="store_true", help="skip the spike-free test")
    a.add_argument(
        "--spike-limit",
        type=_positive_int,
        default=None,
        metavar="N",
        help="largest number of arrangement faces the exact spike-free test visits "
        "(default 20000); beyond it the test samples (it can still refute) or says unknown",
    )
    a.add_argument("--strict", action="store_true",
                   help="exit 1 if the max-margin problem is infeasible (a zero row, rows that "
                   "are positive multiples of each other with different labels): for CI")
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
        help="refuse (exit 2) if there are more chambers than this (default 200000)",
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
        "initialisation (||w1_i(0)|| = |w2_i(0)|); K classes train K independent sub-networks. "
        "Exit 1 when training fails: it diverged (non-finite weights, or the loss grew more "
        "than 2x; no network is written) or the network leaves samples misclassified or dead "
        "(every neuron inactive, output exactly 0; the network is written).",
        epilog=EXAMPLES["train"],
    )
    _data_args(t)
    t.add_argument("--neurons", type=_positive_int, default=10, metavar="M",
                   help="hidden neurons (default 10)")
    t.add_argument("--steps", type=_positive_int, default=10_000, metavar="T",
                   help="gradient steps (default 10000)")
    t.add_argument("--lr", type=_lr, default="auto",
                   help="step size, or 'auto' (default): min(0.1, 1/||X||_2^2), as the loss is "
                   "a sum over the samples")
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
        "ReLU -> Linear(m, 1, bias=False), read without torch by a restricted unpickler that "
        "admits only tensors and dicts, or .npz / "
        ".safetensors with W1 (d x m) and w2 (m)) and write it as .npz or .safetensors, the "
        "formats 'verify check' reads. A first-layer bias becomes the last row of W1 (load the "
        "data with --bias).",
        epilog=EXAMPLES["convert"],
    )
    v.add_argument("model", metavar="MODEL", help="network file (.pt, .pth, .npz, .safetensors)")
    v.add_argument("-o", "--output", metavar="OUT", required=True,
                   help="output network (.npz or .safetensors)")
    v.add_argument("--json", action="store_true",
                   help="print one JSON object (input, output, shapes, bias) on stdout")
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
        "otherwise exact chambers and column generation; beyond the enumeration limit, column "
        "generation with the branch-and-bound oracle over the support of lambda, or the "
        "chambers of the support rows when they fit --limit (a rigorous lower bound within "
        "--budget; --sampled for the old sampled chambers, no lower bound).",
        epilog=EXAMPLES["solve"],
    )
    _data_args(s)
    s.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    s.add_argument("-o", "--output", metavar="MODEL", help="save the optimal network "
                   "(.npz, .safetensors or a PyTorch .pt state_dict)")
    _solver_args(s)
    _route_args(s)
    _full_chambers_arg(s)
    s.add_argument("--tolerance", default=None, metavar="GAP",
                   help="relative gap (UB - LB)/UB called globally optimal (default 1e-6)")
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
    _solver_args(c)
    _route_args(c)
    _full_chambers_arg(c)
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


def _limit_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=_positive_int, default=None,
                   help="largest number of chambers to enumerate, of the data or, beyond "
                   "it, of the support rows of lambda (default 200000)")


def _solver_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--solver", default=None, help="conic solver (MOSEK, CLARABEL, ECOS, SCS)")
    _limit_arg(p)


#: Seconds per one-vs-all problem for the branch-and-bound route (``--budget``).
DEFAULT_BUDGET = 300.0


def _route_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--budget", type=_positive_float, default=DEFAULT_BUDGET, metavar="SECONDS",
                   help="seconds per class for the work beyond --limit: the branch-and-bound "
                   f"route (with its gradient-descent start) or --sampled (default "
                   f"{DEFAULT_BUDGET:g}); when it runs out the lower bound is weaker, never "
                   "wrong")
    p.add_argument("--sampled", action="store_true",
                   help="beyond --limit, use sampled chambers instead (status 'restricted', "
                   "no lower bound)")
    p.add_argument("--sdp-depth", type=_nonnegative_int, default=None, metavar="D",
                   help="in the branch-and-bound route's proofs, bound the nodes of depth >= D "
                   "whose chord bound is within 2.6x of the target by a semidefinite "
                   "relaxation (SCS; its multipliers are checked exactly), and end the final "
                   "proof on a partition with semidefinite leaves; default 0: off (no gain "
                   "measured on breast-cancer at 600 s: docs/branch_and_bound.md)")


def _full_chambers_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--full-chambers", action="store_true",
                   help="below --limit, keep the whole chamber list of the data as the "
                   "evidence of the lower bound (default: the chambers of the support rows of "
                   "lambda when they are at most half as many)")


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (v > 0 and v < float("inf")):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
    return v


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", metavar="DATA", help="data set: .npz (X, y), .csv or .json")
    p.add_argument("--bias", action="store_true", help="append a constant feature (a bias)")


def _int_at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer ``>= low``."""
    what = "a positive integer" if low == 1 else f"an integer >= {low}"

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if v < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {v}")
        return v

    return parse


_positive_int = _int_at_least(1)
_nonnegative_int = _int_at_least(0)


def _lr(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0 or 'auto', got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0 or 'auto', got {text!r}")
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
    for stream in (sys.stdout, sys.stderr):  # a character no encoding holds: escaped, never
        try:                                  # a UnicodeEncodeError traceback (belt and braces
            stream.reconfigure(errors="backslashreplace")  # under printable())
        except (AttributeError, ValueError, OSError):
            pass
    def show(message: Warning | str, category: type[Warning], *rest: Any, **kw: Any) -> None:
        # the library's warnings (a solver retried, MOSEK not licensed) as the command's own
        # one-line messages, not Python's "file.py:123: RuntimeWarning" and a source line
        print(f"verify {args.command}: warning: {printable(message)}", file=sys.stderr)

    try:
        with warnings.catch_warnings():  # the filters are kept; only the display changes
            warnings.showwarning = show
            return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"verify {args.command}: error: {printable(exc)}", file=sys.stderr)
        return 2
    except VerifyError as exc:
        print(f"verify {args.command}: error: {printable(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `verify audit DATA | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(f"verify {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # the file system refused a path (too long, no permission, ...)
        from verify.checker.files import shorten

        where = exc.filename if exc.filename is not None else ""
        why = exc.strerror or exc.__class__.__name__
        text = f"{shorten(str(where))}: {why}" if where != "" else why
        print(f"verify {args.command}: error: {printable(text)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # python -m verify.cli.main (as python -m verify)
    sys.exit(main())
