"""Numbers as printed in clinical papers, with their exact offsets and what they are.

Why a module of its own: every field extractor needs the same answers — where are the
numbers in this sentence, what value does "Thirty", "6,620", "0·002" or "6 620" stand for,
and is this number a count at all or a year, a p-value, a dose, an age, a reference mark?
Offsets always index the text given, so quotes stay verifiable (``text[start:end]``).

Structured forms found here (each returns its parts with offsets):
- :func:`find_numbers`: digits (thousands separators ``,`` thin space, decimal ``.`` or ``·``)
  and number words (``Twenty-one``), each with a :func:`role`;
- :func:`find_proportions`: "13 of 17 (76.4%)", "13/96 (13%)", "Thirty (31%) out of 96",
  "five (29.4%)", "(35, 36%)", "n = 12";
- :func:`find_intervals`: "(95% CI 0.09–0.3)", "95% CI: 3.2-43.5";
- :func:`find_rate_scale`: "*100 p/m/r", "per 100 person-months", "person/*100 months/risk".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
WORD_VALUES: dict[str, int] = {w: i for i, w in enumerate(_UNITS)}
WORD_VALUES.update({w: 20 + 10 * i for i, w in enumerate(_TENS)})
WORD_VALUES["none"] = 0
WORD_VALUES["no"] = 0

_SEP = "[-\u2010\u2011\u2013 ]"
_WORD_RE = re.compile(
    r"(?<![\w-])(?:(?:%s)(?:%s(?:%s))?|%s)(?![\w-])" % (
        "|".join(_TENS), _SEP, "|".join(_UNITS[1:10]), "|".join(_UNITS[:20])),
    re.IGNORECASE)
_THOUSANDS = "[,\u2009\u202f\u00a0]"
_DIGIT_RE = re.compile(
    r"(?<![\w.\u00b7/-])(?:(?<=[-\u2013])|)(\d{1,3}(?:%s\d{3})+|\d+)(?:([.\u00b7])(\d+))?(?![\w]|[.\u00b7]\d)" % _THOUSANDS)
DASH = "[-\u2010\u2011\u2012\u2013\u2014\u2212]"


@dataclass(frozen=True)
class Number:
    """One printed number: ``value``, its span ``[start, end)`` and its ``role``."""

    value: float
    start: int
    end: int
    text: str
    is_word: bool = False
    role: str = "number"

    @property
    def is_integer(self) -> bool:
        return float(self.value).is_integer() and not re.search(r"[.\u00b7]", self.text)


def parse_number(text: str) -> float | None:
    """Value of one printed number ("6,620" → 6620, "0·002" → 0.002, "Twenty-one" → 21)."""
    t = text.strip()
    low = re.sub(_SEP, " ", t.lower())
    if low in WORD_VALUES:
        return float(WORD_VALUES[low])
    parts = low.split()
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in _UNITS[1:10]:
        return float(WORD_VALUES[parts[0]] + WORD_VALUES[parts[1]])
    t = re.sub(_THOUSANDS + r"(?=\d{3}\b)", "", t).replace("\u00b7", ".")
    try:
        return float(t)
    except ValueError:
        return None


# --- roles -------------------------------------------------------------------------------
_MONTHS = ("jan feb mar apr may jun jul aug sep oct nov dec january february march april june july august "
           "september october november december").split()
_MEASURE_UNITS = re.compile(
    r"\s?(?:mg|g|kg|µg|μg|mcg|ng|pg|mmol|µmol|mol|ml|mL|l|L|dl|dL|IU|U|kU|cells|x\s?10|×\s?10|mm|cm|°C|%\s?(?:CI|confidence))"
    r"(?:/[A-Za-z0-9²]+)*\b")
_TIME_UNITS = re.compile(r"\s?-?(?:months?|years?|weeks?|days?|hours?|mo|yrs?|wk|y)\b", re.IGNORECASE)


def role(text: str, start: int, end: int, value: float) -> str:
    """What the number at ``text[start:end]`` is, from its neighbourhood.

    ``year``, ``date``, ``p_value``, ``superscript``, ``reference``, ``citation`` (volume,
    pages, DOI, identifiers), ``measure`` (dose or lab value), ``age``, ``duration``,
    ``percent``, ``count`` (a whole number that may count people or events) or ``number``.
    """
    before = text[max(0, start - 40):start]
    after = text[end:end + 30]
    token_before = re.sub(r".*[\s(\[]", "", before)
    if re.search(r"<sup>[^<]*$", before) and after.lstrip().startswith(("</sup>", ",", "\u2020", "*")) or \
            re.search(r"<sup>[^<]*$", before) or re.search(r"\^[\d,*\u2020\u2021§¶#]*$", before):
        return "superscript"  # "^" marks a superscript in PDF text (extract/readers/pdf_writer.py)
    if re.search(r"(?:doi|DOI|https?://|www\.|NCT|ChiCTR|ISRCTN|EudraCT|PMID|PMCID)[:\s]*\S*$", before) or \
            re.match(r":\S", after) or re.search(r"[:;(]\s*$", before) and re.search(r"\d[:;(]\s*$", before) or \
            re.search(r"\d\s?\(\d+\)\s?:\s?$", before) or token_before.endswith(("e", "E")) and token_before[:-1].isdigit():
        return "citation"
    if re.search(r"\bp\s*[=<>≤≥]\s*$", before, re.IGNORECASE) or re.search(r"\bp-?value\s*(?:of|was|=)?\s*$", before, re.I):
        return "p_value"
    if after.startswith("%") or after.startswith(" %"):
        return "percent"
    if re.search(r"\b(?:IQR|SD|SE|SEM|range|median|mean|interquartile range|±)\s*[:,=]?\s*$", before, re.I):
        return "statistic"
    low_after = after.lower().lstrip()
    low_before = before.lower()
    is_int = float(value).is_integer()
    if is_int and 1900 <= value <= 2100 and not re.match(r"\s*(?:patients|children|subjects|cases|events|months|person)", after, re.I):
        return "year"
    if is_int and value <= 31 and (any(low_after.startswith(m + " ") or low_after.startswith(m + ".") for m in _MONTHS)):
        return "date"
    if _MEASURE_UNITS.match(after):
        return "measure"
    if re.search(r"\b(?:aged?|age of|ages|median age|mean age|years? old)\b[^.;()]{0,20}$", low_before) or \
            re.match(r"\s?-?(?:years?|yrs?|months?)[-\s]old", low_after):
        return "age"
    if _TIME_UNITS.match(after):
        return "duration"
    if re.match(r"\s*(?:times|fold|x\b)", low_after):
        return "number"
    return "count" if is_int and value >= 0 else "number"


def find_numbers(text: str, words: bool = True) -> list[Number]:
    """Every printed number in ``text`` with its value and role, in order of position."""
    found: list[Number] = []
    for m in _DIGIT_RE.finditer(text):
        value = parse_number(m.group(0))
        if value is None:
            continue
        found.append(Number(value, m.start(), m.end(), m.group(0), False, role(text, m.start(), m.end(), value)))
    if words:
        for m in _WORD_RE.finditer(text):
            low = m.group(0).lower()
            if low in ("no", "none", "zero", "one") and not re.match(r"\s+(?:of\s+(?:the|them|these|those)\s+)?(?:\w+\s+)?(?:patients?|children|subjects?|cases?|events?|deaths?)\b", text[m.end():m.end() + 40], re.I):
                continue  # "one of the first", "no data": only counts when a countable noun follows
            value = parse_number(m.group(0))
            if value is None:
                continue
            found.append(Number(value, m.start(), m.end(), m.group(0), True, "count"))
    found.sort(key=lambda n: n.start)
    return found


# --- proportions ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Proportion:
    """A count, optionally of a total and with a printed percent, all with spans.

    ``span`` covers the whole printed statement ("13 of 17 patients (76.4%)").
    """

    count: Number
    total: Number | None
    percent: Number | None
    span: tuple[int, int]

    @property
    def events(self) -> int:
        return int(self.count.value)


_NUM = r"(?:\d{1,3}(?:%s\d{3})+|\d+)" % _THOUSANDS
_WORDNUM = _WORD_RE.pattern.replace("(?<![\\w-])", "").replace("(?![\\w-])", "")
_ANY = r"(?:%s|%s)" % (_NUM, _WORDNUM)
_PCT = r"(\d+(?:[.\u00b7]\d+)?)\s?%"
_NOUN = r"(?:\s+(?:[\w-]+\s+){0,3}?(?:patients?|children|subjects?|cases?|participants?|individuals?|adults?|infants?|persons?|people|recipients?|responders|boys|girls|men|women|pts))?"
_PROP_PATTERNS = [
    # 75% (18/24) / 59% (19 of 32): the percent printed first
    re.compile(r"%s\s*\(\s*(?P<c>%s)\s*(?:/|of|out of)\s*(?P<t>%s)\s*\)" % (_PCT.replace("(", "(?P<p>", 1), _NUM, _NUM), re.I),
    # 13 of 17 patients (76.4%) / 13 out of 96 patients / 13 of the 17
    re.compile(r"(?P<c>%s)\s+(?:out\s+)?of\s+(?:the\s+)?(?:remaining\s+)?(?P<t>%s)%s(?:\s*\(\s*%s\s*\))?" % (_ANY, _NUM, _NOUN, _PCT.replace("(", "(?P<p>", 1)), re.I),
    # 13/96 patients (13%) / 10/13, 76%
    re.compile(r"(?P<c>%s)\s?/\s?(?P<t>%s)%s(?:\s*(?:\(\s*|,\s*)%s\s*\)?)?" % (_NUM, _NUM, _NOUN, _PCT.replace("(", "(?P<p>", 1)), re.I),
    # Thirty (31%) out of 96 patients / Eleven (84.6%) out of 13
    re.compile(r"(?P<c>%s)%s\s*\(\s*%s\s*\)\s+(?:out\s+)?of\s+(?:the\s+)?(?:remaining\s+)?(?P<t>%s)" % (_ANY, _NOUN, _PCT.replace("(", "(?P<p>", 1), _NUM), re.I),
    # five (29.4%) / 19 (20%) / 35, 36% inside parentheses
    re.compile(r"(?P<c>%s)%s\s*(?:\(\s*|,\s*)%s(?:\s*\))?" % (_ANY, _NOUN, _PCT.replace("(", "(?P<p>", 1)), re.I),
    # n = 12 / N=12
    re.compile(r"\b[nN]\s?=\s?(?P<c>%s)" % _NUM),
]


def _mk(text: str, m: re.Match, group: str, offset: int) -> Number | None:
    if m.group(group) is None:
        return None
    s, e = m.span(group)
    value = parse_number(m.group(group))
    if value is None:
        return None
    return Number(value, s + offset, e + offset, m.group(group), not m.group(group)[0].isdigit(),
                  "percent" if group == "p" else "count")


def find_proportions(text: str, offset: int = 0) -> list[Proportion]:
    """Count statements in ``text`` (offsets shifted by ``offset``), earliest and longest first."""
    out: list[Proportion] = []
    taken: list[tuple[int, int]] = []
    for pat in _PROP_PATTERNS:
        for m in pat.finditer(text):
            s, e = m.span()
            if any(s < te and ts < e for ts, te in taken):
                continue
            c = _mk(text, m, "c", offset)
            if c is None or not float(c.value).is_integer():
                continue
            cs, ce = m.span("c")
            r = role(text, cs, ce, c.value)
            if r in ("year", "date", "p_value", "superscript", "citation", "age", "measure"):
                continue
            if re.search(r"[.\u00b7]\d*$", text[max(0, cs - 3):cs]) or re.match(r"[.\u00b7]\d", text[ce:ce + 2]):
                continue  # part of a decimal
            t = _mk(text, m, "t", offset) if "t" in pat.groupindex else None
            p = _mk(text, m, "p", offset) if "p" in pat.groupindex else None
            if t is not None and t.value < c.value:
                continue
            out.append(Proportion(c, t, p, (s + offset, e + offset)))
            taken.append((s, e))
    out.sort(key=lambda p: p.span)
    return out


# --- intervals and rates ---------------------------------------------------------------------
@dataclass(frozen=True)
class Interval:
    low: Number
    high: Number
    level: float | None
    span: tuple[int, int]


_DEC = r"-?\d+(?:[.\u00b7]\d+)?"
_CI_RE = re.compile(
    r"(?:(?P<lvl>\d{2}(?:\.\d)?)\s?%\s?)?(?:CI|confidence interval)\s*[:,]?\s*(?:=\s*)?\(?\s*"
    + r"(?P<lo>{d})\s*(?:{dash}|to|,)\s*(?P<hi>{d})".format(d=_DEC, dash=DASH), re.I)


def find_intervals(text: str, offset: int = 0) -> list[Interval]:
    """Printed confidence intervals ("95% CI 0.09–0.3"): bounds with spans and the level."""
    out = []
    for m in _CI_RE.finditer(text):
        lo = Number(parse_number(m.group("lo")), m.start("lo") + offset, m.end("lo") + offset, m.group("lo"), role="ci")
        hi = Number(parse_number(m.group("hi")), m.start("hi") + offset, m.end("hi") + offset, m.group("hi"), role="ci")
        lvl = float(m.group("lvl")) if m.group("lvl") else None
        out.append(Interval(lo, hi, lvl, (m.start() + offset, m.end() + offset)))
    return out


_UDEC = r"\d+(?:[.\u00b7]\d+)?"
_RANGE_RE = re.compile(r"(?P<lo>%s)\s?(?:%s|to)\s?(?P<hi>%s)" % (_UDEC, DASH, _UDEC))


def find_ranges(text: str, offset: int = 0) -> list[tuple[Number, Number, tuple[int, int]]]:
    """Ranges "0-9", "2,494–3,132" outside confidence intervals (bounds with spans)."""
    out = []
    for m in _RANGE_RE.finditer(text):
        lo, hi = parse_number(m.group("lo")), parse_number(m.group("hi"))
        if lo is None or hi is None:
            continue
        out.append((Number(lo, m.start("lo") + offset, m.end("lo") + offset, m.group("lo")),
                    Number(hi, m.start("hi") + offset, m.end("hi") + offset, m.group("hi")),
                    (m.start() + offset, m.end() + offset)))
    return out


_TIME_WORD = r"(?P<unit>months?|years?|days?|weeks?|m|y|d|mo|yr)"
_RATE_SCALE_RES = [
    # *100 p/m/r, per 100 person-months, /100 patient-years, per 1,000 person-days
    re.compile(r"^\s*(?:episodes?\s+|events?\s+|infections?\s+)?(?:\\?\*|×|x|per|/)\s*(?P<mult>1(?:,?000)*|10+)\s*"
               r"(?:persons?|patients?|p|pt)?\s*[-/\s]?\s*%s\b(?:\s*(?:/\s*r|of\s+)?\s*(?:at\s+)?risk)?" % _TIME_WORD, re.I),
    # person/*100 months/risk
    re.compile(r"^\s*(?:persons?|patients?)\s*/\s*\\?\*?\s*(?P<mult>1(?:,?000)*|10+)\s*%s(?:\s*/\s*risk)?" % _TIME_WORD, re.I),
    # per 100 PY / PM
    re.compile(r"^\s*(?:per|/)\s*(?P<mult>1(?:,?000)*|10+)\s*(?:P(?P<unit>Y|M|D))\b"),
]
_UNIT_NAMES = {"m": "months", "mo": "months", "month": "months", "months": "months",
               "y": "years", "yr": "years", "year": "years", "years": "years",
               "d": "days", "day": "days", "days": "days", "week": "weeks", "weeks": "weeks"}


def find_rate_scale(text: str, pos: int) -> tuple[str, str, int] | None:
    """The rate scale printed right after ``pos``: ``("per 100 person-months", "months", end)`` or None."""
    window = text[pos:pos + 60]
    for pat in _RATE_SCALE_RES:
        m = pat.match(window)
        if m:
            unit = _UNIT_NAMES.get(m.group("unit").lower(), "months")
            mult = m.group("mult").replace(",", "")
            return f"per {mult} person-{unit}", unit, pos + m.end()
    return None
