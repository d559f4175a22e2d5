"""Shared fixtures for the workspace tests: small paper files and a fake extractor standing in for the pipeline.

The fake reads rows from the file itself (one ``study|group|outcome|unit|events|total`` line
each), so a test decides what "the extraction" yields by writing a file, and a ``shift``
models changed extraction rules (every ``events`` moves by ``shift``).
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Sequence

import pandas as pd

from extract.rows import make_frame


def write_paper(path: Path, rows: Sequence[tuple]) -> Path:
    path.write_text("\n".join("|".join(str(v) for v in r) for r in rows) + "\n", encoding="utf-8")
    return path


def parse_paper(path: Path, shift: int = 0) -> list[dict]:
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        study, group, outcome, unit, events, total = line.split("|")
        out.append({"study_id": study, "source": Path(path).name, "group": group, "group_type": "overall",
                    "outcome": outcome, "unit": unit, "events": int(events) + shift, "total": int(total),
                    "evidence": [{"quote": events, "page": 1, "start": 0, "end": len(events)}]})
    return out


def fake_extractor(shift: int = 0, calls: list | None = None) -> Callable:
    """An extractor with the pipeline's result shape; files named ``bad*`` fail with a reason."""

    def run(paths, workers=1, **_options):
        if calls is not None:
            calls.extend(Path(p).name for p in paths)
        docs, records, failures = [], [], []
        for p in map(Path, paths):
            if p.name.startswith("bad"):
                failures.append((str(p), "not a supported document"))
                continue
            docs.append(SimpleNamespace(source=str(p), sha256="", text=p.read_text(encoding="utf-8")))
            records.extend(parse_paper(p, shift))
        return SimpleNamespace(rows=make_frame(records) if records else pd.DataFrame(), documents=docs,
                               failures=failures)

    return run


STANDARD = [
    ("smith2020", "overall", "response_overall", "patients", 12, 20),
    ("smith2020", "ALPS", "response_overall", "patients", 5, 8),
    ("smith2020", "overall", "death", "patients", 1, 20),
]


def test_fake_extractor_reads_rows_and_fails_bad_files(tmp_path):
    good = write_paper(tmp_path / "a.txt", STANDARD)
    bad = write_paper(tmp_path / "bad.txt", STANDARD)
    result = fake_extractor(shift=2)([good, bad])
    assert list(result.rows["events"]) == [14, 7, 3]
    assert [d.source for d in result.documents] == [str(good)]
    assert result.failures and result.failures[0][0] == str(bad)
