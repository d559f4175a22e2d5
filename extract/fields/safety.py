"""Safety: infections (any, serious), deaths, adverse events, person-time and incidence rates.

Why events and patients apart: "16 SIEs … in 13/96 patients" are two facts — 16 episodes and
13 patients with at least one — and pooling needs to know which is which (``unit``). A rate
("0.24 *100 p/m/r (95% CI 0.09–0.3)") keeps its printed value, scale and interval; its events
and person-time are attached only when they are printed for the same group and reproduce the
printed rate, otherwise the row says what is missing.

Groups: a paragraph that opens with "only from 49 patients diagnosed after 2015" puts its
later counts, times and rates into that period group (``diagnosed after 2015``); a subgroup
inside it is ``diagnosed after 2015 / ALPS-like``. "A and B … 1,181 and 1,685 months,
respectively" pairs groups with values in order.
"""
from __future__ import annotations

import re

from ..nlp import Sentence, Term
from ..numbers import Interval, find_intervals, find_rate_scale, parse_number
from .base import Context, finding
from .population import Cohort, consistent
from .interventions import group_phrase
from .named_events import named_event_rows
from .response import TIME_POINT as _TIME_POINT, bare_counts, one_patient_rows, outcome_for

SAFETY = ("serious_infection", "infection", "death", "adverse_event", "rejection", "discontinuation", "malignancy")
_NUM = r"(?:\d{1,3}(?:[,\u2009\u202f]\d{3})+|\d+)"
_PT_NUM = r"(?:\d{1,3}(?:[,\u2009\u202f ]\d{3})+(?!\d)|\d+(?:[.\u00b7]\d+)?)"  # person-time before its unit: "1 240 months" too
_WNUM = r"(?:%s|[A-Za-z]+(?:-[a-z]+)?)" % _NUM
_EPISODES = re.compile(r"(?<![\w.,/])(?P<n>%s)\s+(?:(?:more|new|further|additional|total)\s+)?(?=\S)" % _WNUM)
_DIED = re.compile(r"\b(?P<n>No|None of the|%s)\s+(?:patients?|children|subjects?|recipients?|boys?|girls?|adults?|infants?)?\s*(?:died|deaths?|were dead|has died|have died)\b|"
                   r"\bno (?:deaths?|death was|patient died|mortality)\b" % _WNUM, re.I)
_PERSON_TIME = [
    re.compile(r"\b(?:observation|follow-up|exposure|observation period|follow up)\s+(?:time\s+)?(?:was|of|:)\s*(?P<v>%s(?:\s+and\s+%s)*)\s*(?P<unit>months|years|days|person-months|person-years|patient-years|patient-months)" % (_PT_NUM, _PT_NUM), re.I),
    re.compile(r"\bfollowed\s+(?:up\s+)?for\s+a\s+total\s+of\s+(?P<v>%s(?:(?:,\s*|\s+and\s+)%s)*)\s*(?P<unit>months|years|days)" % (_PT_NUM, _PT_NUM), re.I),
    re.compile(r"\b(?:had|with|for|of)\s+(?P<v>%s)\s+(?P<unit>months|years|days)\s+of\s+(?:total\s+)?(?:follow-up|follow up|observation|therapy|treatment)" % _PT_NUM, re.I),
    re.compile(r"\bcovered\s+a\s+period\s+of\s+(?P<v>%s)\s+(?P<unit>months|years|days)" % _PT_NUM, re.I),
    re.compile(r"\b(?:were|was)\s+given\s+for\s+(?P<v>%s(?:\s+and\s+%s)*)\s+(?P<unit>months|years|days)" % (_PT_NUM, _PT_NUM), re.I),
    re.compile(r"(?<!per )(?<![/\d])(?<!\*)(?P<v>%s)\s+(?P<unit>person-months|person-years|patient-years|patient-months|person-days)" % _PT_NUM, re.I),
]
_SUBGROUP_OPEN = re.compile(r"\b(?:only|subgroup|subset|restricted|limited)\b[^.;]{0,40}?\b(?P<n>\d+)\s+(?:patients|children|subjects)\s+"
                            r"(?P<q>(?:diagnosed|treated|enrolled|included|who started)\s+(?:after|before|since|between|from|in)\s+(?:19|20)\d\d)", re.I)
_SCALE = r"\\?\*?\s*100\s*p/m/r|per 100 [\w-]+"
_ONLY_THOSE = re.compile(r"\bonly\s+(?:the\s+)?(?P<q>(?:patients|children|those|subjects)\s+(?:who|that|with|treated|diagnosed)\b[^,;]{3,80})", re.I)
_COMPARISON = re.compile(r"\((?P<a>\d+[.\u00b7]\d+)\s*(?P<scale>%s)?\s*(?:vs\.?|versus)\s*"
                         r"(?P<b>\d+[.\u00b7]\d+)(?:\s*(?:and|,)\s*(?P<c>\d+[.\u00b7]\d+))?\s*(?P<scale2>%s)?" % (_SCALE, _SCALE), re.I)


def _values(text: str, start: int) -> list[tuple[float, int, int]]:
    return [(parse_number(m.group(0).replace(" ", "")), start + m.start(), start + m.end())
            for m in re.finditer(_PT_NUM, text)]


class _Groups:
    """The paragraph's period group (if one was opened) and the composition of group labels."""

    def __init__(self) -> None:
        self.paragraph: int | None = None
        self.period: str | None = None
        self.period_n: int | None = None
        self.local: str | None = None  # "only patients who …" in the current sentence

    def update(self, sent: Sentence) -> None:
        if sent.paragraph != self.paragraph:
            self.paragraph, self.period, self.period_n = sent.paragraph, None, None
        m = _SUBGROUP_OPEN.search(sent.text)
        if m:
            self.period, self.period_n = m.group("q"), int(m.group("n"))
        local = _ONLY_THOSE.search(sent.text) if not m else None
        self.local = re.sub(r"\s+", " ", local.group("q")).strip() if local else None

    def label(self, sub: str | None = None) -> tuple[str, str]:
        head, kind = (self.period, "period") if self.period else (self.local, "subgroup") if self.local else (None, None)
        if head and sub:
            return f"{head} / {sub}", kind
        if head:
            return head, kind
        return (sub, "subgroup") if sub else ("overall", "overall")


def safety_rows(ctx: Context, coh: Cohort) -> list[dict]:
    """Infection, death and adverse-event rows, person-time and rates, linked where they agree."""
    rows: list[dict] = []
    times: list[dict] = []
    groups = _Groups()
    recent: list[Term] = []
    recent_paragraph = None
    for sent in ctx.data_sentences():
        groups.update(sent)
        if sent.paragraph != recent_paragraph:
            recent, recent_paragraph = [], sent.paragraph
        kinds = ctx.terms(sent, "infection_type")  # "abdominal infections" names a type, not another outcome
        outcomes = [t for t in ctx.terms(sent, "outcome") if t.label in SAFETY
                    and not any(k.start <= t.start and t.end <= k.end for k in kinds)]
        times += _person_time(ctx, sent, groups)
        rows += _deaths(ctx, sent, coh, groups)
        rows += named_event_rows(ctx, sent, coh)
        if outcomes:
            rows += _patients_with(ctx, sent, coh, groups) + _patients_bare(ctx, sent, coh, groups, outcomes)
            if not groups.period:
                rows += bare_counts(ctx, sent, tuple(label for label in SAFETY if label != "death"), coh.total)
            rows += _episodes(ctx, sent, coh, groups, outcomes)
            recent = outcomes
        rows += _cumulative(ctx, sent, groups)
        if recent:
            rows += _by_type(ctx, sent, groups, recent)
        if recent:  # "… with a rate of 0.40 per 100 person-months" after a sentence naming the events
            rows += _rates(ctx, sent, groups, outcomes or recent)
    rows += one_patient_rows(ctx, coh, SAFETY, rows)
    rows = _link(rows, times, ctx.vocab)
    scales = {r["reported_scale"] for r in rows if str(r.get("reported_scale") or "").startswith("per ")}
    for r in rows:
        if len(scales) == 1 and r.get("reported_value") is not None and not r.get("reported_scale") and r["unit"] is None:
            r["reported_scale"] = next(iter(scales))
            r["flags"] = [f.replace("read as the paper's rate scale", f"read as {r['reported_scale']}, the paper's only rate scale")
                          for f in r["flags"]]
    return rows


def _patients_with(ctx: Context, sent: Sentence, coh: Cohort, groups: _Groups) -> list[dict]:
    out = []
    props = ctx.proportions(sent)
    prev = sent.start
    last = None
    for i, p in enumerate(props):
        nxt = props[i + 1].span[0] if i + 1 < len(props) else sent.end
        got = outcome_for(ctx, sent, p.span[0], p.span[1], prev, nxt, SAFETY)
        if not got and last and ";" not in ctx.doc.text[prev:p.span[0]]:
            got = last  # "in 7/24 and 9/22 children": the same outcome goes on
        prev = p.span[1] if not got or got[1].start < p.span[1] else got[1].end
        if not got:
            continue
        last = got
        total = int(p.total.value) if p.total else None
        if total is None and p.percent is not None:
            for cand in sorted(coh.denominators(), key=lambda d: (d != coh.total, d)):
                if p.events <= cand and consistent(p.events, p.percent.value, cand):
                    total = cand
                    break
        elif total is None and coh.total and p.events <= coh.total:
            total = coh.total
        if total is None or total not in coh.denominators() and total != groups.period_n:
            continue  # a count within a subgroup of cases ("10/13 with SIE were ALPS-like") is not an incidence
        group, gtype = groups.label() if total == groups.period_n else ("overall", "overall")
        arm = coh.arm_of(total)
        where = {"intervention": arm[1]} if arm else {}
        if arm:
            group, gtype = arm[0], "treatment"
        flags: list[str] = []  # percent vs events/total is checked by extract.consistency
        outcome, term = got
        out.append(finding(ctx.doc, outcome, [p.span, (term.start, term.end)], group=group, group_type=gtype, **where,
                           events=p.events, unit="patients", total=total,
                           reported_value=p.percent.value if p.percent else None,
                           reported_scale="percent" if p.percent else None, flags=flags, confidence=0.9))
    return out


_IN_PATIENTS = re.compile(r"\b(?:in|among)\s+(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+"
                          r"(?:of\s+the\s+)?(?:patients|children|subjects|cases|participants|recipients|boys|girls|adults)\b(?!\s*\()", re.I)


def _patients_bare(ctx: Context, sent: Sentence, coh: Cohort, groups: _Groups, outcomes: list[Term]) -> list[dict]:
    """"Grade 3 infections occurred in 4 patients": a count of patients with the event, the cohort as total."""
    out = []
    taken = [p.span for p in ctx.proportions(sent)]
    for m in _IN_PATIENTS.finditer(sent.text):
        s, e = sent.start + m.start(), sent.start + m.end()
        if any(a < e and s < b for a, b in taken):
            continue
        before = [t for t in outcomes if t.end <= s and s - t.end <= 70]
        if not before:
            continue
        n = int(parse_number(m.group("n")))
        total = groups.period_n if groups.period else coh.total
        if total is None or n > total:
            continue
        group, gtype = groups.label()
        out.append(finding(ctx.doc, before[-1].label, [(sent.start + m.start("n"), e), (before[-1].start, before[-1].end)],
                           group=group, group_type=gtype, events=n, unit="patients", total=total, confidence=0.8))
    return out


def _episodes(ctx: Context, sent: Sentence, coh: Cohort, groups: _Groups, outcomes: list[Term]) -> list[dict]:
    """"16 SIEs", "16 severe infectious events": a number right before an event noun counts episodes."""
    out = []
    text = ctx.doc.text
    total_of = re.search(r"(?<![\w.,/])(?P<n>%s)\s+(?:episodes|events)\b" % _NUM, sent.text)
    if total_of and any(t.start <= sent.start + total_of.start() < t.end for t in outcomes):
        total_of = None  # "16 severe infectious events" is read with its term below
    if total_of:  # "Infections … occurred in 4 recipients (33%), for a total of 6 episodes"
        s = sent.start + total_of.start("n")
        group, gtype = groups.label()
        out.append(finding(ctx.doc, outcomes[0].label, [(s, sent.start + total_of.end()), (outcomes[0].start, outcomes[0].end)],
                           group=group, group_type=gtype, events=int(parse_number(total_of.group("n"))), unit="episodes",
                           total=groups.period_n if groups.period else coh.total, confidence=0.8))
    for t in outcomes:
        m = re.search(r"(?<![\w.,/])(?P<n>%s)\s+(?:(?:more|new|further|total|distinct)\s+)?$" % _WNUM, text[sent.start:t.start])
        if not m or not re.search(r"(?:events?|episodes?|SIEs?|infections?)$", t.text, re.I) and t.label != "serious_infection":
            continue
        n = parse_number(m.group("n"))
        if n is None or not float(n).is_integer():
            continue
        s = sent.start + m.start("n")
        if re.search(r"\b(?:at least|more than|less than|up to|over|grade|grades|stage|type|class|phase|day|week|"
                     r"month|year|cycle|CTCAE v?)\s*$", text[sent.start:s], re.I):
            continue  # "grade 3 infections" names a grade, not three events
        if re.match(r"\s*(?:patients?|children)", text[t.end:t.end + 12]):
            continue
        tail = text[t.end:sent.end]
        patients = re.search(r"\b(?:in|among)\s+(?:(?P<k>%s)\s*(?:/|of|out of)\s*)?(?P<tot>%s)\s+(?:patients|children)" % (_NUM, _NUM), tail)
        total = int(parse_number(patients.group("tot"))) if patients else None
        if total is None:
            before = re.search(r"(?P<tot>%s)\s+(?:patients|children)[^.;]*$" % _NUM, text[sent.start:s])
            total = int(parse_number(before.group("tot"))) if before else None
        if total is not None and total not in coh.denominators() and total != groups.period_n:
            total = None
        group, gtype = groups.label() if groups.period and (total == groups.period_n or total is None) else ("overall", "overall")
        out.append(finding(ctx.doc, t.label, [(s, t.end)], group=group, group_type=gtype, events=int(n), unit="episodes",
                           total=total, confidence=0.85))
    return out


def _deaths(ctx: Context, sent: Sentence, coh: Cohort, groups: _Groups) -> list[dict]:
    out = []
    for m in _DIED.finditer(sent.text):
        word = (m.group("n") or "no").lower()
        n = 0 if word.startswith("no") else parse_number(word)
        if n is None:
            continue
        group, gtype = groups.label()
        out.append(finding(ctx.doc, "death", [(sent.start + m.start(), sent.start + m.end())], group=group, group_type=gtype,
                           events=int(n), unit="patients", total=groups.period_n if groups.period else coh.total,
                           confidence=0.85))
    return out


def _person_time(ctx: Context, sent: Sentence, groups: _Groups) -> list[dict]:
    """Person-time facts, one per group; "A and B … x and y months, respectively" pairs in order."""
    out = []
    matches = sorted((m for pat in _PERSON_TIME for m in pat.finditer(sent.text)), key=lambda m: m.start())
    last_end = 0
    for m in matches:
        if m.start() < last_end or re.search(r"\b(?:median|mean|average)\b[^.;]{0,20}$", sent.text[:m.start("v")], re.I):
            continue
        vals = _values(m.group("v"), sent.start + m.start("v"))
        unit = m.group("unit").lower()
        unit = "years" if "year" in unit else "days" if "day" in unit else "months"
        lo = sent.start + last_end
        terms_ = sorted((t for k in ("diagnosis", "drug") for t in ctx.terms(sent, k) if lo <= t.start and t.end <= sent.start + m.start()),
                        key=lambda t: t.start)
        last_end = m.end()
        subs: list[str | None]
        if len(vals) > 1 and len(terms_) >= len(vals):
            subs = [t.text for t in terms_[:len(vals)]]
        elif len(vals) == 1 and terms_ and not re.search(r"\boverall\b", sent.text[:m.start()], re.I):
            subs = [_phrase(ctx, sent, terms_)]
        else:
            subs = [None] * len(vals)
        for (v, s, e), sub in zip(vals, subs):
            group, gtype = groups.label(sub)
            if sub:  # the row's axis is its own group's, also inside a period ("diagnosed after 2015 / MMF")
                gtype = "diagnosis" if any(t.text == sub and t.kind == "diagnosis" for t in terms_) else "treatment"
            out.append(finding(ctx.doc, "person_time", [(s, e)], group=group, group_type=gtype, person_time=v,
                               time_unit=unit, confidence=0.8))
    return out


def _phrase(ctx: Context, sent: Sentence, terms_: list[Term]) -> str:
    """The printed group of a one-group clause: a drug arm widened as printed ("MMF-SR sequential")."""
    drugs = [t for t in terms_ if t.kind == "drug"]
    if drugs:
        start, end, _ = group_phrase(ctx, sent, drugs[0])
        return ctx.doc.text[start:end]
    return terms_[0].text


def _rates(ctx: Context, sent: Sentence, groups: _Groups, outcomes: list[Term]) -> list[dict]:
    out = []
    text = ctx.doc.text
    cis: list[Interval] = find_intervals(sent.text, sent.start)
    main = "serious_infection" if any(t.label == "serious_infection" for t in outcomes) else outcomes[0].label
    comp = _COMPARISON.search(sent.text)
    for m in re.finditer(r"(?<![\w.])(?P<v>\d+[.\u00b7]\d+)(?![\d])", sent.text):
        s, e = sent.start + m.start("v"), sent.start + m.end("v")
        if comp and comp.start() <= m.start() < comp.end():
            continue
        scale = find_rate_scale(text, e)
        if not scale:
            continue
        ci = next((c for c in cis if 0 <= c.span[0] - scale[2] <= 12), None)
        group, gtype = groups.label()
        spans = [(s, scale[2])] + ([ci.span] if ci else [])
        out.append(finding(ctx.doc, main, spans, group=group, group_type=gtype, reported_value=parse_number(m.group("v")),
                           reported_scale=scale[0], time_unit=scale[1], ci_low=ci.low.value if ci else None,
                           ci_high=ci.high.value if ci else None, confidence=0.9))
    if comp:
        out += _comparison_rows(ctx, sent, comp, groups, main)
    return out


_CUMULATIVE = re.compile(r"\bcumulative\s+(?:hazard|incidence|risk|probability)\b", re.I)


def _by_type(ctx: Context, sent: Sentence, groups: _Groups, outcomes: list[Term]) -> list[dict]:
    """"mostly pneumonias (10) … sepsis (2)": episodes per infection type, as printed."""
    out = []
    text = ctx.doc.text
    main = "serious_infection" if any(t.label == "serious_infection" for t in outcomes) else outcomes[0].label
    if main not in ("serious_infection", "infection"):
        return out
    for t in ctx.terms(sent, "infection_type"):
        m = re.match(r"\s*\((?P<n>\d+)\)", text[t.end:t.end + 8])
        if not m:
            continue
        s = t.end + m.start("n")
        group, _ = groups.label(re.sub(r"\s+", " ", t.text))
        out.append(finding(ctx.doc, main, [(t.start, t.end), (s, t.end + m.end("n"))], group=group,
                           group_type="infection_type", events=int(m.group("n")), unit="episodes", confidence=0.8))
    return out


def _cumulative(ctx: Context, sent: Sentence, groups: _Groups) -> list[dict]:
    """Cumulative incidence (hazard, risk) in percent, per group as named before it, with its CI and time point."""
    if not _CUMULATIVE.search(sent.text):
        return []
    out = []
    text = ctx.doc.text
    cis = find_intervals(sent.text, sent.start)
    inside = [c.span for c in cis]
    point = _TIME_POINT.search(sent.text)
    group_terms = sorted((t for k in ("diagnosis", "drug") for t in ctx.terms(sent, k)), key=lambda t: t.start)
    last_end = sent.start
    for m in re.finditer(r"(?<![\w.])(?P<v>\d+(?:[.\u00b7]\d+)?)\s?%", sent.text):
        s, e = sent.start + m.start("v"), sent.start + m.end()
        if any(a <= s < b for a, b in inside) or re.search(r"\d\s?$", sent.text[:m.start()]):
            continue
        ci = next((c for c in cis if 0 <= c.span[0] - e <= 40 and "%" not in text[e:c.span[0]].replace("95%", "")), None)
        events_named = [t for t in ctx.terms(sent, "outcome") if last_end <= t.start and t.end <= s
                        and t.label not in ("serious_infection", "infection")]
        outcome = events_named[-1].label if events_named else "cumulative_incidence"  # "… of relapse was 22%"
        last_end = e
        near = [t for t in group_terms if t.end <= s and re.fullmatch(r"[\s(]*(?:patients|cases)?[\s(]*", text[t.end:s])]
        sub = near[-1].text if near else None
        group, gtype = groups.label(sub)
        if sub:
            gtype = "diagnosis" if near[-1].kind == "diagnosis" else "treatment"
        spans = [(s, e)] + ([ci.span] if ci else []) + ([(sent.start + point.start(), sent.start + point.end())] if point else [])
        if events_named:
            ev = events_named[-1]
            spans.append((ev.start, ev.end))
            grade = re.search(r"\bgrades?\s+[0-9IVX]+(?:\s*[-\u2013]\s*[0-9IVX]+)?", text[max(sent.start, ev.start - 20):ev.end])
            if grade and group == "overall":  # "grade II–IV" and "grade III–IV" acute GVHD are two figures
                group, gtype = re.sub(r"\s+", " ", grade.group(0)), "grade"
        out.append(finding(ctx.doc, outcome, spans, group=group, group_type=gtype,
                           reported_value=parse_number(m.group("v")), reported_scale="percent",
                           ci_low=ci.low.value if ci else None, ci_high=ci.high.value if ci else None,
                           flags=[f"time point: {point.group(0)}"] if point else [], confidence=0.8))
    return out


def _comparison_rows(ctx: Context, sent: Sentence, comp: re.Match, groups: _Groups, outcome: str) -> list[dict]:
    """"ALPS-like … compared with other diagnosis (0.32 vs. 0.09; p = 0.03)": one rate per group, in order."""
    text = sent.text[:comp.start()]
    split = re.search(r"\b(?:compared (?:with|to)|versus|vs\.?|than|and)\b", text)
    if not split:
        return []
    left = [t for k in ("diagnosis", "drug") for t in ctx.terms(sent, k) if sent.start + split.start() > t.start]
    right_text = text[split.end():].strip(" ,")
    right_text = re.sub(r"^(?:those|patients|the)\s+(?:who\s+)?(?:underwent|received|started|with|treated with)?\s*", "", right_text)
    rights = [r.strip() for r in re.split(r"\s+or\s+|\s*,\s*|\s+and\s+", right_text) if r.strip()]
    values = [comp.group(k) for k in ("a", "b", "c") if comp.group(k)]
    if not left or len(rights) != len(values) - 1:
        return []
    names = [left[-1].text] + rights
    scale = None
    for key in ("scale", "scale2"):
        if comp.group(key):
            scale = find_rate_scale(sent.text, comp.start(key) - 1)
    out = []
    for k, (name, v) in enumerate(zip(names, values)):
        key = ("a", "b", "c")[k]
        s, e = sent.start + comp.start(key), sent.start + comp.end(key)
        group, gtype = groups.label(name)
        flags = [] if scale else ["scale not printed here; read as the paper's rate scale"]
        axis = "diagnosis" if left[-1].kind == "diagnosis" else "treatment"
        out.append(finding(ctx.doc, outcome, [(s, e)], group=group, group_type=axis,
                           reported_value=parse_number(v), reported_scale=scale[0] if scale else None,
                           flags=flags, confidence=0.7))
    return out


def group_key(vocab, group: str) -> str:
    """Groups compared by meaning: "only SR" and "SR" are one arm, "MMF-SR sequential" and "sequential MMF/SR" too."""
    parts = group.split(" / ")
    last = parts[-1]
    label = vocab.normalise("diagnosis", last) or vocab.normalise("drug", last) or last.lower()
    return " / ".join(parts[:-1] + [label])


def _link(rows: list[dict], times: list[dict], vocab) -> list[dict]:
    """Put events and person-time on the rate rows of the same group when they reproduce the printed rate."""
    out = []
    used_times: set[int] = set()
    episodes_by: dict[str, list[dict]] = {}
    for x in rows:
        if x.get("unit") == "episodes":
            episodes_by.setdefault(group_key(vocab, x["group"]), []).append(x)
    times_by: dict[str, list[int]] = {}
    for i, t in enumerate(times):
        times_by.setdefault(group_key(vocab, t["group"]), []).append(i)
    for r in rows:
        if r.get("reported_scale", "") and str(r.get("reported_scale")).startswith("per "):
            mult = float(re.search(r"per ([\d,]+)", r["reported_scale"]).group(1).replace(",", ""))
            k = group_key(vocab, r["group"])
            episodes = [x for x in episodes_by.get(k, []) if x["outcome"] in (r["outcome"], "serious_infection")]
            pts = times_by.get(k, [])
            for ev in episodes or [None]:
                for i in pts or [None]:
                    if ev is None and i is None:
                        continue
                    e = ev["events"] if ev else None
                    pt = times[i]["person_time"] if i is not None else None
                    if e is not None and pt:
                        rate = mult * e / pt
                        if abs(rate - r["reported_value"]) > 0.006 + 0.02 * r["reported_value"]:
                            continue
                    if e is not None:
                        r["events"], r["unit"] = e, "episodes"
                        r["evidence"] += [x for x in ev["evidence"] if x not in r["evidence"]]
                        r["total"] = ev.get("total")
                    if pt:
                        r["person_time"], r["time_unit"] = pt, times[i]["time_unit"]
                        r["evidence"] += [x for x in times[i]["evidence"] if x not in r["evidence"]]
                        used_times.add(i)
                    break
                if r.get("person_time"):
                    break
            missing = [k.replace("_", "-") for k in ("events", "person_time") if r.get(k) is None]
            if missing:
                r["flags"].append(f"rate printed without matching {' and '.join(missing)} in the text")
        out.append(r)
    for i, t in enumerate(times):
        if i not in used_times:
            t["outcome"] = "person_time"
            t["flags"].append("person-time without a rate in the text")
            out.append(t)
    return out
