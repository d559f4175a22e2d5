"""MetaResult: what ``pool()`` returns — the fit, its effects, back-transforms and subgroups.

Why an object: the CLI (``--json``), the terminal report and the plots all need the same numbers in
different shapes (``to_dict`` for Contract 2, ``to_frame`` per study, ``summary`` text, ``plot``),
and none of them should recompute anything.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from meta.effects import Effects, back_transform
from meta.errors import MetaError

INTERVAL_KEYS = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")


def clean(value: Any) -> Any:
    """A JSON-safe scalar: numpy → Python, NaN → None, ±inf → "Inf"/"-Inf" (the oracle's convention),
    so a NaN is never shown as a number."""
    if value is None:
        return None
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "Inf" if value > 0 else "-Inf"
    return value


@dataclass
class MetaResult:
    """A pooled analysis. ``fit`` is an :class:`meta.model.RmaFit` (or a GLMM fit), ``effects`` the
    per-study effect sizes, ``back`` the pooled interval on the natural scale."""

    fit: Any
    effects: Effects
    measure: str
    method: str
    test: str
    level: float
    tau2_ci: tuple[float, float] | None = None
    back: dict[str, float | None] = field(default_factory=dict)
    subgroups: dict[str, "MetaResult"] | None = None
    between: dict[str, float] | None = None
    subgroup_models: Any = None   # meta.subgroups.SubgroupAnalysis (meta-regressions, levels)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_effects(cls, effects: Effects, method: str = "REML", test: str = "z", level: float = 95.0,
                     **control) -> "MetaResult":
        """Fit one set of effects (no subgroups): the model, the Q-profile CI of tau², back-transforms.

        ``method="GLMM"`` fits ``rma.glmm`` on the counts (logit / log scale) via :mod:`meta.glmm`.
        """
        if str(method).upper() == "GLMM":
            return cls._from_glmm(effects, test, level)
        from meta.model import rma, tau2_confint

        fit = rma(effects.yi, effects.vi, method=method, test=test, level=level, **control)
        ci = None
        if fit.method != "EE" and fit.k > 1:
            root = control.get("root", "brentq")
            ci = tau2_confint(fit.yi, fit.vi, fit.method, level, tau2=fit.tau2, tol=control.get("tol"), root=root)
        res = cls(fit=fit, effects=effects, measure=effects.measure, method=fit.method, test=fit.test,
                  level=float(level), tau2_ci=ci, warnings=list(fit.warnings))
        if not fit.converged:
            res.warnings.append(f"the {fit.method} tau² search did not converge; results are not reliable")
        res.back = pooled_back(effects, {key: getattr(fit, key) for key in INTERVAL_KEYS})
        return res

    @classmethod
    def _from_glmm(cls, effects: Effects, test: str, level: float) -> "MetaResult":
        from meta.glmm import fit_glmm

        if effects.kind == "generic":
            raise MetaError("method GLMM needs counts (events with total or person_time), not yi/vi")
        kind = effects.kind
        size = effects.total if kind == "proportion" else effects.person_time
        t = "t" if str(test).lower() in ("knha", "t") else "z"
        fit = fit_glmm(effects.events, size, kind, method="ML", test=t, level=level, study=effects.study)
        res = cls(fit=fit, effects=effects, measure=effects.measure, method="GLMM",
                  test="knha" if fit.test == "t" else fit.test, level=float(level))
        if not fit.converged:
            res.warnings.append("the GLMM fit did not converge; results are not reliable")
        res.back = fit.back()
        return res

    @property
    def k(self) -> int:
        return int(self.fit.k)

    @property
    def is_glmm(self) -> bool:
        return self.method == "GLMM"

    # ------------------------------------------------------------------ shapes
    def to_dict(self) -> dict:
        """Contract 2 keys (``subgroups``/``between`` only when grouped); JSON-safe values."""
        f = self.fit
        glmm = self.is_glmm
        lo, hi = self.tau2_ci if self.tau2_ci is not None else (None, None)
        out = {
            "k": self.k,
            "measure": self.measure,
            "method": self.method,
            "test": self.test,
            "estimate": f.estimate,
            "se": f.se,
            "ci_low": f.ci_low,
            "ci_high": f.ci_high,
            "pi_low": f.pi_low,
            "pi_high": f.pi_high,
            "stat": f.stat,
            "p": f.p,
            "tau2": f.tau2,
            "tau2_ci_low": lo,
            "tau2_ci_high": hi,
            "tau": f.tau,
            "i2": f.i2,
            "h2": f.h2,
            "q": f.q_wald if glmm else f.q,
            "q_df": f.q_df,
            "q_p": f.q_wald_p if glmm else f.q_p,
        }
        out = {key: clean(val) for key, val in out.items()}
        out["back"] = {key: clean(self.back.get(key)) for key in INTERVAL_KEYS}
        weights = None if glmm else np.asarray(f.weights, dtype=float)
        out["studies"] = [
            {"study": s, "yi": clean(float(self.effects.yi[i])), "vi": clean(float(self.effects.vi[i])),
             "weight": None if weights is None else clean(float(weights[i]))}
            for i, s in enumerate(self.effects.study)
        ]
        if self.subgroups is not None:
            out["subgroups"] = {name: _without_nested(sub.to_dict()) for name, sub in self.subgroups.items()}
            out["between"] = None if self.between is None else {key: clean(self.between[key]) for key in ("q", "df", "p")}
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per study: counts given, yi, vi, sei, CI, weight (%), and the same back-transformed."""
        e = self.effects
        crit = float(stats.norm.ppf(0.5 + self.level / 200.0))
        sei = np.sqrt(e.vi)
        lo, hi = e.yi - crit * sei, e.yi + crit * sei
        cols: dict[str, Any] = {"study": list(e.study)}
        if e.events is not None:
            cols["events"] = e.events
        if e.total is not None:
            cols["total"] = e.total
        if e.person_time is not None:
            cols["person_time"] = e.person_time
        cols |= {"yi": e.yi, "vi": e.vi, "sei": sei, "ci_low": lo, "ci_high": hi,
                 "weight": (np.full(e.k, np.nan) if self.is_glmm else np.asarray(self.fit.weights, dtype=float))}
        kw = {"total": e.total, "person_time": e.person_time, "per_study": True}
        cols["est_back"] = back_transform(e.measure, e.yi, **kw)
        cols["ci_low_back"] = back_transform(e.measure, lo, **kw)
        cols["ci_high_back"] = back_transform(e.measure, hi, **kw)
        return pd.DataFrame(cols)

    def summary(self) -> str:
        """A plain-text report in the spirit of metafor's print method."""
        d = self.to_dict()
        lines = [_title(self), _fmt_het(d, self), "", _fmt_model(d, self)]
        if self.subgroups:
            lines += ["", "Subgroups (separate models):"]
            for name, sub in self.subgroups.items():
                s = sub.to_dict()
                lines.append(f"  {name}: k = {s['k']}, estimate = {_num(s['back']['estimate'])} "
                             f"[{_num(s['back']['ci_low'])}, {_num(s['back']['ci_high'])}], "
                             f"tau² = {_num(s['tau2'])}, I² = {_num(s['i2'], 1)}%")
            if self.between is not None:
                lines.append(f"  Test for subgroup differences: Q({self.between['df']}) = {_num(self.between['q'])}, "
                             f"{_p(self.between['p'])}")
        if self.effects.added:
            lines += ["", f"Note: {self.effects.note()}."]
        for w in self.warnings:
            lines.append(f"Warning: {w}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, **kw):
        """Forest plot (delegates to :func:`meta.plots.forest`)."""
        from meta.plots import forest

        return forest(self, **kw)


def pooled_back(effects: Effects, values: dict[str, float | None]) -> dict[str, float | None]:
    """Back-transform pooled values (harmonic mean of n / time for PFT / IRFT, as metafor's
    ``transf.ipft.hm`` / ``transf.iirft`` with the mean of 1/ti)."""
    out: dict[str, float | None] = {}
    for key, val in values.items():
        if val is None or not np.isfinite(val):
            out[key] = None if val is None else float(val)
            continue
        out[key] = float(back_transform(effects.measure, val, total=effects.total, person_time=effects.person_time))
    return out


def _without_nested(d: dict) -> dict:
    d.pop("subgroups", None)
    d.pop("between", None)
    return d


def _num(x, digits: int = 4) -> str:
    if x is None:
        return "NA"
    if isinstance(x, str):
        return x
    return f"{x:.{digits}f}"


def _p(p) -> str:
    """``p < .0001`` or ``p = 0.0707`` (the whole phrase, so a small p never reads "p = <.0001")."""
    if p is None:
        return "p = NA"
    return "p < .0001" if p < 1e-4 else f"p = {p:.4f}"


def _title(r: MetaResult) -> str:
    kind = "Common-effect" if r.method == "EE" else "Random-effects"
    model = "GLMM (rma.glmm)" if r.is_glmm else f"tau² estimator: {r.method}"
    return f"{kind} model (k = {r.k}; measure {r.measure}; {model}; test {r.test})"


def _fmt_het(d: dict, r: MetaResult) -> str:
    ci = ""
    if d["tau2_ci_low"] is not None:
        ci = f" [{_num(d['tau2_ci_low'])}, {_num(d['tau2_ci_high'])}]"
    return (f"tau² = {_num(d['tau2'])}{ci}; tau = {_num(d['tau'])}; I² = {_num(d['i2'], 2)}%; "
            f"H² = {_num(d['h2'])}\nQ({d['q_df']}) = {_num(d['q'])}, {_p(d['q_p'])}")


def _fmt_model(d: dict, r: MetaResult) -> str:
    stat = "z"
    if r.test == "knha":    # the t statistic with its degrees of freedom, as metafor prints it
        df = getattr(r.fit, "df", None)
        stat = "t" if df is None else f"t({_num(df, 0) if float(df).is_integer() else _num(df, 2)})"
    b = d["back"]
    pi = ""
    if d["pi_low"] is not None:
        pi = f"\nprediction interval [{_num(d['pi_low'])}, {_num(d['pi_high'])}]"
    natural = ""
    if r.measure != "GEN":
        natural = (f"\nnatural scale: {_num(b['estimate'])} [{_num(b['ci_low'])}, {_num(b['ci_high'])}]"
                   + (f", PI [{_num(b['pi_low'])}, {_num(b['pi_high'])}]" if b.get("pi_low") is not None else ""))
    return (f"estimate = {_num(d['estimate'])}, se = {_num(d['se'])}, {stat} = {_num(d['stat'], 3)}, "
            f"{_p(d['p'])}, {r.level:g}% CI [{_num(d['ci_low'])}, {_num(d['ci_high'])}]{pi}{natural}")
