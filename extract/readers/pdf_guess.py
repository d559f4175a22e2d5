"""Guesses about fonts that are lost: how a font's codes read as text, and how wide its glyphs are.

Why guesses: when a PDF's font dictionaries cannot be read (a truncated file, see
``pdf_salvage``), the encoding, the ToUnicode map and the widths of every font are gone; only
the codes in the content streams and the positions the streams set remain. Each guess here is
made per font resource from that evidence and is reported, never applied silently.

- Glyph order (``GLYPH_ORDERS``): one-byte codes are read as WinAnsi, what most Latin text fonts
  use. Two-byte codes (Identity-H composite fonts) are glyph ids; the candidates are the CFF
  standard (ISOAdobe) charset order of Type 1-derived OpenType fonts such as URW Nimbus or TeX
  Gyre (glyph id = standard string id, so 1 is the space and 34 "A"), the TrueType Macintosh
  standard order (3 is the space), and Unicode itself (writers that use the code point as
  CID, such as matplotlib). The order giving the most :func:`plausibility` wins; a font with too
  few glyphs to judge takes the document's order, and a font no order reads plausibly is
  unreadable (see :func:`choose_orders`). Glyphs the order does not cover are U+FFFD. Only
  Latin, Greek and common symbols count as plausible, so a CJK font's glyphs come out unknown.
- Metrics: the standard 14 fonts' widths that pdfminer ships (Times is metric-compatible with
  Nimbus Roman, Helvetica with Nimbus Sans), chosen per font by how well they reproduce the
  distances the stream sets between runs on one baseline; Helvetica when there is no such
  evidence, because its wider glyphs may overlap but never open false word gaps.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from functools import lru_cache

UNKNOWN = "\ufffd"
GLYPH_ORDERS: tuple[str, ...] = ("winansi", "cff-standard", "truetype-mac", "unicode")
DEFAULT_METRICS = "Helvetica"
METRIC_CANDIDATES = ("Helvetica", "Helvetica-Bold", "Times-Roman", "Times-Bold", "Times-Italic",
                     "Times-BoldItalic", "Courier")  # the obliques share the upright widths
SMALL_SAMPLE = 20  # glyphs: fewer than this cannot tell glyph orders apart
# Best plausibility below which a font is unreadable (all its glyphs unknown): real text in any of
# the corpus's fonts scores 0.75-1.0; a CJK font read as WinAnsi pairs scores about 0.5.
MIN_SCORE = 0.6
_SAMPLE_STRINGS = 400  # strings per font read to score an order
_SAMPLE_RUNS = 300  # runs per font to fit the metrics

_COMMON_WORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "had", "has", "have", "in", "is", "it",
    "not", "of", "on", "or", "that", "the", "their", "there", "this", "to", "was", "were", "which", "with",
    "we", "our", "after", "all", "also", "between", "both", "but", "during", "each", "than", "these", "they", "who"))
_PLAUSIBLE_SYMBOLS = frozenset(".,;:!?()[]{}-–—‐%/+=<>'\"’‘“”«»*&#@$£€§¶°±×÷·•…†‡‰©®™_|~^`0123456789")


# --- glyph orders --------------------------------------------------------------------------------

def _iso_adobe() -> dict[int, str]:
    """Glyph id → text for the CFF ISOAdobe charset (glyph id = standard string id 1–228)."""
    from pdfminer.encodingdb import name2unicode
    from pdfminer.pdffont import CFFFont

    table = {}
    for gid, name in enumerate(CFFFont.STANDARD_STRINGS[1:229], start=1):
        try:
            table[gid] = name2unicode(name)
        except KeyError:  # a name without a code point stays unknown
            pass
    return table


class Order:
    """A way to turn one font's codes into text: ``width`` bytes per code, then a table or a codec."""

    def __init__(self, name: str, width: int, table: dict[int, str] | None, describe: str) -> None:
        self.name, self.width, self.table, self.describe = name, width, table, describe

    def codes(self, s: bytes) -> list[int]:
        if self.width == 1:
            return list(s)
        return [(s[i] << 8) | s[i + 1] for i in range(0, len(s) - 1, 2)]

    def text(self, code: int) -> str:
        if self.table is not None:
            return self.table.get(code, UNKNOWN)
        if self.name == "winansi":
            c = bytes([code]).decode("cp1252", "replace")
        else:  # unicode
            c = chr(code) if not 0xD800 <= code < 0xE000 else UNKNOWN
        return c if c == " " or c.isprintable() else UNKNOWN


@lru_cache(maxsize=1)
def orders() -> tuple[Order, ...]:
    """The candidate glyph orders, in ``GLYPH_ORDERS`` order."""
    return (
        Order("winansi", 1, None, "one-byte codes read as WinAnsi"),
        Order("cff-standard", 2, _iso_adobe(), "two-byte glyph ids in the CFF standard (ISOAdobe) charset order"),
        Order("truetype-mac", 2, {3 + k: chr(32 + k) for k in range(95)},
              "two-byte glyph ids in the TrueType Macintosh standard order"),
        Order("unicode", 2, None, "two-byte codes read as Unicode code points"),
    )


def plausible_char(c: str) -> bool:
    """A character a clinical paper in a Latin script is made of (letters, digits, punctuation, math)."""
    if c == " " or c in _PLAUSIBLE_SYMBOLS:
        return True
    o = ord(c)
    if 0x2190 <= o < 0x2300:  # arrows and mathematical operators (≤ ≥ − ∼ …)
        return True
    if not c.isalpha():
        return False
    return o < 0x250 or 0x370 <= o < 0x400 or 0xFB00 <= o <= 0xFB06  # Latin, Greek, ligatures


def plausibility(text: str) -> float:
    """How much ``text`` looks like a paper's text (0–1): plausible characters, lower case and spaces,
    and common English words. Used only to choose between readings of the same codes."""
    if not text:
        return 0.0
    chars = sum(map(plausible_char, text)) / len(text)
    lower = sum(c.islower() or c == " " for c in text) / len(text)
    tokens = [t.strip(".,;:()[]").lower() for t in text.split()]
    words = sum(t in _COMMON_WORDS for t in tokens) / len(tokens) if tokens else 0.0
    return 0.5 * chars + 0.25 * min(1.0, lower / 0.6) + 0.25 * min(1.0, words / 0.2)


@dataclass
class FontGuess:
    """What is guessed about one font resource: its glyph order and its metrics."""

    order: Order
    score: float
    strict: bool = False  # too few glyphs to judge: the document's order, implausible characters unknown
    unreadable: bool = False  # no order reads the font plausibly: every glyph unknown
    metrics: str = DEFAULT_METRICS
    fitted: bool = False

    def text(self, code: int) -> str:
        if self.unreadable:
            return UNKNOWN
        text = self.order.text(code)
        return UNKNOWN if self.strict and not plausible_char(text) else text

    def describe(self) -> dict[str, str]:
        if self.unreadable:
            decoding = (f"unreadable: no glyph order reads it plausibly (best {self.order.name}, "
                        f"plausibility {self.score:.2f}); every glyph unknown")
        elif self.strict:
            decoding = (f"{self.order.describe} (guessed; the document's order: too few glyphs to judge, "
                        "implausible characters unknown)")
        else:
            decoding = f"{self.order.describe} (guessed; plausibility {self.score:.2f})"
        return {"decoding": decoding,
                "metrics": f"{self.metrics} ({'fitted to the stream positions' if self.fitted else 'default'})"}


def choose_orders(shown: dict[bytes, list[bytes]]) -> dict[bytes, FontGuess]:
    """Per font, the glyph order that reads its strings (``shown[font]``) most plausibly.

    Two-byte orders are tried only when every string of the font has an even length. Short
    samples (a font used for a few digits) read equally well several ways: the order that wins
    the document overall breaks near ties, since a document's fonts usually come from one writer;
    a font with fewer than ``SMALL_SAMPLE`` glyphs takes that order outright, and its characters
    that are implausible in a paper are read as unknown rather than trusted. A larger font that no
    order reads plausibly (``MIN_SCORE``) is unreadable: its glyphs are all unknown, not garbage.
    """
    cands = orders()
    scores: dict[bytes, dict[str, float]] = {}
    sizes: dict[bytes, int] = {}
    weight = {o.name: 0.0 for o in cands}
    for font, strings in shown.items():
        even = all(len(s) % 2 == 0 for s in strings)
        scores[font] = {}
        for o in cands:
            if o.width == 2 and not even:
                continue
            text = "".join(o.text(c) for s in strings[:_SAMPLE_STRINGS] for c in o.codes(s))
            scores[font][o.name] = score = plausibility(text)
            if score >= MIN_SCORE:  # only plausible readings vote for the document's order
                weight[o.name] += score * len(text)
            sizes[font] = max(sizes.get(font, 0), len(text))
    overall = max(weight, key=weight.get)
    out = {}
    for font, sc in scores.items():
        small = sizes[font] < SMALL_SAMPLE and overall in sc
        best = overall if small else max(sc, key=lambda name: sc[name] + (0.1 if name == overall else 0.0))
        out[font] = FontGuess(next(o for o in cands if o.name == best), sc[best], strict=small,
                              unreadable=not small and sizes[font] >= SMALL_SAMPLE and sc[best] < MIN_SCORE)
    return out


# --- metrics ---------------------------------------------------------------------------------------

class Metrics:
    """Advance widths (in units of the font size) and ascent/descent of one standard font."""

    def __init__(self, name: str) -> None:
        from pdfminer.fontmetrics import FONT_METRICS

        desc, widths = FONT_METRICS[name]
        self.name = name
        self.widths = widths
        self.default = float(widths.get("o", 500))
        self.ascent = float(desc.get("Ascent", 750)) / 1000
        self.descent = float(desc.get("Descent", -250)) / 1000

    def width(self, text: str) -> float:
        w = self.widths.get(text)
        if w is None:
            w = sum(self.widths.get(c, self.default) for c in text) if text != UNKNOWN else self.default
        return w / 1000


@lru_cache(maxsize=1)
def standard_metrics() -> dict[str, Metrics]:
    return {name: Metrics(name) for name in METRIC_CANDIDATES}


@dataclass
class Sample:
    """A run of one font between two positions the stream set on one baseline (text space units)."""

    font: bytes
    size: float
    tc: float
    tw: float
    th: float
    one_byte: bool
    start: float
    parts: list = field(default_factory=list)  # decoded characters and TJ adjustments, in order
    measured: float | None = None

    def predicted(self, met: Metrics) -> float:
        x = 0.0
        for p in self.parts:
            if isinstance(p, float):
                x -= p / 1000 * self.size * self.th
            else:
                x += (met.width(p) * self.size + self.tc + (self.tw if self.one_byte and p == " " else 0.0)) * self.th
        return x


def fit_metrics(fonts: dict[bytes, FontGuess], samples: list[Sample]) -> None:
    """Per font with at least three samples, the standard metrics with the least median error."""
    by_font: dict[bytes, list[Sample]] = {}
    for s in samples:
        if s.measured is not None and s.size > 0 and s.parts:
            by_font.setdefault(s.font, []).append(s)
    mets = standard_metrics()
    for name, font in fonts.items():
        found = by_font.get(name, [])[:_SAMPLE_RUNS]
        if len(found) < 3:
            continue
        err = {cand: statistics.median(abs(s.measured - s.predicted(mets[cand])) / s.size for s in found)
               for cand in METRIC_CANDIDATES}
        font.metrics, font.fitted = min(err, key=err.get), True
