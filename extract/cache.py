"""A content-addressed cache of parsed Documents, so a batch re-run does not re-parse unchanged papers.

Why content and versions, not file names or times: the key is the SHA-256 of the file's bytes
plus the litmeta version plus the reader's version (its ``READER_VERSION`` and a hash of the
reader's source and of the shared modules it uses). A changed file, a new release or an edited
reader therefore misses and is parsed again; a renamed or touched file still hits.

Entries are pickles written atomically (temporary file + rename) in the user's cache directory
(``$XDG_CACHE_HOME/litmeta`` or ``~/.cache/litmeta``) or a given one. An entry that cannot be
loaded — truncated, corrupt, written by another version — is ignored and rewritten, never
raised. Pickles are only ever read from this directory, which belongs to the user.
"""
from __future__ import annotations

import hashlib
import importlib
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Callable

from .document import Document

FORMAT = 1
PACKAGE = Path(__file__).resolve().parent
# code every reader's output depends on: the shared model and helpers, all readers and the PDF
# layout package (a reader may call any of them), and the heading vocabulary
CODE = ("document.py", "tables.py", "sections.py", "section_headings.json", "readers", "layout")
READER_MODULES = {"text": "extract.readers.text", "markdown": "extract.readers.text",
                  "html": "extract.readers.html", "jats": "extract.readers.jats", "pdf": "extract.readers.pdf"}


def default_dir() -> Path:
    """``$XDG_CACHE_HOME/litmeta``, else ``~/.cache/litmeta``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "litmeta"


@lru_cache(maxsize=1)
def litmeta_version() -> str:
    try:
        from importlib.metadata import version
        return version("litmeta")
    except Exception:  # not installed (running from a checkout)
        return "0+unknown"


@lru_cache(maxsize=None)
def reader_version(kind: str) -> str:
    """Version of the reader for ``kind``: its ``READER_VERSION`` and a hash of the code it may run.

    Hashing the source means an edited reader never serves Documents parsed by its old self,
    even when nobody remembered to bump ``READER_VERSION``.
    """
    stated = ""
    try:
        module = importlib.import_module(READER_MODULES.get(kind, "extract.readers"))
        stated = str(getattr(module, "READER_VERSION", ""))
    except ImportError:
        stated = "missing"
    digest = hashlib.sha256(kind.encode())
    for name in CODE:
        target = PACKAGE / name
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
        for f in files:
            if f.is_file():
                digest.update(f.relative_to(PACKAGE).as_posix().encode() + b"\0" + f.read_bytes())
    return f"{stated}+{digest.hexdigest()[:16]}"


class DocumentCache:
    """Parsed Documents by content hash; ``get_or_parse`` is the one call readers need."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_dir()

    def key(self, data: bytes, kind: str) -> str:
        h = hashlib.sha256(data)
        h.update(b"\0litmeta=" + litmeta_version().encode())
        h.update(b"\0reader=" + kind.encode() + b":" + reader_version(kind).encode())
        return h.hexdigest()

    def _file(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.pickle"

    def get(self, key: str) -> Document | None:
        """The cached Document, or None when absent or unusable (an unusable entry is removed)."""
        path = self._file(key)
        try:
            with open(path, "rb") as fh:
                entry = pickle.load(fh)
        except FileNotFoundError:
            return None
        except Exception:  # corrupt, truncated, or from incompatible code: drop it
            self._discard(path)
            return None
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key \
                or not isinstance(entry.get("doc"), Document):
            self._discard(path)
            return None
        return entry["doc"]

    def put(self, key: str, doc: Document) -> None:
        """Store ``doc``; a cache that cannot be written (read-only disk, full) is skipped silently."""
        path = self._file(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pickle")
            try:
                with os.fdopen(fd, "wb") as fh:
                    pickle.dump({"format": FORMAT, "key": key, "doc": doc}, fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except OSError:
            return

    def get_or_parse(self, path: str | Path, data: bytes, kind: str, parse: Callable[[], Document]) -> Document:
        """The cached Document for these bytes, or ``parse()``'s result (then cached)."""
        key = self.key(data, kind)
        doc = self.get(key)
        if doc is not None:
            return doc
        doc = parse()
        if not doc.sha256:
            doc.sha256 = hashlib.sha256(data).hexdigest()
        self.put(key, doc)
        return doc

    def clear(self) -> int:
        """Remove every entry; returns how many were removed."""
        n = 0
        for f in self.directory.glob("*/*.pickle"):
            self._discard(f)
            n += 1
        return n

    @staticmethod
    def _discard(path: Path) -> None:
        try:
            path.unlink()
        except OSError:
            pass
