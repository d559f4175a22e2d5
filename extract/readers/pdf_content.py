"""Content streams found in the raw bytes of a PDF, and the operations they hold.

Why raw bytes: this serves the salvage of files pdfium and pdfminer both refuse (a cut
download, a broken xref), where no object can be looked up and the page tree may be lost.
A stream object written with a plain dictionary (``N 0 obj << /Filter /FlateDecode /Length L
>> stream``) can still be found by scanning, and inflated as far as its bytes go.
"""
from __future__ import annotations

import binascii
import re
import zlib
from dataclasses import dataclass

_OBJ = re.compile(rb"(\d+)\s+\d+\s+obj\s*<<")
_STREAM = re.compile(rb">>\s*stream(?:\r\n|\n|\r)")
# dictionaries of forms, images, fonts, object and xref streams, ICC profiles: never page content
_NOT_CONTENT = re.compile(rb"/(?:Type|Subtype|Length1|Length2|Length3|N|First|Predictor)\b")
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[^\s/\[\]<>]+)")
_DRAWS_TEXT = (re.compile(rb"\bBT\b"), re.compile(rb"\bTf\b"), re.compile(rb"\bT[jJ]\b|[)>]\s*['\"]"))
_CHUNK = 1 << 16


@dataclass
class Stream:
    """A stream object's inflated bytes; ``complete`` is False when the file ends inside it."""

    number: int
    data: bytes
    complete: bool


def _inflate(raw: memoryview) -> tuple[bytes, bool]:
    """Inflate as far as the bytes go: a cut-off stream gives its first part, not an error.

    The stream's own end is where zlib says the data ends, so a wrong or indirect /Length
    does not matter.
    """
    d = zlib.decompressobj()
    out: list[bytes] = []
    try:
        for i in range(0, len(raw), _CHUNK):
            out.append(d.decompress(raw[i:i + _CHUNK]))
            if d.eof:
                break
        out.append(d.flush())
    except zlib.error:
        return b"".join(out), False
    return b"".join(out), d.eof


def text_streams(data: bytes) -> list[Stream]:
    """The stream objects of ``data`` that draw text (BT, Tf and a text-showing operator), in the
    order they were written; of two objects with one number (an incremental update) the last wins.

    Only unfiltered and FlateDecode streams are read: content streams are almost always one of
    the two.
    """
    found: dict[int, tuple[int, Stream]] = {}
    view = memoryview(data)
    objs = list(_OBJ.finditer(data))
    for k, m in enumerate(objs):
        limit = objs[k + 1].start() if k + 1 < len(objs) else len(data)
        s = _STREAM.search(data, m.end(), limit)
        if s is None:
            continue
        head = data[m.end():s.start()]
        if _NOT_CONTENT.search(head):
            continue
        f = _FILTER.search(head)
        filters = re.findall(rb"/([^\s/\[\]<>]+)", f.group(1)) if f else []
        if filters in ([b"FlateDecode"], [b"Fl"]):
            body, complete = _inflate(view[s.end():])
        elif not filters:
            end = data.find(b"endstream", s.end())
            body, complete = data[s.end():end if end >= 0 else len(data)], end >= 0
        else:
            continue
        if all(p.search(body) for p in _DRAWS_TEXT):
            found[int(m.group(1))] = (m.start(), Stream(int(m.group(1)), body, complete))
    return [st for _, st in sorted(found.values(), key=lambda v: v[0])]


# --- tokens and operations -----------------------------------------------------------------------

_TOKEN = re.compile(rb"""
    [\s\x00]+ | %[^\r\n]*
  | (?P<open><<|\[) | (?P<close>>>|\])
  | <(?P<hex>[0-9A-Fa-f\s]*)>
  | (?P<num>[+-]?(?:\d+\.?\d*|\.\d+))(?![^\s/\[\]()<>{}%])
  | (?P<name>/[^\s/\[\]()<>{}%]*)
  | (?P<lit>\()
  | (?P<op>[^\s/\[\]()<>{}%]+)
""", re.VERBOSE)
_LIT_SPECIAL = re.compile(rb"[()\\]")
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}
_INLINE_DATA = re.compile(rb"\bID\s")
_INLINE_END = re.compile(rb"\sEI(?=\s|$)")

TEXT_OPS = frozenset((b"BT", b"ET", b"Tf", b"Tm", b"Td", b"TD", b"T*", b"TL", b"Tc", b"Tw", b"Tz", b"Ts",
                      b"Tj", b"TJ", b"'", b'"'))
PATH_OPS = frozenset((b"m", b"l", b"c", b"v", b"y", b"h", b"re"))
PAINT_OPS = frozenset((b"S", b"s", b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"n"))
KEPT_OPS = TEXT_OPS | PATH_OPS | PAINT_OPS | {b"q", b"Q", b"cm"}


def _literal(data: bytes, pos: int) -> tuple[bytes, int]:
    """A ``(…)`` string starting after its parenthesis: balanced parentheses and escapes."""
    out = bytearray()
    depth = 1
    n = len(data)
    while True:
        m = _LIT_SPECIAL.search(data, pos)
        if m is None:
            out += data[pos:]
            return bytes(out), n
        out += data[pos:m.start()]
        c = data[m.start()]
        pos = m.end()
        if c == 0x5C:  # backslash
            if pos >= n:
                return bytes(out), n
            e = data[pos]
            if 0x30 <= e <= 0x37:
                digits = re.match(rb"[0-7]{1,3}", data[pos:pos + 3]).group(0)
                out.append(int(digits, 8) & 0xFF)
                pos += len(digits)
            elif e in (0x0A, 0x0D):  # a line continuation
                pos += 2 if data[pos:pos + 2] == b"\r\n" else 1
            else:
                out.append(_ESCAPES.get(e, e))
                pos += 1
        elif c == 0x28:
            depth += 1
            out.append(c)
        else:
            depth -= 1
            if depth == 0:
                return bytes(out), pos
            out.append(c)


def operations(content: bytes) -> list[tuple[bytes, list]]:
    """The text, path and graphics-state operations of a content stream, with their operands.

    Operands are floats, bytes (strings), names (bytes without the slash), lists (arrays) or
    None (dictionaries, never needed here). Colours, marked content and XObjects are dropped,
    inline image data is skipped, and a stream that ends mid-operation loses only that operation.
    """
    ops: list[tuple[bytes, list]] = []
    operands: list = []
    nested: list[list] = []
    pos, n = 0, len(content)
    match = _TOKEN.match
    while pos < n:
        m = match(content, pos)
        if m is None:
            pos += 1
            continue
        pos = m.end()
        kind = m.lastgroup
        if kind is None:
            continue
        if kind == "num":
            val = float(m.group(kind))
        elif kind == "hex":
            digits = re.sub(rb"\s", b"", m.group(kind))
            val = binascii.unhexlify(digits + b"0" * (len(digits) % 2))
        elif kind == "lit":
            val, pos = _literal(content, pos)
        elif kind == "name":
            val = m.group(kind)[1:]
        elif kind == "open":
            nested.append([])
            continue
        elif kind == "close":
            if not nested:
                continue
            val = nested.pop()
            if m.group(kind) == b">>":
                val = None
        else:  # an operator, or true/false/null inside an array or dictionary
            tok = m.group(kind)
            if nested:
                nested[-1].append(tok)
                continue
            if tok == b"BI":
                d = _INLINE_DATA.search(content, pos)
                e = _INLINE_END.search(content, d.end()) if d else None
                pos = e.end() if e else n
            elif tok in KEPT_OPS:
                ops.append((tok, operands))
            operands = []
            continue
        (nested[-1] if nested else operands).append(val)
    return ops
