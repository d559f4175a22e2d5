"""Random-intercept GLMMs for single proportions and incidence rates, as metafor's ``rma.glmm``.

Why a module of its own: the normal-normal model of ``meta.model`` pools escalc's (yi, vi) and
so needs the 1/2 zero-cell correction and a normal approximation for small counts. The GLMM
models the counts themselves (binomial-normal with a logit link for proportions,
``measure="PLO"``; Poisson-normal with a log link and offset log(time) for rates,
``measure="IRLN"``), which is what ``rma.glmm(model="UM.FS")`` fits with ``lme4::glmer``.

What is reproduced from metafor 3.8 / lme4 1.1 and how:

* ``method="ML"``: the marginal likelihood is integrated by *adaptive* Gauss-Hermite quadrature
  with 7 nodes centred on each study's conditional mode and scaled by the curvature there (lme4's
  ``nAGQ=7``), and maximised over (fixed effects, tau) with scipy. The SE of the fixed effects is
  lme4's: the inverse of the finite-difference Hessian of the deviance over (tau, beta), so it
  allows for the uncertainty in tau. ``loglik`` is lme4's ``logLik`` for ``nAGQ > 1``, which is the
  conditional log-likelihood of the counts at the random-effect modes (not the marginal one).
* ``method="EE"``: the fixed-intercept GLM, fitted by the same iteratively reweighted least
  squares as R's ``glm.fit`` (starting values, stopping rule, weights of the last iteration in
  the covariance), so degenerate data (all zero events) give R's finite-but-meaningless answer.
* heterogeneity: the Wald-type and likelihood-ratio tests of the saturated GLM against the model,
  and I², H² from tau² and the typical within-study variance of escalc's (yi, vi).
* refusals: metafor's ``Cannot fit ML model`` (no finite maximum: all-zero or all-events data;
  identical studies) and ``Number of parameters ... larger than the number of observations``.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
from scipy import optimize, special, stats

from meta.effects import escalc
from meta.errors import MetaError

__all__ = ["GlmmError", "GlmmFit", "GlmmModsFit", "fit_glmm", "fit_glmm_mods", "fit_glmm_separate"]

#: metafor's messages for the refusals (its ML fit and its parameter-count check)
CANNOT_FIT_ML = "Cannot fit ML model"
TOO_MANY_PARAMETERS = "Number of parameters to be estimated is larger than the number of observations."

_NAGQ = 7
_GH_Z, _GH_W = np.polynomial.hermite_e.hermegauss(_NAGQ)
_GH_LOGW = np.log(_GH_W / _GH_W.sum())  # weights for integrating against the N(0, 1) density
_HESS_STEP = 1e-4  # lme4's deriv12() step for the Hessian of the deviance
_DIVERGED = 25.0  # tau, or a move of beta from the GLM start, beyond this: the maximum is not finite


class GlmmError(MetaError):
    """metafor refuses this GLMM (or the input is unusable); the message says why."""


@dataclass
class GlmmFit:
    """One ``rma.glmm`` fit: pooled logit proportion or log rate, its interval and heterogeneity.

    Entries metafor reports as NA (k = 1: Q tests, I², H²; t-test with 0 df: p and CI; EE: the
    prediction interval) are ``None`` rather than NaN.
    """

    k: int
    method: str
    test: str
    level: float
    estimate: float
    se: float
    stat: float
    p: float | None
    ci_low: float | None
    ci_high: float | None
    df: float | None
    tau2: float
    tau: float
    i2: float | None
    h2: float | None
    q_wald: float | None
    q_wald_p: float | None
    q_lrt: float | None
    q_lrt_p: float | None
    q_df: int | None
    pi_low: float | None
    pi_high: float | None
    loglik: float
    converged: bool
    measure: str = "PLO"
    deviance: float | None = None
    aic: float | None = None
    bic: float | None = None
    aicc: float | None = None

    def back(self) -> dict[str, float | None]:
        """Estimate, CI and PI on the natural scale (proportion, or events per unit of time)."""
        f = special.expit if self.measure == "PLO" else np.exp
        keys = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")
        with np.errstate(over="ignore"):  # exp of a huge log-rate limit is +Inf, as in metafor
            return {key: (None if getattr(self, key) is None else float(f(getattr(self, key)))) for key in keys}

    def to_dict(self) -> dict:
        return asdict(self) | {"back": self.back()}


@dataclass
class GlmmModsFit:
    """``rma.glmm(mods = ~ factor(group))``: group contrasts against the first level, one tau²."""

    k: int
    method: str
    test: str
    levels: list[str]
    coef: list[float]
    se: list[float]
    qm: float
    qm_df: tuple[int, int | None]
    qm_p: float
    tau2: float
    q_wald: float | None
    q_lrt: float | None
    q_df: int | None
    loglik: float
    converged: bool

    def to_dict(self) -> dict:
        return asdict(self)


# ----------------------------------------------------------------------------- the two families

def _loglik_obs(eta: np.ndarray, x: np.ndarray, n: np.ndarray, kind: str) -> np.ndarray:
    """Full log-likelihood of each count (constants included) at linear predictor ``eta``."""
    if kind == "proportion":
        const = special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)
    else:
        const = -special.gammaln(x + 1)
    return _kernel(eta, x, n, kind) + const


def _kernel(eta: np.ndarray, x: np.ndarray, n: np.ndarray, kind: str) -> np.ndarray:
    """The part of the log-likelihood that depends on ``eta`` (what the optimiser needs)."""
    if kind == "proportion":
        return x * eta - n * np.logaddexp(0.0, eta)
    return x * eta - np.exp(eta)


def _mean_weight(eta: np.ndarray, n: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Expected count and its variance (= Fisher weight for these canonical links)."""
    if kind == "proportion":
        p = special.expit(eta)
        return n * p, n * p * (1.0 - p)
    m = np.exp(eta)
    return m, m


# ----------------------------------------------------------------------------- R's glm.fit

@dataclass
class _Glm:
    coef: np.ndarray
    vcov: np.ndarray
    lin: np.ndarray  # X @ coef (linear predictor without the offset)
    weights: np.ndarray  # IRLS weights of the last iteration
    loglik: float
    converged: bool


def _r_linkinv(eta: np.ndarray, kind: str) -> np.ndarray:
    eps = np.finfo(float).eps
    if kind == "proportion":
        e = np.where(eta < -30, eps, np.where(eta > 30, 1 / eps, np.exp(np.clip(eta, -30, 30))))
        return e / (1 + e)
    return np.maximum(np.exp(eta), eps)


def _r_mu_eta(eta: np.ndarray, kind: str) -> np.ndarray:
    eps = np.finfo(float).eps
    if kind == "proportion":
        e = np.exp(np.clip(eta, -30, 30))
        return np.where(np.abs(eta) > 30, eps, e / (1 + e) ** 2)
    return np.maximum(np.exp(eta), eps)


def _r_deviance(y: np.ndarray, mu: np.ndarray, wt: np.ndarray, kind: str) -> float:
    if kind == "proportion":
        return float(np.sum(2 * wt * (special.xlogy(y, y / mu) + special.xlogy(1 - y, (1 - y) / (1 - mu)))))
    return float(np.sum(2 * wt * (special.xlogy(y, y / mu) - (y - mu))))


def _glm_fit(X: np.ndarray | None, x: np.ndarray, n: np.ndarray, off: np.ndarray, kind: str) -> _Glm:
    """R's ``glm.fit`` (IRLS, epsilon 1e-8, maxit 25) for binomial(cbind(x, n-x)) or poisson.

    ``X=None`` is the saturated model (one coefficient per study): its least-squares step fits the
    working response exactly, so each study takes its own Newton step and no k×k solve is needed.
    """
    if kind == "proportion":
        y, wt = x / n, n
        mu = (wt * y + 0.5) / (wt + 1)
        eta = np.log(mu / (1 - mu))
    else:
        y, wt = x, np.ones_like(x)
        mu = y + 0.1
        eta = np.log(mu)
    dev_old = _r_deviance(y, mu, wt, kind)
    converged = False
    for _ in range(25):
        mu_eta = _r_mu_eta(eta, kind)
        var = mu * (1 - mu) if kind == "proportion" else mu
        z = eta - off + (y - mu) / mu_eta
        w = wt * mu_eta**2 / var
        if X is None:
            coef = z
        else:
            xtwx = X.T @ (w[:, None] * X)
            coef = np.linalg.solve(xtwx, X.T @ (w * z))
        eta = (coef if X is None else X @ coef) + off
        mu = _r_linkinv(eta, kind)
        dev = _r_deviance(y, mu, wt, kind)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < 1e-8:
            converged = True
            break
        dev_old = dev
    vcov = np.diag(1.0 / w) if X is None else np.linalg.inv(xtwx)
    return _Glm(coef, vcov, eta - off, w, _glm_loglik(x, n, mu, kind), converged)


def _glm_loglik(x: np.ndarray, n: np.ndarray, mu: np.ndarray, kind: str) -> float:
    """Log-likelihood at the fitted means, as R's ``logLik.glm`` (via the family's aic)."""
    if kind == "proportion":
        return float(np.sum(stats.binom.logpmf(x, n, mu)))
    return float(np.sum(stats.poisson.logpmf(x, mu)))


# ----------------------------------------------------------------------------- adaptive GHQ

def _modes(lin: np.ndarray, theta: float, x: np.ndarray, n: np.ndarray, kind: str) -> np.ndarray:
    """Conditional modes u of each study's random effect (spherical scale, b = theta * u).

    Minimises h(u) = -loglik(lin + theta u) + u²/2, which is convex; Newton with step halving.
    """
    u = np.zeros_like(lin)
    if theta == 0.0:
        return u

    def h(v: np.ndarray) -> np.ndarray:
        return -_kernel(lin + theta * v, x, n, kind) + 0.5 * v * v

    h_u = h(u)
    for _ in range(200):
        m, w = _mean_weight(lin + theta * u, n, kind)
        step = (-theta * (x - m) + u) / (theta * theta * w + 1.0)
        new = u - step
        h_new = h(new)
        for _ in range(60):
            worse = ~(h_new <= h_u + 1e-12 * np.abs(h_u))
            if not worse.any():
                break
            step = np.where(worse, step / 2, step)
            new = u - step
            h_new = h(new)
        u, h_u = new, h_new
        if np.max(np.abs(step)) < 1e-12:
            break
    return u


def _agq(beta: np.ndarray, theta: float, X: np.ndarray, x: np.ndarray, n: np.ndarray, off: np.ndarray,
         kind: str) -> tuple[float, float]:
    """(-2 × AGQ marginal log-likelihood, conditional log-likelihood at the modes) at (beta, theta)."""
    theta = abs(theta)
    lin = X @ beta + off
    u = _modes(lin, theta, x, n, kind)
    eta0 = lin + theta * u
    ll0 = float(_loglik_obs(eta0, x, n, kind).sum())
    const = ll0 - float(_kernel(eta0, x, n, kind).sum())
    if theta == 0.0:
        return -2.0 * ll0, ll0
    _, w = _mean_weight(eta0, n, kind)
    sd = 1.0 / np.sqrt(theta * theta * w + 1.0)
    uk = u[:, None] + sd[:, None] * _GH_Z[None, :]
    hk = -_kernel(lin[:, None] + theta * uk, x[:, None], n[:, None], kind) + 0.5 * uk * uk
    terms = _GH_LOGW[None, :] - hk + 0.5 * _GH_Z[None, :] ** 2
    top = terms.max(axis=1)
    marginal = np.log(sd) + top + np.log(np.exp(terms - top[:, None]).sum(axis=1))
    return -2.0 * (float(marginal.sum()) + const), ll0


@dataclass
class _MlFit:
    beta: np.ndarray
    vcov: np.ndarray
    theta: float
    loglik: float
    converged: bool


def _fit_ml(X: np.ndarray, x: np.ndarray, n: np.ndarray, off: np.ndarray, kind: str, start: np.ndarray) -> _MlFit:
    """Maximise the AGQ likelihood over (beta, theta); SEs from the full Hessian, as lme4 does."""
    p = X.shape[1]

    def dev(q: np.ndarray) -> float:
        d = _agq(q[:p], q[p], X, x, n, off, kind)[0]
        return d if np.isfinite(d) else 1e300

    # The deviance is even in theta and smooth, so a boundary optimum (tau = 0) is an ordinary
    # stationary point at theta = 0 and an unconstrained quasi-Newton search finds it.
    best = None
    for theta0 in (0.5, 1.5):
        res = optimize.minimize(dev, np.append(start, theta0), jac=lambda q: _gradient(dev, q), method="BFGS",
                                options={"gtol": 1e-6, "maxiter": 500})
        if best is None or res.fun < best.fun:
            best = res
    q = best.x.copy()
    q[p] = abs(q[p])
    if not np.isfinite(best.fun) or q[p] > _DIVERGED or np.any(np.abs(q[:p] - start) > _DIVERGED):
        raise GlmmError(f"{CANNOT_FIT_ML}: the likelihood has no finite maximum for these counts")
    order = np.r_[p, np.arange(p)]  # lme4 orders the Hessian (theta, beta)
    hess = _hessian(lambda v: dev(v[np.argsort(order)]), q[order])
    vcov, ok = _beta_vcov(hess, p)
    stationary = bool(np.max(np.abs(best.jac)) < 1e-3)  # deviance scale; 1e-6 is asked, rounding may stop short
    return _MlFit(q[:p], vcov, float(q[p]), _agq(q[:p], q[p], X, x, n, off, kind)[1], stationary and ok)


def _gradient(f, q: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central finite-difference gradient (the AGQ deviance has no cheap analytic one)."""
    eye = np.eye(q.size) * h
    return np.array([(f(q + e) - f(q - e)) / (2 * h) for e in eye])


def _hessian(f, q: np.ndarray, h: float = _HESS_STEP) -> np.ndarray:
    """Central finite-difference Hessian (lme4's ``deriv12`` uses the same step)."""
    m = q.size
    f0 = f(q)
    H = np.empty((m, m))
    eye = np.eye(m) * h
    for i in range(m):
        H[i, i] = (f(q + eye[i]) - 2 * f0 + f(q - eye[i])) / (h * h)
        for j in range(i):
            H[i, j] = H[j, i] = (f(q + eye[i] + eye[j]) - f(q + eye[i] - eye[j])
                                 - f(q - eye[i] + eye[j]) + f(q - eye[i] - eye[j])) / (4 * h * h)
    return H


def _beta_vcov(hess: np.ndarray, p: int) -> tuple[np.ndarray, bool]:
    """Fixed-effect block of 2·H⁻¹; if H is not positive definite, the block conditional on theta."""
    try:
        np.linalg.cholesky(hess)
        return (2.0 * np.linalg.inv(hess))[1:, 1:], True
    except np.linalg.LinAlgError:
        return 2.0 * np.linalg.inv(hess[1:, 1:]), False


# ----------------------------------------------------------------------------- heterogeneity

@dataclass
class _Het:
    q_wald: float | None
    q_lrt: float | None
    q_df: int | None
    vt: float | None
    ll_saturated: float


def _heterogeneity(X: np.ndarray, x: np.ndarray, n: np.ndarray, off: np.ndarray, kind: str, fe: _Glm,
                   vi: np.ndarray) -> _Het:
    """Wald / LRT tests of the saturated GLM against the model, and the typical within-study variance.

    The saturated fit is R's glm with one coefficient per study; its Wald statistic for "the study
    effects lie in the column space of X" is the weighted residual sum of squares below.
    """
    k, p = X.shape
    if k <= p:
        return _Het(None, None, None, None, fe.loglik)
    sat = _glm_fit(None, x, n, off, kind)
    q_wald = _weighted_rss(sat.lin, X, sat.weights)
    q_lrt = max(0.0, -2.0 * (fe.loglik - sat.loglik))
    wi = 1.0 / vi
    trace_p = float(wi.sum() - np.trace(np.linalg.solve(X.T @ (wi[:, None] * X), X.T @ ((wi * wi)[:, None] * X))))
    return _Het(q_wald, q_lrt, k - p, (k - p) / trace_p, sat.loglik)


def _weighted_rss(y: np.ndarray, X: np.ndarray, w: np.ndarray) -> float:
    b = np.linalg.solve(X.T @ (w[:, None] * X), X.T @ (w * y))
    r = y - X @ b
    return float(np.sum(w * r * r))


# ----------------------------------------------------------------------------- input

@dataclass
class _Data:
    x: np.ndarray
    n: np.ndarray  # binomial totals (ones for rates)
    off: np.ndarray  # offset: 0 for proportions, log(time) for rates
    vi: np.ndarray  # escalc's sampling variances (PLO / IRLN, 1/2 added to zero cells)
    time: np.ndarray | None
    kind: str


def _prepare(events, n_or_time, kind: str, study: Sequence[str] | None) -> _Data:
    if kind not in ("proportion", "rate"):
        raise GlmmError(f"kind must be 'proportion' or 'rate', not {kind!r}")
    if kind == "proportion":
        eff = escalc("PLO", events=events, total=n_or_time, study=study)
        return _Data(eff.events, eff.total, np.zeros_like(eff.events), eff.vi, None, kind)
    eff = escalc("IRLN", events=events, person_time=n_or_time, study=study)
    return _Data(eff.events, np.ones_like(eff.events), np.log(eff.person_time), eff.vi, eff.person_time, kind)


def _options(method: str, test: str, level: float) -> tuple[str, str, float]:
    m = str(method).upper()
    if m in ("FE", "CE"):
        m = "EE"
    if m not in ("ML", "EE"):
        raise GlmmError(f"GLMM method must be 'ML' (random effects) or 'EE' (common effect), not {method!r}")
    t = str(test).lower()
    if t not in ("z", "t"):
        raise GlmmError(f"GLMM test must be 'z' or 't', not {test!r}")
    try:
        lev = float(level)
    except (TypeError, ValueError):
        raise GlmmError(f"level must be a number (percent), not {level!r}") from None
    if 0.5 < lev < 1:  # metafor reads level=0.95 as 95%
        lev *= 100
    if not (0 < lev < 100):
        raise GlmmError(f"level must be between 0 and 100 (percent), not {level!r}")
    return m, t, lev


def _separation(d: _Data, X: np.ndarray) -> str | None:
    """Why the fixed effects have no finite maximum (a design cell with no or only events), if so."""
    cells = {tuple(row) for row in X}
    for cell in cells:
        rows = np.all(X == np.array(cell), axis=1)
        where = "" if len(cells) == 1 else " of a subgroup"
        if np.all(d.x[rows] == 0):
            return f"every study{where} has 0 events, so its estimate is -Inf"
        if d.kind == "proportion" and np.all(d.x[rows] == d.n[rows]):
            return f"in every study{where} all patients had the event, so its estimate is +Inf"
    return None


def _refuse_ml(d: _Data, X: np.ndarray) -> None:
    """metafor's refusals, decided from the data before fitting."""
    k, p = X.shape
    if k < p + 1:
        raise GlmmError(TOO_MANY_PARAMETERS)
    reason = _separation(d, X)
    if reason:
        raise GlmmError(f"{CANNOT_FIT_ML}: {reason}")
    size = d.n if d.kind == "proportion" else d.time
    if k > 1 and np.all(d.x == d.x[0]) and np.all(size == size[0]):
        raise GlmmError(f"{CANNOT_FIT_ML}: all {k} studies are identical (lme4 fails on them, so metafor refuses)")


def _fit(d: _Data, X: np.ndarray, method: str):
    """Shared core: (beta, vcov, tau², conditional or GLM log-likelihood, converged, heterogeneity)."""
    k, p = X.shape
    if k < p:
        raise GlmmError(TOO_MANY_PARAMETERS)
    if method == "ML":
        _refuse_ml(d, X)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        fe = _glm_fit(X, d.x, d.n, d.off, d.kind)
        het = _heterogeneity(X, d.x, d.n, d.off, d.kind, fe, d.vi)
        if method == "EE":  # R's glm stops on its deviance rule even when the estimate runs to ±Inf
            return fe.coef, fe.vcov, 0.0, fe.loglik, fe.converged and _separation(d, X) is None, het
        ml = _fit_ml(X, d.x, d.n, d.off, d.kind, fe.coef)
    return ml.beta, ml.vcov, ml.theta**2, ml.loglik, ml.converged, het


def _chi2_p(q: float | None, df: int | None) -> float | None:
    return None if q is None else float(stats.chi2.sf(q, df))


def _fitstats(loglik: float, ll_sat: float, k: int, parms: int) -> dict[str, float]:
    """metafor's fit statistics (deviance relative to the saturated GLM)."""
    big = max(k, parms + 2)
    return {"deviance": -2.0 * (loglik - ll_sat), "aic": -2.0 * loglik + 2 * parms,
            "bic": -2.0 * loglik + parms * math.log(k), "aicc": -2.0 * loglik + 2 * parms * big / (big - parms - 1)}


# ----------------------------------------------------------------------------- public API

def fit_glmm(events, n_or_time, kind: str, method: str = "ML", test: str = "z", level: float = 95.0, *,
             study: Sequence[str] | None = None) -> GlmmFit:
    """Pool counts with ``rma.glmm``'s random-intercept GLMM (``ML``) or common-effect GLM (``EE``).

    ``kind="proportion"``: ``n_or_time`` are the totals (logit scale, measure PLO);
    ``kind="rate"``: person-time (log scale, IRLN). ``study`` labels only name rows in errors.
    Raises :class:`GlmmError` where metafor refuses, with metafor's message.
    """
    method, test, level = _options(method, test, level)
    d = _prepare(events, n_or_time, kind, study)
    k = d.x.size
    X = np.ones((k, 1))
    beta, vcov, tau2, loglik, converged, het = _fit(d, X, method)
    est, se = float(beta[0]), float(math.sqrt(vcov[0, 0]))
    df = k - 1 if test == "t" else None
    crit = _critical(level, df)
    stat = est / se
    p = _p_value(stat, df)
    ci = (None, None) if crit is None else (est - crit * se, est + crit * se)
    pi = (None, None)
    if method == "ML" and crit is not None:
        half = crit * math.sqrt(se * se + tau2)
        pi = (est - half, est + half)
    i2 = h2 = None
    if het.vt is not None:
        i2 = 100.0 * tau2 / (het.vt + tau2)
        h2 = tau2 / het.vt + 1.0
    return GlmmFit(
        k=k, method=method, test=test, level=level, estimate=est, se=se, stat=stat, p=p,
        ci_low=ci[0], ci_high=ci[1], df=None if df is None else float(df), tau2=tau2, tau=math.sqrt(tau2),
        i2=i2, h2=h2, q_wald=het.q_wald, q_wald_p=_chi2_p(het.q_wald, het.q_df), q_lrt=het.q_lrt,
        q_lrt_p=_chi2_p(het.q_lrt, het.q_df), q_df=het.q_df, pi_low=pi[0], pi_high=pi[1],
        loglik=loglik, converged=converged, measure="PLO" if kind == "proportion" else "IRLN",
        **_fitstats(loglik, het.ll_saturated, k, 1 + (method == "ML")),
    )


def _critical(level: float, df: int | None) -> float | None:
    alpha = 1.0 - level / 100.0
    if df is None:
        return float(stats.norm.ppf(1 - alpha / 2))
    return float(stats.t.ppf(1 - alpha / 2, df)) if df > 0 else None


def _p_value(stat: float, df: int | None) -> float | None:
    if df is None:
        return float(2 * stats.norm.sf(abs(stat)))
    return float(2 * stats.t.sf(abs(stat), df)) if df > 0 else None


def _group_labels(groups, k: int) -> tuple[list[str], np.ndarray]:
    g = ["" if v is None else str(v) for v in np.asarray(groups, dtype=object).ravel()]
    if len(g) != k:
        raise GlmmError(f"{len(g)} group labels for {k} studies")
    levels = sorted(set(g))
    return levels, np.array([levels.index(v) for v in g])


def fit_glmm_separate(events, n_or_time, groups, kind: str, method: str = "ML", test: str = "z",
                      level: float = 95.0) -> dict[str, GlmmFit | GlmmError]:
    """One GLMM per subgroup (own tau²); a group metafor refuses maps to its :class:`GlmmError`."""
    x = np.asarray(events, dtype=object).ravel()
    t = np.asarray(n_or_time, dtype=object).ravel()
    levels, idx = _group_labels(groups, x.size)
    out: dict[str, GlmmFit | GlmmError] = {}
    for j, name in enumerate(levels):
        rows = idx == j
        try:
            out[name] = fit_glmm(x[rows], t[rows], kind, method, test, level)
        except GlmmError as err:
            out[name] = err
    return out


def fit_glmm_mods(events, n_or_time, groups, kind: str, method: str = "ML", test: str = "z",
                  level: float = 95.0) -> GlmmModsFit:
    """``rma.glmm(mods = ~ factor(group))``: intercept = first level (sorted), contrasts for the rest.

    QM is the Wald test of the contrasts (an F statistic with ``test="t"``), as metafor reports.
    """
    method, test, level = _options(method, test, level)
    d = _prepare(events, n_or_time, kind, None)
    k = d.x.size
    levels, idx = _group_labels(groups, k)
    if len(levels) < 2:
        raise GlmmError("a subgroup model needs at least two groups")
    X = np.column_stack([np.ones(k)] + [(idx == j).astype(float) for j in range(1, len(levels))])
    beta, vcov, tau2, loglik, converged, het = _fit(d, X, method)
    b, V = beta[1:], vcov[1:, 1:]
    m = b.size
    qm = float(b @ np.linalg.solve(V, b))
    if test == "t":
        qm /= m
        qm_df, qm_p = (m, k - X.shape[1]), float(stats.f.sf(qm, m, k - X.shape[1]))
    else:
        qm_df, qm_p = (m, None), float(stats.chi2.sf(qm, m))
    return GlmmModsFit(
        k=k, method=method, test=test, levels=levels, coef=[float(v) for v in beta],
        se=[float(v) for v in np.sqrt(np.diag(vcov))], qm=qm, qm_df=qm_df, qm_p=qm_p, tau2=tau2,
        q_wald=het.q_wald, q_lrt=het.q_lrt, q_df=het.q_df, loglik=loglik, converged=converged,
    )
