"""Salvage of a PDF whose structure is lost: its pages' text read straight from their content streams.

Why: a download cut in half, or a file whose cross-reference table, page tree and font
dictionaries are damaged, is refused by pdfium and by pdfminer, yet the content streams of its
first pages (the instructions that place every glyph) are often intact, because writers put them
before the fonts, the object streams and the xref at the end of the file. ``read_pdf`` calls
this only after both parsers have refused a file, so the normal path never pays for it.

What is recovered, and what is guessed (the Document says so in ``warnings`` and in
``metadata.extra["salvaged"]``):

- pages: each stream that draws text is one page, in file order (``pdf_content``); a stream cut
  off by the truncation gives a partial page. A page drawn from several content streams comes
  out as several pages, and text drawn inside form XObjects is lost.
- characters: decoded by a glyph order guessed per font (``pdf_guess``); unknown glyphs are
  U+FFFD and counted. Two more guesses read where glyphs stand (counted in ``space_glyphs`` and
  ``ligature_glyphs``): a one-glyph font set between words like a space is a space, which breaks
  words as a space glyph does for pdfium; glyph ids 230-232 whose measured advances match the URW
  fonts' ff, ffi, ffl are those ligatures.
- positions: the text state operators are run as a viewer would (BT ET Tf Tm Td TD T* TL Tc Tw
  Tz Ts Tj TJ ' " and q Q cm), with advance widths from standard font metrics; each glyph's
  box spans the metrics' ascent to descent, as pdfium's loose boxes do. The page size is not
  in the streams: A4 when everything drawn fits in it, else US Letter, else the drawn extent.
- rules: straight paths (lines and rectangles of up to six segments, classified as
  ``page_edges`` does) become the edges the table finder needs.

The glyphs then go through the same steps as pdfium's (words, tables, reading order, writer).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..document import Document
from ..errors import Corrupt
from ..layout.glyphs import Glyphs
from ..layout.rules import box_edges
from ..layout.tables import find_tables
from ..layout.words import make_words
from .pdf import assemble
from .pdf_content import PAINT_OPS, PATH_OPS, operations, text_streams
from .pdf_guess import (
    UNKNOWN,
    FontGuess,
    Placed,
    Sample,
    choose_orders,
    confirm_ligatures,
    fit_metrics,
    guess_space_fonts,
    space_candidates,
    standard_metrics,
)
from .pdf_pages import PageData

__all__ = ["Salvage", "salvage_document", "salvage_pages"]

A4 = (595.276, 841.89)
LETTER = (612.0, 792.0)
SLACK = 2.0  # points a drawing may pass a standard page's edge and still be on that page

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _mul(m: Matrix, n: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
            e * a2 + f * c2 + e2, e * b2 + f * d2 + f2)


def _num(args: list, k: int, default: float = 0.0) -> float:
    v = args[k] if -len(args) <= k < len(args) else None
    return v if isinstance(v, float) else default


@dataclass
class _State:
    """The graphics state parts that place text: saved by q, restored by Q."""

    ctm: Matrix = IDENTITY
    font: bytes = b""
    size: float = 0.0
    tc: float = 0.0
    tw: float = 0.0
    th: float = 1.0
    tl: float = 0.0
    rise: float = 0.0

    def copy(self) -> _State:
        return _State(self.ctm, self.font, self.size, self.tc, self.tw, self.th, self.tl, self.rise)


@dataclass
class _Page:
    """One page's recovered characters (boxes in PDF user space, y up) and straight paths."""

    chars: list[str] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    spaced: list[bool] = field(default_factory=list)
    paths: list[tuple[float, float, float, float]] = field(default_factory=list)
    unknown: int = 0
    spaces: int = 0  # glyphs of space fonts (pdf_guess.guess_space_fonts), read as spaces
    ligatures: int = 0  # glyphs read as ligatures by pdf_guess.confirm_ligatures


class _Interpreter:
    """Runs a page's operations. With ``samples`` it only measures: each run of one font between
    two positions the stream sets on one baseline becomes a :class:`Sample` for fitting metrics."""

    def __init__(self, fonts: dict[bytes, FontGuess], samples: list[Sample] | None = None,
                 trace: list[Placed] | None = None) -> None:
        self.fonts, self.samples, self.trace = fonts, samples, trace
        self.metrics = standard_metrics()
        self.runs = 0  # show operations run so far (a Placed glyph's ``run``)

    def run(self, ops: list[tuple[bytes, list]]) -> _Page:
        page = _Page()
        gs = _State()
        saved: list[_State] = []
        tm = tlm = IDENTITY
        path_n, path_box = 0, None
        sample: Sample | None = None
        spaced = False
        for op, args in ops:
            if op in (b"Tj", b"TJ", b"'", b'"'):
                if op != b"Tj" and op != b"TJ":
                    if op == b'"':
                        gs.tw, gs.tc = _num(args, 0), _num(args, 1)
                    tlm = tm = _mul((1, 0, 0, 1, 0, -gs.tl), tlm)
                    sample = self._sample(gs, tm)
                if op == b"TJ":
                    parts = args[0] if args and isinstance(args[0], list) else []
                else:
                    parts = [a for a in args[-1:] if isinstance(a, bytes)]
                if sample is not None and (sample.font != gs.font or sample.size != gs.size):
                    sample = None  # a font change without a new position: no clean measure
                tm, spaced = self._show(page, gs, tm, parts, sample, spaced)
            elif op in (b"Tm", b"Td", b"TD", b"T*"):
                if op == b"Tm":
                    new = tuple(_num(args, k) for k in range(6)) if len(args) >= 6 else tlm
                elif op == b"T*":
                    new = _mul((1, 0, 0, 1, 0, -gs.tl), tlm)
                else:
                    if op == b"TD":
                        gs.tl = -_num(args, 1)
                    new = _mul((1, 0, 0, 1, _num(args, 0), _num(args, 1)), tlm)
                if sample is not None and sample.parts and abs(new[5] - tm[5]) < 0.01 and tm[0] > 0:
                    sample.measured = (new[4] - sample.start) / tm[0]  # in the run's own scale (Tm's a)
                    self.samples.append(sample)
                tlm = tm = new
                sample = self._sample(gs, tm)
            elif op == b"Tf":
                if len(args) >= 2 and isinstance(args[0], bytes):
                    gs.font, gs.size = args[0], _num(args, 1)
            elif op == b"BT":
                tm = tlm = IDENTITY
                sample = None
            elif op == b"Tc":
                gs.tc = _num(args, 0)
            elif op == b"Tw":
                gs.tw = _num(args, 0)
            elif op == b"Tz":
                gs.th = _num(args, 0, 100.0) / 100
            elif op == b"TL":
                gs.tl = _num(args, 0)
            elif op == b"Ts":
                gs.rise = _num(args, 0)
            elif op == b"q":
                saved.append(gs.copy())
            elif op == b"Q":
                gs = saved.pop() if saved else gs
            elif op == b"cm":
                if len(args) >= 6:
                    gs.ctm = _mul(tuple(_num(args, k) for k in range(6)), gs.ctm)
            elif op in PATH_OPS:
                path_n += 5 if op == b"re" else int(op != b"h")
                a, b, c, d, e, f = gs.ctm
                for x, y in self._points(op, args):
                    ux, uy = a * x + c * y + e, b * x + d * y + f
                    path_box = (ux, uy, ux, uy) if path_box is None else (
                        min(path_box[0], ux), min(path_box[1], uy), max(path_box[2], ux), max(path_box[3], uy))
            elif op in PAINT_OPS:
                if op != b"n" and path_box is not None and path_n <= 6 and self.samples is None:
                    page.paths.append(path_box)
                path_n, path_box = 0, None
        return page

    @staticmethod
    def _points(op: bytes, args: list) -> list[tuple[float, float]]:
        v = [a for a in args if isinstance(a, float)]
        if op == b"re":
            return [(v[0], v[1]), (v[0] + v[2], v[1] + v[3])] if len(v) >= 4 else []
        return [(v[k], v[k + 1]) for k in range(0, len(v) - 1, 2)]

    def _sample(self, gs: _State, tm: Matrix) -> Sample | None:
        font = self.fonts.get(gs.font)
        if self.samples is None or font is None:
            return None
        return Sample(gs.font, gs.size, gs.tc, gs.tw, gs.th, font.order.width == 1, tm[4])

    def _show(self, page: _Page, gs: _State, tm: Matrix, parts: list, sample: Sample | None,
              spaced: bool) -> tuple[Matrix, bool]:
        """Show a string or TJ array; returns the advanced text matrix and whether a space is pending."""
        font = self.fonts.get(gs.font)
        if font is None:
            return tm, spaced
        order, decode = font.order, font.text
        one_byte = order.width == 1
        met = self.metrics[font.metrics]
        fs, th = gs.size, gs.th
        lo, hi = met.descent * fs + gs.rise, met.ascent * fs + gs.rise
        place = self.samples is None
        self.runs += 1
        for part in parts:
            if isinstance(part, float):
                tx = -part / 1000 * fs * th
                tm = (tm[0], tm[1], tm[2], tm[3], tm[4] + tx * tm[0], tm[5] + tx * tm[1])
                if sample is not None:
                    sample.parts.append(part)
                continue
            if not isinstance(part, bytes):
                continue
            for code in order.codes(part):
                text = decode(code)
                w = met.width(text)
                if sample is not None:
                    sample.parts.append(text)
                    if text == UNKNOWN:
                        sample.unknown.append(code)
                if self.trace is not None:
                    self._place(gs, tm, font, code, text, w * fs * th)
                if text == " ":
                    spaced = True
                    page.spaces += font.space > 0
                elif place and text.strip():
                    self._glyph(page, text, _mul(tm, gs.ctm), w * fs * th, lo, hi, spaced)
                    spaced = False
                    page.unknown += text == UNKNOWN
                    page.ligatures += code in font.ligatures
                tx = (w * fs + gs.tc + (gs.tw if one_byte and code == 32 else 0.0)) * th
                tm = (tm[0], tm[1], tm[2], tm[3], tm[4] + tx * tm[0], tm[5] + tx * tm[1])
        return tm, spaced

    def _place(self, gs: _State, tm: Matrix, font: FontGuess, code: int, text: str, advance: float) -> None:
        """Record where a glyph of horizontal text starts and ends on its baseline (user space)."""
        a, b, c, d, e, f = _mul(tm, gs.ctm)
        if abs(b) > 1e-6 or abs(c) > 1e-6 or a <= 0:
            return  # rotated or mirrored text: not read by the space guess
        y = f + d * gs.rise
        self.trace.append(Placed(gs.font, code, text, self.runs, e, e + a * advance, y, gs.size * d))

    @staticmethod
    def _glyph(page: _Page, text: str, m: Matrix, width: float, lo: float, hi: float, spaced: bool) -> None:
        """The glyph's box: its advance by ascent–descent in text space, through the text and page matrices."""
        a, b, c, d, e, f = m
        xs = (e + c * lo, e + c * hi, e + a * width + c * lo, e + a * width + c * hi)
        ys = (f + d * lo, f + d * hi, f + b * width + d * lo, f + b * width + d * hi)
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        if 0xFB00 <= ord(text[0]) <= 0xFB06:  # a ligature glyph: its letters share the advance
            text = unicodedata.normalize("NFKC", text)
        step = (x1 - x0) / len(text)
        for k, ch in enumerate(text):
            page.chars.append(ch)
            page.boxes.append((x0 + k * step, y0, x0 + (k + 1) * step, y1))
            page.spaced.append(spaced and k == 0)


# --- pages -----------------------------------------------------------------------------------------

def _page_size(pages: list[_Page]) -> tuple[float, float, float, float, str]:
    """``(x origin, y origin, width, height, name)``: A4 if everything drawn fits, else Letter, else the extent."""
    boxes = np.array([b for p in pages for b in p.boxes + p.paths], dtype=float).reshape(-1, 4)
    if not len(boxes):
        return 0.0, 0.0, A4[0], A4[1], "A4"
    lo_x, lo_y = boxes[:, 0].min(), boxes[:, 1].min()
    hi_x, hi_y = boxes[:, 2].max(), boxes[:, 3].max()
    ox, oy = min(lo_x, 0.0), min(lo_y, 0.0)
    if lo_x >= -SLACK and lo_y >= -SLACK:
        for name, (w, h) in (("A4", A4), ("Letter", LETTER)):
            if hi_x <= w + SLACK and hi_y <= h + SLACK:  # a page-sized background a hair larger still fits
                return ox, oy, max(w, hi_x) - ox, max(h, hi_y) - oy, name
    return ox, oy, float(np.ceil(hi_x - ox)), float(np.ceil(hi_y - oy)), "drawn extent"


def _edges(paths: list[tuple[float, float, float, float]], ox: float, top: float) -> list[dict]:
    """pdfplumber edges of straight paths (user space bounds), as ``page_edges`` classifies pdfium's."""
    edges: list[dict] = []
    for x0, y0, x1, y1 in paths:
        edges += box_edges(x0 - ox, top - y1, x1 - ox, top - y0)
    return edges


def _page_data(number: int, p: _Page, ox: float, oy: float, width: float, height: float) -> PageData:
    """The PageData pdfium's reader would give: glyphs (origin top-left), words, tables, text flow."""
    top = oy + height
    box = np.array(p.boxes, dtype=float).reshape(-1, 4)
    flipped = np.column_stack([box[:, 0] - ox, top - box[:, 3], box[:, 2] - ox, top - box[:, 1]])
    glyphs = Glyphs(list(p.chars), flipped, np.array(p.spaced, dtype=bool))
    words = make_words(glyphs)
    tables = find_tables(words, _edges(p.paths, ox, top), width, height) if len(words) else []
    flow = np.ones(len(words), bool)
    for t in tables:
        flow[t.words] = False
    return PageData(number, width, height, glyphs, words, tables, flow)


def _shown(page_ops: list[list[tuple[bytes, list]]]) -> dict[bytes, list[bytes]]:
    """The strings each font resource shows, over all pages (what its glyph order is guessed from)."""
    shown: dict[bytes, list[bytes]] = {}
    for ops in page_ops:
        font, saved = b"", []
        for op, args in ops:
            if op == b"Tf" and args and isinstance(args[0], bytes):
                font = args[0]
            elif op == b"q":
                saved.append(font)
            elif op == b"Q" and saved:
                font = saved.pop()
            elif op == b"TJ" and args and isinstance(args[0], list):
                shown.setdefault(font, []).extend(p for p in args[0] if isinstance(p, bytes))
            elif op in (b"Tj", b"'", b'"') and args and isinstance(args[-1], bytes):
                shown.setdefault(font, []).append(args[-1])
    return shown


@dataclass
class Salvage:
    """The recovered pages, the one-line warning, and the facts for ``metadata.extra["salvaged"]``."""

    pages: list[PageData]
    warning: str
    facts: dict


def salvage_pages(data: bytes) -> Salvage | None:
    """Pages recovered from the content streams in ``data``; None when no stream draws any text."""
    streams = text_streams(data)
    page_ops = [operations(s.data) for s in streams]
    shown = _shown(page_ops)
    if not shown:
        return None
    fonts = choose_orders(shown)
    samples: list[Sample] = []
    for ops in page_ops:
        _Interpreter(fonts, samples).run(ops)
    fit_metrics(fonts, samples)
    confirm_ligatures(fonts, samples)
    candidates = space_candidates(shown, fonts)
    if candidates:  # where their glyphs stand says whether they are spaces
        traces: list[list[Placed]] = []
        for ops in page_ops:
            traces.append([])
            _Interpreter(fonts, trace=traces[-1]).run(ops)
        for name, n in guess_space_fonts(traces, candidates).items():
            fonts[name].space = n
    found = [(s, p) for s, p in zip(streams, (_Interpreter(fonts).run(ops) for ops in page_ops)) if p.chars]
    if not found:
        return None
    ox, oy, width, height, size_name = _page_size([p for _, p in found])
    pages = [_page_data(i + 1, p, ox, oy, width, height) for i, (_, p) in enumerate(found)]
    partial = [i + 1 for i, (s, _) in enumerate(found) if not s.complete]
    unknown = sum(p.unknown for _, p in found)
    about = {name.decode("latin-1"): f.describe() for name, f in fonts.items()}
    facts = {
        "pages": len(pages),
        "partial": bool(partial),
        "partial_pages": partial,
        "streams": [s.number for s, _ in found],
        "characters": sum(len(p.chars) for _, p in found),
        "unknown_glyphs": unknown,
        "space_glyphs": sum(p.spaces for _, p in found),
        "ligature_glyphs": sum(p.ligatures for _, p in found),
        "decoding": {name: a["decoding"] for name, a in about.items()},
        "metrics": {name: a["metrics"] for name, a in about.items()},
        "page_size": [round(width, 2), round(height, 2), f"{size_name} (guessed)"],
    }
    where = f"page {partial[0]} partial" if partial == [len(pages)] else f"pages {', '.join(map(str, partial))} partial"
    placed = [f"{facts[k]} {what}" for k, what in (("space_glyphs", "read as spaces"),
                                                     ("ligature_glyphs", "as ligatures")) if facts[k]]
    placed_note = f"; {' and '.join(placed)} by their placement and widths" if placed else ""
    warning = (f"damaged or truncated PDF that pdfium and pdfminer cannot parse: {len(pages)} page(s) recovered "
               f"from its content streams{f' ({where})' if partial else ''} without their fonts, so characters "
               f"are decoded by a guessed glyph order ({unknown} unknown glyph(s) shown as U+FFFD{placed_note}) "
               f"and positions and page size ({size_name}) are estimated: check the text against the source")
    return Salvage(pages, warning, facts)


def salvage_document(path: str, data: bytes, refused: Corrupt) -> Document:
    """The Document of a file both parsers refused, from its content streams.

    ``refused`` (the parsers' Corrupt) is raised unchanged when no stream draws text. When the
    salvage itself fails (an exception here is a bug in it, or bytes it did not foresee), a
    Corrupt that says so, with the exception's type, is raised instead: one line naming the file,
    the failure kept as its ``__cause__`` for whoever debugs it.
    """
    try:
        found = salvage_pages(data)
        if found is None:
            raise refused
        doc = assemble(Path(path).name, found.pages, {}, [found.warning])
    except Corrupt:
        raise
    except Exception as exc:  # the user gets one line, never a traceback
        raise Corrupt(path, "damaged: pdfium and pdfminer cannot parse it, and it could not be salvaged "
                            f"from its content streams: {type(exc).__name__}") from exc
    doc.metadata.extra["salvaged"] = found.facts
    return doc
