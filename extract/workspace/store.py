"""Adding extractions to a workspace: documents by content hash, rows with stable ids, one transaction per document.

Why it is built this way:

- A document is known by the SHA-256 of its bytes: the same file twice is one document; a
  changed file under a known name is a new *version* of that document, and its rows keep
  their ids, so corrections follow them.
- A row's id is derived from its document + study_id + group + outcome + unit (+ an ordinal
  for true duplicates), never from its position or values, so it survives re-extraction.
- Each document's rows are written in one transaction: after a crash a document is either
  all there or not at all, and re-running the same command completes the job (documents
  already extracted by this extractor version are skipped before the pipeline runs).
- The pipeline is reached through :func:`pipeline_extractor`, one small adapter that tests
  replace with a fake.
"""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import pandas as pd

from .audit import default_reviewer, log, now
from .db import Workspace, open_workspace
from .errors import BadEdit
from .values import IDENTITY, canon_row

Extractor = Callable[[Sequence[Path], int], Any]


@dataclass
class AddReport:
    """What one ``add_extraction`` did (counts are documents unless named otherwise)."""

    added: int = 0          # new documents
    versions: int = 0       # new versions of known documents
    extracted: int = 0      # documents whose rows were (re)written
    skipped: int = 0        # already extracted by this extractor version
    rows: int = 0           # rows written
    failures: list[tuple[str, str]] = field(default_factory=list)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@lru_cache(maxsize=1)
def extractor_version() -> str:
    """litmeta's version plus a fingerprint of the extraction code and vocabularies.

    A changed rule is a new extractor, so re-running ``extract --workspace`` re-extracts.
    """
    from importlib import metadata

    try:
        version = metadata.version("litmeta")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        version = "0"
    here = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for file in sorted(here.rglob("*")):
        if file.suffix in (".py", ".json", ".csv") and "workspace" not in file.relative_to(here).parts:
            h.update(file.relative_to(here).as_posix().encode())
            h.update(file.read_bytes())
    return f"litmeta {version}+{h.hexdigest()[:10]}"


def pipeline_extractor(paths: Sequence[Path], workers: int = 1, cache: Any = None) -> Any:
    """The adapter to ``extract.pipeline.extract_paths`` (tests pass a fake extractor instead)."""
    try:
        from ..pipeline import extract_paths
    except ImportError as exc:
        raise BadEdit(f"the extraction pipeline is not available ({exc})") from None
    return extract_paths([str(p) for p in paths], workers=workers, cache=cache)


def row_id(document: str, study_id: Any, group: Any, outcome: Any, unit: Any, ordinal: int = 0) -> str:
    """Stable id of a row: the same fact in the same document keeps its id across extractions."""
    key = "\x1f".join(["" if v is None else str(v) for v in (document, study_id, group, outcome, unit)] + [str(ordinal)])
    return "r" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:11]


def study_key(study_id: Any) -> Any:
    """study_id without the a/b suffix the pipeline adds on a clash within one batch.

    The suffix depends on which papers were extracted together, so it cannot be part of an
    identity that must survive re-extracting one paper on its own.
    """
    return _CLASH_SUFFIX.sub(r"\1", study_id) if isinstance(study_id, str) else study_id


_CLASH_SUFFIX = re.compile(r"(\d{4})[a-z]$")


def assign_row_ids(document: str, rows: Iterable[dict[str, Any]]) -> list[str]:
    """Ids for one document's rows in order; true duplicates are told apart by their ordinal."""
    seen: Counter = Counter()
    out = []
    for row in rows:
        key = (study_key(row.get(IDENTITY[0])), *(row.get(c) for c in IDENTITY[1:]))
        out.append(row_id(document, *key, seen[key]))
        seen[key] += 1
    return out


# --- writing one document ------------------------------------------------------------------------


def _latest_run(conn: sqlite3.Connection, doc_id: int) -> tuple[int, str, str] | None:
    return conn.execute("SELECT run_id, sha256, extractor FROM runs WHERE doc_id = ? ORDER BY run_id DESC LIMIT 1",
                        (doc_id,)).fetchone()


def _is_done(conn: sqlite3.Connection, sha: str, extractor: str) -> bool:
    hit = conn.execute("SELECT doc_id FROM versions WHERE sha256 = ?", (sha,)).fetchone()
    if not hit:
        return False
    latest = _latest_run(conn, hit[0])
    return bool(latest and latest[1] == sha and latest[2] == extractor)


def _document_for(conn: sqlite3.Connection, name: str, sha: str, path: str, reviewer: str, report: AddReport) -> int:
    hit = conn.execute("SELECT doc_id FROM versions WHERE sha256 = ?", (sha,)).fetchone()
    if hit:
        return int(hit[0])
    known = conn.execute("SELECT doc_id FROM documents WHERE name = ?", (name,)).fetchone()
    if known:
        doc_id = int(known[0])
        report.versions += 1
    else:
        doc_id = int(conn.execute("INSERT INTO documents (name, added_at) VALUES (?, ?)", (name, now())).lastrowid)
        report.added += 1
    version = conn.execute("SELECT COUNT(*) FROM versions WHERE doc_id = ?", (doc_id,)).fetchone()[0] + 1
    conn.execute("INSERT INTO versions (sha256, doc_id, version, path, added_at) VALUES (?,?,?,?,?)",
                 (sha, doc_id, version, path, now()))
    log(conn, "document", reviewer, field=name, new=sha, reason=f"version {version} from {path}")
    return doc_id


def _last_values(conn: sqlite3.Connection, rid: str) -> str | None:
    hit = conn.execute("SELECT data FROM extracted WHERE row_id = ? ORDER BY run_id DESC LIMIT 1", (rid,)).fetchone()
    return hit[0] if hit else None


def write_document(conn: sqlite3.Connection, *, name: str, sha: str, path: str, records: list[dict[str, Any]],
                   extractor: str, reviewer: str, report: AddReport) -> None:
    """One document's extraction, inside the caller's transaction (all of its rows or none)."""
    if _is_done(conn, sha, extractor):
        report.skipped += 1
        return
    doc_id = _document_for(conn, name, sha, path, reviewer, report)
    doc_name = conn.execute("SELECT name FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()[0]
    previous = _latest_run(conn, doc_id)
    before = dict(conn.execute("SELECT row_id, data FROM extracted WHERE run_id = ?", (previous[0],))) if previous else {}
    stamp = now()
    run = int(conn.execute("INSERT INTO runs (doc_id, sha256, extractor, at, n_rows) VALUES (?,?,?,?,?)",
                           (doc_id, sha, extractor, stamp, len(records))).lastrowid)
    rows = [canon_row(r) for r in records]
    ids = assign_row_ids(doc_name, rows)
    for position, (rid, values) in enumerate(zip(ids, rows)):
        data = json.dumps(values, ensure_ascii=False)
        old = before[rid] if rid in before else _last_values(conn, rid)  # a row that comes back
        conn.execute("INSERT OR IGNORE INTO rows (row_id, doc_id, first_run) VALUES (?,?,?)", (rid, doc_id, run))
        conn.execute("INSERT INTO extracted (run_id, row_id, position, data) VALUES (?,?,?,?)", (run, rid, position, data))
        if rid not in before or before[rid] != data:
            log(conn, "extract", reviewer, row_id=rid, old=old, new=data, reason=extractor, at=stamp)
    for rid in before.keys() - set(ids):
        log(conn, "drop", reviewer, row_id=rid, old=before[rid], reason=f"not yielded by {extractor}", at=stamp)
    report.extracted += 1
    report.rows += len(rows)


# --- the public entry point ----------------------------------------------------------------------


def _files(paths: Iterable[str | Path], report: AddReport) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        elif p.is_file():
            out.append(p)
        else:
            report.failures.append((str(p), "no such file"))
    return out


def _rows_by_source(rows: pd.DataFrame | None) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    if rows is None or not len(rows):
        return out
    for record in rows.to_dict("records"):
        out.setdefault(str(record.get("source") or ""), []).append(record)
    return out


def _match(source: str, grouped: dict[str, list[dict[str, Any]]]) -> str | None:
    """The key of ``grouped`` holding a document's rows: its source as given, or the same file name."""
    if source in grouped:
        return source
    name = Path(source).name
    return next((key for key in grouped if key == name or Path(key).name == name), None)


def _write_result(ws: Workspace, result: Any, shas: dict[str, tuple[str, Path]], extractor: str,
                  reviewer: str, report: AddReport, progress: Callable[[str], None] | None) -> None:
    grouped = _rows_by_source(getattr(result, "rows", None))
    documents = list(getattr(result, "documents", []) or [])
    if len(documents) == 1 and len(grouped) == 1:  # one paper: its rows, whatever their source says
        grouped = {str(documents[0].source): next(iter(grouped.values()))}
    for doc in documents:
        source = str(doc.source)
        sha, path = shas.get(source) or shas.get(Path(source).name) or _identify(doc)
        key = _match(source, grouped)
        records = grouped.pop(key) if key is not None else []

        def tx(conn: sqlite3.Connection) -> AddReport:
            part = AddReport()  # fresh on every attempt: a retried transaction counts once
            write_document(conn, name=Path(source).name, sha=sha, path=str(path), records=records,
                           extractor=extractor, reviewer=reviewer, report=part)
            return part

        part = ws.write(tx)
        for name in ("added", "versions", "extracted", "skipped", "rows"):
            setattr(report, name, getattr(report, name) + getattr(part, name))
        if progress:
            progress(f"{source}: {len(records)} rows")
    report.failures.extend((str(p), str(r)) for p, r in getattr(result, "failures", []) or [])
    report.failures.extend((key, f"{len(rows)} rows name a source that is not among the documents; not added")
                           for key, rows in grouped.items())


def _identify(doc: Any) -> tuple[str, Path]:
    path = Path(str(doc.source))
    if path.is_file():
        return file_sha256(path), path
    sha = getattr(doc, "sha256", "") or hashlib.sha256(str(getattr(doc, "text", "")).encode("utf-8")).hexdigest()
    return sha, path


def add_extraction(workspace: Workspace | str | Path, paths_or_result: Any, *, extractor: Extractor | None = None,
                   workers: int = 1, reviewer: str | None = None, version: str | None = None, chunk: int = 8,
                   progress: Callable[[str], None] | None = None, cache: Any = None) -> AddReport:
    """Add documents and their extracted rows to a workspace.

    ``paths_or_result`` is either paths (files or folders), which are hashed, filtered to those
    this extractor version has not yet extracted, and run through ``extractor`` (default: the
    pipeline) ``chunk`` files at a time; or a pipeline result (``.rows``, ``.documents``,
    ``.failures``) already computed. Reviewers' corrections are never touched.
    """
    if not isinstance(workspace, Workspace):
        with open_workspace(workspace) as ws:
            return add_extraction(ws, paths_or_result, extractor=extractor, workers=workers, reviewer=reviewer,
                                  version=version, chunk=chunk, progress=progress, cache=cache)
    ws = workspace
    reviewer = reviewer or default_reviewer()
    version = version or extractor_version()
    report = AddReport()
    if hasattr(paths_or_result, "documents"):
        _write_result(ws, paths_or_result, {}, version, reviewer, report, progress)
        return report
    todo: dict[str, Path] = {}
    for path in _files([paths_or_result] if isinstance(paths_or_result, (str, Path)) else paths_or_result, report):
        try:
            sha = file_sha256(path)
        except OSError as exc:
            report.failures.append((str(path), exc.strerror or str(exc)))
            continue
        if sha in todo or _is_done(ws.conn, sha, version):
            report.skipped += 1
            continue
        todo[sha] = path
    run = extractor or (lambda files, n: pipeline_extractor(files, n, cache=cache))
    items = list(todo.items())
    chunk = max(chunk, 1, 4 * workers)  # enough files per call to keep the workers busy
    for start in range(0, len(items), chunk):
        part = items[start:start + chunk]
        shas = {}
        for sha, path in part:
            shas[str(path)] = shas[path.name] = (sha, path)
        _write_result(ws, run([p for _, p in part], workers), shas, version, reviewer, report, progress)
    return report
