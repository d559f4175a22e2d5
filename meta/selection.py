"""From study rows (Contract 1, as a plain DataFrame) to the entries one meta-analysis pools.

``meta`` never imports ``extract``: it only knows the row columns by name.
"""
from __future__ import annotations

import pandas as pd

RATE_MEASURES = ("IR", "IRLN", "IRS", "IRFT")


def entries_for(rows: pd.DataFrame, outcome: str, kind: str = "proportion") -> pd.DataFrame:
    """One entry per study for ``outcome``: its overall row, else each of its subgroup rows.

    ``kind="proportion"`` takes rows counting patients out of a total; ``"rate"`` takes rows
    with person-time. Excluded rows and rows without events are left out. Subgroups of one
    study hold different patients, so pooling them as separate entries counts nobody twice;
    the ``study`` label says which subgroup it is.
    """
    sel = rows[(rows["outcome"] == outcome) & (rows["status"].fillna("extracted") != "excluded")]
    sel = sel[pd.to_numeric(sel["events"], errors="coerce").notna()]
    if kind == "rate":
        sel = sel[pd.to_numeric(sel["person_time"], errors="coerce").fillna(0) > 0]
    else:
        sel = sel[pd.to_numeric(sel["total"], errors="coerce").notna() & (sel["unit"].fillna("patients") != "episodes")]
    parts = []
    for sid, grp in sel.groupby("study_id", sort=False):
        overall = grp[grp["group"].fillna("overall") == "overall"]
        use = overall.head(1) if len(overall) else grp
        use = use.assign(study=[sid if g == "overall" else f"{sid} ({g})" for g in use["group"].fillna("overall")])
        parts.append(use)
    cols = list(sel.columns) + ["study"]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    for col in ("events", "total", "person_time"):
        out[col] = pd.to_numeric(out[col], errors="coerce")
    return out


def poolable_outcomes(rows: pd.DataFrame, min_studies: int = 2) -> list[tuple[str, str]]:
    """(outcome, kind) pairs with at least ``min_studies`` distinct studies, most studies first."""
    found = []
    for outcome in sorted(o for o in rows["outcome"].dropna().unique() if o):
        for kind in ("proportion", "rate"):
            ent = entries_for(rows, outcome, kind)
            n = ent["study_id"].nunique() if len(ent) else 0
            if n >= min_studies:
                found.append((outcome, kind, n))
    found.sort(key=lambda t: (-t[2], t[0]))
    return [(o, k) for o, k, _ in found]
