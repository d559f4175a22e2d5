"""The intercept-only meta-analytic model (metafor's ``rma.uni``): estimate, tests, PI, heterogeneity.

Why a lean numpy path: a single fit is a handful of O(k) sums once tau² is known, so there is no
pandas or matrix algebra here; results carry plain floats (``None`` where metafor gives NA).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from meta.errors import MetaError
from meta.estimators import DEFAULT_CONTROL, find_root, normalise_method, q_stat, tau2 as estimate_tau2, tr_p, wmean

TESTS = ("z", "knha")


@dataclass
class RmaFit:
    """One fitted model; field names follow the issue (metafor's names in comments)."""

    k: int
    method: str
    test: str
    level: float
    estimate: float
    se: float
    stat: float            # zval / tval
    p: float
    ci_low: float
    ci_high: float
    df: int | None         # None for z; k - 1 for knha
    tau2: float
    se_tau2: float | None
    tau: float
    i2: float              # percent
    h2: float
    q: float               # QE
    q_df: int
    q_p: float
    weights: np.ndarray    # percent
    pi_low: float | None
    pi_high: float | None
    converged: bool
    yi: np.ndarray
    vi: np.ndarray
    vt: float = 0.0        # typical within-study variance
    s2w: float | None = None
    iterations: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def pi_df(self) -> int | None:
        return self.df

    def as_dict(self) -> dict:
        """Scalar fields as a plain dict (arrays as lists) — for JSON and tests."""
        out = {}
        for name in self.__dataclass_fields__:
            val = getattr(self, name)
            out[name] = val.tolist() if isinstance(val, np.ndarray) else val
        return out


def _prep(yi, vi) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    if y.size != v.size:
        raise MetaError(f"yi has {y.size} values but vi has {v.size}")
    if y.size < 1:
        raise MetaError("no studies to pool (need at least 1)")
    if np.isfinite(y).all() and (v > 0).all() and np.isfinite(v).all():
        return y, v
    bad = np.flatnonzero(~np.isfinite(y) | ~np.isfinite(v))
    if bad.size:
        raise MetaError(f"row {bad[0] + 1}: yi/vi is missing or not finite")
    bad = np.flatnonzero(v <= 0)
    raise MetaError(f"row {bad[0] + 1}: vi {v[bad[0]]:g} must be > 0")


def heterogeneity(q: float, k: int, tau2: float, vi: np.ndarray, method: str) -> tuple[float, float, float]:
    """(I² in percent, H², vt) as metafor: from tau² and the typical variance, or from Q for EE."""
    if k <= 1:
        return 0.0, 1.0, 0.0
    vt = (k - 1) / tr_p(1.0 / vi)
    if method == "EE":
        i2 = max(0.0, 100.0 * (q - (k - 1)) / q) if q > 0 else 0.0
        return i2, q / (k - 1), vt
    return 100.0 * tau2 / (vt + tau2), tau2 / vt + 1.0, vt


def _ratio(est: float, se: float) -> float:
    if se > 0:
        return est / se
    return math.copysign(math.inf, est) if est != 0 else math.nan


def rma(yi, vi, method: str = "REML", test: str = "z", level: float = 95.0, **control) -> RmaFit:
    """Fit the random-effects (or EE) model as ``metafor::rma(yi, vi, method=, test=, level=)``.

    ``control`` goes to :func:`meta.estimators.tau2` (defaults converge tightly; pass
    ``threshold=1e-5`` to reproduce metafor's default stopping). k = 1 falls back to test z with a
    warning, as metafor does.
    """
    y, v = _prep(yi, vi)
    m = normalise_method(method)
    t = str(test).strip().lower()
    if t in ("hk", "kh", "hksj", "t"):
        t = "knha"
    if t not in TESTS:
        raise MetaError(f"unknown test {test!r}; use z or knha")
    if not 0 < float(level) < 100:
        raise MetaError(f"level {level!r} must be between 0 and 100")
    k = y.size
    warns: list[str] = []
    if k == 1 and t == "knha":
        t = "z"
        warns.append('Setting argument test="z" since k=1.')
    if m == "EE" and t == "knha":
        warns.append("Knapp & Hartung method is not meant to be used in the context of EE models.")
    tr = estimate_tau2(y, v, m, **control)
    w = 1.0 / (v + tr.tau2)
    s = w.sum()
    b = wmean(y, w)
    se = math.sqrt(1.0 / s)
    s2w = None
    alpha = 1.0 - float(level) / 100.0
    df = None
    if t == "knha":
        df = k - 1
        s2w = float(np.dot(w, (y - b) ** 2)) / df
        se = math.sqrt(s2w / s)
        crit = float(special.stdtrit(df, 1.0 - alpha / 2.0))
    else:
        crit = float(special.ndtri(1.0 - alpha / 2.0))
    stat = _ratio(b, se)
    if math.isnan(stat):
        pval = math.nan
    elif df is None:
        pval = float(2.0 * special.ndtr(-abs(stat)))
    else:
        pval = float(2.0 * special.stdtr(df, -abs(stat)))
    q = q_stat(y, v) if k > 1 else 0.0
    q_p = float(special.chdtrc(k - 1, q)) if k > 1 else 1.0
    i2, h2, vt = heterogeneity(q, k, tr.tau2, v, m)
    if m == "EE":
        pi_lo = pi_hi = None
    else:
        half = crit * math.sqrt(se * se + tr.tau2)
        pi_lo, pi_hi = b - half, b + half
    return RmaFit(
        k=k, method=m, test=t, level=float(level), estimate=b, se=se, stat=stat, p=pval,
        ci_low=b - crit * se, ci_high=b + crit * se, df=df, tau2=tr.tau2, se_tau2=tr.se_tau2,
        tau=math.sqrt(tr.tau2), i2=i2, h2=h2, q=q, q_df=k - 1, q_p=q_p, weights=100.0 * w / s,
        pi_low=pi_lo, pi_high=pi_hi, converged=tr.converged, yi=y, vi=v, vt=vt, s2w=s2w,
        iterations=tr.iterations, warnings=warns,
    )


# ----------------------------------------------------------------------------- Q-profile CI

class Tau2Interval(tuple):
    """``(lo, hi)`` of the Q-profile CI for tau²; ``lb_sign``/``ub_sign`` are metafor's ``"<"``/``">"``
    marks for a limit that is the end of the search interval, not a root."""

    lb_sign: str
    ub_sign: str

    def __new__(cls, lo: float, hi: float, lb_sign: str = "", ub_sign: str = ""):
        obj = super().__new__(cls, (lo, hi))
        obj.lb_sign = lb_sign
        obj.ub_sign = ub_sign
        return obj


def tau2_confint(yi, vi, method: str = "REML", level: float = 95.0, *, tau2: float | None = None,
                 tol: float | None = None, root: str = "brentq", **control) -> Tau2Interval:
    """Q-profile confidence interval for tau², as ``metafor::confint(rma(...))``.

    Search interval [min(0, tau²), max(100, 10·tau²)] where tau² is the model's estimate (pass it
    to skip refitting). ``tol`` defaults to 1e-12 (converged); ``root="zeroin"`` with
    ``tol=METAFOR_CONTROL["tol"]`` reproduces metafor's default limits. Refuses k = 1.
    """
    y, v = _prep(yi, vi)
    k = y.size
    if k == 1:
        raise MetaError("no confidence interval for tau² with k = 1 (metafor: 'Stopped because k = 1')")
    if tau2 is None:
        tau2 = estimate_tau2(y, v, method, **control).tau2
    tol = DEFAULT_CONTROL["tol"] if tol is None else float(tol)
    lo_end = min(0.0, tau2)
    hi_end = max(100.0, 10.0 * tau2)
    alpha = 1.0 - float(level) / 100.0
    crit_u = float(special.chdtri(k - 1, alpha / 2.0))
    crit_l = float(special.chdtri(k - 1, 1.0 - alpha / 2.0))
    q_lo = q_stat(y, v, lo_end)
    q_hi = q_stat(y, v, hi_end)

    def solve(target: float) -> float:
        return find_root(lambda x: q_stat(y, v, x) - target, lo_end, hi_end, tol, 10000, root)[0]

    if q_lo < crit_l:
        return Tau2Interval(lo_end, lo_end, "<", "<")
    if q_hi > crit_u:
        return Tau2Interval(hi_end, hi_end, ">", ">")
    lb = lo_end if q_lo < crit_u else solve(crit_u)
    if q_hi > crit_l:
        return Tau2Interval(lb, hi_end, "", ">")
    return Tau2Interval(lb, solve(crit_l))


def interval_on_scales(lo: float, hi: float, vt: float) -> dict[str, tuple[float, float]]:
    """The tau² limits as tau, I² (percent) and H², with the model's typical variance vt."""
    def i2(x):
        return 100.0 * x / (vt + x) if vt + x > 0 else 0.0

    def h2(x):
        return 1.0 + x / vt if vt > 0 else 1.0

    return {"tau2": (lo, hi), "tau": (math.sqrt(max(lo, 0.0)), math.sqrt(max(hi, 0.0))),
            "I2": (i2(lo), i2(hi)), "H2": (h2(lo), h2(hi))}
