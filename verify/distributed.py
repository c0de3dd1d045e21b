"""Optional scale-out of the independent per-chunk work on ``dask.distributed``.

The heavy loops of the toolkit (the NNLS calls of :func:`verify.convex.chamber_oracle.oracle`, the
Gram
blocks of :func:`verify.geometry.separability.orthogonal_separability`) are maps of a pure function
over independent chunks.  :func:`map_chunks` runs such a map either in-process (``executor``
``None``: a plain list comprehension, exactly the serial path) or on an executor:

- a ``distributed.Client`` (``client.map`` + ``client.gather``; a large shared object is
  scattered once to every worker with ``broadcast=True``);
- any :class:`concurrent.futures.Executor` (``submit`` then ``result`` in order).

Results come back in the order of ``chunks`` and are combined by the caller in that order,
so nothing depends on completion order: the distributed answer is bit-identical to the
serial one (each chunk is computed by the same code on the same inputs).

:func:`executor_from_options` turns the command-line options ``--workers N`` /
``--scheduler ADDRESS`` into a context manager yielding a ``Client`` (or ``None``).
``dask`` is an optional dependency (the ``dask`` extra); it is imported only there.

Examples
--------
>>> map_chunks(sum, [[1, 2], [3], []], None)
[3, 3, 0]
>>> split_chunks(list(range(7)), 3)
[[0, 1, 2], [3, 4], [5, 6]]
>>> with executor_from_options(None, None) as ex:
...     print(ex)
None
"""

from __future__ import annotations

import contextlib
import importlib
import pickle
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from verify.errors import InputError

__all__ = [
    "map_chunks",
    "split_chunks",
    "n_workers",
    "executor_from_options",
    "run_gram_blocks",
    "share",
    "DASK_HINT",
]

#: How to get dask when it is missing.
DASK_HINT = "install the 'dask' extra: pip install -e '.[dask]'"

#: Seconds to wait for an existing scheduler before giving up.
CONNECT_TIMEOUT = 5.0


def _import_distributed() -> Any:
    """``distributed``, or :class:`InputError` with the install hint."""
    try:
        return importlib.import_module("distributed")
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError(f"dask.distributed is not installed; {DASK_HINT}") from exc


def _is_client(executor: Any) -> bool:
    return type(executor).__name__ == "Client" and hasattr(executor, "gather")


def n_workers(executor: Any) -> int:
    """Number of parallel workers behind ``executor`` (1 for ``None``).

    Examples
    --------
    >>> n_workers(None)
    1
    """
    if executor is None:
        return 1
    if _is_client(executor):
        try:
            info = executor.scheduler_info()
            workers = info.get("workers", {})
            return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))
        except Exception:  # pragma: no cover - a scheduler that does not answer
            return 1
    return max(1, int(getattr(executor, "_max_workers", 1) or 1))


def split_chunks(items: Sequence[Any], n_chunks: int, *, min_size: int = 1) -> list[list[Any]]:
    """Split ``items`` into at most ``n_chunks`` contiguous chunks of near-equal size.

    Chunks hold at least ``min_size`` items (except when there are fewer items), so each
    task carries enough work to pay for its scheduling (aim at >= ~50 ms per task).
    Concatenating the chunks gives back ``items`` in order.

    Examples
    --------
    >>> split_chunks(list(range(5)), 2)
    [[0, 1, 2], [3, 4]]
    >>> split_chunks(list(range(6)), 4, min_size=3)
    [[0, 1, 2], [3, 4, 5]]
    >>> split_chunks([], 3)
    []
    """
    if not isinstance(n_chunks, int) or n_chunks < 1:
        raise InputError(f"n_chunks: expected an integer >= 1, received {n_chunks!r}")
    n = len(items)
    if n == 0:
        return []
    k = max(1, min(n_chunks, n // max(1, min_size)))
    q, r = divmod(n, k)
    out, s = [], 0
    for i in range(k):
        e = s + q + (1 if i < r else 0)
        out.append(list(items[s:e]))
        s = e
    return out


def _is_future(obj: Any) -> bool:
    return type(obj).__name__ == "Future" and hasattr(obj, "key")


def share(obj: Any, executor: Any) -> Any:
    """``obj`` sent once to every worker of a ``Client`` (a future that :func:`map_chunks`
    accepts as ``shared`` without sending it again); ``obj`` itself for other executors.

    Examples
    --------
    >>> share([1, 2], None)
    [1, 2]
    """
    if _is_client(executor):
        return executor.scatter([obj], broadcast=True, hash=False)[0]  # one object, one key
    return obj


def map_chunks(
    fn: Callable[..., Any],
    chunks: Sequence[Any],
    executor: Any = None,
    *,
    shared: Any = None,
) -> list[Any]:
    """``[fn(c) for c in chunks]`` (or ``fn(c, shared)``), serially or on ``executor``.

    Parameters
    ----------
    fn : callable
        A top-level (picklable) function of one chunk, or of ``(chunk, shared)`` when
        ``shared`` is given.
    chunks : sequence
        The independent pieces of work.
    executor : distributed.Client, concurrent.futures.Executor or None
        ``None`` runs in-process, in order.
    shared : object, optional
        A large object every call needs (arrays, an engine): with a ``Client`` it is
        scattered once to all workers (``broadcast=True``) instead of being sent per task
        (or pass the result of :func:`share` to reuse it over several calls).

    Returns
    -------
    list
        The results in the order of ``chunks`` (identical to the serial map).

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(2) as ex:
    ...     map_chunks(pow, [2, 3, 4], ex, shared=2)
    [4, 9, 16]
    """
    chunks = list(chunks)
    args: tuple[Any, ...] = () if shared is None else (shared,)
    if executor is None or len(chunks) == 0:
        return [fn(c, *args) for c in chunks]
    if _is_client(executor):
        if shared is not None and not _is_future(shared):
            args = (share(shared, executor),)
        # one pickle (one frame) per chunk and per result: dask would otherwise walk the
        # nested lists and serialise every small array as its own frame (very slow)
        payloads = [pickle.dumps(c, protocol=5) for c in chunks]
        futures = executor.map(
            _call_pickled,
            [fn] * len(chunks),
            payloads,
            *[[a] * len(chunks) for a in args],
            pure=False,
        )
        try:
            return [pickle.loads(r) for r in executor.gather(futures)]
        finally:
            for f in futures:
                f.release()
    if hasattr(executor, "submit"):
        futs = [executor.submit(fn, c, *args) for c in chunks]
        return [f.result() for f in futs]
    raise InputError(
        "executor: expected None, a distributed.Client or a concurrent.futures.Executor, "
        f"received {type(executor).__name__}"
    )


def _call_pickled(fn: Callable[..., Any], payload: bytes, *args: Any) -> bytes:
    """``pickle(fn(unpickle(payload), *args))``: one frame each way."""
    return pickle.dumps(fn(pickle.loads(payload), *args), protocol=5)


@contextlib.contextmanager
def executor_from_options(
    workers: int | None = None, scheduler: str | None = None
) -> Iterator[Any]:
    """Context manager for ``--workers N`` / ``--scheduler ADDRESS``.

    ``workers`` starts a local cluster (``LocalCluster(n_workers=workers,
    threads_per_worker=1, processes=True, dashboard_address=":0")``) and yields a
    ``Client`` on it; ``scheduler`` connects a ``Client`` to an existing cluster (within
    :data:`CONNECT_TIMEOUT` seconds); neither yields ``None`` (everything in-process).
    Everything started here is shut down on exit.

    Raises
    ------
    InputError
        Both options given, ``workers`` not a positive integer, dask not installed (with
        the install hint), or a scheduler that cannot be reached.

    Examples
    --------
    >>> with executor_from_options() as ex:
    ...     ex is None
    True
    """
    if workers is not None and scheduler is not None:
        raise InputError("--workers and --scheduler: expected at most one of them, received both")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise InputError(f"--workers: expected an integer >= 1, received {workers!r}")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise InputError(
            f"--scheduler: expected an address like tcp://host:8786, received {scheduler!r}"
        )
    if workers is None and scheduler is None:
        yield None
        return
    distributed = _import_distributed()
    if workers is not None:
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: never a clash with 8787
        )
        try:
            client = distributed.Client(cluster)
            try:
                yield client
            finally:
                client.close()
        finally:
            cluster.close()
        return
    try:
        client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(
            f"--scheduler: could not connect to a dask scheduler at {scheduler!r} within "
            f"{CONNECT_TIMEOUT:g} s ({type(exc).__name__}: {exc})"
        ) from exc
    try:
        yield client
    finally:
        client.close()


def _gram_blocks_chunk(blocks: list[tuple[int, int, int, int]], engine: Any) -> tuple:
    """Gram blocks of :class:`verify.geometry.gram_signs.GramSignEngine` on a fresh copy of its
    state.
    """
    import copy

    import numpy as np

    e = copy.copy(engine)
    e.violations = e.pairs_checked = e.structural = e.exact_float = e.exact_checks = 0
    e.worst = []
    e.best = {True: -np.inf, False: -np.inf}
    buf = np.empty(max((r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in blocks))
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for r0, r1, c0, c1 in blocks:
            e._compute(r0, r1, c0, c1, buf)
    return e.violations, e.pairs_checked, e.exact_float, e.exact_checks, e.worst, e.best


def run_gram_blocks(engine: Any, blocks: list[tuple[int, int, int, int]], executor: Any) -> None:
    """Run the Gram ``blocks`` of a separability engine on ``executor`` and merge the results.

    Every block is processed by the same code as in-process, on a copy of the engine with
    empty counters; the counts are added, the per-block worst lists merged by the same total
    order (severity, then indices) and cut to ``max_worst``, the extremes combined by ``max``:
    none of these depends on the order or grouping of the blocks (the severities are
    blocking-independent by construction), so the report equals the serial one.
    """
    nw = n_workers(executor)
    chunks = split_chunks(blocks, 4 * nw)
    for v, pc, ef, ec, worst, best in map_chunks(
        _gram_blocks_chunk, chunks, executor, shared=engine
    ):
        engine.violations += v
        engine.pairs_checked += pc
        engine.exact_float += ef
        engine.exact_checks += ec
        engine.worst.extend(worst)
        for k in (True, False):
            engine.best[k] = max(engine.best[k], best[k])
    engine.worst.sort()
    del engine.worst[engine.max_worst :]
