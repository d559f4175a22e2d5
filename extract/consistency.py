"""Consistency checks on extracted study rows: flag what the paper contradicts, never correct it.

Why flags and not fixes: papers print the same figure twice with different values, truncate
percents, and quote intervals that match no method. A reviewer has to decide which figure is
right; the extractor's job is to show every disagreement with where each value stands.

Checks (each adds human-readable strings to a row's ``flags``):

- percent vs events/total: the printed percent is the rounded ratio (fine), only the truncated
  ratio ("76.4" for 13/17 = 76.47%: flagged as truncated), or neither (flagged); with no
  events, a percent that no integer count out of ``total`` gives is flagged;
- rate vs events/person-time, scale-aware (``per 100 person-months`` with person-time in years…);
- a printed CI vs the exact interval (Poisson/Garwood for rates, Clopper-Pearson for
  proportions, scipy.stats); an interval that also matches no common approximation
  (log-normal or Wald for rates; Wilson or Wald for proportions) at the printed precision is
  flagged, and so is a value outside its own interval;
- one figure stated twice with different values: the same study, group and outcome with a
  different value (or total, events, person-time, CI) in another place of the paper — every
  row involved is flagged, e.g. ``rate 0.32 in results vs 0.42 in Table 3``;
- subgroup counts (patients, events, person-time) of one table that do not add up to the
  overall row of the same table and period;
- :func:`duplicate_cohorts`: two documents reporting the same cohort.
"""
from __future__ import annotations

import bisect
import json
import math
import re
import unicodedata
from collections import defaultdict
from functools import lru_cache
from typing import Any, Callable, Iterable

from scipy import stats

_TIME_IN_MONTHS = {"months": 1.0, "years": 12.0, "days": 12 / 365.25, "weeks": 12 / 52.1775}


# --- small helpers ------------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    """A finite float, or None for empty/NaN/text (never a NaN presented as a number)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def decimals(x: float) -> int:
    """Decimals as printed, from the shortest repr (0.3 → 1, 27.66 → 2, 13.0 → 0)."""
    text = repr(float(x))
    if "e" in text or "E" in text:
        return 6
    frac = text.split(".")[1] if "." in text else ""
    return 0 if frac == "0" else len(frac)


def rounds_to(exact: float, printed: float) -> bool:
    """True when ``exact`` rounded half-up at the printed precision gives ``printed``."""
    d = decimals(printed)
    return abs(exact - printed) <= 0.5 * 10 ** -d + 1e-9


def truncates_to(exact: float, printed: float) -> bool:
    d = decimals(printed)
    return 0 <= exact - printed < 10 ** -d + 1e-9


def _fmt(x: float) -> str:
    return f"{x:g}" if abs(x) >= 0.01 or x == 0 else f"{x:.2g}"


def _text(value: Any) -> str:
    """A cell as text; None and NaN (rows read back from CSV) are empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _json_list(value: Any) -> list:
    """A list column (``flags``, ``evidence``) whether it holds a list or its JSON text (CSV rows)."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except json.JSONDecodeError:
            value = [value]
    return list(value) if isinstance(value, (list, tuple)) else []


def _flags(row: dict) -> list[str]:
    return [str(f) for f in _json_list(row.get("flags"))]


def _evidence(row: dict) -> list[dict]:
    return [e for e in _json_list(row.get("evidence")) if isinstance(e, dict)]


def parse_scale(scale: str | None) -> tuple[float, str] | None:
    """``per 100 person-months`` → (100, "months"); ``*100 p/m/r`` too; not a rate → None."""
    if not scale:
        return None
    s = str(scale).lower()
    if "percent" in s or s.strip() == "%":
        return None
    unit = None
    for words, u in ((("person-month", "p/m", "patient-month", "pm"), "months"),
                     (("person-year", "p/y", "patient-year", "py"), "years"),
                     (("person-day", "p/d", "patient-day"), "days"),
                     (("person-week",), "weeks")):
        if any(w in s for w in words):
            unit = u
            break
    if unit is None:
        return None
    m = re.search(r"(\d[\d,]*)", s)
    return (float(m.group(1).replace(",", "")) if m else 1.0), unit


def _is_percent(row: dict) -> bool:
    scale = str(row.get("reported_scale") or "").lower()
    return "percent" in scale or scale.strip() == "%"


# --- per-row checks ------------------------------------------------------------------------------


def check_percent(row: dict) -> list[str]:
    """Printed percent vs events/total (rounding fine, truncation and mismatch flagged)."""
    value, total, events = _num(row.get("reported_value")), _num(row.get("total")), _num(row.get("events"))
    if not _is_percent(row) or value is None:
        return []
    if not 0 <= value <= 100:
        return [f"percent {_fmt(value)} is outside 0-100"]
    if not total:
        return []
    if events is not None:
        exact = 100 * events / total
        if rounds_to(exact, value):
            return []
        if truncates_to(exact, value):
            return [f"percent {_fmt(value)} is {_fmt(events)}/{_fmt(total)} = {exact:.{decimals(value) + 1}f}% "
                    "truncated, not rounded"]
        return [f"percent {_fmt(value)} disagrees with {_fmt(events)}/{_fmt(total)} = {exact:.{decimals(value) + 1}f}%"]
    if not any(rounds_to(100 * k / total, value) or truncates_to(100 * k / total, value) for k in range(int(total) + 1)):
        return [f"percent {_fmt(value)} fits no whole count out of {_fmt(total)}"]
    return []


def _person_time_in(row: dict, unit: str) -> float | None:
    pt = _num(row.get("person_time"))
    if pt is None:
        return None
    have = str(row.get("time_unit") or unit).lower().rstrip("s") + "s"
    if have not in _TIME_IN_MONTHS:
        return None
    return pt * _TIME_IN_MONTHS[have] / _TIME_IN_MONTHS[unit]


def check_rate(row: dict) -> list[str]:
    """Printed rate vs events/person-time on the printed scale."""
    scale = parse_scale(row.get("reported_scale"))
    value, events = _num(row.get("reported_value")), _num(row.get("events"))
    if scale is None or value is None or events is None:
        return []
    per, unit = scale
    pt = _person_time_in(row, unit)
    if not pt:
        return []
    exact = events / pt * per
    if rounds_to(exact, value):
        return []
    return [f"rate {_fmt(value)} disagrees with {_fmt(events)}/{_fmt(_num(row['person_time']))} "
            f"{row.get('time_unit') or unit} = {exact:.{decimals(value) + 1}f} {row.get('reported_scale')}"]


@lru_cache(maxsize=4096)  # the same counts recur (a table repeated in a 300-page file)
def rate_intervals(k: float, t: float, level: float = 0.95) -> dict[str, tuple[float, float]]:
    """Intervals for ``k`` events over ``t`` exposure: exact (Garwood), log-normal, Wald."""
    a = 1 - level
    z = stats.norm.ppf(1 - a / 2)
    exact = ((stats.chi2.ppf(a / 2, 2 * k) / 2 if k > 0 else 0.0) / t, stats.chi2.ppf(1 - a / 2, 2 * k + 2) / 2 / t)
    out = {"exact Poisson": exact}
    if k > 0:
        r = k / t
        out["log-normal"] = (r * math.exp(-z / math.sqrt(k)), r * math.exp(z / math.sqrt(k)))
        out["Wald"] = (max(r - z * math.sqrt(k) / t, 0.0), r + z * math.sqrt(k) / t)
    return out


@lru_cache(maxsize=4096)
def proportion_intervals(k: int, n: int, level: float = 0.95) -> dict[str, tuple[float, float]]:
    """Intervals for ``k`` of ``n``: Clopper-Pearson, Wilson, Wald (scipy.stats)."""
    test = stats.binomtest(int(k), int(n))
    out = {}
    for name, method in (("Clopper-Pearson", "exact"), ("Wilson", "wilson"), ("Wilson (cc)", "wilsoncc")):
        ci = test.proportion_ci(confidence_level=level, method=method)
        out[name] = (ci.low, ci.high)
    p = k / n
    half = stats.norm.ppf(1 - (1 - level) / 2) * math.sqrt(p * (1 - p) / n)
    out["Wald"] = (max(p - half, 0.0), min(p + half, 1.0))
    return out


def check_ci(row: dict) -> list[str]:
    """Printed interval vs the exact one (and common approximations) at the printed precision."""
    lo, hi, value = _num(row.get("ci_low")), _num(row.get("ci_high")), _num(row.get("reported_value"))
    if lo is None or hi is None:
        return []
    out = []
    if lo > hi:
        return [f"CI {_fmt(lo)}-{_fmt(hi)}: lower limit above upper"]
    if value is not None and not (lo <= value <= hi):
        out.append(f"value {_fmt(value)} lies outside its CI {_fmt(lo)}-{_fmt(hi)}")
    events = _num(row.get("events"))
    if events is None:
        return out
    scale = parse_scale(row.get("reported_scale"))
    if scale is not None:
        per, unit = scale
        pt = _person_time_in(row, unit)
        if not pt:
            return out
        intervals = {k: (a * per, b * per) for k, (a, b) in rate_intervals(events, pt).items()}
        exact_name = "exact Poisson"
    elif _is_percent(row) and _num(row.get("total")) and events <= _num(row.get("total")):
        total = _num(row.get("total"))
        intervals = {k: (a * 100, b * 100) for k, (a, b) in proportion_intervals(int(events), int(total)).items()}
        exact_name = "Clopper-Pearson"
    else:
        return out
    if any(rounds_to(a, lo) and rounds_to(b, hi) for a, b in intervals.values()):
        return out
    a, b = intervals[exact_name]
    d = max(decimals(lo), decimals(hi))
    out.append(f"CI {_fmt(lo)}-{_fmt(hi)} disagrees with the {exact_name} interval {a:.{d}f}-{b:.{d}f} "
               f"(nor log-normal/Wilson/Wald)")
    return out


# --- across rows -----------------------------------------------------------------------------


class _Places:
    """Where a value stands: the table label, else the section name, else the page.

    Built once per check: a 300-page document holds hundreds of tables, so the table spans
    are sorted once and searched by bisection.
    """

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        spans = sorted((t.start, t.end, t.label or "a table") for t in (getattr(doc, "tables", None) or [])
                       if t.start is not None and t.start >= 0)
        self.starts = [s for s, _, _ in spans]
        self.spans = spans

    def __call__(self, ev: dict | None) -> str:
        if not ev:
            return "unknown place"
        start = ev.get("start")
        if self.doc is not None and isinstance(start, int):
            i = bisect.bisect_right(self.starts, start) - 1  # tables do not overlap
            if i >= 0 and start < self.spans[i][1]:
                return self.spans[i][2]
            section = self.doc.section_of(start) if hasattr(self.doc, "section_of") else None
            if section:
                return section
        return f"page {ev.get('page')}" if ev.get("page") is not None else "unknown place"


def _evidence_for(row: dict, fields: Iterable[str]) -> dict | None:
    ev = _evidence(row)
    fields = tuple(fields)
    for e in ev:
        if e.get("field") in fields:
            return e
    return ev[0] if ev else None


def _period(group: str) -> str:
    return group.rsplit(" / ", 1)[0] if " / " in group else ""


def group_key(row: dict) -> tuple[str, str]:
    """The group a row describes, so that "Only SR" and "SR" (or "SR after MMF failure" and
    "Sequential MMF+SR") meet: period prefix + normalised drug/diagnosis label."""
    group = _text(row.get("group")) or "overall"
    period = _period(group) if row.get("group_type") != "period" else group
    gtype = row.get("group_type")
    last = group.rsplit(" / ", 1)[-1]
    if re.match(r"other(s|\b)", last, re.I):  # "others", "other diagnosis", "Other AICs": the complement
        return period.lower(), "other"
    if gtype == "treatment" and _text(row.get("intervention")):
        label = "+".join(sorted(_text(row["intervention"]).lower().split("+")))
    elif gtype == "diagnosis" and _text(row.get("population")):
        label = _text(row["population"]).lower()
    elif gtype in ("overall", "period"):
        label = "overall"
    else:
        label = group.rsplit(" / ", 1)[-1].lower()
    return period.lower(), f"{gtype}:{label}"


def time_point(row: dict) -> str:
    """The time point a row's figure belongs to (its ``time point: …`` flag), so that a response at
    3 months and one at 6 months are two figures, not one figure stated twice."""
    for f in _flags(row):
        if f.startswith("time point:"):
            return f.split(":", 1)[1].strip().lower()
    return ""


def _same(a: float, b: float) -> bool:
    """Equal at the coarser of the two printed precisions (12 vs 12.24 is the same figure)."""
    d = min(decimals(a), decimals(b))
    return round(a, d) == round(b, d) or abs(a - b) < 1e-9


def _ci_text(row: dict) -> str | None:
    lo, hi = _num(row.get("ci_low")), _num(row.get("ci_high"))
    return f"{_fmt(lo)}-{_fmt(hi)}" if lo is not None and hi is not None else None


COMPOSITION = ("patients",)  # distribution rows: how many of the cohort are in the row's group


def _composition(row: dict) -> bool:
    return row.get("outcome") in COMPOSITION and (_text(row.get("group")) or "overall") != "overall"


def _group_size(row: dict) -> float | None:
    """Patients in the row's group: ``total``, or ``events`` of a distribution row (35 of 96 on MMF)."""
    return _num(row.get("events")) if _composition(row) else _num(row.get("total"))


_COHORT_OUTCOMES = ("enrolled", "treated", "analysed", "lost_to_follow_up", "patients", "female", "male")

_FIGURES = (  # name in the flag, key beyond (study, group), value getter, evidence fields
    ("rate", lambda r: (r.get("outcome"), r.get("reported_scale")) if parse_scale(r.get("reported_scale")) else None,
     lambda r: _num(r.get("reported_value")), ("rate", "reported_value", "value")),
    ("percent", lambda r: (r.get("outcome"), "percent") if _is_percent(r) else None,
     lambda r: _num(r.get("reported_value")), ("percent", "cumulative", "reported_value", "value")),
    # cohort rows (treated of enrolled) and distribution rows (group of the cohort) have the
    # parent cohort as total by convention, not the group's own size: not comparable figures
    # ... but a distribution row's events are its group's size (35 of 96 on MMF): compared as the group total
    ("total", lambda r: ("total",) if _composition(r) or r.get("outcome") not in _COHORT_OUTCOMES else None,
     _group_size, ("total", "events")),
    ("events", lambda r: None if _composition(r) else (r.get("outcome"), r.get("unit")),
     lambda r: _num(r.get("events")), ("events",)),
    ("person-time", lambda r: ("pt", r.get("time_unit")), lambda r: _num(r.get("person_time")), ("person_time",)),
)


def stated_twice(rows: list[dict], doc: Any = None) -> list[list[str]]:
    """Per row, flags for figures the paper gives elsewhere with a different value."""
    out: list[list[str]] = [[] for _ in rows]
    place = _Places(doc)
    for name, key_of, value_of, fields in _FIGURES:
        buckets: dict[tuple, list[tuple[int, float, str]]] = defaultdict(list)
        for i, r in enumerate(rows):
            key, value = key_of(r), value_of(r)
            if key is None or value is None or r.get("status") == "excluded":
                continue
            where = place(_evidence_for(r, fields))
            buckets[(r.get("study_id"), group_key(r), time_point(r), *key)].append((i, value, where))
        for items in buckets.values():
            _disagreements(items, lambda a, b: _same(a, b), lambda v: f"{name} {_fmt(v)}", _fmt, out)
    # intervals of the same figure
    buckets_ci: dict[tuple, list[tuple[int, tuple, str]]] = defaultdict(list)
    for i, r in enumerate(rows):
        if _ci_text(r) is None or r.get("status") == "excluded":
            continue
        buckets_ci[(r.get("study_id"), group_key(r), time_point(r), r.get("outcome"), r.get("reported_scale"))].append(
            (i, (_num(r["ci_low"]), _num(r["ci_high"])), place(_evidence_for(r, ("ci",)))))
    ci_text = lambda c: f"{_fmt(c[0])}-{_fmt(c[1])}"
    for items in buckets_ci.values():
        _disagreements(items, lambda a, b: _same(a[0], b[0]) and _same(a[1], b[1]), lambda c: f"CI {ci_text(c)}",
                       ci_text, out)
    return out


def _disagreements(items: list[tuple[int, Any, str]], same: Callable[[Any, Any], bool], say: Callable[[Any], str],
                   say_other: Callable[[Any], str], out: list[list[str]]) -> None:
    """Flag every item whose value differs from another item's; compares distinct values only,
    so a figure repeated in a hundred copies of a table costs one comparison, not ten thousand."""
    places: dict[Any, list[str]] = {}
    for _, value, where in items:
        places.setdefault(value, [])
        if where not in places[value]:
            places[value].append(where)
    if len(places) < 2:
        return
    values = list(places)
    differing = {v: [(v2, w2) for v2 in values if v2 != v and not same(v, v2) for w2 in places[v2]] for v in values}
    for i, value, where in items:
        for v2, w2 in differing[value]:
            out[i].append(f"{say(value)} in {where} vs {say_other(v2)} in {w2}")


def subgroup_sums(rows: list[dict], doc: Any = None) -> list[list[str]]:
    """Per row, flags where the subgroups of one place (table) do not add up to its overall row."""
    out: list[list[str]] = [[] for _ in rows]
    place = _Places(doc)
    places = [place(_evidence_for(r, ("total", "events"))) for r in rows]
    overall: dict[tuple, int] = {}
    parts: dict[tuple, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        group, gtype = _text(r.get("group")) or "overall", r.get("group_type")
        base = (r.get("study_id"), places[i], r.get("outcome"), r.get("unit"))
        if gtype in ("overall", "period"):
            overall[base + ((group if gtype == "period" else "").lower(),)] = i
        elif gtype:
            parts[base + (_period(group).lower(), gtype)].append(i)
    for key, members in parts.items():
        top = overall.get(key[:-1])
        if top is None or len(members) < 2:
            continue
        for field, label in (("total", "patients"), ("events", "events"), ("person_time", "person-time")):
            whole = _num(rows[top].get(field))
            values = [_num(rows[i].get(field)) for i in members]
            if whole is None or any(v is None for v in values):
                continue
            total = sum(values)
            if abs(total - whole) > 1e-9:
                msg = (f"{key[-1]} subgroups' {label} {' + '.join(_fmt(v) for v in values)} = {_fmt(total)} "
                       f"do not add up to {_fmt(whole)} ({rows[top].get('group')}, {places[top]})")
                for i in members + [top]:
                    out[i].append(msg)
    return out


def check(rows: list[dict], doc: Any = None) -> list[dict]:
    """Copies of ``rows`` with consistency flags added (existing flags kept, none repeated)."""
    out = [dict(r) for r in rows]
    across = [stated_twice(out, doc), subgroup_sums(out, doc)]
    for i, r in enumerate(out):
        flags = _flags(r)
        new = check_percent(r) + check_rate(r) + check_ci(r)
        for extra in across:
            new += extra[i]
        r["flags"] = list(dict.fromkeys(flags + new))
    return out


# --- across documents ------------------------------------------------------------------------

_REGISTRATION = re.compile(r"\b(NCT\d{8}|ISRCTN\d{8}|EudraCT\s*\d{4}-\d{6}-\d{2}|ChiCTR[-\w]+|ACTRN\d{14})\b", re.I)


def _surname(name: Any) -> str:
    """"Mattia Comella", "Comella M", "Comella, Mattia" → "comella"."""
    text = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode().strip()
    if not text:
        return ""
    if "," in text:
        return text.split(",")[0].strip().lower()
    tokens = text.split()
    if len(tokens) > 1 and re.fullmatch(r"[A-Z]{1,3}\.?", tokens[-1]):
        return " ".join(tokens[:-1]).lower()
    return tokens[-1].lower()


def _signature(rows: list[dict]) -> dict[str, set[str]]:
    sig: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        for key in ("doi", "registration", "centre", "centres", "period"):
            v = r.get(key)
            if v not in (None, "") and not (isinstance(v, float) and math.isnan(v)):
                sig["centre" if key == "centres" else key].add(str(v).strip().lower())
        if r.get("first_author"):
            sig["author"].add(_surname(r["first_author"]))
        for e in _evidence(r):
            for m in _REGISTRATION.finditer(str(e.get("quote", ""))):
                sig["registration"].add(m.group(1).lower().replace(" ", ""))
        if r.get("group_type") == "overall" and _num(r.get("total")):
            sig["total"].add(_fmt(_num(r["total"])))
    return sig


def duplicate_cohorts(rows_by_study: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Flag studies whose documents may report the same cohort.

    Same trial registration or same DOI: a duplicate. Otherwise the same first author plus
    at least two of (centre, study period, overall number of patients): a possible duplicate.
    Returns copies of the rows with a flag naming the other study.
    """
    sigs = {sid: _signature(rows) for sid, rows in rows_by_study.items()}
    notes: dict[str, list[str]] = defaultdict(list)
    ids = list(rows_by_study)
    for a_i, a in enumerate(ids):
        for b in ids[a_i + 1:]:
            sa, sb = sigs[a], sigs[b]
            shared = [k for k in ("registration", "doi") if sa.get(k) and sa[k] & sb.get(k, set())]
            if not shared and sa.get("author") and sa["author"] & sb.get("author", set()):
                matches = [k for k in ("centre", "period", "total") if sa.get(k) and sa[k] & sb.get(k, set())]
                if len(matches) >= 2:
                    shared = ["first author"] + matches
            if shared:
                what = ", ".join(shared)
                notes[a].append(f"possible duplicate cohort of {b} (same {what})")
                notes[b].append(f"possible duplicate cohort of {a} (same {what})")
    out: dict[str, list[dict]] = {}
    for sid, rows in rows_by_study.items():
        out[sid] = [dict(r, flags=list(dict.fromkeys(_flags(r) + notes.get(sid, [])))) for r in rows]
    return out
