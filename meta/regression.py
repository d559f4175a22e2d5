"""Meta-regression with moderators (metafor ``rma(yi, vi, mods=...)``), e.g. ``~ factor(group)``.

Why separate from ``estimators``: with moderators the hat matrix has no O(k) closed form, so tau²
is estimated with the explicit P = W - WX(X'WX)^-1X'W (O(k²p), never O(k³)); the coefficient
stage (GLS estimates, SEs, Knapp-Hartung scaling) is statsmodels' WLS, which gives metafor's
numbers once tau² is fixed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from meta.errors import MetaError
from meta.estimators import DEFAULT_CONTROL, boundary_if_higher, find_root, normalise_method
from meta.model import TESTS, rma


@dataclass
class RegressionFit:
    """A fitted meta-regression: coefficients, omnibus QM test, residual heterogeneity, R²."""

    method: str
    test: str
    k: int
    p: int
    coef_names: list[str]
    coef: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    pval: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    qm: float
    qm_df: tuple[int, int | None]   # (m,) df; second is the F denominator df under knha
    qm_p: float
    tau2: float
    se_tau2: float | None
    i2: float
    h2: float
    r2: float | None
    qe: float
    qe_df: int
    qe_p: float
    converged: bool


def _hat_parts(X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P, (X'WX)^-1) for weights w."""
    XtW = X.T * w
    A = np.linalg.pinv(XtW @ X)
    P = np.diag(w) - XtW.T @ A @ XtW
    return P, A


def _ype(P: np.ndarray, y: np.ndarray) -> float:
    return float(y @ P @ y)


def tau2_mods(y: np.ndarray, v: np.ndarray, X: np.ndarray, method: str, **control) -> tuple[float, float | None, bool]:
    """tau² (and its SE) for the model with design X, by metafor's rules for each method."""
    k, p = X.shape
    ctl = {**DEFAULT_CONTROL, **control}
    m = normalise_method(method)
    if m == "EE" or k <= p:
        return 0.0, None, True
    if m in ("DL", "HS"):
        w = 1.0 / v
        P, _ = _hat_parts(X, w)
        rss = _ype(P, y)
        trp = float(np.trace(P))
        denom = trp if m == "DL" else float(w.sum())
        t = (rss - (k - p)) / trp if m == "DL" else (rss - k) / denom
        tp = max(t, 0.0)
        se = math.sqrt((2 * (k - p) + 4 * tp * trp + 2 * tp * tp * float(np.sum(P * P))) / denom**2)
        return tp, se, True
    if m == "HE" or m in ("ML", "REML", "EB"):
        P0 = np.eye(k) - X @ np.linalg.pinv(X.T @ X) @ X.T
        PV = P0 * v
        t_he = (_ype(P0, y) - float(np.trace(PV))) / (k - p)
        if m == "HE":
            tp = max(t_he, 0.0)
            se = math.sqrt((2 * float(np.sum(PV * PV.T)) + 4 * tp * float(np.trace(PV)) + 2 * tp * tp * (k - p)) / (k - p) ** 2)
            return tp, se, True
        return _fisher_mods(y, v, X, m, max(0.0, t_he) if ctl.get("tau2_init") is None else float(ctl["tau2_init"]), ctl)
    if m == "SJ":
        t0 = float(np.var(y)) if ctl.get("tau2_init") is None else float(ctl["tau2_init"])
        P, _ = _hat_parts(X, 1.0 / (v + t0))
        t = t0 * _ype(P, y) / (k - p)
        tp = max(t, 0.0)
        PV = P * v
        se = math.sqrt(t0**2 / (k - p) ** 2 * (2 * float(np.sum(PV * PV.T)) + 4 * tp * float(np.sum(PV * P))
                                               + 2 * tp * tp * float(np.sum(P * P))))
        return tp, se, True
    # PM
    def qfun(t):
        return _ype(_hat_parts(X, 1.0 / (v + t))[0], y) - (k - p)
    tau2_max = float(ctl["tau2_max"])
    if qfun(0.0) < 0:
        t, conv = 0.0, True
    elif qfun(tau2_max) > 0:
        raise MetaError(f"Paule-Mandel: no root below tau2_max = {tau2_max:g}; use another method")
    else:
        t, conv, _ = find_root(qfun, 0.0, tau2_max, float(ctl["tol"]), int(ctl["maxiter"]), str(ctl["root"]))
    w = 1.0 / (v + t)
    return float(t), math.sqrt(2.0 * k * k / (k - p)) / float(w.sum()), conv


def _fisher_mods(y, v, X, m, t, ctl) -> tuple[float, float, bool]:
    k, p = X.shape
    change, it, conv = math.inf, 0, True
    while change > float(ctl["threshold"]):
        it += 1
        old = t
        w = 1.0 / (v + t)
        P, _ = _hat_parts(X, w)
        Py = P @ y
        if m == "ML":
            adj = (float(Py @ Py) - float(w.sum())) / float(w @ w)
        elif m == "REML":
            adj = (float(Py @ Py) - float(np.trace(P))) / float(np.sum(P * P))
        else:
            adj = (float(y @ Py) * k / (k - p) - k) / float(w.sum())
        adj *= float(ctl["stepadj"])
        if t == 0.0 and adj < 0.0:
            adj = 0.0   # metafor halves until the step underflows to -0: tau² stays 0
        while t + adj < 0.0:
            adj /= 2.0
        t += adj
        change = abs(old - t)
        if it > int(ctl["maxiter"]):
            conv = False
            break
    t = max(0.0, t)
    if m in ("ML", "REML"):
        t = boundary_if_higher(t, lambda x: loglik_mods(y, v, X, x, m), float(ctl["threshold"]))
    w = 1.0 / (v + t)
    if m == "ML":
        se = math.sqrt(2.0 / float(w @ w))
    elif m == "REML":
        P, _ = _hat_parts(X, w)
        se = math.sqrt(2.0 / float(np.sum(P * P)))
    else:
        se = math.sqrt(2.0 * k * k / (k - p)) / float(w.sum())
    return t, se, conv


def loglik_mods(y: np.ndarray, v: np.ndarray, X: np.ndarray, t: float, method: str) -> float:
    """(Restricted) log-likelihood of tau² for the model with design X, up to a constant:
    -(sum log(v + tau²) + y'Py [+ log det X'WX for REML]) / 2."""
    w = 1.0 / (v + t)
    P, _ = _hat_parts(X, w)
    ll = -0.5 * (float(np.sum(np.log(v + t))) + _ype(P, y))
    if method == "REML":
        ll -= 0.5 * float(np.linalg.slogdet((X.T * w) @ X)[1])
    return ll


def factor_design(groups, intercept: bool = True) -> tuple[np.ndarray, list[str], list[str]]:
    """Dummy coding as R's ``~ factor(group)`` (levels sorted; first is the reference) or ``- 1``."""
    g = pd.Categorical([str(x) for x in groups])
    levels = [str(x) for x in g.categories]
    D = np.zeros((len(g), len(levels)))
    D[np.arange(len(g)), g.codes] = 1.0
    if intercept:
        X = np.column_stack([np.ones(len(g)), D[:, 1:]])
        names = ["intrcpt"] + [f"factor(group){lv}" for lv in levels[1:]]
    else:
        X = D
        names = [f"factor(group){lv}" for lv in levels]
    return X, names, levels


def rma_mods(yi, vi, X, *, coef_names: list[str] | None = None, intercept: bool = True, method: str = "REML",
             test: str = "z", level: float = 95.0, **control) -> RegressionFit:
    """Fit ``rma(yi, vi, mods=X)``; ``intercept`` says whether X's first column is the intercept
    (then QM tests the other coefficients, as metafor's default ``btt``)."""
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    X = np.asarray(X, dtype=float)
    k, p = X.shape
    m = normalise_method(method)
    t = "knha" if str(test).lower() in ("knha", "t", "hk", "hksj") else str(test).lower()
    if t not in TESTS:
        raise MetaError(f"unknown test {test!r}; use z or knha")
    if k <= p:
        raise MetaError(f"meta-regression needs more studies ({k}) than coefficients ({p})")
    if np.linalg.matrix_rank(X) < p:
        raise MetaError("moderator matrix is not of full rank")
    tau2, se_tau2, conv = tau2_mods(y, v, X, m, **control)
    w = 1.0 / (v + tau2)
    wls = sm.WLS(y, X, weights=w)
    res = wls.fit() if t == "knha" else wls.fit(cov_type="fixed scale", cov_kwds={"scale": 1.0})
    b = np.asarray(res.params, dtype=float)
    vb = np.asarray(res.cov_params(), dtype=float)
    if t == "knha" and float(np.dot(w, (y - X @ b) ** 2)) == 0.0:
        vb = np.zeros_like(vb)
    se = np.sqrt(np.diag(vb))
    alpha = 1.0 - float(level) / 100.0
    btt = list(range(1, p)) if intercept and p > 1 else list(range(p))
    bb = b[btt]
    with np.errstate(divide="ignore", invalid="ignore"):
        qm = float(bb @ np.linalg.pinv(vb[np.ix_(btt, btt)]) @ bb)
        z = b / se
    if t == "knha":
        df = k - p
        crit = float(stats.t.ppf(1 - alpha / 2, df))
        pv = 2 * stats.t.sf(np.abs(z), df)
        qm /= len(btt)
        qm_df: tuple[int, int | None] = (len(btt), df)
        qm_p = float(stats.f.sf(qm, len(btt), df))
    else:
        crit = float(stats.norm.ppf(1 - alpha / 2))
        pv = 2 * stats.norm.sf(np.abs(z))
        qm_df = (len(btt), None)
        qm_p = float(stats.chi2.sf(qm, len(btt)))
    P_ee, _ = _hat_parts(X, 1.0 / v)
    qe = _ype(P_ee, y)
    qe_df = k - p
    qe_p = float(stats.chi2.sf(qe, qe_df)) if qe_df > 0 else 1.0
    vt = qe_df / float(np.trace(P_ee))
    if m == "EE":
        i2 = max(0.0, 100.0 * (qe - qe_df) / qe) if qe > 0 else 0.0
        h2 = qe / qe_df
    else:
        i2 = 100.0 * tau2 / (vt + tau2)
        h2 = tau2 / vt + 1.0
    r2 = _r2(y, v, m, tau2, h2, intercept, p, control)
    return RegressionFit(
        method=m, test=t, k=k, p=p, coef_names=coef_names or [f"x{i}" for i in range(p)], coef=b, se=se,
        stat=z, pval=np.asarray(pv, dtype=float), ci_low=b - crit * se, ci_high=b + crit * se, qm=qm, qm_df=qm_df,
        qm_p=qm_p, tau2=tau2, se_tau2=se_tau2, i2=i2, h2=h2, r2=r2, qe=qe, qe_df=qe_df, qe_p=qe_p, converged=conv,
    )


def _r2(y, v, method, tau2, h2, intercept, p, control) -> float | None:
    """Pseudo-R² (percent) as metafor: relative drop of tau² against the intercept-only model (for
    EE models, of H²); None without an intercept or moderators."""
    if not intercept or p < 2:
        return None
    null = rma(y, v, method=method, **control)
    if method == "EE":
        return max(0.0, 100.0 * (null.h2 - h2) / null.h2) if null.h2 > 0 else 0.0
    if null.tau2 <= 0:
        return 0.0
    return max(0.0, 100.0 * (null.tau2 - tau2) / null.tau2)
