"""Forest and funnel plots a guideline panel can publish (matplotlib).

The forest plot follows the layout reviewers know from RevMan and R's ``meta``: columns
Study | Events | Total (or Person-time) | the plot | Estimate [95% CI] | Weight, squares sized
by weight, the pooled diamond, the prediction interval as a bar, and lines for heterogeneity
and the model. The axis is labelled on the natural scale (percent; events per 100 or 1000
person-units) but spaced on the analysis scale (logit, log, arcsine) where that is the
measure, so that the diamond's vertices *are* the pooled CI of the fitted model.

Artists that tests and users may want to find carry a ``gid``: ``study-square``,
``study-ci``, ``pooled-diamond``, ``subgroup-diamond``, ``prediction-interval``,
``weight`` (texts), ``arrow``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np

from .effects import measure_kind


@dataclass(frozen=True)
class PlotStyle:
    """What a user may override: ``forest(result, style=PlotStyle(font_size=10))`` or ``forest(result, font_size=10)``."""

    font_family: str = "DejaVu Sans"
    font_size: float = 8.5
    square_color: str = "#1f3b73"
    whisker_color: str = "#222222"
    diamond_color: str = "#b2182b"
    subgroup_diamond_color: str = "#6b6b6b"
    pi_color: str = "#b2182b"
    reference_color: str = "#9a9a9a"
    row_height: float = 0.24  # inches per row
    width: float = 10.0  # inches
    label_chars: int = 34
    max_square: float = 110.0  # marker area (pt²) of the heaviest study


MEASURE_LABELS = {
    "PR": "raw proportions", "PLN": "log-transformed proportions", "PLO": "logit-transformed proportions",
    "PAS": "arcsine-transformed proportions", "PFT": "Freeman-Tukey double-arcsine proportions",
    "IR": "raw incidence rates", "IRLN": "log-transformed incidence rates",
    "IRS": "square-root-transformed incidence rates", "IRFT": "Freeman-Tukey transformed incidence rates",
    "GEN": "effect sizes as given",
}


# --- scales ----------------------------------------------------------------------------------


@dataclass
class DisplayScale:
    """Natural values → displayed numbers (× multiplier) → axis positions (the analysis scale)."""

    kind: str
    multiplier: float
    label: str
    unit: str
    position: Callable[[np.ndarray], np.ndarray]
    candidates: Sequence[float] | None  # tick candidates in displayed units (None: linear locator)

    def pos(self, natural) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.position(np.asarray(natural, dtype=float) * self.multiplier)

    def ticks(self, lo: float, hi: float) -> tuple[list[float], list[str]]:
        """Tick positions and labels between axis positions lo and hi."""
        if self.candidates is None:
            from matplotlib.ticker import MaxNLocator

            vals = [v for v in MaxNLocator(nbins=5).tick_values(lo, hi) if lo - 1e-12 <= v <= hi + 1e-12]
            return vals, [_tick_label(v) for v in vals]
        cand = np.asarray(self.candidates, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            pos = self.position(cand)
        keep = (pos >= lo - 1e-9) & (pos <= hi + 1e-9) & np.isfinite(pos)
        vals, pos = cand[keep], pos[keep]
        # keep the roundest values first, then any other at least a sixth of the axis away from all
        # kept ones, so labels never collide whatever the scale's curvature
        rank = sorted(range(len(vals)), key=lambda i: _roundness(float(vals[i])))
        chosen: list[int] = []
        for i in rank:
            if all(abs(pos[i] - pos[j]) >= (hi - lo) / 6.5 for j in chosen):
                chosen.append(int(i))
        chosen.sort(key=lambda i: pos[i])
        return [float(pos[i]) for i in chosen], [_tick_label(vals[i]) for i in chosen]


def _roundness(v: float) -> tuple:
    """Sort key: 50, then multiples of 10 (near the middle first), then 1-2-5 values, then the rest."""
    if v == 50:
        return (0, 0.0)
    if v >= 1 and v % 10 == 0:
        return (1, abs(v - 50))
    mant = v / 10 ** math.floor(math.log10(v)) if v > 0 else v
    return (2 if round(mant, 6) in (1.0, 5.0) else 3, -v)


def _tick_label(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1:
        return f"{v:g}"
    return f"{v:.2g}"


_PERCENT_TICKS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 98, 99, 99.5, 99.8, 99.9]
_LOG_TICKS = [m * 10.0 ** e for e in range(-4, 5) for m in (1, 2, 5)]


def display_scale(measure: str, pooled_natural: float | None = None, time_unit: str = "") -> DisplayScale:
    """How ``measure`` is shown: proportions in percent, rates per 100 or 1000 person-units."""
    kind = measure_kind(measure)
    ident = lambda d: d  # noqa: E731
    if kind == "proportion":
        pos = {
            "PLO": lambda d: np.log(d / (100 - d)),
            "PLN": lambda d: np.log(d / 100),
            "PAS": lambda d: np.arcsin(np.sqrt(np.clip(d / 100, 0, 1))),
        }.get(measure, ident)
        cand = _PERCENT_TICKS if measure in ("PLO", "PLN") else [0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100] if measure == "PAS" else None
        return DisplayScale(kind, 100.0, "Proportion (%)", "%", pos, cand)
    if kind == "rate":
        mult = 100.0
        if pooled_natural is not None and pooled_natural > 0 and pooled_natural * 100 < 0.1:
            mult = 1000.0
        unit = f"person-{time_unit}" if time_unit else "person-time units"
        pos = {"IRLN": np.log, "IRS": lambda d: np.sqrt(np.clip(d, 0, None))}.get(measure, ident)
        cand = _LOG_TICKS if measure == "IRLN" else None
        return DisplayScale(kind, mult, f"Events per {mult:g} {unit}", "", pos, cand)
    return DisplayScale(kind, 1.0, "Effect size", "", ident, None)


# --- forest ----------------------------------------------------------------------------------


def forest(result, *, style: PlotStyle | None = None, sort: str | None = None, order: Sequence[str] | None = None,
           years: dict[str, int] | None = None, title: str | None = None, xlim: tuple[float, float] | None = None,
           time_unit: str = "", **style_overrides: Any):
    """Forest plot of a :class:`meta.results.MetaResult` (with subgroup blocks when it has them).

    ``sort``: ``estimate``, ``weight`` or ``year`` (needs ``years``: study → year); ``order``: an
    explicit list of study labels. ``xlim``: axis limits in displayed units (percent, per 100 …).
    """
    import matplotlib

    matplotlib.use(matplotlib.get_backend())  # respect MPLBACKEND; pyplot is never needed
    from matplotlib.figure import Figure

    st = replace(style or PlotStyle(), **style_overrides)
    frame = result.to_frame()
    scale = display_scale(result.measure, result.back.get("estimate"), time_unit)
    weights = dict(zip(frame["study"], frame["weight"]))
    has_sub = bool(result.subgroups)

    rows: list[dict] = []
    if has_sub:
        for name, sub in result.subgroups.items():
            rows.append({"type": "group", "label": str(name)})
            sub_frame = sub.to_frame()
            rows += _study_rows(_sorted(sub_frame, sort, order, years, weights), weights)
            rows.append({"type": "pooled", "label": f"Subtotal (k = {sub.k})", "result": sub, "sub": True})
            rows.append({"type": "text", "label": _het_text(sub)})
            rows.append({"type": "blank"})
    else:
        rows += _study_rows(_sorted(frame, sort, order, years, weights), weights)
        rows.append({"type": "blank"})
    rows.append({"type": "pooled", "label": "Random-effects model" if result.method != "EE" else "Common-effect model",
                 "result": result, "sub": False})
    if result.fit.pi_low is not None and result.method != "EE" and not _nan(result.back.get("pi_low")):
        rows.append({"type": "pi", "label": "Prediction interval", "result": result})
    rows.append({"type": "text", "label": _het_text(result)})
    if has_sub and result.between is not None:
        b = result.between
        rows.append({"type": "text", "label": f"Test for subgroup differences: Q = {b['q']:.2f}, df = {int(b['df'])}, "
                                               f"p {_p(b['p'])}"})
    rows.append({"type": "text", "label": _model_text(result)})

    n = len(rows) + 1  # + header row
    height = max(2.2, (n + 2.5) * st.row_height)
    rc = {"font.family": st.font_family, "font.size": st.font_size, "svg.fonttype": "none", "pdf.fonttype": 42}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(st.width, height))
        gs = fig.add_gridspec(1, 3, width_ratios=[3.9, 3.6, 2.5], wspace=0.02,
                              left=0.02, right=0.98, top=1 - 0.35 / height - (0.15 / height if title else 0),
                              bottom=0.75 / height)
        ax_l, ax_p, ax_r = (fig.add_subplot(gs[0, i]) for i in range(3))
        for ax in (ax_l, ax_p, ax_r):
            ax.set_ylim(n - 0.5, -0.7)
        for ax in (ax_l, ax_r):
            ax.set_xlim(0, 1)
            ax.axis("off")
        for ax in (ax_p, ax_r):  # footer lines start in the left panel and run across the others
            ax.patch.set_visible(False)

        count_label = "Person-time" if scale.kind == "rate" else "Total"
        has_counts = "events" in frame.columns
        bold = {"fontweight": "bold"}
        ax_l.text(0, 0, "Study", va="center", **bold)
        if has_counts:
            ax_l.text(0.70, 0, "Events", va="center", ha="right", **bold)
            ax_l.text(0.97, 0, count_label, va="center", ha="right", **bold)
        ax_r.text(0.70, 0, f"Estimate [{result.level:g}% CI]", va="center", ha="right", **bold)
        ax_r.text(0.98, 0, "Weight", va="center", ha="right", **bold)

        positions = _axis_positions(rows, scale)
        lo, hi = _xlim(positions, scale, xlim)
        ax_p.set_xlim(lo, hi)
        for side in ("left", "right", "top"):
            ax_p.spines[side].set_visible(False)
        ax_p.set_yticks([])
        tick_pos, tick_lab = scale.ticks(lo, hi)
        ax_p.set_xticks(tick_pos, tick_lab)
        ax_p.set_xlabel(scale.label)

        pooled_pos = positions["pooled"]
        if pooled_pos is not None:
            ax_p.axvline(pooled_pos[1], color=st.reference_color, linestyle=(0, (2, 2)), linewidth=0.8, zorder=0)

        wmax = max([w for w in weights.values() if not _nan(w)] or [1.0])
        for i, row in enumerate(rows, start=1):
            kind = row["type"]
            if kind == "group":
                ax_l.text(0, i, row["label"], va="center", fontweight="bold", fontstyle="italic")
            elif kind == "study":
                ax_l.text(0, i, _truncate(row["label"], st.label_chars), va="center")
                if has_counts:
                    ax_l.text(0.70, i, _count(row.get("events")), va="center", ha="right")
                    ax_l.text(0.97, i, _count(row.get("size")), va="center", ha="right")
                e, l_, h = scale.pos([row["est"], row["lo"], row["hi"]])
                _whisker(ax_p, i, l_, h, lo, hi, st)
                w = row["weight"]
                area = st.max_square * (w / wmax if not _nan(w) and wmax > 0 else 0.3)
                if lo <= e <= hi:
                    ax_p.scatter([e], [i], s=max(area, 6.0), marker="s", color=st.square_color, zorder=3,
                                 gid="study-square", linewidths=0)
                ax_r.text(0.70, i, _interval(row["est"], row["lo"], row["hi"], scale), va="center", ha="right")
                ax_r.text(0.98, i, "" if _nan(w) else f"{w:.1f}%", va="center", ha="right", gid="weight")
            elif kind == "pooled":
                res = row["result"]
                b = res.back
                color = st.subgroup_diamond_color if row["sub"] else st.diamond_color
                ax_l.text(0, i, row["label"], va="center", fontweight="bold")
                if has_counts and not row["sub"]:
                    fr = res.to_frame()
                    ax_l.text(0.70, i, _count(fr["events"].sum()), va="center", ha="right", fontweight="bold")
                    size_col = "person_time" if scale.kind == "rate" else "total"
                    ax_l.text(0.97, i, _count(fr[size_col].sum()), va="center", ha="right", fontweight="bold")
                e, l_, h = scale.pos([b["estimate"], b["ci_low"], b["ci_high"]])
                _diamond(ax_p, i, l_, e, h, color, "subgroup-diamond" if row["sub"] else "pooled-diamond")
                ax_r.text(0.70, i, _interval(b["estimate"], b["ci_low"], b["ci_high"], scale), va="center",
                          ha="right", fontweight="bold")
                total_w = sum(weights.get(s, 0.0) for s in res.effects.study)
                ax_r.text(0.98, i, f"{total_w:.1f}%", va="center", ha="right", fontweight="bold")
            elif kind == "pi":
                b = row["result"].back
                l_, h = scale.pos([b["pi_low"], b["pi_high"]])
                ax_l.text(0, i, row["label"], va="center", fontstyle="italic")
                ax_p.plot([max(l_, lo), min(h, hi)], [i, i], color=st.pi_color, linewidth=2.2,
                          solid_capstyle="butt", gid="prediction-interval")
                ax_r.text(0.70, i, "[" + _interval(None, b["pi_low"], b["pi_high"], scale).strip("[]") + "]",
                          va="center", ha="right", fontstyle="italic")
            elif kind == "text":
                ax_l.text(0, i, row["label"], va="center", fontsize=st.font_size - 0.5, clip_on=False)
        if title:
            fig.suptitle(title, x=0.02, ha="left", fontweight="bold", fontsize=st.font_size + 2,
                         y=1 - 0.12 / height)
    fig.litmeta_rows = rows  # the layout, for callers that annotate the figure
    return fig


def _study_rows(frame, weights: dict) -> list[dict]:
    size_col = "person_time" if "person_time" in frame.columns else "total" if "total" in frame.columns else None
    out = []
    for r in frame.to_dict("records"):
        out.append({"type": "study", "label": str(r["study"]), "events": r.get("events"),
                    "size": r.get(size_col) if size_col else None,
                    "est": r["est_back"], "lo": r["ci_low_back"], "hi": r["ci_high_back"],
                    "weight": weights.get(r["study"], float("nan"))})
    return out


def _sorted(frame, sort, order, years, weights):
    if order is not None:
        rank = {s: i for i, s in enumerate(order)}
        return frame.assign(_k=[rank.get(s, len(rank)) for s in frame["study"]]).sort_values("_k", kind="stable")
    if sort == "estimate":
        return frame.sort_values("yi", kind="stable")
    if sort == "weight":
        return frame.assign(_k=[-weights.get(s, 0.0) for s in frame["study"]]).sort_values("_k", kind="stable")
    if sort == "year":
        years = years or {}
        return frame.assign(_k=[years.get(s, 9999) for s in frame["study"]]).sort_values("_k", kind="stable")
    if sort not in (None, "none"):
        raise ValueError(f"unknown sort {sort!r} (use estimate, year or weight)")
    return frame


def _axis_positions(rows: list[dict], scale: DisplayScale) -> dict:
    studies = []
    for r in rows:
        if r["type"] == "study":
            studies.append(scale.pos([r["est"], r["lo"], r["hi"]]))
    pooled = next((r for r in rows if r["type"] == "pooled" and not r.get("sub")), None)
    pooled_pos = None
    if pooled is not None:
        b = pooled["result"].back
        pooled_pos = scale.pos([b["ci_low"], b["estimate"], b["ci_high"]])
    pi = next((r for r in rows if r["type"] == "pi"), None)
    pi_pos = scale.pos([pi["result"].back["pi_low"], pi["result"].back["pi_high"]]) if pi else None
    subs = [scale.pos([r["result"].back["ci_low"], r["result"].back["ci_high"]]) for r in rows
            if r["type"] == "pooled" and r.get("sub")]
    return {"studies": studies, "pooled": pooled_pos, "pi": pi_pos, "subs": subs}


def _xlim(positions: dict, scale: DisplayScale, user: tuple[float, float] | None) -> tuple[float, float]:
    """Axis limits: all intervals where that reads well; very wide CIs are cut (and get arrows)."""
    if user is not None:
        lo, hi = scale.position(np.asarray(user, dtype=float))
        return float(lo), float(hi)
    ests = [p[0] for p in positions["studies"]]
    core = [v for v in ests if np.isfinite(v)]
    wide = [v for p in positions["studies"] for v in p[1:] if np.isfinite(v)]
    for key in ("pooled", "pi"):
        if positions[key] is not None:
            core += [v for v in positions[key] if np.isfinite(v)]
    for p in positions["subs"]:
        core += [v for v in p if np.isfinite(v)]
    if not core:
        return -1.0, 1.0
    c_lo, c_hi = min(core), max(core)
    span = max(c_hi - c_lo, 1e-6)
    lo = min(wide + core) if wide else c_lo
    hi = max(wide + core) if wide else c_hi
    lo, hi = max(lo, c_lo - 1.5 * span), min(hi, c_hi + 1.5 * span)
    pad = 0.04 * (hi - lo)
    return lo - pad, hi + pad


def _whisker(ax, y, lo_x, hi_x, x_min, x_max, st: PlotStyle) -> None:
    a, b = max(lo_x, x_min), min(hi_x, x_max)
    if not (np.isfinite(a) and np.isfinite(b)) or b < a:
        return
    ax.plot([a, b], [y, y], color=st.whisker_color, linewidth=0.9, zorder=2, gid="study-ci")
    if lo_x < x_min:
        ax.plot([x_min], [y], marker="<", color=st.whisker_color, markersize=4, zorder=3, gid="arrow")
    if hi_x > x_max:
        ax.plot([x_max], [y], marker=">", color=st.whisker_color, markersize=4, zorder=3, gid="arrow")


def _diamond(ax, y, lo_x, est_x, hi_x, color, gid) -> None:
    from matplotlib.patches import Polygon

    h = 0.32
    poly = Polygon([[lo_x, y], [est_x, y - h], [hi_x, y], [est_x, y + h]], closed=True, facecolor=color,
                   edgecolor=color, zorder=4, gid=gid)
    ax.add_patch(poly)


def _interval(est, lo, hi, scale: DisplayScale) -> str:
    m = scale.multiplier
    digits = _digits([v * m for v in (est, lo, hi) if v is not None and not _nan(v)])
    f = lambda v: "NA" if v is None or _nan(v) else f"{v * m:.{digits}f}"  # noqa: E731
    body = f"[{f(lo)}, {f(hi)}]"
    return body if est is None else f"{f(est)} {body}"


def _digits(values: list[float]) -> int:
    if not values:
        return 1
    small = min(abs(v) for v in values if v != 0) if any(v != 0 for v in values) else 1.0
    return 1 if small >= 1 else 2 if small >= 0.1 else 3


def _count(v) -> str:
    if v is None or _nan(v):
        return ""
    v = float(v)
    return f"{v:,.0f}" if v == int(v) else f"{v:,.1f}"


def _truncate(label: str, n: int) -> str:
    return label if len(label) <= n else label[: n - 1].rstrip() + "…"


def _nan(v) -> bool:
    try:
        return v is None or math.isnan(float(v))
    except (TypeError, ValueError):
        return True


def _p(p) -> str:
    if _nan(p):
        return "= NA"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}" if p < 0.1 else f"= {p:.2f}"


def _het_text(result) -> str:
    d = result.to_dict()
    if d["k"] < 2:
        return "Heterogeneity: not applicable (k = 1)"
    i2 = "NA" if d["i2"] is None else f"{d['i2']:.0f}%"
    tau2 = "NA" if d["tau2"] is None else f"{d['tau2']:.4g}"
    q = "NA" if d["q"] is None else f"{d['q']:.2f}"
    return f"Heterogeneity: I² = {i2}, τ² = {tau2}, Q = {q} (df = {d['q_df']}), p {_p(d['q_p'])}"


def _model_text(result) -> str:
    model = "Common-effect model" if result.method == "EE" else f"Random-effects model ({result.method})"
    test = "Hartung-Knapp t-test" if result.test == "knha" else "z-test"
    measure = MEASURE_LABELS.get(result.measure, result.measure)
    return f"{model}, {test}; {measure} ({result.measure})"


def _funnel_xlim(yi, sei, est, se_max, filled) -> tuple[float, float]:
    xs = list(yi) + [est - 2.2 * se_max, est + 2.2 * se_max] + (list(filled[0]) if filled is not None else [])
    lo, hi = min(xs), max(xs)
    pad = 0.04 * (hi - lo)
    return lo - pad, hi + pad


# --- funnel ----------------------------------------------------------------------------------


def funnel(result, *, contours: bool = True, enhanced: bool = False, egger: bool = True, trimfill: bool = True,
           style: PlotStyle | None = None, **style_overrides: Any):
    """Funnel plot on the analysis scale: pseudo 95% limits around the pooled estimate,
    optional contour-enhanced shading (p < .10/.05/.01 around 0), Egger's line, and
    trim-and-fill's imputed studies as open markers."""
    import matplotlib
    from matplotlib.figure import Figure
    from scipy import stats

    st = replace(style or PlotStyle(), **style_overrides)
    yi, vi = np.asarray(result.effects.yi, float), np.asarray(result.effects.vi, float)
    sei = np.sqrt(vi)
    est = float(result.fit.estimate)
    filled = None
    notes = []
    if trimfill and result.k >= 3:
        from meta.bias import trim_and_fill

        try:
            tf = trim_and_fill(yi, vi, method=result.method if result.method != "GLMM" else "REML")
            if tf.k0 > 0:
                filled = (np.asarray(tf.filled_yi, float), np.sqrt(np.asarray(tf.filled_vi, float)))
        except ValueError as exc:
            notes.append(f"trim-and-fill: {exc}")
    line = None
    if egger and result.k >= 3:
        from meta.bias import egger_test

        try:
            eg = egger_test(yi, vi, model="rma", method=result.method if result.method != "GLMM" else "REML")
            line = (eg.est, eg.slope, eg.p)
        except ValueError as exc:
            notes.append(f"Egger: {exc}")

    rc = {"font.family": st.font_family, "font.size": st.font_size, "svg.fonttype": "none", "pdf.fonttype": 42}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(6.0, 5.6), layout="constrained")
        ax = fig.add_subplot(1, 1, 1)
        se_max = float(max(sei.max(), filled[1].max() if filled is not None else 0.0)) * 1.08
        se_grid = np.linspace(0, se_max, 100)
        if enhanced:  # Peters' contour-enhanced funnel: bands where a study would be significant at p < .10/.05/.01
            from matplotlib.patches import Patch

            bands = [(0.01, "#bdbdbd", "0.01 < p < 0.05"), (0.05, "#e3e3e3", "0.05 < p < 0.10"), (0.10, "white", None)]
            for level_p, color, label in bands:  # widest first; each narrower band paints over the middle
                z = stats.norm.ppf(1 - level_p / 2)
                ax.fill_betweenx(se_grid, -z * se_grid, z * se_grid, color=color, zorder=0, gid=f"contour-{level_p}")
            shade_handles = [Patch(facecolor=c, edgecolor="#999999", label=lab) for _, c, lab in bands if lab]
            ax.axvline(0, color=st.reference_color, linewidth=0.6, zorder=1)
        if contours:
            z = stats.norm.ppf(0.975)
            ax.plot(est - z * se_grid, se_grid, color=st.reference_color, linestyle="--", linewidth=0.9, gid="pseudo-ci")
            ax.plot(est + z * se_grid, se_grid, color=st.reference_color, linestyle="--", linewidth=0.9, gid="pseudo-ci")
        ax.axvline(est, color=st.diamond_color, linewidth=1.0, gid="pooled-line")
        ax.scatter(yi, sei, s=28, color=st.square_color, zorder=3, gid="study-point", label="studies")
        ax.set_xlim(*_funnel_xlim(yi, sei, est, se_max, filled))
        if filled is not None:
            ax.scatter(filled[0], filled[1], s=28, facecolors="white", edgecolors=st.square_color, zorder=3,
                       gid="filled-point", label=f"imputed by trim-and-fill ({len(filled[0])})")
        if line is not None:
            b0, b1, p = line
            ax.plot(b0 + b1 * se_grid, se_grid, color="#e08214", linewidth=1.2, gid="egger-line",
                    label=f"Egger's regression (p {_p(p)})")
        ax.set_ylim(se_max, 0)
        ax.set_ylabel("Standard error")
        ax.set_xlabel(MEASURE_LABELS.get(result.measure, result.measure).capitalize() + f" ({result.measure})")
        for side in ("right", "top"):
            ax.spines[side].set_visible(False)
        handles, _ = ax.get_legend_handles_labels()
        if enhanced:
            handles += shade_handles
        if filled is not None or line is not None or enhanced:
            ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False,
                      fontsize=st.font_size - 1)
        for k, note in enumerate(notes):
            ax.text(0.01, 0.01 + 0.04 * k, note, transform=ax.transAxes, fontsize=st.font_size - 1.5, color="#666666")
    return fig
