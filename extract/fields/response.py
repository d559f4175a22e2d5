"""Response: complete, partial, overall and no response, relapse — as events/total and percent.

Why clause-local reading: a response sentence usually lists several outcomes with their
counts ("CR and PR … in 13 of 17 patients (76.4%) and nonresponse (NR) in four patients
(23.5%)"); each count takes the outcome named just before it (after the previous count), else
the one just after it. A subgroup opened by "Among the 13 patients who achieved CR" keeps its
own denominator for "three of them …": a percent of a subgroup never becomes a percent of the
cohort. A count computed from a printed percent is flagged ``derived``.
"""
from __future__ import annotations

import re

from ..nlp import Sentence, Term
from ..numbers import Proportion, parse_number
from .base import Context, finding
from .single_case import single_case_rows
from .population import Cohort, consistent

RESPONSE = ("response_overall", "response_complete", "response_partial", "no_response", "relapse")
_AMONG = re.compile(r"\b(?:Among|Of|In)\s+(?:the|these)\s+(?P<n>\d+)\s+(?:patients|children|subjects|cases)\s+"
                    r"(?P<who>(?:who|that|with)\b[^,;]{3,80}?),", re.I)
_OF_THEM = re.compile(r"\b(?P<c>\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+(?:of\s+(?:them|these|those))\b", re.I)
_RESPONDERS = re.compile(r"\b(?:achieved|responded|responders?|in remission|CR|PR|response)\b", re.I)
_TIME_TO = re.compile(r"\b(?P<stat>mean|median)\s+(?:time to (?:response|remission)|response time|time of response)\s+(?:was|of|:)?\s*"
                      r"(?P<v>\d+(?:[.\u00b7]\d+)?)\s*(?P<unit>months?|weeks?|days?)"
                      r"(?:\s*\((?:range|IQR)[,:]?\s*(?P<lo>\d+(?:\.\d+)?)\s*[-\u2013]\s*(?P<hi>\d+(?:\.\d+)?)\s*(?:months?|weeks?|days?)?\))?", re.I)
TIME_POINT = re.compile(r"\b(?:at|after|within|by)\s+(?:(?:\d+|one|two|three|four|five|six|ten|twelve)\s+(?:months?|years?|weeks?|days?)|"
                        r"(?:day|week|month|year)\s+\+?\d+)\b", re.I)
_DERIVED_PCT = re.compile(r"(?P<p>\d+(?:[.\u00b7]\d+)?)\s?%\s+(?P<of>of\s+(?:them|these|those)\s+)?", re.I)


#: an outcome named after a count belongs to it only within this many characters and within its
#: clause: "103 patients (51 female patients, 53%) with a median age of 9 years were identified,
#: and patients with and without SIEs were compared" gives no serious-infection count of 51
AFTER_REACH = 80
_CLAUSE_BREAK = re.compile(r";|,\s+(?:and|but|whereas|while)\b")


def outcome_for(ctx: Context, sent: Sentence, start: int, end: int, prev_end: int, next_start: int,
                labels: tuple[str, ...]) -> tuple[str, Term] | None:
    """The outcome a count at ``[start, end)`` belongs to: named before it in its clause, else right after."""
    found = [t for t in ctx.terms(sent, "outcome") if t.label in labels]
    before = [t for t in found if prev_end <= t.start and t.end <= start and ";" not in ctx.doc.text[t.end:start]]
    right = [t for t in found if end <= t.start <= end + 3]
    if right and (not before or start - before[-1].end > 10):
        return right[0].label, right[0]  # "including 8 (42.1%) complete responses": the term that follows at once
    if before:
        names = {t.label for t in before}
        if {"response_complete", "response_partial"} <= names and "response_overall" not in names:
            return "response_complete_or_partial", before[0]
        return before[-1].label, before[-1]
    after = [t for t in found if end <= t.start < min(next_start, end + AFTER_REACH)
             and not _CLAUSE_BREAK.search(ctx.doc.text[end:t.start])]
    if after:
        return after[0].label, after[0]
    return None


def response_rows(ctx: Context, coh: Cohort) -> list[dict]:
    """Response outcome rows with events, total, printed percent and evidence."""
    rows: list[dict] = []
    for sent in ctx.data_sentences():
        if not any(t.label in RESPONSE for t in ctx.terms(sent, "outcome")):
            continue
        rows += _sentence_rows(ctx, sent, coh)
        rows += bare_counts(ctx, sent, RESPONSE, coh.total)
        rows += _percent_only(ctx, sent, coh)
        rows += _time_to_response(ctx, sent)
    return rows + one_patient_rows(ctx, coh, RESPONSE, rows)


def one_patient_rows(ctx: Context, coh: Cohort, labels: tuple[str, ...], rows: list[dict]) -> list[dict]:
    """A case report's outcomes said without numbers, for the outcomes ``rows`` do not state already."""
    if coh.total != 1:
        return []
    have = {r["outcome"] for r in rows}
    return [r for r in single_case_rows(ctx, labels) if r["outcome"] not in have]


BARE_COUNT = re.compile(r"(?<![\w.,/-])(?P<n>\d+|[A-Z]?[a-z]+(?:-[a-z]+)?)(?:\s+(?:patients?|children|subjects?|cases?|recipients?|"
                   r"boys|girls|men|women|adults|infants)\b(?!\s*\()|(?=\s+(?:had|did|were|showed)\b))", re.I)


def bare_counts(ctx: Context, sent: Sentence, labels: tuple[str, ...], total: int | None) -> list[dict]:
    """"Two patients discontinued everolimus", "in 4 patients": counts without percent or total, of the cohort."""
    out = []
    taken = [p.span for p in ctx.proportions(sent)]
    found = [t for t in ctx.terms(sent, "outcome") if t.label in labels]
    for m in BARE_COUNT.finditer(sent.text):
        n = parse_number(m.group("n"))
        s, e = sent.start + m.start(), sent.start + m.end()
        if n is None or not float(n).is_integer() or any(a < e and s < b for a, b in taken) or total is None or n > total:
            continue
        if re.search(r"\b(?:of|among|the remaining|total of)\s+(?:the\s+)?$", sent.text[:m.start()], re.I):
            continue  # "of the 17 patients", "a total of 50 patients": a denominator, not an outcome count
        before = [t for t in found if t.end <= s and s - t.end <= 30 and re.search(r"\b(?:in|among)\s+$", ctx.doc.text[t.end:s])]
        after = [t for t in found if e <= t.start and t.start - e <= 25 and not re.search(r"[;,(]", ctx.doc.text[e:t.start])]
        term = (before or [None])[-1] or (after or [None])[0]
        if term is None:
            continue
        out.append(finding(ctx.doc, term.label, [(sent.start + m.start("n"), e), (term.start, term.end)],
                           events=int(n), unit="patients", total=total, confidence=0.75))
    return out


def _percent_only(ctx: Context, sent: Sentence, coh: Cohort) -> list[dict]:
    """"The overall response rate was 63%": the count is derived from the cohort, and says so."""
    out = []
    if not coh.total or re.search(r"\bcumulative\b|\bKaplan|\bactuarial\b", sent.text, re.I):
        return out  # a cumulative (time-to-event) percent is no share of the cohort: no count from it
    taken = [p.span for p in ctx.proportions(sent)]
    for m in re.finditer(r"(?<![\w.])(?P<p>\d+(?:[.\u00b7]\d+)?)\s?%", sent.text):
        s, e = sent.start + m.start(), sent.start + m.end()
        if any(a <= s < b for a, b in taken) or re.search(r"\bof\s+(?:them|these|those)\b", sent.text[m.end():m.end() + 12]):
            continue
        if re.search(r"\(\s*$", sent.text[:m.start()]):
            continue  # "(26.7%)" belongs to the count before it, read with its proportion
        if re.match(r"\s*(?:CI|confidence)", sent.text[m.end():], re.I):
            continue
        found = [t for t in ctx.terms(sent, "outcome") if t.label in RESPONSE and t.end <= s and s - t.end <= 40
                 and ";" not in ctx.doc.text[t.end:s]]
        if not found:
            continue
        pct = parse_number(m.group("p"))
        k = round(pct * coh.total / 100)
        exact = 100.0 * k / coh.total
        ok = abs(exact - pct) < 0.05 + 0.5 * 10 ** -_decimals(m.group("p")) or 0 <= exact - pct < 10 ** -_decimals(m.group("p"))
        flags = ["derived", f"count derived from {pct:g}% of {coh.total}"] if ok else [
            f"no whole count of {coh.total} gives {pct:g}%: count not derived"]
        out.append(finding(ctx.doc, found[-1].label, [(s, e), (found[-1].start, found[-1].end)],
                           events=k if ok else None, unit="patients", total=coh.total, reported_value=pct,
                           reported_scale="percent", flags=flags, confidence=0.6))
    return out


def _sentence_rows(ctx: Context, sent: Sentence, coh: Cohort) -> list[dict]:
    doc = ctx.doc
    rows = []
    among = _AMONG.search(sent.text)
    sub_total = int(among.group("n")) if among else None
    sub_group = among.group("who").strip() if among else None
    sub_span = (sent.start + among.start(), sent.start + among.end()) if among else None
    props: list[Proportion] = ctx.proportions(sent)
    prev_end = sent.start if not among else sent.start + among.end()
    last = None
    for i, p in enumerate(props):
        nxt = props[i + 1].span[0] if i + 1 < len(props) else sent.end
        if sub_span and p.span[0] < sub_span[1]:
            continue
        got = outcome_for(ctx, sent, p.span[0], p.span[1], prev_end, nxt, RESPONSE)
        if not got and last and ";" not in doc.text[prev_end:p.span[0]]:
            got = last  # "17/24 … in the sirolimus arm and 11/22 in the cyclosporine arm": the same outcome goes on
        prev_end = p.span[1] if not got or got[1].start < p.span[1] else got[1].end  # a term read after a count is used up
        if not got:
            continue
        last = got
        outcome, term = got
        total = int(p.total.value) if p.total else None
        flags = []
        if total is None:
            earlier = [q.total.value for q in props[:i] if q.total]
            for cand in ([int(earlier[-1])] if earlier else []) + ([coh.total] if coh.total else []):
                if consistent(p.events, p.percent.value if p.percent else None, cand) and p.events <= cand:
                    total = cand
                    break
        arm = coh.arm_of(total)
        where = {"group": arm[0], "group_type": "treatment", "intervention": arm[1]} if arm else {}
        point = _time_point(sent, p.span[0])
        if point:
            flags.append(f"time point: {point}")
        rows.append(finding(doc, outcome, [p.span, (term.start, term.end)], events=p.events, unit="patients", total=total,
                            reported_value=p.percent.value if p.percent else None,
                            reported_scale="percent" if p.percent else None, flags=flags, confidence=0.9 if total else 0.7,
                            **where))
    if among:
        rows += _subgroup_rows(ctx, sent, sub_total, sub_group, sub_span)
    return rows


def _time_point(sent: Sentence, start: int) -> str | None:
    """The time point that opens the clause of a count ("At 3 months, 10 of 19 …; at 6 months, 14 of 19"):
    responses counted at several time points are distinct rows, each saying when."""
    head = sent.text[:start - sent.start]
    clause = head[max(head.rfind(";"), -1) + 1:]
    found = list(TIME_POINT.finditer(clause))
    return found[-1].group(0) if found else None


def _subgroup_rows(ctx: Context, sent: Sentence, total: int, group: str, span: tuple[int, int]) -> list[dict]:
    """"three of them were NR": counts of a subgroup keep the subgroup as group and denominator."""
    rows = []
    matches = list(_OF_THEM.finditer(sent.text))
    for i, m in enumerate(matches):
        s, e = sent.start + m.start(), sent.start + m.end()
        nxt = sent.start + matches[i + 1].start() if i + 1 < len(matches) else sent.end
        got = outcome_for(ctx, sent, s, e, e, nxt, RESPONSE)
        if not got:
            continue
        n = int(parse_number(m.group("c")))
        outcome, term = got
        if outcome == "no_response" and _RESPONDERS.search(group):
            outcome = "relapse"  # responders who later do not respond have lost their response
        rows.append(finding(ctx.doc, outcome, [(s, e), (term.start, term.end), span], group=group, group_type="subgroup",
                            events=n, unit="patients", total=total, confidence=0.75,
                            flags=["subgroup of responders: denominator is the subgroup, not the cohort"]))
    for m in _DERIVED_PCT.finditer(sent.text):
        if not m.group("of"):
            continue
        s, e = sent.start + m.start(), sent.start + m.end()
        got = outcome_for(ctx, sent, s, e, e, sent.end, RESPONSE)
        if not got:
            continue
        pct = parse_number(m.group("p"))
        outcome, term = got
        rows.append(finding(ctx.doc, outcome, [(s, e), (term.start, term.end), span], group=group, group_type="subgroup",
                            events=round(pct * total / 100), unit="patients", total=total, reported_value=pct,
                            reported_scale="percent", confidence=0.6,
                            flags=["derived", f"count derived from {pct:g}% of {total}"]))
    return rows


def _decimals(printed: str) -> int:
    return len(re.split(r"[.\u00b7]", printed)[1]) if re.search(r"[.\u00b7]", printed) else 0


def _time_to_response(ctx: Context, sent: Sentence) -> list[dict]:
    rows = []
    for m in _TIME_TO.finditer(sent.text):
        unit = m.group("unit").lower().rstrip("s") + "s"
        flags = [f"range {m.group('lo')}-{m.group('hi')} {unit}"] if m.group("lo") else []
        rows.append(finding(ctx.doc, "time_to_response", [(sent.start + m.start(), sent.start + m.end())],
                            reported_value=parse_number(m.group("v")), reported_scale=f"{m.group('stat').lower()} {unit}",
                            flags=flags, confidence=0.9))
    return rows
