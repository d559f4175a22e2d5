"""The bundled evidence base: curated study rows of sirolimus / MMF studies, with their sources.

``evidence_base.csv`` holds facts and figures only (counts, totals, person-time, rates, CIs,
DOIs) and *where* each stands in its paper — never paper text. For the five papers in
``../shared/corpus/seeds`` it also records character offsets into the seed file, so that when
that folder is present the loader can show the very quote; for the other studies the
location is the abstract section named in ``where``.

Repeated measures of one outcome (``timepoint``) are kept, but only the primary time point of
each study is pooled: the others load with ``status = "excluded"`` and a flag saying why.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

from extract.rows import EVIDENCE_LEVEL, make_frame

HERE = Path(__file__).resolve().parent
EVIDENCE_BASE = HERE / "evidence_base.csv"


def shared_dir() -> Path | None:
    """``../shared`` beside the project checkout, where the real papers live (absent in a wheel)."""
    for base in (Path.cwd(), HERE.parent):
        cand = base.parent / "shared"
        if (cand / "corpus").is_dir():
            return cand
    return None


@lru_cache(maxsize=8)
def _seed_text(name: str, root: str) -> str | None:
    path = Path(root) / "corpus" / "seeds" / name
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _num(value):
    return None if value is None or (isinstance(value, float) and pd.isna(value)) or value == "" else value


def load_evidence_base(shared: Path | None = None) -> pd.DataFrame:
    """The curated rows as Contract 1 study rows (all time points; secondary ones excluded)."""
    raw = pd.read_csv(EVIDENCE_BASE, dtype=str, keep_default_na=False)
    shared = shared if shared is not None else shared_dir()
    records = []
    for r in raw.to_dict("records"):
        evidence: dict = {"quote": "", "page": None, "start": None, "end": None, "where": r["where"]}
        if r["doi"]:
            evidence["source"] = f"doi:{r['doi']}"
        if r["seed"]:
            start, end = int(r["seed_start"]), int(r["seed_end"])
            evidence.update(page=1, start=start, end=end, file=f"corpus/seeds/{r['seed']}")
            text = _seed_text(r["seed"], str(shared)) if shared else None
            if text is not None:
                evidence["quote"] = text[start:end]
        flags = ["curated: read by hand" + (f" ({r['where']})" if r["where"] else "")]
        if "derived" in r["where"]:
            flags.append("derived: count computed from the printed percent and total")
        status = "extracted"
        if r["primary"] == "false":
            status = "excluded"
            flags.append(f"secondary time point ({r['timepoint']}): one time point per study is pooled")
        elif r["timepoint"]:
            flags.append(f"time point: {r['timepoint']}")
        records.append({
            "study_id": r["study_id"], "source": "corpus/evidence_base.csv", "doi": r["doi"], "pmid": r["pmid"],
            "title": "", "first_author": r["first_author"], "year": int(r["year"]) if r["year"] else None,
            "journal": r["journal"], "design": r["design"] or "unknown",
            "multicenter": {"true": True, "false": False}.get(r["multicenter"]),
            "evidence_level": EVIDENCE_LEVEL.get(r["design"] or "unknown", ""),
            "group": r["group"] or "overall", "group_type": r["group_type"] or "overall",
            "population": r["population"], "intervention": r["intervention"], "outcome": r["outcome"],
            "events": _num(r["events"]), "unit": r["unit"], "total": _num(r["total"]),
            "person_time": _num(r["person_time"]), "time_unit": r["time_unit"],
            "reported_value": _num(r["reported_value"]), "reported_scale": r["reported_scale"],
            "ci_low": _num(r["ci_low"]), "ci_high": _num(r["ci_high"]),
            "evidence": [evidence], "confidence": 1.0, "flags": flags, "status": status,
        })
    df = make_frame(records)
    for col in ("events", "total", "person_time", "reported_value", "ci_low", "ci_high"):
        df[col] = pd.to_numeric(df[col])
    return df


def evidence_of(row: pd.Series) -> list[dict]:
    value = row["evidence"]
    return json.loads(value) if isinstance(value, str) else list(value or [])
