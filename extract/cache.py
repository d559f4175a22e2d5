"""A content-addressed cache of parsed Documents, so a batch re-run does not re-parse unchanged papers.

Why content and versions, not file names or times: the key is the SHA-256 of the file's bytes
plus the litmeta version plus the readers' version (their ``READER_VERSION`` strings and a hash
of the readers' source and of the shared modules they use) plus the Python/numpy/pandas that built the
objects (pandas 3 gives string columns where pandas 2 gave ``object`` ones, so a Document parsed
under one is not what a parse under the other returns). A changed file, a new release, an edited
reader or upgraded libraries therefore miss and are parsed again; a renamed or touched file hits.

Why a plain entry format instead of pickling the Document: a hit must cost far less than a
parse, and unpickling pandas DataFrames and hundreds of dataclass objects was most of a hit (one
table cost more to unpickle than a small text file costs to parse). An entry is a 28-byte header
(magic, FORMAT, lengths), a pickle of plain values (tuples, str, int, bytes; no pandas and no
litmeta classes) and raw bytes read in place: the text in the codec that decodes fastest and, for
PDFs, ``doc.boxes``. A table's cells and DataFrame go in a per-table blob that is unpickled only
on first access of ``table.cells`` / ``table.frame`` (see ``Table.__getattr__``). Its CRC is
checked when the entry is loaded, so a damaged entry is still refused at load time (a miss) and
never surfaces later as an error in the caller; the key includes the libraries, so the blob is
read by the pandas that wrote it. A Document the plain form cannot reproduce exactly (a subclass,
an attribute beyond the fields) is pickled whole instead, so a hit is always the parsed Document.

What a hit still costs, and cannot avoid: reading the file and hashing it (the key), opening and
reading the entry, and creating the Python objects a caller receives (the text, pages, sections,
spans). For a small text file that is most of a parse already; ``benchmarks/cache_bench.py``
prints this floor beside each ratio.

Entries are written atomically (temporary file + rename) in the user's cache directory
(``$XDG_CACHE_HOME/litmeta`` or ``~/.cache/litmeta``) or a given one. An entry that cannot be
loaded — truncated, corrupt, foreign, written by another format — is ignored and rewritten,
never raised. Entries contain pickles and are only ever read from this directory, which belongs
to the user (the same trust Python gives its own ``__pycache__``).
"""
from __future__ import annotations

import hashlib
import importlib
import io
import os
import pickle
import struct
import sys
import tempfile
import zlib
from array import array
from collections.abc import Callable
from dataclasses import fields
from functools import cache, lru_cache
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .document import Cell, Document, Metadata, Page, Section, Table

FORMAT = 2
SUFFIX = ".entry"
LEGACY_SUFFIXES = (".pickle",)  # FORMAT 1 entries: never read, removed by clear()
MAGIC = b"LMDOC\0\r\n"  # 8 bytes; the CR/LF pair catches an entry mangled by newline translation
HEAD = struct.Struct("<8sIQQ")  # magic, FORMAT, pickle length, raw length (text, boxes)
ALIGN = 64  # boxes start on a 64-byte boundary of the file
CHUNK = 126 << 10  # entries up to this size take one read(); below malloc's mmap threshold (128 KiB)
PACKAGE = Path(__file__).resolve().parent
# code every reader's output depends on: the shared model and helpers, all readers and the PDF
# layout package (a reader may call any of them), and the heading vocabulary
CODE = ("document.py", "tables.py", "sections.py", "section_headings.json", "readers", "layout")
READER_MODULES = {"text": "extract.readers.text", "markdown": "extract.readers.text",
                  "html": "extract.readers.html", "jats": "extract.readers.jats", "pdf": "extract.readers.pdf"}

_PAGE, _SECTION, _CELL, _META, _DOC_FIELDS = (tuple(f.name for f in fields(c)) for c in (Page, Section, Cell, Metadata, Document))
_TABLE = tuple(f.name for f in fields(Table))
_TABLE_EAGER = tuple(n for n in _TABLE if n not in ("frame", "cells"))  # the rest is deferred
_DOC = (*_DOC_FIELDS, "_page_starts")  # what a Document's __dict__ holds
_page_values, _section_values, _cell_values, _meta_values, _table_values = (
    attrgetter(*names) for names in (_PAGE, _SECTION, _CELL, _META, _TABLE_EAGER))


def default_dir() -> Path:
    """``$XDG_CACHE_HOME/litmeta``, else ``~/.cache/litmeta``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "litmeta"


@lru_cache(maxsize=1)
def litmeta_version() -> str:
    """The installed litmeta version (``0+unknown`` in a checkout that is not installed)."""
    try:
        from importlib.metadata import version
        return version("litmeta")
    except Exception:  # noqa: BLE001 - not installed (running from a checkout)
        return "0+unknown"


@lru_cache(maxsize=1)
def environment() -> str:
    """Python, numpy, pandas (with its default string storage) and pyarrow that built the entry.

    Part of the key because they shape what a parse returns (column dtypes) and because a
    table's DataFrame is unpickled lazily, after the entry was accepted: it must be read by the
    libraries that wrote it. An upgrade is a miss, not a stale or unloadable entry.
    """
    storage = pd.StringDtype(na_value=np.nan).storage
    arrow = getattr(sys.modules.get("pyarrow"), "__version__", "none")  # pandas imports it when present
    return (f"{sys.implementation.cache_tag};{sys.byteorder};numpy={np.__version__};pandas={pd.__version__};"
            f"pyarrow={arrow};str={storage}")


@cache
def reader_version() -> str:
    """Version of the readers: their ``READER_VERSION`` strings and a hash of the code they may run.

    Hashing the source means an edited reader never serves Documents parsed by its old self,
    even when nobody remembered to bump ``READER_VERSION``. One version for every kind of input
    (any reader may call the shared code), so the key needs no sniffing of the bytes: a hit never
    pays for it (sniffing a long text file costs more than the rest of a hit).
    """
    digest = hashlib.sha256()
    for module_name in sorted(set(READER_MODULES.values())):
        try:
            stated = str(getattr(importlib.import_module(module_name), "READER_VERSION", ""))
        except ImportError:
            stated = "missing"
        digest.update(f"{module_name}={stated}\0".encode())
    for name in CODE:
        target = PACKAGE / name
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
        for f in files:
            if f.is_file():
                digest.update(f.relative_to(PACKAGE).as_posix().encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:16]


class Unrepresentable(Exception):
    """The plain form cannot reproduce this object exactly; it is pickled as itself instead."""


# --- plain form -------------------------------------------------------------------------------
def _exact(obj: Any, cls: type, names: tuple[str, ...]) -> None:
    """Refuse subclasses and objects carrying attributes beyond the dataclass fields: rebuilding
    them from their fields alone would lose something a caller can see."""
    if type(obj) is not cls or tuple(vars(obj)) != names and set(vars(obj)) != set(names):
        raise Unrepresentable(cls.__name__)


class _TableData:
    """The deferred part of a cached table: its cells (as columns) and its DataFrame (pickled).

    It is the table's ``_deferred`` mapping (``Table.__getattr__`` asks it for ``frame`` and
    ``cells``): a mapping-like object rather than a dict of two bound methods, which is cheaper
    to create for every table of every hit. Decoded once, on the first access of either field,
    and shared by shallow copies of the table, so ``copy.copy(table).frame is table.frame`` holds
    as it does for a parsed table. Holds bytes, so a loaded Document pickles (to a worker
    process, say) as it is.
    """

    def __init__(self, blob: bytes) -> None:
        self.blob = blob

    def __contains__(self, name: object) -> bool:
        return name == "frame" or name == "cells"

    def __getitem__(self, name: str) -> Callable[[], Any]:
        return {"frame": self.frame, "cells": self.cells}[name]

    def _decoded(self) -> tuple:
        memo = self.__dict__
        if "_plain" not in memo:
            memo.setdefault("_plain", pickle.loads(self.blob))  # setdefault: one winner across threads
        return memo["_plain"]

    def cells(self) -> list[Cell]:
        memo = self.__dict__
        if "_cells" not in memo:
            memo.setdefault("_cells", [Cell(*c) for c in zip(*self._decoded()[0])])
        return memo["_cells"]

    def frame(self) -> pd.DataFrame:
        return self._decoded()[1]


def _table_plain(t: Table) -> tuple | Table:
    """A table as (eager fields, blob of cells + frame, the blob's CRC), or the Table itself
    when the plain form would not reproduce it."""
    try:
        if "_deferred" in vars(t):  # loaded from a cache: materialise what it deferred
            t.frame, t.cells  # noqa: B018
            if type(t) is not Table or set(vars(t)) - {"_deferred"} != set(_TABLE):
                raise Unrepresentable("Table")
        else:
            _exact(t, Table, _TABLE)
        if type(t.cells) is not list or type(t.frame) is not pd.DataFrame:
            raise Unrepresentable("Table contents")
        for c in t.cells:
            _exact(c, Cell, _CELL)
        columns = tuple(zip(*map(_cell_values, t.cells))) or tuple(() for _ in _CELL)
        blob = pickle.dumps((columns, t.frame), protocol=5)
    except Unrepresentable:
        return t
    return (_table_values(t), blob, zlib.crc32(blob))


def _table_build(plain: tuple | Table) -> Table:
    """A Table whose ``frame`` and ``cells`` are built on first access (or the pickled Table)."""
    if type(plain) is Table:
        return plain
    values, blob, crc = plain
    if zlib.crc32(blob) != crc:  # decoded later, when a damaged entry could no longer be a miss
        raise ValueError("table blob CRC mismatch")
    t = Table.__new__(Table)
    t.__dict__.update(zip(_TABLE_EAGER, values))
    t.__dict__["_deferred"] = _TableData(blob)
    return t


class _Raw:
    """Bytes stored after the pickle (text, boxes): read straight from the entry's buffer instead
    of being copied out of the pickle first."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, data: bytes, align: int = 1) -> int:
        """Append ``data`` at an offset that is a multiple of ``align``; returns the offset."""
        pad = -self.size % align
        if pad:
            self.parts.append(bytes(pad))
        at = self.size + pad
        self.parts.append(data)
        self.size = at + len(data)
        return at


def _text_plain(text: Any, raw: _Raw) -> Any:
    """Non-ASCII text as (codec, offset, length) of its bytes in ``raw``, else the str itself.

    Why: pickle stores a str as UTF-8, and decoding UTF-8 into a non-ASCII str was the largest
    single part of loading a long paper (~15 µs for 33k characters); latin-1 is a copy and UTF-16
    decodes ~2.5x faster. ASCII stays in the pickle (its UTF-8 is a copy too); text with astral
    characters too (UTF-16 would need surrogate pairs). ``surrogatepass`` keeps lone surrogates.
    """
    if type(text) is not str or text.isascii():
        return text
    try:
        codec, data = "latin-1", text.encode("latin-1")
    except UnicodeEncodeError:
        if max(text) > "\uffff":
            return text
        codec, data = "utf-16-le", text.encode("utf-16-le", "surrogatepass")
    return (codec, raw.add(data), len(data))


def _elements_plain(elements: Any) -> tuple:
    """``(start, end, path)`` spans as two int64 arrays and a tuple of paths, else as they are.

    Why: a markup paper has hundreds of spans, and unpickling them as tuples of boxed ints was
    most of loading a small HTML/JATS Document; ints as array bytes cost next to nothing.
    """
    if type(elements) is list and elements and all(type(e) is tuple and len(e) == 3 and type(e[0]) is int
                                       and type(e[1]) is int and type(e[2]) is str for e in elements):
        try:
            starts, ends, paths = zip(*elements)
            return ("columns", array("q", starts).tobytes(), array("q", ends).tobytes(), paths)
        except OverflowError:  # beyond int64: not an offset, but keep it exact
            pass
    return ("value", elements)


def _elements_build(plain: tuple) -> Any:
    """Inverse of :func:`_elements_plain`: a list of ``(int, int, str)`` tuples again."""
    if plain[0] == "value":
        return plain[1]
    _, starts, ends, paths = plain
    return list(zip(array("q", starts).tolist(), array("q", ends).tolist(), paths, strict=True))


_TEXT, _PAGES, _TABLES, _SECTIONS, _METADATA, _BOXES, _ELEMENTS = (
    _DOC_FIELDS.index(n) for n in ("text", "pages", "tables", "sections", "metadata", "boxes", "elements"))


def encode(doc: Document) -> tuple[tuple, bytes]:
    """``doc`` as (``("plain", values)``, raw bytes), or ``(("object", doc), b"")`` when it is
    not a plain reader-built Document (a subclass, extra attributes): then it is pickled whole.

    Plain values: the Document's fields in order, with pages and metadata as tuples of their
    fields, sections as one tuple per field (fewer objects to unpickle), tables as :func:`_table_plain` gives them, text as :func:`_text_plain` gives
    it, elements as :func:`_elements_plain` gives them and boxes as ``("raw", dtype, shape,
    offset)`` into the raw bytes. Everything else (warnings, ``metadata.extra``, header lists)
    is left to pickle as it is, which keeps exact types.
    """
    try:
        _exact(doc, Document, _DOC)
        _exact(doc.metadata, Metadata, _META)
        if type(doc.pages) is not list or type(doc.sections) is not list or type(doc.tables) is not list:
            raise Unrepresentable("container type")
        for p in doc.pages:
            _exact(p, Page, _PAGE)
        for s in doc.sections:
            _exact(s, Section, _SECTION)
    except Unrepresentable:
        return ("object", doc), b""
    raw = _Raw()
    values = [getattr(doc, n) for n in _DOC_FIELDS]
    values[_TEXT] = _text_plain(doc.text, raw)
    values[_PAGES] = tuple(map(_page_values, doc.pages))
    values[_SECTIONS] = tuple(zip(*map(_section_values, doc.sections))) or tuple(() for _ in _SECTION)
    values[_METADATA] = _meta_values(doc.metadata)
    values[_TABLES] = tuple(map(_table_plain, doc.tables))
    values[_ELEMENTS] = _elements_plain(doc.elements)
    boxes = doc.boxes
    if type(boxes) is np.ndarray and boxes.flags.c_contiguous and boxes.flags.writeable \
            and boxes.dtype.isnative and boxes.dtype.kind in "fiub":
        values[_BOXES] = ("raw", boxes.dtype.str, boxes.shape, raw.add(boxes.tobytes(), ALIGN))
    else:
        values[_BOXES] = ("value", boxes)
    return ("plain", tuple(values)), b"".join(raw.parts)


def decode(payload: Any, raw: memoryview) -> Document:
    """Inverse of :func:`encode`; ``payload`` is the unpickled form, ``raw`` the bytes after it.

    Raises (anything) on a malformed entry; the caller treats that as a miss. Every table's
    deferred blob is checked against its CRC here, because it is decoded later, when a damaged
    entry could no longer be treated as a miss.
    """
    form, body = payload
    if form == "object":
        if type(body) is not Document or len(raw):
            raise ValueError("not a Document")
        return body
    if form != "plain" or len(body) != len(_DOC_FIELDS):
        raise ValueError("unknown form")
    values = list(body)
    text = values[_TEXT]
    if type(text) is tuple:
        codec, at, n = text
        if at + n > len(raw):
            raise ValueError("text outside the entry")
        values[_TEXT] = str(raw[at:at + n], codec, "surrogatepass")
    boxes = values[_BOXES]
    if boxes[0] == "raw":
        _, dtype, shape, at = boxes
        arr = np.frombuffer(raw, dtype=dtype, count=int(np.prod(shape)), offset=at).reshape(shape)
        values[_BOXES] = arr if arr.flags.writeable else arr.copy()  # writable, as parsed
    elif boxes[0] == "value":
        values[_BOXES] = boxes[1]
    else:
        raise ValueError("boxes")
    values[_PAGES] = [Page(*p) for p in values[_PAGES]]
    values[_SECTIONS] = [Section(*s) for s in zip(*values[_SECTIONS], strict=True)]
    values[_METADATA] = Metadata(*values[_METADATA])
    values[_TABLES] = [_table_build(t) for t in values[_TABLES]]
    values[_ELEMENTS] = _elements_build(values[_ELEMENTS])
    return Document(*values)


def _read_all(fd: int) -> bytes | bytearray:
    """The whole file behind ``fd``: small entries in one ``read`` (no ``fstat``); larger ones
    into one writable buffer, which ``doc.boxes`` then uses in place (no second megabyte copy,
    which measured ~15x slower than reading into a preallocated buffer)."""
    first = os.read(fd, CHUNK)
    if len(first) < CHUNK:  # a regular file reads short only at its end (else: length check fails)
        return first
    buf = bytearray(max(os.fstat(fd).st_size, CHUNK))
    buf[:CHUNK] = first
    got = CHUNK
    with io.FileIO(fd, closefd=False) as fh:
        view = memoryview(buf)
        while got < len(buf):
            n = fh.readinto(view[got:])
            if not n:
                break
            got += n
    return buf if got == len(buf) else buf[:got]


class DocumentCache:
    """Parsed Documents by content hash; ``get_or_parse`` is the one call readers need."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self._root = os.fspath(directory) if directory is not None else os.fspath(default_dir())

    @property
    def directory(self) -> Path:
        """The cache directory (kept as a string inside: a hit should not pay for Path objects)."""
        return Path(self._root)

    def key(self, data: bytes) -> str:
        """SHA-256 of the bytes, the litmeta version, the readers' version and the environment (the
        kind of input follows from the bytes, so it needs no place in the key)."""
        h = hashlib.sha256(data)
        h.update(f"\0litmeta={litmeta_version()}\0readers={reader_version()}\0env={environment()}".encode())
        return h.hexdigest()

    def _file(self, key: str) -> Path:
        return Path(self._path(key))

    def _path(self, key: str) -> str:
        return f"{self._root}{os.sep}{key[:2]}{os.sep}{key}{SUFFIX}"

    def get(self, key: str) -> Document | None:
        """The cached Document, or None when absent or unusable (an unusable entry is removed)."""
        path = self._path(key)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError:  # absent (or unreadable: then it cannot be used either)
            return None
        try:
            try:
                data = _read_all(fd)
            finally:
                os.close(fd)
            magic, fmt, n_payload, n_raw = HEAD.unpack_from(data)
            at = HEAD.size + n_payload
            start_raw = -(-at // ALIGN) * ALIGN if n_raw else at
            if magic != MAGIC or fmt != FORMAT or start_raw + n_raw != len(data):
                raise ValueError("foreign, other format or truncated")
            view = memoryview(data)
            stored_key, payload = pickle.loads(view[HEAD.size:at])
            if stored_key != key:
                raise ValueError("entry for another key")
            return decode(payload, view[start_raw:])
        except Exception:  # noqa: BLE001 - corrupt, truncated, foreign or incompatible: drop it
            self._discard(Path(path))
            return None

    def put(self, key: str, doc: Document) -> None:
        """Store ``doc``; a cache that cannot be written (read-only disk, full) is skipped silently."""
        path = self._file(key)
        plain, raw = encode(doc)
        try:
            # the key goes inside the pickle so a file copied over another entry's name is refused
            payload = pickle.dumps((key, plain), protocol=5)
        except Exception:  # noqa: BLE001 - a Document that cannot be pickled is just not cached
            return
        at = HEAD.size + len(payload)
        pad = -at % ALIGN if raw else 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=SUFFIX)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(HEAD.pack(MAGIC, FORMAT, len(payload), len(raw)))
                    fh.write(payload)
                    fh.write(b"\0" * pad)
                    fh.write(raw)
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except OSError:
            return

    def get_or_parse(self, path: str | Path, data: bytes, parse: Callable[[], Document]) -> Document:
        """The cached Document for these bytes, or ``parse()``'s result (then cached)."""
        key = self.key(data)
        doc = self.get(key)
        if doc is not None:
            return doc
        doc = parse()
        if not doc.sha256:
            doc.sha256 = hashlib.sha256(data).hexdigest()
        self.put(key, doc)
        return doc

    def clear(self) -> int:
        """Remove every entry (and entries of earlier formats); returns how many were removed."""
        n = 0
        for suffix in (SUFFIX, *LEGACY_SUFFIXES):
            for f in self.directory.glob(f"*/*{suffix}"):
                self._discard(f)
                n += 1
        return n

    @staticmethod
    def _discard(path: Path) -> None:
        try:
            path.unlink()
        except OSError:
            pass
