"""The workspace database: schema, migrations, safe opening and retried write transactions.

A review workspace is a folder holding one SQLite file (``workspace.sqlite``, WAL mode).
Why these choices:

- The file is checked before anything can write to it (SQLite magic, litmeta's
  ``application_id``, ``quick_check``), so a corrupt or foreign file in its place is
  reported in one line and never modified.
- The schema is versioned with ``PRAGMA user_version``; :data:`MIGRATIONS` upgrades a
  workspace made by an older litmeta in one transaction when it is opened.
- Every write runs in ``BEGIN IMMEDIATE`` under a busy timeout, and the whole transaction is
  retried on ``SQLITE_BUSY``, so two processes sharing a workspace never lose an update nor
  surface "database is locked".
- The audit table is append-only, enforced by triggers that RAISE on UPDATE and DELETE.
"""
from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path
from typing import Callable, TypeVar

from .errors import NotAWorkspace, UnusableWorkspace

DB_NAME = "workspace.sqlite"
APPLICATION_ID = 0x4C4D5457  # "LMTW": marks a litmeta workspace among SQLite files
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 10_000
RETRY_SECONDS = 120.0

T = TypeVar("T")

_V1 = """
CREATE TABLE documents (
    doc_id   INTEGER PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE,
    added_at TEXT NOT NULL
);
CREATE TABLE versions (
    sha256   TEXT PRIMARY KEY,
    doc_id   INTEGER NOT NULL REFERENCES documents(doc_id),
    version  INTEGER NOT NULL,
    path     TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE TABLE runs (
    run_id    INTEGER PRIMARY KEY,
    doc_id    INTEGER NOT NULL REFERENCES documents(doc_id),
    sha256    TEXT NOT NULL REFERENCES versions(sha256),
    extractor TEXT NOT NULL,
    at        TEXT NOT NULL,
    n_rows    INTEGER NOT NULL
);
CREATE TABLE rows (
    row_id  TEXT PRIMARY KEY,
    doc_id  INTEGER NOT NULL REFERENCES documents(doc_id),
    first_run INTEGER NOT NULL
);
CREATE TABLE extracted (
    run_id   INTEGER NOT NULL REFERENCES runs(run_id),
    row_id   TEXT NOT NULL REFERENCES rows(row_id),
    position INTEGER NOT NULL,
    data     TEXT NOT NULL,
    PRIMARY KEY (run_id, row_id)
);
CREATE INDEX extracted_row ON extracted(row_id, run_id);
CREATE TABLE corrections (
    row_id   TEXT NOT NULL REFERENCES rows(row_id),
    field    TEXT NOT NULL,
    value    TEXT,
    reviewer TEXT NOT NULL,
    at       TEXT NOT NULL,
    reason   TEXT NOT NULL,
    PRIMARY KEY (row_id, field)
);
CREATE TABLE exclusions (
    row_id   TEXT PRIMARY KEY REFERENCES rows(row_id),
    reviewer TEXT NOT NULL,
    at       TEXT NOT NULL,
    reason   TEXT NOT NULL
);
CREATE TABLE audit (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    action   TEXT NOT NULL,
    row_id   TEXT,
    field    TEXT,
    old      TEXT,
    new      TEXT,
    reason   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_row ON audit(row_id, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

# v2: the extracted value a correction was made against (to tell a re-extraction that changed
# its mind from one that did not), and double extraction (reviewers' independent values).
# Corrections made under version 1 count as made against the extraction in force at upgrade.
_V2 = """
ALTER TABLE corrections ADD COLUMN base TEXT;
UPDATE corrections SET base = (
    SELECT json_quote(json_extract(e.data, '$."' || corrections.field || '"')) FROM extracted e
    WHERE e.row_id = corrections.row_id ORDER BY e.run_id DESC LIMIT 1);
CREATE TABLE entries (
    row_id   TEXT NOT NULL REFERENCES rows(row_id),
    field    TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    value    TEXT,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (row_id, field, reviewer)
);
CREATE TABLE checks (
    row_id   TEXT NOT NULL REFERENCES rows(row_id),
    reviewer TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (row_id, reviewer)
);
CREATE TABLE resolutions (
    row_id TEXT NOT NULL REFERENCES rows(row_id),
    field  TEXT NOT NULL,
    value  TEXT,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (row_id, field)
);
"""

MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2}
SCHEMA_VERSION = max(MIGRATIONS)


def db_path(path: str | Path) -> Path:
    """The database file of a workspace given as its folder (or as the file itself)."""
    path = Path(path)
    return path if path.name == DB_NAME or path.is_file() else path / DB_NAME


def is_workspace(path: str | Path) -> bool:
    """Cheap test used by pool/forest/report: does ``path`` name a workspace rather than a rows file?

    True for a folder holding ``workspace.sqlite`` (or that file itself), whatever its state:
    opening it then says clearly if it is corrupt, rather than "cannot read rows".
    """
    path = Path(path)
    return (path / DB_NAME).exists() if path.is_dir() else path.name == DB_NAME and path.exists()


def is_busy(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


class Workspace:
    """An open workspace: ``conn`` for reads, :meth:`write` for transactions (retried when busy)."""

    def __init__(self, root: Path, conn: sqlite3.Connection) -> None:
        self.root = root
        self.file = db_path(root)
        self.conn = conn

    def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` in one ``BEGIN IMMEDIATE`` transaction: all of it is committed or none.

        SQLITE_BUSY (another process holds the write lock beyond the busy timeout, or WAL
        recovery is running) rolls back and retries the whole transaction with backoff,
        so the caller never sees "database is locked" unless the lock is held for minutes.
        """
        deadline = time.monotonic() + RETRY_SECONDS
        delay = 0.01
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    out = fn(self.conn)
                    self.conn.execute("COMMIT")
                    return out
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:
                if not is_busy(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.5)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _connect(file: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(file, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA synchronous=FULL")  # a committed transaction survives any crash
    return conn


def _check_file(file: Path) -> None:
    """Refuse anything that is not a litmeta workspace database, before any write can happen."""
    try:
        with open(file, "rb") as fh:
            head = fh.read(100)
    except IsADirectoryError:
        raise UnusableWorkspace(f"{file}: is a folder, not a workspace database") from None
    except OSError as exc:
        raise UnusableWorkspace(f"{file}: cannot be read ({exc.strerror or exc})") from None
    if not head.startswith(SQLITE_MAGIC):
        raise UnusableWorkspace(f"{file}: not a litmeta workspace (not an SQLite database); left untouched")
    if len(head) < 100 or int.from_bytes(head[68:72], "big") != APPLICATION_ID:
        raise UnusableWorkspace(f"{file}: an SQLite database that is not a litmeta workspace; left untouched")


def _migrate(ws: Workspace) -> None:
    def upgrade(conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for target in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _statements(MIGRATIONS[target]):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    version = ws.conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise UnusableWorkspace(
            f"{ws.file}: made by a newer litmeta (schema {version}, this one reads up to {SCHEMA_VERSION}); upgrade litmeta")
    if version < SCHEMA_VERSION:
        ws.write(upgrade)


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (triggers keep their inner ``;``)."""
    out, buf = [], ""
    for line in script.strip().splitlines():
        buf += line + "\n"
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    return out


def _remove_empty_side_files(side: list[Path], existed: list[bool]) -> None:
    """Take away the -wal/-shm files this failed open created, if they hold nothing (an empty WAL)."""
    wal, shm = side
    if not existed[0] and wal.exists() and wal.stat().st_size == 0:
        wal.unlink()
        if not existed[1] and shm.exists():
            shm.unlink()


def open_workspace(path: str | Path) -> Workspace:
    """Open an existing workspace, upgrading its schema if an older litmeta made it.

    Raises :class:`NotAWorkspace` when there is none and :class:`UnusableWorkspace` when the
    file is corrupt, foreign or newer than this litmeta; the file is then left byte-for-byte as it was.
    """
    root = Path(path)
    file = db_path(root)
    if file == root and root.is_file():
        root = root.parent
    if not file.exists():
        raise NotAWorkspace(f"{path}: no such workspace (create it with: litmeta init {path})")
    _check_file(file)
    side = [file.with_name(file.name + suffix) for suffix in ("-wal", "-shm")]
    existed = [f.exists() for f in side]
    conn = None
    try:
        conn = _connect(file)
        ws = Workspace(root, conn)
        ok = str(conn.execute("PRAGMA quick_check").fetchone()[0])
        if ok != "ok":
            raise sqlite3.DatabaseError(ok.splitlines()[0])
        conn.execute("PRAGMA foreign_keys=ON")
        _migrate(ws)
    except (sqlite3.DatabaseError, UnusableWorkspace) as exc:
        if conn is not None:
            conn.close()
        _remove_empty_side_files(side, existed)
        if isinstance(exc, UnusableWorkspace):
            raise
        broken = not isinstance(exc, sqlite3.OperationalError) or "malformed" in str(exc)
        what = "corrupt workspace database" if broken else "cannot be opened"
        raise UnusableWorkspace(f"{file}: {what} ({exc}); left untouched") from None
    except BaseException:
        if conn is not None:
            conn.close()
        raise
    return ws


def init_workspace(path: str | Path) -> Workspace:
    """Create a workspace folder and its database (WAL mode, current schema); open it if it exists."""
    root = Path(path)
    if root.exists() and not root.is_dir():
        raise NotAWorkspace(f"{path}: exists and is not a folder")
    file = root / DB_NAME
    if file.exists():
        return open_workspace(root)
    root.mkdir(parents=True, exist_ok=True)
    conn = _connect(file)
    try:
        conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    return open_workspace(root)
