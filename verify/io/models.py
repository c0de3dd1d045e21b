"""Model files: read and write the weights of two-layer ReLU networks.

The network is ``f(θ, X) = (X W1)_+ w2`` with ``W1`` of shape ``(d, m)`` and ``w2`` of shape
``(m,)``; for ``K`` classes ``W1`` is ``(K, d, m)`` and ``w2`` is ``(K, m)`` (``K`` independent
sub-networks).  There are no biases: a first-layer bias is the weight of a constant feature,
the **last** column of ``X`` when the data is loaded with ``--bias``.

Formats (chosen by the file suffix)
-----------------------------------
``.npz``
    Arrays ``W1`` and ``w2``; read with ``allow_pickle=False`` (pickles are never loaded).
    An optional 0-d boolean ``bias_feature`` says that the last row of ``W1`` is a bias.
``.safetensors``
    The same tensor names, read and written by :mod:`verify.io.safetensors` (a small strict
    implementation of the format, no extra dependency).  ``F64``, ``F32``, ``F16`` and
    ``BF16`` are read (all convert to float64 exactly); ``F64`` or ``F32`` are written.
    ``__metadata__ = {"bias_feature": "true"}`` marks a bias row.
``.pt`` / ``.pth``
    A PyTorch ``state_dict`` of ``Linear(d, m) → ReLU → Linear(m, 1)`` saved with
    ``torch.save``, read *without torch* by :func:`verify.io.pytorch.read_torch` (a
    restricted unpickler admitting what ``torch.load(weights_only=True)`` admits for a
    state_dict; no code from the file runs).  Writing ``.pt`` needs the ``torch`` extra.

A file that holds no ``W1``/``w2`` but looks like a state dict (``.npz`` and ``.safetensors``
too) is mapped by :func:`weights_from_state_dict`; the mapping rule is documented there.

Examples
--------
>>> import numpy as np, os, tempfile
>>> p = os.path.join(tempfile.mkdtemp(), "net.safetensors")
>>> save_model(p, np.array([[1.0, -2.0], [0.5, 0.25]]), np.array([1.0, -1.0]))
>>> mw = load_weights(p)
>>> mw.W1.tolist(), mw.w2.tolist(), mw.format
([[1.0, -2.0], [0.5, 0.25]], [1.0, -1.0], 'safetensors')
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from verify.errors import InputError
from verify.io.files import check_writable, existing_file, load_npz, write_atomic
from verify.io.pytorch import TORCH_HINT, one_line, read_torch, torch_state_dict_bytes
from verify.io.safetensors import read_safetensors, write_safetensors

__all__ = [
    "ModelWeights",
    "check_weights",
    "check_feature_count",
    "weights_from_state_dict",
    "load_weights",
    "save_model",
    "check_model_output",
    "one_line",  # re-exported from verify.io.pytorch
]




@dataclass(frozen=True)
class ModelWeights:
    """Validated weights read from a file or a state dict.

    Attributes
    ----------
    W1 : ndarray, float64, shape (d, m) or (K, d, m)
    w2 : ndarray, float64, shape (m,) or (K, m)
    source : str
        Where the weights came from.
    format : str
        ``"npz"``, ``"safetensors"``, ``"torch"``, ``"state_dict"`` or ``"arrays"``.
    has_bias_feature : bool
        The last row of ``W1`` is a first-layer bias: the data must be loaded with ``--bias``.
    notes : tuple of str
        What the loader did (mapped keys, a zero second-layer bias accepted, ...).
    """

    W1: np.ndarray
    w2: np.ndarray
    source: str = "<array>"
    format: str = "arrays"
    has_bias_feature: bool = False
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (shapes, not the weights).

        Examples
        --------
        >>> import numpy as np
        >>> ModelWeights(np.ones((2, 3)), np.ones(3)).to_dict()["shape_W1"]
        [2, 3]
        """
        return {
            "source": self.source,
            "format": self.format,
            "shape_W1": list(self.W1.shape),
            "shape_w2": list(self.w2.shape),
            "has_bias_feature": self.has_bias_feature,
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- validation


def _as_float_array(a: Any, name: str, source: str) -> np.ndarray:
    try:
        arr = np.asarray(a)
    except Exception as exc:
        raise InputError(f"{source}: {name} is not an array of numbers ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{source}: {name} must hold real numbers, got dtype {arr.dtype}")
    out = np.array(arr, dtype=np.float64)
    if arr.dtype.kind in "iu" and arr.size and np.any(out.astype(arr.dtype) != arr):
        raise InputError(f"{source}: {name} has integers too large to convert exactly (> 2**53)")
    return out


def check_weights(W1: Any, w2: Any, *, source: str = "<array>") -> tuple[np.ndarray, np.ndarray]:
    """Validate shapes and finiteness; return read-only float64 copies.

    Raises
    ------
    InputError
        On a wrong number of dimensions, a mismatch between ``W1`` and ``w2``, an empty
        layer, or a non-finite weight (the message names expected and received shapes).

    Examples
    --------
    >>> import numpy as np
    >>> check_weights(np.ones((2, 3)), np.ones(4))
    Traceback (most recent call last):
    ...
    verify.errors.InputError: <array>: W1 has 3 neurons (shape (2, 3)) but w2 has 4 ...
    """
    A = _as_float_array(W1, "W1", source)
    b = _as_float_array(w2, "w2", source)
    if A.ndim not in (2, 3):
        raise InputError(f"{source}: W1 must have shape (d, m) or (K, d, m), got shape {A.shape}")
    if b.ndim != A.ndim - 1:
        want = "(m,)" if A.ndim == 2 else "(K, m)"
        raise InputError(
            f"{source}: W1 has shape {A.shape}, so w2 must have shape {want}; got {b.shape}"
        )
    if A.shape[-1] != b.shape[-1]:
        raise InputError(
            f"{source}: W1 has {A.shape[-1]} neurons (shape {A.shape}) but w2 has "
            f"{b.shape[-1]} (shape {b.shape}); expected w2 of length {A.shape[-1]}"
        )
    if A.ndim == 3 and A.shape[0] != b.shape[0]:
        raise InputError(
            f"{source}: W1 has {A.shape[0]} classes (shape {A.shape}) but w2 has "
            f"{b.shape[0]} (shape {b.shape})"
        )
    if A.shape[-2] < 1 or A.shape[-1] < 1 or (A.ndim == 3 and A.shape[0] < 1):
        raise InputError(f"{source}: W1 is empty (shape {A.shape}); need d >= 1 and m >= 1")
    for name, arr in (("W1", A), ("w2", b)):
        bad = ~np.isfinite(arr)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise InputError(
                f"{source}: {name} has a non-finite weight ({arr[idx]}) at index {idx}"
            )
    A.setflags(write=False)
    b.setflags(write=False)
    return A, b


def check_feature_count(
    n_model: int,
    n_data: int,
    *,
    has_bias_feature: bool,
    data_bias: bool | None = None,
    source: str = "<model>",
) -> None:
    """Raise :class:`InputError` unless the model's input size equals the data's features.

    ``n_model`` counts the rows of ``W1`` (including a bias row); ``n_data`` the columns of
    ``X`` (including the constant column when the data was loaded with ``--bias``).

    Examples
    --------
    >>> check_feature_count(3, 2, has_bias_feature=True, data_bias=False)
    Traceback (most recent call last):
    ...
    verify.errors.InputError: <model>: the model expects 3 input features (2 + a bias feature) ...
    """
    if has_bias_feature and data_bias is False:
        raise InputError(
            f"{source}: the model expects {n_model} input features ({n_model - 1} + a bias "
            f"feature) and has a first-layer bias, but the data ({n_data} features) was loaded "
            "without --bias; load the data with --bias"
        )
    if n_model == n_data:
        return
    what = f"{n_model - 1} + a bias feature" if has_bias_feature else "no bias"
    hint = ""
    if has_bias_feature and n_data == n_model - 1:
        hint = "; load the data with --bias"
    elif not has_bias_feature and data_bias and n_data == n_model + 1:
        hint = "; the data was loaded with --bias but the model has no bias: drop --bias"
    elif not has_bias_feature and n_data == n_model - 1:
        hint = "; if the last row of W1 is a bias, load the data with --bias"
    raise InputError(
        f"{source}: the model expects {n_model} input features ({what}), the data has "
        f"{n_data}{hint}"
    )


# --------------------------------------------------------------------------- state dicts

_WRAPPERS = ("state_dict", "model_state_dict", "model")


def _natural_key(s: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def weights_from_state_dict(sd: Mapping[str, Any], *, source: str = "<state_dict>") -> ModelWeights:
    """Map a state dict of ``Linear(d, m) → ReLU → Linear(m, 1)`` to ``(W1, w2)``.

    The rule:

    * a checkpoint ``{"state_dict": {...}, ...}`` (or ``model_state_dict`` / ``model``) is
      unwrapped, its other entries (epoch, optimizer state) ignored; a common ``module.``
      prefix (DataParallel) is removed;
    * every key must be ``<layer>.weight`` or ``<layer>.bias``; there must be exactly two
      layers with a 2-D weight (``0``/``2`` of an ``nn.Sequential``, ``fc1``/``fc2``,
      ``layer1``/``layer2``, any names);
    * the layers are ordered by shape when that is unambiguous (the output layer has shape
      ``(1, m)`` where ``m`` is the other layer's row count), otherwise by the names'
      natural order (``0`` < ``2`` < ``10``, ``fc1`` < ``fc2``);
    * ``W1 = first.weight.T`` (``d × m``), ``w2 = second.weight[0]``;
    * a first-layer bias (length ``m``) becomes an extra **last row** of ``W1``: the weights
      of the constant feature appended by ``--bias``;
    * a second-layer bias is rejected unless it is exactly zero (with it the network is not
      positively homogeneous and the theory does not apply).

    Values may be numpy arrays or anything ``np.asarray`` converts (torch tensors are
    converted by :func:`load_weights` first).

    Raises
    ------
    InputError
        On anything else, naming the keys and shapes found.

    Examples
    --------
    >>> import numpy as np
    >>> sd = {"0.weight": np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
    ...       "0.bias": np.array([0.1, 0.2, 0.3]), "2.weight": np.array([[1.0, -1.0, 1.0]])}
    >>> mw = weights_from_state_dict(sd)
    >>> mw.W1.shape, mw.has_bias_feature, mw.W1[-1].tolist()
    ((3, 3), True, [0.1, 0.2, 0.3])
    """
    if not isinstance(sd, Mapping):
        raise InputError(
            f"{source}: expected a state dict (name → tensor), got {type(sd).__name__}"
        )
    notes: list[str] = []
    wrapper = next((w for w in _WRAPPERS if isinstance(sd.get(w), Mapping)), None)
    if wrapper is not None and not any(str(k).endswith((".weight", ".bias")) for k in sd):
        others = sorted(str(k) for k in sd if k != wrapper)
        sd = sd[wrapper]
        notes.append(
            f"unwrapped the state dict from key {wrapper!r}"
            + (f" (ignored {others})" if others else "")
        )
    keys = [str(k) for k in sd]
    if not keys:
        raise InputError(f"{source}: the state dict is empty; expected two Linear layers")
    if all(k.startswith("module.") for k in keys):
        sd = {str(k)[len("module.") :]: v for k, v in sd.items()}
        notes.append("removed the 'module.' prefix")
    layers: dict[str, dict[str, np.ndarray]] = {}
    unexpected = []
    for k, v in sd.items():
        k = str(k)
        prefix, dot, kind = k.rpartition(".")
        if not dot or kind not in ("weight", "bias"):
            unexpected.append(k)
            continue
        if isinstance(v, Mapping):
            unexpected.append(k)
            continue
        layers.setdefault(prefix, {})[kind] = _as_float_array(v, k, source)
    if unexpected:
        raise InputError(
            f"{source}: unexpected state-dict entries {sorted(unexpected)}; only the weights "
            "and biases of Linear(d, m) → ReLU → Linear(m, 1) are understood"
        )
    shapes = {f"{p}.{k}": tuple(a.shape) for p, d in layers.items() for k, a in d.items()}
    linear = [p for p, d in layers.items() if "weight" in d and d["weight"].ndim == 2]
    if len(linear) != 2 or len(layers) != 2:
        raise InputError(
            f"{source}: expected exactly two layers with 2-D weights (Linear(d, m) and "
            f"Linear(m, 1)); found {shapes}"
        )
    a, b = sorted(linear, key=_natural_key)
    wa, wb = layers[a]["weight"], layers[b]["weight"]
    a_first = wb.shape == (1, wa.shape[0])
    b_first = wa.shape == (1, wb.shape[0])
    if b_first and not a_first:
        a, b = b, a
        notes.append(f"layer {a!r} is the input layer (by shape)")
    first, second = layers[a], layers[b]
    W, V = first["weight"], second["weight"]
    m = W.shape[0]
    if V.shape != (1, m):
        if V.ndim == 2 and V.shape[1] == m:
            raise InputError(
                f"{source}: the output layer {b}.weight has shape {V.shape}: {V.shape[0]} "
                "outputs sharing one hidden layer; only a scalar output Linear(m, 1) is "
                "supported (for K classes use K separate networks, W1 of shape (K, d, m))"
            )
        raise InputError(
            f"{source}: expected {b}.weight of shape (1, {m}) to match {a}.weight of shape "
            f"{W.shape}; got {V.shape}"
        )
    W1 = W.T
    has_bias = False
    if "bias" in first:
        b1 = first["bias"]
        if b1.shape != (m,):
            raise InputError(f"{source}: {a}.bias has shape {b1.shape}, expected ({m},)")
        W1 = np.vstack([W1, b1[None, :]])
        has_bias = True
        notes.append(
            f"the first-layer bias {a}.bias is the last row of W1: load the data with --bias"
        )
    if "bias" in second:
        b2 = second["bias"]
        if b2.shape not in ((1,), ()):
            raise InputError(f"{source}: {b}.bias has shape {b2.shape}, expected (1,)")
        if not np.all(b2 == 0):
            raise InputError(
                f"{source}: the output layer has a nonzero bias "
                f"{b}.bias = {float(b2.ravel()[0])!r}; "
                "the network is then not positively homogeneous and the max-margin theory "
                "does not apply (train without the second-layer bias)"
            )
        notes.append(f"the second-layer bias {b}.bias is exactly zero and was dropped")
    notes.append(f"mapped {a}.weight → W1 (transposed), {b}.weight → w2")
    W1c, w2c = check_weights(W1, V[0], source=source)
    return ModelWeights(
        W1c,
        w2c,
        source=source,
        format="state_dict",
        has_bias_feature=has_bias,
        notes=tuple(notes),
    )


def _weights_from_arrays(
    arrays: Mapping[str, np.ndarray], *, source: str, fmt: str, bias_flag: bool
) -> ModelWeights:
    if "W1" in arrays or "w2" in arrays:
        missing = [k for k in ("W1", "w2") if k not in arrays]
        if missing:
            raise InputError(
                f"{source}: the model file needs arrays 'W1' and 'w2'; missing {missing} "
                f"(found {sorted(arrays)})"
            )
        extra = sorted(set(arrays) - {"W1", "w2", "bias_feature"})
        if extra:
            raise InputError(f"{source}: unexpected arrays {extra} next to 'W1' and 'w2'")
        W1, w2 = check_weights(arrays["W1"], arrays["w2"], source=source)
        if bias_flag and W1.shape[-2] < 2:
            raise InputError(f"{source}: bias_feature is set but W1 has a single row")
        return ModelWeights(W1, w2, source=source, format=fmt, has_bias_feature=bias_flag)
    if any(str(k).endswith((".weight", ".bias")) for k in arrays):
        mw = weights_from_state_dict(arrays, source=source)
        return ModelWeights(
            mw.W1,
            mw.w2,
            source=source,
            format=fmt,
            has_bias_feature=mw.has_bias_feature,
            notes=mw.notes,
        )
    raise InputError(
        f"{source}: the model file needs arrays 'W1' and 'w2' (or a state dict with "
        f"'<layer>.weight' entries); found {sorted(arrays)}"
    )


# --------------------------------------------------------------------------- files


def load_weights(path: str | Path) -> ModelWeights:
    """Read a model file (``.npz``, ``.safetensors``, ``.pt``/``.pth``) and validate it.

    Raises
    ------
    InputError
        Missing file, unknown suffix, malformed file, missing arrays, wrong shapes,
        non-finite weights, a nonzero second-layer bias, a ``.pt`` file that pickles anything
        but tensors and dicts.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "net.npz")
    >>> np.savez(p, W1=np.ones((2, 3)))
    >>> load_weights(p)
    Traceback (most recent call last):
    ...
    verify.errors.InputError: ...: the model file needs arrays 'W1' and 'w2'; missing ['w2'] ...
    """
    p = existing_file(path)
    name = str(path)
    suffix = p.suffix.lower()
    if suffix == ".npz":
        arrays, flag = _read_npz(p, name)
        return _weights_from_arrays(arrays, source=name, fmt="npz", bias_flag=flag)
    if suffix == ".safetensors":
        arrays, meta = read_safetensors(p)
        flag = meta.get("bias_feature", "false").lower() == "true"
        return _weights_from_arrays(arrays, source=name, fmt="safetensors", bias_flag=flag)
    if suffix in (".pt", ".pth"):
        sd = read_torch(p, name)
        mw = weights_from_state_dict(sd, source=name)
        return ModelWeights(
            mw.W1,
            mw.w2,
            source=name,
            format="torch",
            has_bias_feature=mw.has_bias_feature,
            notes=mw.notes,
        )
    raise InputError(
        f"{name}: unknown model format {suffix!r}; use .npz, .safetensors, .pt or .pth"
    )


def _read_npz(p: Path, name: str) -> tuple[dict[str, np.ndarray], bool]:
    arrays = load_npz(p, name)
    flag = False
    if "bias_feature" in arrays:
        f = arrays["bias_feature"]
        if f.shape != () or f.dtype.kind not in "bi":
            raise InputError(
                f"{name}: 'bias_feature' must be a 0-d boolean, got {f.dtype}{f.shape}"
            )
        flag = bool(f)
    return arrays, flag


def save_model(
    path: str | Path, W1: Any, w2: Any, *, bias_feature: bool = False, dtype: str = "F64"
) -> None:
    """Save ``W1`` and ``w2`` as ``.npz``, ``.safetensors`` or a PyTorch ``.pt`` state_dict
    (by suffix), atomically.

    ``bias_feature`` records that the last row of ``W1`` is a first-layer bias; ``dtype``
    (``"F64"`` or ``"F32"``) applies to ``.safetensors`` only.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "net.npz")
    >>> save_model(p, np.ones((3, 2)), np.array([1.0, -1.0]), bias_feature=True)
    >>> load_weights(p).has_bias_feature
    True
    """
    p = Path(path)
    A, b = check_weights(W1, w2, source=str(path))
    A, b = np.ascontiguousarray(A), np.ascontiguousarray(b)  # C order: what the checker reads
    suffix = p.suffix.lower()
    if suffix == ".safetensors":
        meta = {"bias_feature": "true"} if bias_feature else None
        write_safetensors(p, {"W1": A, "w2": b}, metadata=meta, dtype=dtype)
    elif suffix == ".npz":
        bio = io.BytesIO()
        extra = {"bias_feature": np.array(True)} if bias_feature else {}
        np.savez(bio, W1=A, w2=b, **extra)
        write_atomic(p, bio.getvalue())
    elif suffix in (".pt", ".pth"):
        write_atomic(p, torch_state_dict_bytes(A, b, bias_feature, str(path)))
    else:
        raise InputError(
            f"{path}: cannot save a model as {suffix!r}; use .npz, .safetensors or .pt"
        )


def check_model_output(path: str | Path, *, option: str = "-o",
                       inputs: Mapping[str, str | Path | None] | None = None) -> Path:
    """Check, before any computation, that :func:`save_model` can write ``path``.

    The suffix must be ``.npz``, ``.safetensors``, ``.pt`` or ``.pth`` (the last two need
    torch) and the folder must exist; ``inputs`` as in :func:`verify.io.files.check_writable`
    (an input file is never overwritten).

    Raises
    ------
    InputError
        One line naming the option and the problem.

    Examples
    --------
    >>> check_model_output("nodir/net.npz")
    Traceback (most recent call last):
    ...
    verify.errors.InputError: -o: cannot write nodir/net.npz: directory nodir does not exist
    >>> check_model_output("net.onnx")
    Traceback (most recent call last):
    ...
    verify.errors.InputError: -o: cannot save a model as '.onnx'; use .npz, .safetensors or .pt
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".npz", ".safetensors", ".pt", ".pth"):
        raise InputError(
            f"{option}: cannot save a model as {suffix!r}; use .npz, .safetensors or .pt"
        )
    if suffix in (".pt", ".pth"):
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            raise InputError(f"{option}: saving a PyTorch state_dict needs torch ({TORCH_HINT})")
    return check_writable(path, option=option, inputs=inputs)
