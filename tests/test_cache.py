"""Document cache: hit, miss on changed bytes, miss on a new litmeta or reader version, corrupt entries."""
from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import extract.cache as cache_mod
from extract import readers
from extract.cache import DocumentCache, default_dir
from extract.readers import read

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def paper(tmp_path):
    p = tmp_path / "paper.md"
    p.write_text("# An invented trial\n\n## Results\n\nTable 1 Arms\n\n| Arm | n |\n|---|---|\n| A | 3 |\n| B | 4 |\n",
                 encoding="utf-8")
    return p


@pytest.fixture
def parses(monkeypatch):
    """Counts real parses done through extract.readers.parse."""
    calls = []
    real = readers.parse

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(readers, "parse", counting)
    return calls


def entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("*/*.entry"))


def test_hit_returns_equal_document_without_parsing(paper, tmp_path, parses):
    store = tmp_path / "cache"
    first = read(paper, cache=store)
    second = read(paper, cache=store)
    assert len(parses) == 1
    assert second.text == first.text and second.kind == "markdown"
    assert [t.frame.values.tolist() for t in second.tables] == [t.frame.values.tolist() for t in first.tables]
    assert second.sections == first.sections and second.sha256 == first.sha256
    assert len(entries(store)) == 1


def test_no_cache_always_parses(paper, parses):
    read(paper)
    read(paper)
    assert len(parses) == 2


def test_renamed_file_hits_and_keeps_its_own_name(paper, tmp_path, parses):
    store = tmp_path / "cache"
    read(paper, cache=store)
    other = tmp_path / "copy.md"
    other.write_bytes(paper.read_bytes())
    doc = read(other, cache=store)
    assert len(parses) == 1 and doc.source == "copy.md"


def test_changed_file_is_reread(paper, tmp_path, parses):
    store = tmp_path / "cache"
    read(paper, cache=store)
    paper.write_text(paper.read_text(encoding="utf-8").replace("| B | 4 |", "| B | 5 |"), encoding="utf-8")
    doc = read(paper, cache=store)
    assert len(parses) == 2
    assert doc.tables[0].frame["n"].tolist() == ["3", "5"]


@pytest.mark.parametrize("which", ["litmeta_version", "reader_version"])
def test_new_version_is_reread(paper, tmp_path, parses, monkeypatch, which):
    store = tmp_path / "cache"
    read(paper, cache=store)
    if which == "litmeta_version":
        monkeypatch.setattr(cache_mod, "litmeta_version", lambda: "999.0")
    else:
        monkeypatch.setattr(cache_mod, "reader_version", lambda: "changed")
    read(paper, cache=store)
    read(paper, cache=store)
    assert len(parses) == 2  # one miss for the new version, then a hit


@pytest.mark.parametrize("garbage", [b"", b"not a pickle at all", pickle.dumps({"format": 1, "key": "x", "doc": 3}),
                                     pickle.dumps("a string")])
def test_corrupt_entry_is_ignored_and_rewritten(paper, tmp_path, parses, garbage):
    store = tmp_path / "cache"
    good = read(paper, cache=store)
    (entry,) = entries(store)
    entry.write_bytes(garbage)
    doc = read(paper, cache=store)
    assert doc.text == good.text and len(parses) == 2
    (entry,) = entries(store)
    assert entry.read_bytes() != garbage
    read(paper, cache=store)
    assert len(parses) == 2


def test_truncated_entry(paper, tmp_path, parses):
    store = tmp_path / "cache"
    read(paper, cache=store)
    (entry,) = entries(store)
    entry.write_bytes(entry.read_bytes()[:40])
    assert read(paper, cache=store).tables[0].label == "Table 1"
    assert len(parses) == 2


def test_default_dir_follows_xdg(monkeypatch, tmp_path, paper, parses):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_dir() == tmp_path / "xdg" / "litmeta"
    read(paper, cache=True)
    read(paper, cache=True)
    assert len(parses) == 1 and entries(tmp_path / "xdg" / "litmeta")


def test_unwritable_cache_dir_still_reads(paper, tmp_path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    assert read(paper, cache=blocker).kind == "markdown"


def test_markup_documents_round_trip(tmp_path):
    store = tmp_path / "cache"
    for name in ("article.html", "article.jats.xml"):
        a = read(FIXTURES / name, cache=store)
        b = read(FIXTURES / name, cache=store)
        assert b.elements == a.elements and b.metadata == a.metadata
        assert b.tables[0].cells == a.tables[0].cells
    assert len(entries(store)) == 2


def test_key_depends_on_the_bytes_and_versions_only(tmp_path, monkeypatch):
    c = DocumentCache(tmp_path)
    assert c.key(b"abc") != c.key(b"abd")
    assert c.key(b"abc") == c.key(b"abc")
    before = c.key(b"abc")
    monkeypatch.setattr(cache_mod, "reader_version", lambda: "another reader")
    assert c.key(b"abc") != before


def test_a_hit_does_not_sniff_the_bytes(paper, tmp_path, monkeypatch):
    """The key is the bytes and versions: a cached read never pays for sniffing the input
    (for a long text file that costs more than the rest of a hit)."""
    from extract import readers

    store = tmp_path / "cache"
    first = read(paper, cache=store)
    sniffed = []
    real = readers.sniff
    monkeypatch.setattr(readers, "sniff", lambda data: sniffed.append(1) or real(data))
    again = read(paper, cache=store)
    assert again.text == first.text and sniffed == []
    read(paper)                                  # without a cache the reader is chosen by sniffing
    assert sniffed == [1]
