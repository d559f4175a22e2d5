"""Subgroup analysis: a separate model per group, the test for subgroup differences, and the
shared-tau² meta-regression on the group factor (metafor ``mods = ~ factor(group)``).

Why both: RevMan / ``meta`` report separate fits plus a Q test of the group estimates (what a
reader expects in a forest plot), while the meta-regression answers the same question under one
tau²; the oracle records both, so litmeta computes both.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from meta.effects import Effects, subset
from meta.errors import MetaError
from meta.regression import RegressionFit, factor_design, rma_mods


@dataclass
class SubgroupAnalysis:
    levels: list[str]
    separate: dict            # level -> MetaResult
    between: dict | None      # {"q", "df", "p", "groups"}
    mods: RegressionFit | None
    mods_noint: RegressionFit | None
    warnings: list[str]
    #: per level, the shared-tau² estimate and CI back-transformed with that group's own n / time
    mods_noint_back: dict | None = None


def group_labels(groups, study: list[str] | None = None) -> list[str]:
    """Group labels as strings; a missing label is an error naming the row."""
    out = []
    for i, g in enumerate(list(groups)):
        if g is None or (isinstance(g, float) and np.isnan(g)) or str(g).strip() == "":
            name = f" ({study[i]})" if study and i < len(study) else ""
            raise MetaError(f"row {i + 1}{name}: group is missing")
        out.append(str(g))
    return out


def between_test(estimates, ses, groups: list[str]) -> dict:
    """Q test of the separate group estimates: an EE meta-regression of the estimates (vi = se²) on
    the group factor, i.e. Q = Σ w (b_g - b̄_w)², df = G - 1."""
    b = np.asarray(estimates, dtype=float)
    se = np.asarray(ses, dtype=float)
    if np.any(~(se > 0)):
        raise MetaError("test for subgroup differences needs every group's SE > 0")
    w = 1.0 / se**2
    bw = float(np.dot(w, b) / w.sum())
    q = float(np.dot(w, (b - bw) ** 2))
    df = b.size - 1
    return {"q": q, "df": df, "p": float(stats.chi2.sf(q, df)), "groups": list(groups)}


def analyse(effects: Effects, groups, method: str, test: str, level: float, fit_one, **control) -> SubgroupAnalysis:
    """Fit every group with ``fit_one(effects_subset) -> MetaResult``, then the between-group test and
    (not for GLMM) the meta-regressions with and without intercept."""
    labels = group_labels(groups, effects.study)
    if len(labels) != effects.k:
        raise MetaError(f"{len(labels)} group labels for {effects.k} studies")
    levels = [str(x) for x in pd.Categorical(labels).categories]
    warns: list[str] = []
    separate = {}
    for lv in levels:
        rows = [i for i, g in enumerate(labels) if g == lv]
        try:
            separate[lv] = fit_one(subset(effects, rows))
        except MetaError as err:
            warns.append(f"group {lv}: {err}")
    between = None
    mods = noint = None
    if len(separate) >= 2:
        names = list(separate)
        try:
            between = between_test([separate[n].fit.estimate for n in names], [separate[n].fit.se for n in names], names)
        except MetaError as err:
            warns.append(str(err))
    if len(levels) >= 2 and method != "GLMM":
        try:
            X, coef_names, _ = factor_design(labels)
            mods = rma_mods(effects.yi, effects.vi, X, coef_names=coef_names, method=method, test=test, level=level,
                            **control)
            X0, names0, _ = factor_design(labels, intercept=False)
            noint = rma_mods(effects.yi, effects.vi, X0, coef_names=names0, intercept=False, method=method,
                             test=test, level=level, **control)
        except MetaError as err:
            warns.append(f"meta-regression on the groups: {err}")
    noint_back = None
    if noint is not None:
        from meta.results import pooled_back

        noint_back = {}
        for j, lv in enumerate(levels):
            rows = [i for i, g in enumerate(labels) if g == lv]
            noint_back[lv] = pooled_back(subset(effects, rows), {"estimate": noint.coef[j], "ci_low": noint.ci_low[j],
                                                                 "ci_high": noint.ci_high[j]})
    return SubgroupAnalysis(levels, separate, between, mods, noint, warns, noint_back)
