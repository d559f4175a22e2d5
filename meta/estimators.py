"""Between-study variance (tau²) estimators for the intercept-only model, as metafor's ``rma.uni``.

Why hand-written: only PyMARE covers some of these (DL, HE, ML, REML) and none give metafor's
se(tau²), HS/SJ/EB/PM or its stopping rules. Everything here is O(k) closed-form algebra on the
weights (the hat matrix of an intercept-only model has an explicit form), so k = 10,000 is cheap.

Algorithms (metafor 3.8): DL/HE/HS/SJ closed forms truncated at 0; ML, REML and EB by Fisher
scoring from the (truncated) HE estimate with step halving to stay >= 0; PM by bracketed root
finding of Q(tau²) = k - 1 on [0, tau2_max]. ``threshold`` (scoring) and ``tol`` (root) default to
1e-12, i.e. the converged answer; pass metafor's defaults (1e-5, 1.22e-4) to mimic its output.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from meta.errors import MetaError

METHODS = ("EE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")
ITERATIVE = ("ML", "REML", "EB")

DEFAULT_CONTROL = {"threshold": 1e-12, "tol": 1e-12, "maxiter": 1000, "tau2_max": 100.0, "stepadj": 1.0,
                   "root": "brentq"}
#: metafor's own defaults (and R's uniroot), to reproduce its less converged printed output
METAFOR_CONTROL = {"threshold": 1e-5, "tol": np.finfo(float).eps ** 0.25, "maxiter": 100, "tau2_max": 100.0,
                   "stepadj": 1.0, "root": "zeroin"}


@dataclass
class Tau2Result:
    """tau² with metafor's standard error, and whether the search converged."""

    tau2: float
    se_tau2: float | None
    converged: bool
    iterations: int


def normalise_method(method: str) -> str:
    m = str(method).strip().upper()
    if m in ("FE", "CE"):
        m = "EE"
    if m not in METHODS:
        raise MetaError(f"unknown method {method!r}; use one of {', '.join(METHODS)} (or GLMM via pool)")
    return m


# ----------------------------------------------------------------------------- root finding

def find_root(f, lo: float, hi: float, tol: float, maxiter: int, engine: str = "brentq") -> tuple[float, bool, int]:
    """Root of a bracketed decreasing/increasing f: scipy's brentq, or ``"zeroin"`` = R's uniroot
    (a port of R_zeroin2) to reproduce metafor's default, loosely converged, output."""
    if engine == "zeroin":
        return zeroin(f, lo, hi, tol, maxiter)
    root, info = brentq(f, lo, hi, xtol=tol, rtol=4 * np.finfo(float).eps, maxiter=maxiter, full_output=True,
                        disp=False)
    return float(root), bool(info.converged), int(info.iterations)


def zeroin(f, ax: float, bx: float, tol: float, maxiter: int) -> tuple[float, bool, int]:
    """R's ``uniroot()`` (Brent's zeroin as in R's C ``R_zeroin2``), step for step."""
    eps = np.finfo(float).eps
    a, b = float(ax), float(bx)
    fa, fb = float(f(a)), float(f(b))
    if fa == 0.0:
        return a, True, 0
    if fb == 0.0:
        return b, True, 0
    c, fc = a, fa
    for it in range(1, maxiter + 2):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2.0 * eps * abs(b) + tol / 2.0
        new_step = (c - b) / 2.0
        if abs(new_step) <= tol_act or fb == 0.0:
            return b, True, it
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2.0) and p < abs(prev_step * q / 2.0):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = float(f(b))
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b, False, maxiter


# ----------------------------------------------------------------------------- weighted pieces

def wmean(yi: np.ndarray, wi: np.ndarray) -> float:
    """Weighted mean; exact when all yi are equal (so residuals are exactly 0, as in metafor)."""
    if yi.size and np.all(yi == yi[0]):
        return float(yi[0])
    return float(np.dot(wi, yi) / wi.sum())


def q_stat(yi: np.ndarray, vi: np.ndarray, tau2: float = 0.0) -> float:
    """Generalised Q: sum of w (y - ybar_w)² with w = 1/(v + tau²); tau² = 0 gives Cochran's Q."""
    w = 1.0 / (vi + tau2)
    b = wmean(yi, w)
    return float(np.dot(w, (yi - b) ** 2))


def tr_p(w: np.ndarray) -> float:
    """tr(P) for P = W - W1(1'W1)^-1 1'W."""
    s = w.sum()
    return float(s - np.dot(w, w) / s)


def tr_pp(w: np.ndarray) -> float:
    """tr(PP) (= sum of squared entries of P, P symmetric)."""
    s = w.sum()
    s2 = np.dot(w, w)
    return float(s2 - 2.0 * np.dot(w * w, w) / s + s2 * s2 / (s * s))


def tr_pvp(w: np.ndarray, vi: np.ndarray) -> float:
    """sum(PV * P) = tr(P V P) = sum_i v_i (PP)_ii."""
    s = w.sum()
    s2 = np.dot(w, w)
    ppd = w * w - 2.0 * w**3 / s + w * w * s2 / (s * s)
    return float(np.dot(vi, ppd))


def tr_pvpv(w: np.ndarray, vi: np.ndarray) -> float:
    """sum(PV * t(PV)) = tr(PVPV)."""
    s = w.sum()
    a = w * vi
    return float(np.dot(a, a) - 2.0 * np.dot(a * a, w) / s + np.dot(a, w) ** 2 / (s * s))


# ----------------------------------------------------------------------------- estimators

def tau2(yi, vi, method: str, **control) -> Tau2Result:
    """Estimate tau² for an intercept-only random-effects model with metafor's algorithm.

    ``control``: ``threshold`` (Fisher scoring change), ``tol`` (root finding), ``maxiter``,
    ``tau2_max`` (PM search bound), ``tau2_init`` (ML/REML/EB/SJ start), ``stepadj``.
    k = 1 gives tau² = 0 (metafor fixes it). Raises MetaError when PM's bracket has no root.
    """
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    m = normalise_method(method)
    ctl = {**DEFAULT_CONTROL, **control}
    k = y.size
    if k == 0:
        raise MetaError("no studies to pool")
    if m == "EE":
        return Tau2Result(0.0, None, True, 0)
    if k == 1:
        return Tau2Result(0.0, None, True, 0)
    if m == "DL":
        return _dl(y, v)
    if m == "HE":
        return _he(y, v)
    if m == "HS":
        return _hs(y, v)
    if m == "SJ":
        return _sj(y, v, ctl.get("tau2_init"))
    if m == "PM":
        return _pm(y, v, ctl)
    return _fisher(y, v, m, ctl)


def _dl(y, v) -> Tau2Result:
    k = y.size
    w = 1.0 / v
    q = q_stat(y, v)
    trp = tr_p(w)
    t = (q - (k - 1)) / trp
    tp = max(t, 0.0)
    se = np.sqrt((2.0 * (k - 1) + 4.0 * tp * trp + 2.0 * tp * tp * tr_pp(w)) / trp**2)
    return Tau2Result(tp, float(se), True, 0)


def he_raw(y, v) -> float:
    """Hedges' (HE) estimator before truncation: OLS residual variance minus the mean vi."""
    k = y.size
    rss = float(np.sum((y - y.mean()) ** 2)) if not np.all(y == y[0]) else 0.0
    return (rss - v.sum() * (k - 1) / k) / (k - 1)


def _he(y, v) -> Tau2Result:
    k = y.size
    t = he_raw(y, v)
    tp = max(t, 0.0)
    trpv = v.sum() * (k - 1) / k
    pvpv = np.dot(v, v) - 2.0 * np.dot(v, v) / k + v.sum() ** 2 / k**2
    se = np.sqrt((2.0 * pvpv + 4.0 * tp * trpv + 2.0 * tp * tp * (k - 1)) / (k - 1) ** 2)
    return Tau2Result(tp, float(se), True, 0)


def _hs(y, v) -> Tau2Result:
    k = y.size
    w = 1.0 / v
    s = w.sum()
    t = (q_stat(y, v) - k) / s
    tp = max(t, 0.0)
    se = np.sqrt((2.0 * (k - 1) + 4.0 * tp * tr_p(w) + 2.0 * tp * tp * tr_pp(w)) / s**2)
    return Tau2Result(tp, float(se), True, 0)


def _sj(y, v, init) -> Tau2Result:
    k = y.size
    t0 = float(np.var(y)) if init is None else float(init)
    if np.all(y == y[0]) and init is None:
        t0 = 0.0
    w = 1.0 / (v + t0)
    rss = q_stat(y, v, t0)
    t = t0 * rss / (k - 1)
    tp = max(t, 0.0)
    se = np.sqrt(t0**2 / (k - 1) ** 2 * (2.0 * tr_pvpv(w, v) + 4.0 * tp * tr_pvp(w, v) + 2.0 * tp * tp * tr_pp(w)))
    return Tau2Result(tp, float(se), True, 0)


def _pm(y, v, ctl) -> Tau2Result:
    k = y.size
    tau2_max = float(ctl["tau2_max"])
    if q_stat(y, v, 0.0) < k - 1:
        t, conv, it = 0.0, True, 0
    else:
        if q_stat(y, v, tau2_max) > k - 1:
            raise MetaError(f"Paule-Mandel: no root below tau2_max = {tau2_max:g} (Q still > k - 1); "
                            "increase tau2_max or use another method")
        t, conv, it = find_root(lambda x: q_stat(y, v, x) - (k - 1), 0.0, tau2_max, float(ctl["tol"]),
                                int(ctl["maxiter"]), str(ctl["root"]))
    w = 1.0 / (v + t)
    se = np.sqrt(2.0 * k * k / (k - 1)) / w.sum()
    return Tau2Result(float(t), float(se), conv, it)


def fisher_step(y, v, t: float, method: str, same: bool | None = None) -> float:
    """One Fisher-scoring adjustment of tau² (metafor's ``adj``) for ML, REML or EB; ``same`` says
    all yi are equal (then residuals are exactly 0)."""
    k = y.size
    w = 1.0 / (v + t)
    s = w.sum()
    if same is None:
        same = bool(np.all(y == y[0]))
    e = y - (y[0] if same else np.dot(w, y) / s)
    if method == "EB":
        return float((np.dot(w, e * e) * k / (k - 1) - k) / s)
    r = w * e
    w2 = w * w
    s2 = w2.sum()
    if method == "ML":
        return float((np.dot(r, r) - s) / s2)
    trpp = s2 - 2.0 * np.dot(w2, w) / s + s2 * s2 / (s * s)
    return float((np.dot(r, r) - (s - s2 / s)) / trpp)


def _loglik(y, v, t: float, method: str) -> float:
    """(Restricted) log-likelihood of tau² up to a constant; added by the sensitivity helper to
    pick the global maximum when Fisher scoring stops at a local one (oracle: debruin2009 cumul)."""
    w = 1.0 / (v + t)
    b = wmean(y, w)
    ll = -0.5 * float(np.sum(np.log(v + t)) + np.dot(w, (y - b) ** 2))
    return ll - 0.5 * float(np.log(w.sum())) if method == "REML" else ll


def boundary_if_higher(t: float, loglik, floor: float = 0.0) -> float:
    """tau² = 0 when the (restricted) log-likelihood ``loglik(tau²)`` is higher there than at the
    point ``t`` > ``floor`` where Fisher scoring stopped, else ``t``.

    Why: with ML/REML the likelihood of tau² can have a local maximum above a higher one at the
    boundary; scoring stops at whichever it meets first, metafor reports the global one (0).
    Shared by the intercept-only fit here and the moderator models of :mod:`meta.regression`."""
    if t > floor and loglik(0.0) > loglik(t):
        return 0.0
    return t


#: Fisher scoring is judged to diverge when its step has not shrunk over this many iterations
DIVERGENCE_WINDOW = 50


def _diverging(it: int, change: float, watch: list[float], flipped: bool = True) -> bool:
    """True when the step size at iteration ``it`` (a multiple of the window) is not below the one a
    window earlier and the last two steps point opposite ways (``flipped``): the iterates oscillate
    with non-decreasing amplitude and will not converge (metafor would stop at maxiter with "did not
    converge"; stopping early saves the time). Steps that grow while heading one way (a slow walk
    down to tau² = 0 speeding up) are not divergence."""
    if it % DIVERGENCE_WINDOW:
        return False
    grew = change >= watch[0]
    watch[0] = change
    return grew and flipped


def _fisher(y, v, method, ctl) -> Tau2Result:
    k = y.size
    init = ctl.get("tau2_init")
    t = max(0.0, he_raw(y, v)) if init is None else float(init)
    threshold = float(ctl["threshold"])
    maxiter = int(ctl["maxiter"])
    stepadj = float(ctl["stepadj"])
    same = bool(np.all(y == y[0]))
    it = 0
    conv = True
    change = threshold + 1.0
    watch = [math.inf]
    ulps = 4.0 * np.finfo(float).eps
    last = 0.0
    while change > threshold and change > ulps * t:   # the second: no progress left at float precision
        it += 1
        old = t
        adj = fisher_step(y, v, t, method, same) * stepadj
        if t == 0.0 and adj < 0.0:
            adj = 0.0   # metafor halves until the step underflows to -0: tau² stays 0
        while t + adj < 0.0:
            adj /= 2.0
        t = t + adj
        change = abs(old - t)
        flipped, last = adj * last < 0.0, adj
        if it > maxiter or _diverging(it, change, watch, flipped):
            conv = False
            break
    t = max(0.0, t)
    if method in ("ML", "REML"):
        t = boundary_if_higher(t, lambda x: _loglik(y, v, x, method), threshold)
    w = 1.0 / (v + t)
    if method == "ML":
        se = np.sqrt(2.0 / np.dot(w, w))
    elif method == "REML":
        se = np.sqrt(2.0 / tr_pp(w))
    else:
        se = np.sqrt(2.0 * k * k / (k - 1)) / w.sum()
    return Tau2Result(float(t), float(se), conv, it)
