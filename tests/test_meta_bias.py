"""meta.bias (Egger's regression test, trim-and-fill) against metafor 3.8-1 (../shared/oracle).

Tolerances (Contract 3): closed-form estimators (EE DL HE HS SJ) 1e-6 against metafor's output.
The oracle holds regtest/trimfill only at metafor's default convergence, so the iterative
estimators (ML REML EB PM) are run with metafor's stopping rule (``METAFOR_CONTROL``) and compared
at 1e-4. Absolute differences, relative for values above 1.

Where metafor stops (``error``) or prints NA/NaN/Inf, litmeta must raise MetaError. Deliberate,
documented extra refusals: (1) a regression on the SEs with k = 2 studies (metafor's EE model
interpolates the two points exactly and reports a z test; trim-and-fill then mirrors one study);
(2) trim-and-fill when all effects are identical (metafor returns the unchanged fit, k0 = 0);
(3) a regression whose residuals are rounding noise (metafor prints t ~ 1e15 or warns
"essentially perfect fit").
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from meta.bias import egger_test, trim_and_fill
from meta.effects import back_transform
from meta.errors import MetaError
from meta.estimators import METAFOR_CONTROL
from meta.model import rma

# the oracle loader and tolerance rule are shared with the sensitivity tests (same folder)
from test_meta_sensitivity import ITERATIVE, NAMES, _close, _num, _oracle  # noqa: E402


def _run(analysis: str, y, v, method: str, test: str):
    ctl = METAFOR_CONTROL if method in ITERATIVE else {}
    if analysis == "regtest":
        return egger_test(y, v, "rma", method, test, **ctl)
    if analysis == "regtest_lm":
        return egger_test(y, v, "lm", method, test, **ctl)
    return trim_and_fill(y, v, method, test, estimator="R0" if analysis == "trimfill_R0" else "L0", **ctl)


def _must_refuse(analysis: str, entry: dict, y: np.ndarray, test: str) -> str | None:
    """Why litmeta must refuse this entry (None: it must answer)."""
    if "error" in entry:
        return f"metafor stops: {entry['error']}"
    stat = _num(entry.get("zval"))
    if analysis.startswith("regtest"):
        if not math.isfinite(stat) or entry.get("pval") is None:
            return "metafor returns NA/NaN/Inf"
        noise = any("perfect fit" in w for w in entry.get("warnings", [])) or abs(stat) > 1e8
        if noise and (analysis == "regtest_lm" or test == "knha"):   # tests scaled by the residuals
            return "regression residuals are rounding noise"
        if y.size == 2:
            return "k = 2 (documented extra refusal)"
        return None
    if y.size == 2:
        return "k = 2: cannot choose the side (documented extra refusal)"
    if np.ptp(y) == 0:
        return "all effects identical (documented extra refusal)"
    return None


def _compare_regtest(entry: dict, res, tol: float) -> list[str]:
    pairs = {"zval": res.stat, "pval": res.p, "est": res.est, "ci.lb": res.ci_low, "ci.ub": res.ci_high}
    out = [f"{key}: metafor {entry[key]} litmeta {val}" for key, val in pairs.items()
           if not _close(_num(entry[key]), val, tol)]
    if "df" in entry and entry["df"] != res.df:
        out.append(f"df: metafor {entry['df']} litmeta {res.df}")
    return out


def _compare_trimfill(entry: dict, res, tol: float, measure: str, inputs: dict) -> list[str]:
    if (res.k0, res.side, res.k) != (entry["k0"], entry["side"], entry["k"]):
        return [f"k0/side/k: metafor {entry['k0']} {entry['side']} {entry['k']} "
                f"litmeta {res.k0} {res.side} {res.k}"]
    f = res.fit
    pairs = {"estimate": f.estimate, "se": f.se, "zval": f.stat, "pval": f.p, "ci.lb": f.ci_low,
             "ci.ub": f.ci_high, "tau2": f.tau2, "I2": f.i2, "QE": f.q, "se.k0": res.se_k0,
             "p.k0": res.p_k0}
    out = [f"{key}: metafor {entry[key]} litmeta {val}" for key, val in pairs.items()
           if not _close(_num(entry[key]), val, tol)]
    for key, got in (("filled_yi", res.filled_yi), ("filled_vi", res.filled_vi)):
        want = entry.get(key, [])
        if len(want) != len(got) or not all(_close(a, b, tol) for a, b in zip(want, got)):
            out.append(f"{key}: metafor {want} litmeta {list(got)}")
    if "estimate_back" in entry:
        back = float(back_transform(measure, f.estimate, total=inputs.get("ni"), person_time=inputs.get("ti")))
        if not _close(entry["estimate_back"], back, tol):
            out.append(f"estimate_back: metafor {entry['estimate_back']} litmeta {back}")
    return out


@pytest.mark.parametrize("analysis", ["regtest", "regtest_lm", "trimfill", "trimfill_R0"])
@pytest.mark.parametrize("name", NAMES)
def test_matches_metafor(name: str, analysis: str) -> None:
    data = _oracle(name)
    problems: list[str] = []
    checked = 0
    for measure, md in data["measures"].items():
        if "yi" not in md["escalc"]:
            continue
        y, v = np.array(md["escalc"]["yi"], float), np.array(md["escalc"]["vi"], float)
        for method, by_test in md["fits"].items():
            for test, fit in by_test.items():
                entry = fit.get(analysis)
                if entry is None or "skipped" in entry:
                    continue
                where = f"{measure} {method} {test}"
                reason = _must_refuse(analysis, entry, y, test)
                checked += 1
                if reason:
                    try:
                        _run(analysis, y, v, method, test)
                        problems.append(f"{where}: must refuse ({reason}) but answered")
                    except MetaError:
                        pass
                    continue
                try:
                    res = _run(analysis, y, v, method, test)
                except MetaError as err:
                    problems.append(f"{where}: refused ({err}) where metafor answers")
                    continue
                tol = 1e-4 if method in ITERATIVE else 1e-6
                found = (_compare_regtest(entry, res, tol) if analysis.startswith("regtest")
                         else _compare_trimfill(entry, res, tol, measure, data["input"]))
                problems += [f"{where} {p}" for p in found]
    assert not problems, f"{name} {analysis}: {len(problems)} mismatches\n" + "\n".join(problems[:25])
    assert checked, f"{name}: no {analysis} entries"


# ----------------------------------------------------------------------------- behaviour
# an asymmetric funnel: small studies (large vi) show large effects
Y = np.array([0.05, 0.10, 0.12, 0.20, 0.35, 0.50, 0.62, 0.80, 0.15, 0.08])
V = np.array([0.002, 0.004, 0.006, 0.010, 0.030, 0.060, 0.080, 0.120, 0.008, 0.003])


def test_egger_lm_is_the_regression_of_standardised_effect_on_precision() -> None:
    """Classical Egger: y/se = a + b/se ⇔ y = b + a·se with weights 1/v (slope and intercept swap)."""
    res = egger_test(Y, V, model="lm")
    se = np.sqrt(V)
    X = np.column_stack([np.ones_like(se), 1 / se])
    coef, rss, *_ = np.linalg.lstsq(X, Y / se, rcond=None)
    assert res.slope == pytest.approx(coef[0], rel=1e-10)           # asymmetry term
    assert res.est == pytest.approx(coef[1], rel=1e-10)             # limit estimate
    s2 = float(rss[0]) / (Y.size - 2)
    se_a = math.sqrt(s2 * np.linalg.inv(X.T @ X)[0, 0])
    assert res.stat == pytest.approx(coef[0] / se_a, rel=1e-10)
    assert res.df == Y.size - 2
    assert res.p < 0.05 and res.slope > 0


def test_egger_rma_with_ee_is_the_fixed_weight_regression() -> None:
    """model='rma', method EE: weighted LS with known variances (no residual scale), z test."""
    res = egger_test(Y, V, model="rma", method="EE")
    X = np.column_stack([np.ones_like(Y), np.sqrt(V)])
    W = np.diag(1 / V)
    cov = np.linalg.inv(X.T @ W @ X)
    coef = cov @ X.T @ W @ Y
    assert res.slope == pytest.approx(coef[1], rel=1e-10)
    assert res.stat == pytest.approx(coef[1] / math.sqrt(cov[1, 1]), rel=1e-10)
    assert res.df is None and res.tau2 == 0.0
    d = res.to_dict()
    assert d["model"] == "rma" and isinstance(d["stat"], float)
    assert "asymmetry" in res.summary()
    assert res.to_frame().shape[0] == 1


def test_trim_and_fill_mirrors_the_trimmed_studies() -> None:
    res = trim_and_fill(Y, V, method="DL", study=[f"s{i}" for i in range(Y.size)])
    assert res.side == "left"                       # small studies lie high, so missing ones low
    assert res.k0 >= 1 and res.k == Y.size + res.k0
    # fills are mirror images of the largest effects about the trimmed estimate, same variances
    largest = np.argsort(Y)[::-1][: res.k0]
    centre = (res.filled_yi + Y[largest][::-1]) / 2
    assert np.allclose(centre, centre[0])
    assert set(np.round(res.filled_vi, 12)) == set(np.round(V[largest], 12))
    refit = rma(np.r_[Y, res.filled_yi], np.r_[V, res.filled_vi], "DL")
    assert res.estimate == pytest.approx(refit.estimate) and res.estimate < rma(Y, V, "DL").estimate
    frame = res.to_frame()
    assert frame["filled"].sum() == res.k0 and list(frame["study"][:2]) == ["s0", "s1"]
    assert res.to_dict()["k0"] == res.k0 and "missing" in res.summary()


def test_trim_and_fill_side_follows_the_asymmetry() -> None:
    flipped = trim_and_fill(-Y, V, method="DL")
    plain = trim_and_fill(Y, V, method="DL")
    assert flipped.side == "right" and flipped.k0 == plain.k0
    assert np.allclose(flipped.filled_yi, -plain.filled_yi)
    forced = trim_and_fill(Y, V, method="DL", side="right")
    assert forced.side == "right"


def test_r0_p_value_is_half_to_the_power_k0_plus_one() -> None:
    res = trim_and_fill(Y, V, method="REML", estimator="R0")
    assert res.p_k0 == pytest.approx(0.5 ** (res.k0 + 1))
    assert trim_and_fill(Y, V, method="REML").p_k0 is None


def test_refusals_are_clear() -> None:
    with pytest.raises(MetaError, match="k = 1"):
        trim_and_fill([0.2], [0.1])
    with pytest.raises(MetaError, match="equal"):
        egger_test([0.1, 0.2, 0.4], [0.1, 0.1, 0.1])
    with pytest.raises(MetaError, match="too few"):
        egger_test([0.1, 0.2], [0.1, 0.2], model="lm")
    with pytest.raises(MetaError, match="row 2"):
        egger_test([0.1, 0.2, 0.3], [0.1, 0.0, 0.1])
    with pytest.raises(MetaError, match="estimator"):
        trim_and_fill(Y, V, estimator="Q9")
    with pytest.raises(MetaError, match="side"):
        trim_and_fill(Y, V, side="up")
    with pytest.raises(MetaError, match="predictor"):
        egger_test(Y, V, predictor="ni")
    with pytest.raises(MetaError, match="model"):
        egger_test(Y, V, model="glm")


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(-2, 2), st.floats(0.01, 1)), min_size=4, max_size=12,
                unique_by=lambda s: s[0]),
       st.randoms(use_true_random=False))
def test_results_do_not_depend_on_study_order(studies, rnd) -> None:
    """metafor sorts before trimming, so with distinct effects the fill, the test and the limit
    estimate do not depend on the order of the studies (tied effects with different variances
    are trimmed in data order, in metafor too)."""
    y = np.array([a for a, _ in studies])
    v = np.array([b for _, b in studies])
    perm = list(range(y.size))
    rnd.shuffle(perm)
    try:
        first = trim_and_fill(y, v, method="DL")
    except MetaError:
        return                                   # degenerate draw (e.g. equal SEs): refused either way
    second = trim_and_fill(y[perm], v[perm], method="DL")
    assert (first.k0, first.side) == (second.k0, second.side)
    assert first.estimate == pytest.approx(second.estimate, abs=1e-9)
    assert sorted(first.filled_yi) == pytest.approx(sorted(second.filled_yi), abs=1e-9)
    e1, e2 = egger_test(y, v, method="DL"), egger_test(y[perm], v[perm], method="DL")
    assert e1.stat == pytest.approx(e2.stat, abs=1e-9) and e1.est == pytest.approx(e2.est, abs=1e-9)
