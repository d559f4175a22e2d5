"""A Document served by the cache is the parsed one, field by field, for every kind of input.

Why this file: the cache stores a plain form (tuples, text as UTF-16/latin-1 bytes, boxes as raw
bytes, spans as int arrays) and builds table frames and cells only when first read. Each of
those could lose a type, a NaN, a flag or a field; these tests compare a hit with a fresh parse
through every public field (recursively, types included), the Document's methods, and the
behaviours callers rely on (pickling to a worker, shallow copies sharing a frame).
"""
from __future__ import annotations

import copy
import dataclasses
import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import extract.cache as cache_mod
from extract.cache import DocumentCache
from extract.document import Cell, Document, Metadata, Page, Section, Table
from extract.readers import parse, read

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURES = Path(__file__).parent / "fixtures"
BENCH_FIXTURES = ROOT / "benchmarks" / "fixtures"


def _inputs() -> list[Path]:
    files = [FIXTURES / "article.html", FIXTURES / "article.jats.xml", FIXTURES / "pubmed_record.html"]
    files += sorted(BENCH_FIXTURES.glob("*")) if BENCH_FIXTURES.is_dir() else []
    if CORPUS.is_dir():
        files += sorted((CORPUS / "pdf").glob("*.pdf")) + sorted((CORPUS / "seeds").glob("*"))
    return files


def assert_same(a, b, where: str = "doc") -> None:
    """Strict equality: same type at every level, NaN equal to NaN, arrays and frames exact."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, check_flags=True, check_freq=True, obj=where)
        assert a.columns.dtype == b.columns.dtype and list(a.dtypes) == list(b.dtypes), where
        assert_same(a.attrs, b.attrs, f"{where}.attrs")
        assert_same(a.to_numpy().tolist(), b.to_numpy().tolist(), f"{where}.values")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert a.flags.writeable == b.flags.writeable and a.flags.c_contiguous == b.flags.c_contiguous, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def assert_same_document(parsed: Document, loaded: Document) -> None:
    assert_same(parsed, loaded)
    for t in loaded.tables:
        assert type(t) is Table
    # the methods callers use to locate a quote give the same answers
    n = len(parsed.text)
    offsets = sorted({0, n // 7, n // 3, n // 2, (2 * n) // 3, max(n - 1, 0)})
    for o in offsets:
        assert loaded.page_of(o) == parsed.page_of(o)
        assert loaded.section_of(o) == parsed.section_of(o)
        assert loaded.element_of(o) == parsed.element_of(o)
        assert loaded.evidence(o, min(o + 40, n)) == parsed.evidence(o, min(o + 40, n))
        assert loaded.bbox(o, min(o + 40, n)) == parsed.bbox(o, min(o + 40, n))
    for tp, tl in zip(parsed.tables, loaded.tables):
        for c in tp.cells[:5] + tp.cells[-5:]:
            assert tl.cell(c.row, c.col) == tp.cell(c.row, c.col)
    assert list(loaded.iter_sections()) == list(parsed.iter_sections())
    assert loaded.n_pages == parsed.n_pages


@pytest.mark.parametrize("path", _inputs(), ids=lambda p: p.name)
def test_hit_equals_parse_field_by_field(path, tmp_path):
    store = tmp_path / "cache"
    read(path, cache=store)  # miss: parsed and stored
    loaded = read(path, cache=store)  # hit: a fresh DocumentCache reads the entry from disk
    parsed = read(path)
    assert len(list(store.glob("*/*.entry"))) == 1
    assert_same_document(parsed, loaded)


@pytest.mark.parametrize("path", _inputs(), ids=lambda p: p.name)
def test_loaded_document_survives_pickling_and_copies(path, tmp_path):
    """A worker process sends its Document back pickled; a copy shares its frame like a parsed one."""
    read(path, cache=tmp_path)
    loaded = read(path, cache=tmp_path)
    again = pickle.loads(pickle.dumps(loaded))  # before any frame was built
    assert_same_document(read(path), again)
    for t in loaded.tables:
        shallow = copy.copy(t)
        assert shallow.frame is t.frame and shallow.cells is t.cells
    assert_same_document(read(path), copy.deepcopy(loaded))


def test_frames_and_cells_are_built_only_when_read(tmp_path):
    path = FIXTURES / "article.html"
    read(path, cache=tmp_path)
    loaded = read(path, cache=tmp_path)
    (t,) = loaded.tables
    assert "frame" not in vars(t) and "cells" not in vars(t)
    frame = t.frame
    assert "frame" in vars(t) and "cells" not in vars(t)
    assert t.frame is frame  # built once, then an ordinary attribute
    assert t.cells is t.cells and "cells" in vars(t)
    t.frame = pd.DataFrame({"x": [1]})  # still an ordinary, assignable field
    assert t.frame["x"].tolist() == [1]


def _doc(text: str, **kw) -> Document:
    return Document(source="x.txt", kind="text", text=text, pages=[Page(1, 0, len(text))], **kw)


@pytest.mark.parametrize("text", ["plain ascii", "latin-1 café ±", "BMP — ≥ 中文", "astral 🙂 and ≥",
                                  "lone \ud800 surrogate", "", "mixed ü\U0001f600\udfff"])
def test_text_round_trips_exactly_in_every_codec(tmp_path, text):
    c = DocumentCache(tmp_path)
    doc = _doc(text)
    c.put("k" * 64, doc)
    assert_same(doc, DocumentCache(tmp_path).get("k" * 64))


@pytest.mark.parametrize("n", [3, 50_000])  # a small entry (bytes, boxes copied) and a large one (buffer view)
def test_boxes_round_trip_writable(tmp_path, n):
    rng = np.random.default_rng(0)
    boxes = rng.random((n, 4))
    boxes[1] = np.nan
    doc = _doc("a" * n, boxes=boxes)
    DocumentCache(tmp_path).put("b" * 64, doc)
    loaded = DocumentCache(tmp_path).get("b" * 64)
    assert_same(doc, loaded)
    loaded.boxes[0, 0] = -1.0  # writable, and not shared with anything else
    assert DocumentCache(tmp_path).get("b" * 64).boxes[0, 0] == boxes[0, 0]


def test_unusual_documents_fall_back_to_exact_objects(tmp_path):
    """What the plain form cannot say (extra attributes, odd frames, odd element spans, numpy
    scalars in metadata) is stored as the objects themselves, so it still round-trips exactly."""
    frame = pd.DataFrame({"a": [1, 2]}, index=pd.Index(["r1", "r2"], name="rows"))
    frame.attrs["note"] = np.int64(3)
    odd = Table("Table 1", "cap", frame, None, 0, 4, header=[["a"]], cells=[Cell(0, 0, "a", 0, 1)])
    doc = _doc("text with odd bits", tables=[odd],
               metadata=Metadata(title="t", year=2020, extra={"n": np.int64(5), "t": (1, 2)}),
               elements=[(0, 4, "p"), (4, 2**70, "huge")], warnings=["w"],
               sections=[Section("results", "Results", 0, 4)])
    DocumentCache(tmp_path).put("c" * 64, doc)
    assert_same(doc, DocumentCache(tmp_path).get("c" * 64))

    doc.note = "an attribute a reader added"  # not a dataclass field: the Document is pickled whole
    DocumentCache(tmp_path).put("d" * 64, doc)
    loaded = DocumentCache(tmp_path).get("d" * 64)
    assert loaded.note == "an attribute a reader added"
    assert_same(doc, loaded)


def test_damaged_table_blob_is_a_miss_not_a_later_error(tmp_path):
    """A table's frame is decoded after the entry was accepted, so damage must be caught at load."""
    path = FIXTURES / "article.jats.xml"
    read(path, cache=tmp_path)
    (entry,) = tmp_path.glob("*/*.entry")
    data = bytearray(entry.read_bytes())
    _, _, n_payload, _ = cache_mod.HEAD.unpack_from(data)
    _, (form, body) = pickle.loads(data[cache_mod.HEAD.size:cache_mod.HEAD.size + n_payload])
    (table,) = body[cache_mod._TABLES]
    blob = table[1]  # (eager fields, deferred blob, its CRC)
    at = data.find(blob)
    assert form == "plain" and at > 0
    data[at + len(blob) // 2] ^= 0x01  # one flipped bit in the middle of the pickled frame/cells
    entry.write_bytes(bytes(data))
    key = DocumentCache(tmp_path).key(path.read_bytes())
    assert DocumentCache(tmp_path).get(key) is None
    assert not entry.exists()  # dropped, to be rewritten by the next parse
    doc = read(path, cache=tmp_path)
    assert_same(read(path).tables[0].frame, doc.tables[0].frame)


def test_a_directory_where_an_entry_should_be_is_a_miss(tmp_path):
    c = DocumentCache(tmp_path)
    Path(c._path("9" * 64)).mkdir(parents=True)
    assert c.get("9" * 64) is None
    doc = c.get_or_parse("x.txt", b"x", lambda: _doc("x"))  # cannot be stored: still returned
    assert doc.text == "x"


def test_entry_copied_under_another_key_is_refused(tmp_path):
    c = DocumentCache(tmp_path)
    c.put("a" * 64, _doc("first"))
    c.put("b" * 64, _doc("second"))
    Path(c._path("b" * 64)).write_bytes(Path(c._path("a" * 64)).read_bytes())
    assert c.get("b" * 64) is None and c.get("a" * 64).text == "first"


@pytest.mark.parametrize("cut", [0, 10, 27, 28, 100, -1])
def test_truncated_entries_are_misses(tmp_path, cut):
    c = DocumentCache(tmp_path)
    c.put("e" * 64, _doc("some text ≥ 3", boxes=np.zeros((13, 4))))
    f = Path(c._path("e" * 64))
    f.write_bytes(f.read_bytes()[:cut])
    assert c.get("e" * 64) is None and not f.exists()


def test_new_environment_is_reread(tmp_path, monkeypatch):
    """Upgraded numpy/pandas/pyarrow change what a parse returns and how frames unpickle."""
    path = FIXTURES / "article.html"
    data = path.read_bytes()
    calls = []

    def parse_counted():
        calls.append(1)
        return parse(path, data, "html")

    DocumentCache(tmp_path).get_or_parse(path, data, parse_counted)
    monkeypatch.setattr(cache_mod, "environment", lambda: "another python;pandas=9")
    DocumentCache(tmp_path).get_or_parse(path, data, parse_counted)
    DocumentCache(tmp_path).get_or_parse(path, data, parse_counted)
    assert len(calls) == 2


def test_clear_removes_entries_of_earlier_formats(tmp_path):
    c = DocumentCache(tmp_path)
    c.put("f" * 64, _doc("x"))
    legacy = tmp_path / "ab" / ("ab" + "0" * 62 + ".pickle")
    legacy.parent.mkdir()
    legacy.write_bytes(pickle.dumps({"format": 1}))
    assert c.clear() == 2
    assert not list(tmp_path.glob("*/*.*"))
