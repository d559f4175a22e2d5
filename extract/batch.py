"""Run one function over many files: in this process, in local worker processes, or on a Dask cluster.

Extraction is a per-file map (a file → its rows), so the same function scales from a laptop to a
living review over tens of thousands of papers. Results always come back in input order; the
``progress`` callback is called as each file finishes (completion order), so a slow first file
never freezes the progress bar.

Dask is optional (``pip install 'litmeta[dask]'``): ``scheduler`` is the address of a running
``dask.distributed`` scheduler (``tcp://host:8786``), ``"local"`` for a LocalCluster on this
machine, or a ``distributed.Client``.
"""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class SchedulerError(RuntimeError):
    """The Dask scheduler cannot be used (not installed, not reachable): one line for the user."""


def map_files(fn: Callable[[T], R], items: Sequence[T], workers: int = 1, scheduler: Any = None,
              progress: Callable[[R], None] | None = None) -> list[R]:
    """``[fn(x) for x in items]``, possibly in parallel; ``progress(result)`` after each item."""
    items = list(items)
    if scheduler is not None:
        return _map_dask(fn, items, scheduler, progress)
    if workers > 1 and len(items) > 1:
        out: list[Any] = [None] * len(items)
        with ProcessPoolExecutor(max_workers=min(workers, len(items))) as pool:
            futures = {pool.submit(fn, x): i for i, x in enumerate(items)}
            for fut in as_completed(futures):
                out[futures[fut]] = res = fut.result()
                if progress:
                    progress(res)
        return out
    results = []
    for x in items:
        res = fn(x)
        results.append(res)
        if progress:
            progress(res)
    return results


def _map_dask(fn, items, scheduler, progress) -> list:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:
        raise SchedulerError("--scheduler needs Dask: pip install 'litmeta[dask]'") from None
    own_client = cluster = None
    if isinstance(scheduler, Client):
        client = scheduler
    else:
        try:
            if scheduler == "local":
                cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
                client = own_client = Client(cluster)
            else:
                client = own_client = Client(str(scheduler), timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        futures = client.map(fn, items, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        out: list[Any] = [None] * len(items)
        for fut in dask_completed(futures):
            out[index[fut.key]] = res = fut.result()
            if progress:
                progress(res)
        return out
    finally:
        if own_client is not None:
            own_client.close()
        if cluster is not None:
            cluster.close()
