"""The bundled evidence base: Contract 1 rows, located facts, one pooled time point per study."""
from __future__ import annotations

import json

import pandas as pd

import corpus
from extract.rows import COLUMNS
from meta.selection import entries_for, poolable_outcomes


def test_rows_follow_contract_1():
    df = corpus.load_evidence_base(shared=None)
    assert list(df.columns) == COLUMNS
    assert set(df["status"]) <= {"extracted", "excluded"}
    assert df["study_id"].str.fullmatch(r"[a-z]+\d{4}[a-z]?").all()
    for ev in df["evidence"]:
        items = json.loads(ev)
        assert items and all("where" in it for it in items)


def test_one_pooled_time_point_per_study_and_outcome():
    df = corpus.load_evidence_base(shared=None)
    live = df[(df["status"] != "excluded") & (df["outcome"] != "")]
    dup = live.groupby(["study_id", "group", "outcome", "unit"]).size()
    assert (dup == 1).all(), dup[dup > 1]
    excluded = df[df["status"] == "excluded"]
    assert len(excluded) and all("secondary time point" in f for f in excluded["flags"])


def test_seed_offsets_point_at_the_numbers(shared):
    """Each curated seed row's quote, read from ../shared, contains the figures the row states."""
    df = corpus.load_evidence_base(shared=shared)
    seeded = [(r, json.loads(r["evidence"])[0]) for r in df.to_dict("records")]
    seeded = [(r, e) for r, e in seeded if e.get("file")]
    assert len(seeded) >= 15
    for r, e in seeded:
        quote = e["quote"].replace(",", "")
        assert quote, r
        stated = [f"{r[c]:g}" for c in ("events", "reported_value") if pd.notna(r[c])]
        assert any(s in quote for s in stated), (r["study_id"], r["group"], stated, quote)
        if pd.notna(r["person_time"]):
            assert f"{r['person_time']:g}" in quote or r["group"] == "overall", (r["group"], quote)


def test_entries_one_per_study():
    df = corpus.load_evidence_base(shared=None)
    ent = entries_for(df, "response_overall", "proportion")
    assert ent["study"].is_unique
    assert {"zhang2023", "long2018", "huang2022", "wu2021", "okuracar2024"} <= set(ent["study_id"])
    # huang2022 reports 3 and 6 months: only the primary (6 months, 54/64) is pooled
    h = ent[ent["study_id"] == "huang2022"]
    assert (h["events"].tolist(), h["total"].tolist()) == ([54.0], [64.0])
    outcomes = dict(poolable_outcomes(df))
    assert outcomes.get("response_overall") == "proportion" and outcomes.get("response_complete") == "proportion"
    # rates: only Comella reports person-time, so no rate outcome is poolable
    assert all(kind == "proportion" for _, kind in poolable_outcomes(df))
