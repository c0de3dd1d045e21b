r"""PyTorch files: read a ``state_dict`` safely and write one (the optional ``torch`` extra).

Reading uses ``torch.load(path, map_location="cpu", weights_only=True)`` (no arbitrary
unpickling) and turns every failure into one line naming the file (a whole pickled
``nn.Module``, a non-torch file, any other torch error with escape codes stripped).  Writing
produces the ``state_dict`` of ``Linear(d, m, bias=False) -> ReLU -> Linear(m, 1,
bias=False)``.  :mod:`verify.io.models` maps these to and from ``W1``/``w2``.

Examples
--------
>>> one_line("torch says:\n\tsomething  long", width=20)
'torch says: somethi…'
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from verify.errors import InputError

__all__ = ["TORCH_HINT", "read_torch", "one_line", "torch_state_dict_bytes"]

#: The torch-missing hint (verify is installed from its source folder, not from PyPI).
TORCH_HINT = "pip install torch, or pip install -e '.[torch]' in the verify source folder"


def read_torch(p: Path, name: str) -> Mapping[str, Any]:
    """The ``state_dict`` in the PyTorch file ``p`` with every tensor as a numpy array
    (floating tensors widened exactly to float64); ``name`` is the file as the user wrote it.

    Raises
    ------
    InputError
        torch is not installed, the file is not a PyTorch file, or ``torch.load`` with
        ``weights_only=True`` refuses it (one line, see :func:`_torch_load_message`).
    """
    try:
        import torch
    except ImportError:
        raise InputError(
            f"{name}: reading PyTorch files needs torch ({TORCH_HINT}); or "
            "save the weights as .safetensors or .npz"
        ) from None
    with open(p, "rb") as fh:
        head = fh.read(4)
    if head != b"PK\x03\x04" and not head.startswith(b"\x80"):
        raise InputError(f"{name}: not a PyTorch file (neither a zip archive nor a pickle)")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InputError(_torch_load_message(name, exc)) from None
    return _torch_to_numpy(obj, name)


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_GLOBAL = re.compile(r"Unsupported global: GLOBAL ([\w.]+)")


def one_line(text: str, *, width: int = 160) -> str:
    r"""``text`` as one line: terminal escape codes removed, whitespace runs collapsed, cut.

    Examples
    --------
    >>> one_line("\x1b[1mbold\x1b[0m.\n\t(1) more", width=12)
    'bold. (1) m…'
    """
    flat = " ".join(_ANSI.sub("", text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _torch_load_message(name: str, exc: BaseException) -> str:
    r"""One line for a failed ``torch.load(weights_only=True)``.

    Examples
    --------
    >>> class UnpicklingError(Exception): pass
    >>> _torch_load_message("m.pt", UnpicklingError(
    ...     "Weights only load failed.\n\tWeightsUnpickler error: Unsupported global: "
    ...     "GLOBAL torch.nn.modules.linear.Linear was not an allowed global"))
    'm.pt: a pickled model object (torch.nn.modules.linear.Linear), not a state_dict; ...'

    """
    text = str(exc)
    m = _GLOBAL.search(text)
    if m and m.group(1).startswith("torch.nn."):
        return (f"{name}: a pickled model object ({m.group(1)}), not a state_dict; "
                "save model.state_dict()")
    if m:
        return (f"{name}: the file pickles a Python object ({m.group(1)}) that "
                "torch.load(weights_only=True) refuses; save a state_dict of tensors")
    detail = one_line(text, width=100)
    first = detail.split(". ")
    if len(first) > 1 and len(first[0]) >= 20:  # torch's first sentence says what failed
        detail = first[0]
    detail = f"{exc.__class__.__name__}: {detail}" if detail else exc.__class__.__name__
    return f"{name}: not a readable PyTorch state_dict ({detail})"


def _torch_to_numpy(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _torch_to_numpy(v, name) for k, v in obj.items()}
    if hasattr(obj, "detach") and hasattr(obj, "dtype"):
        import torch

        t = obj.detach().cpu()
        # floats convert to float64 exactly; other dtypes are kept and rejected by the
        # validation only if they are used as weights
        return t.to(torch.float64).numpy() if t.is_floating_point() else t.numpy()
    return obj


def torch_state_dict_bytes(
    A: np.ndarray, b: np.ndarray, bias_feature: bool, name: str
) -> bytes:
    """The state_dict of ``Linear(d, m, bias=False) -> ReLU -> Linear(m, 1, bias=False)``.

    A first-layer bias (the last row of ``W1`` when ``bias_feature``) becomes ``0.bias`` of a
    ``Linear(d - 1, m)``, exactly as :func:`weights_from_state_dict` reads it back.
    """
    try:
        import torch
    except ImportError:
        raise InputError(
            f"{name}: saving a PyTorch state_dict needs torch ({TORCH_HINT})"
        ) from None
    if A.ndim != 2:
        raise InputError(f"{name}: a PyTorch state_dict holds one output; this model has "
                         f"{A.shape[0]} classes (save it as .npz or .safetensors)")
    sd = {"0.weight": torch.from_numpy(np.array(A[:-1].T if bias_feature else A.T, order="C")),
          "2.weight": torch.from_numpy(b[None, :].copy())}
    if bias_feature:
        sd["0.bias"] = torch.from_numpy(A[-1].copy())
    bio = io.BytesIO()
    torch.save(sd, bio)
    return bio.getvalue()
