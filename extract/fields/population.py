"""Population: who was enrolled, treated, analysed or lost, and how the cohort splits into groups.

Why these rules: a cohort size is a count of people *with a cohort verb* ("a total of 103
patients … were identified", "the remaining 96 were treated", "seven patients were lost at
follow-up"); a count with a qualifier ("49 patients diagnosed after 2015", "3 patients with
IPEX" when the cohort is larger) is a subgroup. A distribution row ("five (29.4%) … AIHA",
"MMF (35, 36%)") is only taken when its denominator is the cohort: the printed percent must
agree with count/cohort, otherwise the percent belongs to a subgroup and stays with it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..nlp import Sentence, Term
from ..numbers import Proportion, parse_number
from ..numbers import role as number_role
from .single_case import single_case
from .base import Context, finding

_SUBJECT = (r"(?:patients?|children|subjects?|cases?|participants?|individuals?|adults?|infants?|persons?|people|recipients?|"
            r"boys?|girls?|men|women|pts)")
_NUMTOK = r"(?:\d{1,3}(?:,\d{3})+|\d+|(?:[Tt]wenty|[Tt]hirty|[Ff]orty|[Ff]ifty|[Ss]ixty|[Ss]eventy|[Ee]ighty|[Nn]inety)(?:-(?:one|two|three|four|five|six|seven|eight|nine))?|[Oo]ne|[Tt]wo|[Tt]hree|[Ff]our|[Ff]ive|[Ss]ix|[Ss]even|[Ee]ight|[Nn]ine|[Tt]en|[Ee]leven|[Tt]welve|[Tt]hirteen|[Ff]ourteen|[Ff]ifteen|[Ss]ixteen|[Ss]eventeen|[Ee]ighteen|[Nn]ineteen)"
_COHORT_COUNT = re.compile(
    r"(?P<pre>\b(?i:a total of|in total|of the|the remaining|remaining|overall,?|all|total of|including|in)\s+)?"
    r"(?<![\d.,/])(?P<n>%s)(?![\d.,]\d)"
    # "103 patients", "24 eligible children", or a bare "the remaining 96 were …" (never "two hospitals were …")
    r"(?:(?:\s+(?:consecutive|eligible|adult|paediatric|pediatric|evaluable|unrelated|[a-z]+-?[a-z]*)){0,2}?\s+(?P<noun>%s)\b"
    r"|(?=\s+(?:were|was|had)\b))" % (_NUMTOK, _SUBJECT))
_N_EQUALS = re.compile(r"\(\s*[nN]\s*=\s*(?P<n>\d+)\s*\)")
_LEAVING = re.compile(r"\bleaving\s+(?P<n>\d+|[a-z]+)\s+(?:\w+\s+)?(?:for (?:the )?analysis|evaluable|analy[sz]ed|for evaluation)", re.I)
_VERBS = [
    ("lost_to_follow_up", re.compile(r"\blost (?:to|at|during) follow|\bdropped out|\bwithdr[ae]w", re.I)),
    ("analysed", re.compile(r"\b(?:were|was) (?:analy[sz]ed|evaluable|assessable|evaluated)\b|\bevaluable\b", re.I)),
    ("treated", re.compile(r"\b(?:treated|received|were given|underwent|used|started|initiated|switched|converted|"
                           r"administered|on (?:sirolimus|treatment))\b|\buse of\b", re.I)),
    ("enrolled", re.compile(r"\b(?:identified|enrolled|included|recruited|screened|registered|eligible|studied|reviewed|describe|described|randomi[sz]ed|allocated|assigned)\b", re.I)),
]
_SUBGROUP_QUALIFIER = re.compile(r"^\s*(?:\w+\s+)?(?:who\b|diagnosed\s+(?:after|before|since|between|in)|aged\b|older\b|younger\b|"
                                 r"under\s+\d|above\s+\d|over\s+\d|with\s+(?:at least|a|an|no)\b)", re.I)
_PERIOD_GROUP = re.compile(r"\b(?P<phrase>(?:diagnosed|treated|enrolled|included|started treatment)\s+(?:after|before|since|between|from|in)\s+(?:19|20)\d\d(?:\s+and\s+(?:19|20)\d\d)?)")
_SEX = re.compile(r"(?P<n>\d+)\s+(?P<sex>female|male|girls|boys|women|men)\b(?:\s+patients)?\s*[,(]\s*(?P<p>\d+(?:\.\d+)?)\s?%", re.I)
_AGE = re.compile(r"\b(?P<stat>median|mean)\s+age\s+(?:at [a-z]+\s+)?(?:of\s+|was\s+|:\s*)?(?P<v>\d+(?:\.\d+)?)\s*(?P<unit>years|months|yrs|y)\b"
                  r"(?:\s*\(\s*(?P<what>IQR|range|SD)[:,]?\s*(?P<spread>[\d.\u2013\- ]+?)\s*\))?", re.I)


@dataclass
class Cohort:
    """The study's cohort counts (``enrolled``, ``treated``…) and the rows that state them."""

    counts: dict[str, int] = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)
    arms: dict[int, tuple[str, str] | None] = field(default_factory=dict)  # arm size → (group as printed, drug label)

    @property
    def total(self) -> int | None:
        """The cohort outcomes are counted in: analysed, else treated, else enrolled."""
        for key in ("analysed", "treated", "enrolled"):
            if key in self.counts:
                return self.counts[key]
        return None

    def denominators(self) -> set[int]:
        return (set(self.counts.values()) - {self.counts.get("lost_to_follow_up")}) | set(self.arms)

    def arm_of(self, total: int | None) -> tuple[str, str] | None:
        """The treatment arm whose size is ``total`` (None when no arm or two arms share the size)."""
        if total is None or total in self.counts.values():
            return None
        return self.arms.get(total)


def cohort(ctx: Context) -> Cohort:
    """Cohort size rows: ``enrolled``, ``treated``, ``analysed``, ``lost_to_follow_up`` (first statement wins; repeats add evidence)."""
    found: dict[str, dict] = {}
    for sent in ctx.data_sentences():
        for role, n, span, conf in _cohort_mentions(ctx, sent):
            row = found.get(role)
            if row is None:
                found[role] = finding(ctx.doc, role, [span], confidence=conf, events=n, unit="patients",
                                      flags=[] if conf >= 0.8 else ["cohort role guessed: no cohort verb"])
            elif row["events"] == n:
                ev = ctx.doc.evidence(*span)
                if ev not in row["evidence"]:
                    row["evidence"].append(ev)
    if not found:  # a case report prints no count: its one patient is the cohort
        one = single_case(ctx)
        if one:
            found["treated"] = one
    counts = {k: int(v["events"]) for k, v in found.items()}
    parent = counts.get("enrolled")
    for role, row in found.items():
        if role != "enrolled" and parent and parent > row["events"]:
            row["total"] = parent
    return Cohort(counts, list(found.values()))


def _cohort_mentions(ctx: Context, sent: Sentence):
    text = sent.text
    larger_before = False
    for m in _COHORT_COUNT.finditer(text):
        n = parse_number(m.group("n"))
        if n is None or n < 1 or not float(n).is_integer():
            continue
        s, e = m.start("n"), m.end("n")
        if m.group("n")[0].isdigit() and number_role(text, s, e, n) not in ("count", "number"):
            continue
        if re.match(r"\s*(?:\(|,)?\s*\d+(?:\.\d+)?\s?%", text[e:e + 12]) and not m.group("noun"):
            continue  # "19 (20%)" is a distribution, not a cohort
        if re.search(r"(?:/|\bof|out of)\s*$", text[max(0, s - 8):s]) and not m.group("pre"):
            continue  # the total of "13 of 17" is read with its proportion
        after = text[m.end():]
        if text[:s].count("(") > text[:s].count(")"):
            continue  # "(51 female patients, 53%)": a breakdown inside a parenthesis, not a cohort
        # a parenthesis ("(18 women; mean age 34 years)") neither ends the clause nor holds its verb
        flat = re.sub(r"\([^()]*\)", lambda x: " " * len(x.group(0)), after)
        clause_end = re.search(r"[;.]|\band\s+\w+\s+\(|\b\d+\s*\(", flat)
        clause = flat[:clause_end.start()] if clause_end else flat
        pre = (m.group("pre") or "").strip().lower()
        if _SUBGROUP_QUALIFIER.match(after) or re.match(r"\s*with\s+", after) and ctx.terms(sent, "diagnosis") \
                and larger_before:
            continue  # "of the 17 patients, 5 patients with AIHA …" is a subgroup; "24 children with ITP" a cohort
        if re.search(r"\d\s*/\s*$|\b(?:per|every)\s+$|[*×]\s*$", text[:s]):
            continue  # "13/96", "per 100 persons": a denominator of a rate or proportion
        if re.match(r"\s*(?:out\s+)?of\s+(?:the\s+)?\d", after):
            continue  # the count of a proportion ("13 out of 96 patients"); its total is read below
        if not clause_end and sent.tail:  # the sentence goes on after a table: "… (IQR 10) [Table 1] were identified."
            clause = clause + " " + ctx.doc.text[sent.tail[0]:sent.tail[1]]
        if pre in ("of the", "among the") and re.match(r"\s*,", after):
            clause = ""  # "Of the 17 patients, five … were treated for AIHA": the verb is the subgroup's
        hits = [(m.start(), name) for name, verb in _VERBS for m in [verb.search(clause[:160])] if m]
        role = min(hits)[1] if hits else None  # the verb nearest the count: "40 … were enrolled and 38 were evaluable"
        if role is None:  # "We identified a total of 58 patients"
            lead = re.split(r"[;,]", text[max(0, s - 50):s])[-1]
            role = next((name for name, verb in _VERBS if verb.search(lead)), None)
        span = (sent.start + s, sent.start + m.end())
        if role:
            yield role, int(n), span, 0.9
        elif pre in ("of the",) and s < 12:
            yield "enrolled", int(n), span, 0.7
        larger_before = True
    for m in _N_EQUALS.finditer(text):  # "adults with PRCA received sirolimus (n = 40)"
        lead = re.split(r"[;]|\.\s", text[:m.start()])[-1][-80:]
        hits = [(x.start(), name) for name, verb in _VERBS for x in verb.finditer(lead)]
        if hits:
            yield max(hits)[1], int(m.group("n")), (sent.start + m.start("n"), sent.start + m.end("n")), 0.85
    for m in _LEAVING.finditer(text):  # "one was lost to follow-up, leaving 12 for analysis"
        yield "analysed", int(parse_number(m.group("n"))), (sent.start + m.start("n"), sent.start + m.end("n")), 0.85
    # the total of "13 out of 96 patients treated with …" is the treated cohort
    for p in ctx.proportions(sent):
        if p.total is None:
            continue
        tail = ctx.doc.text[p.span[1]:sent.end]
        if re.match(r"\s*(?:who were\s+|were\s+)?(?:treated|receiving|on)\b", tail):
            yield "treated", int(p.total.value), (p.total.start, p.total.end), 0.85


def consistent(count: int, pct: float | None, total: int | None) -> bool:
    """A printed percent agrees with count/total when rounded or truncated (±1 point)."""
    if pct is None or not total:
        return pct is None
    return abs(100.0 * count / total - pct) <= 1.05


def sex_and_age(ctx: Context, coh: Cohort) -> list[dict]:
    """``female``/``male`` counts and median/mean age, where printed."""
    rows = []
    base = coh.counts.get("enrolled") or coh.total
    for sent in ctx.data_sentences():
        for m in _SEX.finditer(sent.text):
            sex = "female" if m.group("sex").lower() in ("female", "girls", "women") else "male"
            n, pct = int(m.group("n")), float(m.group("p"))
            span = (sent.start + m.start(), sent.start + m.end())
            rows.append(finding(ctx.doc, sex, [span], events=n, unit="patients", total=base,
                                reported_value=pct, reported_scale="percent", confidence=0.9))
        for m in _AGE.finditer(sent.text):
            spread = f"{m.group('what')} {m.group('spread').strip()}" if m.group("what") else None
            span = (sent.start + m.start(), sent.start + m.end())
            rows.append(finding(ctx.doc, "age", [span], reported_value=float(m.group("v")),
                                reported_scale=f"{m.group('stat').lower()} {_unit(m.group('unit'))}",
                                flags=[spread] if spread else [], confidence=0.9))
    return rows


def _unit(u: str) -> str:
    return "months" if u.lower().startswith("m") else "years"


# --- distributions ---------------------------------------------------------------------------
_GAP_BEFORE = re.compile(r"[\s(]*(?:(?:patients|cases|alone|only|failure|monotherapy|therapy|treatment)\s*)*[\s(]*", re.I)
_MEMBERSHIP = re.compile(r"\s*(?:\w+\s+){0,2}?(?:were|was|had|suffered|for)\b", re.I)


def adjacent_group(ctx: Context, sent: Sentence, p: Proportion, kind: str, next_start: int) -> list[Term]:
    """Terms of ``kind`` naming the group of proportion ``p``: just before its parenthesis, else after it in its clause."""
    found = ctx.terms(sent, kind)
    text = ctx.doc.text
    before = [t for t in found if t.end <= p.span[0] and _GAP_BEFORE.fullmatch(text[t.end:p.span[0]])]
    if before:
        return [before[-1]]
    after = [t for t in found if p.span[1] <= t.start < next_start]
    if after:
        gap = text[p.span[1]:after[0].start]
        if p.total is not None and not _MEMBERSHIP.match(gap):
            return []  # "13 out of 96 patients treated with X developed …" counts an outcome, not an arm
        if ";" not in gap and len(gap) <= 80:
            specific = [t for t in after if t.label not in ctx.vocab.terms("generic").get(kind, [])]
            return [(specific or after)[0]]
    return []


def distribution(ctx: Context, coh: Cohort, kind: str, group_type: str, phrase=None) -> list[dict]:
    """Rows ``patients`` per group of ``kind`` (diagnosis or drug) whose denominator is the cohort.

    ``phrase(ctx, sent, term)`` may widen a term into the group as printed ("SR after MMF failure").
    """
    rows: list[dict] = []
    denominators = coh.denominators()
    for sent in ctx.data_sentences():
        props = [p for p in ctx.proportions(sent) if p.percent is not None or p.total is not None]
        if not props:
            continue
        groups = _respectively(ctx, sent, props, kind)
        for i, p in enumerate(props):
            nxt = props[i + 1].span[0] if i + 1 < len(props) else sent.end
            terms_ = groups.get(i) or adjacent_group(ctx, sent, p, kind, nxt)
            if not terms_:
                continue
            total = _cohort_total(p, denominators, coh)
            if total is None:
                continue
            t = terms_[0]
            start, end, labels = phrase(ctx, sent, t) if phrase else (t.start, t.end, [t.label])
            label = "+".join(dict.fromkeys(labels))
            start, end = _abbreviation(ctx, kind, label, start, end)
            values = {"group": ctx.doc.text[start:end], "group_type": group_type, "events": p.events,
                      "unit": "patients", "total": total}
            values["population" if kind == "diagnosis" else "intervention"] = label
            if p.percent is not None:
                values.update(reported_value=p.percent.value, reported_scale="percent")
            rows.append(finding(ctx.doc, "patients", [p.span, (start, end)], confidence=0.85, **values))
    return rows


def _abbreviation(ctx: Context, kind: str, label: str, start: int, end: int) -> tuple[int, int]:
    """Prefer the printed abbreviation that follows a spelled-out term: "autoimmune haemolytic anaemia (AIHA)" → AIHA."""
    m = re.match(r"\s*\(([^()]{1,12})\)", ctx.doc.text[end:end + 16])
    if m and ctx.vocab.normalise(kind, m.group(1)) == label:
        return end + m.start(1), end + m.end(1)
    return start, end


def _cohort_total(p: Proportion, denominators: set[int], coh: Cohort) -> int | None:
    if p.total is not None:
        return int(p.total.value) if int(p.total.value) in denominators else None
    for total in sorted(denominators, key=lambda d: (d != coh.total, d)):
        if p.events < total and consistent(p.events, p.percent.value if p.percent else None, total):
            return total
    return None


def _respectively(ctx: Context, sent: Sentence, props: list[Proportion], kind: str) -> dict[int, list[Term]]:
    """"19 (20%) and 47 (49%) … ALPS and ALPS-like, respectively": pair counts and terms in order."""
    if "respectively" not in sent.text:
        return {}
    last = props[-1].span[1]
    after = [t for t in ctx.terms(sent, kind) if t.start >= last]
    run = [i for i, p in enumerate(props) if not any(t.start < p.span[0] for t in ctx.terms(sent, kind) if t.start > props[0].span[0])]
    if len(after) >= len(run) >= 2:
        return {i: [after[j]] for j, i in enumerate(run)}
    return {}


def period_groups(ctx: Context, coh: Cohort) -> list[dict]:
    """Subgroups by period ("49/103 (47.6%) were diagnosed after 2015")."""
    rows = []
    for sent in ctx.data_sentences():
        for p in ctx.proportions(sent):
            m = _PERIOD_GROUP.search(ctx.doc.text[p.span[1]:sent.end])
            if not m or m.start() > 30:
                continue
            total = int(p.total.value) if p.total else None
            if total is None or total not in coh.denominators():
                continue
            s = p.span[1] + m.start("phrase")
            rows.append(finding(ctx.doc, "patients", [p.span, (s, s + len(m.group("phrase")))], group=m.group("phrase"),
                                group_type="period", events=p.events, unit="patients", total=total,
                                reported_value=p.percent.value if p.percent else None,
                                reported_scale="percent" if p.percent else None, confidence=0.85))
    return rows
