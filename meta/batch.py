"""Many meta-analyses at once (``pool_many``): one per row of NaN-padded 2-D yi/vi arrays.

Why: simulation studies and living reviews refit thousands of small meta-analyses; a Python loop
of single fits spends its time in interpreter overhead. Every estimator here is the same algebra
as :mod:`meta.estimators`, written on column sums (padding gets weight 0), and the iterative ones
advance all unfinished rows together, each row with its own convergence flag: PM by bracketed
Newton on Q(tau²) = k - 1; ML/REML/EB by bracketed Newton on Fisher's scoring step N/D, which
reaches the root scoring (metafor's algorithm, used by single fits) converges to, in a few steps
instead of the hundreds scoring crawls through on some rows. Rows that creep towards the boundary
(or up from it) look at every point scoring's crawl would pass in one sweep.
Speed: the data are held as (width × rows) arrays, so adding tau² and the sums stream through
contiguous memory; full-size steps write into work arrays a thread keeps between calls instead of
fresh temporaries; finished rows are dropped by integer indices once half of them are done.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd
from scipy import special

from meta.errors import MetaError
from meta.estimators import DEFAULT_CONTROL, DIVERGENCE_WINDOW, normalise_method
from meta.estimators import tau2 as single_tau2


@dataclass
class BatchResult:
    """Per-row results (arrays of length n_rows); ``weights`` (n_rows × width, percent) on demand."""

    method: str
    test: str
    level: float
    k: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    df: np.ndarray
    tau2: np.ndarray
    se_tau2: np.ndarray
    tau: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    q: np.ndarray
    q_df: np.ndarray
    q_p: np.ndarray
    pi_low: np.ndarray
    pi_high: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    _w: np.ndarray = field(repr=False, default=None)
    _mask: np.ndarray | None = field(repr=False, default=None)

    @property
    def weights(self) -> np.ndarray:
        """Per-study weights in percent (n_rows × width; NaN where padded), computed on demand."""
        wts = 100.0 * self._w / _colsum(self._w)            # kept as (width × rows), see _Rows
        return (wts if self._mask is None else np.where(self._mask, wts, np.nan)).T

    def __len__(self) -> int:
        return int(self.k.size)

    def to_frame(self) -> pd.DataFrame:
        """One row per meta-analysis (all scalar fields)."""
        skip = {"method", "test", "level", "_w", "_mask"}
        return pd.DataFrame({f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip})


def _rows(yi, vi) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate (errors name row and column as given); return y, v and the mask of real cells
    (None when every cell is real), all rows × width."""
    y = np.atleast_2d(np.asarray(yi, dtype=float))
    v = np.atleast_2d(np.asarray(vi, dtype=float))
    if y.shape != v.shape:
        raise MetaError(f"yi has shape {y.shape} but vi has {v.shape}")
    # the common case (every cell real, every vi > 0) in three reductions, since NaN fails every
    # comparison and a non-finite y makes the sum non-finite; anything else is checked cell by
    # cell below, so that the error names the first bad cell
    if np.isfinite(y.sum()) and v.min() > 0.0 and v.max() < np.inf:
        return y, v, None
    fy, fv = np.isfinite(y), np.isfinite(v)
    mask = fy & fv
    full = bool(mask.all())
    if not full:
        half = fy != fv
        if half.any():
            r, c = np.argwhere(half)[0]
            raise MetaError(f"row {r + 1}, column {c + 1}: yi and vi must both be given or both be NaN")
        empty = ~mask.any(axis=1)
        if empty.any():
            raise MetaError(f"row {int(np.flatnonzero(empty)[0]) + 1}: no studies to pool (need at least 1)")
    bad = ~(v > 0) if full else mask & ~(v > 0)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise MetaError(f"row {r + 1}, column {c + 1}: vi {v[r, c]:g} must be > 0")
    return y, v, None if full else mask


def _columns(y, v, mask, work: _Work) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """y, v as (width × rows) copies in the call's work memory and the (width × rows) mask of real
    cells (None when every cell is real). A padded cell gets v = inf, so its weight is exactly 0,
    and the row's first real y, so it adds no residual and ``y[0]`` is always a real study."""
    yt, vt = work.get(_Y, 2)
    np.copyto(yt, y.T)
    np.copyto(vt, v.T)
    if mask is None:
        return yt, vt, None
    mt = np.ascontiguousarray(mask.T)
    first = yt[mt.argmax(axis=0), np.arange(yt.shape[1])]
    pad = ~mt
    np.putmask(yt, pad, first)                # putmask: masked copyto/ufuncs are ~4x slower
    np.putmask(vt, pad, np.inf)
    return yt, vt, mt


def _gather(y, v, idx, out) -> tuple[np.ndarray, np.ndarray]:
    """Columns ``idx`` of (width × rows) y and v, into the pair of arrays ``out`` (work memory of
    shape width × idx.size). mode="clip" because with the default mode numpy buffers ``out`` (a 3x
    slower gather); the indices here are always in range."""
    return (np.take(y, idx, axis=1, out=out[0], mode="clip"),
            np.take(v, idx, axis=1, out=out[1], mode="clip"))


def _indices(mask):
    """np.flatnonzero of a 1-D mask, without its Python wrapper (a third of the cost on the small
    working sets of the later passes, where call overhead outweighs the arithmetic)."""
    return mask.nonzero()[0]


def _some(mask) -> bool:
    """mask.any(), by np.count_nonzero: ~3x cheaper on small arrays (no Python-level reduction)."""
    return np.count_nonzero(mask) > 0


_ONES: dict[int, np.ndarray] = {}


def _colsum(a):
    """Sums down the columns of a (width × rows) array, as a vector-matrix product: one study per
    row of memory, so adding tau² and the sums stream through contiguous memory (several times
    faster than ``sum(axis=1)`` over short rows)."""
    width = a.shape[0]
    if width not in _ONES:
        _ONES[width] = np.ones(width)
    return _ONES[width] @ a


class _Rows:
    """Column-wise weighted sums over (width × rows) arrays; padded cells have v = inf, so
    w = 1/(v + tau²) = 0 there, and a per-row vector such as tau² broadcasts along the columns."""

    def __init__(self, y, v, mask, work: _Work | None = None):
        self.y, self.v, self.mask = y, v, mask
        self.work = _Work(y.shape) if work is None else work
        self.full = mask is None
        self.k = np.full(y.shape[1], y.shape[0]) if self.full else mask.sum(axis=0)
        # all yi equal: residuals exactly 0, as in metafor (padding holds the row's first real y, as
        # does y[0]); one comparison and a reduction, a third of the time of max == min
        self.same = (y == y[0]).all(axis=0)

    def tmp(self, count: int = 1):
        """Temporaries of full size (one array, or a list of ``count``), in the call's work memory."""
        out = self.work.get(_TMP, count)
        return out[0] if count == 1 else out

    def cols(self, idx, slot: int) -> tuple[np.ndarray, np.ndarray]:
        """(y, v) of rows ``idx``, gathered into the two work slots from ``slot``; all rows are the
        arrays themselves (the iterations never write them)."""
        if idx.size == self.y.shape[1]:
            return self.y, self.v
        return _gather(self.y, self.v, idx, self.work.get(slot, 2, (self.y.shape[0], idx.size)))

    def fixed(self):
        """(w0 = 1/v, Σw0, Σw0², Q) at tau² = 0, computed once; the fixed-effect mean is kept as
        ``self.mean0`` and Q's terms w0·(y - mean0)² as ``self.we2_0`` (the score at 0 sums them
        once more times w0)."""
        if not hasattr(self, "_fixed"):
            w0, we2 = self.work.get(_W0, 2)
            np.divide(1.0, self.v, out=w0)
            s = _colsum(w0)
            s2 = _colsum(np.multiply(w0, w0, out=self.tmp()))
            self.mean0 = self.mean(w0, s)
            np.subtract(self.y, self.mean0, out=we2)
            np.multiply(we2, we2, out=we2)
            self.we2_0 = np.multiply(w0, we2, out=we2)
            self._fixed = (w0, s, s2, _colsum(we2))
        return self._fixed

    def fixed_s3(self):
        """Σw0³ (only DL's and HS's standard errors need it)."""
        w0 = self.fixed()[0]
        a = np.multiply(w0, w0, out=self.tmp())
        return _colsum(np.multiply(a, w0, out=a))

    def w(self, t):
        return 1.0 / (self.v + t)

    def mean(self, w, s=None):
        s = _colsum(w) if s is None else s
        return np.where(self.same, self.y[0], _colsum(np.multiply(w, self.y, out=self.tmp())) / s)

    def q(self, t, w=None):
        """Σ w (y - mean)² at tau² = t (or at the given weights w = 1/(v + t))."""
        w = self.w(t) if w is None else w
        e = self.tmp()
        np.subtract(self.y, self.mean(w), out=e)
        np.multiply(e, e, out=e)
        return _colsum(np.multiply(w, e, out=e))

    def real(self, a, out=None):
        """``a`` with padded cells set to 0 (for unweighted sums)."""
        if self.full:
            return a
        if out is None:
            return np.where(self.mask, a, 0.0)
        if out is not a:
            np.copyto(out, a)
        np.putmask(out, ~self.mask, 0.0)               # not a product: padded v is inf
        return out

    def unweighted_dev2(self):
        """Σ (y - ȳ)² over the real cells (ȳ unweighted)."""
        d = self.tmp()
        ybar = _colsum(self.real(self.y, out=d)) / self.k
        np.subtract(self.y, ybar, out=d)
        d = self.real(d, out=d)
        return np.where(self.same, 0.0, _colsum(np.multiply(d, d, out=d)))

    def vsum(self, power=1):
        vv = self.real(self.v, out=self.tmp())
        return _colsum(vv if power == 1 else vv**power)


def _moments(w, tmp=None):
    """(Σw, Σw², Σw³) per row; ``tmp``: a work array of w's shape."""
    w2 = np.multiply(w, w, out=tmp)
    s2 = _colsum(w2)
    return _colsum(w), s2, _colsum(np.multiply(w2, w, out=w2))


def _trp_trpp(s, s2, s3):
    return s - s2 / s, s2 - 2.0 * s3 / s + s2 * s2 / (s * s)


def _closed_form(r: _Rows, m: str):
    k = r.k.astype(float)
    km1 = np.maximum(k - 1.0, 1.0)
    zero = np.zeros(k.size)
    if m == "EE":
        return zero, np.full(k.size, np.nan)
    if m in ("DL", "HS"):
        _, s, s2, q = r.fixed()
        trp, trpp = _trp_trpp(s, s2, r.fixed_s3())
        t = np.maximum((q - (k - 1)) / trp if m == "DL" else (q - k) / s, 0.0)
        den = trp if m == "DL" else s
        se = np.sqrt((2 * (k - 1) + 4 * t * trp + 2 * t * t * trpp) / den**2)
        return t, se
    if m == "HE":
        t = np.maximum(_he(r), 0.0)
        sv = r.vsum()
        pvpv = r.vsum(2) * (1 - 2 / k) + sv**2 / k**2
        se = np.sqrt((2 * pvpv + 4 * t * sv * (k - 1) / k + 2 * t * t * (k - 1)) / km1**2)
        return t, se
    # SJ: start from the (population) variance of yi
    t0 = r.unweighted_dev2() / k
    w = r.w(t0)
    s, s2, s3 = _moments(w)
    _, trpp = _trp_trpp(s, s2, s3)
    t = np.maximum(t0 * r.q(t0, w) / km1, 0.0)
    vv = r.real(r.v)
    a = w * vv
    pvpv = _colsum(a * a) - 2 * _colsum(a * a * w) / s + _colsum(a * w) ** 2 / s**2
    ppd = w * w - 2 * w**3 / s + w * w * (s2 / s**2)
    pvp = _colsum(vv * ppd)
    se = np.sqrt(t0**2 / km1**2 * (2 * pvpv + 4 * t * pvp + 2 * t * t * trpp))
    return t, se


def _he(r: _Rows):
    k = r.k.astype(float)
    return (r.unweighted_dev2() - r.vsum() * (k - 1) / k) / np.maximum(k - 1, 1)


#: the working set is compacted once this fraction or less of it is unfinished (copying the rows
#: out costs about one iteration's arithmetic on them)
COMPACT = 1 / 2


def _iterate(r: _Rows, active, step, tol: float, maxiter: int, state: dict | None = None, rel: float = 0.0,
             final: tuple[str, ...] = ()):
    """Advance tau² from 0 or the given start with ``step(y, v, same, k, t, state) -> new t`` on the
    unfinished rows (``y``, ``v`` given as width × rows, see :func:`_colsum`) until |change| <= tol or
    <= rel·t (or the step sets ``state["done"]``); the steps keep tau² >= 0.

    Per-row arrays in ``state`` (e.g. root brackets) hold all rows or only the active ones.
    Finished rows are frozen in place and the working set (with every per-row array in ``state``)
    is compacted only once ``1 - COMPACT`` of it has finished: copying the rows out every iteration
    would cost more than the arithmetic. Returns (t, converged, iterations, last),
    ``last`` holding each row's values of the ``final`` state keys at its last step (0 for rows
    not iterated)."""
    n = r.k.size
    t = state.pop("start") if state and "start" in state else np.zeros(n)
    conv = np.ones(n, dtype=bool)
    iters = np.zeros(n, dtype=int)
    idx = _indices(active)
    pair = 0                                  # which pair of work slots holds the gathered y and v
    y, v = r.cols(idx, _SET + 2 * pair)
    if idx.size == n:                     # every row: no need to gather copies (``t`` is not updated in place)
        same, k, tt, st = r.same, r.k.astype(float), t, dict(state or {})
    else:
        same, k, tt = r.same[idx], r.k[idx].astype(float), t[idx]
        st = {key: val if val.size == idx.size else val[idx] for key, val in (state or {}).items()}
    last_of = {key: np.zeros(n) for key in final}
    watch = np.full(idx.size, np.inf)
    last = np.zeros(idx.size)  # each row's previous step, for the divergence check
    live = np.ones(idx.size, dtype=bool)
    n_live = idx.size
    it = 0
    while idx.size:
        it += 1
        new = step(y, v, same, k, tt, st)
        moved = new - tt
        change = np.abs(moved)
        # |change| <= tol or <= rel·|new|, as one comparison (NaN compares False either way)
        done = change <= (np.maximum(new * rel, tol) if rel else tol)       # tau² >= 0: no abs
        if "done" in st:                      # the step may know a row is finished (Newton's last step)
            done |= st.pop("done")
        done &= live
        if it % DIVERGENCE_WINDOW == 0:       # same early stop as meta.estimators._diverging
            grew = live & ~done & (change >= watch) & (moved * last < 0)
            conv[idx[grew]] = False
            done |= grew
            watch = change
        last = moved
        tt = np.where(live, new, tt)
        if it > maxiter:
            conv[idx[live & ~done]] = False
            done = live.copy()
        fin = _indices(done)                      # integer indices: several times faster than masks
        if fin.size:
            rows = idx[fin]
            t[rows] = tt[fin]
            iters[rows] = it
            for key, out in last_of.items():
                out[rows] = st[key][fin]
            live[fin] = False
            n_live -= fin.size
            if n_live <= COMPACT * live.size:
                keep = _indices(live)
                idx, same, k, tt = idx[keep], same[keep], k[keep], tt[keep]
                pair ^= 1                         # into kept work memory: fresh arrays cost page faults
                y, v = _gather(y, v, keep, r.work.get(_SET + 2 * pair, 2, (y.shape[0], keep.size)))
                st = {key: val[keep] for key, val in st.items()}
                watch, last = watch[keep], last[keep]
                live = live[keep]
    return t, conv, iters, last_of


#: slots of the work memory: y and v (2), 1/v and Q's terms at tau² = 0 (2), the iterations' scratch
#: (4), temporaries (2), and the compacted working set's y and v twice over (a compaction reads one
#: pair and writes the other)
_Y, _W0, _ITER, _TMP, _SET, _SLOTS = 0, 2, 4, 8, 10, 14
#: work memory a thread keeps between calls; a larger batch allocates its own and frees it
KEEP_BYTES = 64 * 2**20


class _Memory(threading.local):
    def __init__(self) -> None:
        self.flat: list[np.ndarray] = []


_MEMORY = _Memory()


#: glibc raises its mmap threshold only up to this (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit)
GLIBC_MMAP_MAX = 32 * 2**20


def _settle_allocator(nbytes: int) -> None:
    """Free one untouched block as large as the work memory, once per growth of it.

    Why: a call's per-row vectors (a few MB at 10,000 rows) come from the top of the C heap, and
    glibc hands the heap top back to the system whenever more than its trim threshold lies free
    there; the next call then takes every page back as a fault. The threshold is 128 kB until a
    large mmapped block is freed, when glibc raises it to twice that block's size (its dynamic
    mmap threshold; any program that once freed a large array has it). In a process holding
    many objects (the benchmark's 10,000 DataFrames) it had never been raised: 456 faults, about
    1.7 ms, on every call at 10,000 × 10 (3.8 µs a fault on the VM measured), a sixth of a REML
    batch. Freeing this block lets glibc raise it once; the block is never written, so it costs
    no page faults itself, and nothing is set for the process that glibc would not set itself.
    """
    np.empty(min(nbytes, GLIBC_MMAP_MAX) // 8)


class _Work:
    """The (width × rows) work arrays of one call, in slots (see ``_SLOTS``).

    Why kept between calls: a fresh 10,000 × 10 array is 800 kB of new memory, and the page
    faults that bring it in cost more than the arithmetic done on it; simulation studies call
    pool_many in a loop. Nothing a call returns points into this memory (the result's weights are
    a fresh array), and each thread has its own."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = shape
        size = max(shape[0] * shape[1], 1)
        if size * 8 * _SLOTS > KEEP_BYTES:
            self.flat = [np.empty(size) for _ in range(_SLOTS)]
            return
        if len(_MEMORY.flat) < _SLOTS or _MEMORY.flat[0].size < size:
            _MEMORY.flat = [np.empty(size) for _ in range(_SLOTS)]
            _settle_allocator(size * 8 * _SLOTS)
        self.flat = _MEMORY.flat

    def get(self, first: int, count: int, shape: tuple[int, int] | None = None) -> list[np.ndarray]:
        shape = self.shape if shape is None else shape
        size = shape[0] * shape[1]
        return [f[:size].reshape(shape) for f in self.flat[first:first + count]]

    def scratch(self, first: int, count: int) -> _Scratch:
        return _Scratch(count, self.flat[first:first + count])


class _Scratch:
    """Reused work arrays for the iterations: views onto the front of the same memory as the
    working set shrinks (after compaction), from the call's :class:`_Work` or allocated here."""

    def __init__(self, count: int, flat: list[np.ndarray] | None = None):
        self.count, self.flat = count, flat

    def get(self, shape) -> list[np.ndarray]:
        size = shape[0] * shape[1]
        if self.flat is None or self.flat[0].size < size:
            self.flat = [np.empty(size) for _ in range(self.count)]
        return [f[:size].reshape(shape) for f in self.flat]


def _score_parts(y, v, same, kk, t, m, scratch: _Scratch):
    """(N, D, dN/dtau², dD/dtau²) for ML, REML or EB; Fisher's step is N/D (metafor's ``adj``).

    N is the score's numerator (zero at the root), D the expected information. Newton's method
    runs on N/D, the scoring step itself: for one study it is exactly linear in tau², and it stays
    nearly so (N alone is strongly convex, which made Newton on N creep up from below the root).
    With w = 1/(v + tau²), e = y - b, the sums A_p = Σ w^p e², G_p = Σ w^p e, S_p = Σ w^p obey
    dA_p = -p A_(p+1) + 2 (G_2/S_1) G_p, dG_p = -p G_(p+1) + (G_2/S_1) S_p, dS_p = -p S_(p+1)
    (G_1 = 0), from which the derivatives follow.
    ``y``, ``v`` are width × rows; every full-size step writes into ``scratch``. The passes are
    bound by memory traffic, so ML/REML build their sums from nine full-size operations: w² and
    w²e serve three sums each, and e = y - b is not multiplied by w on its own."""
    w, u, a, wua = scratch.get(y.shape)
    np.add(v, t, out=w)
    np.divide(1.0, w, out=w)
    s = _colsum(w)
    b = np.where(same, y[0], _colsum(np.multiply(w, y, out=a)) / s)
    np.subtract(y, b, out=a)                                  # e = y - b
    if m == "EB":
        np.multiply(w, a, out=u)                              # u = P y for the intercept-only model
        c = kk / (kk - 1)
        n = _colsum(np.multiply(u, a, out=a)) * c - kk
        dn = -c * _colsum(np.multiply(u, u, out=a))
        return n, s, dn, -_colsum(np.multiply(w, w, out=a))
    np.multiply(w, w, out=u)                                  # w²
    s2 = _colsum(u)
    g = _colsum(np.multiply(u, a, out=wua))                   # G_2 = Σw²e
    uu = _colsum(np.multiply(wua, a, out=a))                  # y'PPy = A_2 = Σw²e²
    a3 = _colsum(np.multiply(a, w, out=a))                    # A_3 = Σw³e²
    rs = 1.0 / s
    upu2 = 2.0 * (a3 - g * g * rs)                            # 2 y'PPPy
    a = np.multiply(u, w, out=u)                              # w³
    s3 = _colsum(a)
    if m == "ML":
        return uu - s, s2, s2 - upu2, -2.0 * s3
    # (per-row vectors: each operation a numpy call, which costs more than its arithmetic in the
    # later passes, so the algebra is arranged for few of them)
    q2, q3 = s2 * rs, s3 * rs
    q22 = q2 * q2
    dd = 6.0 * (_colsum(np.multiply(a, w, out=a)) * rs - q2 * q3) + 2.0 * (q22 * q2 - s3)
    trpp = s2 - 2.0 * q3 + q22
    return uu - s + q2, trpp, trpp - upu2, dd


def _halved(t, adj):
    """metafor's step halving: halve a step that would cross below 0 until it does not (exact in
    floating point, so the number of halvings is found from the exponents instead of a loop), and
    stay at 0 when the step there is negative. (Runs under pool_many's errstate.)

    With |adj|/t = m·2^e (m in [1/2, 1), e from frexp), e - 1 halvings leave the step at least t
    long and e make it shorter, so scaling by 2^(1-e) is never past metafor's count and the loop
    adds the one halving left, if any (frexp instead of log2 and ceil: half the numpy calls)."""
    out = t + adj
    neg = _indices(out < 0.0)
    if neg.size:
        tn, an = t[neg], adj[neg]
        an = np.where(tn > 0.0, an, 0.0)     # at 0: halving would underflow to -0, so stay (0/0: any e)
        an = np.ldexp(an, 1 - np.frexp(an / tn)[1])
        over = tn + an < 0.0
        while _some(over):               # at most a step or two past the estimate from the exponents
            an = np.where(over, an / 2.0, an)
            over = tn + an < 0.0
        out[neg] = tn + an
    return out


#: rows still unsettled after this many Newton steps are refitted one by one by metafor's scoring
#: (about one per 20,000; their per-row Python loop is cheaper than more batch iterations). A row
#: creeping down to the boundary takes up to ~50 batch steps (0.1 ms each once alone) against
#: hundreds of scoring steps (10 µs each) when refitted, so the cap lets it finish in the batch.
NEWTON_CAP = 60

#: once the working set is this small (or half of it creeps down), rows creeping down to the boundary
#: check all their halving points in one pass (earlier, each pass over the many unfinished rows takes
#: one halving step anyway)
SWEEP_ROWS = 1024

#: points of an upward sweep with no bracket above (t + step·2^j up to j = UP_POINTS - 1)
UP_POINTS = 40

#: when at least this fraction of rows starts at tau² = 0, the rows that stay there are settled
#: before the iterations (below it, gathering the other rows' columns costs more than it saves)
SETTLE_AT_START = 1 / 16

#: tau² below this fraction of a row's smallest vi counts as at the boundary when the score there
#: is negative and scoring aims below 0
NEAR_ZERO = 1e-3


def _fisher(r: _Rows, m: str, ctl):
    """ML/REML/EB: the root metafor's Fisher scoring converges to, found by Newton's method.

    Scoring converges only linearly, with rate rho = F'(tau²*) (F the scoring map); on ~6% of
    rows rho is near -1 (iterates oscillating round the root) and it crawls for hundreds of
    iterations. A bracketed Newton iteration on scoring's step N/D (nearly linear in tau², where
    N alone is strongly convex), from the same start (the truncated HE estimate), reaches the same
    root quadratically; where Newton would leave the direction scoring takes, the sweeps look at
    the points scoring's crawl passes. ``converged`` keeps the single-fit
    meaning — would scoring get there within ``maxiter``? — read off rho and the distance from the
    start: |rho| >= 1 never converges (single fits stop at the divergence rule or at maxiter); a
    root at the boundary 0 is reached at least halving the distance each step."""
    k = r.k.astype(float)
    thr, maxiter = float(ctl["threshold"]), int(ctl["maxiter"])
    stepadj = float(ctl["stepadj"])
    ulps = 4 * np.finfo(float).eps
    t0 = np.maximum(_he(r), 0.0)
    multi = r.k > 1
    early = np.sqrt(thr)

    def newton(y, v, same, kk, t, st):
        n, d, dn, dd = _score_parts(y, v, same, kk, t, m, scratch)
        lo, hi = st["lo"], st["hi"]                                # private to this fit: updated in place
        neg = n < 0.0
        stay = (n == 0.0) | (t == 0.0) & neg                       # at the root or held at 0
        # a Newton step that left the score's sign alone but flipped its slope may have jumped a
        # pair of roots scoring would stop at: go back, and take scoring's steps from there on
        back = st["newt"] & (n * st["n"] > 0.0) & (dn * st["dn"] < 0.0)
        anyback = _some(back)
        up, down = n > 0.0, neg                                    # the points that bracket ...
        if anyback:                                                # ... except a step taken back
            st["plain"] |= back
            up, down = up & ~back, down & ~back
        # lo = max(lo, t) where up, hi = min(hi, t) where down, without masks (t >= 0 and lo >= 0,
        # so t·up is t or a harmless 0; t/down is t or inf, or NaN at t = 0, which fmin skips):
        # several times faster than putmask on scattered masks
        np.maximum(lo, t * up, out=lo)
        np.fmin(hi, t / down, out=hi)
        # Newton's step on N/D: t - (N/D) / (N/D)'. It must head where scoring heads (sign of the
        # score) and stay inside the bracket; after a step back, only once a sign change brackets the root
        cand = t - n * d / (dn * d - n * dd)
        # bad: not finite, outside the bracket or against the score's sign (NaN compares False)
        bad = ~((cand > lo) & (cand < hi) & ((cand - t) * n > 0.0))
        plain = st["plain"]
        if _some(plain):
            bad |= plain & ~((lo > 0.0) & np.isfinite(hi))
        fix = _indices(bad & ~stay)                                # the rest is elementwise: only these rows
        at_zero = None                                             # rows finished at the boundary this pass
        if fix.size:
            tf, nf, lof, hif = t[fix], n[fix], lo[fix], hi[fix]
            af = nf / d[fix] * stepadj
            score = _halved(tf, af)                                # scoring's own step
            alt = np.where((score <= lof) | (score >= hif), 0.5 * (lof + hif), score)
            unbracketed = (nf < 0.0) & (lof == 0.0)                # heading down, no root known below
            ahead = ~back[fix] if anyback else True                # rows stepping back: see below
            rowf = st["row"][fix]
            floor = near_zero[rowf]
            # scoring aims below 0 (it halves its step) while tau² is tiny against every vi, where
            # the score is nearly linear and so has no root left above 0: go to the boundary, and
            # stay there when the score at 0 is not positive (known: no pass needed to see it)
            down = unbracketed & (tf + af < 0.0) & (tf < floor)
            settle = down & stays_at_zero[rowf] & ahead
            if _some(settle):
                at_zero = fix[settle]
            # scoring creeping down with no root bracketed: at least halve tau² per step (a root
            # crossed shows as a sign change of the score and brackets it) ...
            half = 0.5 * tf
            cand[fix] = np.where(down, 0.0, np.where(unbracketed & (score > half), half, alt))
            if t.size <= SWEEP_ROWS or 2 * np.count_nonzero(unbracketed) >= t.size:
                # ... and once the working set is small, or at least half of it is rows creeping so
                # (the passes then mostly serve them), instead of one halving per pass, look at every
                # halving point down to the boundary region in one pass: the first sign change
                # brackets the root, none means 0
                sweep = unbracketed & (tf >= floor) & ahead
                # scoring creeping up (the score rising where Newton would head down): look at t plus
                # scoring's step times 1, 2, 4, ... in one pass, up to the bracket's top
                rise = (nf > 0.0) & (af > 0.0) & ahead
                if _some(sweep):
                    rows = fix[sweep]
                    c, new_lo, new_hi, none_found = _sweep_down(y, v, rows, same, kk, tf[sweep], nf[sweep],
                                                                floor[sweep], m, scratch)
                    cand[rows] = c
                    lo[rows], hi[rows] = new_lo, new_hi
                    ends = rows[none_found]                        # disjoint from ``settle``: tf >= floor
                    at_zero = ends if at_zero is None else np.concatenate([at_zero, ends])
                if _some(rise):
                    rows = fix[rise]
                    c, new_lo, new_hi = _sweep_up(y, v, rows, same, kk, tf[rise], af[rise], hif[rise], m,
                                                  scratch)
                    cand[rows] = c
                    lo[rows], hi[rows] = new_lo, new_hi
        if anyback:                                                # scoring's step from the last point
            cand[back] = _halved(st["t"][back], st["n"][back] / st["d"][back] * stepadj)
            bad |= back
        # quadratic convergence: after a Newton step of relative size sqrt(threshold) the error left
        # is about threshold·tau², below what scoring's own stop leaves
        done = ~bad & (np.abs(cand - t) <= early * cand)
        if at_zero is not None:
            done[at_zero] = True
        st["done"] = done
        st["newt"], st["n"], st["dn"], st["d"], st["t"] = ~bad, n, dn, d, t
        np.putmask(cand, stay, t)
        return cand

    near_zero = NEAR_ZERO * r.v.min(axis=0)                # each row's smallest vi (padding is inf)
    scratch = r.work.scratch(_ITER, 4)
    cap = min(NEWTON_CAP, maxiter)
    active, settled = multi, None
    # a row at tau² = 0 whose score there is not positive stays there (the step's ``stay``): known
    # for every row from the fixed-effect sums instead of from a pass at 0
    stays_at_zero = _numerator_at_zero(r, m, k) <= 0.0
    start0 = multi & (t0 == 0.0)
    if np.count_nonzero(start0) >= SETTLE_AT_START * k.size:
        # so rows starting at 0 that stay there are settled before the full-size passes
        settled = start0 & stays_at_zero
        active = multi & ~settled
    rows = _indices(active)
    nan = np.full(rows.size, np.nan)                      # the state of the rows iterated, made at their size
    state = {"start": t0.copy(), "lo": np.zeros(rows.size), "hi": np.full(rows.size, np.inf),
             "newt": np.zeros(rows.size, dtype=bool), "plain": np.zeros(rows.size, dtype=bool), "n": nan,
             "dn": nan, "t": nan, "d": nan, "row": rows}
    t, ok, iters, last = _iterate(r, active, newton, thr, cap, state, rel=ulps, final=("dn", "d"))
    if settled is not None:
        iters[settled] = 1
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(multi, last["dn"] / last["d"] * stepadj, 0.0)   # F'(tau²) - 1 at the last step
    t = np.where(multi, np.maximum(t, 0.0), 0.0)
    conv = ok & _scoring_would_converge(t, t0, slope, thr, maxiter)
    for i in np.flatnonzero(multi & ~ok):                    # the few rows Newton did not settle
        real = slice(None) if r.full else r.mask[:, i]
        one = single_tau2(r.y[real, i], r.v[real, i], m, **ctl)
        t[i], conv[i], iters[i] = one.tau2, one.converged, iters[i] + one.iterations
    w = np.add(r.v, t)                                    # final weights, kept for the result
    np.divide(1.0, w, out=w)
    s = _colsum(w)
    mean = None
    if m in ("ML", "REML"):
        t, s, mean = _global_max(r, t, w, s, m, scratch)
    a, b = scratch.get(w.shape)[:2]
    s2 = _colsum(np.multiply(w, w, out=a))
    if m == "ML":
        se = np.sqrt(2.0 / s2)
    elif m == "REML":
        se = np.sqrt(2.0 / _trp_trpp(s, s2, _colsum(np.multiply(a, w, out=b)))[1])
    else:
        se = np.sqrt(2.0 * k * k / np.maximum(k - 1, 1)) / s
    return t, se, conv, iters, w, s, mean


def _numerator_of(m: str, kk, s, a1=None, uu=None, s2=None):
    """The score numerator N of :func:`_score_parts` from its sums at one tau²: Σw (``s``) and
    Σw e² (``a1``, EB), or Σw²e² (``uu``) and for REML Σw² (``s2``)."""
    if m == "EB":
        return a1 * (kk / (kk - 1)) - kk
    return uu - s if m == "ML" else uu - (s - s2 / s)


def _numerator_at_zero(r: _Rows, m: str, k):
    """N at tau² = 0, from the fixed-effect sums."""
    w0, s0, s0_2, q0 = r.fixed()
    if m == "EB":
        return _numerator_of(m, k, s0, a1=q0)
    return _numerator_of(m, k, s0, uu=_colsum(np.multiply(w0, r.we2_0, out=r.tmp())), s2=s0_2)


def _score_numerator(y, v, same, kk, t, m, w=None, a=None):
    """The score numerator N of :func:`_score_parts` alone (a third of its work), for (width × rows)
    y and v at tau² = t; ``w``, ``a``: work arrays of their shape (fresh ones when not given)."""
    w = np.add(v, t, out=w)
    np.divide(1.0, w, out=w)
    s = _colsum(w)
    b = np.where(same, y[0], _colsum(np.multiply(w, y, out=a)) / s)
    e = np.subtract(y, b, out=a)
    if m == "EB":
        np.multiply(w, e, out=w)
        return _numerator_of(m, kk, s, a1=_colsum(np.multiply(w, e, out=w)))
    np.multiply(w, e, out=e)
    uu = _colsum(np.multiply(e, e, out=e))
    return _numerator_of(m, kk, s, uu=uu, s2=None if m == "ML" else _colsum(np.multiply(w, w, out=w)))


def _scores_along(y, v, cols, same, kk, counts, m, place, scratch: _Scratch):
    """The score numerator at ``counts[i]`` points of row i (column ``cols[i]`` of the working
    set's y and v), all in one pass (every point a column of its own); ``place(row, j)`` gives the
    points, j = 0, 1, ... within each row. The columns are gathered straight from the working set
    into ``scratch``, which the pass's score no longer needs.
    Returns (each row's first index, the row of every point, the points, their scores)."""
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    row = np.repeat(np.arange(counts.size), counts)
    points = place(row, np.arange(row.size) - starts[row])
    at = cols[row]
    yy, vv, w, a = scratch.get((y.shape[0], at.size))
    _gather(y, v, at, (yy, vv))
    vals = _score_numerator(yy, vv, same[at], kk[at], points, m, w, a)
    return starts, row, points, vals


def _falsi(lo, hi, n_lo, n_hi):
    """Regula falsi between ``lo`` and ``hi``; the midpoint where it is not strictly inside."""
    falsi = lo - n_lo * (hi - lo) / (n_hi - n_lo)             # (pool_many ignores x/0 and 0/0)
    return np.where(np.isfinite(falsi) & (falsi > lo) & (falsi < hi), falsi, 0.5 * (lo + hi))


def _sweep_down(y, v, cols, same, kk, t, n, floor, m, scratch: _Scratch):
    """Rows whose score is negative at ``t`` with no root bracketed below: the score at t/2, t/4, ...
    down to below ``floor`` and at 0, all in one pass.

    Why: scoring heads down from t and stops at the first root it meets; the halving points are
    where the batch would otherwise look one pass at a time (a root shows as a sign change).
    Returns (next tau², new lower and upper bracket, rows settled at 0): the first point with a
    non-negative score brackets the root with the point above it (next tau² by regula falsi); no
    such point settles the row at the boundary."""
    need = np.ceil(np.log2(t / floor)).clip(1, 60).astype(int)   # halvings to get below floor
    starts, _, points, vals = _scores_along(                          # and the boundary itself
        y, v, cols, same, kk, need + 1, m,
        lambda row, j: np.where(j < need[row], np.ldexp(t[row], -(j + 1)), 0.0), scratch)
    total = points.size
    first = np.minimum.reduceat(np.where(vals >= 0.0, np.arange(total), total), starts)
    found = first < total
    at = np.minimum(first, total - 1)
    inner = found & (first > starts)                                 # a point above it was looked at
    lo = np.where(found, points[at], 0.0)
    above = np.where(inner, points[at - 1], t)
    falsi = _falsi(lo, above, vals[at], np.where(inner, vals[at - 1], n))
    return np.where(found, falsi, 0.0), lo, np.where(found, above, t), ~found


def _sweep_up(y, v, cols, same, kk, t, step, top, m, scratch: _Scratch):
    """Rows whose score is positive at ``t`` while Newton would head down (the score still rising):
    the score at t + step·2^j, j = 0, 1, ... below ``top`` (the bracket's upper end, where the score
    is negative; inf when none is known yet), all in one pass.

    Why: scoring creeps up from t by steps of about ``step`` and stops at the first root above; a
    root shows as a sign change between two of these points. Returns (next tau², lower and upper
    bracket): the last point below the first non-positive score and that point (or ``top``)."""
    span = np.where(np.isfinite(top), (top - t) / step, 2.0 ** (UP_POINTS - 1))
    need = np.ceil(np.log2(np.maximum(span, 1.0))).clip(1, UP_POINTS).astype(int)
    starts, row, points, vals = _scores_along(y, v, cols, same, kk, need, m,
                                              lambda row, j: t[row] + np.ldexp(step[row], j), scratch)
    total = points.size
    inside = points < top[row]
    first = np.minimum.reduceat(np.where((vals <= 0.0) & inside, np.arange(total), total), starts)
    found = first < total
    at = np.minimum(first, total - 1)
    # the highest point below the sign change (or below the top) with a positive score
    last_pos = np.maximum.reduceat(np.where((vals > 0.0) & inside & (np.arange(total) < np.where(found, first, total)[row]),
                                            np.arange(total), -1), starts)
    lo = np.where(last_pos >= 0, points[np.maximum(last_pos, 0)], t)
    hi = np.where(found, points[at], top)
    n_lo = np.where(last_pos >= 0, vals[np.maximum(last_pos, 0)], np.nan)
    cand = np.where(found, _falsi(lo, hi, n_lo, vals[at]), np.where(np.isfinite(hi), 0.5 * (lo + hi), lo))
    return cand, lo, hi


def _scoring_would_converge(t, t0, slope, thr: float, maxiter: int) -> np.ndarray:
    """Whether metafor's scoring from ``t0`` stops at the root ``t`` within ``maxiter`` steps: the
    error shrinks by |rho| = |F'(t)| = |1 + slope| per step, and scoring stops once a step is below
    the threshold. A root at 0 (t <= threshold) is reached at least halving the distance per step."""
    rho = np.abs(1.0 + slope)
    ok = (t <= thr) | (t == t0)
    first = np.abs(t0 - t) * np.abs(slope)                    # about the size of the first step
    stop = np.maximum(thr, 4 * np.finfo(float).eps * t)
    # steps <= maxiter  <=>  first·rho^(maxiter - 1) <= stop. Where rho <= 1/2 that holds whenever
    # first <= stop·2^(maxiter - 1) (capped at 1e300: a stricter test): most rows, without logs
    sure = (rho <= 0.5) & (first <= stop * min(2.0 ** min(maxiter - 1, 1000), 1e300))
    ok |= sure
    i = _indices(~ok & (rho < 1.0))                     # the logs only where they decide
    first, stop = first[i], stop[i]
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.where(first <= stop, 1.0, 1.0 + np.log(stop / first) / np.log(rho[i]))
    ok[i] = steps <= maxiter
    return ok


def _global_max(r: _Rows, t, w, s, m, scratch: _Scratch):
    """tau² = 0 where the boundary's (restricted) likelihood beats the root scoring stopped at,
    the rule of :func:`meta.estimators.boundary_if_higher`. ``w`` (weights at ``t``) is updated in
    place on the rows moved to 0; rows already at 0 compare equal and stay.

    Returns (tau², Σw, pooled mean) at the final weights: the result needs the same sums, so they
    are handed on instead of computed twice (``None`` for the mean when no row has tau² > 0)."""
    if not _some(t > 0):
        return t, s, None
    e, a = scratch.get(w.shape)[:2]
    w0, s0, _, q0 = r.fixed()
    b = r.mean(w, s)
    np.subtract(r.y, b, out=e)
    np.multiply(w, e, out=a)
    wee = _colsum(np.multiply(a, e, out=a))
    logs = _log_ratio_sum(t, w0, a)
    gain = -0.5 * (logs + wee - q0)                           # loglik(t) - loglik(0)
    if m == "REML":
        gain -= 0.5 * np.log(s / s0)
    drop = (gain < 0.0) & (t > 0)
    if not _some(drop):
        return t, s, b
    rows = _indices(drop)
    w[:, rows] = w0[:, rows]
    s, b = s.copy(), b.copy()
    s[rows] = s0[rows]
    b[rows] = r.mean0[rows]
    return np.where(drop, 0.0, t), s, b


def _log_ratio_sum(t, w0, a):
    """Σ log(1 + tau²/vi) per row (0 for padding), i.e. Σ log(v + tau²) - Σ log(v).

    Why a product: one log per row instead of one per study (log is the costliest step of the
    boundary check). A row whose product leaves the float range sums log1p terms instead."""
    np.multiply(t, w0, out=a)
    np.add(a, 1.0, out=a)
    with np.errstate(over="ignore", under="ignore"):
        out = np.log(np.multiply.reduce(a, axis=0))
    wild = ~np.isfinite(out)
    if wild.any():
        out[wild] = _colsum(np.log1p(t[wild] * w0[:, wild]))
    return out


def _pm(r: _Rows, ctl):
    """Safeguarded Newton on Q(tau²) = k - 1 (bracketed, falls back to bisection), all rows at once."""
    k = r.k.astype(float)
    hi_end = float(ctl["tau2_max"])
    need = (r.k > 1) & (r.fixed()[3] >= k - 1)
    too_high = np.zeros(k.size, dtype=bool)
    if need.any():   # no root below tau2_max: metafor refuses; here that row is NaN, converged False
        too_high = need & (r.q(np.full(k.size, hi_end)) > k - 1)
        need &= ~too_high

    def step(y, v, same, kk, t, st):
        w, e = scratch.get(y.shape)
        np.add(v, t, out=w)
        np.divide(1.0, w, out=w)
        b = np.where(same, y[0], _colsum(np.multiply(w, y, out=e)) / _colsum(w))
        np.subtract(y, b, out=e)
        np.multiply(e, e, out=e)
        we2 = np.multiply(w, e, out=e)
        f = _colsum(we2) - (kk - 1)
        st["lo"] = np.where(f > 0, t, st["lo"])
        st["hi"] = np.where(f <= 0, t, st["hi"])
        with np.errstate(divide="ignore", invalid="ignore"):
            nt = t + f / _colsum(np.multiply(w, we2, out=w))   # Newton: dQ/dtau² = -Σ w² (y - b)²
        bad = ~np.isfinite(nt) | (nt <= st["lo"]) | (nt >= st["hi"])
        nt = np.where(bad, 0.5 * (st["lo"] + st["hi"]), nt)
        return np.where(f == 0, t, nt)

    scratch = r.work.scratch(_ITER, 2)
    state = {"lo": np.zeros(k.size), "hi": np.full(k.size, hi_end)}
    t, conv, iters, _ = _iterate(r, need, step, float(ctl["tol"]), int(ctl["maxiter"]), state,
                                 rel=4 * np.finfo(float).eps)
    t[too_high] = np.nan
    conv[too_high] = False
    se = np.sqrt(2.0 * k * k / np.maximum(k - 1, 1)) / _colsum(r.w(t))
    return t, se, conv, iters


#: integer degrees of freedom up to this use the finite series in :func:`chi2_sf`
SERIES_DF = 60
#: beyond this statistic exp(-x/2) underflows while the tail may still be a representable number
SERIES_X = 1400.0


def chi2_sf(df: np.ndarray, x: np.ndarray) -> np.ndarray:
    """P(X > x) for X ~ chi-square with integer ``df`` (arrays of one length).

    Why not only ``scipy.special.chdtrc``: it evaluates the incomplete gamma function at about
    120 ns a value, the costliest single step of a DL batch. For integer df the tail is a finite
    sum (Abramowitz & Stegun 26.4.4-5): even df = 2m, e^(-h) Σ_{j<m} h^j/j!; odd df = 2m + 1,
    erfc(√h) + e^(-h) Σ_{j=1..m} h^(j-1/2)/Γ(j+1/2), with h = x/2. A batch has few distinct df,
    so each is a handful of vector operations; positive terms only, so it agrees with scipy to a
    few ulps (tested). Large df or x go to scipy."""
    df = np.asarray(df)
    x = np.asarray(x, dtype=float)
    out = np.empty(x.shape)
    series = (df <= SERIES_DF) & (df >= 1) & (x <= SERIES_X)
    if not series.all():
        rest = ~series
        out[rest] = special.chdtrc(df[rest], x[rest])
        if not series.any():
            return out
    idx = np.flatnonzero(series)
    if df.size and df.min() == df.max():                     # one df (every row the same k): no sort
        order, values, starts = idx, df[idx[:1]], np.zeros(1, dtype=int)
    else:
        order = idx[np.argsort(df[idx], kind="stable")]
        values, starts = np.unique(df[order], return_index=True)
    for d, lo, hi in zip(values.tolist(), starts.tolist(), [*starts[1:].tolist(), order.size]):
        sel = order[lo:hi] if hi - lo < x.size else slice(None)
        h = 0.5 * x[sel]
        term = np.exp(-h)
        if d % 2 == 0:
            total = term.copy()
            for j in range(1, d // 2):
                term *= h / j
                total += term
        else:
            root = np.sqrt(h)
            total = special.erfc(root)
            term *= root * (2.0 / np.sqrt(np.pi))              # e^(-h) h^(1/2) / Γ(3/2)
            for j in range(1, d // 2 + 1):
                total += term
                term *= h / (j + 0.5)
        out[sel] = total
    return out


def pool_many(yi, vi, method: str = "REML", test: str = "z", level: float = 95, **control) -> BatchResult:
    """Fit ``rma(yi[i], vi[i], method, test, level)`` for every row i, vectorised.

    Rows are NaN-padded to a common width; a row with k = 1 gets tau² = 0 and test z (as metafor).
    A row metafor would refuse (PM with no root below ``tau2_max``) comes back NaN with
    ``converged`` False instead of stopping the whole batch.
    Same numbers as looping :func:`meta.model.rma` (tested); ``converged``/``iterations`` per row.
    For ML/REML/EB, ``converged`` says whether metafor's Fisher scoring would converge within
    ``maxiter`` (read off its rate at the root; a row needing within a few percent of ``maxiter``
    steps may be judged either way), and ``iterations`` counts the batch's own Newton steps.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return _pool_many(yi, vi, method, test, level, control)


def _pool_many(yi, vi, method, test, level, control) -> BatchResult:
    y, v, mask = _rows(yi, vi)
    work = _Work((y.shape[1], y.shape[0]))
    y, v, mask = _columns(y, v, mask, work)
    m = normalise_method(method)
    t_name = "knha" if str(test).lower() in ("knha", "t", "hk", "hksj") else str(test).lower()
    if t_name not in ("z", "knha"):
        raise MetaError(f"unknown test {test!r}; use z or knha")
    ctl = {**DEFAULT_CONTROL, **control}
    r = _Rows(y, v, mask, work)
    n = r.k.size
    conv = np.ones(n, dtype=bool)
    iters = np.zeros(n, dtype=int)
    w = s = b = None
    if m in ("ML", "REML", "EB"):
        tau2, se_tau2, conv, iters, w, s, b = _fisher(r, m, ctl)
    elif m == "PM":
        tau2, se_tau2, conv, iters = _pm(r, ctl)
    else:
        tau2, se_tau2 = _closed_form(r, m)
    single = r.k == 1
    some_single = bool(single.any())

    def unless_single(a, alt):
        """``a`` with ``alt`` on the rows of one study (``np.where`` only when there are some)."""
        return np.where(single, alt, a) if some_single else a

    tau2 = unless_single(tau2, 0.0)
    se_tau2 = np.full(n, np.nan) if m == "EE" else unless_single(se_tau2, np.nan)
    k = r.k.astype(float)
    if w is None:                                # fresh memory: the result keeps it
        w = np.add(r.v, tau2)
        np.divide(1.0, w, out=w)
    s = _colsum(w) if s is None else s
    b = r.mean(w, s) if b is None else b
    se = np.sqrt(1.0 / s)
    alpha = 1.0 - float(level) / 100.0
    knha = (t_name == "knha") & ~single
    some_knha = bool(knha.any())
    crit = special.ndtri(1 - alpha / 2)
    df = np.full(n, np.nan)
    if some_knha:
        df[knha] = k[knha] - 1
        e = y - b
        s2w = _colsum(w * e * e) / np.maximum(k - 1, 1)
        se = np.where(knha, np.sqrt(s2w / s), se)
        crit = np.full(n, crit)
        dfs, inv = np.unique(r.k[knha] - 1, return_inverse=True)   # t quantiles are costly: one per df
        crit[knha] = special.stdtrit(dfs, 1 - alpha / 2)[inv]
    stat = b / se
    zero_se = ~(se > 0)
    if zero_se.any():
        stat[zero_se] = np.where(b[zero_se] == 0, np.nan, np.copysign(np.inf, b[zero_se]))
    p = 2 * special.ndtr(-np.abs(stat))
    if some_knha:
        p[knha] = 2 * special.stdtr(k[knha] - 1, -np.abs(stat[knha]))
    _, s0, s0_2, q0 = r.fixed()
    q = unless_single(q0, 0.0)
    q_p = unless_single(chi2_sf(np.maximum(r.k - 1, 1), q), 1.0)
    trp = s0 - s0_2 / s0
    vt = unless_single((k - 1) / trp, 0.0)
    if m == "EE":
        i2 = np.where(q > 0, np.maximum(0.0, 100 * (q - (k - 1)) / q), 0.0)
        h2 = unless_single(q / np.maximum(k - 1, 1), 1.0)
    else:
        i2 = unless_single(100 * tau2 / (vt + tau2), 0.0)
        h2 = unless_single(tau2 / vt + 1.0, 1.0)
    half = crit * np.sqrt(se * se + tau2)
    pi_lo = np.full(n, np.nan) if m == "EE" else b - half
    pi_hi = np.full(n, np.nan) if m == "EE" else b + half
    return BatchResult(
        method=m, test=t_name, level=float(level), k=r.k, estimate=b, se=se, stat=stat, p=p,
        ci_low=b - crit * se, ci_high=b + crit * se, df=df, tau2=tau2, se_tau2=se_tau2, tau=np.sqrt(tau2),
        i2=i2, h2=h2, q=q, q_df=r.k - 1, q_p=q_p, pi_low=pi_lo, pi_high=pi_hi, converged=conv,
        iterations=iters, _w=w, _mask=None if r.full else mask,
    )
