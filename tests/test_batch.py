"""The per-file map: same results in input order whether run here, in processes, or on Dask.

Dask is an optional extra for users, but the test extra installs it, so these always run.
"""
from __future__ import annotations

import math

import pytest

from extract.batch import SchedulerError, map_files

ITEMS = [9.0, 1.0, 16.0, 4.0, 25.0]


@pytest.mark.parametrize("workers", [1, 2])
def test_results_in_input_order_and_progress_per_item(workers):
    seen = []
    assert map_files(math.sqrt, ITEMS, workers=workers, progress=seen.append) == [3.0, 1.0, 4.0, 2.0, 5.0]
    assert sorted(seen) == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_dask_local_cluster_gives_the_same():
    seen = []
    assert map_files(math.sqrt, ITEMS, scheduler="local", progress=seen.append) == [3.0, 1.0, 4.0, 2.0, 5.0]
    assert len(seen) == len(ITEMS)


def test_unreachable_scheduler_is_one_line():
    with pytest.raises(SchedulerError) as err:
        map_files(math.sqrt, ITEMS, scheduler="tcp://127.0.0.1:9")
    assert "127.0.0.1:9" in str(err.value) and "\n" not in str(err.value)


def test_extraction_on_dask_equals_one_worker(shared):
    """The issue's check: the same rows from a LocalCluster as from --workers 1 (seeds and a bad file)."""
    from extract.pipeline import extract_paths

    paths = sorted((shared / "corpus" / "seeds").iterdir()) + [shared / "corpus" / "bad" / "empty.pdf"]
    one = extract_paths(paths, workers=1)
    seen = []
    dask = extract_paths(paths, scheduler="local", progress=lambda path, ok, pages: seen.append((path, ok)))
    assert dask.rows.equals(one.rows)
    assert dask.failures == one.failures and len(one.failures) == 1
    assert sorted(seen) == sorted((str(p), str(p) not in dict(one.failures)) for p in paths)


def test_two_processes_equal_one(shared):
    from extract.pipeline import extract_paths

    paths = sorted((shared / "corpus" / "seeds").iterdir())
    assert extract_paths(paths, workers=2).rows.equals(extract_paths(paths, workers=1).rows)
