"""Sensitivity of a pooled result to single studies: leave-one-out, cumulative, influence.

Why a module of its own: all three refit the same model (same tau² estimator, test and level)
on subsets of the studies and report how the pooled figures move, so they share one refitting
loop built on :func:`meta.model.rma`. Numbers follow metafor 3.8-1 (``leave1out``, ``cumul``,
``influence.rma.uni``): leave-one-out and cumulative results are checked against
``../shared/oracle/expected/*.json``; the influence measures, which the oracle does not hold, are
metafor's definitions for the intercept-only model and are tested by their identities.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from meta.errors import MetaError
from meta.model import RmaFit, rma

#: per-subset figures kept for each refit (RmaFit attribute names)
_FIELDS = ("estimate", "se", "stat", "p", "ci_low", "ci_high", "q", "q_p", "tau2", "i2", "h2")


def _labels(study: Sequence[str] | None, k: int) -> list[str]:
    if study is None:
        return [str(i + 1) for i in range(k)]
    labels = [str(s) for s in study]
    if len(labels) != k:
        raise MetaError(f"study has {len(labels)} labels but there are {k} studies")
    return labels


@dataclass
class SensitivityResult:
    """One refit per row: leave-one-out (row i omits study i) or cumulative (row j adds the
    j-th study in ``order``). Arrays are aligned with ``study``."""

    kind: str                      # "leave_one_out" | "cumulative"
    method: str
    test: str
    level: float
    study: list[str]
    order: np.ndarray              # 0-based data indices, one per row
    fits: list[RmaFit] = field(repr=False)

    def column(self, name: str) -> np.ndarray:
        """One figure across the refits (any RmaFit scalar attribute, e.g. ``"estimate"``)."""
        return np.array([getattr(f, name) for f in self.fits], dtype=float)

    def __getattr__(self, name: str) -> np.ndarray:
        if name in _FIELDS or name in ("k", "tau", "df", "pi_low", "pi_high"):
            return self.column(name)
        raise AttributeError(name)

    def to_frame(self) -> pd.DataFrame:
        """One row per refit: the study omitted/added, k, and the pooled figures."""
        head = "omitted" if self.kind == "leave_one_out" else "added"
        data = {head: self.study, "k": [f.k for f in self.fits]}
        data.update({name: self.column(name) for name in _FIELDS})
        return pd.DataFrame(data)

    def back_transformed(self, measure: str, *, total=None, person_time=None) -> pd.DataFrame:
        """Estimate and CI on the natural scale (proportion/rate), as metafor's transf with the
        harmonic mean of all studies' n (PFT) or time (IRFT), as the oracle applies it."""
        from meta.effects import back_transform

        out = {}
        for name in ("estimate", "ci_low", "ci_high"):
            out[name] = back_transform(measure, self.column(name), total=total, person_time=person_time)
        return pd.DataFrame(out)

    def to_dict(self) -> dict:
        """JSON-ready: settings plus one list per figure."""
        frame = self.to_frame()
        out = {"kind": self.kind, "method": self.method, "test": self.test, "level": self.level,
               "order": [int(i) for i in self.order]}
        for col in frame.columns:
            out[col] = [x if isinstance(x, str) else (int(x) if col == "k" else float(x))
                        for x in frame[col]]
        return out

    def summary(self) -> str:
        """A compact table: how the estimate, CI and heterogeneity move."""
        head = "Leave-one-out" if self.kind == "leave_one_out" else "Cumulative"
        lines = [f"{head} analysis ({self.method}, test {self.test}, {self.level:g}% CI)",
                 f"{'omitted' if self.kind == 'leave_one_out' else 'added':<24}{'k':>4}"
                 f"{'estimate':>11}{'ci_low':>10}{'ci_high':>10}{'p':>11}{'tau2':>10}{'I2 %':>7}"]
        for s, f in zip(self.study, self.fits):
            lines.append(f"{s[:23]:<24}{f.k:>4}{f.estimate:>11.4f}{f.ci_low:>10.4f}"
                         f"{f.ci_high:>10.4f}{f.p:>11.3g}{f.tau2:>10.4f}{f.i2:>7.1f}")
        return "\n".join(lines)


def _prepare(yi, vi, method: str, test: str, level: float, control: dict) -> tuple[np.ndarray, np.ndarray, RmaFit]:
    """Fit the full model once: it validates the input and fixes method/test names."""
    full = rma(yi, vi, method=method, test=test, level=level, **control)
    return full.yi, full.vi, full


def leave_one_out(yi: Sequence[float], vi: Sequence[float], method: str = "REML", test: str = "z",
                  level: float = 95.0, study: Sequence[str] | None = None,
                  **control) -> SensitivityResult:
    """metafor ``leave1out(rma(yi, vi, method, test, level))``: refit k times, each time
    without one study (row i omits study i). ``control`` goes to :func:`meta.model.rma`
    (e.g. ``meta.estimators.METAFOR_CONTROL`` reproduces metafor's default stopping)."""
    y, v, full = _prepare(yi, vi, method, test, level, control)
    k = y.size
    if k < 2:
        raise MetaError("leave-one-out needs at least 2 studies (k = 1); metafor stops too")
    keep = ~np.eye(k, dtype=bool)
    fits = [rma(y[keep[i]], v[keep[i]], method=full.method, test=test, level=level, **control)
            for i in range(k)]
    return SensitivityResult("leave_one_out", full.method, full.test, float(level), _labels(study, k),
                             np.arange(k), fits)


def cumulative(yi: Sequence[float], vi: Sequence[float], method: str = "REML", test: str = "z",
               level: float = 95.0, study: Sequence[str] | None = None,
               order: Sequence[int] | None = None, **control) -> SensitivityResult:
    """metafor ``cumul(rma(...), order=order)``: add studies one at a time in ``order`` (0-based
    indices, e.g. ``np.argsort(year, kind="stable")``; default: data order) and refit each time.
    ``control`` goes to :func:`meta.model.rma`."""
    y, v, full = _prepare(yi, vi, method, test, level, control)
    k = y.size
    idx = np.arange(k) if order is None else np.asarray(order, dtype=int).ravel()
    if idx.size != k or not np.array_equal(np.sort(idx), np.arange(k)):
        raise MetaError(f"order must be a permutation of 0..{k - 1} (one index per study)")
    fits = [rma(y[idx[: j + 1]], v[idx[: j + 1]], method=full.method, test=test, level=level,
                **control) for j in range(k)]
    labels = _labels(study, k)
    return SensitivityResult("cumulative", full.method, full.test, float(level),
                             [labels[i] for i in idx], idx, fits)


@dataclass
class InfluenceResult:
    """Case diagnostics of the intercept-only model, as metafor ``influence.rma.uni``.

    ``rstudent`` standardized deleted residual; ``dffits``; ``cook_d`` Cook's distance;
    ``cov_r`` covariance ratio; ``tau2_del``/``qe_del`` tau² and Q without the study; ``hat``
    leverage; ``weight`` (percent); ``dfbetas``; ``influential`` metafor's rule (any of |DFFITS| >
    3·sqrt(p/(k-p)), P(chi²_p <= Cook) > 0.5, hat > 3p/k, |DFBETAS| > 1).
    """

    study: list[str]
    rstudent: np.ndarray
    dffits: np.ndarray
    cook_d: np.ndarray
    cov_r: np.ndarray
    tau2_del: np.ndarray
    qe_del: np.ndarray
    hat: np.ndarray
    weight: np.ndarray
    dfbetas: np.ndarray
    influential: np.ndarray
    fit: RmaFit = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per study, columns named as metafor prints them."""
        return pd.DataFrame({"study": self.study, "rstudent": self.rstudent, "dffits": self.dffits,
                             "cook.d": self.cook_d, "cov.r": self.cov_r, "tau2.del": self.tau2_del,
                             "QE.del": self.qe_del, "hat": self.hat, "weight": self.weight,
                             "dfbs": self.dfbetas, "inf": self.influential})

    def to_dict(self) -> dict:
        frame = self.to_frame()
        return {col: [x if isinstance(x, str) else (bool(x) if col == "inf" else float(x))
                      for x in frame[col]] for col in frame.columns}

    def summary(self) -> str:
        lines = [f"Influence diagnostics ({self.fit.method}, test {self.fit.test}; * = influential)",
                 f"{'study':<24}{'rstudent':>9}{'dffits':>9}{'cook.d':>9}{'cov.r':>8}{'tau2.del':>10}"
                 f"{'QE.del':>9}{'hat':>7}{'weight':>8}"]
        for i, s in enumerate(self.study):
            lines.append(f"{s[:23]:<24}{self.rstudent[i]:>9.4f}{self.dffits[i]:>9.4f}{self.cook_d[i]:>9.4f}"
                         f"{self.cov_r[i]:>8.4f}{self.tau2_del[i]:>10.4f}{self.qe_del[i]:>9.4f}"
                         f"{self.hat[i]:>7.4f}{self.weight[i]:>8.2f}{' *' if self.influential[i] else ''}")
        return "\n".join(lines)


def influence(yi: Sequence[float], vi: Sequence[float], method: str = "REML", test: str = "z",
              level: float = 95.0, study: Sequence[str] | None = None, **control) -> InfluenceResult:
    """Influence diagnostics (metafor ``influence(rma(yi, vi, method, test, level))``) from the
    full fit and the k leave-one-out refits; p = 1 coefficient (the pooled estimate)."""
    loo = leave_one_out(yi, vi, method=method, test=test, level=level, study=study, **control)
    full = rma(yi, vi, method=method, test=test, level=level, **control)
    y, v = full.yi, full.vi
    k, p = y.size, 1
    w = 1.0 / (v + full.tau2)
    hat = w / w.sum()                                  # diag of X (X'WX)^-1 X'W
    est_del, se_del, tau2_del = loo.column("estimate"), loo.column("se"), loo.column("tau2")
    s2w_del = np.array([1.0 if f.s2w is None else f.s2w for f in loo.fits])
    dfb = full.estimate - est_del
    rstudent = (y - est_del) / np.sqrt(v + se_del ** 2 + tau2_del)
    dffits = dfb / np.sqrt(s2w_del * hat * (tau2_del + v))
    cook_d = dfb ** 2 / full.se ** 2
    cov_r = se_del ** 2 / full.se ** 2
    # metafor: Var of the estimate with tau²(-i) but all k studies' weights, times s2w(-i)
    var_del_all = 1.0 / np.sum(1.0 / (v[None, :] + tau2_del[:, None]), axis=1)
    dfbetas = dfb / np.sqrt(s2w_del * var_del_all)
    infl = ((np.abs(dffits) > 3 * np.sqrt(p / (k - p))) if k > p else np.zeros(k, bool))
    infl = infl | (stats.chi2.cdf(cook_d, p) > 0.5) | (hat > 3 * p / k) | (np.abs(dfbetas) > 1)
    return InfluenceResult(study=loo.study, rstudent=rstudent, dffits=dffits, cook_d=cook_d,
                           cov_r=cov_r, tau2_del=tau2_del, qe_del=loo.column("q"), hat=hat,
                           weight=np.asarray(full.weights, float), dfbetas=dfbetas,
                           influential=infl, fit=full)
