"""litmeta's meta-analysis: effect sizes → random-effects models → results and plots (metafor-exact).

Public entry points: :func:`pool` (a DataFrame of studies → :class:`MetaResult`) and
:func:`pool_many` (many meta-analyses at once, vectorised). The low-level pieces are
:func:`meta.effects.escalc`, :func:`meta.estimators.tau2`, :func:`meta.model.rma` and
:func:`meta.model.tau2_confint`.
"""
from __future__ import annotations

import pandas as pd

from meta.effects import PROPORTION_MEASURES, RATE_MEASURES, Effects, escalc, normalise_measure
from meta.errors import MetaError
from meta.results import MetaResult

__all__ = ["pool", "pool_many", "MetaResult", "MetaError", "escalc", "Effects"]


class _DefaultMeasure(str):
    """The default ``measure="PLO"``; told apart from an explicit "PLO" so rate data can default to IRLN."""


DEFAULT_MEASURE = _DefaultMeasure("PLO")

#: column aliases accepted besides Contract 2's names (metafor's escalc argument names)
_ALIASES = {"xi": "events", "ni": "total", "ti": "person_time"}


def _columns(data: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise MetaError(f"pool() needs a pandas DataFrame, not {type(data).__name__}")
    rename = {c: _ALIASES[c] for c in data.columns if c in _ALIASES and _ALIASES[c] not in data.columns}
    return data.rename(columns=rename) if rename else data


def resolve_measure(data: pd.DataFrame, measure, method: str = "REML") -> str:
    """Choose the measure for the columns present; the default adapts to rate or yi/vi data,
    an explicit measure that does not fit the data is refused."""
    cols = set(data.columns)
    has_counts = "events" in cols
    has_total, has_time = "total" in cols, "person_time" in cols
    has_yv = {"yi", "vi"} <= cols
    is_default = isinstance(measure, _DefaultMeasure)
    glmm = str(method).strip().upper() == "GLMM"
    if is_default:
        if has_counts and has_total:
            return "PLO"
        if has_counts and has_time:
            return "IRLN"
        if has_yv:
            return "GEN"
        raise MetaError("data needs columns events,total (proportions), events,person_time (rates) or yi,vi")
    m = normalise_measure(measure)
    if m == "GEN":
        if not has_yv:
            raise MetaError("measure=None means the data gives yi and vi, but those columns are missing")
        return m
    if glmm and m not in ("PLO", "IRLN"):
        raise MetaError(f"method GLMM pools on the logit (PLO) or log-rate (IRLN) scale, not {m}")
    if m in PROPORTION_MEASURES and not (has_counts and has_total):
        hint = " (the data has person_time: use IR, IRLN, IRS or IRFT)" if has_time else ""
        raise MetaError(f"measure {m} needs columns events and total{hint}")
    if m in RATE_MEASURES and not (has_counts and has_time):
        hint = " (the data has total: use PR, PLN, PLO, PAS or PFT)" if has_total else ""
        raise MetaError(f"measure {m} needs columns events and person_time{hint}")
    return m


def effects_from_frame(data: pd.DataFrame, measure: str) -> Effects:
    """escalc on a DataFrame's columns (``study`` optional)."""
    study = data["study"].tolist() if "study" in data.columns else None
    if measure == "GEN":
        return escalc("GEN", yi=data["yi"].tolist(), vi=data["vi"].tolist(), study=study)
    return escalc(measure, events=data["events"].tolist(),
                  total=data["total"].tolist() if "total" in data.columns else None,
                  person_time=data["person_time"].tolist() if "person_time" in data.columns else None,
                  study=study)


def pool(data: pd.DataFrame, measure: str | None = DEFAULT_MEASURE, method: str = "REML", test: str = "z",
         level: float = 95, group: str | None = None, **control) -> MetaResult:
    """Pool one outcome as ``metafor::rma`` would (``method="GLMM"``: ``rma.glmm``).

    ``data``: columns ``events,total`` (proportions), ``events,person_time`` (rates) or ``yi,vi``
    (``measure=None``), optional ``study``; ``group`` names a column for subgroups (separate fits,
    test for differences, meta-regression). ``control`` reaches the tau² estimator (e.g.
    ``threshold``; :data:`meta.estimators.METAFOR_CONTROL` reproduces metafor's default output).
    """
    data = _columns(data)
    if len(data) < 1:
        raise MetaError("no studies to pool (need at least 1 row)")
    m = resolve_measure(data, measure, method)
    effects = effects_from_frame(data, m)
    meth = "GLMM" if str(method).strip().upper() == "GLMM" else method

    def fit_one(eff: Effects) -> MetaResult:
        return MetaResult.from_effects(eff, meth, test, level, **control)

    result = fit_one(effects)
    if group is not None:
        if group not in data.columns:
            raise MetaError(f"no column {group!r} to group by (columns: {', '.join(map(str, data.columns))})")
        from meta.subgroups import analyse

        sub = analyse(effects, data[group].tolist(), result.method, result.test, level, fit_one, **control)
        result.subgroups = sub.separate
        result.between = sub.between
        result.subgroup_models = sub
        result.warnings += sub.warnings
    return result


def pool_many(yi, vi, method: str = "REML", test: str = "z", level: float = 95, **control):
    """Fit many meta-analyses at once: one per row of the 2-D ``yi``/``vi`` (NaN-padded); see
    :func:`meta.batch.pool_many`."""
    from meta.batch import pool_many as _pool_many

    return _pool_many(yi, vi, method=method, test=test, level=level, **control)
