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
* where metafor stops or returns NA/NaN/Inf (k = 1, equal standard errors, no residual degrees
  of freedom, no convergence, R0 with no study below the estimate) litmeta raises
  :class:`meta.errors.MetaError` instead of showing a NaN as a number. It also refuses three
  cases where metafor still prints numbers: a regression on the SEs with k = 2 (metafor's EE
  model runs a line through two points), trim-and-fill when all effects are identical (metafor
  returns the unchanged fit), and a test scaled by residuals that are rounding noise.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from meta.errors import MetaError
from meta.model import RmaFit, rma
from meta.regression import RegressionFit, rma_mods


# ------------------------------------------------------------------------------- helpers
def _full_rank(X: np.ndarray) -> bool:
    """R's lm()/rma() rank rule: a column is aliased when its QR pivot is below 1e-7 of its norm."""
    r = np.linalg.qr(X, mode="r")
    d = np.abs(np.diag(r))
    norms = np.linalg.norm(X, axis=0)
    return bool(np.all(d > 1e-7 * np.where(norms > 0, norms, 1.0)))


# ------------------------------------------------------------------ regression on the SEs
def _check_design(X: np.ndarray) -> None:
    """Refuse a regression on the SEs where metafor stops or returns NA/NaN."""
    k, p = X.shape
    if k <= p:
        raise MetaError(f"too few studies (k = {k}) for a regression on the standard errors: "
                        f"needs at least {p + 1}")
    if not _full_rank(X):
        raise MetaError("the standard errors are all equal, so the predictor is collinear with "
                        "the intercept and the regression is undefined (metafor stops too)")


def _exact_fit(y: np.ndarray, X: np.ndarray, coef: np.ndarray, w: np.ndarray) -> bool:
    """True when the weighted residuals are rounding noise (relative SS < 1e-20): a test that
    divides by the residual variance would then print noise (metafor does, sometimes warning
    'essentially perfect fit')."""
    r = y - X @ coef
    return float(np.dot(w, r * r)) <= 1e-20 * float(np.dot(w, y * y))


_EXACT = ("the regression on the standard errors fits exactly (residual variance 0), "
          "so its test is undefined")


def _sei_regression(y: np.ndarray, v: np.ndarray, X: np.ndarray, method: str, test: str,
                    level: float, control: dict) -> RegressionFit:
    """yi ~ X with the pooled model's tau² estimator (metafor ``rma.uni(mods=X)``)."""
    _check_design(X)
    fit = rma_mods(y, v, X, intercept=True, method=method, test=test, level=level, **control)
    if not np.all(np.isfinite(fit.se) & (fit.se > 0)) or (
            test == "knha" and _exact_fit(y, X, fit.coef, 1.0 / (v + fit.tau2))):
        raise MetaError(_EXACT)
    return fit


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

    _check_design(X)
    res = sm.WLS(y, X, weights=1.0 / v).fit()
    beta, se = np.asarray(res.params), np.asarray(res.bse)
    if _exact_fit(y, X, beta, 1.0 / v):
        raise MetaError(_EXACT)
    df = X.shape[0] - X.shape[1]
    crit = stats.t.ppf(1 - (1 - level / 100) / 2, df)
    return beta, se, np.asarray(res.tvalues), np.asarray(res.pvalues), df, crit


def egger_test(yi: Sequence[float], vi: Sequence[float], model: str = "rma", method: str = "REML",
               test: str = "z", predictor: str = "sei", level: float = 95.0, **control) -> EggerResult:
    """Egger-type regression test as metafor ``regtest(rma(yi, vi, method, test), model, predictor)``.

    ``model="rma"`` (metafor's default): a mixed-effects meta-regression of yi on the predictor
    with the same tau² estimator and test as the pooled model. ``model="lm"``: the classical
    Egger test (weighted least squares, t with k - 2 df). ``control`` goes to the tau²
    estimators (``meta.estimators.METAFOR_CONTROL`` reproduces metafor's default stopping).
    """
    model_fit = rma(yi, vi, method=method, test=test, level=level, **control)   # validates input
    y, v, m, t = model_fit.yi, model_fit.vi, model_fit.method, model_fit.test
    X = np.column_stack([np.ones_like(y), _predictor(v, predictor)])
    if model == "rma":
        fit = _sei_regression(y, v, X, m, t, level, control)
        return EggerResult(model="rma", predictor=predictor, method=m, test=t, k=y.size,
                           stat=float(fit.stat[1]), p=float(fit.pval[1]),
                           df=fit.k - fit.p if t == "knha" else None,
                           slope=float(fit.coef[1]), slope_se=float(fit.se[1]),
                           est=float(fit.coef[0]), ci_low=float(fit.ci_low[0]),
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



def _choose_side(y: np.ndarray, v: np.ndarray, method: str, level: float, control: dict) -> str:
    """metafor's rule: regress yi on sei with the model's estimator; a negative slope means the
    small studies lie low, so the missing ones are on the right."""
    X = np.column_stack([np.ones_like(y), np.sqrt(v)])
    try:
        slope = _sei_regression(y, v, X, method, "z", level, control).coef[1]
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
                  study: Sequence[str] | None = None, **control) -> TrimFillResult:
    """Trim-and-fill as metafor ``trimfill(rma(yi, vi, method, test, level), side, estimator)``.

    The side, when not given, is chosen as metafor does (sign of the slope of yi on sei in a
    meta-regression with the same estimator). Studies are trimmed from that side until the
    estimated number missing (L0 or R0) is stable; their mirror images about the trimmed
    estimate are filled in and the model is refitted (with test z when studies were filled,
    as metafor 3.8-1 does). ``control`` goes to the tau² estimators, as in :func:`egger_test`.
    """
    full = rma(yi, vi, method=method, test=test, level=level, **control)   # validates input
    y, v, m = full.yi, full.vi, full.method
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
    if side is None:
        side = _choose_side(y, v, m, level, control)
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
        beta = float(rma(ys[: k - k0], vs[: k - k0], method=m, test="z", level=level, **control).estimate)
        raw, se_k0 = _k0_estimate(ys - beta, est)
        k0 = int(max(0, np.round(raw)))

    # metafor: 1 - sum(choose(m+1, m+1) * 0.5^(m+2)) over m = -1..k0-1, i.e. 0.5^(k0+1)
    p_k0 = float(0.5 ** (k0 + 1)) if est == "R0" else None
    if k0 == 0:
        return TrimFillResult(est, side, 0, se_k0, p_k0, full, np.empty(0), np.empty(0), k, labels)
    fill_y = flip * (2 * beta - ys[k - k0:])
    fill_v = vs[k - k0:]
    refit = rma(np.concatenate([y, fill_y]), np.concatenate([v, fill_v]), method=m, test="z",
                level=level, **control)
    return TrimFillResult(est, side, k0, se_k0, p_k0, refit, fill_y, fill_v, k, labels)
