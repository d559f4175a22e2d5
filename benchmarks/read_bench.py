"""Speed and memory of the PDF reader, against pdfplumber's plain extract_text in the same run.

    python benchmarks/read_bench.py            # corpus PDFs + the 300-page file
    python benchmarks/read_bench.py --quick    # corpus PDFs + first 60 pages of the large file
    ... --no-processes                         # skip the 1- vs 2-worker-process lines

Prints pages/s of the whole reader (text flow, tables, metadata), of pdfplumber's
``extract_text()`` (text only, no tables) and of bare pypdfium2 (page load, text page and
``get_text_range``, nothing else: the floor pdfium sets on this machine) over the same
pages, with the reader as a multiple of pdfplumber and as a fraction of bare pypdfium2, and
the peak memory (tracemalloc, Python allocations) of reading the 300-page PDF; then the
process-level throughput of the reader and of the whole extraction (``extract --workers``)
with 1 and 2 worker processes over the same files.
"""
from __future__ import annotations

import io
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium

from extract.batch import map_files
from extract.pipeline import extract_paths
from extract.readers.pdf import read_pdf

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def _first_pages(data: bytes, n: int) -> bytes:
    src = pdfium.PdfDocument(data)
    dst = pdfium.PdfDocument.new()
    dst.import_pages(src, list(range(min(n, len(src)))))
    buf = io.BytesIO()
    dst.save(buf)
    return buf.getvalue()


def _reader(files: list[tuple[str, bytes]]) -> tuple[int, float]:
    pages, t = 0, time.perf_counter()
    for name, data in files:
        pages += read_pdf(name, data).n_pages
    return pages, time.perf_counter() - t


def _read_file(path: str) -> int:
    """Pages of one file read by the whole reader (a worker-process task)."""
    return read_pdf(path, Path(path).read_bytes()).n_pages


def _processes(files: list[tuple[str, bytes]]) -> None:
    """Process-level throughput: the reader and the whole extraction (``extract --workers``)
    over the same files, in 1 and 2 worker processes."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, data in files:
            (Path(tmp) / name).write_bytes(data)
            paths.append(str(Path(tmp) / name))
        for workers in (1, 2):
            t = time.perf_counter()
            n = sum(map_files(_read_file, paths, workers=workers))
            t_read = time.perf_counter() - t
            t = time.perf_counter()
            extract_paths(paths, workers=workers)
            t_extract = time.perf_counter() - t
            print(f"{workers} worker process(es): reader {n / t_read:8.1f} pages/s; "
                  f"whole extraction (extract --workers {workers}) {n / t_extract:8.1f} pages/s")


def _plumber(files: list[tuple[str, bytes]]) -> tuple[int, float]:
    pages, t = 0, time.perf_counter()
    for _, data in files:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages:
                page.extract_text()
                page.close()
                pages += 1
    return pages, time.perf_counter() - t


def _bare_pdfium(files: list[tuple[str, bytes]]) -> tuple[int, float]:
    """pypdfium2 alone: each page loaded, its text page built and its text read, then closed."""
    pages, t = 0, time.perf_counter()
    for _, data in files:
        pdf = pdfium.PdfDocument(data)
        try:
            for i in range(len(pdf)):
                page = pdf[i]
                textpage = page.get_textpage()
                textpage.get_text_range(0, textpage.count_chars())
                textpage.close()
                page.close()
                pages += 1
        finally:
            pdf.close()
    return pages, time.perf_counter() - t


def main() -> None:
    if not SHARED.exists():
        sys.exit(f"{SHARED} not found")
    quick = "--quick" in sys.argv
    big = (SHARED / "bad" / "comella2024_large_300pages.pdf").read_bytes()
    if quick:
        big = _first_pages(big, 60)
    files = [(p.name, p.read_bytes()) for p in sorted((SHARED / "pdf").glob("*.pdf"))]
    files.append(("large.pdf", big))
    read_pdf("warm-up.pdf", files[0][1])  # imports and first-call costs out of the timing
    _bare_pdfium(files[:1])
    n, t_reader = _reader(files)
    rss = _max_rss_mb()  # before pdfplumber runs: the reader's own footprint
    n_bare, t_bare = _bare_pdfium(files)
    _, t_plumber = _plumber(files)
    print(f"pages: {n}")
    print(f"litmeta reader (text + tables): {n / t_reader:8.1f} pages/s  ({t_reader:.2f} s)")
    print(f"pdfplumber extract_text():      {n / t_plumber:8.1f} pages/s  ({t_plumber:.2f} s)")
    print(f"bare pypdfium2 (load + text):   {n_bare / t_bare:8.1f} pages/s  ({t_bare:.2f} s)")
    print(f"ratio reader / pdfplumber:      {t_plumber / t_reader:8.1f}x")
    print(f"reader / bare pypdfium2:        {(n / t_reader) / (n_bare / t_bare):8.2f}  (the reader's speed as a fraction of pdfium's floor)")
    _goals(n / t_reader, n / t_plumber, n_bare / t_bare)
    tracemalloc.start()
    doc = read_pdf("large.pdf", big)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"large file: {doc.n_pages} pages, {len(doc.text):,} chars, {len(doc.tables)} tables; "
          f"peak Python memory {peak / 2**20:.0f} MB")
    if rss is not None:
        print(f"process max RSS after the reader runs (libraries included): {rss:.0f} MB")
    if "--no-processes" not in sys.argv:
        _processes(files)


#: the issue's reference machine: pdfplumber's extract_text ~10 pages/s, pypdfium2 ~500 pages/s
REFERENCE_PLUMBER, REFERENCE_PDFIUM, GOAL_PAGES = 10.0, 500.0, 100.0


def _goals(reader: float, plumber: float, bare: float) -> None:
    """The issue's goal, 100 pages/s "(10x pdfplumber's plain text)", read three ways.

    Why three: the goal is stated for the machine the issue was written on, where pdfplumber read
    ~10 and pypdfium2 ~500 pages/s. A slower machine moves all three speeds alike, so the
    figures that carry over are the ratios: to pdfplumber (goal 10x) and to bare pdfium (the
    goal is 100/500 = 0.2 of it), each also scaled back to the reference machine.
    """
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print(f"goal {GOAL_PAGES:.0f} pages/s on this machine:  {reader:8.1f}   {verdict(reader >= GOAL_PAGES)}")
    print(f"goal 10x pdfplumber:              {reader / plumber:8.1f}x  {verdict(reader / plumber >= 10)}"
          f"   (= {reader / plumber * REFERENCE_PLUMBER:.0f} pages/s where pdfplumber reads {REFERENCE_PLUMBER:.0f})")
    print(f"goal {GOAL_PAGES / REFERENCE_PDFIUM:.1f} of bare pdfium:           {reader / bare:8.2f}   "
          f"{verdict(reader / bare >= GOAL_PAGES / REFERENCE_PDFIUM)}"
          f"   (= {reader / bare * REFERENCE_PDFIUM:.0f} pages/s where pypdfium2 reads {REFERENCE_PDFIUM:.0f})")


def _max_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
