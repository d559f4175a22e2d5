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
- Ligatures (:func:`confirm_ligatures`): glyph ids 230, 231, 232 of a font read in the CFF
  standard order are ff, ffi, ffl when the advance the stream gives each (a run's measured length
  less its other glyphs' widths) matches that ligature's width in the URW base35 font of the
  font's fitted metrics within 1.5 thousandths of an em: the URW fonts (Nimbus Roman, Nimbus Sans)
  continue the ISOAdobe order with 229 nsuperior, 230 ff, 231 ffi, 232 ffl. Otherwise they stay
  unknown.
- Space fonts (:func:`guess_space_fonts`): a font that shows a single glyph its order cannot
  read, each time in a show operation of its own, abutting the word before it and followed on its
  baseline by the next word a space's width later (0.15-0.6 em of the word before), both words
  in other fonts, is read as a space. Interword-space glyphs that tagpdf inserts from a font of
  their own are set like that. A visible one-glyph symbol set exactly so (a dash between two
  words, with no space on either side, in a font of its own that no order reads) would be read
  as a space too; one occurrence that is set otherwise keeps the font's glyph unknown.
"""
from __future__ import annotations

import statistics
import unicodedata
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
# The space guess (see :func:`guess_space_fonts`), in ems of the word before the glyph. Measured on
# the corpus's LuaLaTeX file (metrics fitted): 99% of its space glyphs (of the text fonts) start
# within 0.001 em of the word before and the next word follows 0.17-0.53 em later; the one-glyph
# space font's glyph starts within 0.004 em and is followed 0.278 em later (NimbusSans's space).
SPACE_ABUT = 0.1
SPACE_ADVANCE = (0.15, 0.6)
SPACE_MIN_RUNS = 2
# The URW base35 fonts (fonts-urw-base35 20200910: Nimbus Roman and Nimbus Sans, the metric clones
# of Times and Helvetica, all eight styles) continue the ISOAdobe order with 229 nsuperior, 230 ff,
# 231 ffi, 232 ffl; their advance widths (the fonts' AFM files), by the standard metrics they clone.
URW_LIGATURES = {230: "\ufb00", 231: "\ufb03", 232: "\ufb04"}
URW_LIGATURE_WIDTHS = {
    "Times-Roman": (605, 844, 842), "Times-Bold": (632, 856, 856), "Times-Italic": (566, 778, 786),
    "Times-BoldItalic": (631, 866, 864), "Helvetica": (556, 778, 778), "Helvetica-Bold": (666, 943, 943),
}
# Thousandths of an em a ligature's measured advance (median over its runs) may miss the AFM width:
# measured on the corpus's LuaLaTeX file, glyph 230 gives 604.8 (605) and 231 gives 843.8 (844).
LIGATURE_TOLERANCE = 1.5
LIGATURE_MIN_RUNS = 2
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
    space: int = 0  # > 0: a space font (its one glyph set between words this many times; see guess_space_fonts)
    ligatures: dict[int, str] = field(default_factory=dict)  # codes read by confirm_ligatures

    def text(self, code: int) -> str:
        if self.space:
            return " "
        if self.unreadable:
            return UNKNOWN
        if code in self.ligatures:
            return self.ligatures[code]
        text = self.order.text(code)
        return UNKNOWN if self.strict and not plausible_char(text) else text

    def describe(self) -> dict[str, str]:
        if self.space:
            decoding = (f"a space (guessed: its one glyph is set alone between words of other fonts, a space's "
                        f"width before the next word, {self.space} time(s))")
        elif self.unreadable:
            decoding = (f"unreadable: no glyph order reads it plausibly (best {self.order.name}, "
                        f"plausibility {self.score:.2f}); every glyph unknown")
        elif self.strict:
            decoding = (f"{self.order.describe} (guessed; the document's order: too few glyphs to judge, "
                        "implausible characters unknown)")
        else:
            decoding = f"{self.order.describe} (guessed; plausibility {self.score:.2f})"
        if self.ligatures and not self.space and not self.unreadable:
            decoding += (", and glyph ids " + ", ".join(f"{c} as {unicodedata.normalize('NFKC', t)}"
                                                         for c, t in sorted(self.ligatures.items()))
                         + " (the URW base35 order after ISOAdobe; advances measured in the stream match "
                           "that font's widths)")
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
        self.widths = dict(widths)
        for text, w in zip(URW_LIGATURES.values(), URW_LIGATURE_WIDTHS.get(name, ())):
            self.widths.setdefault(text, w)  # not in the standard 14 AFMs; their URW clones' widths
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
    unknown: list[int] = field(default_factory=list)  # the codes of its unknown glyphs, in order

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


def confirm_ligatures(fonts: dict[bytes, FontGuess], samples: list[Sample]) -> dict[bytes, dict[int, float]]:
    """Read glyph ids 230-232 of fonts in the CFF standard order as ff, ffi, ffl where the stream
    confirms it: the glyph's advance, measured in the runs where it is the one unknown glyph (the
    run's length less the other glyphs' widths), is within ``LIGATURE_TOLERANCE`` of that
    ligature's width in the URW font of the font's fitted metrics (median of at least
    ``LIGATURE_MIN_RUNS`` runs). Fonts of that order are Type 1-derived OpenType fonts; the URW
    base35 ones place the three ligatures there, and the width check keeps another font's glyphs
    at those ids unknown. Returns the measured advances (thousandths of an em) per font and id.
    """
    mets = standard_metrics()
    seen: dict[bytes, dict[int, list[float]]] = {}
    for s in samples:
        font = fonts.get(s.font)
        if (font is None or s.measured is None or len(s.unknown) != 1 or s.unknown[0] not in URW_LIGATURES
                or s.size <= 0 or s.th <= 0):
            continue
        met = mets[font.metrics]
        unit = s.size * s.th
        others = s.predicted(met) - met.width(UNKNOWN) * unit  # the run without the unknown glyph's advance
        seen.setdefault(s.font, {}).setdefault(s.unknown[0], []).append((s.measured - others) / unit * 1000)
    out: dict[bytes, dict[int, float]] = {}
    for name, by_code in seen.items():
        font = fonts[name]
        widths = URW_LIGATURE_WIDTHS.get(font.metrics)
        if font.order.name != "cff-standard" or not font.fitted or font.strict or font.unreadable or not widths:
            continue
        for code, found in by_code.items():
            if len(found) < LIGATURE_MIN_RUNS:
                continue
            w = statistics.median(found)
            out.setdefault(name, {})[code] = round(w, 1)
            if abs(w - widths[code - min(URW_LIGATURES)]) <= LIGATURE_TOLERANCE:
                font.ligatures[code] = URW_LIGATURES[code]
    return out


# --- space fonts -----------------------------------------------------------------------------------

@dataclass
class Placed:
    """One glyph of horizontal text as the stream places it (user space): what the space guess reads."""

    font: bytes
    code: int
    text: str
    run: int  # the show operation (Tj, TJ, ', ") that drew it
    x0: float  # where its advance starts
    x1: float  # where it ends (by the guessed metrics)
    y: float  # its baseline
    size: float  # the font size in user space


def space_candidates(shown: dict[bytes, list[bytes]], fonts: dict[bytes, FontGuess]) -> set[bytes]:
    """Fonts that show one glyph only, always the same code, which their order cannot read."""
    out = set()
    for name, strings in shown.items():
        font = fonts.get(name)
        if font is None or font.unreadable:
            continue
        codes = {tuple(font.order.codes(s)) for s in strings}
        if len(codes) == 1 and len(next(iter(codes))) == 1 and font.text(next(iter(codes))[0]) == UNKNOWN:
            out.add(name)
    return out


def guess_space_fonts(pages: list[list[Placed]], candidates: set[bytes]) -> dict[bytes, int]:
    """Of ``candidates``, the fonts whose glyph is set as an interword space, with how often.

    Each glyph of such a font is drawn by a show operation of its own, starts where the word
    before it ends (within ``SPACE_ABUT`` of that word's size), and is followed on its baseline,
    a space's width later (``SPACE_ADVANCE``, in the size of the word before), by the next word;
    both words are of other fonts. Every glyph of the font that has a glyph after it on its page
    must be so placed, and at least ``SPACE_MIN_RUNS`` of them.
    """
    runs: dict[int, int] = {}
    seen: dict[bytes, int] = {}
    bad: set[bytes] = set()
    for placed in pages:
        runs.clear()
        for g in placed:
            runs[g.run] = runs.get(g.run, 0) + 1
        for i, g in enumerate(placed[:-1]):
            if g.font not in candidates or g.font in bad:
                continue
            before, after = (placed[i - 1] if i else None), placed[i + 1]
            if _set_as_space(g, before, after, runs[g.run]):
                seen[g.font] = seen.get(g.font, 0) + 1
            else:
                bad.add(g.font)
    return {name: n for name, n in seen.items() if name not in bad and n >= SPACE_MIN_RUNS}


def _set_as_space(g: Placed, before: Placed | None, after: Placed, run_glyphs: int) -> bool:
    if run_glyphs != 1 or before is None:
        return False
    for other in (before, after):
        if other.font == g.font or not other.text.strip() or other.size <= 0:
            return False
        if abs(other.y - g.y) > 0.05 * other.size:  # not on the glyph's baseline
            return False
    em = before.size
    lo, hi = SPACE_ADVANCE
    return abs(g.x0 - before.x1) <= SPACE_ABUT * em and lo * em <= after.x0 - g.x0 <= hi * em
