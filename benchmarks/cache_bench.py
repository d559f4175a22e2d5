"""Parse vs cache hit for the Document cache, as ratios measured in the same run.

Run: ``python benchmarks/cache_bench.py [FILE ...]`` (default: the Comella PDF and Markdown seed
from ../shared/corpus). A hit is measured with a fresh DocumentCache object on each read, so it
is the on-disk path (hash the bytes, load the pickle), not an in-memory shortcut.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from extract.cache import DocumentCache
from extract.readers import parse, sniff

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DEFAULT = [SHARED / "corpus" / "pdf" / "comella2024_front_immunol.pdf",
           SHARED / "corpus" / "seeds" / "comella2024_front_immunol.md"]


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench(path: Path, directory: Path) -> tuple[float, float]:
    data = path.read_bytes()
    kind = sniff(data)
    parse_s = best_of(lambda: parse(path, data, kind), 3 if kind == "pdf" else 10)

    def hit() -> None:
        cache = DocumentCache(directory)
        cache.get_or_parse(path, path.read_bytes(), kind, lambda: (_ for _ in ()).throw(AssertionError("miss")))

    DocumentCache(directory).get_or_parse(path, data, kind, lambda: parse(path, data, kind))
    hit_s = best_of(hit, 30)
    return parse_s, hit_s


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or [p for p in DEFAULT if p.exists()]
    if not files:
        print("no input files (../shared absent); pass paths", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            parse_s, hit_s = bench(f, Path(tmp))
            print(f"cache {f.name}: parse {parse_s * 1e3:.1f} ms, hit {hit_s * 1e3:.2f} ms, "
                  f"ratio {parse_s / hit_s:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
