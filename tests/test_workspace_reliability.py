"""Reliability of the workspace: a killed extraction, two writers at once, corrupt or foreign files."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import cli
from extract.workspace import (add_extraction, correct, effective_rows, history, init_workspace, open_workspace,
                               replay_rows)
from test_workspace_helpers import STANDARD, fake_extractor, write_paper

TESTS = Path(__file__).resolve().parent
ROWS_PER_PAPER = 40


def papers(folder: Path, n: int, rows: int = ROWS_PER_PAPER) -> list[Path]:
    folder.mkdir(exist_ok=True)
    return [write_paper(folder / f"p{i:03d}.txt",
                        [(f"study{i}", f"g{j}", "response_overall", "patients", j, 100 + i) for j in range(rows)])
            for i in range(n)]


def run_script(tmp_path: Path, name: str, body: str, *args: str) -> subprocess.Popen:
    script = tmp_path / name
    script.write_text(f"import sys\nsys.path.insert(0, {str(TESTS)!r})\n{body}", encoding="utf-8")
    return subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=str(TESTS.parent))


EXTRACT = """
from pathlib import Path
from extract.workspace import add_extraction
from test_workspace_helpers import fake_extractor
papers = sorted(Path(sys.argv[2]).glob("*.txt"))
add_extraction(sys.argv[1], papers, extractor=fake_extractor(), version="v1", chunk=1,
               progress=lambda line: print(line, flush=True))
print("DONE", flush=True)
"""


def test_sigkill_mid_extraction_loses_nothing_committed_and_rerun_completes(tmp_path):
    files = papers(tmp_path / "papers", 60)
    root = tmp_path / "review"
    init_workspace(root).close()
    proc = run_script(tmp_path, "killed_run.py", EXTRACT, str(root), str(tmp_path / "papers"))
    reported = []
    for line in proc.stdout:
        reported.append(line.split(":")[0])
        if len(reported) == 12:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    with open_workspace(root) as ws:  # opens, WAL recovered
        conn = ws.conn
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        runs = conn.execute("SELECT run_id, n_rows FROM runs").fetchall()
        assert 12 <= len(runs) < 60
        for run_id, n_rows in runs:  # every document all-or-nothing
            written = conn.execute("SELECT COUNT(*) FROM extracted WHERE run_id = ?", (run_id,)).fetchone()[0]
            assert n_rows == written == ROWS_PER_PAPER
        assert conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'extract'").fetchone()[0] == \
            ROWS_PER_PAPER * len(runs)
        names = {r[0] for r in conn.execute("SELECT name FROM documents")}
        assert {Path(p).name for p in reported} <= names  # everything reported as committed is there
        assert conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == len(runs)

        calls: list = []
        report = add_extraction(ws, files, extractor=fake_extractor(calls=calls), version="v1")
        assert report.skipped == len(runs) and report.extracted == 60 - len(runs)
        assert not set(calls) & names  # committed documents are not extracted again
        df = effective_rows(root)
        assert len(df) == 60 * ROWS_PER_PAPER and df["row_id"].is_unique
        pd.testing.assert_frame_equal(replay_rows(ws), df)


WRITER = """
import time
from pathlib import Path
from extract.workspace import add_extraction, correct, effective_rows, open_workspace
from test_workspace_helpers import fake_extractor
root, who, n, own, paper = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rows = list(effective_rows(root)["row_id"])
with open_workspace(root) as ws:
    Path(root, who + ".ready").touch()  # start together, everything imported and open
    while not all(Path(root, w + ".ready").exists() for w in ("ann", "bob")):
        time.sleep(0.001)
    for i in range(n):
        correct(ws, rows[0], {"title": f"{who}-{i}"}, reason="race", reviewer=who)
        correct(ws, rows[own], {"journal": f"{who}-{i}"}, reason="race", reviewer=who)
        time.sleep(0.003)  # a breath between edits lets the other writer in (SQLite's lock is not fair)
    add_extraction(ws, [paper], extractor=fake_extractor(), version="v1", reviewer=who)
print("DONE", flush=True)
"""


def test_two_processes_writing_at_once_lose_no_update(tmp_path):
    root = tmp_path / "review"
    with init_workspace(root) as ws:
        add_extraction(ws, [write_paper(tmp_path / "shared.txt", STANDARD)], extractor=fake_extractor(), version="v1")
    ann_paper, bob_paper = papers(tmp_path / "more", 2)
    n = 40
    procs = [run_script(tmp_path, f"writer_{who}.py", WRITER, str(root), who, str(n), str(own), str(paper))
             for who, own, paper in (("ann", 1, ann_paper), ("bob", 2, bob_paper))]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0 and out.strip() == "DONE" and err == "", err

    with open_workspace(root) as ws:
        log = [e for e in history(ws) if e.action == "correct"]
        assert len(log) == 4 * n
        titles = [e for e in log if e.field == "title"]
        assert all(b.old == a.new for a, b in zip(titles, titles[1:]))  # each write saw the one before it
        df = effective_rows(root).set_index("row_id")
        shared, ann_row, bob_row = df.index[:3]
        assert df.loc[shared, "title"] == titles[-1].new
        assert (df.loc[ann_row, "journal"], df.loc[bob_row, "journal"]) == (f"ann-{n - 1}", f"bob-{n - 1}")
        assert ws.conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 3
        assert len(df) == 3 + 2 * ROWS_PER_PAPER


def test_a_busy_database_is_retried_not_reported(tmp_path):
    with init_workspace(tmp_path / "r") as ws:
        add_extraction(ws, [write_paper(tmp_path / "p.txt", STANDARD)], extractor=fake_extractor(), version="v1")
        rid = effective_rows(ws.root)["row_id"][0]
        ws.conn.execute("PRAGMA busy_timeout = 0")  # SQLITE_BUSY at once: only the retry loop can help
        holder = sqlite3.connect(ws.file, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        released = threading.Event()

        def release():
            time.sleep(0.3)
            holder.execute("COMMIT")
            released.set()

        threading.Thread(target=release).start()
        correct(ws, rid, {"events": "9"}, reason="after the lock", reviewer="ann")
        assert released.is_set()
        holder.close()
        assert effective_rows(ws.root)["events"][0] == 9


# --- corrupt and foreign files ---------------------------------------------------------------------


def _make_corrupt(tmp_path: Path, kind: str) -> Path:
    root = tmp_path / "review"
    if kind == "random bytes":
        root.mkdir()
        (root / "workspace.sqlite").write_bytes(os.urandom(8192))
        return root
    if kind == "foreign sqlite":
        root.mkdir()
        conn = sqlite3.connect(root / "workspace.sqlite")
        conn.execute("CREATE TABLE notes (x TEXT)")
        conn.execute("INSERT INTO notes VALUES ('someone else')")
        conn.commit()
        conn.close()
        return root
    with init_workspace(root) as ws:
        add_extraction(ws, papers(tmp_path / "papers", 6), extractor=fake_extractor(), version="v1")
    file = root / "workspace.sqlite"
    data = bytearray(file.read_bytes())
    if kind == "truncated":
        file.write_bytes(bytes(data[: len(data) // 3]))
    else:  # garbage over every page after the first: the header still says "litmeta workspace"
        data[4096:] = bytes((i * 37 + 11) % 256 for i in range(len(data) - 4096))
        file.write_bytes(bytes(data))
    return root


@pytest.mark.parametrize("kind", ["random bytes", "foreign sqlite", "truncated", "garbage pages"])
@pytest.mark.parametrize("argv", [["conflicts", "{root}"], ["init", "{root}"], ["export", "{root}", "-o", "{out}"],
                                  ["correct", "{root}", "r123456", "events=1", "--reason", "x"],
                                  ["extract", "{paper}", "--workspace", "{root}"]])
def test_corrupt_or_foreign_database_is_one_line_and_never_touched(tmp_path, capsys, monkeypatch, kind, argv):
    from extract.workspace import store

    monkeypatch.setattr(store, "pipeline_extractor", fake_extractor())
    root = _make_corrupt(tmp_path, kind)
    before = {p.name: p.read_bytes() for p in root.iterdir()}
    paper = write_paper(tmp_path / "paper.txt", STANDARD)
    argv = [a.format(root=root, out=tmp_path / "out.csv", paper=paper) for a in argv]
    capsys.readouterr()
    code = cli.main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert len(err.splitlines()) == 1 and "workspace.sqlite" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in root.iterdir()} == before  # no byte changed, no -wal/-shm left
    assert not (tmp_path / "out.csv").exists()


def test_pool_on_a_corrupt_workspace_is_one_line(tmp_path, capsys):
    root = _make_corrupt(tmp_path, "random bytes")
    before = (root / "workspace.sqlite").read_bytes()
    capsys.readouterr()
    assert cli.main(["pool", str(root)]) in (1, 2)
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a litmeta workspace" in err
    assert (root / "workspace.sqlite").read_bytes() == before


def test_a_folder_in_place_of_the_database_is_refused(tmp_path, capsys):
    (tmp_path / "review" / "workspace.sqlite").mkdir(parents=True)
    assert cli.main(["history", str(tmp_path / "review")]) == 1
    assert "is a folder" in capsys.readouterr().err
