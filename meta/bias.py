"""Small-study effects: Egger's regression test and Duval & Tweedie's trim-and-fill, as metafor 3.8-1.

Why a module of its own: both methods ask the same question (is the funnel asymmetric?) and both
need a meta-regression on the studies' standard errors fitted with the *same* tau² estimator as
the pooled model — metafor's ``regtest(model="rma")`` and the side rule of ``trimfill()`` do
exactly that — so the moderator fit, the test and the fill live together here.

Numbers follow metafor 3.8-1 (``regtest.rma``, ``trimfill.rma.uni``), checked against
``../shared/oracle/expected/*.json``. Two metafor details worth knowing:

* ``trimfill`` refits the filled data with the default test (z) whatever the original model's
  test was (the oracle's knha entries equal its z entries when studies are filled); with no study
  filled it returns the original fit, so the test is kept then. ``TrimFillResult.fit.test`` says
  which one applies.
* where metafor stops or returns NA (k = 2, equal standard errors, no residual degrees of freedom,
  all effects identical, no convergence) litmeta raises :class:`meta.errors.MetaError` instead of
  showing a NaN as a number.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from meta.errors import MetaError
from meta.model import RmaFit, rma

METHODS = ("EE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")
_TIGHT = 1e-12          # convergence threshold on tau² (metafor's 'tight' control)
_MAXITER = 10_000
_TAU2_MAX = 100.0       # metafor's default upper end of the PM search


# --------------------------------------------------------------------------- input checks
def _as_arrays(yi: Sequence[float], vi: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Validate (yi, vi) once, naming the offending study row, so later code can trust them."""
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    if y.size != v.size:
        raise MetaError(f"yi has {y.size} values but vi has {v.size}")
    for i, (a, b) in enumerate(zip(y, v)):
        if not (np.isfinite(a) and np.isfinite(b)):
            raise MetaError(f"study row {i + 1}: yi/vi must be finite numbers (got {a}, {b})")
        if b <= 0:
            raise MetaError(f"study row {i + 1}: sampling variance vi must be > 0 (got {b})")
    return y, v


def _check_method(method: str, test: str) -> tuple[str, str]:
    m = str(method).upper()
    if m not in METHODS:
        raise MetaError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    t = str(test).lower()
    if t not in ("z", "knha"):
        raise MetaError(f"unknown test {test!r}; use 'z' or 'knha'")
    return m, t


def _full_rank(X: np.ndarray) -> bool:
    """R's lm()/rma() rank rule: a column is aliased when its QR pivot is below 1e-7 of its norm."""
    r = np.linalg.qr(X, mode="r")
    d = np.abs(np.diag(r))
    norms = np.linalg.norm(X, axis=0)
    return bool(np.all(d > 1e-7 * np.where(norms > 0, norms, 1.0)))


# --------------------------------------------------------------------- meta-regression core
@dataclass(frozen=True)
class _RegFit:
    """A mixed-effects meta-regression yi ~ X (metafor ``rma.uni(mods=X, intercept=FALSE)``)."""

    beta: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    tau2: float
    df: int | None


def _proj(X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P = W - W X (X'WX)^-1 X'W and (X'WX)^-1 — the residual-maker every tau² estimator uses."""
    XtW = X.T * w
    inv = np.linalg.inv(XtW @ X)
    P = np.diag(w) - XtW.T @ inv @ XtW
    return P, inv


def _tau2_mods(y: np.ndarray, v: np.ndarray, X: np.ndarray, method: str) -> float:
    """tau² of a meta-regression with metafor's estimator definitions (rma.uni), converged tightly."""
    k, p = X.shape
    if method == "EE":
        return 0.0
    if method in ("DL", "HS"):
        w = 1.0 / v
        P, _ = _proj(X, w)
        rss = float(y @ P @ y)
        t2 = (rss - (k - p)) / np.trace(P) if method == "DL" else (rss - k) / w.sum()
        return max(0.0, t2)
    # Hedges (HE): unweighted residuals; also the start value of ML/REML/EB
    P0 = np.eye(k) - X @ np.linalg.solve(X.T @ X, X.T)
    he = (float(y @ P0 @ y) - float(np.trace(P0 * v))) / (k - p)
    if method == "HE":
        return max(0.0, he)
    if method == "SJ":
        t0 = float(np.var(y, ddof=1) * (k - 1) / k)
        P, _ = _proj(X, 1.0 / (v + t0))
        return t0 * float(y @ P @ y) / (k - p)
    if method == "PM":
        def excess(t2: float) -> float:
            P, _ = _proj(X, 1.0 / (v + t2))
            return float(y @ P @ y) - (k - p)

        if excess(0.0) < 0:
            return 0.0
        if excess(_TAU2_MAX) > 0:
            raise MetaError("PM: tau² exceeds the search limit of 100; use another method")
        return float(optimize.brentq(excess, 0.0, _TAU2_MAX, xtol=_TIGHT, maxiter=_MAXITER))
    # Fisher scoring (ML, REML, EB) from the HE start, step-halving at 0, as metafor
    t2 = max(0.0, he)
    for _ in range(_MAXITER):
        w = 1.0 / (v + t2)
        P, _ = _proj(X, w)
        Py = P @ y
        if method == "ML":
            adj = (Py @ Py - w.sum()) / (w @ w)
        elif method == "REML":
            adj = (Py @ Py - np.trace(P)) / np.sum(P * P)
        else:  # EB
            adj = (float(y @ Py) * k / (k - p) - k) / w.sum()
        while t2 + adj < 0:
            adj /= 2
        new = t2 + adj
        if abs(new - t2) <= _TIGHT:
            return float(new)
        t2 = new
    raise MetaError(f"{method}: the tau² iteration did not converge in {_MAXITER} steps")


def _meta_regression(y: np.ndarray, v: np.ndarray, X: np.ndarray, method: str, test: str,
                     level: float) -> _RegFit:
    """Fit yi ~ X with the given tau² estimator and test; refuses what rma.uni refuses."""
    k, p = X.shape
    if (method == "EE" and k < p) or (method != "EE" and k <= p):
        raise MetaError(f"too few studies (k = {k}) for a regression with {p} coefficients"
                        + ("" if method == "EE" else " and tau²") + "; metafor stops here too")
    if not _full_rank(X):
        raise MetaError("the moderator is collinear with the intercept (all standard errors equal); "
                        "the regression test is undefined")
    tau2 = _tau2_mods(y, v, X, method)
    w = 1.0 / (v + tau2)
    P, vb = _proj(X, w)
    beta = vb @ (X.T * w) @ y
    alpha = 1 - level / 100
    if test == "knha":
        df = k - p
        if df < 1:
            raise MetaError(f"Knapp-Hartung needs k > {p} studies (k = {k})")
        vb = vb * float(y @ P @ y) / df
        crit = stats.t.ppf(1 - alpha / 2, df)
        dist = stats.t(df)
    else:
        df = None
        crit = stats.norm.ppf(1 - alpha / 2)
        dist = stats.norm()
    se = np.sqrt(np.diag(vb))
    stat = beta / se
    return _RegFit(beta=beta, se=se, stat=stat, p=2 * dist.sf(np.abs(stat)),
                   ci_low=beta - crit * se, ci_high=beta + crit * se, tau2=tau2, df=df)


# ------------------------------------------------------------------------------ Egger's test
@dataclass
class EggerResult:
    """Regression test for funnel-plot asymmetry (metafor ``regtest``).

    ``stat``/``p`` test the slope on the predictor (z, or t with ``df`` under knha/lm);
    ``est``/``ci_low``/``ci_high`` are the *limit estimate*: the intercept, i.e. the effect
    predicted for a study of infinite precision.
    """

    model: str
    predictor: str
    method: str
    test: str
    k: int
    stat: float
    p: float
    df: int | None
    slope: float
    slope_se: float
    est: float
    ci_low: float
    ci_high: float
    tau2: float | None
    level: float = 95.0

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (no numpy types)."""
        return {key: (val if isinstance(val, (str, type(None))) else
                      int(val) if isinstance(val, (int, np.integer)) else float(val))
                for key, val in self.__dict__.items()}

    def to_frame(self) -> pd.DataFrame:
        """One row: the test and the limit estimate."""
        return pd.DataFrame([self.to_dict()])

    def summary(self) -> str:
        """Human-readable report in the spirit of metafor's print.regtest."""
        name = "weighted regression (lm)" if self.model == "lm" else f"mixed-effects meta-regression ({self.method})"
        dist = "z" if self.df is None else f"t({self.df})"
        return (f"Egger's regression test for funnel plot asymmetry\n"
                f"model: {name}; predictor: {self.predictor}; k = {self.k}\n"
                f"test for asymmetry: {dist} = {self.stat:.4f}, p = {self.p:.4g}\n"
                f"limit estimate (as {self.predictor} -> 0): {self.est:.4f} "
                f"({self.level:g}% CI {self.ci_low:.4f} to {self.ci_high:.4f})")


def _predictor(v: np.ndarray, predictor: str) -> np.ndarray:
    if predictor == "sei":
        return np.sqrt(v)
    if predictor == "vi":
        return v
    raise MetaError(f"predictor {predictor!r} is not supported; use 'sei' or 'vi'")


def _lm_fit(y: np.ndarray, v: np.ndarray, X: np.ndarray, level: float) -> tuple:
    """Classical Egger: weighted least squares with weights 1/vi and an estimated residual
    variance (R's ``lm(yi ~ X - 1, weights = 1/vi)``), via statsmodels."""
    import statsmodels.api as sm

    k, p = X.shape
    if k <= p:
        raise MetaError(f"too few studies (k = {k}) for the classical Egger regression: "
                        "no residual degrees of freedom (metafor returns NaN)")
    if not _full_rank(X):
        raise MetaError("the moderator is collinear with the intercept (all standard errors equal); "
                        "the regression test is undefined")
    res = sm.WLS(y, X, weights=1.0 / v).fit()
    sw = np.sqrt(1.0 / v)
    f = sw * res.fittedvalues
    resvar = float(np.sum((sw * res.resid) ** 2)) / (k - p)
    if resvar < (np.mean(f) ** 2 + np.var(f, ddof=1)) * 1e-30:
        raise MetaError("essentially perfect fit: the residual variance is zero, so the "
                        "classical Egger test is undefined")
    df = k - p
    crit = stats.t.ppf(1 - (1 - level / 100) / 2, df)
    beta, se = np.asarray(res.params), np.asarray(res.bse)
    return beta, se, np.asarray(res.tvalues), np.asarray(res.pvalues), df, crit


def egger_test(yi: Sequence[float], vi: Sequence[float], model: str = "rma", method: str = "REML",
               test: str = "z", predictor: str = "sei", level: float = 95.0) -> EggerResult:
    """Egger-type regression test as metafor ``regtest(rma(yi, vi, method, test), model, predictor)``.

    ``model="rma"`` (metafor's default): a mixed-effects meta-regression of yi on the predictor
    with the same tau² estimator and test as the pooled model. ``model="lm"``: the classical
    Egger test (weighted least squares, t with k - 2 df).
    """
    y, v = _as_arrays(yi, vi)
    m, t = _check_method(method, test)
    X = np.column_stack([np.ones_like(y), _predictor(v, predictor)])
    if model == "rma":
        fit = _meta_regression(y, v, X, m, t, level)
        return EggerResult(model="rma", predictor=predictor, method=m, test=t, k=y.size,
                           stat=float(fit.stat[1]), p=float(fit.p[1]), df=fit.df,
                           slope=float(fit.beta[1]), slope_se=float(fit.se[1]),
                           est=float(fit.beta[0]), ci_low=float(fit.ci_low[0]),
                           ci_high=float(fit.ci_high[0]), tau2=fit.tau2, level=level)
    if model == "lm":
        beta, se, tv, pv, df, crit = _lm_fit(y, v, X, level)
        return EggerResult(model="lm", predictor=predictor, method=m, test=t, k=y.size,
                           stat=float(tv[1]), p=float(pv[1]), df=df, slope=float(beta[1]),
                           slope_se=float(se[1]), est=float(beta[0]),
                           ci_low=float(beta[0] - crit * se[0]), ci_high=float(beta[0] + crit * se[0]),
                           tau2=None, level=level)
    raise MetaError(f"unknown Egger model {model!r}; use 'rma' or 'lm'")


# ----------------------------------------------------------------------------- trim and fill
_TF_MAXITER = 100   # metafor's trimfill(maxiter = 100)


@dataclass
class TrimFillResult:
    """Duval & Tweedie trim-and-fill (metafor ``trimfill``): how many studies seem missing on
    which side, where they would lie, and the pooled model refitted with them filled in."""

    estimator: str
    side: str
    k0: int
    se_k0: float | None
    p_k0: float | None
    fit: RmaFit
    filled_yi: np.ndarray
    filled_vi: np.ndarray
    observed_k: int
    study: list[str] = field(default_factory=list)

    @property
    def k(self) -> int:
        return self.observed_k + self.k0

    def __getattr__(self, name: str):
        # estimate, se, stat, p, ci_low, ci_high, tau2, i2, q ... come from the refitted model
        if name.startswith("_") or name == "fit":
            raise AttributeError(name)
        return getattr(self.fit, name)

    def to_frame(self) -> pd.DataFrame:
        """All studies, observed then filled, with a ``filled`` flag (for funnel plots)."""
        labels = list(self.study) + [f"filled {i + 1}" for i in range(self.k0)]
        return pd.DataFrame({"study": labels, "yi": np.asarray(self.fit.yi, float),
                             "vi": np.asarray(self.fit.vi, float),
                             "filled": [False] * self.observed_k + [True] * self.k0})

    def to_dict(self) -> dict:
        """JSON-ready dict: the fill and the refitted pooled estimate."""
        f = self.fit
        return {"estimator": self.estimator, "side": self.side, "k0": int(self.k0),
                "se_k0": self.se_k0, "p_k0": self.p_k0, "k": int(self.k),
                "method": f.method, "test": f.test,
                "estimate": float(f.estimate), "se": float(f.se), "stat": float(f.stat),
                "p": float(f.p), "ci_low": float(f.ci_low), "ci_high": float(f.ci_high),
                "tau2": float(f.tau2), "i2": float(f.i2), "q": float(f.q),
                "filled_yi": [float(x) for x in self.filled_yi],
                "filled_vi": [float(x) for x in self.filled_vi]}

    def summary(self) -> str:
        f = self.fit
        se = "" if self.se_k0 is None else f" (SE = {self.se_k0:.4f})"
        return (f"Trim-and-fill ({self.estimator}): estimated {self.k0} missing stud"
                f"{'y' if self.k0 == 1 else 'ies'} on the {self.side} side{se}\n"
                f"pooled with filled studies ({f.method}, {f.test}; k = {self.k}): "
                f"{f.estimate:.4f} ({f.level:g}% CI {f.ci_low:.4f} to {f.ci_high:.4f}), "
                f"tau² = {f.tau2:.4f}, I² = {f.i2:.1f}%")



def _choose_side(y: np.ndarray, v: np.ndarray, method: str, level: float) -> str:
    """metafor's rule: regress yi on sei with the model's estimator; a negative slope means the
    small studies lie low, so the missing ones are on the right."""
    X = np.column_stack([np.ones_like(y), np.sqrt(v)])
    try:
        slope = _meta_regression(y, v, X, method, "z", level).beta[1]
    except MetaError as err:
        raise MetaError(f"trim-and-fill cannot choose the side: {err}; pass side='left' or 'right'") from err
    return "right" if slope < 0 else "left"


def _k0_estimate(centred: np.ndarray, estimator: str) -> tuple[float, float | None]:
    """One L0/R0 step on the centred, side-oriented effects (Duval & Tweedie 2000)."""
    k = centred.size
    ranks = stats.rankdata(np.abs(centred), method="ordinal")   # R's ties.method = "first"
    signed = np.sign(centred) * ranks
    if estimator == "R0":
        neg = -signed[signed < 0]
        if neg.size == 0:
            raise MetaError("R0 trim-and-fill is undefined here: no study lies below the "
                            "estimate (metafor stops too)")
        k0 = k - neg.max() - 1
        return k0, float(np.sqrt(2 * max(0.0, k0) + 2))
    sr = signed[signed > 0].sum()
    k0 = (4 * sr - k * (k + 1)) / (2 * k - 1)
    var_sr = (k * (k + 1) * (2 * k + 1) + 10 * k0 ** 3 + 27 * k0 ** 2 + 17 * k0
              - 18 * k * k0 ** 2 - 18 * k * k0 + 6 * k ** 2 * k0) / 24
    se = 4 * np.sqrt(var_sr) / (2 * k - 1) if var_sr >= 0 else None
    return k0, (None if se is None else float(max(0.0, se)))


def trim_and_fill(yi: Sequence[float], vi: Sequence[float], method: str = "REML", test: str = "z",
                  level: float = 95.0, estimator: str = "L0", side: str | None = None,
                  study: Sequence[str] | None = None) -> TrimFillResult:
    """Trim-and-fill as metafor ``trimfill(rma(yi, vi, method, test, level), side, estimator)``.

    The side, when not given, is chosen as metafor does (sign of the slope of yi on sei in a
    meta-regression with the same estimator). Studies are trimmed from that side until the
    estimated number missing (L0 or R0) is stable; their mirror images about the trimmed
    estimate are filled in and the model is refitted (with test z when studies were filled,
    as metafor 3.8-1 does).
    """
    y, v = _as_arrays(yi, vi)
    m, t = _check_method(method, test)
    est = str(estimator).upper()
    if est not in ("L0", "R0"):
        raise MetaError(f"unknown trim-and-fill estimator {estimator!r}; use 'L0' or 'R0'")
    k = y.size
    if k < 2:
        raise MetaError(f"trim-and-fill needs at least 2 studies (k = {k}); metafor stops too")
    if np.ptp(y) <= 1e-12 * max(1.0, float(np.max(np.abs(y)))):
        raise MetaError("trim-and-fill: all studies have the same effect size, so there is no "
                        "asymmetry to estimate")
    labels = list(study) if study is not None else [str(i + 1) for i in range(k)]
    full = rma(y, v, method=m, test=t, level=level)
    if side is None:
        side = _choose_side(y, v, m, level)
    elif side not in ("left", "right"):
        raise MetaError(f"side must be 'left' or 'right', not {side!r}")

    flip = -1.0 if side == "right" else 1.0
    order = np.argsort(flip * y, kind="stable")
    ys, vs = flip * y[order], v[order]
    k0, k0_prev, se_k0, beta, iteration = 0, -1, None, 0.0, 0
    while k0 != k0_prev:
        iteration += 1
        if iteration > _TF_MAXITER:
            raise MetaError("trim-and-fill did not converge in 100 iterations (metafor stops too)")
        k0_prev = k0
        if k - k0 < 1:
            raise MetaError("trim-and-fill trimmed every study (k = 0); metafor stops too")
        beta = float(rma(ys[: k - k0], vs[: k - k0], method=m, test="z", level=level).estimate)
        raw, se_k0 = _k0_estimate(ys - beta, est)
        k0 = int(max(0, np.round(raw)))

    # metafor: 1 - sum(choose(m+1, m+1) * 0.5^(m+2)) over m = -1..k0-1, i.e. 0.5^(k0+1)
    p_k0 = float(0.5 ** (k0 + 1)) if est == "R0" else None
    if k0 == 0:
        return TrimFillResult(est, side, 0, se_k0, p_k0, full, np.empty(0), np.empty(0), k, labels)
    fill_y = flip * (2 * beta - ys[k - k0:])
    fill_v = vs[k - k0:]
    refit = rma(np.concatenate([y, fill_y]), np.concatenate([v, fill_v]), method=m, test="z",
                level=level)
    return TrimFillResult(est, side, k0, se_k0, p_k0, refit, fill_y, fill_v, k, labels)
