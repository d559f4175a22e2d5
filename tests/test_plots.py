"""Forest and funnel plots, checked through their artists (not pixels)."""
from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

import meta
from meta.plots import PlotStyle, display_scale, forest, funnel


def _props(k: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    total = rng.integers(8, 120, size=k)
    events = rng.binomial(total, rng.uniform(0.3, 0.9, size=k))
    return pd.DataFrame({"study": [f"Study {i + 1}" for i in range(k)], "events": events, "total": total})


def _by_gid(fig, gid):
    return [a for a in fig.findobj() if getattr(a, "get_gid", lambda: None)() == gid]


def test_forest_rows_diamond_and_weights_match_the_result():
    res = meta.pool(_props(7))
    fig = forest(res)
    assert len(_by_gid(fig, "study-square")) == res.k
    (diamond,) = _by_gid(fig, "pooled-diamond")
    xs = diamond.get_xy()[:, 0]
    # the axis is spaced on the logit scale: the diamond's vertices are the fitted CI itself
    assert min(xs) == pytest.approx(res.fit.ci_low, abs=1e-9)
    assert max(xs) == pytest.approx(res.fit.ci_high, abs=1e-9)
    assert xs[1] == pytest.approx(res.fit.estimate, abs=1e-9)
    printed = [t.get_text() for t in _by_gid(fig, "weight")]
    assert printed == [f"{w:.1f}%" for w in res.to_frame()["weight"]]
    (pi,) = _by_gid(fig, "prediction-interval")
    lo, hi = pi.get_xdata()
    assert lo == pytest.approx(max(res.fit.pi_low, fig.axes[1].get_xlim()[0]))
    assert hi == pytest.approx(min(res.fit.pi_high, fig.axes[1].get_xlim()[1]))


def test_rate_forest_on_log_scale_per_100():
    data = pd.DataFrame({"study": list("abcd"), "events": [3, 10, 4, 12], "person_time": [1000, 2500, 800, 3000]})
    res = meta.pool(data)
    fig = forest(res, time_unit="months")
    (diamond,) = _by_gid(fig, "pooled-diamond")
    # positions are log(rate per 100): the fitted log-rate CI shifted by log(100)
    assert min(diamond.get_xy()[:, 0]) == pytest.approx(res.fit.ci_low + np.log(100))
    assert max(diamond.get_xy()[:, 0]) == pytest.approx(res.fit.ci_high + np.log(100))
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    assert "Events per 100 person-months" in texts and "Person-time" in texts


def test_subgroup_blocks_have_their_own_diamonds_and_the_difference_test():
    data = _props(8).assign(group=["A"] * 4 + ["B"] * 4)
    res = meta.pool(data, group="group")
    fig = forest(res)
    assert len(_by_gid(fig, "subgroup-diamond")) == 2
    assert len(_by_gid(fig, "pooled-diamond")) == 1
    texts = " ".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))
    assert "Test for subgroup differences" in texts and f"Q = {res.between['q']:.2f}" in texts


def test_wide_intervals_get_arrows():
    data = pd.DataFrame({"study": ["big1", "big2", "big3", "tiny"], "events": [50, 55, 60, 1], "total": [100, 100, 100, 2]})
    fig = forest(meta.pool(data))
    assert _by_gid(fig, "arrow")


@pytest.mark.parametrize("k", [1, 2, 30, 100])
def test_any_k_renders_without_overlapping_text(k):
    data = _props(k, seed=k)
    data.loc[0, "study"] = "A study label far too long to fit in the column of study names at all"
    fig = forest(meta.pool(data))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.findobj(lambda a: hasattr(a, "get_text"))
             if getattr(t, "get_text", lambda: "")() and t.get_visible() and t.axes is not None]
    shrink = [b.shrunk(0.98, 0.9) for b in boxes]
    overlaps = [(a, b) for a, b in itertools.combinations(shrink, 2) if a.overlaps(b)]
    assert not overlaps
    assert len(_by_gid(fig, "study-square")) + len(_by_gid(fig, "arrow")) >= 1


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_formats(fmt):
    buf = io.BytesIO()
    forest(meta.pool(_props(5))).savefig(buf, format=fmt)
    assert buf.tell() > 1000


def test_style_override():
    fig = forest(meta.pool(_props(3)), style=PlotStyle(font_size=12), diamond_color="#00ff00")
    (diamond,) = _by_gid(fig, "pooled-diamond")
    assert tuple(np.round(diamond.get_facecolor()[:3], 3)) == (0.0, 1.0, 0.0)
    sizes = {t.get_fontsize() for t in _by_gid(fig, "weight")}
    assert sizes == {12}


def test_percent_axis_ticks_are_distinct_and_ordered():
    scale = display_scale("PLO")
    pos, labels = scale.ticks(float(np.log(0.02 / 0.98)), float(np.log(0.98 / 0.02)))
    assert pos == sorted(pos) and len(labels) == len(set(labels)) >= 3


def test_funnel_contours_egger_and_trim_and_fill():
    from meta.bias import trim_and_fill

    data = _props(15, seed=3)
    res = meta.pool(data)
    fig = funnel(res, enhanced=True)
    pts = _by_gid(fig, "study-point")[0]
    assert len(pts.get_offsets()) == res.k
    assert len(_by_gid(fig, "pseudo-ci")) == 2
    assert _by_gid(fig, "egger-line")
    tf = trim_and_fill(res.effects.yi, res.effects.vi, method="REML")
    filled = _by_gid(fig, "filled-point")
    assert (len(filled[0].get_offsets()) if filled else 0) == tf.k0
    assert _by_gid(fig, "contour-0.05")
