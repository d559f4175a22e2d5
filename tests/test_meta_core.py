"""meta/ core behaviour beyond the oracle: bad input, result shapes, batch = loop, invariances."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import meta
from meta import pool, pool_many
from meta.effects import back_transform, escalc
from meta.errors import MetaError
from meta.estimators import METHODS, boundary_if_higher, tau2
from meta.model import rma, tau2_confint
from meta.regression import loglik_mods, rma_mods, tau2_mods

CONTRACT_KEYS = ["k", "measure", "method", "test", "estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "stat",
                 "p", "tau2", "tau2_ci_low", "tau2_ci_high", "tau", "i2", "h2", "q", "q_df", "q_p", "back", "studies"]


def props() -> pd.DataFrame:
    return pd.DataFrame({"study": ["a", "b", "c", "d"], "events": [3, 10, 0, 7], "total": [20, 40, 15, 30],
                         "group": ["x", "x", "y", "y"]})


def rates() -> pd.DataFrame:
    return pd.DataFrame({"study": ["a", "b", "c"], "events": [4, 9, 2], "person_time": [100.0, 150.0, 80.0]})


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("col,value,needle", [
    ("events", None, "row 2 (b): events is missing"),
    ("events", "abc", "row 2 (b): events 'abc' is not a number"),
    ("events", -1, "row 2 (b): events -1 is negative"),
    ("events", 41, "row 2 (b): events 41 exceed total 40"),
    ("events", 2.5, "row 2 (b): events 2.5 is not a whole number"),
    ("total", 0, "row 2 (b): total 0 must be > 0"),
])
def test_bad_proportion_rows_name_the_row(col, value, needle):
    d = props().astype(object)
    d.loc[1, col] = value
    with pytest.raises(MetaError) as err:
        pool(d)
    assert needle in str(err.value)


def test_zero_person_time_is_refused():
    d = rates()
    d.loc[2, "person_time"] = 0
    with pytest.raises(MetaError, match=r"row 3 \(c\): person_time 0 must be > 0"):
        pool(d)


@pytest.mark.parametrize("vi,needle", [(0.0, "vi 0 must be > 0"), (-0.1, "vi -0.1 must be > 0"),
                                       (float("nan"), "vi is missing")])
def test_bad_vi(vi, needle):
    d = pd.DataFrame({"yi": [0.1, 0.2, 0.3], "vi": [0.01, vi, 0.02]})
    with pytest.raises(MetaError, match=needle):
        pool(d, measure=None)


def test_no_rows_and_wrong_columns():
    with pytest.raises(MetaError, match="no studies"):
        pool(props().iloc[:0])
    with pytest.raises(MetaError, match="events,total"):
        pool(pd.DataFrame({"x": [1]}))
    with pytest.raises(MetaError, match="yi and vi"):
        pool(props(), measure=None)


def test_measure_follows_the_data_unless_explicit():
    assert pool(rates()).measure == "IRLN"              # default adapts to rate data
    assert pool(pd.DataFrame({"yi": [0.1, 0.3], "vi": [0.1, 0.2]})).measure == "GEN"
    with pytest.raises(MetaError, match="use IR, IRLN, IRS or IRFT"):
        pool(rates(), measure="PLO")                     # explicit mismatch is refused
    with pytest.raises(MetaError, match="use PR, PLN, PLO, PAS or PFT"):
        pool(props(), measure="IRLN")
    with pytest.raises(MetaError, match="unknown measure"):
        pool(props(), measure="OR")


def test_unknown_method_test_level_and_group():
    with pytest.raises(MetaError, match="unknown method"):
        pool(props(), method="XYZ")
    with pytest.raises(MetaError, match="unknown test"):
        pool(props(), test="f")
    with pytest.raises(MetaError, match="level"):
        pool(props(), level=120)
    with pytest.raises(MetaError, match="no column 'arm'"):
        pool(props(), group="arm")
    d = props().astype(object)
    d.loc[0, "group"] = None
    with pytest.raises(MetaError, match=r"row 1 \(a\): group is missing"):
        pool(d, group="group")


def test_errors_are_value_errors():
    assert issubclass(MetaError, ValueError)


def test_confint_refused_for_one_study():
    with pytest.raises(MetaError, match="k = 1"):
        tau2_confint([0.2], [0.1], "REML")
    d = pool(pd.DataFrame({"yi": [0.2], "vi": [0.1]}), measure=None, test="knha").to_dict()
    assert d["tau2_ci_low"] is None and d["test"] == "z" and d["k"] == 1


# ----------------------------------------------------------------------------- result shapes

def test_to_dict_has_contract_keys_and_is_strict_json():
    r = pool(props(), group="group")
    d = r.to_dict()
    assert list(d)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert set(d) == set(CONTRACT_KEYS) | {"subgroups", "between"}
    assert set(d["back"]) == {"estimate", "ci_low", "ci_high", "pi_low", "pi_high"}
    assert set(d["subgroups"]) == {"x", "y"} and set(d["between"]) == {"q", "df", "p"}
    assert sum(s["weight"] for s in d["studies"]) == pytest.approx(100.0)
    json.dumps(d, allow_nan=False)
    assert "subgroups" not in pool(props()).to_dict()


def test_identical_studies_knha_gives_infinite_statistic_not_nan():
    d = pool(pd.DataFrame({"events": [5] * 4, "total": [20] * 4}), test="knha").to_dict()
    assert d["se"] == 0 and d["stat"] == "-Inf" and d["p"] == 0
    json.dumps(d, allow_nan=False)


def test_back_transform_of_plo_is_a_proportion():
    r = pool(props())
    b = r.back
    assert 0 < b["ci_low"] < b["estimate"] < b["ci_high"] < 1
    assert b["estimate"] == pytest.approx(1 / (1 + np.exp(-r.fit.estimate)))


def test_to_frame_columns_and_zero_cell_note():
    r = pool(props())
    f = r.to_frame()
    assert list(f.columns) == ["study", "events", "total", "yi", "vi", "sei", "ci_low", "ci_high", "weight",
                               "est_back", "ci_low_back", "ci_high_back"]
    assert f["est_back"].iloc[0] == pytest.approx(3 / 20)
    assert r.effects.added == [2]
    assert "added 1/2" in r.summary() and "c" in r.effects.note()
    fr = pool(rates()).to_frame()
    assert "person_time" in fr.columns and "total" not in fr.columns


def test_summary_mentions_model_and_subgroup_test():
    s = pool(props(), method="DL", group="group").summary()
    assert "DL" in s and "Test for subgroup differences" in s and "I²" in s


SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def test_summary_lines_under_knha_match_metafor_numbers():
    """Golden lines for a fixed data set (the oracle's heterogeneous generic set, DL + knha):
    metafor's numbers, formatted as the summary promises (t with its df, 'p < .0001')."""
    data = SHARED / "oracle" / "data" / "edge_hetero_generic.csv"
    if not data.exists():
        pytest.skip("../shared (oracle data) is not present")
    ref = json.loads((SHARED / "oracle" / "expected" / "edge_hetero_generic.json").read_text())
    ref = ref["measures"]["GEN"]["fits"]["DL"]["knha"]
    lines = pool(pd.read_csv(data), measure=None, method="DL", test="knha").summary().splitlines()
    assert ref["QEp"] < 1e-4 and ref["df"] == 5
    assert lines[2] == f"Q(5) = {ref['QE']:.4f}, p < .0001"
    assert lines[4] == (f"estimate = {ref['estimate']:.4f}, se = {ref['se']:.4f}, t(5) = {ref['tval']:.3f}, "
                        f"p = {ref['pval']:.4f}, 95% CI [{ref['ci.lb']:.4f}, {ref['ci.ub']:.4f}]")


def test_summary_p_values_read_as_phrases():
    d = pd.DataFrame({"study": list("abcdef"), "yi": [0.1, 0.5, 0.9, -0.2, 1.4, 0.3],
                      "vi": [0.02, 0.05, 0.04, 0.03, 0.08, 0.06], "group": list("xxxyyy")})
    r = pool(d, measure=None, method="DL", group="group")
    text = r.summary()
    assert "<.0001" not in text.replace("p < .0001", "")
    assert text.splitlines()[2].endswith(", p < .0001") and text.splitlines()[2].startswith("Q(5) = ")
    assert f"z = {r.fit.stat:.3f}, p = {r.fit.p:.4f}," in text
    assert text.splitlines()[-1] == (f"  Test for subgroup differences: Q(1) = {r.between['q']:.4f}, "
                                     f"p = {r.between['p']:.4f}")


def test_ee_has_no_prediction_interval():
    d = pool(props(), method="EE").to_dict()
    assert d["pi_low"] is None and d["back"]["pi_low"] is None and d["tau2_ci_low"] is None


def test_pft_pooled_back_transform_uses_harmonic_mean():
    d = props()
    r = pool(d, measure="PFT")
    n_hm = 1 / np.mean(1 / d["total"])
    assert r.back["estimate"] == pytest.approx(float(back_transform("PFT", r.fit.estimate, total=n_hm)))


def test_plot_delegates_to_meta_plots(monkeypatch):
    import sys
    import types

    fake = types.ModuleType("meta.plots")
    fake.forest = lambda res, **kw: ("forest", res.k, kw)
    monkeypatch.setitem(sys.modules, "meta.plots", fake)
    assert pool(props()).plot(title="t") == ("forest", 4, {"title": "t"})


# ----------------------------------------------------------------------------- estimators

def test_non_convergence_is_reported():
    y = np.array([0.1, 0.9, -0.4, 1.3, 0.2])
    v = np.array([0.05, 0.2, 0.1, 0.3, 0.02])
    res = tau2(y, v, "REML", maxiter=1, threshold=1e-15)
    assert not res.converged
    assert tau2(y, v, "REML").converged


@pytest.mark.parametrize("method", METHODS)
def test_k1_fixes_tau2_at_zero(method):
    f = rma([0.3], [0.04], method, "knha")
    assert f.tau2 == 0 and f.test == "z" and f.q_p == 1 and f.i2 == 0 and f.h2 == 1
    assert f.warnings == ['Setting argument test="z" since k=1.']


def test_meta_regression_takes_the_boundary_when_it_beats_a_local_maximum():
    """ML with a two-level moderator (a small data set found by search): the likelihood has a local
    maximum near tau² = 0.08, where Fisher scoring from the HE start stops, and a higher one at 0."""
    y = np.array([-0.16, 1.04, 0.54, 0.13])
    v = np.array([0.012, 0.226, 0.356, 0.396])
    X = np.column_stack([np.ones(4), [0, 0, 1, 1]])
    grid = np.linspace(0.0, 2.0, 2001)
    ll = np.array([loglik_mods(y, v, X, t, "ML") for t in grid])
    inner = 20 + int(np.argmax(ll[20:]))                    # best tau² >= 0.02
    assert 0.05 < grid[inner] < 0.12 and ll[inner] > ll[inner - 1] and ll[inner] > ll[inner + 1]   # local max
    assert ll[0] > ll[inner]                                                                       # beaten by 0
    t, se, conv = tau2_mods(y, v, X, "ML")
    assert conv and t == 0.0 and se == pytest.approx(np.sqrt(2.0 / np.sum(1.0 / v**2)))
    assert rma_mods(y, v, X, method="ML").tau2 == 0.0


def test_boundary_rule_helper():
    ll = {0.0: -1.0, 0.3: -2.0, 0.5: 0.0}.__getitem__
    assert boundary_if_higher(0.3, ll) == 0.0            # 0 is higher: take it
    assert boundary_if_higher(0.5, ll) == 0.5            # the stop is higher: keep it
    assert boundary_if_higher(0.3, ll, floor=0.4) == 0.3  # at or below the floor: nothing to compare


# ----------------------------------------------------------------------------- batch

def _ragged(seed: int, n: int = 200, width: int = 9):
    rng = np.random.default_rng(seed)
    ks = rng.integers(1, width + 1, n)
    y = np.full((n, width), np.nan)
    v = np.full((n, width), np.nan)
    for i, k in enumerate(ks):
        v[i, :k] = rng.uniform(0.01, 0.5, k)
        y[i, :k] = rng.normal(0, np.sqrt(v[i, :k] + rng.choice([0.0, 0.05, 0.5])))
    y[0, :3], v[0, :3] = 0.4, 0.1                       # identical studies
    y[0, 3:], v[0, 3:] = np.nan, np.nan
    return y, v, np.where(np.arange(n) == 0, 3, ks)


FIELDS = ["estimate", "se", "stat", "p", "ci_low", "ci_high", "tau2", "se_tau2", "i2", "h2", "q", "q_p", "pi_low",
          "pi_high"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("test", ["z", "knha"])
def test_pool_many_equals_loop(method, test):
    y, v, ks = _ragged(7)
    b = pool_many(y, v, method=method, test=test)
    for i in range(len(ks)):
        f = rma(y[i, : ks[i]], v[i, : ks[i]], method, test)
        assert b.converged[i] == f.converged and b.k[i] == f.k
        if not f.converged:
            continue
        ours = np.array([np.nan if getattr(f, a) is None else getattr(f, a) for a in FIELDS], dtype=float)
        batch = np.array([getattr(b, a)[i] for a in FIELDS], dtype=float)
        np.testing.assert_allclose(batch, ours, rtol=1e-8, atol=1e-9, err_msg=f"row {i}")
        np.testing.assert_allclose(b.weights[i, : ks[i]], f.weights, rtol=1e-8)


@pytest.mark.parametrize("method", ["ML", "REML", "EB"])
def test_pool_many_settles_rows_that_stay_at_zero_before_iterating(method, monkeypatch):
    """Rows that start at tau² = 0 with a score there that is not positive are settled from the
    fixed-effect sums, before the full-size passes: they must end where single fits end, after one
    step, and must not be in the working set of the first pass. The other rows starting at 0
    (score positive) must still iterate to the single fit's root."""
    import meta.batch as mb

    first_pass = []
    iterate = mb._iterate

    def spy(r, active, *a, **kw):
        first_pass.append(active.copy())
        return iterate(r, active, *a, **kw)

    monkeypatch.setattr(mb, "_iterate", spy)
    rng = np.random.default_rng(3)
    v = rng.uniform(0.01, 0.5, (400, 8))
    y = rng.normal(0.0, np.sqrt(v + np.where(np.arange(400)[:, None] % 2 == 0, 0.0, 0.3)))  # half homogeneous
    b = pool_many(y, v, method=method)
    settled = ~first_pass[0]
    assert settled.sum() >= 400 / 16                   # enough rows for the settling path to run
    assert (b.tau2[settled] == 0.0).all() and (b.iterations[settled] == 1).all() and b.converged[settled].all()
    he = mb._he(mb._Rows(np.ascontiguousarray(y.T), np.ascontiguousarray(v.T), None))
    assert (first_pass[0] & (he <= 0)).any()           # some rows start at 0 and still iterate (score > 0)
    for i in range(len(y)):
        f = rma(y[i], v[i], method)
        assert b.converged[i] == f.converged, f"row {i}"
        np.testing.assert_allclose([b.tau2[i], b.estimate[i]], [f.tau2, f.estimate], rtol=1e-8, atol=1e-10,
                                   err_msg=f"row {i}")


@pytest.mark.parametrize("method", ["ML", "REML"])
def test_pool_many_boundary_check_on_wide_rows_matches_single_fits(method):
    """Wide rows with tau² far above the vi: the product behind the boundary check leaves the float
    range there, and the batch must still agree with single fits (and take the boundary alike)."""
    rng = np.random.default_rng(11)
    v = rng.uniform(0.001, 0.01, (6, 400))
    y = rng.normal(0.0, np.sqrt(v + rng.choice([0.0, 5.0], (6, 1))))
    b = pool_many(y, v, method=method)
    assert np.isfinite(b.tau2).all() and (b.tau2 > 1.0).any()
    for i in range(len(y)):
        f = rma(y[i], v[i], method)
        assert b.converged[i] == f.converged
        np.testing.assert_allclose([b.tau2[i], b.estimate[i], b.se_tau2[i]], [f.tau2, f.estimate, f.se_tau2],
                                   rtol=1e-8, atol=1e-12, err_msg=f"row {i}")


def test_pool_many_bad_input():
    with pytest.raises(MetaError, match="row 2: no studies"):
        pool_many([[0.1, 0.2], [np.nan, np.nan]], [[0.1, 0.1], [np.nan, np.nan]])
    with pytest.raises(MetaError, match="row 1, column 2: vi -1 must be > 0"):
        pool_many([[0.1, 0.2]], [[0.1, -1]])
    with pytest.raises(MetaError, match="both be given"):
        pool_many([[0.1, 0.2]], [[0.1, np.nan]])
    assert len(meta.pool_many([[0.1, 0.2]], [[0.1, 0.2]]).to_frame()) == 1


def test_pool_many_flags_a_row_metafor_refuses_instead_of_failing():
    y = np.array([[0.0, 400.0, -400.0], [0.1, 0.3, 0.2]])
    v = np.full((2, 3), 0.01)
    with pytest.raises(MetaError, match="tau2_max"):
        rma(y[0], v[0], "PM")
    b = pool_many(y, v, method="PM")
    assert not b.converged[0] and np.isnan(b.tau2[0])
    assert b.converged[1] and b.tau2[1] == pytest.approx(rma(y[1], v[1], "PM").tau2)


# ----------------------------------------------------------------------------- properties

studies = st.lists(st.tuples(st.floats(-3, 3), st.floats(0.01, 2.0)), min_size=2, max_size=12)


@settings(max_examples=40, deadline=None)
@given(studies, st.sampled_from(METHODS), st.randoms(use_true_random=False))
def test_pooled_estimate_is_permutation_invariant(rows, method, rnd):
    y, v = map(np.array, zip(*rows))
    order = list(range(len(y)))
    rnd.shuffle(order)
    a, b = rma(y, v, method), rma(y[order], v[order], method)
    if a.converged and b.converged:
        assert b.estimate == pytest.approx(a.estimate, rel=1e-7, abs=1e-9)
        assert b.tau2 == pytest.approx(a.tau2, rel=1e-7, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(studies, st.sampled_from(METHODS), st.floats(-5, 5))
def test_shifting_all_effects_shifts_the_estimate_only(rows, method, c):
    y, v = map(np.array, zip(*rows))
    a, b = rma(y, v, method), rma(y + c, v, method)
    if a.converged and b.converged:
        assert b.estimate == pytest.approx(a.estimate + c, abs=1e-7)
        assert b.tau2 == pytest.approx(a.tau2, rel=1e-6, abs=1e-9)
        assert b.q == pytest.approx(a.q, rel=1e-7, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(1, 50)), min_size=1, max_size=8),
       st.sampled_from(["PR", "PLN", "PLO", "PAS", "PFT"]))
def test_back_transform_inverts_escalc(pairs, measure):
    ev = [min(a, b) for a, b in pairs]
    tot = [b for _, b in pairs]
    e = escalc(measure, events=ev, total=tot)
    p = back_transform(measure, e.yi, total=e.total, per_study=True)
    n_adj = np.array(tot) + np.isin(np.arange(len(ev)), e.added)
    x_adj = np.array(ev) + 0.5 * np.isin(np.arange(len(ev)), e.added)
    np.testing.assert_allclose(p, x_adj / n_adj if measure in ("PR", "PLN", "PLO") else np.array(ev) / np.array(tot),
                               atol=1e-9)


@pytest.mark.parametrize("method", ["ML", "REML", "EB"])
def test_pool_many_score_derivatives_match_central_differences(method):
    """The batch's Newton steps rest on analytic derivatives of the score numerator N and of the
    information D: each must agree with central differences of the function."""
    from meta.batch import _score_numerator, _score_parts, _Scratch

    rng = np.random.default_rng(5)
    v = rng.uniform(0.01, 0.5, (6, 8))
    y = rng.normal(0.0, np.sqrt(v + 0.1))
    cols = [np.ascontiguousarray(a.T) for a in (y, v)]
    same, kk, h = np.zeros(6, dtype=bool), np.full(6, 8.0), 1e-5

    def parts(t):
        return [np.copy(x) for x in _score_parts(*cols, same, kk, np.full(6, t), method, _Scratch(4))]

    for t in (0.02, 0.3):
        n, _, dn, dd = parts(t)
        up, down = parts(t + h), parts(t - h)
        np.testing.assert_allclose((up[0] - down[0]) / (2 * h), dn, rtol=1e-6)
        np.testing.assert_allclose((up[1] - down[1]) / (2 * h), dd, rtol=1e-6)
        # the numerator alone (the sweeps' function) is the same N
        np.testing.assert_allclose(_score_numerator(*cols, same, kk, np.full(6, t), method), n, rtol=1e-12)


def test_scoring_verdict_shortcut_agrees_with_counting_steps():
    """``converged`` for ML/REML/EB says whether scoring would stop within maxiter steps:
    1 + log(stop/first)/log(rho) of them. The batch skips the logs where rho <= 1/2 makes the
    answer plain; on rates from 1e-9 to near 1, steps from tiny to huge and several maxiter and
    thresholds, the verdicts must be the counted ones row for row."""
    from meta.batch import _scoring_would_converge

    rng = np.random.default_rng(9)
    eps4 = 4 * np.finfo(float).eps
    seen = []
    for _ in range(60):
        n = 4000
        t = rng.exponential(rng.choice([1e-10, 1e-3, 1.0, 1e5]), n) * (rng.random(n) < 0.9)
        t0 = t * np.exp(rng.normal(0.0, rng.choice([0.01, 1.0, 8.0]), n)) * (rng.random(n) < 0.95)
        slope = -np.exp(rng.normal(rng.choice([-20.0, -3.0, 0.0, 1.0]), rng.choice([0.1, 1.0, 3.0]), n))
        slope *= rng.choice([1.0, -1.0], n)
        thr, maxiter = float(rng.choice([1e-12, 1e-5, 0.0])), int(rng.choice([1, 10, 100, 1000, 5000]))
        rho = np.abs(1.0 + slope)
        first, stop = np.abs(t0 - t) * np.abs(slope), np.maximum(thr, eps4 * t)
        with np.errstate(divide="ignore", invalid="ignore"):
            steps = np.where(first <= stop, 1.0, 1.0 + np.log(stop / first) / np.log(rho))
        want = (t <= thr) | (t == t0) | ((rho < 1.0) & (steps <= maxiter))
        got = _scoring_would_converge(t, t0, slope, thr, maxiter)
        assert (got == want).all(), f"thr {thr}, maxiter {maxiter}: {np.count_nonzero(got != want)} rows differ"
        decided = ~((t <= thr) | (t == t0)) & (first > stop)          # rows the count decides
        seen += [np.count_nonzero(decided & ~want), np.count_nonzero(decided & (rho <= 0.5) & want),
                 np.count_nonzero(decided & (rho > 0.5) & (rho < 1.0))]
    seen = np.array(seen)
    assert min(seen[0::3].sum(), seen[1::3].sum(), seen[2::3].sum()) > 100   # both verdicts, both paths


@pytest.mark.parametrize("method", ["ML", "REML", "EB"])
def test_pool_many_sweeps_reach_the_single_fit_root(method, monkeypatch):
    """Rows whose score creeps down to the boundary or up from it are settled by the sweeps
    (every halving or doubling point in one pass). Those rows must end where metafor's scoring,
    run alone, ends: same tau², same converged verdict. The sweeps must actually have run."""
    import meta.batch as mb

    calls = {"down": 0, "up": 0}
    down, up = mb._sweep_down, mb._sweep_up

    def count(kind, fn):
        def wrapped(*a, **kw):
            calls[kind] += 1
            return fn(*a, **kw)
        return wrapped

    monkeypatch.setattr(mb, "_sweep_down", count("down", down))
    monkeypatch.setattr(mb, "_sweep_up", count("up", up))
    rng = np.random.default_rng(20261122)          # the benchmark's generator: ~1/3 of rows end at 0
    v = rng.uniform(0.01, 0.5, (1500, 10))
    y = rng.normal(0.0, np.sqrt(v + 0.1))
    b = pool_many(y, v, method=method)
    assert calls["down"] > 0 and (calls["up"] > 0 or method != "ML")   # this seed has ML rows rising from 0
    for i in range(len(y)):
        f = rma(y[i], v[i], method)
        assert b.converged[i] == f.converged, f"row {i}"
        if f.converged:
            np.testing.assert_allclose([b.tau2[i], b.estimate[i]], [f.tau2, f.estimate], rtol=1e-8, atol=1e-10,
                                       err_msg=f"row {i}")


@pytest.mark.parametrize("method", ["ML", "REML", "EB"])
def test_pool_many_rows_sent_to_the_boundary_stay_there_without_another_pass(method, monkeypatch):
    """A row whose scoring aims below 0 from a tau² tiny against its vi goes to the boundary; its
    score at 0 is known from the fixed-effect sums, so where it is not positive the row is finished
    there, instead of being carried into one more pass at 0 only to learn that. Every row a later
    pass sees at tau² = 0 must therefore have a positive score there, some rows must have gone to 0
    this way, and every row must still end where its single fit ends."""
    import meta.batch as mb

    at_zero_later, sent_down = [], []
    iterate = mb._iterate

    def spy(r, active, step, *a, **kw):
        passes, finished = [0], set()              # finished rows ride along, frozen, until compaction

        def watched(y, v, same, kk, t, st):
            passes[0] += 1
            rows = st["row"]
            if passes[0] > 1:
                at_zero_later.extend(i for i in rows[t == 0.0].tolist() if i not in finished)
            cand = step(y, v, same, kk, t, st)
            finished.update(rows[st["done"] | (cand == t)].tolist())
            sent_down.extend(rows[(cand == 0.0) & (t > 0.0)].tolist())
            return cand

        return iterate(r, active, watched, *a, **kw)

    monkeypatch.setattr(mb, "_iterate", spy)
    rng = np.random.default_rng(20261122)
    v = rng.uniform(0.01, 0.5, (1500, 10))
    y = rng.normal(0.0, np.sqrt(v + 0.1))
    b = pool_many(y, v, method=method)
    assert sent_down                                   # the path ran
    for i in set(at_zero_later):
        n0 = mb._score_numerator(np.ascontiguousarray(y[i:i + 1].T), np.ascontiguousarray(v[i:i + 1].T),
                                 np.array([False]), np.array([10.0]), np.zeros(1), method)
        assert n0[0] > 0.0, f"row {i} was carried into a pass at 0 with score {n0[0]:g} there"
    for i in set(sent_down):
        f = rma(y[i], v[i], method)
        assert b.converged[i] == f.converged, f"row {i}"
        np.testing.assert_allclose([b.tau2[i], b.estimate[i]], [f.tau2, f.estimate], rtol=1e-8, atol=1e-10,
                                   err_msg=f"row {i}")


def test_pool_many_keeps_no_reference_to_its_work_memory():
    """pool_many reuses its work arrays between calls (and per thread): a result must not change
    when the next call runs, and concurrent calls in threads give the sequential answers."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(8)
    sets = []
    for _ in range(4):
        v = rng.uniform(0.01, 0.5, (300, 7))
        sets.append((rng.normal(0.0, np.sqrt(v + 0.2)), v))
    first = pool_many(*sets[0], method="REML")
    kept = {f: np.copy(getattr(first, f)) for f in FIELDS}
    weights = first.weights.copy()
    for y, v in sets[1:]:
        pool_many(y, v, method="REML")
    for f, a in kept.items():
        np.testing.assert_array_equal(getattr(first, f), a, err_msg=f)
    np.testing.assert_array_equal(first.weights, weights)
    alone = [pool_many(y, v, method="ML").tau2 for y, v in sets]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda s: pool_many(*s, method="ML").tau2, sets * 3))
    for i, t in enumerate(together):
        np.testing.assert_array_equal(t, alone[i % 4])


def test_chi2_tail_series_agrees_with_scipy():
    """The batch's chi-square tail (finite series for integer df) against scipy's chdtrc, including
    the df and x where it hands over to scipy."""
    from scipy import special

    from meta.batch import chi2_sf

    x = np.concatenate([[0.0, 1e-300, 1e-12], np.logspace(-8, np.log10(2500), 300)])
    for df in [*range(1, 70), 120, 500]:
        got = chi2_sf(np.full(x.size, df), x)
        want = special.chdtrc(df, x)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300, err_msg=f"df {df}")
    mixed = np.array([1, 9, 9, 2, 61, 9, 4])
    q = np.array([3.2, 8.0, 30.0, 0.1, 70.0, 1500.0, 4.0])
    np.testing.assert_allclose(chi2_sf(mixed, q), special.chdtrc(mixed, q), rtol=1e-12, atol=1e-300)
