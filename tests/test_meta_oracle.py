"""meta/ against metafor: every data set and entry of ../shared/oracle (Contract 3 tolerances).

Closed-form estimators (EE DL HE HS SJ) match metafor's output to 1e-6; iterative ones (ML REML
EB PM) match the converged ``tight`` refit to 1e-6 and metafor's default output to 1e-4; Q-profile
limits match ``confint_tight`` to 1e-6 and ``confint`` to 1e-4. Entries with no ``tight`` version
(subgroups) are compared with litmeta run under metafor's own default control
(``METAFOR_CONTROL``: threshold 1e-5, R's uniroot), which reproduces its stopping points.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import meta
from meta.effects import back_transform, escalc
from meta.errors import MetaError
from meta.estimators import METAFOR_CONTROL
from meta.model import interval_on_scales, rma, tau2_confint

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ORACLE = SHARED / "oracle"
CLOSED = ("EE", "DL", "HE", "HS", "SJ")
Z975 = 1.959963984540054

pytestmark = pytest.mark.skipif(not (ORACLE / "expected").is_dir(),
                                reason="../shared/oracle is absent (shared reference data not mounted)")


def _names() -> list[str]:
    return sorted(p.stem for p in (ORACLE / "expected").glob("*.json")) if (ORACLE / "expected").is_dir() else []


@lru_cache(maxsize=None)
def oracle(name: str) -> dict:
    return json.loads((ORACLE / "expected" / f"{name}.json").read_text())


def _cases(kind: str) -> list:
    out = []
    for name in _names():
        d = oracle(name)
        for measure, md in d["measures"].items():
            if kind == "escalc":
                out.append(pytest.param(name, measure, id=f"{name}-{measure}"))
                continue
            for method, tests in md["fits"].items():
                for test, r in tests.items():
                    if kind == "subgroup" and "subgroup" not in r:
                        continue
                    out.append(pytest.param(name, measure, method, test, id=f"{name}-{measure}-{method}-{test}"))
    return out


def num(x):
    """Oracle value → float (None = NA → nan; "Inf" strings → inf)."""
    if x is None:
        return math.nan
    if isinstance(x, str):
        return float(x.replace("Inf", "inf"))
    return float(x)


def close(ours, theirs, tol: float, what: str) -> None:
    """|a - b| <= tol, relative to |b| when |b| > 1; NA/Inf must agree exactly."""
    a = np.atleast_1d(np.asarray([math.nan if x is None else x for x in np.atleast_1d(ours)], dtype=float))
    b = np.atleast_1d(np.asarray([num(x) for x in np.atleast_1d(theirs)], dtype=float))
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs {b.shape}"
    assert np.array_equal(np.isnan(a), np.isnan(b)), f"{what}: NA mismatch {a} vs {b}"
    fin = np.isfinite(b)
    assert np.array_equal(a[~fin & ~np.isnan(b)], b[~fin & ~np.isnan(b)]), f"{what}: Inf mismatch {a} vs {b}"
    err = np.abs(a[fin] - b[fin]) / np.maximum(1.0, np.abs(b[fin]))
    assert err.size == 0 or err.max() <= tol, f"{what}: max error {err.max():.3g} > {tol:g}: {a} vs {b}"


def frame(name: str) -> pd.DataFrame:
    return pd.DataFrame(oracle(name)["input"])


def effects(name: str, measure: str):
    inp = oracle(name)["input"]
    return escalc(measure, events=inp.get("xi"), total=inp.get("ni"), person_time=inp.get("ti"), yi=inp.get("yi"),
                  vi=inp.get("vi"), study=inp.get("study"))


# ----------------------------------------------------------------------------- escalc

@pytest.mark.parametrize("name,measure", _cases("escalc"))
def test_escalc_per_study(name, measure):
    es = oracle(name)["measures"][measure]["escalc"]
    e = effects(name, measure)
    sei = np.sqrt(e.vi)
    lo, hi = e.yi - Z975 * sei, e.yi + Z975 * sei
    kw = {"total": e.total, "person_time": e.person_time, "per_study": True}
    ours = {"yi": e.yi, "vi": e.vi, "sei": sei, "ci.lb": lo, "ci.ub": hi,
            "yi_back": back_transform(measure, e.yi, **kw), "ci.lb_back": back_transform(measure, lo, **kw),
            "ci.ub_back": back_transform(measure, hi, **kw)}
    for key, val in ours.items():
        if key in es:
            close(val, es[key], 1e-9, key)


def test_zero_cells_are_reported():
    """Only the studies with a zero (or full) cell get 1/2, and only for PR PLN PLO IR IRLN."""
    inp = oracle("edge_onezero_prop")["input"]
    xi, ni = np.asarray(inp["xi"]), np.asarray(inp["ni"])
    expect = [int(i) for i in np.flatnonzero((xi == 0) | (xi == ni))]
    assert expect, "data set should contain a zero cell"
    assert escalc("PLO", events=xi, total=ni).added == expect
    assert escalc("PFT", events=xi, total=ni).added == []


# ----------------------------------------------------------------------------- model fits

FIT_KEYS = {"estimate": "estimate", "se": "se", "zval": "stat", "pval": "p", "ci.lb": "ci_low", "ci.ub": "ci_high",
            "tau2": "tau2", "se.tau2": "se_tau2", "tau": "tau", "I2": "i2", "H2": "h2", "QE": "q", "QEp": "q_p",
            "QEdf": "q_df", "weights": "weights", "vt": "vt", "tval": "stat", "df": "df", "s2w": "s2w"}


def _check_fit(res, ref: dict, tol: float, where: str) -> None:
    fit = res.fit
    assert fit.test == ref["test"], f"{where}: test {fit.test} vs {ref['test']}"
    if "control" not in ref:   # tight entries carry no warnings
        assert fit.warnings == ref.get("warnings", []), f"{where}: warnings"
    for key, attr in FIT_KEYS.items():
        if key in ref:
            close(getattr(fit, attr), ref[key], tol, f"{where} {key}")
    pi = ref.get("pred", ref)
    close([fit.pi_low, fit.pi_high], [pi.get("pi.lb"), pi.get("pi.ub")], tol, f"{where} PI")
    if "pred_back" in ref:
        pb = ref["pred_back"]
        close([res.back[k] for k in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")],
              [pb["pred"], pb["ci.lb"], pb["ci.ub"], pb["pi.lb"], pb["pi.ub"]], tol, f"{where} pred_back")


@pytest.mark.parametrize("name,measure,method,test", _cases("fit"))
def test_fit(name, measure, method, test):
    """Closed forms: metafor's output to 1e-6. Iterative: the converged (tight) refit to 1e-6, and
    metafor's default output to 1e-4 when litmeta is run with metafor's default control."""
    ref = oracle(name)["measures"][measure]["fits"][method][test]
    m = None if measure == "GEN" else measure
    res = meta.pool(frame(name), measure=m, method=method, test=test)
    if method in CLOSED:
        _check_fit(res, ref, 1e-6, "default")
    else:
        _check_fit(res, ref["tight"], 1e-6, "tight")
        loose = meta.pool(frame(name), measure=m, method=method, test=test, **METAFOR_CONTROL)
        _check_fit(loose, ref, 1e-4, "metafor default")
    d = res.to_dict()
    assert [s["weight"] for s in d["studies"]] == pytest.approx(list(res.fit.weights))
    close([d["estimate"], d["ci_low"], d["ci_high"], d["q"]], [res.fit.estimate, res.fit.ci_low, res.fit.ci_high,
                                                                ref["QE"]], 1e-6, "to_dict")


@pytest.mark.parametrize("name,measure,method,test",
                         [c for c in _cases("fit") if c.values[2] != "EE" and c.values[3] == "z"])
def test_tau2_confint(name, measure, method, test):
    ref = oracle(name)["measures"][measure]["fits"][method][test]
    e = effects(name, measure)
    fit = rma(e.yi, e.vi, method, test)
    if "error" in ref["confint_tight"]:
        with pytest.raises(MetaError):
            tau2_confint(e.yi, e.vi, method, tau2=fit.tau2)
        assert meta.pool(frame(name), measure=None if measure == "GEN" else measure,
                         method=method).to_dict()["tau2_ci_low"] is None
        return
    tight = tau2_confint(e.yi, e.vi, method, tau2=fit.tau2)
    loose_fit = rma(e.yi, e.vi, method, test, **METAFOR_CONTROL)
    loose = tau2_confint(e.yi, e.vi, method, tau2=loose_fit.tau2, tol=METAFOR_CONTROL["tol"], root="zeroin")
    for entry, ci, vt, tol in (("confint_tight", tight, fit.vt, 1e-6), ("confint", loose, loose_fit.vt, 1e-4)):
        c = ref[entry]
        scales = interval_on_scales(*ci, vt)
        for s in ("tau2", "tau", "I2", "H2"):
            close(scales[s], [c[s]["ci.lb"], c[s]["ci.ub"]], tol, f"{entry} {s}")
        assert (ci.lb_sign, ci.ub_sign) == (c["lb.sign"], c["ub.sign"])
    close(list(tight), [ref["confint"]["tau2"]["ci.lb"], ref["confint"]["tau2"]["ci.ub"]], 1e-4,
          "converged tau² limits vs metafor default")


# ----------------------------------------------------------------------------- subgroups

@pytest.mark.parametrize("name,measure,method,test", _cases("subgroup"))
def test_subgroups(name, measure, method, test):
    sg = oracle(name)["measures"][measure]["fits"][method][test]["subgroup"]
    res = meta.pool(frame(name), measure=None if measure == "GEN" else measure, method=method, test=test,
                    group="group", **METAFOR_CONTROL)
    sub = res.subgroup_models
    assert sub.levels == sg["levels"]
    for lv, ref in sg["separate"].items():
        _check_fit(res.subgroups[lv], ref, 1e-6, f"separate {lv}")
    b = sg["between"]
    close([res.between["q"], res.between["df"], res.between["p"]], [b["Q"], b["df"], b["p"]], 1e-6, "between")
    assert res.between["groups"] == b["groups"]
    m = sg["mods"]
    f = sub.mods
    assert f.coef_names == m["coef_names"] and list(f.qm_df) == [x for x in m["QMdf"]]
    for key, val in {"QM": f.qm, "QMp": f.qm_p, "tau2": f.tau2, "se.tau2": f.se_tau2, "I2": f.i2, "H2": f.h2,
                     "R2": f.r2, "QE": f.qe, "QEp": f.qe_p, "QEdf": f.qe_df, "coef": f.coef, "se": f.se}.items():
        close(val, m[key], 1e-6, f"mods {key}")
    n = sg["mods_noint"]
    g = sub.mods_noint
    for key, val in {"estimate": g.coef, "se": g.se, "zval": g.stat, "pval": g.pval, "ci.lb": g.ci_low,
                     "ci.ub": g.ci_high, "tau2": g.tau2, "QM": g.qm, "QMp": g.qm_p}.items():
        close(val, n[key], 1e-6, f"mods_noint {key}")
    if "estimate_back" in n:
        for key, ours in (("estimate_back", "estimate"), ("ci.lb_back", "ci_low"), ("ci.ub_back", "ci_high")):
            close([sub.mods_noint_back[lv][ours] for lv in sub.levels], n[key], 1e-6, f"mods_noint {key}")


@pytest.mark.parametrize("name", [n for n in _names() if "group" in oracle(n)["input"]])
def test_subgroups_converged_close_to_metafor_default(name):
    """With litmeta's own (converged) control the subgroup fits stay within 1e-4 of metafor's output."""
    d = oracle(name)
    measure = next(iter(d["measures"]))
    ref = d["measures"][measure]["fits"]["REML"]["z"]["subgroup"]
    res = meta.pool(frame(name), measure=None if measure == "GEN" else measure, group="group")
    for lv, r in ref["separate"].items():
        close([res.subgroups[lv].fit.estimate, res.subgroups[lv].fit.se, res.subgroups[lv].fit.tau2],
              [r["estimate"], r["se"], r["tau2"]], 1e-4, f"separate {lv}")
