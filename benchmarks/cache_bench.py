"""Parse vs cache hit for the Document cache, as ratios measured in the same run.

Run: ``python benchmarks/cache_bench.py [FILE ...]``. Default: every corpus PDF and seed from
../shared/corpus, the invented HTML and JATS articles in benchmarks/fixtures, and the two tiny
markup fixtures from tests/fixtures (kept to show where the floor bites).

Columns, per file (fastest of many calls, parse and hit measured in alternating rounds):

- ``parse``: the reader on bytes already in memory (as before: the cache's denominator is not
  flattered by file reading).
- ``hit``: a fresh :class:`DocumentCache` on every call, so it is the on-disk path a new
  process takes — read the file's bytes, SHA-256 them, open and decode the entry — never an
  in-memory shortcut. ``ratio`` = parse / hit; the issue asks for at least 50x.
- ``+frames``: a hit that then touches every table's ``frame`` and ``cells`` (they are built on
  first access), i.e. what a caller that reads every table pays in all.
- ``floor``: the part of a hit no content-hash disk cache can avoid: reading the input's bytes,
  hashing them and reading the entry's bytes, before a single object is built. ``max`` =
  parse / floor is the best ratio such a cache could reach for that file; below 50 the target
  is out of reach whatever the entry format.
- ``read()``: ``extract.readers.read`` end to end without and with the cache. Both include
  reading the file and sniffing its kind; for plain-text files the sniff alone can cost more
  than the cache hit, which is why this ratio is lower.

The closing line: every file re-read once, as a batch re-run does (total parse time over total
hit time).
"""
from __future__ import annotations

import gc
import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from extract.cache import DocumentCache, _read_all
from extract.readers import parse, read, sniff

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TARGET = 50.0


def default_files() -> list[Path]:
    files = sorted((SHARED / "corpus" / "pdf").glob("*.pdf")) + sorted((SHARED / "corpus" / "seeds").glob("*"))
    files += sorted((ROOT / "benchmarks" / "fixtures").glob("*"))
    files += [ROOT / "tests" / "fixtures" / "article.html", ROOT / "tests" / "fixtures" / "article.jats.xml"]
    return [f for f in files if f.is_file()]


def interleaved(fns: dict[str, tuple[Callable[[], object], int]], rounds: int) -> dict[str, float]:
    """Fastest call of each function, measured in alternating rounds (``reps`` calls per round).

    Why interleaved: this machine is shared, and load comes and goes; timing all parses, then
    all hits, lets a busy spell land on one side of the ratio only. Alternating puts both in
    the same spells, and the minimum keeps the undisturbed calls. The garbage collector is
    paused during calls, as ``timeit`` does, so a collection triggered by an earlier
    allocation is not charged to whichever call happens to run into it.
    """
    best = dict.fromkeys(fns, float("inf"))
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for name, (fn, reps) in fns.items():
                for _ in range(reps):
                    t = time.perf_counter()
                    fn()
                    best[name] = min(best[name], time.perf_counter() - t)
    finally:
        if enabled:
            gc.enable()
    return best


def bench(path: Path, directory: Path) -> dict[str, float]:
    data = path.read_bytes()
    kind = sniff(data)
    store = DocumentCache(directory)
    key = store.key(data)

    def miss() -> None:
        raise AssertionError(f"cache miss for {path}")

    def hit():
        return DocumentCache(directory).get_or_parse(path, path.read_bytes(), miss)

    def hit_frames() -> None:
        doc = hit()
        for t in doc.tables:
            t.frame, t.cells  # noqa: B018

    entry = store._path(key)

    def floor() -> None:
        hashlib.sha256(path.read_bytes()).digest()
        fd = os.open(entry, os.O_RDONLY)
        try:
            _read_all(fd)
        finally:
            os.close(fd)

    t = time.perf_counter()
    store.get_or_parse(path, data, lambda: parse(path, data, kind))
    rounds = max(5, min(30, int(1.0 / (time.perf_counter() - t))))  # about a second of parsing
    out = interleaved({"parse": (lambda: parse(path, data, kind), 1), "hit": (hit, 20),
                       "frames": (hit_frames, 10), "floor": (floor, 20), "read": (lambda: read(path), 1),
                       "read_hit": (lambda: read(path, cache=directory), 20)}, rounds)
    out["entry"] = os.path.getsize(entry)
    return out


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or default_files()
    if not files:
        print("no input files (../shared absent); pass paths", file=sys.stderr)
        return 2
    meets, misses = [], []
    totals = {"parse": 0.0, "hit": 0.0, "floor": 0.0}
    print(f"{'file':34s} {'parse':>9s} {'hit':>8s} {'ratio':>6s} {'+frames':>8s} {'floor':>8s} {'max':>6s}"
          f" {'read()':>9s} {'cached':>8s} {'ratio':>6s} {'entry':>9s}")
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            r = bench(f, Path(tmp))
            ratio, best, e2e = r["parse"] / r["hit"], r["parse"] / r["floor"], r["read"] / r["read_hit"]
            print(f"{f.name[:34]:34s} {r['parse'] * 1e3:7.2f}ms {r['hit'] * 1e6:6.0f}us {ratio:5.0f}x"
                  f" {r['frames'] * 1e6:6.0f}us {r['floor'] * 1e6:6.0f}us {best:5.0f}x"
                  f" {r['read'] * 1e3:7.2f}ms {r['read_hit'] * 1e6:6.0f}us {e2e:5.0f}x {r['entry']:8d}B")
            for name in totals:
                totals[name] += r[name]
            (meets if ratio >= TARGET else misses).append(
                f.name if ratio >= TARGET else f"{f.name} ({ratio:.0f}x; at most {best:.0f}x over the floor)")
    print(f"meet {TARGET:.0f}x (parse/hit): {', '.join(meets) or 'none'}")
    print(f"below {TARGET:.0f}x: {', '.join(misses) or 'none'}")
    # a re-run over the whole set (every file read once more) is what a reviewer waits for
    print(f"the whole set re-read: parse {totals['parse'] * 1e3:.1f} ms, hits {totals['hit'] * 1e3:.2f} ms: "
          f"{totals['parse'] / totals['hit']:.0f}x (at most {totals['parse'] / totals['floor']:.0f}x over the floor)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
