"""Text and JSON rendering of results for the command line (fits 100 columns).

Examples
--------
>>> print(dumps({"b": 1, "a": [1.5]}), end="")
{
  "a": [
    1.5
  ],
  "b": 1
}
"""

from __future__ import annotations

import json
import textwrap
from fractions import Fraction
from typing import Any

from verify.certificate.messages import CONTROL

__all__ = [
    "dumps", "fmt", "exact_text", "pattern_bits", "render_audit",
    "render_chambers", "BITS_LIMIT",
]


def dumps(obj: Any) -> str:
    """Deterministic JSON text (sorted keys, two-space indent, trailing newline); control
    characters that JSON itself leaves raw (DEL, C1, bidi overrides) are escaped too."""
    text = json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    return CONTROL.sub(_json_escape, text)


def _json_escape(m: Any) -> str:
    """A character of :data:`CONTROL` as a JSON escape (a surrogate pair beyond U+FFFF)."""
    c = ord(m[0])
    if c == 10:
        return "\n"
    if c > 0xFFFF:
        c -= 0x10000
        return f"\\u{0xD800 + (c >> 10):04x}\\u{0xDC00 + (c & 0x3FF):04x}"
    return f"\\u{c:04x}"


def fmt(v: Any) -> str:
    """A value for a table: ``None`` as ``unknown``, floats to 6 digits, never ``-0``.

    Examples
    --------
    >>> fmt(-0.0), fmt(None), fmt(True), fmt(1 / 3)
    ('0', 'unknown', 'yes', '0.333333')
    """
    if v is None:
        return "unknown"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v + 0.0:.6g}"  # + 0.0: -0.0 prints as 0
    return str(v)


def exact_text(value: str, *, digits: int = 6) -> str:
    """An exact rational (``"p/q"`` text) for people, with its relation sign: short ones as
    ``"= p/q"``, long ones as ``"≈ decimal"`` (the exact value stays in ``--json``).

    The sign of the rounded text is the exact sign; a nonzero value that rounds to zero says so.

    Examples
    --------
    >>> exact_text("-2"), exact_text("1/3")
    ('= -2', '= 1/3')
    >>> exact_text("63/100000000000000000000")
    '≈ 6.3e-19'
    >>> exact_text("1/" + "1" + "0" * 400)
    '≈ 0 (exactly > 0)'
    """
    if len(value) <= 12:
        return f"= {value}"
    F = Fraction(value)
    f = float(F)
    if f == 0 and F != 0:
        return f"≈ 0 (exactly {'>' if F > 0 else '<'} 0)"
    return f"≈ {f:.{digits}g}"


def _table(rows: list[tuple[str, str]]) -> str:
    """Key/value rows; long values wrap onto indented continuation lines (100 columns)."""
    width = max(len(k) for k, _ in rows)
    room = 100 - width - 2
    lines = []
    for k, v in rows:
        parts = textwrap.wrap(v, room, break_on_hyphens=False) if len(v) > room else [v]
        lines.append(f"{k.ljust(width)}  {parts[0] if parts else ''}")
        lines += [f"{'':{width}}  {p}" for p in parts[1:]]
    return "\n".join(lines)


def render_audit(obj: dict[str, Any]) -> str:
    """Short human table of an audit report (fits 100 columns)."""
    sep = obj["orthogonal_separability"]
    rows = [
        ("data", str(obj["source"])),
        ("samples x features", f"{obj['samples']} x {obj['features']}"),
        ("rank (exact)", str(obj["rank"])),
        ("classes", ", ".join(map(str, obj["classes"]))),
    ]
    if obj.get("positive_label") is not None:
        rows.append(("label +1", str(obj["positive_label"])))
    rows.append(("orthogonally separable", fmt(obj["orthogonally_separable"])))
    if not obj["orthogonally_separable"]:
        rows.append(("  violating pairs", str(sep.get("violations"))))
        for w in sep.get("worst", [])[:3]:
            rows.append(
                (
                    f"  pair ({w['i']}, {w['j']})",
                    f"{w['kind']}: x_i.x_j {exact_text(str(w['inner_product']))}",
                )
            )
    spike = obj["spike_free"]
    undecided = {u.get("step"): u for u in obj.get("undecided") or []}
    rows.append(("spike-free", fmt(spike) if "spike_free_details" not in obj
                 or obj["spike_free_details"] is not None else "not tested (--no-spike)"))
    if obj["spike_value"] is not None:
        rows.append(("  spike value", fmt(obj["spike_value"])))
    if spike is None and obj.get("spike_free_details"):
        rows.append(("  reason", str(obj["spike_free_details"].get("reason", ""))))
        option = (undecided.get("spike-free") or {}).get("option")
        if option:
            rows.append(("  option", str(option)))
    rows.append(("chambers", fmt(obj["chambers"])))
    proof = obj.get("count_proof") or {}
    method = proof.get("method", "no proof")
    rows.append(
        (
            "  complete list",
            f"{fmt(obj['chambers_complete'])}"
            + (f" ({method})" if method not in ("none", "no proof") else ""),
        )
    )
    listing = obj.get("chamber_list") or {}
    if not obj["chambers_complete"]:
        proven = listing.get("proven_count")
        if listing:
            rows.append(("  found", f"{listing.get('found')} of "
                         + (f"{proven} (proven count)" if proven is not None
                            else "an unknown number (count not proven)")))
        why = listing.get("reason") or proof.get("reason") or proof.get("note")
        if why:
            rows.append(("  reason", str(why)))
        if listing.get("option"):
            rows.append(("  option", str(listing["option"])))
    for warning in obj.get("warnings") or []:
        rows.append(("warning", str(warning)))
    if obj["issues"]:
        for issue in obj["issues"]:
            rows.append(("infeasible", issue["message"]))
    else:
        rows.append(("max-margin feasible", "yes"))
    return _table(rows)


def render_chambers(obj: dict[str, Any]) -> str:
    """Short human listing of a chamber enumeration."""
    head = [
        ("samples x features", f"{obj.get('n_samples')} x {obj.get('n_features')}"),
        ("rank", str(obj.get("rank"))),
        ("chambers", str(obj.get("chambers", obj.get("n_chambers")))),
        ("complete", fmt(obj.get("complete"))),
        ("method", str(obj.get("method"))),
        ("count proof", str((obj.get("count_proof") or {}).get("method"))),
    ]
    lines = [_table(head), ""]
    patterns = obj.get("patterns") or []
    n = int(obj.get("n_samples") or 0)
    bits = n <= BITS_LIMIT
    if patterns:
        lines.append(
            "patterns: 0/1 per sample (1 = x_n.u >= 0), sample 0 first" if bits
            else f"patterns: hex of the packed bits, N = {n} > {BITS_LIMIT} samples "
            "(np.packbits(pattern, bitorder='little'))"
        )
    shown = patterns[:20]
    for j, pat in enumerate(shown):
        text = pattern_bits(pat, n) if bits else pat
        lines.append(f"  D_{j:<4d} {text if len(text) <= 90 else text[:87] + '...'}")
    if len(patterns) > len(shown):
        lines.append(f"  ... {len(patterns) - len(shown)} more (use --json or -o FILE)")
    return "\n".join(lines)


#: Patterns of at most this many samples are shown as 0/1 strings, longer ones in hex.
BITS_LIMIT = 64


def pattern_bits(hex_pattern: str, n: int) -> str:
    """A pattern from its hex packing (``np.packbits(..., bitorder='little')``) as a 0/1
    string, sample 0 first — the form graph and solve outputs use.

    Examples
    --------
    >>> pattern_bits("0700", 9)
    '111000000'
    """
    raw = bytes.fromhex(hex_pattern)
    return "".join("1" if raw[i // 8] >> (i % 8) & 1 else "0" for i in range(n))


