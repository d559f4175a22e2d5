"""litmeta's command line (Contract 2 of DESIGN.md): parse arguments, call the library, render with rich.

Data goes to stdout or the ``-o`` file; messages and progress go to stderr.
Exit codes: 0 success, 1 some inputs failed (each named with its reason), 2 bad usage.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad usage the user can fix: one line on stderr, exit 2."""


def _stderr():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


# ---------------------------------------------------------------------------------------------
# Each command is a pair: ``add_<name>(subparsers)`` registers its arguments and sets
# ``func``; the function returns the exit code. Register new commands in COMMANDS below.
# ---------------------------------------------------------------------------------------------


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def command(register: Callable[[argparse._SubParsersAction], None]):
    COMMANDS.append(register)
    return register


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="litmeta",
        description="Clinical papers to pooled evidence: extract study rows with proof, pool them as metafor does.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its usage line
        return int(exc.code or 0) and EXIT_USAGE
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        _stderr().print(f"litmeta {args.command}: {exc}", markup=False, soft_wrap=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


# ---------------------------------------------------------------------------------------------
# Commands (each helper adds its own block here; keep blocks independent)
# ---------------------------------------------------------------------------------------------

# --- extract --------------------------------------------------------------------------------


def _progress_reporter(total: int):
    """A rich progress bar on stderr for batches of more than a few files; None otherwise."""
    console = _stderr()
    if total <= 3 or not console.is_terminal:  # piped or logged: no bar, no stray blank lines
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("[bold]reading"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[pages]} pages · {task.fields[rate]} pages/s · "
                               "{task.fields[failed]} failed"), TimeElapsedColumn(),
                    console=console, transient=True)


class _Ticker:
    """A progress bar (files done, pages/s, failures) for commands that read more than a few files;
    a no-op for a few files, so short runs stay quiet."""

    def __init__(self, total: int, label: str = "reading") -> None:
        import time

        self.bar = _progress_reporter(total)
        self.pages = self.failed = 0
        self.t0 = time.perf_counter()
        if self.bar is not None:
            self.task = self.bar.add_task(label, total=total, pages=0, rate="–", failed=0)

    def __enter__(self) -> "_Ticker":
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def tick(self, ok: bool = True, pages: int = 0) -> None:
        import time

        self.pages += pages
        self.failed += not ok
        if self.bar is not None:
            rate = self.pages / max(time.perf_counter() - self.t0, 1e-9)
            self.bar.update(self.task, advance=1, pages=self.pages, rate=f"{rate:.1f}", failed=self.failed)


def _report(label: str, color: str, items) -> None:
    """One stderr line per (path, reason), naming the file: failed inputs, reading warnings."""
    from rich.markup import escape

    err = _stderr()
    for path, reason in items:
        line = reason if str(reason).startswith(str(path)) else f"{path}: {reason}"
        err.print(f"[{color}]{label}[/{color}] {escape(str(line))}", markup=True, highlight=False, soft_wrap=True)


def _report_failures(failures) -> None:
    _report("failed", "red", failures)


def _report_warnings(warnings) -> None:
    """Reading warnings: a recovered or OCR'd text, pages without text."""
    _report("warning", "yellow", warnings)


def run_extraction(paths, workers: int = 1, cache=None, scheduler=None, ocr: bool = False):
    """Extract rows from papers with a progress bar (files, pages/s, failures); the pipeline's result."""
    from extract.batch import SchedulerError
    from extract.pipeline import extract_paths

    try:
        with _Ticker(len(paths)) as ticker:
            return extract_paths(paths, workers=workers, cache=cache, scheduler=scheduler, ocr=ocr,
                                 progress=lambda path, ok, pages: ticker.tick(ok, pages))
    except SchedulerError as exc:
        raise UsageError(str(exc)) from None


@command
def add_extract(sub) -> None:
    p = sub.add_parser("extract", help="read papers and write study rows with evidence")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("-o", "--output", help="OUT.csv, .json or .parquet (default: CSV on stdout)")
    p.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")
    p.add_argument("--cache", default=None, help="cache folder for parsed documents")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster (tcp://host:8786, or 'local'); needs litmeta[dask]")
    p.add_argument("--ocr", action="store_true", help="OCR scanned PDFs with Debian's ocrmypdf instead of refusing them")
    p.add_argument("--json", action="store_true", help="print the rows as JSON records on stdout")
    p.set_defaults(func=cmd_extract)


def cmd_extract(args) -> int:
    from pathlib import Path

    from extract.rows import write_rows

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    paths = [Path(p) for p in args.paths]
    if args.output and Path(args.output).suffix.lower() not in (".csv", ".json", ".parquet"):
        raise UsageError(f"{args.output}: unknown output format (use .csv, .json or .parquet)")
    if getattr(args, "workspace", None):
        return cmd_extract_workspace(args)  # the review workspace block below
    result = run_extraction(paths, workers=args.workers, cache=args.cache, scheduler=args.scheduler, ocr=args.ocr)
    _report_warnings(result.warnings)
    _report_failures(result.failures)
    rows = result.rows
    if args.output:
        write_rows(rows, args.output)
        _stderr().print(f"{len(rows)} rows from {len(paths) - len(result.failures)} of {len(paths)} files → {args.output}")
    elif args.json:
        sys.stdout.write(rows.to_json(orient="records", force_ascii=False) + "\n")
    else:
        rows.to_csv(sys.stdout, index=False)
    return EXIT_FAILED if result.failures else EXIT_OK


# --- pool and forest ------------------------------------------------------------------------


MEASURES = ("PR", "PLN", "PLO", "PAS", "PFT", "IR", "IRLN", "IRS", "IRFT")
METHODS = ("EE", "FE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM", "GLMM")


def _add_pool_options(p) -> None:
    p.add_argument("rows", metavar="ROWS", help="litmeta study rows (CSV/JSON/Parquet), a workspace, or a CSV with study,events,total | study,events,person_time | study,yi,vi")
    p.add_argument("--outcome", help="outcome to pool (study rows); needed when the rows hold several")
    p.add_argument("--group-by", dest="group_by", help="column giving subgroups")
    p.add_argument("--measure", type=str.upper, help="PR PLN PLO PAS PFT (proportions), IR IRLN IRS IRFT (rates); default PLO / IRLN")
    p.add_argument("--method", type=str.upper, default="REML", help="DL HE HS SJ ML REML EB PM EE GLMM (default REML)")
    p.add_argument("--test", choices=("z", "knha"), default="z")
    p.add_argument("--level", type=float, default=95.0)
    p.add_argument("--json", action="store_true", help="one JSON object on stdout (Contract 2 keys)")


def load_pool_data(args):
    """Turn the ROWS argument into (DataFrame for meta.pool, measure, description)."""
    from pathlib import Path

    path = Path(args.rows)
    if not path.exists():  # before the heavy imports: a typo should answer at once
        raise UsageError(f"{path}: no such file or workspace")

    from meta.selection import RATE_MEASURES, entries_for

    if args.measure and args.measure not in MEASURES:
        raise UsageError(f"unknown measure {args.measure} (use one of {' '.join(MEASURES)})")
    if args.method not in METHODS:
        raise UsageError(f"unknown method {args.method} (use one of {' '.join(METHODS)})")
    df = _read_rows_arg(path)
    cols = set(df.columns)
    if "outcome" in cols and "study_id" in cols:  # litmeta study rows
        outcomes = sorted(o for o in df["outcome"].dropna().unique() if o)
        outcome = args.outcome
        if outcome is None:
            if len(outcomes) != 1:
                raise UsageError(f"{path}: several outcomes, choose one with --outcome ({', '.join(outcomes)})")
            outcome = outcomes[0]
        if outcome not in outcomes:
            raise UsageError(f"{path}: no rows for outcome {outcome!r} (found: {', '.join(outcomes) or 'none'})")
        kind = "rate" if (args.measure in RATE_MEASURES) else "proportion"
        data = entries_for(df, outcome, kind)
        if not len(data) and args.measure is None:
            kind, data = "rate", entries_for(df, outcome, "rate")
        if not len(data):
            raise UsageError(f"{path}: outcome {outcome!r} has no rows with events and {'person-time' if kind == 'rate' else 'a total'}")
        keep = ["study", "events", "person_time" if kind == "rate" else "total", "year", "time_unit"]
        if args.group_by:
            if args.group_by not in data.columns:
                raise UsageError(f"{path}: no column {args.group_by!r} to group by")
            data = data.assign(group=data[args.group_by].astype(str))
            keep.append("group")
        measure = args.measure or ("IRLN" if kind == "rate" else "PLO")
        return data[keep].reset_index(drop=True), measure, outcome
    data = df.copy()
    if "study" not in data.columns:
        data["study"] = [f"Study {i + 1}" for i in range(len(data))]
    if args.group_by:
        if args.group_by not in data.columns:
            raise UsageError(f"{path}: no column {args.group_by!r} to group by")
        data["group"] = data[args.group_by].astype(str)
    if {"yi", "vi"} <= cols:
        return data, None, path.stem
    if {"events", "person_time"} <= cols:
        return data, args.measure or "IRLN", path.stem
    if {"events", "total"} <= cols:
        return data, args.measure or "PLO", path.stem
    raise UsageError(f"{path}: need columns study,events,total or study,events,person_time or study,yi,vi")


def _read_rows_arg(path):
    from extract.rows import read_rows

    if not path.exists():
        raise UsageError(f"{path}: no such file or workspace")
    from extract import workspace as ws

    if ws.is_workspace(path):
        try:
            return ws.effective_rows(path)
        except ws.WorkspaceError as exc:
            raise UsageError(str(exc)) from None
    try:
        return read_rows(path)
    except Exception as exc:  # pandas raises many kinds; the user needs one line
        raise UsageError(f"{path}: cannot read rows ({type(exc).__name__}: {exc})") from None


def fit_from_args(args):
    """Pool what the arguments name; returns the result, a label and plot hints (years, time unit)."""
    data, measure, label = load_pool_data(args)

    import pandas as pd

    import meta
    from meta.errors import MetaError

    hints = {}
    if "year" in data.columns:
        years = pd.to_numeric(data["year"], errors="coerce")
        hints["years"] = {s: int(y) for s, y in zip(data["study"], years) if pd.notna(y)}
    if "time_unit" in data.columns:
        units = [u for u in data["time_unit"].dropna().unique() if u]
        hints["time_unit"] = units[0] if len(units) == 1 else ""
    try:
        result = meta.pool(data, measure=measure, method=args.method, test=args.test, level=args.level,
                           group="group" if args.group_by else None)
    except MetaError as exc:
        raise UsageError(str(exc)) from None
    return result, label, hints


@command
def add_pool(sub) -> None:
    p = sub.add_parser("pool", help="pool one outcome with a random-effects model (metafor-exact)")
    _add_pool_options(p)
    p.set_defaults(func=cmd_pool)


def cmd_pool(args) -> int:
    import json

    result, label, _ = fit_from_args(args)
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), allow_nan=False, default=_json_default) + "\n")
    else:
        from rich.console import Console

        Console().print(result.summary(), markup=False, highlight=False, soft_wrap=True)
    return EXIT_OK


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@command
def add_forest(sub) -> None:
    p = sub.add_parser("forest", help="draw a forest plot (PNG, SVG or PDF)")
    _add_pool_options(p)
    p.add_argument("-o", "--output", required=True, help="PLOT.png, .svg or .pdf")
    p.add_argument("--sort", choices=("estimate", "year", "weight"), default=None)
    p.set_defaults(func=cmd_forest)


def cmd_forest(args) -> int:
    from pathlib import Path

    if Path(args.output).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise UsageError(f"{args.output}: use a .png, .svg or .pdf file name")
    result, label, hints = fit_from_args(args)
    if args.sort == "year" and "years" not in hints:
        raise UsageError(f"{args.rows}: --sort year needs a year column")
    fig = result.plot(sort=args.sort, title=label.replace("_", " "), **hints)
    fig.savefig(args.output, dpi=200, bbox_inches="tight")
    _stderr().print(f"forest plot of {result.k} stud{'y' if result.k == 1 else 'ies'} → {args.output}")
    return EXIT_OK


# --- report ---------------------------------------------------------------------------------


@command
def add_report(sub) -> None:
    p = sub.add_parser("report", help="terminal summary of study rows and pooled outcomes (default: the bundled corpus)")
    p.add_argument("paths", nargs="*", metavar="PATH", help="papers to extract first, or study-row files / a workspace")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--json", action="store_true", help="the same content as one JSON object")
    p.add_argument("--markdown", action="store_true", help="the same content as a Markdown document")
    p.add_argument("--plots", metavar="DIR", help="also write a forest plot per outcome into DIR")
    p.add_argument("--method", type=str.upper, default="REML")
    p.add_argument("--test", choices=("z", "knha"), default="z")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    import json
    from pathlib import Path

    import pandas as pd

    from meta.report import build_report

    failures, documents = [], []
    if not args.paths:
        import corpus

        rows = corpus.load_evidence_base()
        title = "litmeta: bundled evidence base"
        documents = sorted(rows["study_id"].unique())
    else:
        row_files = [Path(p) for p in args.paths if Path(p).suffix.lower() in (".csv", ".parquet", ".json") or Path(p).is_dir()]
        papers = [Path(p) for p in args.paths if Path(p) not in row_files]
        frames = [_read_rows_arg(p) for p in row_files]
        if papers:
            result = run_extraction(papers, workers=args.workers)
            failures = list(result.failures)
            frames.append(result.rows)
            documents = [str(p) for p in papers if str(p) not in {str(f[0]) for f in failures}]
        rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        title = f"litmeta: {len(args.paths)} input(s)"
    report = build_report(rows, title=title, documents=documents, failures=failures,
                          method=args.method, test=args.test)
    if args.plots:
        report.write_plots(args.plots)
    if args.json:
        sys.stdout.write(json.dumps(report.to_dict(), default=_json_default) + "\n")
    elif args.markdown:
        sys.stdout.write(report.to_markdown())
    else:
        from rich.console import Console

        Console().print(report)
    _report_failures(failures)
    return EXIT_FAILED if failures else EXIT_OK


# --- review workspace (extract/workspace) ---------------------------------------------------


def _ws_command(fn):
    """Run a workspace command; a refused operation is one line on stderr and its Contract 2 exit code."""
    import functools

    @functools.wraps(fn)
    def run(args) -> int:
        import sqlite3

        from extract.workspace import WorkspaceError

        try:
            return fn(args)
        except WorkspaceError as exc:
            _stderr().print(f"litmeta {args.command}: {exc}", markup=False, soft_wrap=True)
            return exc.exit_code
        except sqlite3.DatabaseError as exc:
            from extract.workspace.db import db_path

            _stderr().print(f"litmeta {args.command}: {db_path(args.workspace)}: database error ({exc})",
                            markup=False, soft_wrap=True)
            return EXIT_FAILED

    return run


def _ws_parser(sub, name: str, help: str, func, row: bool = False, reason: bool = False):
    p = sub.add_parser(name, help=help)
    p.add_argument("workspace", metavar="REVIEW_DIR")
    if row:
        p.add_argument("row_id", metavar="ROW_ID")
    if reason:
        p.add_argument("--reason", required=True, help="why (kept in the audit trail)")
    p.add_argument("--reviewer", default=None, help="who (default: the OS user)")
    p.set_defaults(func=_ws_command(func))
    return p


def _print_changes(changes) -> None:
    err = _stderr()
    for c in changes:
        line = f"{c.row_id} {c.field}: {c.old if c.old is not None else '∅'} → {c.new if c.new is not None else '∅'}"
        if c.action == "stale":
            line = f"{line} not applied: the file holds an earlier value (set it with correct / include)"
        err.print(f"{c.action} {line}", markup=False, highlight=False, soft_wrap=True)
    if not changes:
        err.print("nothing changed", markup=False)


def _print_records(records: list[dict], columns: list[str], title: str, as_json: bool) -> None:
    import json

    if as_json:
        sys.stdout.write(json.dumps(records, ensure_ascii=False) + "\n")
        return
    if not sys.stdout.isatty():  # piped: tab-separated lines, one record each, for grep/cut/spreadsheets
        lines = [columns] + [["" if r.get(c) is None else str(r.get(c)) for c in columns] for r in records]
        sys.stdout.write("".join("\t".join(v.replace("\t", " ").replace("\n", " ") for v in line) + "\n"
                                 for line in lines))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{title} ({len(records)})", title_justify="left")
    for col in columns:
        table.add_column(col, overflow="fold")
    for r in records:
        table.add_row(*["" if r.get(c) is None else str(r.get(c)) for c in columns])
    Console(highlight=False).print(table)


@command
def add_workspace_commands(sub) -> None:
    p = sub.add_parser("init", help="create a review workspace (SQLite, audit trail)")
    p.add_argument("workspace", metavar="REVIEW_DIR")
    p.set_defaults(func=_ws_command(cmd_ws_init))
    if "extract" in sub.choices:
        sub.choices["extract"].add_argument(
            "--workspace", metavar="REVIEW_DIR", help="add documents and rows to a review workspace "
            "(already extracted files are skipped; corrections are kept)")
        sub.choices["extract"].add_argument("--reviewer", default=None, help="who ran the extraction (audit trail)")
    p = _ws_parser(sub, "correct", "correct fields of a row (kept through re-extraction)", cmd_ws_correct, True, True)
    p.add_argument("assignments", nargs="+", metavar="field=value")
    _ws_parser(sub, "exclude", "leave a row out of pooling", cmd_ws_exclude, True, True)
    _ws_parser(sub, "include", "bring an excluded row back", cmd_ws_include, True, True)
    p = _ws_parser(sub, "revert", "withdraw corrections: extracted values in force again", cmd_ws_revert, True, True)
    p.add_argument("fields", nargs="*", metavar="FIELD", help="default: every corrected field of the row")
    p = _ws_parser(sub, "apply", "turn each cell changed in an exported file into a correction", cmd_ws_apply)
    p.add_argument("edited", metavar="EDITED.csv")
    p.add_argument("--reason", default=None, help="default: 'edited in FILE'")
    p.add_argument("--double", action="store_true", help="record the cells as this reviewer's double-extraction values")
    p = _ws_parser(sub, "enter", "double extraction: record a reviewer's own values for a row", cmd_ws_enter, True)
    p.add_argument("assignments", nargs="*", metavar="field=value", help="none: the reviewer agrees with the extraction")
    p = _ws_parser(sub, "resolve", "settle a disagreement: the agreed value goes in force", cmd_ws_resolve, True, True)
    p.add_argument("assignments", nargs="+", metavar="field=value")
    for name, func, help in (("conflicts", cmd_ws_conflicts, "corrections the latest extraction disagrees with"),
                             ("disagreements", cmd_ws_disagreements, "fields where two reviewers differ")):
        p = sub.add_parser(name, help=help)
        p.add_argument("workspace", metavar="REVIEW_DIR")
        p.add_argument("--json", action="store_true", help="a JSON list on stdout")
        p.set_defaults(func=_ws_command(func))
    sub.choices["disagreements"].add_argument(
        "--agreed", action="store_true", help="instead: values all reviewers agree on that are not in force yet")
    p = sub.add_parser("history", help="the audit trail (of one row)")
    p.add_argument("workspace", metavar="REVIEW_DIR")
    p.add_argument("row_id", metavar="ROW_ID", nargs="?")
    p.add_argument("--json", action="store_true", help="a JSON list on stdout")
    p.set_defaults(func=_ws_command(cmd_ws_history))
    p = sub.add_parser("export", help="write the effective rows (corrections applied, exclusions left out)")
    p.add_argument("workspace", metavar="REVIEW_DIR")
    p.add_argument("-o", "--output", required=True, help="rows.csv, .json or .parquet")
    p.add_argument("--all", action="store_true", help="keep excluded rows (status 'excluded')")
    p.set_defaults(func=_ws_command(cmd_ws_export))


def cmd_ws_init(args) -> int:
    from extract.workspace import init_workspace

    with init_workspace(args.workspace) as ws:
        _stderr().print(f"workspace ready: {ws.file}", markup=False, soft_wrap=True)
    return EXIT_OK


@_ws_command
def cmd_extract_workspace(args) -> int:
    """``extract --workspace``: documents by content hash, one transaction per document, resumable."""
    from pathlib import Path

    from extract.workspace import add_extraction, effective_rows

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    err = _stderr()
    report = add_extraction(args.workspace, [Path(p) for p in args.paths], workers=args.workers,
                            reviewer=args.reviewer, cache=getattr(args, "cache", None), progress=lambda line: err.print(line, markup=False, soft_wrap=True))
    _report_failures(report.failures)
    err.print(f"{args.workspace}: {report.added} new documents, {report.versions} new versions, "
              f"{report.extracted} extracted ({report.rows} rows), {report.skipped} already there",
              markup=False, soft_wrap=True)
    if args.output:
        from extract.rows import write_rows

        write_rows(effective_rows(args.workspace), args.output)
    return EXIT_FAILED if report.failures else EXIT_OK


def cmd_ws_correct(args) -> int:
    from extract.workspace import correct
    from extract.workspace.values import parse_assignments

    _print_changes(correct(args.workspace, args.row_id, parse_assignments(args.assignments),
                           reason=args.reason, reviewer=args.reviewer))
    return EXIT_OK


def cmd_ws_exclude(args, excluded: bool = True) -> int:
    from extract.workspace import exclude

    change = exclude(args.workspace, args.row_id, reason=args.reason, reviewer=args.reviewer, excluded=excluded)
    _print_changes([change] if change else [])
    return EXIT_OK


def cmd_ws_include(args) -> int:
    return cmd_ws_exclude(args, excluded=False)


def cmd_ws_revert(args) -> int:
    from extract.workspace import revert

    _print_changes(revert(args.workspace, args.row_id, args.fields, reason=args.reason, reviewer=args.reviewer))
    return EXIT_OK


def cmd_ws_apply(args) -> int:
    from extract.workspace import apply_table

    _print_changes(apply_table(args.workspace, args.edited, reason=args.reason, reviewer=args.reviewer,
                               double=args.double))
    return EXIT_OK


def cmd_ws_enter(args) -> int:
    from extract.workspace import enter
    from extract.workspace.values import parse_assignments

    changes = enter(args.workspace, args.row_id, parse_assignments(args.assignments), reviewer=args.reviewer)
    _print_changes(changes) if changes else _stderr().print(f"{args.row_id}: checked", markup=False, soft_wrap=True)
    return EXIT_OK


def cmd_ws_resolve(args) -> int:
    from extract.workspace import resolve
    from extract.workspace.values import parse_assignments

    _print_changes(resolve(args.workspace, args.row_id, parse_assignments(args.assignments),
                           reason=args.reason, reviewer=args.reviewer))
    return EXIT_OK


def cmd_ws_conflicts(args) -> int:
    from extract.workspace import conflicts, open_workspace

    with open_workspace(args.workspace) as ws:
        records = [c.to_dict() for c in conflicts(ws.conn)]
    _print_records(records, ["row_id", "study_id", "field", "reviewer_value", "corrected_from", "extracted_now", "note"],
                   "conflicts", args.json)
    return EXIT_OK


def cmd_ws_disagreements(args) -> int:
    from extract.workspace import disagreements, open_workspace

    with open_workspace(args.workspace) as ws:
        records = [d.to_dict() for d in disagreements(ws.conn, agreed=getattr(args, "agreed", False))]
    if not args.json:
        records = [{**r, "values": "; ".join(f"{k}: {v}" for k, v in r["values"].items())} for r in records]
    _print_records(records, ["row_id", "study_id", "field", "values"], "agreed, not in force" if args.agreed
                   else "disagreements", args.json)
    return EXIT_OK


def cmd_ws_history(args) -> int:
    from extract.workspace import history

    log = history(args.workspace, args.row_id)
    if args.json:
        _print_records([e.to_dict() for e in log], [], "", True)
        return EXIT_OK
    records = [{"seq": e.seq, "at": e.at, "reviewer": e.reviewer, "action": e.action, "row_id": e.row_id,
                "change": e.summary(), "reason": e.reason} for e in log]
    _print_records(records, ["seq", "at", "reviewer", "action", "row_id", "change", "reason"], "history", False)
    return EXIT_OK


def cmd_ws_export(args) -> int:
    from pathlib import Path

    from extract.rows import write_rows
    from extract.workspace import effective_rows

    if Path(args.output).suffix.lower() not in (".csv", ".json", ".parquet"):
        raise UsageError(f"{args.output}: unknown output format (use .csv, .json or .parquet)")
    rows = effective_rows(args.workspace, include_excluded=args.all)
    write_rows(rows, args.output)
    _stderr().print(f"{len(rows)} effective rows → {args.output}", markup=False, soft_wrap=True)
    return EXIT_OK


# --- eval (extraction quality against corpus/gold) --------------------------------------------


@command
def add_eval(sub) -> None:
    p = sub.add_parser("eval", help="score extraction against hand-checked gold facts (precision, recall, F1)")
    p.add_argument("paths", nargs="*", metavar="PATH", help="papers (default: seeds and PDFs in ../shared/corpus)")
    p.add_argument("--gold", default=None, metavar="DIR", help="gold folder (default: corpus/gold)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=cmd_eval)


def cmd_eval(args) -> int:
    import json
    from pathlib import Path

    from extract.evaluate import GOLD_DIR, default_paths, evaluate

    gold_dir = Path(args.gold) if args.gold else GOLD_DIR
    if not gold_dir.is_dir():
        raise UsageError(f"{gold_dir}: no such gold folder")
    paths = [Path(p) for p in args.paths] or default_paths()
    if not paths:
        raise UsageError("no PATH given and ../shared/corpus is absent")
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"{missing[0]}: no such file")
    with _Ticker(len(paths), "evaluating") as ticker:
        result = evaluate(paths, gold_dir, progress=lambda path: ticker.tick())
    failed = [d for d in result.documents if d.error]
    for d in failed:
        _stderr().print(f"[red]failed[/red] {d.path}: {d.error}", highlight=False, soft_wrap=True)
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
        return EXIT_FAILED if failed else EXIT_OK
    _render_eval(result)
    return EXIT_FAILED if failed else EXIT_OK


def _render_eval(result) -> None:
    from rich.console import Console
    from rich.table import Table as RichTable

    fmt = lambda x: "-" if x is None else f"{x:.3f}"
    table = RichTable(title=f"extraction vs gold ({len(result.documents)} documents)")
    for name in ("field", "gold", "extracted", "found", "precision", "recall", "F1"):
        table.add_column(name, justify="left" if name == "field" else "right")
    for name, s in list(result.scores.items()) + [("numeric (all)", result.numeric)]:
        table.add_row(name, str(s.gold), str(s.extracted), str(s.found), fmt(s.precision), fmt(s.recall), fmt(s.f1),
                      style="bold" if name.startswith("numeric") else None)
    out = Console(highlight=False)
    out.print(table)
    e = result.evidence
    share = fmt(e.verifiable / e.items) if e.items else "-"
    out.print(f"verifiable quotes: {e.verifiable}/{e.items} ({share}); numbers with a verifiable quote: "
              f"{e.numbers_verified}/{e.numbers}; numbers without evidence: {e.without_evidence}/{e.numbers}")
    bad = result.to_dict()["bad_files"]
    if bad["checked"]:
        out.print(f"unreadable inputs refused as expected: {bad['as_expected']}/{bad['checked']}")
    for d in result.documents:
        if d.missed or d.wrong:
            out.print(f"[bold]{_file_name(d.path)}[/bold]: {len(d.missed)} gold facts missed, "
                      f"{len(d.wrong)} extracted facts not in gold")


def _file_name(path: str) -> str:
    from pathlib import Path

    return Path(path).name


# --- references (extract/fields/citations) ---------------------------------------------------

_REF_COLUMNS = ["number", "first_author", "year", "journal", "doi", "in_evidence_base"]


@command
def add_references(sub) -> None:
    p = sub.add_parser("references", help="list each paper's references, marking those in the evidence base")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("-o", "--output", help="OUT.csv or .json: every citation with its source file")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=cmd_references)


def _read_citations(path: str, base):
    """``(frame, None)`` for a readable paper, ``(None, reason)`` otherwise; never raises."""
    from extract import ReadError, read
    from extract.fields.citations import link_to_evidence_base, parse_references

    try:
        return link_to_evidence_base(parse_references(read(path)), base), None
    except ReadError as exc:
        return None, str(exc)
    except Exception as exc:  # one bad file never stops the batch
        return None, f"{path}: {type(exc).__name__}: {exc}"


def cmd_references(args) -> int:
    import json
    from pathlib import Path

    from corpus import load_evidence_base

    suffix = Path(args.output).suffix.lower() if args.output else ""
    if args.output and suffix not in (".csv", ".json"):
        raise UsageError(f"{args.output}: unknown output format (use .csv or .json)")
    base = load_evidence_base()
    frames, failures, documents, read = [], [], [], []
    with _Ticker(len(args.paths)) as ticker:
        for path in args.paths:
            frame, reason = _read_citations(path, base)
            ticker.tick(frame is not None)
            read.append((path, frame, reason))
    for path, frame, reason in read:
        if frame is None:
            failures.append((path, reason))
            continue
        frame.insert(0, "source", Path(path).name)
        frames.append(frame)
        documents.append({"source": Path(path).name, "citations": len(frame),
                          "in_evidence_base": int(frame["in_evidence_base"].sum())})
        if not args.json and not args.output:
            records = [{**r, "in_evidence_base": "✓" if r["in_evidence_base"] else ""}
                       for r in frame[_REF_COLUMNS].astype(object).where(frame[_REF_COLUMNS].notna(), None).to_dict("records")]
            _print_records(records, _REF_COLUMNS, f"{Path(path).name}: references", as_json=False)
    _report_failures(failures)
    import pandas as pd

    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if args.output:
        if suffix == ".csv":
            rows.drop(columns=["evidence"], errors="ignore").to_csv(args.output, index=False)
        else:
            rows.to_json(args.output, orient="records", force_ascii=False, indent=1)
        _stderr().print(f"{len(rows)} citations from {len(frames)} of {len(args.paths)} files → {args.output}")
    if args.json:
        payload = {"documents": documents, "citations": json.loads(rows.to_json(orient="records", force_ascii=False)),
                   "failed": [{"path": p, "reason": r} for p, r in failures]}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    return EXIT_FAILED if failures else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
