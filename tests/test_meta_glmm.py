"""meta.glmm against metafor's rma.glmm (oracle JSON in ../shared) and against first principles.

Contract 3: GLMM figures agree with metafor to 1e-4 (absolute, relative above 1), and where
metafor refuses, litmeta refuses with metafor's message.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, special, stats

from meta.errors import MetaError
from meta.glmm import GlmmError, _agq, fit_glmm, fit_glmm_mods, fit_glmm_separate

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
EXPECTED = SHARED / "oracle" / "expected"
TOL = 1e-4
VARIANTS = ("ML_z", "ML_t", "EE_z", "EE_t")


def _glmm_sets() -> list[str]:
    if not EXPECTED.is_dir():
        return []
    return sorted(p.stem for p in EXPECTED.glob("*.json") if "glmm" in json.loads(p.read_text()))


SETS = _glmm_sets()
SUBGROUP_SETS = [s for s in SETS if "subgroup" in json.loads((EXPECTED / f"{s}.json").read_text())["glmm"]["ML_z"]]


@lru_cache(maxsize=None)
def _oracle(name: str) -> dict:
    if not EXPECTED.is_dir():
        pytest.skip(f"{SHARED} is absent: the metafor oracle lives there")
    return json.loads((EXPECTED / f"{name}.json").read_text())


def _counts(d: dict) -> tuple[list, list, str]:
    inp = d["input"]
    return inp["xi"], (inp["ni"] if d["kind"] == "proportion" else inp["ti"]), d["kind"]


def _num(v):
    """Oracle value → float, or None for NA / NaN (which litmeta reports as None)."""
    if v is None or v == "NaN":
        return None
    return {"Inf": math.inf, "-Inf": -math.inf}.get(v, v)


def _close(ours, theirs, what: str) -> None:
    theirs = _num(theirs)
    if theirs is None or ours is None:
        assert ours is None and theirs is None, f"{what}: ours {ours}, metafor {theirs}"
        return
    if math.isinf(theirs):
        assert ours == theirs, f"{what}: ours {ours}, metafor {theirs}"
        return
    assert abs(ours - theirs) <= TOL * max(1.0, abs(theirs)), f"{what}: ours {ours}, metafor {theirs}"


def _refusal(message: str) -> str:
    """metafor's message without its hint about verbose=TRUE."""
    return message.split(" (set 'verbose")[0].rstrip(".")


def _check_fit(fit, o: dict, label: str) -> None:
    pairs = {
        "estimate": "estimate", "se": "se", "stat": "zval", "p": "pval", "ci_low": "ci.lb", "ci_high": "ci.ub",
        "tau2": "tau2", "tau": "tau", "i2": "I2", "h2": "H2", "q_wald": "QE.Wld", "q_wald_p": "QEp.Wld",
        "q_lrt": "QE.LRT", "q_lrt_p": "QEp.LRT", "q_df": "QE.df",
    }
    for ours, theirs in pairs.items():
        _close(getattr(fit, ours), o[theirs], f"{label} {ours}")
    assert fit.k == o["k"] and fit.method == o["method"] and fit.test == o["test"]
    if "df" in o:
        _close(fit.df, o["df"], f"{label} df")
    if "pred" in o:
        _close(fit.pi_low, o["pred"]["pi.lb"], f"{label} pi_low")
        _close(fit.pi_high, o["pred"]["pi.ub"], f"{label} pi_high")
    if "fitstats" in o:
        fs = o["fitstats"]
        for ours, theirs in (("loglik", "logLik"), ("deviance", "deviance"), ("aic", "AIC"), ("bic", "BIC"),
                             ("aicc", "AICc")):
            _close(getattr(fit, ours), fs[theirs], f"{label} {ours}")
    back = fit.back()
    for ours, theirs in (("estimate", "pred"), ("ci_low", "ci.lb"), ("ci_high", "ci.ub"), ("pi_low", "pi.lb"),
                         ("pi_high", "pi.ub")):
        _close(back[ours], o["pred_back"][theirs], f"{label} back {ours}")


# ----------------------------------------------------------------------------- oracle

@pytest.mark.skipif(not SETS, reason=f"{SHARED} is absent: the metafor oracle lives there")
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", SETS)
def test_glmm_matches_metafor(name: str, variant: str) -> None:
    d = _oracle(name)
    o = d["glmm"][variant]
    method, test = variant.split("_")
    events, size, kind = _counts(d)
    if "error" in o:
        with pytest.raises(GlmmError) as err:
            fit_glmm(events, size, kind, method, test)
        assert _refusal(o["error"]) in str(err.value)
        return
    fit = fit_glmm(events, size, kind, method, test, d["settings"]["level"])
    _check_fit(fit, o, f"{name} {variant}")
    # EE on all-zero / all-event data: metafor's number is where R's glm stopped, not a maximum
    degenerate = all(e == 0 for e in events) or (kind == "proportion" and list(events) == list(size))
    assert fit.converged is not degenerate


@pytest.mark.skipif(not SUBGROUP_SETS, reason=f"{SHARED} is absent: the metafor oracle lives there")
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", SUBGROUP_SETS)
def test_glmm_subgroups_match_metafor(name: str, variant: str) -> None:
    d = _oracle(name)
    sub = d["glmm"][variant]["subgroup"]
    method, test = variant.split("_")
    events, size, kind = _counts(d)
    groups = d["input"]["group"]

    mods = fit_glmm_mods(events, size, groups, kind, method, test)
    o = sub["mods"]
    assert mods.levels == sub["levels"]
    assert list(mods.qm_df) == o["QMdf"]
    for ours, theirs in (("qm", "QM"), ("qm_p", "QMp"), ("tau2", "tau2")):
        _close(getattr(mods, ours), o[theirs], f"{name} {variant} mods {ours}")
    for j, (c, s) in enumerate(zip(o["coef"], o["se"])):
        _close(mods.coef[j], c, f"{name} {variant} mods coef[{j}]")
        _close(mods.se[j], s, f"{name} {variant} mods se[{j}]")

    separate = fit_glmm_separate(events, size, groups, kind, method, test)
    assert sorted(separate) == sorted(sub["separate"])
    for level, so in sub["separate"].items():
        got = separate[level]
        if "error" in so:
            assert isinstance(got, GlmmError) and _refusal(so["error"]) in str(got)
        else:
            _check_fit(got, so, f"{name} {variant} group {level}")


# ----------------------------------------------------------------------------- first principles

def _marginal_by_quad(beta: float, theta: float, x: np.ndarray, n: np.ndarray) -> float:
    """Binomial-normal marginal log-likelihood by adaptive scipy quadrature (independent check)."""
    total = 0.0
    for xi, ni in zip(x, n):
        f = lambda b: stats.binom.pmf(xi, ni, special.expit(beta + b)) * stats.norm.pdf(b, 0, theta)
        total += math.log(integrate.quad(f, -12 * theta, 12 * theta, epsabs=0, epsrel=1e-12, limit=200)[0])
    return total


@pytest.mark.parametrize("beta,theta", [(-0.4, 0.3), (1.2, 1.1), (-2.5, 2.4)])
def test_adaptive_quadrature_matches_direct_integration(beta: float, theta: float) -> None:
    x = np.array([0.0, 3, 11, 25, 7])
    n = np.array([12.0, 20, 30, 25, 40])
    dev, _ = _agq(np.array([beta]), theta, np.ones((5, 1)), x, n, np.zeros(5), "proportion")
    exact = _marginal_by_quad(beta, theta, x, n)
    assert abs(-dev / 2 - exact) < 1e-3 * abs(exact)


def test_zero_heterogeneity_reduces_to_the_glm_likelihood() -> None:
    x = np.array([2.0, 9, 4])
    t = np.array([300.0, 800, 500])
    dev, cond = _agq(np.array([-4.5]), 0.0, np.ones((3, 1)), x, np.ones(3), np.log(t), "rate")
    assert dev == pytest.approx(-2 * stats.poisson.logpmf(x, t * math.exp(-4.5)).sum(), rel=1e-12)
    assert cond == pytest.approx(-dev / 2, rel=1e-12)


def test_common_effect_is_the_pooled_count() -> None:
    x, n = [4, 9, 15, 2], [20, 31, 40, 11]
    fit = fit_glmm(x, n, "proportion", "EE")
    p = sum(x) / sum(n)
    assert fit.estimate == pytest.approx(math.log(p / (1 - p)), abs=1e-8)
    assert fit.se == pytest.approx(1 / math.sqrt(sum(n) * p * (1 - p)), rel=1e-6)
    assert fit.tau2 == 0 and fit.pi_low is None and fit.i2 == 0 and fit.h2 == 1
    rate = fit_glmm(x, [100.0, 250, 400, 90], "rate", "EE")
    assert rate.estimate == pytest.approx(math.log(sum(x) / 840.0), abs=1e-8)
    assert rate.se == pytest.approx(1 / math.sqrt(sum(x)), rel=1e-6)


def test_random_effects_fit_is_symmetric_in_events_and_non_events() -> None:
    x = np.array([3, 11, 20, 7, 1])
    n = np.array([25, 30, 26, 40, 18])
    a = fit_glmm(x, n, "proportion")
    b = fit_glmm(n - x, n, "proportion")
    assert b.estimate == pytest.approx(-a.estimate, abs=1e-6)
    assert b.tau2 == pytest.approx(a.tau2, abs=1e-6)
    assert b.se == pytest.approx(a.se, abs=1e-6)
    assert a.tau2 > 0.1 and a.pi_low < a.ci_low < a.estimate < a.ci_high < a.pi_high


def test_study_order_does_not_matter() -> None:
    x, t = [2, 9, 4, 14], [300.0, 800, 500, 610]
    a = fit_glmm(x, t, "rate")
    b = fit_glmm(x[::-1], t[::-1], "rate")
    assert (b.estimate, b.tau2, b.q_lrt) == pytest.approx((a.estimate, a.tau2, a.q_lrt), abs=1e-6)


def test_back_transform_is_on_the_natural_scale() -> None:
    fit = fit_glmm([4, 9, 15], [100.0, 250, 400], "rate", "ML", "t")
    back = fit.back()
    assert back["estimate"] == pytest.approx(math.exp(fit.estimate))
    assert back["ci_low"] < back["estimate"] < back["ci_high"]
    assert fit.to_dict()["back"] == back


@pytest.mark.parametrize("events,size,kind,needle", [
    ([3, 12], [10, 10], "proportion", "row 2"),
    ([3, -1], [10, 10], "proportion", "negative"),
    ([3, 1.5], [10, 10], "proportion", "whole number"),
    ([3, 4], [100, 0], "rate", "person_time"),
    ([3, None], [100, 80], "rate", "row 2"),
    ([3, 4], [10, 10], "odds", "kind"),
])
def test_bad_input_is_one_clear_error(events, size, kind, needle) -> None:
    with pytest.raises(MetaError) as err:
        fit_glmm(events, size, kind)
    assert needle in str(err.value)


def test_bad_options_are_refused() -> None:
    with pytest.raises(GlmmError, match="method"):
        fit_glmm([3, 4], [10, 10], "proportion", method="REML")
    with pytest.raises(GlmmError, match="test"):
        fit_glmm([3, 4], [10, 10], "proportion", test="knha")
    with pytest.raises(GlmmError, match="two groups"):
        fit_glmm_mods([3, 4], [10, 10], ["a", "a"], "proportion")


def test_no_finite_maximum_is_refused_not_returned() -> None:
    # one study with none, one with all events: tau grows without bound
    with pytest.raises(GlmmError, match="Cannot fit ML model"):
        fit_glmm([0, 10], [10, 10], "proportion")
    # a subgroup without events: its contrast runs to -Inf
    with pytest.raises(GlmmError, match="subgroup"):
        fit_glmm_mods([0, 0, 4, 6, 3], [10, 12, 20, 22, 15], ["a", "a", "b", "b", "b"], "proportion")


def test_level_as_fraction_or_percent() -> None:
    a = fit_glmm([4, 9, 15], [20, 31, 40], "proportion", "EE", level=90)
    b = fit_glmm([4, 9, 15], [20, 31, 40], "proportion", "EE", level=0.90)
    assert (a.ci_low, a.ci_high) == pytest.approx((b.ci_low, b.ci_high))
    z = stats.norm.ppf(0.95)
    assert a.ci_high == pytest.approx(a.estimate + z * a.se)


@pytest.mark.parametrize("seed", range(4))
def test_random_effects_never_fit_worse_than_common_effect(seed: int) -> None:
    """tau = 0 lies inside the ML model, so its maximised marginal likelihood is at least the GLM's."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 12))
    t = rng.uniform(100, 2000, k)
    x = rng.poisson(t * np.exp(-4 + rng.normal(0, 0.6, k)))
    if x.sum() == 0:
        x[0] = 1
    ml = fit_glmm(x, t, "rate", "ML")
    ee = fit_glmm(x, t, "rate", "EE")
    dev_ml, _ = _agq(np.array([ml.estimate]), ml.tau, np.ones((k, 1)), x.astype(float), np.ones(k), np.log(t), "rate")
    assert dev_ml <= -2 * ee.loglik + 1e-6
    assert ml.tau2 >= 0 and ml.converged
    assert ml.q_lrt == pytest.approx(ee.q_lrt) and ml.q_wald == pytest.approx(ee.q_wald)
