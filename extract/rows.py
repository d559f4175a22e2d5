"""Study rows: Contract 1 of DESIGN.md, one row per study × group × outcome.

The column list is the contract; every writer (CSV, JSON records, Parquet) uses it in this order.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

COLUMNS: list[str] = [
    "study_id", "source", "doi", "pmid", "title", "first_author", "year", "journal",
    "design", "multicenter", "evidence_level", "group", "group_type", "population",
    "intervention", "outcome", "events", "unit", "total", "person_time", "time_unit",
    "reported_value", "reported_scale", "ci_low", "ci_high", "evidence", "confidence",
    "flags", "status",
]

DESIGNS = ("rct", "prospective", "retrospective", "case_series", "case_report",
           "systematic_review", "guideline", "review", "unknown")

# Oxford CEBM 2009 level implied by a single study's design (the consensus seed prints the table).
EVIDENCE_LEVEL = {
    "systematic_review": "1a", "rct": "1b", "prospective": "2b", "retrospective": "2b",
    "case_series": "4", "case_report": "4", "guideline": "5", "review": "5", "unknown": "",
}

JSON_COLUMNS = ("evidence", "flags")
NUMERIC_COLUMNS = ("year", "events", "total", "person_time", "reported_value", "ci_low", "ci_high", "confidence")


def make_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Rows in contract order; lists in ``evidence``/``flags`` become JSON text, as CSV needs."""
    df = pd.DataFrame(list(records))
    for col in COLUMNS:
        if col not in df.columns:
            df[col] = None
    df = df[COLUMNS].copy()
    for col in JSON_COLUMNS:
        df[col] = [v if isinstance(v, str) else json.dumps(v if v is not None else [], ensure_ascii=False)
                   for v in df[col]]
    df["status"] = df["status"].fillna("extracted")
    return df


def write_rows(df: pd.DataFrame, path: str | Path) -> None:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df.to_csv(path, index=False)
    elif suffix == ".json":
        df.to_json(path, orient="records", indent=1, force_ascii=False)
    elif suffix == ".parquet":
        out = df.copy()
        for col in out.columns:
            if col not in NUMERIC_COLUMNS:
                out[col] = out[col].map(lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))
        out.to_parquet(path, index=False)
    else:
        raise ValueError(f"{path}: unknown output format (use .csv, .json or .parquet)")


def read_rows(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix == ".json":
        return pd.read_json(path, orient="records")
    return pd.read_csv(path)
