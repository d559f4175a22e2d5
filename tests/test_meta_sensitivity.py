"""meta.sensitivity against metafor 3.8-1 (../shared/oracle) and against influence identities.

Tolerances (Contract 3): closed-form estimators (EE DL HE HS SJ) 1e-6 against metafor's output.
The oracle holds leave1out/cumul only at metafor's *default* convergence (no ``tight`` entry), so
the iterative estimators (ML REML EB PM) are refitted with metafor's own stopping rule
(``meta.estimators.METAFOR_CONTROL``) and compared at 1e-4; their converged answers are checked
through the last cumulative row, which is the full model, against ``tight`` at 1e-6.
Absolute differences, relative for values above 1.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from meta.errors import MetaError
from meta.estimators import METAFOR_CONTROL
from meta.model import rma
from meta.sensitivity import cumulative, influence, leave_one_out

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
EXPECTED = SHARED / "oracle" / "expected"
NAMES = sorted(p.stem for p in EXPECTED.glob("*.json")) if EXPECTED.is_dir() else ["oracle-absent"]
ITERATIVE = {"ML", "REML", "EB", "PM"}
#: oracle key -> SensitivityResult column
KEYS = {"estimate": "estimate", "se": "se", "zval": "stat", "pval": "p", "ci.lb": "ci_low",
        "ci.ub": "ci_high", "Q": "q", "Qp": "q_p", "tau2": "tau2", "I2": "i2", "H2": "h2"}
FUNCS = {"leave1out": leave_one_out, "cumul": cumulative}


@lru_cache(maxsize=None)
def _oracle(name: str) -> dict:
    if not EXPECTED.is_dir():
        pytest.skip("../shared/oracle/expected is absent next to the project; oracle tests need it")
    return json.loads((EXPECTED / f"{name}.json").read_text())


def _num(x) -> float:
    return math.nan if x is None else float(x)


def _close(want: float, got: float | None, tol: float) -> bool:
    got = math.nan if got is None else float(got)
    if math.isnan(want) or math.isnan(got):
        return math.isnan(want) and math.isnan(got)
    if math.isinf(want):
        return want == got
    return abs(want - got) <= tol * max(1.0, abs(want))


def _entries(name: str, analysis: str):
    """(measure, method, test, oracle entry, yi, vi, input columns) for one data set."""
    data = _oracle(name)
    for measure, md in data["measures"].items():
        es = md["escalc"]
        if "yi" not in es:
            continue
        y, v = np.array(es["yi"], float), np.array(es["vi"], float)
        for method, by_test in md["fits"].items():
            for test, fit in by_test.items():
                if analysis in fit:
                    yield measure, method, test, fit[analysis], y, v, data["input"]


@pytest.mark.parametrize("analysis", ["leave1out", "cumul"])
@pytest.mark.parametrize("name", NAMES)
def test_matches_metafor(name: str, analysis: str) -> None:
    problems: list[str] = []
    checked = 0
    for measure, method, test, entry, y, v, inputs in _entries(name, analysis):
        where = f"{name} {measure} {method} {test} {analysis}"
        if "skipped" in entry:
            continue
        if "error" in entry:
            try:
                FUNCS[analysis](y, v, method, test)
                problems.append(f"{where}: metafor refuses ({entry['error']}) but litmeta did not")
            except MetaError:
                checked += 1
            continue
        iterative = method in ITERATIVE
        res = FUNCS[analysis](y, v, method, test, **(METAFOR_CONTROL if iterative else {}))
        tol = 1e-4 if iterative else 1e-6
        for okey, col in KEYS.items():
            if okey not in entry:
                continue
            got = res.column(col)
            for i, want in enumerate(entry[okey]):
                if not _close(_num(want), float(got[i]), tol):
                    problems.append(f"{where} {okey}[{i}]: metafor {want} litmeta {got[i]}")
        if "estimate_back" in entry:
            back = res.back_transformed(measure, total=inputs.get("ni"), person_time=inputs.get("ti"))
            for okey, col in (("estimate_back", "estimate"), ("ci.lb_back", "ci_low"), ("ci.ub_back", "ci_high")):
                for i, want in enumerate(entry[okey]):
                    if not _close(_num(want), float(back[col][i]), tol):
                        problems.append(f"{where} {okey}[{i}]: metafor {want} litmeta {back[col][i]}")
        if analysis == "cumul" and "order" in entry:
            assert [i + 1 for i in res.order] == entry["order"]
        checked += 1
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:25])
    assert checked, f"{name}: no {analysis} entries were checked"


@pytest.mark.parametrize("name", NAMES)
def test_converged_last_cumulative_row_is_the_tight_full_fit(name: str) -> None:
    """The converged (default) refits: the final cumulative step is the full model, which the
    oracle holds converged (``tight``) — compared at 1e-6 for every iterative fit."""
    problems = []
    for measure, method, test, entry, y, v, _ in _entries(name, "cumul"):
        if method not in ITERATIVE or "error" in entry or "skipped" in entry or y.size > 30:
            continue   # k > 30: the k refits add runtime, not coverage
        tight = _oracle(name)["measures"][measure]["fits"][method][test]["tight"]
        last = cumulative(y, v, method, test).fits[-1]
        for okey, attr in (("estimate", "estimate"), ("se", "se"), ("ci.lb", "ci_low"),
                           ("ci.ub", "ci_high"), ("tau2", "tau2"), ("I2", "i2"), ("H2", "h2")):
            if not _close(_num(tight[okey]), float(getattr(last, attr)), 1e-6):
                problems.append(f"{measure} {method} {test} {okey}: tight {tight[okey]} litmeta {getattr(last, attr)}")
    assert not problems, "\n".join(problems[:25])


# ----------------------------------------------------------------------------- behaviour
Y = np.array([0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 1.40])
V = np.array([0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.06])


def test_leave_one_out_rows_are_fits_without_that_study() -> None:
    res = leave_one_out(Y, V, "REML", "knha", study=list("abcdefg"))
    for i in range(Y.size):
        ref = rma(np.delete(Y, i), np.delete(V, i), "REML", "knha")
        assert res.estimate[i] == pytest.approx(ref.estimate, abs=1e-12)
        assert res.ci_high[i] == pytest.approx(ref.ci_high, abs=1e-12)
        assert res.tau2[i] == pytest.approx(ref.tau2, abs=1e-12)
    frame = res.to_frame()
    assert list(frame["omitted"]) == list("abcdefg")
    assert (frame["k"] == Y.size - 1).all()
    assert res.to_dict()["omitted"][6] == "g"
    assert "Leave-one-out" in res.summary() and "g" in res.summary()


def test_cumulative_follows_the_given_order() -> None:
    order = np.array([6, 0, 5, 1, 2, 4, 3])
    res = cumulative(Y, V, "DL", study=list("abcdefg"), order=order)
    assert list(res.to_frame()["added"]) == ["g", "a", "f", "b", "c", "e", "d"]
    assert res.estimate[0] == pytest.approx(Y[6])           # one study: its own value
    full = rma(Y, V, "DL")
    assert res.estimate[-1] == pytest.approx(full.estimate, abs=1e-12)
    assert res.q[-1] == pytest.approx(full.q, abs=1e-12)
    assert res.estimate[2] == pytest.approx(rma(Y[[6, 0, 5]], V[[6, 0, 5]], "DL").estimate)


@pytest.mark.parametrize("bad", [[0, 1, 2], [0, 1, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5, 9]])
def test_cumulative_refuses_an_order_that_is_not_a_permutation(bad) -> None:
    with pytest.raises(MetaError, match="permutation"):
        cumulative(Y, V, order=bad)


def test_refusals_are_clear() -> None:
    with pytest.raises(MetaError, match="k = 1"):
        leave_one_out([0.2], [0.1])
    with pytest.raises(MetaError, match="row 2"):
        leave_one_out([0.2, 0.3], [0.1, -0.1])
    with pytest.raises(MetaError, match="row 3"):
        cumulative([0.2, 0.3, float("nan")], [0.1, 0.1, 0.1])
    with pytest.raises(MetaError, match="labels"):
        leave_one_out(Y, V, study=["only", "two"])


# ------------------------------------------------------------------- influence identities
def test_influence_identities_for_the_common_effect_model() -> None:
    """With fixed weights w = 1/v everything has a closed form, computed here independently."""
    inf = influence(Y, V, "EE", "z")
    w = 1.0 / V
    est = np.sum(w * Y) / w.sum()
    hat = w / w.sum()
    w_del = w.sum() - w
    est_del = (np.sum(w * Y) - w * Y) / w_del
    assert inf.hat.sum() == pytest.approx(1.0)
    assert np.allclose(inf.hat, hat)
    assert np.allclose(inf.weight, 100 * hat)
    # deleting study i moves the estimate by hat/(1-hat) times its residual
    assert np.allclose(est - est_del, hat / (1 - hat) * (Y - est))
    assert np.allclose(inf.rstudent, (Y - est_del) / np.sqrt(V + 1.0 / w_del))
    assert np.allclose(inf.cook_d, (est - est_del) ** 2 * w.sum())
    assert np.allclose(inf.cov_r, 1.0 / (1.0 - hat))
    assert np.allclose(inf.dffits, (est - est_del) / np.sqrt(hat * V))
    assert np.allclose(inf.dfbetas, (est - est_del) * np.sqrt(w.sum()))
    assert np.allclose(inf.tau2_del, 0.0)
    q_del = [np.sum(np.delete(w, i) * (np.delete(Y, i) - est_del[i]) ** 2) for i in range(Y.size)]
    assert np.allclose(inf.qe_del, q_del)


@pytest.mark.parametrize("method,test", [("REML", "z"), ("DL", "z"), ("PM", "knha")])
def test_influence_random_effects_from_leave_one_out(method: str, test: str) -> None:
    """rstudent is the standardized deleted residual and Cook's distance the squared change in
    the estimate over its variance (metafor's definitions for p = 1)."""
    inf = influence(Y, V, method, test, study=list("abcdefg"))
    loo = leave_one_out(Y, V, method, test)
    full = rma(Y, V, method, test)
    w = 1.0 / (V + full.tau2)
    assert inf.hat.sum() == pytest.approx(1.0)
    assert np.allclose(inf.hat, w / w.sum())
    assert np.allclose(inf.rstudent, (Y - loo.estimate) / np.sqrt(V + loo.se ** 2 + loo.tau2))
    assert np.allclose(inf.cook_d, (full.estimate - loo.estimate) ** 2 / full.se ** 2)
    assert np.allclose(inf.cov_r, loo.se ** 2 / full.se ** 2)
    assert np.allclose(inf.tau2_del, loo.tau2)
    assert np.allclose(inf.qe_del, loo.q)
    s2w = np.array([1.0 if f.s2w is None else f.s2w for f in loo.fits])
    assert np.allclose(inf.dffits, (full.estimate - loo.estimate)
                       / np.sqrt(s2w * inf.hat * (loo.tau2 + V)))
    var_all = np.array([1.0 / np.sum(1.0 / (V + t2)) for t2 in loo.tau2])
    assert np.allclose(inf.dfbetas, (full.estimate - loo.estimate) / np.sqrt(s2w * var_all))
    frame = inf.to_frame()
    assert list(frame.columns[:3]) == ["study", "rstudent", "dffits"]
    assert len(inf.to_dict()["cook.d"]) == Y.size
    assert "Influence" in inf.summary()


def test_influence_flags_the_outlier() -> None:
    inf = influence(Y, V, "REML")
    assert inf.influential[6]                     # 1.40 lies far from the rest
    assert np.argmax(np.abs(inf.rstudent)) == 6
    assert not inf.influential[[0, 1, 2]].any()
