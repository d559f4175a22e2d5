"""The terminal report: study rows and pooled outcomes, readable at a glance.

``build_report(rows)`` pools every outcome that at least two studies report and returns a
:class:`Report`, a rich renderable (``Console().print(report)``) that also renders as a dict
(``to_dict``) and as Markdown (``to_markdown``), so the three outputs say the same thing.
Rows are Contract 1 study rows as a plain DataFrame: ``meta`` never imports ``extract``.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .selection import entries_for, poolable_outcomes

RATE_PER = 100.0  # rates are shown per 100 person-units


@dataclass
class PooledOutcome:
    outcome: str
    kind: str  # "proportion" or "rate"
    time_unit: str
    result: Any  # MetaResult
    warnings: list[str] = field(default_factory=list)

    @property
    def scale_label(self) -> str:
        if self.kind == "rate":
            unit = self.time_unit or "person-time"
            return f"per {RATE_PER:g} person-{unit}"
        return "%"

    def natural(self, x: float | None) -> float | None:
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return None
        return x * (RATE_PER if self.kind == "rate" else 100.0)


@dataclass
class Report:
    title: str
    rows: pd.DataFrame
    pooled: list[PooledOutcome]
    documents: list[str]
    failures: list[tuple[str, str]]
    warnings: list[str]
    method: str = "REML"
    test: str = "z"

    # --- plain data -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "documents": list(self.documents),
            "failures": [{"path": str(p), "reason": str(r)} for p, r in self.failures],
            "studies": int(self.rows["study_id"].nunique()) if len(self.rows) else 0,
            "rows": _rows_records(self.rows),
            "pooled": [
                {"outcome": p.outcome, "kind": p.kind, "scale": p.scale_label, "warnings": p.warnings,
                 **p.result.to_dict()}
                for p in self.pooled
            ],
            "warnings": list(self.warnings),
        }

    def to_markdown(self) -> str:
        out = [f"# {self.title}", ""]
        out.append(f"Documents: {len(self.documents)}; failures: {len(self.failures)}; "
                   f"studies: {self.rows['study_id'].nunique() if len(self.rows) else 0}; rows: {len(self.rows)}")
        out.append("")
        for p, r in self.failures:
            out.append(f"- failed: {p}: {r}")
        if self.pooled:
            out += ["## Pooled outcomes", "",
                    "| outcome | k | estimate | 95% CI | 95% PI | tau² | I² | Q p |",
                    "|---|---:|---:|---|---|---:|---:|---:|"]
            for p in self.pooled:
                d = p.result.to_dict()
                b = d["back"]
                out.append(
                    f"| {p.outcome} ({p.scale_label}) | {d['k']} | {_fmt(p.natural(b['estimate']))} | "
                    f"{_fmt(p.natural(b['ci_low']))} to {_fmt(p.natural(b['ci_high']))} | "
                    f"{_fmt(p.natural(b.get('pi_low')))} to {_fmt(p.natural(b.get('pi_high')))} | "
                    f"{_fmt(d['tau2'], 4)} | {_fmt(d['i2'], 1)}% | {_fmt_p(d['q_p'])} |")
            out.append("")
        out += ["## Study rows", "", "| study | group | outcome | value | flags |", "|---|---|---|---|---|"]
        for r in self.rows.to_dict("records"):
            out.append(f"| {r.get('study_id', '')} | {r.get('group', '')} | {r.get('outcome', '') or '—'} | "
                       f"{_value_text(r)} | {'; '.join(_flags(r))} |")
        if self.warnings:
            out += ["", "## Warnings", ""] + [f"- {w}" for w in self.warnings]
        return "\n".join(out) + "\n"

    def write_plots(self, folder: str | Path) -> list[Path]:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for p in self.pooled:
            path = folder / f"forest_{p.outcome}_{p.kind}.png"
            fig = p.result.plot(title=p.outcome.replace("_", " "))
            fig.savefig(path, dpi=200, bbox_inches="tight")
            written.append(path)
        return written

    # --- rich -----------------------------------------------------------------------------
    def __rich_console__(self, console, options):
        from rich.panel import Panel
        from rich.text import Text

        width = min(options.max_width, 100)
        n_studies = self.rows["study_id"].nunique() if len(self.rows) else 0
        yield Panel(Text(f"{len(self.documents)} documents · {n_studies} studies · {len(self.rows)} rows · "
                         f"{len(self.failures)} failed · model {self.method}, test {self.test}"),
                    title=self.title, width=width)
        for p, r in self.failures:
            yield Text(f"failed: {p}: {r}", style="red")

        yield _studies_table(self.rows, width)
        yield _rows_table(self.rows, width)

        for p in self.pooled:
            yield _pooled_block(p, width)
        if self.warnings:
            yield Text("Warnings", style="bold yellow")
            for w in self.warnings:
                yield Text(f"  • {w}", style="yellow")


def build_report(rows: pd.DataFrame, title: str = "litmeta report", documents=(), failures=(),
                 method: str = "REML", test: str = "z", min_studies: int = 2) -> Report:
    """Pool every outcome reported by at least ``min_studies`` studies and collect warnings."""
    import meta

    rows = rows.reset_index(drop=True) if len(rows) else pd.DataFrame(columns=["study_id", "outcome", "status"])
    pooled, warnings = [], []
    if len(rows):
        for outcome, kind in poolable_outcomes(rows, min_studies):
            ent = entries_for(rows, outcome, kind)
            data = ent[["study", "events", "person_time" if kind == "rate" else "total"]]
            measure = "IRLN" if kind == "rate" else "PLO"
            try:
                res = meta.pool(data, measure=measure, method=method, test=test)
            except ValueError as exc:
                warnings.append(f"{outcome}: not pooled ({exc})")
                continue
            units = ent["time_unit"].dropna().unique() if "time_unit" in ent else []
            pw = []
            if res.k < 3:
                pw.append(f"{outcome}: only {res.k} studies; the random-effects estimate of tau² is unreliable")
            i2 = res.to_dict()["i2"]
            if i2 is not None and i2 > 75:
                pw.append(f"{outcome}: I² = {i2:.0f}% (considerable heterogeneity)")
            if kind == "rate" and len(units) > 1:
                pw.append(f"{outcome}: person-time in different units ({', '.join(units)})")
            warnings += pw
            pooled.append(PooledOutcome(outcome, kind, units[0] if len(units) else "", res, pw))
        warnings += _flag_warnings(rows) + _duplicate_warnings(rows)
    return Report(title, rows, pooled, list(documents), list(failures), warnings, method, test)


# --- helpers --------------------------------------------------------------------------------


def _flags(r: dict) -> list[str]:
    v = r.get("flags")
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except ValueError:
            v = [v]
    return [str(f) for f in (v or [])]


def _flag_warnings(rows: pd.DataFrame) -> list[str]:
    """Each row's consistency flags once; a study-level flag (a possible duplicate cohort) once per study."""
    out: list[str] = []
    pairs: set[frozenset] = set()
    for r in rows.to_dict("records"):
        for f in _flags(r):
            if f.startswith(("curated", "time point", "secondary time point", "derived")):
                continue
            if f.startswith("possible duplicate cohort"):
                other = f.removeprefix("possible duplicate cohort of ").split(" ", 1)[0]
                pair = frozenset((str(r.get("study_id")), other))
                if pair in pairs:
                    continue
                pairs.add(pair)
                line = f"{r.get('study_id')}: {f}"
            else:
                line = f"{r.get('study_id')}: {r.get('outcome') or 'row'} ({r.get('group')}): {f}"
            if line not in out:
                out.append(line)
    return out


def _duplicate_warnings(rows: pd.DataFrame) -> list[str]:
    """Two study ids with the same DOI are probably one cohort read twice."""
    out = []
    if "doi" not in rows:
        return out
    already = {sid for sid, fl in zip(rows["study_id"], rows.get("flags", [])) if "possible duplicate cohort" in str(fl)}
    doi = rows[["study_id", "doi"]].dropna()
    doi = doi[doi["doi"].astype(str).str.len() > 0].drop_duplicates()
    for d, grp in doi.groupby("doi"):
        ids = sorted(grp["study_id"].unique())
        if len(ids) > 1 and not set(ids) <= already:
            out.append(f"possible duplicate cohort: {', '.join(ids)} share doi {d}")
    return out


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _value_text(r: dict) -> str:
    ev, tot, pt = _num(r.get("events")), _num(r.get("total")), _num(r.get("person_time"))
    rv, scale = _num(r.get("reported_value")), r.get("reported_scale") or ""
    parts = []
    if ev is not None and pt is not None:
        parts.append(f"{ev:g} / {pt:,g} {r.get('time_unit') or ''}".strip())
    elif ev is not None and tot is not None:
        parts.append(f"{ev:g}/{tot:g}")
    elif ev is not None:
        parts.append(f"{ev:g}")
    if rv is not None:
        s = f"{rv:g}{'%' if scale == 'percent' else ' ' + scale if scale else ''}"
        lo, hi = _num(r.get("ci_low")), _num(r.get("ci_high"))
        if lo is not None and hi is not None:
            s += f" ({lo:g}–{hi:g})"
        parts.append(s)
    return "; ".join(parts)


def _fmt(x: float | None, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.{digits}f}"


def _p_text(p: float | None) -> str:
    """"= 0.071" or "< 0.001": a p-value as it reads in a sentence."""
    text = _fmt_p(p)
    return text.replace("<", "< ") if text.startswith("<") else f"= {text}"


def _fmt_p(p: float | None) -> str:
    if p is None:
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _rows_records(rows: pd.DataFrame) -> list[dict]:
    recs = json.loads(rows.to_json(orient="records", force_ascii=False)) if len(rows) else []
    for r in recs:
        for key in ("evidence", "flags"):
            if isinstance(r.get(key), str):
                try:
                    r[key] = json.loads(r[key])
                except ValueError:
                    pass
    return recs


def _pooled_block(p: PooledOutcome, width: int):
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    d = p.result.to_dict()
    b = d["back"]
    head = Text(f"{p.outcome.replace('_', ' ')} ", style="bold")
    head.append(f"({p.kind}, {p.scale_label}; {d['measure']}, {d['method']}, {d['test']})", style="dim")
    lines = [head,
             Text(f"  k = {d['k']}   estimate {_fmt(p.natural(b['estimate']))} "
                  f"[{_fmt(p.natural(b['ci_low']))}, {_fmt(p.natural(b['ci_high']))}]   "
                  f"PI [{_fmt(p.natural(b.get('pi_low')))}, {_fmt(p.natural(b.get('pi_high')))}]"),
             Text(f"  tau² = {_fmt(d['tau2'], 4)}   I² = {_fmt(d['i2'], 1)}%   "
                  f"Q = {_fmt(d['q'], 2)} (df {d['q_df']}), p {_p_text(d['q_p'])}")]
    frame = p.result.to_frame()
    lo_all = [p.natural(x) for x in frame["ci_low_back"]] + [p.natural(b["ci_low"])]
    hi_all = [p.natural(x) for x in frame["ci_high_back"]] + [p.natural(b["ci_high"])]
    lo = min(x for x in lo_all if x is not None)
    hi = max(x for x in hi_all if x is not None)
    if p.kind == "proportion":
        lo, hi = max(0.0, lo), min(100.0, hi)
    bar_w = max(16, width - 60)
    t = Table(box=None, show_header=True, header_style="dim", pad_edge=False, width=width)
    t.add_column("study", overflow="ellipsis", no_wrap=True, width=24)
    t.add_column("estimate [95% CI]", no_wrap=True, width=22)
    t.add_column("weight", justify="right", no_wrap=True, width=7)
    t.add_column("", no_wrap=True, width=bar_w)
    for r in frame.to_dict("records"):
        e, l, h = p.natural(r["est_back"]), p.natural(r["ci_low_back"]), p.natural(r["ci_high_back"])
        t.add_row(str(r["study"]), f"{_fmt(e)} [{_fmt(l)}, {_fmt(h)}]", f"{r['weight']:.1f}%",
                  _text_bar(e, l, h, lo, hi, bar_w, "■"))
    t.add_row(Text("pooled", style="bold"),
              Text(f"{_fmt(p.natural(b['estimate']))} [{_fmt(p.natural(b['ci_low']))}, {_fmt(p.natural(b['ci_high']))}]", style="bold"),
              "100%", _text_bar(p.natural(b["estimate"]), p.natural(b["ci_low"]), p.natural(b["ci_high"]), lo, hi, bar_w, "◆"))
    unit = "%" if p.kind == "proportion" else ""
    left, right = f"{lo:.1f}{unit}", f"{hi:.1f}{unit}"
    t.add_row("", "", "", Text(left + right.rjust(bar_w - len(left)), style="dim"))
    return Group(*lines, t, Text(""))


def _studies_table(rows: pd.DataFrame, width: int):
    from rich.table import Table

    t = Table(title="Studies", width=width, header_style="bold", title_justify="left")
    t.add_column("study", no_wrap=True, overflow="ellipsis", width=14)
    t.add_column("design", no_wrap=True, overflow="ellipsis", width=18)
    t.add_column("population", overflow="ellipsis", no_wrap=True, ratio=1)
    t.add_column("rows", justify="right", width=4)
    for sid, grp in rows.groupby("study_id", sort=False):
        r = grp.iloc[0]
        design = f"{r.get('design') or 'unknown'}" + (f" ({r['evidence_level']})" if r.get("evidence_level") else "")
        t.add_row(str(sid), design, str(r.get("population") or ""), str(len(grp)))
    return t


def _rows_table(rows: pd.DataFrame, width: int):
    """Rows with a number; flags in yellow, excluded rows dimmed."""
    from rich.table import Table
    from rich.text import Text

    narrow = width < 90  # degrade to 80 columns by narrowing the fixed columns, keeping room for flags
    t = Table(title="Study rows", width=width, header_style="bold", title_justify="left")
    t.add_column("study", no_wrap=True, overflow="ellipsis", width=12 if narrow else 14)
    t.add_column("group", no_wrap=True, overflow="ellipsis", width=11 if narrow else 16)
    t.add_column("outcome", no_wrap=True, overflow="ellipsis", width=14 if narrow else 17)
    t.add_column("value", no_wrap=True, overflow="ellipsis", width=16 if narrow else 22)
    t.add_column("flags", overflow="fold", ratio=1)
    for r in rows.to_dict("records"):
        if not r.get("outcome"):
            continue
        flags = [_short_flag(f) for f in _flags(r) if not f.startswith(("curated", "time point"))]
        style = "dim" if r.get("status") == "excluded" else None
        t.add_row(str(r.get("study_id", "")), str(r.get("group", "")), str(r.get("outcome", "")),
                  _short_value(r), Text("; ".join(flags), style="yellow") if flags else "", style=style)
    return t


def _short_flag(flag: str) -> str:
    """The flag's head ("derived", "secondary time point"): the table shows the kind, --json the whole text."""
    head = flag.split(":", 1)[0].split(" (", 1)[0]
    return head if len(head) <= 40 else head[:39] + "…"


def _short_value(r: dict) -> str:
    ev, tot, pt = _num(r.get("events")), _num(r.get("total")), _num(r.get("person_time"))
    rv, scale = _num(r.get("reported_value")), r.get("reported_scale") or ""
    if ev is not None and pt is not None:
        s = f"{ev:g}/{pt:,g} {(r.get('time_unit') or '')[:2]}".strip()
        if rv is not None:
            s += f" · {rv:g}"
        return s
    if ev is not None and tot is not None:
        return f"{ev:g}/{tot:g}" + (f" ({rv:g}%)" if rv is not None and scale == "percent" else "")
    return f"{ev:g}" if ev is not None else ""


def _text_bar(e, l, h, lo, hi, w, mark) -> str:
    """A one-line forest row: whisker from l to h, a mark at e, on the axis [lo, hi]."""
    if e is None or l is None or h is None or hi <= lo:
        return ""
    def pos(x):
        return int(round((min(max(x, lo), hi) - lo) / (hi - lo) * (w - 1)))
    cells = [" "] * w
    a, b_, c = pos(l), pos(e), pos(h)
    for i in range(a, c + 1):
        cells[i] = "─"
    cells[a], cells[c] = ("<" if l < lo else "├"), (">" if h > hi else "┤")
    cells[b_] = mark
    return "".join(cells)
